//! `KMS020` permissive-allow-construct (spec L020, R18, R30).
//!
//! ## What it does
//! Notes, in `Allow` statements, the constructs that allow more than they seem to: `NotAction`
//! and `NotResource` (everything except the list), an `…IfExists` operator (true when the key
//! is absent) and a negated operator (`StringNotEquals`, `ArnNotLike`…: true for every other
//! value, and for an absent key).
//!
//! ## Why is this bad?
//! Each is sometimes right, but each widens the statement to requests nobody listed: a new KMS
//! action, a request that lacks the key, a value nobody thought of. Reviewers should see them.
//!
//! ## Example
//! ```json
//! {"Sid": "BadIfExists", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEqualsIfExists": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodExact", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}
//! ```
//!
//! ## References
//! - IAM User Guide: "IAM JSON policy elements: NotAction"
//! - IAM User Guide: "IAM JSON policy elements: Condition operators" (…IfExists, negated operators)

use super::{Finding, LintContext, Rule, Severity};

pub(crate) static RULE: Rule = Rule {
    code: "KMS020",
    name: "permissive-allow-construct",
    severity: Severity::Info,
    spec: "L020, R18, R30",
    summary: "`NotAction`, `NotResource`, `…IfExists` or a negated operator in an `Allow` (may allow more than intended)",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for st in cx.doc.statements.iter().filter(|s| s.is_allow()) {
        let mut push = |span, message: String, label: &str, help: &str| {
            out.push(
                Finding::new(&RULE, cx.doc.source, span, message, label)
                    .in_statement(st)
                    .help(help.to_owned()),
            );
        };
        if let Some(a) = st.action.as_ref().filter(|a| a.negated) {
            push(
                a.key_span,
                "`NotAction` in an `Allow` allows every action not listed, including new ones"
                    .into(),
                "everything except…",
                "list the actions to allow in `Action`",
            );
        }
        if let Some(r) = st.resource.as_ref().filter(|r| r.negated) {
            push(
                r.key_span,
                "`NotResource` in an `Allow` allows every resource not listed".into(),
                "everything except…",
                "list the resources to allow in `Resource`",
            );
        }
        for c in &st.conditions {
            if c.operator.if_exists {
                push(
                    c.operator_span,
                    format!(
                        "`{}` is true when `{}` is absent from the request",
                        c.operator.raw, c.key
                    ),
                    "true when absent",
                    "drop `IfExists` unless requests without the key should be allowed",
                );
            } else if c.operator.base.is_some_and(|b| b.is_negated()) {
                push(
                    c.operator_span,
                    format!(
                        "`{}` allows every other value of `{}`, and requests without it",
                        c.operator.raw, c.key
                    ),
                    "negated test",
                    "allow the expected values with a positive operator instead",
                );
            }
        }
    }
}
