//! `KMS025` duplicate-key (spec L025, R16).
//!
//! ## What it does
//! Flags a key written twice in one JSON object of a policy, such as two `StringEquals` blocks
//! in one `Condition`.
//!
//! ## Why is this bad?
//! Only one of them counts (kmsaudit, like most JSON parsers, keeps the last; what AWS does is
//! not documented), so conditions the author wrote are silently dropped.
//!
//! ## Example
//! ```json
//! {"Sid": "BadDuplicate", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": "111122223333"}, "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}
//! ```
//! Use instead: one `StringEquals` block holding both keys.
//!
//! ## References
//! - IAM User Guide: "Grammar of the IAM JSON policy language" (duplicate keys)
//! - RFC 8259, section 4 (names within an object should be unique)

use super::{Finding, LintContext, Rule, Severity};

pub(crate) static RULE: Rule = Rule {
    code: "KMS025",
    name: "duplicate-key",
    severity: Severity::Warning,
    spec: "L025, R16",
    summary: "a key written twice in one JSON object: only the last one counts",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for d in &cx.doc.duplicate_keys {
        out.push(
            Finding::new(
                &RULE,
                cx.doc.source,
                d.first,
                format!("duplicate key `{}`: this occurrence is ignored", d.key),
                "ignored",
            )
            .label(d.last, "this later one is used")
            .help("merge the two into one entry; only the last occurrence of a key counts"),
        );
    }
}
