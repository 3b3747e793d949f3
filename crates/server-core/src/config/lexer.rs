//! Tokens of SRS's (nginx-like) config syntax.
//!
//! `directive arg arg;` and `name args { ... }`. Words end at whitespace, `;`,
//! `{` or `}`. At the start of a token, `#` begins a comment to the end of the
//! line and `'` or `"` begins a quoted word (no escapes, no line breaks), which
//! is how a value may contain spaces, `;` or braces. A `#` inside a word is
//! part of it (`http://host/#x`), as in SRS's `SrsConfigBuffer`.

use super::error::ConfigErrorKind;

/// A token and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub line: u32,
}

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A directive name or argument (quotes removed).
    Word(String),
    /// `;` ends a simple directive.
    Semicolon,
    /// `{` opens a block.
    Open,
    /// `}` closes a block.
    Close,
}

/// Splits `text` into tokens, or reports the line of the first lexical error.
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, (u32, ConfigErrorKind)> {
    let mut tokens = Vec::new();
    let mut line: u32 = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line = line.saturating_add(1),
            c if c.is_whitespace() => {}
            '#' => {
                // Comment: skip to the end of the line (the newline is counted above).
                while chars.peek().is_some_and(|&n| n != '\n') {
                    chars.next();
                }
            }
            ';' => tokens.push(Token {
                kind: TokenKind::Semicolon,
                line,
            }),
            '{' => tokens.push(Token {
                kind: TokenKind::Open,
                line,
            }),
            '}' => tokens.push(Token {
                kind: TokenKind::Close,
                line,
            }),
            '"' | '\'' => {
                let start = line;
                let mut word = String::new();
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some('\n') | None => {
                            return Err((start, ConfigErrorKind::UnterminatedQuote))
                        }
                        Some(other) => word.push(other),
                    }
                }
                tokens.push(Token {
                    kind: TokenKind::Word(word),
                    line: start,
                });
            }
            first => {
                let mut word = String::from(first);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || matches!(n, ';' | '{' | '}') {
                        break;
                    }
                    word.push(n);
                    chars.next();
                }
                tokens.push(Token {
                    kind: TokenKind::Word(word),
                    line,
                });
            }
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    fn w(s: &str) -> TokenKind {
        TokenKind::Word(s.to_owned())
    }

    #[test]
    fn words_blocks_and_comments() {
        assert_eq!(
            kinds("listen 1935; # rtmp\nvhost a{enabled on;}"),
            vec![
                w("listen"),
                w("1935"),
                TokenKind::Semicolon,
                w("vhost"),
                w("a"),
                TokenKind::Open,
                w("enabled"),
                w("on"),
                TokenKind::Semicolon,
                TokenKind::Close,
            ]
        );
    }

    #[test]
    fn quotes_and_hash_inside_words() {
        assert_eq!(
            kinds("a \"b c;{}\" 'd' http://x/#y;"),
            vec![
                w("a"),
                w("b c;{}"),
                w("d"),
                w("http://x/#y"),
                TokenKind::Semicolon
            ]
        );
        assert_eq!(kinds("a '';"), vec![w("a"), w(""), TokenKind::Semicolon]);
    }

    #[test]
    fn lines_are_counted() {
        let t = tokenize("# c\n\n  a\r\n  b;").unwrap();
        assert_eq!(t.iter().map(|t| t.line).collect::<Vec<_>>(), vec![3, 4, 4]);
    }

    #[test]
    fn unterminated_quote_reports_its_line() {
        assert_eq!(
            tokenize("a;\nb \"c;\nd;"),
            Err((2, ConfigErrorKind::UnterminatedQuote))
        );
        assert_eq!(tokenize("'x"), Err((1, ConfigErrorKind::UnterminatedQuote)));
    }
}
