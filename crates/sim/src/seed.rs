//! Seeds: where they come from and how a failing run tells you its own.
//!
//! A scenario picks a default seed; `SIM_SEED=<n>` (decimal or `0x` hex) in the
//! environment overrides it, so `SIM_SEED=1234 cargo test -p sim scenario_name`
//! replays exactly the run that failed. A [`crate::Sim`] dropped during a panic
//! prints its seed and that command line.

/// The environment variable that overrides a scenario's seed.
pub const SEED_ENV: &str = "SIM_SEED";

/// Parses a seed written in decimal or as `0x`-prefixed hex.
pub fn parse_seed(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// `SIM_SEED` if set, else `default`.
///
/// # Panics
/// If `SIM_SEED` is set but is not a number: silently ignoring a replay request
/// would run a different scenario than the one asked for.
pub fn seed_from_env(default: u64) -> u64 {
    match std::env::var(SEED_ENV) {
        Ok(text) => match parse_seed(&text) {
            Some(seed) => seed,
            None => panic!("{SEED_ENV}={text:?} is not a u64 (decimal or 0x hex)"),
        },
        Err(_) => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimal_and_hex() {
        assert_eq!(parse_seed("42"), Some(42));
        assert_eq!(parse_seed(" 0x2A "), Some(42));
        assert_eq!(parse_seed("0XfF"), Some(255));
        assert_eq!(parse_seed("x"), None);
        assert_eq!(parse_seed("-1"), None);
    }
}
