//! `KMS007` for-all-values-trap (spec L007, R33, R35).
//!
//! ## What it does
//! Flags `ForAllValues:` where it allows more than it seems to: on `kms:EncryptionContext:*` or
//! `aws:RequestTag/*` (KMS refuses such key policies with `OverlyPermissiveCondition`: an
//! error), on any other single-valued key, and on a multivalued key such as
//! `kms:EncryptionContextKeys` in an `Allow` without a guard that the key is present (a `Null`
//! test set to `false`, or a `ForAnyValue:` test on the same key).
//!
//! ## Why is this bad?
//! `ForAllValues:` is true when the request has no values at all. An `Allow` meant as "only
//! these encryption-context keys" therefore also allows requests with no encryption context.
//!
//! ## Example
//! ```json
//! {"Sid": "BadNoGuard", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": "AppName"}}}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodGuarded", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": "AppName"}, "Null": {"kms:EncryptionContextKeys": "false"}}}
//! ```
//!
//! ## References
//! - IAM User Guide: "Single-valued vs. multivalued context keys" (ForAllValues with an empty set)
//! - AWS KMS Developer Guide: "kms:EncryptionContext:context-key" (OverlyPermissiveCondition)
//! - AWS KMS Developer Guide: "kms:EncryptionContextKeys"

use super::{Finding, LintContext, Rule, Severity};
use crate::policy::{BaseOperator, PolicyKind, SetOperator};

pub(crate) static RULE: Rule = Rule {
    code: "KMS007",
    name: "for-all-values-trap",
    severity: Severity::Warning,
    spec: "L007, R33, R35",
    summary: "`ForAllValues:` that is true when the key is absent: on encryption-context or request-tag keys (error), other single-valued keys, or without a presence guard in an Allow",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for st in &cx.doc.statements {
        for c in st
            .conditions
            .iter()
            .filter(|c| c.operator.set == Some(SetOperator::ForAllValues))
        {
            let k = c.key_lower.as_str();
            let rejected =
                k.starts_with("kms:encryptioncontext:") || k.starts_with("aws:requesttag/");
            let single = c.key_info.is_some_and(|i| !i.multivalued) || rejected;
            let guarded = st.conditions.iter().any(|g| {
                g.key_lower == c.key_lower
                    && (g.operator.set == Some(SetOperator::ForAnyValue)
                        || g.operator.base == Some(BaseOperator::Null)
                            && g.values
                                .iter()
                                .all(|v| v.text.eq_ignore_ascii_case("false")))
            });
            let (severity, message, help) = if rejected {
                (
                    if cx.doc.kind == PolicyKind::Key {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    format!(
                        "`ForAllValues:` on `{}`: KMS rejects it (OverlyPermissiveCondition), and it is true when the key is absent",
                        c.key
                    ),
                    format!(
                        "use `{}` without `ForAllValues:` (a single-valued key needs no set operator)",
                        c.operator
                            .raw
                            .split_once(':')
                            .map_or(c.operator.raw.as_str(), |(_, b)| b)
                    ),
                )
            } else if single {
                (
                    Severity::Warning,
                    format!(
                        "`ForAllValues:` on single-valued `{}` is true when the key is absent",
                        c.key
                    ),
                    "drop `ForAllValues:`; a single-valued key needs no set operator".to_owned(),
                )
            } else if st.is_allow() && !guarded {
                (
                    Severity::Warning,
                    format!(
                        "`ForAllValues:` on `{}` is true when the request has no values: this Allow also matches requests without them",
                        c.key
                    ),
                    format!(
                        "add `\"Null\": {{\"{}\": \"false\"}}` so the key must be present",
                        c.key
                    ),
                )
            } else {
                continue;
            };
            let mut f = Finding::new(
                &RULE,
                cx.doc.source,
                c.operator_span,
                message,
                "`ForAllValues:` is vacuously true",
            )
            .label(c.key_span, "this key")
            .in_statement(st)
            .help(help);
            f.severity = severity;
            out.push(f);
        }
    }
}
