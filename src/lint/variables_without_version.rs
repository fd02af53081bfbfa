//! `KMS018` variables-without-version (spec L018, R11).
//!
//! ## What it does
//! Flags `${…}` policy variables in a document whose `Version` is not `2012-10-17`.
//!
//! ## Why is this bad?
//! Without `"Version": "2012-10-17"` AWS reads `${aws:username}` as literal text, so the
//! condition or resource requires that exact string.
//!
//! ## Example
//! ```json
//! {"Sid": "BadLiteralVariable", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:Encrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:user": "${aws:username}"}}}
//! ```
//! Use instead: add `"Version": "2012-10-17"`.
//!
//! ## References
//! - IAM User Guide: "IAM JSON policy elements: Version"
//! - IAM User Guide: "IAM policy elements: Variables and tags"

use super::{Finding, LintContext, Rule, Severity};
use crate::pattern::Pattern;

pub(crate) static RULE: Rule = Rule {
    code: "KMS018",
    name: "variables-without-version",
    severity: Severity::Warning,
    spec: "L018, R11",
    summary: "policy variables in a document without `\"Version\": \"2012-10-17\"` are literal text",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    if cx.doc.version.has_variables() {
        return;
    }
    let has_var = |text: &str| Pattern::parse(text, false, true).0.has_variables();
    for st in &cx.doc.statements {
        let mut spans = Vec::new();
        if let Some(r) = &st.resource {
            spans.extend(r.items.iter().filter(|i| has_var(&i.raw)).map(|i| i.span));
        }
        for c in &st.conditions {
            spans.extend(c.values.iter().filter(|v| has_var(&v.text)).map(|v| v.span));
        }
        for span in spans {
            let mut f = Finding::new(
                &RULE,
                cx.doc.source,
                span,
                "policy variable in a document without `\"Version\": \"2012-10-17\"` is literal text",
                "read literally",
            )
            .in_statement(st)
            .help("add `\"Version\": \"2012-10-17\"` at the top of the policy");
            if let Some(v) = cx.doc.version_span {
                f = f.label(v, "older language version");
            }
            out.push(f);
        }
    }
}
