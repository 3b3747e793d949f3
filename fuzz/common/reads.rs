//! One input fed to a session in reads of varied sizes, so the same bytes
//! are cut in many places (a message split across reads, several in one).

/// Read sizes cycled through.
pub const READS: [usize; 6] = [1, 7, 128, 1500, 3, 4096];

/// Calls `f` with consecutive pieces of `input`, cut at the [`READS`] sizes
/// in turn, until the input is used up or `f` returns false.
pub fn in_reads(input: &[u8], mut f: impl FnMut(&[u8]) -> bool) {
    let mut at = 0;
    for read in READS.iter().cycle() {
        if at >= input.len() {
            break;
        }
        let end = input.len().min(at + read);
        if !f(&input[at..end]) {
            return;
        }
        at = end;
    }
}
