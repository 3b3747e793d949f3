//! Config errors: always `file:line: what is wrong`.

use std::fmt;

/// A config file could not be used. [`Display`](fmt::Display) prints
/// `file:line: what`, the shape editors and `grep -n` understand; when there is
/// no line (the top-level file cannot be read) it prints `file: what`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The file the problem is in, as it was named (include paths resolved).
    pub file: String,
    /// 1-based line; 0 when the problem is not at a line.
    pub line: u32,
    /// What is wrong.
    pub kind: ConfigErrorKind,
}

impl ConfigError {
    pub(crate) fn new(file: impl Into<String>, line: u32, kind: ConfigErrorKind) -> Self {
        Self {
            file: file.into(),
            line,
            kind,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.kind)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.kind)
        }
    }
}

impl std::error::Error for ConfigError {}

/// What is wrong, without the location.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigErrorKind {
    /// A file could not be read.
    #[error("cannot read '{path}': {reason}")]
    Io {
        /// The path as resolved.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// A file is larger than [`MAX_FILE_BYTES`](super::parser::MAX_FILE_BYTES).
    #[error("file is larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// A quoted value does not end on its line.
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    /// A token where it cannot be (`unexpected '}'`, `unexpected end of file, expecting ';'`).
    #[error("unexpected {0}")]
    Unexpected(String),
    /// Blocks nested deeper than the limit.
    #[error("blocks nested deeper than {limit}")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// `include` chains longer than the limit.
    #[error("includes nested deeper than {limit}")]
    IncludeTooDeep {
        /// The limit.
        limit: usize,
    },
    /// A file includes itself, directly or through others.
    #[error("include cycle: '{0}' is already being included")]
    IncludeCycle(String),
    /// A directive neither we nor SRS know.
    #[error("unknown directive '{0}'")]
    UnknownDirective(String),
    /// An SRS directive this server does not implement yet.
    #[error("directive '{0}' is not supported yet")]
    NotSupported(String),
    /// An SRS directive whose given value this server does not implement yet.
    #[error("'{directive} {value}' is not supported yet")]
    ValueNotSupported {
        /// The directive.
        directive: String,
        /// The value.
        value: String,
    },
    /// A block directive written without `{ ... }`.
    #[error("directive '{0}' needs a block {{ ... }}")]
    NeedsBlock(String),
    /// A simple directive written with `{ ... }`.
    #[error("directive '{0}' does not take a block")]
    NoBlock(String),
    /// Wrong number of values.
    #[error("directive '{directive}' takes {expected}, got {got}")]
    ArgCount {
        /// The directive.
        directive: String,
        /// What it takes ("exactly one value").
        expected: &'static str,
        /// How many were given.
        got: usize,
    },
    /// A value that is not what the directive accepts.
    #[error("invalid value '{value}' for '{directive}': expected {expected}")]
    BadValue {
        /// The directive.
        directive: String,
        /// The value as written.
        value: String,
        /// What would be accepted.
        expected: String,
    },
    /// A block that lacks directives it needs (`auth` on without a `password`).
    #[error("'{block}' needs {needs}")]
    Missing {
        /// The block.
        block: String,
        /// What it lacks.
        needs: &'static str,
    },
    /// A directive given twice in one block.
    #[error("duplicate directive '{directive}' (first at {first})")]
    Duplicate {
        /// The directive (with its name for `vhost NAME`).
        directive: String,
        /// `file:line` of the first one.
        first: String,
    },
}
