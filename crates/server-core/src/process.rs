//! Child processes (ffmpeg for ingest and transcode), as the runtime runs them.
//!
//! The server never forks by itself: it asks [`Runtime::spawn_process`](crate::runtime::Runtime::spawn_process)
//! for a [`ChildProcess`], which tokio and smol back with real processes and
//! `sim` with scripted fakes, so the supervisor ([`crate::ffmpeg::supervisor`])
//! is tested in virtual time.
//!
//! No child outlives the server (SRS leaves its ffmpegs running when it
//! crashes; here they go with it). On Linux, [`command`] starts every child
//! as the leader of its own process group, and the backends add a
//! `pre_exec` hook setting `PR_SET_PDEATHSIG` to `SIGKILL` (prctl(2)): the
//! kernel kills the child when the thread that forked it ends, which for the
//! backends' executor threads is when the server process ends, however it
//! ends (`kill -9` included). A stop signals the whole group
//! ([`signal_group`]), so whatever ffmpeg started goes too.

use std::io;
use std::path::{Path, PathBuf};

use futures_io::AsyncRead;
use futures_util::AsyncReadExt;

use crate::runtime::BoxFuture;

/// Longest line [`ChildProcess::stderr_line`] returns; the rest of a longer
/// line is dropped, so a child printing without newlines holds no more.
pub const MAX_STDERR_LINE: usize = 4096;

/// Where a child's standard output and error go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessLog {
    /// Nowhere (SRS's `ff_log_dir /dev/null`).
    Discard,
    /// Appended to this file, created with its directory if need be (SRS
    /// redirects ffmpeg's stdout and stderr to one file per process).
    File(PathBuf),
    /// Kept for [`ChildProcess::stderr_line`] (stdout is discarded).
    Capture,
}

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSpec {
    /// The program (a path, or a name looked up in `PATH`).
    pub program: PathBuf,
    /// Its arguments, without the program itself.
    pub args: Vec<String>,
    /// Where its output goes.
    pub log: ProcessLog,
}

impl ProcessSpec {
    /// The command line, for logs and the API: program and arguments
    /// separated by spaces (not quoted: for reading, not for a shell).
    pub fn command_line(&self) -> String {
        let mut line = self.program.display().to_string();
        for arg in &self.args {
            line.push(' ');
            line.push_str(arg);
        }
        line
    }
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExitInfo {
    /// Its exit code, if it exited.
    pub code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
}

impl std::fmt::Display for ExitInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.code, self.signal) {
            (Some(code), _) => write!(f, "exit code {code}"),
            (None, Some(signal)) => write!(f, "killed by signal {signal}"),
            (None, None) => f.write_str("ended"),
        }
    }
}

#[cfg(unix)]
impl From<std::process::ExitStatus> for ExitInfo {
    fn from(status: std::process::ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        Self {
            code: status.code(),
            signal: status.signal(),
        }
    }
}

/// The signal a stop sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// `SIGTERM`: ffmpeg closes its output and quits.
    Terminate,
    /// `SIGKILL`: for one that did not.
    Kill,
}

/// A running child process.
pub trait ChildProcess: Send {
    /// Its process id (the fake's own numbering in `sim`).
    fn id(&self) -> u32;

    /// The next line of its standard error (`\n` or `\r` ends a line; at
    /// most [`MAX_STDERR_LINE`] bytes, lossily UTF-8), or `None` at its end
    /// or when it was not spawned with [`ProcessLog::Capture`].
    fn stderr_line(&mut self) -> BoxFuture<'_, io::Result<Option<String>>>;

    /// Waits for it to end, and reaps it. Cancel-safe: dropping the future
    /// leaves the child running, and a later call waits again.
    fn wait(&mut self) -> BoxFuture<'_, io::Result<ExitInfo>>;

    /// Sends `signal` to its process group, if it has not been reaped yet.
    fn signal(&mut self, signal: StopSignal) -> io::Result<()>;
}

/// A [`std::process::Command`] for `spec`: no stdin, output as
/// `spec.log` says, and (Unix) its own process group, so a stop reaches
/// whatever it started. The backends add the death-signal hook (which
/// needs `unsafe`, kept out of this crate) and spawn it.
pub fn command(spec: &ProcessSpec) -> io::Result<std::process::Command> {
    let mut cmd = std::process::Command::new(&spec.program);
    let io = stdio(&spec.log)?;
    cmd.args(&spec.args)
        .stdin(io.stdin)
        .stdout(io.stdout)
        .stderr(io.stderr);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    Ok(cmd)
}

/// A child's standard input, output and error.
#[derive(Debug)]
pub struct ChildStdio {
    /// Always `/dev/null`: ffmpeg must not read the server's terminal.
    pub stdin: std::process::Stdio,
    /// As [`ProcessLog`] says.
    pub stdout: std::process::Stdio,
    /// As [`ProcessLog`] says.
    pub stderr: std::process::Stdio,
}

/// The standard streams for `log` (what [`command`] sets; a backend whose
/// command type does not keep a `std` command's streams sets them again).
pub fn stdio(log: &ProcessLog) -> io::Result<ChildStdio> {
    use std::process::Stdio;
    let (stdout, stderr) = match log {
        ProcessLog::Discard => (Stdio::null(), Stdio::null()),
        ProcessLog::File(path) => {
            let file = open_log(path)?;
            let err = file.try_clone()?;
            (Stdio::from(file), Stdio::from(err))
        }
        ProcessLog::Capture => (Stdio::null(), Stdio::piped()),
    };
    Ok(ChildStdio {
        stdin: Stdio::null(),
        stdout,
        stderr,
    })
}

/// Opens `path` for appending, creating it and its directory.
fn open_log(path: &Path) -> io::Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

/// Sends `signal` to process group `pgid` (the child's pid: [`command`]
/// makes each child a group leader).
#[cfg(unix)]
pub fn signal_group(pgid: u32, signal: StopSignal) -> io::Result<()> {
    let pid = i32::try_from(pgid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no such process"))?;
    let sig = match signal {
        StopSignal::Terminate => rustix::process::Signal::TERM,
        StopSignal::Kill => rustix::process::Signal::KILL,
    };
    match rustix::process::kill_process_group(pid, sig) {
        Ok(()) => Ok(()),
        // Already gone.
        Err(rustix::io::Errno::SRCH) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Reads lines from a child's standard error, bounded ([`MAX_STDERR_LINE`]).
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    filled: usize,
    start: usize,
    eof: bool,
}

impl<R: AsyncRead + Unpin + Send> LineReader<R> {
    /// Lines of `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            buf: vec![0; MAX_STDERR_LINE],
            filled: 0,
            start: 0,
            eof: false,
        }
    }

    /// The next non-empty line, or `None` at the end.
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        let mut line: Vec<u8> = Vec::new();
        let mut dropping = false;
        loop {
            if self.start < self.filled {
                let pending = self.buf.get(self.start..self.filled).unwrap_or_default();
                if let Some(at) = pending.iter().position(|b| *b == b'\n' || *b == b'\r') {
                    if !dropping {
                        let room = MAX_STDERR_LINE.saturating_sub(line.len());
                        line.extend(pending.iter().take(at.min(room)));
                    }
                    self.start += at + 1;
                    if line.is_empty() {
                        dropping = false;
                        continue;
                    }
                    return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
                }
                if !dropping {
                    let room = MAX_STDERR_LINE.saturating_sub(line.len());
                    line.extend(pending.iter().take(room));
                    dropping = line.len() >= MAX_STDERR_LINE;
                }
                self.start = self.filled;
            }
            if self.eof {
                return Ok((!line.is_empty()).then(|| String::from_utf8_lossy(&line).into_owned()));
            }
            self.start = 0;
            self.filled = 0;
            let n = self.inner.read(&mut self.buf).await?;
            if n == 0 {
                self.eof = true;
            }
            self.filled = n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<String> {
        use futures_util::FutureExt;
        let mut reader = LineReader::new(input);
        let mut out = Vec::new();
        let read = async {
            while let Some(line) = reader.next_line().await.unwrap() {
                out.push(line);
            }
        };
        read.now_or_never().unwrap();
        out
    }

    #[test]
    fn lines_end_at_newline_or_carriage_return() {
        assert_eq!(
            lines(b"a\nframe=1\rframe=2\r\nlast"),
            ["a", "frame=1", "frame=2", "last"]
        );
    }

    #[test]
    fn long_lines_are_cut() {
        let mut input = vec![b'x'; MAX_STDERR_LINE * 3];
        input.extend_from_slice(b"\nnext\n");
        let got = lines(&input);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].len(), MAX_STDERR_LINE);
        assert_eq!(got[1], "next");
    }

    #[test]
    fn command_line_joins_program_and_args() {
        let spec = ProcessSpec {
            program: "ffmpeg".into(),
            args: vec!["-i".into(), "in.flv".into()],
            log: ProcessLog::Discard,
        };
        assert_eq!(spec.command_line(), "ffmpeg -i in.flv");
    }
}
