//! The escaping layer of every output format: whatever a policy, a file name or a template
//! holds, what kmsaudit prints cannot start a new line of its own, move the cursor, retitle a
//! terminal, reorder text, forge a CI workflow command or break the document it is part of.
//!
//! One function per target: [`terminal`] for the human and concise formats (and anything on
//! standard error), [`source_text`] for the snippets of the human format (same length, so the
//! underlines stay in place), [`github_data`] and [`github_property`] for workflow commands,
//! [`xml`] for JUnit, [`uri`] for SARIF, [`mermaid`] and [`dot`] for the graph exports. JSON
//! and SARIF text is escaped by the serialiser.

use std::borrow::Cow;

/// A character that must not reach a terminal or a log as it is: C0 controls (tab aside), DEL,
/// C1 controls, the Unicode bidirectional controls that reorder what a line shows, and the
/// noncharacters U+FFFE and U+FFFF (which no document format accepts).
/// True when every byte is printable ASCII (0x20 to 0x7e), eight bytes at a time.
fn printable_ascii(bytes: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let words = bytes.chunks_exact(8);
    let tail = words.remainder();
    // With no high bit set in `w` nothing carries between bytes: `w + 0x01` sets a byte's
    // high bit only for 0x7f, `w + 0x60` leaves it clear only below 0x20.
    words.into_iter().all(|word| {
        let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        (w | w.wrapping_add(0x0101_0101_0101_0101) | !w.wrapping_add(0x6060_6060_6060_6060)) & HIGH
            == 0
    }) && tail.iter().all(|b| (0x20..0x7f).contains(b))
}

fn is_dangerous(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{a}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{61c}' | '\u{200e}' | '\u{200f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{fffe}' | '\u{ffff}')
        || invisible(c)
}

/// The format characters (Unicode category Cf) that draw nothing: `role/Adm\u{200b}in` must not
/// look like `role/Admin`. Among them the zero-width space, joiners and word joiner, the soft
/// hyphen, the byte-order mark inside text, and the tag characters that can hide a whole
/// string.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{600}'..='\u{605}' | '\u{6dd}' | '\u{70f}' | '\u{890}'..='\u{891}'
        | '\u{8e2}' | '\u{180e}' | '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}'
        | '\u{206a}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}' | '\u{110bd}'
        | '\u{110cd}' | '\u{13430}'..='\u{1343f}' | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}' | '\u{e0001}' | '\u{e0020}'..='\u{e007f}')
}

/// Writes `c` as a visible escape: `\n`, `\r`, `\u{1b}`.
fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c => {
            use std::fmt::Write as _;
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
}

/// Copies `s` when `needs` says some character must change, mapping each with `map`.
fn rewrite<'s>(
    s: &'s str,
    needs: impl Fn(char) -> bool,
    map: impl Fn(&mut String, char),
) -> Cow<'s, str> {
    if !s.chars().any(&needs) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if needs(c) {
            map(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One field of one line (a message, a path, a Sid) for a terminal or a log: every control
/// character, line breaks included, and every bidi control becomes a visible escape.
pub(crate) fn terminal(s: &str) -> Cow<'_, str> {
    // Printable ASCII holds nothing dangerous: a byte scan settles the common case (a batch
    // escapes four fields of each of its 100,000 lines).
    if printable_ascii(s.as_bytes()) {
        return Cow::Borrowed(s);
    }
    rewrite(s, is_dangerous, push_escaped)
}

/// Text of several lines that kmsaudit joined itself (a help with notes): line feeds stay,
/// everything else [`terminal`] escapes is escaped.
pub(crate) fn terminal_lines(s: &str) -> Cow<'_, str> {
    rewrite(s, |c| c != '\n' && is_dangerous(c), push_escaped)
}

/// A source file's text for a snippet: line breaks (`\n`, `\r\n`) and tabs stay; every other
/// dangerous character becomes a harmless one of the same UTF-8 length (`?`, `¿` or `�`), so
/// byte offsets, and the underlines drawn from them, do not move.
pub(crate) fn source_text(s: &str) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    let lone_cr = |i: usize| bytes.get(i + 1) != Some(&b'\n');
    let needs = s
        .char_indices()
        .any(|(i, c)| is_dangerous(c) && !(c == '\n' || (c == '\r' && !lone_cr(i))));
    if !needs {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        if c == '\n' || (c == '\r' && !lone_cr(i)) || !is_dangerous(c) {
            out.push(c);
        } else {
            out.push(match c.len_utf8() {
                1 => '?',
                2 => '\u{bf}',
                _ => '\u{fffd}',
            });
        }
    }
    Cow::Owned(out)
}

/// The message of a GitHub workflow command: `%`, CR and LF percent-encoded as GitHub's runner
/// decodes them (a multi-line annotation stays one command); other controls escaped visibly.
pub(crate) fn github_data(s: &str) -> Cow<'_, str> {
    rewrite(
        s,
        |c| c == '%' || is_dangerous(c),
        |out, c| match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => push_escaped(out, c),
        },
    )
}

/// A property of a GitHub workflow command (`file=`, `title=`): as [`github_data`], and `:` and
/// `,`, which end a property, percent-encoded too.
pub(crate) fn github_property(s: &str) -> Cow<'_, str> {
    rewrite(
        s,
        |c| matches!(c, '%' | ':' | ',') || is_dangerous(c),
        |out, c| match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            c => push_escaped(out, c),
        },
    )
}

/// Whether XML 1.0 allows `c` in a document at all.
fn xml_allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// Text or an attribute value of an XML document: markup characters as entities, characters
/// XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF) as U+FFFD.
pub(crate) fn xml(s: &str) -> Cow<'_, str> {
    rewrite(
        s,
        |c| matches!(c, '&' | '<' | '>' | '"' | '\'') || !xml_allowed(c),
        |out, c| match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push('\u{fffd}'),
        },
    )
}

/// A file name as a SARIF artifact URI reference (RFC 3986): relative paths stay relative (to
/// the checkout) with `/` separators; every byte outside the unreserved set is
/// percent-encoded, so no name can become a scheme, a query, a fragment or a second line.
pub(crate) fn uri(file: &str) -> String {
    let f = file.trim_start_matches("./").replace('\\', "/");
    let mut out = String::with_capacity(f.len());
    for b in f.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            use std::fmt::Write as _;
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A Mermaid label inside `"…"`: controls escaped visibly (a line break cannot start a new
/// statement), then the characters Mermaid reads in a label as entity codes.
pub(crate) fn mermaid(s: &str) -> String {
    let t = terminal(s);
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            c => out.push(c),
        }
    }
    out
}

/// A Graphviz DOT string inside `"…"`: controls escaped visibly, then `\` and `"` escaped.
pub(crate) fn dot(s: &str) -> String {
    let t = terminal(s);
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_scan_agrees_with_the_bytes() {
        // Every byte value at every place of a word and in the tail.
        for b in 0u8..=255 {
            for at in 0..17 {
                let mut v = vec![b'a'; 17];
                if let Some(x) = v.get_mut(at) {
                    *x = b;
                }
                assert_eq!(
                    printable_ascii(&v),
                    (0x20..0x7f).contains(&b),
                    "byte {b:#x} at {at}"
                );
            }
        }
        assert_eq!(
            terminal("arn:aws:kms:us-east-1:1:key/k\u{7f}"),
            "arn:aws:kms:us-east-1:1:key/k\\u{7f}"
        );
    }

    #[test]
    fn terminal_fields_cannot_break_lines_or_send_escapes() {
        assert_eq!(terminal("plain kms:Decrypt"), "plain kms:Decrypt");
        assert_eq!(
            terminal("a\n::error file=x::b\r\u{1b}]0;t\u{7}\u{9b}\u{202e}"),
            "a\\n::error file=x::b\\r\\u{1b}]0;t\\u{7}\\u{9b}\\u{202e}"
        );
        assert_eq!(terminal_lines("one\ntwo\u{1b}"), "one\ntwo\\u{1b}");
    }

    #[test]
    fn invisible_characters_are_shown_not_hidden() {
        // A zero-width space inside a role name, a soft hyphen, a byte-order mark and a
        // tag character: each is written out, so `Adm\u{200b}in` never reads as `Admin`.
        assert_eq!(
            terminal("role/Adm\u{200b}in\u{ad}\u{feff}\u{e0041}"),
            "role/Adm\\u{200b}in\\u{ad}\\u{feff}\\u{e0041}"
        );
        let snippet = source_text("\"Adm\u{200d}in\"");
        assert_eq!(snippet.len(), "\"Adm\u{200d}in\"".len());
        assert!(!snippet.contains('\u{200d}'));
        // Letters of every script stay as they are.
        assert_eq!(terminal("rôle/管理者"), "rôle/管理者");
    }

    #[test]
    fn source_text_keeps_every_offset() {
        let s = "{\"Sid\": \"a\u{1b}[2J\u{85}\u{202e}\"}\r\n\tx\ry";
        let t = source_text(s);
        assert_eq!(t.len(), s.len());
        assert!(!t.chars().any(|c| is_dangerous(c) && c != '\n' && c != '\r'));
        assert!(t.ends_with("}\r\n\tx?y"));
    }

    #[test]
    fn github_commands_and_xml_and_uris() {
        assert_eq!(github_data("50%\n::add-mask::x"), "50%25%0A::add-mask::x");
        assert_eq!(github_property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(xml("<a>\u{fffe}\u{1}&"), "&lt;a&gt;\u{fffd}\u{fffd}&amp;");
        assert_eq!(uri("./dir/a b#?:\n.json"), "dir/a%20b%23%3F%3A%0A.json");
        assert_eq!(mermaid("a\"]\nB"), "a#quot;]\\nB");
        assert_eq!(dot("a\"\\\nb"), "a\\\"\\\\\\\\nb");
    }
}
