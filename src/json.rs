//! Strict, span-preserving JSON: the only parser of policy text in the project.
//!
//! Owns decoding of raw bytes to text ([`decode_text`]: UTF-8, BOM, UTF-16) and parsing text
//! into a [`Json`] tree in which every value, key and array item carries a byte [`Span`].
//! Object members keep their order and duplicates are kept (the `policy` module reports them,
//! spec R16). Anything RFC 8259 does not allow is an error: comments, trailing commas, single
//! quotes, bare keys, leading zeros, `NaN`. Nesting depth is capped so no input can exhaust the
//! stack. It knows nothing of IAM (`policy`) or file formats (`input`).
//!
//! Written by hand rather than with a general JSONC parser: strictness is by construction
//! (there is nothing permissive to switch off), every error kind has its own message and help,
//! and strings without escapes are borrowed from the source, which keeps large plans cheap.

mod err;

use std::borrow::Cow;

pub(crate) use err::{JsonError, JsonErrorKind};

use crate::source::Span;

/// Default cap on nesting depth.
pub(crate) const DEFAULT_MAX_DEPTH: usize = 64;

/// One JSON value with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Json<'a> {
    /// Bytes of the whole value (for strings, quotes included).
    pub(crate) span: Span,
    /// The value.
    pub(crate) kind: JsonKind<'a>,
}

/// The kinds of JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JsonKind<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, kept as written.
    Number(&'a str),
    /// A string, unescaped.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object; members in source order, duplicates kept.
    Object(Vec<Member<'a>>),
}

/// One `"key": value` member of an object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Member<'a> {
    /// The key, unescaped.
    pub(crate) key: Cow<'a, str>,
    /// Span of the key literal, quotes included.
    pub(crate) key_span: Span,
    /// The value.
    pub(crate) value: Json<'a>,
}

impl<'a> Json<'a> {
    /// The string value, if this is a string.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            JsonKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// The members, if this is an object.
    pub(crate) fn as_object(&self) -> Option<&[Member<'a>]> {
        match &self.kind {
            JsonKind::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub(crate) fn as_array(&self) -> Option<&[Json<'a>]> {
        match &self.kind {
            JsonKind::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The last member named `key` (exact case), as JSON object parsers keep it (spec R16).
    pub(crate) fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.as_object()?
            .iter()
            .rev()
            .find(|m| m.key == key)
            .map(|m| &m.value)
    }

    /// A short description of the value's type for messages (`a string`, `an object`).
    pub(crate) fn type_name(&self) -> &'static str {
        match self.kind {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "a boolean",
            JsonKind::Number(_) => "a number",
            JsonKind::String(_) => "a string",
            JsonKind::Array(_) => "an array",
            JsonKind::Object(_) => "an object",
        }
    }
}

/// A note about how bytes were decoded to text (reported as information, never an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EncodingNote {
    /// A UTF-8 byte-order mark was skipped.
    Utf8Bom,
    /// The file was UTF-16 (little-endian) and was decoded.
    Utf16Le,
    /// The file was UTF-16 (big-endian) and was decoded.
    Utf16Be,
}

/// Decodes raw bytes to text: UTF-8 (a BOM is skipped and noted) or UTF-16 with or without a
/// BOM (decoded and noted, as written by PowerShell's `>`). Invalid UTF-8 is an error that
/// names the first bad byte.
pub(crate) fn decode_text(bytes: &[u8]) -> Result<(Cow<'_, str>, Option<EncodingNote>), JsonError> {
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            let text = utf8(rest, 3)?;
            Ok((Cow::Borrowed(text), Some(EncodingNote::Utf8Bom)))
        }
        [0xFF, 0xFE, rest @ ..] => Ok((
            Cow::Owned(utf16(rest, false, 2)?),
            Some(EncodingNote::Utf16Le),
        )),
        [0xFE, 0xFF, rest @ ..] => Ok((
            Cow::Owned(utf16(rest, true, 2)?),
            Some(EncodingNote::Utf16Be),
        )),
        // No BOM, but ASCII text in UTF-16 shows a NUL in every other byte.
        [a, 0, ..] if *a != 0 && bytes.len().is_multiple_of(2) => Ok((
            Cow::Owned(utf16(bytes, false, 0)?),
            Some(EncodingNote::Utf16Le),
        )),
        [0, b, ..] if *b != 0 && bytes.len().is_multiple_of(2) => Ok((
            Cow::Owned(utf16(bytes, true, 0)?),
            Some(EncodingNote::Utf16Be),
        )),
        _ => Ok((Cow::Borrowed(utf8(bytes, 0)?), None)),
    }
}

fn utf8(bytes: &[u8], base: usize) -> Result<&str, JsonError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = base + e.valid_up_to();
        JsonError::new(JsonErrorKind::InvalidUtf8, Span::new(at, at + 1))
    })
}

fn utf16(bytes: &[u8], big_endian: bool, base: usize) -> Result<String, JsonError> {
    if !bytes.len().is_multiple_of(2) {
        let at = base + bytes.len() - 1;
        return Err(JsonError::new(
            JsonErrorKind::InvalidUtf16,
            Span::new(at, at + 1),
        ));
    }
    let units = bytes.chunks_exact(2).map(|c| match c {
        [a, b] if big_endian => u16::from_be_bytes([*a, *b]),
        [a, b] => u16::from_le_bytes([*a, *b]),
        _ => 0,
    });
    let mut out = String::with_capacity(bytes.len() / 2);
    for (i, r) in char::decode_utf16(units).enumerate() {
        match r {
            Ok(c) => out.push(c),
            Err(_) => {
                let at = base + 2 * i;
                return Err(JsonError::new(
                    JsonErrorKind::InvalidUtf16,
                    Span::new(at, at + 2),
                ));
            }
        }
    }
    Ok(out)
}

/// Parses one JSON document with the default depth cap.
pub fn parse(text: &str) -> Result<Json<'_>, JsonError> {
    parse_with_depth(text, DEFAULT_MAX_DEPTH)
}

/// Parses one JSON document; nesting deeper than `max_depth` is an error.
pub fn parse_with_depth(text: &str, max_depth: usize) -> Result<Json<'_>, JsonError> {
    let mut p = Parser {
        src: text,
        bytes: text.as_bytes(),
        pos: 0,
        max_depth,
        member_stack: Vec::new(),
        item_stack: Vec::new(),
    };
    p.skip_ws();
    if p.pos >= p.bytes.len() {
        return Err(JsonError::new(JsonErrorKind::Empty, Span::point(p.pos)));
    }
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos < p.bytes.len() {
        let kind = if p.at_comment() {
            JsonErrorKind::Comment
        } else {
            JsonErrorKind::TrailingContent
        };
        return Err(p.err_here(kind));
    }
    Ok(v)
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    max_depth: usize,
    /// Members of the objects being parsed, innermost last. Each object takes its own
    /// members off the end when it closes, so its `Vec` is allocated once at exact size:
    /// large account dumps hold millions of small objects, and growth slack was a third
    /// of their tree.
    member_stack: Vec<Member<'a>>,
    /// The same for array items.
    item_stack: Vec<Json<'a>>,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn at_comment(&self) -> bool {
        self.peek() == Some(b'/') && matches!(self.bytes.get(self.pos + 1), Some(b'/' | b'*'))
    }

    /// An error on the character at the current position (the whole UTF-8 character).
    fn err_here(&self, kind: JsonErrorKind) -> JsonError {
        let len = self
            .src
            .get(self.pos..)
            .and_then(|s| s.chars().next())
            .map_or(0, char::len_utf8);
        JsonError::new(kind, Span::new(self.pos, self.pos + len))
    }

    fn unexpected(&self, expected: &'static str) -> JsonError {
        match self.peek() {
            None => JsonError::new(
                JsonErrorKind::UnexpectedEnd { expected },
                Span::point(self.pos),
            ),
            Some(b'/') if self.at_comment() => {
                let end = self.comment_end();
                JsonError::new(JsonErrorKind::Comment, Span::new(self.pos, end))
            }
            Some(b'\'') => self.err_here(JsonErrorKind::SingleQuote),
            Some(_) => {
                let found = self
                    .src
                    .get(self.pos..)
                    .and_then(|s| s.chars().next())
                    .unwrap_or('?');
                self.err_here(JsonErrorKind::Unexpected { found, expected })
            }
        }
    }

    fn comment_end(&self) -> usize {
        let rest = self.src.get(self.pos..).unwrap_or("");
        let len = if rest.starts_with("//") {
            rest.find('\n').unwrap_or(rest.len())
        } else {
            rest.find("*/").map_or(rest.len(), |i| i + 2)
        };
        self.pos + len
    }

    fn value(&mut self, depth: usize) -> Result<Json<'a>, JsonError> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => {
                let start = self.pos;
                let s = self.string()?;
                Ok(Json {
                    span: Span::new(start, self.pos),
                    kind: JsonKind::String(s),
                })
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", JsonKind::Bool(true)),
            Some(b'f') => self.literal("false", JsonKind::Bool(false)),
            Some(b'n') => self.literal("null", JsonKind::Null),
            Some(b'+' | b'.') => {
                let end = self.word_end();
                Err(JsonError::new(
                    JsonErrorKind::InvalidNumber,
                    Span::new(self.pos, end),
                ))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let end = self.word_end();
                Err(JsonError::new(
                    JsonErrorKind::InvalidLiteral,
                    Span::new(self.pos, end),
                ))
            }
            _ => Err(self.unexpected("a value")),
        }
    }

    fn word_end(&self) -> usize {
        let mut end = self.pos;
        while let Some(c) = self.bytes.get(end) {
            if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b'+' | b'-' | b'.') {
                end += 1;
            } else {
                break;
            }
        }
        end.max(self.pos + 1)
    }

    fn literal(&mut self, word: &'static str, kind: JsonKind<'a>) -> Result<Json<'a>, JsonError> {
        let end = self.word_end();
        if self.src.get(self.pos..end) == Some(word) {
            let span = Span::new(self.pos, end);
            self.pos = end;
            Ok(Json { span, kind })
        } else {
            Err(JsonError::new(
                JsonErrorKind::InvalidLiteral,
                Span::new(self.pos, end),
            ))
        }
    }

    fn number(&mut self) -> Result<Json<'a>, JsonError> {
        let start = self.pos;
        let bad = |end: usize| JsonError::new(JsonErrorKind::InvalidNumber, Span::new(start, end));
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(bad(self.word_end()));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(bad(self.word_end())),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(bad(self.word_end()));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(bad(self.word_end()));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'.') {
            return Err(bad(self.word_end()));
        }
        Ok(Json {
            span: Span::new(start, self.pos),
            kind: JsonKind::Number(self.src.get(start..self.pos).unwrap_or("0")),
        })
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    /// Parses a string literal at `pos` (which holds `"`); leaves `pos` after the closing quote.
    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        let start = self.pos;
        let unterminated = || {
            JsonError::new(
                JsonErrorKind::UnterminatedString,
                Span::new(start, start + 1),
            )
        };
        self.pos += 1;
        let content_start = self.pos;
        // Fast path: no escapes.
        self.pos += plain_run(self.bytes.get(self.pos..).unwrap_or(&[]));
        match self.peek() {
            None => return Err(unterminated()),
            Some(b'"') => {
                let s = self.src.get(content_start..self.pos).unwrap_or("");
                self.pos += 1;
                return Ok(Cow::Borrowed(s));
            }
            Some(b'\\') => {}
            Some(_) => return Err(self.control_char(start)),
        }
        let mut out = String::from(self.src.get(content_start..self.pos).unwrap_or(""));
        loop {
            match self.peek() {
                None => return Err(unterminated()),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    let esc_start = self.pos;
                    let esc = self.bytes.get(self.pos + 1).copied();
                    self.pos += 2;
                    match esc {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let c = self.unicode_escape(esc_start)?;
                            out.push(c);
                        }
                        _ => {
                            let len = self
                                .src
                                .get(esc_start + 1..)
                                .and_then(|s| s.chars().next())
                                .map_or(0, char::len_utf8);
                            return Err(JsonError::new(
                                JsonErrorKind::InvalidEscape,
                                Span::new(esc_start, esc_start + 1 + len),
                            ));
                        }
                    }
                }
                Some(c) if c < 0x20 => return Err(self.control_char(start)),
                Some(_) => {
                    // Copy the run up to the next quote, backslash or control character at
                    // once (they are ASCII, so the run ends on a character boundary): a policy
                    // embedded as a string is mostly escaped quotes between short runs.
                    let run = self.pos;
                    self.pos += plain_run(self.bytes.get(self.pos..).unwrap_or(&[]));
                    out.push_str(self.src.get(run..self.pos).unwrap_or("\u{fffd}"));
                }
            }
        }
    }

    fn control_char(&self, string_start: usize) -> JsonError {
        // A raw newline usually means the closing quote is missing.
        if self.peek() == Some(b'\n') {
            return JsonError::new(
                JsonErrorKind::UnterminatedString,
                Span::new(string_start, self.pos),
            );
        }
        self.err_here(JsonErrorKind::ControlCharacter)
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.src.get(at..at + 4)?;
        if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(h, 16).ok()
    }

    /// After `\u` (pos is past the `u`): reads 4 hex digits, pairing surrogates.
    fn unicode_escape(&mut self, esc_start: usize) -> Result<char, JsonError> {
        let Some(hi) = self.hex4(self.pos) else {
            return Err(JsonError::new(
                JsonErrorKind::InvalidEscape,
                Span::new(esc_start, (self.pos + 4).min(self.bytes.len())),
            ));
        };
        self.pos += 4;
        if (0xD800..0xDC00).contains(&hi) {
            if self.bytes.get(self.pos) == Some(&b'\\')
                && self.bytes.get(self.pos + 1) == Some(&b'u')
            {
                if let Some(lo) = self.hex4(self.pos + 2) {
                    if (0xDC00..0xE000).contains(&lo) {
                        self.pos += 6;
                        let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        return char::from_u32(c).ok_or_else(|| {
                            JsonError::new(
                                JsonErrorKind::LoneSurrogate,
                                Span::new(esc_start, self.pos),
                            )
                        });
                    }
                }
            }
            return Err(JsonError::new(
                JsonErrorKind::LoneSurrogate,
                Span::new(esc_start, self.pos),
            ));
        }
        if (0xDC00..0xE000).contains(&hi) {
            return Err(JsonError::new(
                JsonErrorKind::LoneSurrogate,
                Span::new(esc_start, self.pos),
            ));
        }
        char::from_u32(hi).ok_or_else(|| {
            JsonError::new(JsonErrorKind::InvalidEscape, Span::new(esc_start, self.pos))
        })
    }

    fn check_depth(&self, depth: usize) -> Result<(), JsonError> {
        if depth > self.max_depth {
            return Err(JsonError::new(
                JsonErrorKind::TooDeep {
                    limit: self.max_depth,
                },
                Span::new(self.pos, self.pos + 1),
            ));
        }
        Ok(())
    }

    /// Opens a container at `pos` (past its opening bracket): where it starts, and whether it
    /// closes at once (`{}`, `[]`, then past the closing bracket).
    fn open_container(&mut self, depth: usize, close: u8) -> Result<(usize, bool), JsonError> {
        self.check_depth(depth)?;
        let start = self.pos;
        self.pos += 1;
        self.skip_ws();
        let empty = self.peek() == Some(close);
        if empty {
            self.pos += 1;
        }
        Ok((start, empty))
    }

    /// After an element of the container opened at `start`: `true` past its closing bracket,
    /// `false` past a comma.
    fn element_end(
        &mut self,
        start: usize,
        (open, close): (char, u8),
        expected: &'static str,
    ) -> Result<bool, JsonError> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(false)
            }
            Some(c) if c == close => {
                self.pos += 1;
                Ok(true)
            }
            None => Err(JsonError::new(
                JsonErrorKind::Unclosed { open },
                Span::new(start, start + 1),
            )),
            _ => Err(self.unexpected(expected)),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json<'a>, JsonError> {
        let (start, empty) = self.open_container(depth, b'}')?;
        let base = self.member_stack.len();
        if empty {
            return Ok(Json {
                span: Span::new(start, self.pos),
                kind: JsonKind::Object(Vec::new()),
            });
        }
        loop {
            self.skip_ws();
            let key_start = self.pos;
            match self.peek() {
                Some(b'"') => {}
                Some(b'}') if self.member_stack.len() > base => {
                    return Err(self.trailing_comma_before(b'}'));
                }
                Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                    let end = self.word_end();
                    return Err(JsonError::new(
                        JsonErrorKind::BareKey,
                        Span::new(self.pos, end),
                    ));
                }
                _ => return Err(self.unexpected("a double-quoted key")),
            }
            let key = self.string()?;
            let key_span = Span::new(key_start, self.pos);
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected("`:` after the key"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth)?;
            self.member_stack.push(Member {
                key,
                key_span,
                value,
            });
            if self.element_end(start, ('{', b'}'), "`,` or `}`")? {
                let members = self.member_stack.drain(base..).collect();
                return Ok(Json {
                    span: Span::new(start, self.pos),
                    kind: JsonKind::Object(members),
                });
            }
        }
    }

    /// Called with `pos` at a closing bracket that directly follows a comma.
    fn trailing_comma_before(&self, _close: u8) -> JsonError {
        let mut i = self.pos;
        while i > 0 {
            i -= 1;
            if self.bytes.get(i) == Some(&b',') {
                return JsonError::new(JsonErrorKind::TrailingComma, Span::new(i, i + 1));
            }
        }
        self.err_here(JsonErrorKind::TrailingComma)
    }

    fn array(&mut self, depth: usize) -> Result<Json<'a>, JsonError> {
        let (start, empty) = self.open_container(depth, b']')?;
        let base = self.item_stack.len();
        if empty {
            return Ok(Json {
                span: Span::new(start, self.pos),
                kind: JsonKind::Array(Vec::new()),
            });
        }
        loop {
            self.skip_ws();
            if self.peek() == Some(b']') && self.item_stack.len() > base {
                return Err(self.trailing_comma_before(b']'));
            }
            let item = self.value(depth)?;
            self.item_stack.push(item);
            if self.element_end(start, ('[', b']'), "`,` or `]`")? {
                let items = self.item_stack.drain(base..).collect();
                return Ok(Json {
                    span: Span::new(start, self.pos),
                    kind: JsonKind::Array(items),
                });
            }
        }
    }
}

/// The length of the run at the start of `bytes` that holds no `"`, no `\\` and no control
/// character (below 0x20): what a string literal copies as it is. Eight bytes at a time, each
/// test exact per byte (no carry crosses a byte): policies are mostly strings.
fn plain_run(bytes: &[u8]) -> usize {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // The high bit of each byte of `x` that is zero.
    let zero = |x: u64| !((x & LOW).wrapping_add(LOW) | x) & HIGH;
    let mut n = 0;
    for word in bytes.chunks_exact(8) {
        let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        // A byte below 0x20: its low seven bits plus 0x60 stay below 0x80, its high bit clear.
        let control = !((w & LOW).wrapping_add(0x6060_6060_6060_6060) | w) & HIGH;
        let hits = zero(w ^ 0x2222_2222_2222_2222) | zero(w ^ 0x5c5c_5c5c_5c5c_5c5c) | control;
        if hits != 0 {
            return n + (hits.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    let tail = bytes.get(n..).unwrap_or(&[]);
    n + tail
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .unwrap_or(tail.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The eight-bytes-at-a-time run ends where a byte-by-byte scan does.
        #[test]
        fn plain_run_stops_where_a_byte_scan_does(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::Just(b'"'),
                    proptest::prelude::Just(b'\\'),
                    0u8..0x20,
                    0x20u8..=0xff,
                    0x20u8..=0xff,
                    0x20u8..=0xff,
                ],
                0..40,
            ),
        ) {
            let naive = bytes
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(bytes.len());
            proptest::prop_assert_eq!(plain_run(&bytes), naive);
        }
    }

    fn kind_of(text: &str) -> JsonErrorKind {
        parse(text).unwrap_err().kind
    }

    #[test]
    fn parses_values_with_spans() {
        let v = parse(r#" {"a": [1, "x\n", true, null], "a": {}} "#).unwrap();
        let m = v.as_object().unwrap();
        assert_eq!(m.len(), 2, "duplicates are kept");
        assert_eq!(m[0].key, "a");
        assert_eq!(m[0].key_span, Span::new(2, 5));
        let arr = m[0].value.as_array().unwrap();
        assert_eq!(arr[0].kind, JsonKind::Number("1"));
        assert_eq!(arr[1].as_str(), Some("x\n"));
        assert_eq!(arr[1].span, Span::new(11, 16));
        // `get` returns the last duplicate.
        assert!(v.get("a").unwrap().as_object().is_some());
    }

    #[test]
    fn rejects_everything_permissive() {
        assert!(matches!(
            kind_of("{\"a\":1,}"),
            JsonErrorKind::TrailingComma
        ));
        assert!(matches!(kind_of("[1,]"), JsonErrorKind::TrailingComma));
        assert!(matches!(
            kind_of("// c\n{}"),
            JsonErrorKind::Unexpected { .. } | JsonErrorKind::Comment
        ));
        assert!(matches!(kind_of("{} // c"), JsonErrorKind::Comment));
        assert!(matches!(kind_of("{/* c */}"), JsonErrorKind::Comment));
        assert!(matches!(kind_of("{'a':1}"), JsonErrorKind::SingleQuote));
        assert!(matches!(kind_of("{a:1}"), JsonErrorKind::BareKey));
        assert!(matches!(kind_of("[01]"), JsonErrorKind::InvalidNumber));
        assert!(matches!(kind_of("[+1]"), JsonErrorKind::InvalidNumber));
        assert!(matches!(kind_of("[NaN]"), JsonErrorKind::InvalidLiteral));
        assert!(matches!(kind_of("[True]"), JsonErrorKind::InvalidLiteral));
        assert!(matches!(kind_of("[\"\\x\"]"), JsonErrorKind::InvalidEscape));
        assert!(matches!(
            kind_of("[\"\\ud800\"]"),
            JsonErrorKind::LoneSurrogate
        ));
        assert!(matches!(
            kind_of("[\"a\tb\"]"),
            JsonErrorKind::ControlCharacter
        ));
        assert!(matches!(kind_of("{} {}"), JsonErrorKind::TrailingContent));
        assert!(matches!(kind_of("   "), JsonErrorKind::Empty));
        assert!(matches!(
            kind_of("{\"a\":1"),
            JsonErrorKind::Unclosed { open: '{' }
        ));
        assert!(matches!(
            kind_of("{\"a\" 1}"),
            JsonErrorKind::Unexpected { .. }
        ));
        assert!(matches!(
            kind_of("\"abc"),
            JsonErrorKind::UnterminatedString
        ));
    }

    #[test]
    fn surrogate_pairs_decode() {
        let v = parse(r#""\ud83d\ude00""#).unwrap();
        assert_eq!(v.as_str(), Some("\u{1F600}"));
    }

    #[test]
    fn depth_is_capped_without_recursing_deeply() {
        let deep = "[".repeat(10_000);
        assert!(matches!(
            kind_of(&deep),
            JsonErrorKind::TooDeep { limit: 64 }
        ));
        let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(parse(&ok).is_ok());
        let too = format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert!(parse(&too).is_err());
    }

    #[test]
    fn decodes_bom_and_utf16() {
        let (t, n) = decode_text(b"\xEF\xBB\xBF{}").unwrap();
        assert_eq!((t.as_ref(), n), ("{}", Some(EncodingNote::Utf8Bom)));
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("{}".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let (t, n) = decode_text(&le).unwrap();
        assert_eq!((t.as_ref(), n), ("{}", Some(EncodingNote::Utf16Le)));
        let bare: Vec<u8> = "{}".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(decode_text(&bare).unwrap().1, Some(EncodingNote::Utf16Le));
        let e = decode_text(b"{\"a\":\"\xff\"}").unwrap_err();
        assert_eq!(e.kind, JsonErrorKind::InvalidUtf8);
        assert_eq!(e.span, Span::new(6, 7));
    }
}
