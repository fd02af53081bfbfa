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
    if text
        .bytes()
        .all(|b| matches!(b, b'\t' | b'\n' | b'\r' | b' '..=b'~'))
    {
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
