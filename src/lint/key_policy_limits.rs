//! `KMS043` key-policy-limits (spec R12).
//!
//! ## What it does
//! Flags key policies over 32 768 bytes and key policies with characters KMS does not accept
//! (anything but printable ASCII, printable Latin-1, tab, LF and CR).
//!
//! ## Why is this bad?
//! `PutKeyPolicy` and `CreateKey` reject them, so the change will fail at apply time.
//!
//! ## Example
//! A `Sid` containing an emoji.
//!
//! Use instead: a `Sid` of letters and digits, and a policy under 32 KB (split long principal
//! lists into roles or grants).
//!
//! ## References
//! - AWS KMS Developer Guide: "Quotas" (key policy document size)
//! - AWS KMS API Reference: "PutKeyPolicy" (Policy)

use super::{Finding, LintContext, Rule, Severity};
use crate::policy::PolicyKind;
use crate::source::Span;

pub(crate) static RULE: Rule = Rule {
    code: "KMS043",
    name: "key-policy-limits",
    severity: Severity::Error,
    spec: "R12",
    summary: "a key policy over 32 KB or with characters KMS rejects",
    input_error: false,
};

const MAX_KEY_POLICY_BYTES: usize = 32_768;

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    if cx.doc.kind != PolicyKind::Key {
        return;
    }
    let text = cx.source.slice(cx.doc.span);
    if text.len() > MAX_KEY_POLICY_BYTES {
        let head = Span::new(cx.doc.span.start as usize, cx.doc.span.start as usize + 1);
        out.push(
            Finding::new(&RULE, cx.doc.source, head, format!("key policy is {} bytes, over the 32768-byte limit", text.len()), "policy starts here")
                .help("shorten the policy: merge statements, or move per-principal access into grants or IAM policies"),
        );
    }
    // Almost every policy is printable ASCII: a byte test settles it without decoding.
    if plain_text(text.as_bytes()) {
        return;
    }
    let base = cx.doc.span.start as usize;
    for (i, c) in text.char_indices() {
        let ok = matches!(c, '\t' | '\n' | '\r')
            || (' '..='~').contains(&c)
            || ('\u{a0}'..='\u{ff}').contains(&c);
        if !ok {
            let at = base + i;
            out.push(
                Finding::new(
                    &RULE,
                    cx.doc.source,
                    Span::new(at, at + c.len_utf8()),
                    format!(
                        "key policies may not contain `{}` (U+{:04X})",
                        c.escape_debug(),
                        c as u32
                    ),
                    "character KMS rejects",
                )
                .help("use printable ASCII or Latin-1 characters only"),
            );
            break;
        }
    }
}

/// Whether every byte is printable ASCII, a tab or a line break, eight bytes at a time.
fn plain_text(bytes: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // The high bit of each byte of `x` that is zero (exact per byte: no carry crosses one).
    let zero = |x: u64| !((x & LOW).wrapping_add(LOW) | x) & HIGH;
    let words = bytes.chunks_exact(8);
    let tail = words.remainder();
    words.into_iter().all(|word| {
        let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        // Below 0x20 (low seven bits plus 0x60 stay under 0x80), DEL, or a high bit.
        let control = !((w & LOW).wrapping_add(0x6060_6060_6060_6060) | w) & HIGH;
        let other = zero(w ^ (0x7f * ONES)) | (w & HIGH);
        let spacing = zero(w ^ (0x09 * ONES)) | zero(w ^ (0x0a * ONES)) | zero(w ^ (0x0d * ONES));
        (control & !spacing) | other == 0
    }) && tail
        .iter()
        .all(|b| matches!(b, b'\t' | b'\n' | b'\r' | b' '..=b'~'))
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// The word test agrees with a byte test.
        #[test]
        fn plain_text_agrees_with_a_byte_test(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![1 => 0u8..=0xff, 2 => proptest::sample::select(vec![b'\t', b'\n', b'\r', 0x7f, 0x1f, 0x20, 0x7e, 0x80]), 12 => 0x20u8..0x7f],
                0..40,
            ),
        ) {
            let naive = bytes
                .iter()
                .all(|b| matches!(b, b'\t' | b'\n' | b'\r' | b' '..=b'~'));
            proptest::prop_assert_eq!(super::plain_text(&bytes), naive);
        }
    }

    #[test]
    fn a_policy_with_tabs_and_line_breaks_is_plain_text() {
        assert!(super::plain_text(
            b"{\r\n\t\"Version\": \"2012-10-17\",\n  \"Id\": \"key-default-1\"}"
        ));
        assert!(!super::plain_text(b"{\"Sid\": \"caf\xc3\xa9 \x7f\"}"));
        assert!(!super::plain_text(b"0123456\x0b"));
    }
}
