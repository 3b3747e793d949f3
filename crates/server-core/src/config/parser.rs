//! The parse tree: directives with their values, blocks, file and line.
//!
//! `include FILE...;` is resolved here, where it appears (top level or inside a
//! block): each file's directives are spliced in place of the `include`, with
//! their own file name and lines, so errors point into the included file.
//! Relative paths are relative to the directory of the including file, as in
//! nginx. Cycles are refused, and nesting, file size and the total read are
//! bounded so a mistaken include cannot exhaust memory.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::{ConfigError, ConfigErrorKind};
use super::lexer::{tokenize, Token, TokenKind};

/// Largest config file read, in bytes.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
/// Largest total of all files read for one config (the top file and its includes).
pub const MAX_TOTAL_BYTES: usize = 8 * 1024 * 1024;
/// Deepest `{ ... }` nesting within one file.
pub const MAX_BLOCK_DEPTH: usize = 16;
/// Longest chain of `include`s.
pub const MAX_INCLUDE_DEPTH: usize = 8;

/// One directive: `name args;` or `name args { block }`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Directive {
    pub name: String,
    pub args: Vec<String>,
    /// `Some` for `name args { ... }`, even when the block is empty.
    pub block: Option<Vec<Directive>>,
    pub file: Arc<str>,
    pub line: u32,
}

impl Directive {
    /// `file:line`, for messages that point at another directive.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// An error located at this directive.
    pub fn error(&self, kind: ConfigErrorKind) -> ConfigError {
        ConfigError::new(&*self.file, self.line, kind)
    }
}

/// Include chain and read budget of one parse.
struct Ctx {
    /// Canonical paths of the files being parsed, outermost first.
    stack: Vec<PathBuf>,
    total_bytes: usize,
}

/// Parses the file at `path` and everything it includes.
pub(crate) fn parse_file(path: &Path) -> Result<Vec<Directive>, ConfigError> {
    let name = path.display().to_string();
    let text = read_limited(path).map_err(|kind| ConfigError::new(&name, 0, kind))?;
    let mut ctx = Ctx {
        stack: Vec::new(),
        total_bytes: text.len(),
    };
    ctx.stack
        .push(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()));
    parse_source(&mut ctx, &name, base_dir(path), &text)
}

/// Parses `text` as if read from a file called `name`; includes are resolved
/// relative to `name`'s directory.
pub(crate) fn parse_text(name: &str, text: &str) -> Result<Vec<Directive>, ConfigError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(ConfigError::new(
            name,
            0,
            ConfigErrorKind::TooLarge {
                limit: MAX_FILE_BYTES,
            },
        ));
    }
    let path = Path::new(name);
    let mut ctx = Ctx {
        stack: Vec::new(),
        total_bytes: text.len(),
    };
    ctx.stack
        .push(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()));
    parse_source(&mut ctx, name, base_dir(path), text)
}

fn base_dir(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

fn read_limited(path: &Path) -> Result<String, ConfigErrorKind> {
    let io = |e: std::io::Error| ConfigErrorKind::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    // One byte more than allowed tells "exactly at the limit" from "over it".
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ConfigErrorKind::TooLarge {
            limit: MAX_FILE_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|_| ConfigErrorKind::Io {
        path: path.display().to_string(),
        reason: "not valid UTF-8".to_owned(),
    })
}

fn parse_source(
    ctx: &mut Ctx,
    name: &str,
    dir: PathBuf,
    text: &str,
) -> Result<Vec<Directive>, ConfigError> {
    let tokens = tokenize(text).map_err(|(line, kind)| ConfigError::new(name, line, kind))?;
    let mut p = Parser {
        file: Arc::from(name),
        dir,
        tokens: &tokens,
        pos: 0,
        last_line: tokens.last().map_or(1, |t| t.line),
    };
    p.block(ctx, 0, false)
}

struct Parser<'t> {
    file: Arc<str>,
    dir: PathBuf,
    tokens: &'t [Token],
    pos: usize,
    last_line: u32,
}

impl Parser<'_> {
    fn err(&self, line: u32, kind: ConfigErrorKind) -> ConfigError {
        ConfigError::new(&*self.file, line, kind)
    }

    fn next(&mut self) -> Option<&Token> {
        let t = self.tokens.get(self.pos);
        if t.is_some() {
            self.pos = self.pos.saturating_add(1);
        }
        t
    }

    /// Directives until `}` (when `closed`) or the end of the file.
    fn block(
        &mut self,
        ctx: &mut Ctx,
        depth: usize,
        closed: bool,
    ) -> Result<Vec<Directive>, ConfigError> {
        let mut list = Vec::new();
        loop {
            let Some(tok) = self.next().cloned() else {
                if closed {
                    let what = "end of file, expecting '}'".to_owned();
                    return Err(self.err(self.last_line, ConfigErrorKind::Unexpected(what)));
                }
                return Ok(list);
            };
            let name = match tok.kind {
                TokenKind::Word(w) => w,
                TokenKind::Close if closed => return Ok(list),
                TokenKind::Close => return Err(self.err(tok.line, unexpected("'}'"))),
                TokenKind::Semicolon => return Err(self.err(tok.line, unexpected("';'"))),
                TokenKind::Open => return Err(self.err(tok.line, unexpected("'{'"))),
            };
            let mut args = Vec::new();
            let block = loop {
                let Some(t) = self.next().cloned() else {
                    let what = "end of file, expecting ';' or '{'".to_owned();
                    return Err(self.err(self.last_line, ConfigErrorKind::Unexpected(what)));
                };
                match t.kind {
                    TokenKind::Word(w) => args.push(w),
                    TokenKind::Semicolon => break None,
                    TokenKind::Open => {
                        let depth = depth.saturating_add(1);
                        if depth > MAX_BLOCK_DEPTH {
                            let limit = MAX_BLOCK_DEPTH;
                            return Err(self.err(t.line, ConfigErrorKind::TooDeep { limit }));
                        }
                        break Some(self.block(ctx, depth, true)?);
                    }
                    TokenKind::Close => {
                        return Err(self.err(t.line, unexpected("'}', expecting ';'")));
                    }
                }
            };
            let directive = Directive {
                name,
                args,
                block,
                file: self.file.clone(),
                line: tok.line,
            };
            if directive.name == "include" {
                list.extend(self.include(ctx, &directive)?);
            } else {
                list.push(directive);
            }
        }
    }

    /// The directives of every file `include` names, in order.
    fn include(&self, ctx: &mut Ctx, d: &Directive) -> Result<Vec<Directive>, ConfigError> {
        if d.block.is_some() {
            return Err(d.error(ConfigErrorKind::NoBlock(d.name.clone())));
        }
        if d.args.is_empty() {
            return Err(d.error(ConfigErrorKind::ArgCount {
                directive: d.name.clone(),
                expected: "one or more files",
                got: 0,
            }));
        }
        let mut out = Vec::new();
        for arg in &d.args {
            let path = self.dir.join(arg);
            if ctx.stack.len() >= MAX_INCLUDE_DEPTH {
                let limit = MAX_INCLUDE_DEPTH;
                return Err(d.error(ConfigErrorKind::IncludeTooDeep { limit }));
            }
            let text = read_limited(&path).map_err(|kind| d.error(kind))?;
            ctx.total_bytes = ctx.total_bytes.saturating_add(text.len());
            if ctx.total_bytes > MAX_TOTAL_BYTES {
                let limit = MAX_TOTAL_BYTES;
                return Err(d.error(ConfigErrorKind::TooLarge { limit }));
            }
            let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if ctx.stack.contains(&canonical) {
                let shown = path.display().to_string();
                return Err(d.error(ConfigErrorKind::IncludeCycle(shown)));
            }
            ctx.stack.push(canonical);
            let name = path.display().to_string();
            let parsed = parse_source(ctx, &name, base_dir(&path), &text);
            ctx.stack.pop();
            out.extend(parsed?);
        }
        Ok(out)
    }
}

fn unexpected(what: &str) -> ConfigErrorKind {
    ConfigErrorKind::Unexpected(what.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Directive>, String> {
        parse_text("t.conf", text).map_err(|e| e.to_string())
    }

    #[test]
    fn tree_with_lines() {
        let t = parse("listen 1935 1936;\nvhost a {\n  hls {\n    enabled on;\n  }\n}\n").unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].args, vec!["1935", "1936"]);
        assert_eq!(t[0].block, None);
        let vhost = &t[1];
        assert_eq!((vhost.name.as_str(), vhost.line), ("vhost", 2));
        let hls = &vhost.block.as_ref().unwrap()[0];
        let enabled = &hls.block.as_ref().unwrap()[0];
        assert_eq!((enabled.name.as_str(), enabled.line), ("enabled", 4));
        assert_eq!(enabled.location(), "t.conf:4");
    }

    #[test]
    fn empty_block_is_a_block() {
        let t = parse("vhost x {}").unwrap();
        assert_eq!(t[0].block, Some(vec![]));
    }

    #[test]
    fn syntax_errors_have_file_and_line() {
        assert_eq!(parse("a 1;\n}").unwrap_err(), "t.conf:2: unexpected '}'");
        assert_eq!(
            parse("a {\n b 1;\n").unwrap_err(),
            "t.conf:2: unexpected end of file, expecting '}'"
        );
        assert_eq!(
            parse("a 1").unwrap_err(),
            "t.conf:1: unexpected end of file, expecting ';' or '{'"
        );
        assert_eq!(parse("\n;").unwrap_err(), "t.conf:2: unexpected ';'");
        assert_eq!(
            parse("a { b 1 }").unwrap_err(),
            "t.conf:1: unexpected '}', expecting ';'"
        );
        assert_eq!(
            parse("a \"b;").unwrap_err(),
            "t.conf:1: unterminated quoted string"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "a {".repeat(MAX_BLOCK_DEPTH + 1) + &"}".repeat(MAX_BLOCK_DEPTH + 1);
        assert!(parse(&deep).unwrap_err().contains("nested deeper"));
        let ok = "a {".repeat(MAX_BLOCK_DEPTH) + &"}".repeat(MAX_BLOCK_DEPTH);
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn oversized_text_is_refused() {
        let big = "#".repeat(MAX_FILE_BYTES + 1);
        assert!(parse(&big).unwrap_err().contains("larger than"));
    }

    #[test]
    fn include_errors() {
        assert!(parse("include;")
            .unwrap_err()
            .starts_with("t.conf:1: directive 'include' takes"));
        assert!(parse("include a {}")
            .unwrap_err()
            .contains("does not take a block"));
        let missing = parse("\ninclude /nonexistent/x.conf;").unwrap_err();
        assert!(
            missing.starts_with("t.conf:2: cannot read '/nonexistent/x.conf'"),
            "{missing}"
        );
    }
}
