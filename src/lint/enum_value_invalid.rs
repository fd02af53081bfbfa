//! `KMS023` enum-value-invalid (spec L023, R93).
//!
//! ## What it does
//! Checks the values of condition keys that take one of a fixed set of values
//! (`kms:SigningAlgorithm`, `kms:KeySpec`, `kms:GrantOperations`, `kms:EncryptionAlgorithm`…)
//! against the set in the service reference; values with wildcards or variables are skipped.
//!
//! ## Why is this bad?
//! A value outside the set never occurs: an Allow that needs it allows nothing, a Deny that
//! excludes it excludes nothing. Typos such as `RSASSA_PSS_SHA256` (for `RSASSA_PSS_SHA_256`)
//! are easy to miss.
//!
//! ## Example
//! ```json
//! {"Sid": "BadAlgorithm", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Signer"}, "Action": "kms:Sign", "Resource": "*", "Condition": {"StringEquals": {"kms:SigningAlgorithm": "RSASSA_PSS_SHA256"}}}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodAlgorithm", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Signer"}, "Action": "kms:Sign", "Resource": "*", "Condition": {"StringEquals": {"kms:SigningAlgorithm": "RSASSA_PSS_SHA_256"}}}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "AWS KMS condition keys" (valid values of each key)
//! - AWS KMS API Reference: "Sign" (SigningAlgorithm)

use super::{Finding, LintContext, Rule, Severity};
use crate::policy::BaseOperator;

pub(crate) static RULE: Rule = Rule {
    code: "KMS023",
    name: "enum-value-invalid",
    severity: Severity::Warning,
    spec: "L023, R93",
    summary: "a condition value outside the key's valid values (`kms:SigningAlgorithm`, `kms:KeySpec`…): it never matches",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for st in &cx.doc.statements {
        for c in &st.conditions {
            let Some(info) = c.key_info.filter(|i| !i.values.is_empty()) else {
                continue;
            };
            if matches!(c.operator.base, None | Some(BaseOperator::Null)) {
                continue;
            }
            let ignore_case = matches!(
                c.operator.base,
                Some(
                    BaseOperator::StringEqualsIgnoreCase | BaseOperator::StringNotEqualsIgnoreCase
                )
            );
            for v in &c.values {
                let t = v.text.as_str();
                if t.contains(['*', '?']) || t.contains("${") {
                    continue;
                }
                let known = info.values.iter().any(|k| {
                    if ignore_case {
                        k.eq_ignore_ascii_case(t)
                    } else {
                        *k == t
                    }
                });
                if known {
                    continue;
                }
                let near = info
                    .values
                    .iter()
                    .min_by_key(|k| {
                        crate::catalog::edit_distance(
                            &k.to_ascii_lowercase(),
                            &t.to_ascii_lowercase(),
                        )
                    })
                    .map(|k| format!(": did you mean `{k}`?"))
                    .unwrap_or_default();
                out.push(
                    Finding::new(
                        &RULE,
                        cx.doc.source,
                        v.span,
                        format!("`{t}` is not a value `{}` takes{near}", c.key),
                        "never occurs",
                    )
                    .in_statement(st)
                    .help(format!("valid values: {}", info.values.join(", "))),
                );
            }
        }
    }
}
