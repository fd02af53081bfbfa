//! Errors of the `json` module: one kind per way text can fail to be strict JSON.

use crate::source::Span;

/// Why bytes could not be read as a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JsonErrorKind {
    /// The text holds no value.
    Empty,
    /// Input ended where more was expected.
    UnexpectedEnd {
        /// What was expected.
        expected: &'static str,
    },
    /// A character that cannot start or continue what was expected.
    Unexpected {
        /// The character found.
        found: char,
        /// What was expected.
        expected: &'static str,
    },
    /// `//` or `/* */`.
    Comment,
    /// A comma before `]` or `}`.
    TrailingComma,
    /// `'...'`.
    SingleQuote,
    /// An unquoted object key.
    BareKey,
    /// A word that is not `true`, `false` or `null`.
    InvalidLiteral,
    /// A malformed number (leading zero, missing digits, `+1`).
    InvalidNumber,
    /// A backslash escape JSON does not define.
    InvalidEscape,
    /// A `\uD800`-style surrogate without its pair.
    LoneSurrogate,
    /// A raw control character inside a string.
    ControlCharacter,
    /// A string without its closing quote.
    UnterminatedString,
    /// An object or array without its closing bracket.
    Unclosed {
        /// `{` or `[`.
        open: char,
    },
    /// More text after the document.
    TrailingContent,
    /// Nesting deeper than the cap.
    TooDeep {
        /// The cap.
        limit: usize,
    },
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// A UTF-16 file with an odd length or an unpaired surrogate.
    InvalidUtf16,
}

/// A JSON error at a span of the (decoded) text, or of the raw bytes for encoding errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What went wrong.
    pub(crate) kind: JsonErrorKind,
    /// Where.
    pub(crate) span: Span,
}

impl JsonError {
    pub(crate) fn new(kind: JsonErrorKind, span: Span) -> Self {
        JsonError { kind, span }
    }

    /// One-line message (lower-case, no final period).
    pub(crate) fn message(&self) -> String {
        match &self.kind {
            JsonErrorKind::Empty => "file holds no JSON value".into(),
            JsonErrorKind::UnexpectedEnd { expected } => {
                format!("unexpected end of input: expected {expected}")
            }
            JsonErrorKind::Unexpected { found, expected } => {
                let shown = if found.is_control() || found.is_whitespace() {
                    found.escape_unicode().to_string()
                } else {
                    found.to_string()
                };
                format!("unexpected `{shown}`: expected {expected}")
            }
            JsonErrorKind::Comment => "comments are not allowed in JSON".into(),
            JsonErrorKind::TrailingComma => "trailing comma".into(),
            JsonErrorKind::SingleQuote => "strings must use double quotes".into(),
            JsonErrorKind::BareKey => "object keys must be double-quoted strings".into(),
            JsonErrorKind::InvalidLiteral => "invalid literal: expected a value".into(),
            JsonErrorKind::InvalidNumber => "invalid number".into(),
            JsonErrorKind::InvalidEscape => "invalid escape sequence in string".into(),
            JsonErrorKind::LoneSurrogate => "unpaired UTF-16 surrogate in `\\u` escape".into(),
            JsonErrorKind::ControlCharacter => "unescaped control character in string".into(),
            JsonErrorKind::UnterminatedString => "string is not closed".into(),
            JsonErrorKind::Unclosed { open } => format!("`{open}` is never closed"),
            JsonErrorKind::TrailingContent => "unexpected content after the JSON document".into(),
            JsonErrorKind::TooDeep { limit } => {
                format!("nesting is deeper than {limit} levels")
            }
            JsonErrorKind::InvalidUtf8 => "file is not valid UTF-8".into(),
            JsonErrorKind::InvalidUtf16 => "file is not valid UTF-16".into(),
        }
    }

    /// What the label under the span says.
    pub(crate) fn label(&self) -> &'static str {
        match &self.kind {
            JsonErrorKind::Empty => "empty",
            JsonErrorKind::UnexpectedEnd { .. } => "input ends here",
            JsonErrorKind::Unexpected { .. } => "unexpected here",
            JsonErrorKind::Comment => "comment",
            JsonErrorKind::TrailingComma => "this comma",
            JsonErrorKind::SingleQuote => "single quote",
            JsonErrorKind::BareKey => "unquoted key",
            JsonErrorKind::InvalidLiteral => "not `true`, `false` or `null`",
            JsonErrorKind::InvalidNumber => "not a JSON number",
            JsonErrorKind::InvalidEscape => "unknown escape",
            JsonErrorKind::LoneSurrogate => "unpaired surrogate",
            JsonErrorKind::ControlCharacter => "control character",
            JsonErrorKind::UnterminatedString => "string starts here",
            JsonErrorKind::Unclosed { .. } => "opened here",
            JsonErrorKind::TrailingContent => "extra content",
            JsonErrorKind::TooDeep { .. } => "too deep",
            JsonErrorKind::InvalidUtf8 => "first invalid byte",
            JsonErrorKind::InvalidUtf16 => "invalid code unit",
        }
    }

    /// What to do about it.
    pub(crate) fn help(&self) -> String {
        match &self.kind {
            JsonErrorKind::Empty => "give a file that holds a policy document".into(),
            JsonErrorKind::UnexpectedEnd { .. } | JsonErrorKind::Unclosed { .. } => {
                "the document is cut off: check that the file was written completely".into()
            }
            JsonErrorKind::Unexpected { expected, .. } => {
                format!("write {expected} here; a missing comma or colon is the usual cause")
            }
            JsonErrorKind::Comment => {
                "remove the comment: AWS accepts only plain JSON policy documents".into()
            }
            JsonErrorKind::TrailingComma => "remove the comma after the last item".into(),
            JsonErrorKind::SingleQuote => "replace the single quotes with double quotes".into(),
            JsonErrorKind::BareKey => "put the key in double quotes".into(),
            JsonErrorKind::InvalidLiteral => {
                "write `true`, `false` or `null` in lower case, or quote the text as a string"
                    .into()
            }
            JsonErrorKind::InvalidNumber => {
                "JSON numbers have no leading zeros or `+` sign; quote the value to keep it as text"
                    .into()
            }
            JsonErrorKind::InvalidEscape => {
                "valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX; write a backslash as \\\\"
                    .into()
            }
            JsonErrorKind::LoneSurrogate => {
                "a \\uD800-\\uDBFF escape must be followed by a \\uDC00-\\uDFFF escape".into()
            }
            JsonErrorKind::ControlCharacter => {
                "escape it: write a tab as \\t and a newline as \\n".into()
            }
            JsonErrorKind::UnterminatedString => "add the closing `\"`".into(),
            JsonErrorKind::TrailingContent => {
                "a file holds one JSON document; remove what follows it or split the file".into()
            }
            JsonErrorKind::TooDeep { .. } => {
                "no policy needs this much nesting; check the file, or raise `--max-depth`".into()
            }
            JsonErrorKind::InvalidUtf8 => {
                "save the file as UTF-8 (e.g. `iconv -f LATIN1 -t UTF-8 in.json > out.json`)".into()
            }
            JsonErrorKind::InvalidUtf16 => {
                "re-encode the file as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8 in.json > out.json`)"
                    .into()
            }
        }
    }
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for JsonError {}
