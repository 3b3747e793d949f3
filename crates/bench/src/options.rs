//! The command line of `rtmp-load`. Hand-parsed: a dozen options do not
//! justify a parser crate in a tool whose build time we pay on every run of
//! the benchmark script.

use std::path::PathBuf;
use std::time::Duration;

use crate::url::{Scheme, Target, UrlError};

/// Most clients one process may simulate: far above what one core carries,
/// low enough that a typo cannot exhaust memory on bookkeeping.
pub const MAX_CLIENTS: usize = 200_000;
/// Longest run.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
/// Longest `--read-interval`: beyond a second, stalls (gaps over one
/// second) could no longer be told from batching.
pub const MAX_READ_INTERVAL_MS: u64 = 1000;
/// Most runtime worker threads.
pub const MAX_THREADS: usize = 256;
/// Default `--max-body`: far above any HLS segment or part a live server
/// makes (a 10 s segment at 10 Mbit/s is 12.5 MB), low enough that a
/// misdirected URL (an endless HTTP-FLV stream, a huge file) ends as an
/// error instead of being read for the whole run.
pub const DEFAULT_MAX_BODY: u64 = 16 * 1024 * 1024;
/// Largest `--max-body` (1 GiB).
pub const MAX_MAX_BODY: u64 = 1 << 30;

/// `rtmp-load --help`.
pub const USAGE: &str = "\
rtmp-load: open many RTMP / HTTP-FLV / HLS clients against a live server and measure them

usage: rtmp-load [OPTIONS] URL

URL:
  rtmp://HOST[:PORT]/APP/STREAM        RTMP play (default) or publish (--mode publish)
  http://HOST[:PORT]/APP/STREAM.flv    HTTP-FLV play
  http://HOST[:PORT]/APP/STREAM.m3u8   HLS play (playlist polling, segment fetch)
  http://HOST[:PORT]/ANY/PATH          throughput (--mode get only)

options:
  -m, --mode MODE       play | publish | flv | hls | get (default: from the URL)
  -n, --clients N       clients to open (default 1)
      --streams K       play and flv modes: client i plays STREAM_(i mod K), the names
                        `-m publish -n K` publishes (STREAM itself when K is 1);
                        for flv, .../STREAM.flv becomes .../STREAM_j.flv (default 1)
  -r, --ramp RATE       connections opened per second; 0 opens all at once (default 100)
  -d, --duration SECS   run time, ramp included (default 30)
  -i, --input FILE      FLV file to publish, looped with its own timing (publish mode)
      --reconnect       leak hunting: each client loops connect, stay a random time, disconnect
                        (a publisher takes a new name each time: STREAM_id_session)
      --hold MIN-MAX    how long --reconnect stays connected, in seconds (default 1-5)
      --read-interval MS  players (RTMP) read their socket at most every MS ms once the
                        first frame is in: fewer, larger reads, when rtmp-load itself is
                        the bottleneck; stalls are then timed to MS (default 0: read at once)
      --max-body BYTES  get mode: a body longer than this is an error (default 16 MiB)
      --enhanced        RTMP players announce Enhanced RTMP (fourCcList, capsEx
                        Multitrack): they get every track of a multitrack stream
      --threads N       runtime threads; 1 = current-thread runtime (default 1)
      --seed N          seed for hold times and handshake filler (default 1)
      --json            print the summary (and every connection) as JSON on stdout
  -q, --quiet           no progress line on stderr
  -h, --help            this text

With several publishers, client i publishes STREAM_i (STREAM itself when -n 1).
All clients of the other modes play the same stream, unless --streams
spreads the players over K publishers' streams.
In get mode each client GETs the URL over and over on one keep-alive
connection, as fast as the server answers, reading every body in full;
the report gives requests/s, MB/s and the answers other than 200.";

/// What the clients do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// RTMP players.
    Play,
    /// RTMP publishers.
    Publish,
    /// HTTP-FLV players.
    HttpFlv,
    /// HLS players.
    Hls,
    /// Throughput: one URL fetched over and over on keep-alive connections.
    Get,
}

impl Mode {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Play => "play",
            Self::Publish => "publish",
            Self::HttpFlv => "flv",
            Self::Hls => "hls",
            Self::Get => "get",
        }
    }
}

/// A bad command line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptionsError {
    /// An option this tool does not know.
    #[error("unknown option {0}")]
    Unknown(String),
    /// An option without its value.
    #[error("{0} needs a value")]
    MissingValue(String),
    /// A value that does not parse or is out of range.
    #[error("bad value for {option}: {value:?} ({why})")]
    BadValue {
        /// The option.
        option: String,
        /// What was given.
        value: String,
        /// What is allowed.
        why: &'static str,
    },
    /// No URL, or two.
    #[error("exactly one URL is needed (see --help)")]
    Url,
    /// The URL does not parse.
    #[error(transparent)]
    BadUrl(#[from] UrlError),
    /// The mode does not fit the URL scheme or lacks its input.
    #[error("{0}")]
    Mismatch(&'static str),
}

/// A complete, checked run description.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// What the clients do.
    pub mode: Mode,
    /// Where.
    pub url: Target,
    /// How many clients.
    pub clients: usize,
    /// Players spread over this many streams, round robin (1: all play
    /// the URL's stream).
    pub streams: usize,
    /// Connections opened per second; 0 = all at once.
    pub ramp: f64,
    /// Run time, ramp included.
    pub duration: Duration,
    /// FLV file to publish.
    pub input: Option<PathBuf>,
    /// Reconnect loop.
    pub reconnect: bool,
    /// Connected time range for the reconnect loop, in milliseconds.
    pub hold_ms: (u64, u64),
    /// RTMP players read at most this often once playing (zero: at once).
    pub read_interval: Duration,
    /// RTMP clients announce Enhanced RTMP in their connect.
    pub enhanced: bool,
    /// Get mode: the longest body read; a longer one is an error.
    pub max_body: u64,
    /// Runtime threads.
    pub threads: usize,
    /// Seed.
    pub seed: u64,
    /// JSON output.
    pub json: bool,
    /// No progress line.
    pub quiet: bool,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Print [`USAGE`].
    Help,
    /// Run.
    Run(Options),
}

fn bad(option: &str, value: &str, why: &'static str) -> OptionsError {
    OptionsError::BadValue {
        option: option.to_owned(),
        value: value.to_owned(),
        why,
    }
}

fn number<T: std::str::FromStr>(
    option: &str,
    value: &str,
    why: &'static str,
) -> Result<T, OptionsError> {
    value.parse().map_err(|_| bad(option, value, why))
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, OptionsError> {
    let mut mode = None;
    let mut url = None;
    let mut clients = 1usize;
    let mut streams = None;
    let mut ramp = 100.0f64;
    let mut duration_s = 30.0f64;
    let mut input = None;
    let mut reconnect = false;
    let mut hold_ms = (1000, 5000);
    let mut threads = 1usize;
    let mut read_interval = Duration::ZERO;
    let mut enhanced = false;
    let mut max_body = DEFAULT_MAX_BODY;
    let mut seed = 1u64;
    let mut json = false;
    let mut quiet = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // `--name=value` is accepted as well as `--name value`.
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, OptionsError> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args
                    .next()
                    .ok_or_else(|| OptionsError::MissingValue(name.to_owned())),
            }
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-m" | "--mode" => {
                let v = value(&name)?;
                mode = Some(match v.as_str() {
                    "play" => Mode::Play,
                    "publish" => Mode::Publish,
                    "flv" => Mode::HttpFlv,
                    "hls" => Mode::Hls,
                    "get" => Mode::Get,
                    _ => return Err(bad(&name, &v, "play, publish, flv, hls or get")),
                });
            }
            "-n" | "--clients" => {
                let v = value(&name)?;
                clients = number(&name, &v, "a count")?;
                if clients == 0 || clients > MAX_CLIENTS {
                    return Err(bad(&name, &v, "1 to 200000"));
                }
            }
            "--streams" => {
                let v = value(&name)?;
                let k: usize = number(&name, &v, "a count")?;
                if k == 0 || k > MAX_CLIENTS {
                    return Err(bad(&name, &v, "1 to 200000"));
                }
                streams = Some(k);
            }
            "-r" | "--ramp" => {
                let v = value(&name)?;
                ramp = number(&name, &v, "connections per second")?;
                if !ramp.is_finite() || ramp < 0.0 {
                    return Err(bad(&name, &v, "a rate >= 0"));
                }
            }
            "-d" | "--duration" => {
                let v = value(&name)?;
                duration_s = number(&name, &v, "seconds")?;
                if !duration_s.is_finite()
                    || duration_s <= 0.0
                    || duration_s > MAX_DURATION.as_secs_f64()
                {
                    return Err(bad(&name, &v, "seconds, more than 0, at most a day"));
                }
            }
            "-i" | "--input" => input = Some(PathBuf::from(value(&name)?)),
            "--reconnect" => reconnect = true,
            "--hold" => {
                let v = value(&name)?;
                let (lo, hi) = v.split_once('-').unwrap_or((&v, &v));
                let lo: f64 = number(&name, lo, "MIN-MAX seconds")?;
                let hi: f64 = number(&name, hi, "MIN-MAX seconds")?;
                if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && hi >= lo) {
                    return Err(bad(&name, &v, "0 < MIN <= MAX"));
                }
                hold_ms = ((lo * 1000.0) as u64, (hi * 1000.0) as u64);
            }
            "--read-interval" => {
                let v = value(&name)?;
                let ms: u64 = number(&name, &v, "milliseconds")?;
                if ms > MAX_READ_INTERVAL_MS {
                    return Err(bad(&name, &v, "0 to 1000 ms"));
                }
                read_interval = Duration::from_millis(ms);
            }
            "--enhanced" => enhanced = true,
            "--max-body" => {
                let v = value(&name)?;
                max_body = number(&name, &v, "bytes")?;
                if max_body == 0 || max_body > MAX_MAX_BODY {
                    return Err(bad(&name, &v, "1 to 1073741824 bytes"));
                }
            }
            "--threads" => {
                let v = value(&name)?;
                threads = number(&name, &v, "a count")?;
                if threads == 0 || threads > MAX_THREADS {
                    return Err(bad(&name, &v, "1 to 256"));
                }
            }
            "--seed" => {
                let v = value(&name)?;
                seed = number(&name, &v, "an unsigned integer")?;
            }
            "--json" => json = true,
            "-q" | "--quiet" => quiet = true,
            other if other.starts_with('-') => return Err(OptionsError::Unknown(arg)),
            _ => {
                if url.is_some() {
                    return Err(OptionsError::Url);
                }
                url = Some(Target::parse(&arg)?);
            }
        }
    }
    let url = url.ok_or(OptionsError::Url)?;
    let mode = match (mode, url.scheme) {
        (Some(m @ (Mode::Play | Mode::Publish)), Scheme::Rtmp) => m,
        (Some(m @ (Mode::HttpFlv | Mode::Hls | Mode::Get)), Scheme::Http) => m,
        (Some(_), _) => {
            return Err(OptionsError::Mismatch(
                "the mode does not fit the URL scheme",
            ))
        }
        (None, Scheme::Rtmp) => Mode::Play,
        (None, Scheme::Http) => {
            let path = url.path.split('?').next().unwrap_or_default();
            if path.ends_with(".m3u8") {
                Mode::Hls
            } else {
                Mode::HttpFlv
            }
        }
    };
    if url.scheme == Scheme::Rtmp {
        url.app_and_stream()?;
    }
    if mode == Mode::Publish && input.is_none() {
        return Err(OptionsError::Mismatch(
            "publish mode needs --input FILE.flv",
        ));
    }
    if streams.is_some() && !matches!(mode, Mode::Play | Mode::HttpFlv) {
        return Err(OptionsError::Mismatch(
            "--streams is for the play modes (play, flv)",
        ));
    }
    Ok(Command::Run(Options {
        mode,
        url,
        clients,
        streams: streams.unwrap_or(1),
        ramp,
        duration: Duration::from_secs_f64(duration_s),
        input,
        reconnect,
        hold_ms,
        read_interval,
        enhanced,
        max_body,
        threads,
        seed,
        json,
        quiet,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Options, OptionsError> {
        match parse(args.iter().map(|s| s.to_string()))? {
            Command::Run(o) => Ok(o),
            Command::Help => panic!("help"),
        }
    }

    #[test]
    fn defaults_and_inferred_modes() {
        let o = run(&["rtmp://h/live/s"]).unwrap();
        assert_eq!(o.mode, Mode::Play);
        assert_eq!((o.clients, o.ramp, o.threads), (1, 100.0, 1));
        assert_eq!(o.duration, Duration::from_secs(30));
        assert_eq!(o.max_body, DEFAULT_MAX_BODY);
        assert_eq!(o.streams, 1);
        assert_eq!(run(&["http://h/live/s.flv"]).unwrap().mode, Mode::HttpFlv);
        assert_eq!(run(&["http://h/live/s.m3u8?x=1"]).unwrap().mode, Mode::Hls);
    }

    #[test]
    fn all_options() {
        let o = run(&[
            "-n",
            "5000",
            "--ramp=250",
            "-d",
            "15",
            "--reconnect",
            "--hold",
            "0.5-2",
            "--threads",
            "2",
            "--read-interval",
            "100",
            "--json",
            "-q",
            "--seed",
            "9",
            "-m",
            "publish",
            "-i",
            "a.flv",
            "rtmp://h:1936/live/s",
        ])
        .unwrap();
        assert_eq!(o.mode, Mode::Publish);
        assert_eq!(o.clients, 5000);
        assert_eq!(o.ramp, 250.0);
        assert_eq!(o.duration, Duration::from_secs(15));
        assert!(o.reconnect && o.json && o.quiet);
        assert_eq!(o.hold_ms, (500, 2000));
        assert_eq!((o.threads, o.seed), (2, 9));
        assert_eq!(o.read_interval, Duration::from_millis(100));
        assert_eq!(o.input, Some(PathBuf::from("a.flv")));
    }

    #[test]
    fn get_mode_takes_any_http_url_and_a_body_cap() {
        let o = run(&[
            "-m",
            "get",
            "--max-body",
            "4096",
            "http://h:8080/live/s-3.ts",
        ])
        .unwrap();
        assert_eq!(o.mode, Mode::Get);
        assert_eq!(o.max_body, 4096);
        assert_eq!(o.url.path, "/live/s-3.ts");
        assert_eq!(o.mode.name(), "get");
        // Never inferred: a .m4s or .ts URL alone is still HTTP-FLV's default.
        assert_eq!(run(&["http://h/live/s-3.m4s"]).unwrap().mode, Mode::HttpFlv);
        let o = run(&["--mode=get", "--max-body=1073741824", "http://h/x"]).unwrap();
        assert_eq!((o.mode, o.max_body), (Mode::Get, MAX_MAX_BODY));
        for cap in ["0", "1073741825", "-1", "lots"] {
            assert!(
                matches!(
                    run(&["-m", "get", "--max-body", cap, "http://h/x"]),
                    Err(OptionsError::BadValue { .. })
                ),
                "{cap}"
            );
        }
        assert!(matches!(
            run(&["-m", "get", "rtmp://h/a/s"]),
            Err(OptionsError::Mismatch(_))
        ));
        assert!(matches!(
            run(&["-m", "fetch", "http://h/x"]),
            Err(OptionsError::BadValue { .. })
        ));
    }

    #[test]
    fn streams_only_for_players() {
        let o = run(&["-n", "1000", "--streams", "100", "rtmp://h/live/s"]).unwrap();
        assert_eq!((o.clients, o.streams), (1000, 100));
        let o = run(&["--streams=7", "http://h/live/s.flv"]).unwrap();
        assert_eq!((o.mode, o.streams), (Mode::HttpFlv, 7));
        for k in ["0", "200001", "many"] {
            assert!(
                matches!(
                    run(&["--streams", k, "rtmp://h/live/s"]),
                    Err(OptionsError::BadValue { .. })
                ),
                "{k}"
            );
        }
        for args in [
            &[
                "-m",
                "publish",
                "-i",
                "a.flv",
                "--streams",
                "2",
                "rtmp://h/a/s",
            ][..],
            &["--streams", "2", "http://h/live/s.m3u8"],
            &["-m", "get", "--streams", "2", "http://h/x"],
        ] {
            assert!(
                matches!(run(args), Err(OptionsError::Mismatch(_))),
                "{args:?}"
            );
        }
    }

    #[test]
    fn errors() {
        assert!(matches!(run(&[]), Err(OptionsError::Url)));
        assert!(matches!(
            run(&["rtmp://h/a/s", "rtmp://h/a/t"]),
            Err(OptionsError::Url)
        ));
        assert!(matches!(
            run(&["--bogus", "rtmp://h/a/s"]),
            Err(OptionsError::Unknown(_))
        ));
        assert!(matches!(
            run(&["rtmp://h/a/s", "-n"]),
            Err(OptionsError::MissingValue(_))
        ));
        assert!(matches!(
            run(&["-n", "0", "rtmp://h/a/s"]),
            Err(OptionsError::BadValue { .. })
        ));
        assert!(matches!(
            run(&["-d", "-1", "rtmp://h/a/s"]),
            Err(OptionsError::BadValue { .. })
        ));
        assert!(matches!(
            run(&["--hold", "3-1", "rtmp://h/a/s"]),
            Err(OptionsError::BadValue { .. })
        ));
        assert!(matches!(
            run(&["-m", "hls", "rtmp://h/a/s"]),
            Err(OptionsError::Mismatch(_))
        ));
        assert!(matches!(
            run(&["-m", "publish", "rtmp://h/a/s"]),
            Err(OptionsError::Mismatch(_))
        ));
        assert!(matches!(
            run(&["rtmp://h/nostream"]),
            Err(OptionsError::BadUrl(_))
        ));
        assert_eq!(parse(["--help".to_owned()]), Ok(Command::Help));
    }
}
