//! `KMS055` identity-decrypt-all-keys.
//!
//! ## What it does
//! Flags identity-side `Allow` statements (identity policies, not key policies, where
//! `"Resource": "*"` is normal) that allow `kms:Decrypt` or `kms:ReEncryptFrom` on every key —
//! `"*"` or a key ARN pattern with a wildcard account — with no condition at all.
//!
//! ## Why is this bad?
//! Every key in the account whose policy delegates to IAM (the default) then lets this identity
//! decrypt: one role's credentials open all encrypted data. Name the keys, or scope the
//! statement with `kms:ViaService`, `kms:EncryptionContext:…` or `aws:ResourceTag/…`.
//!
//! ## Example
//! ```json
//! {"Sid": "BadAllKeys", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodOneKey", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Best practices for IAM policies" (specify KMS keys in IAM policies)
//! - AWS KMS Developer Guide: "Using IAM policies with AWS KMS"

use super::{Finding, LintContext, Rule, Severity};
use crate::catalog;
use crate::policy::PolicyKind;

pub(crate) static RULE: Rule = Rule {
    code: "KMS055",
    name: "identity-decrypt-all-keys",
    severity: Severity::Warning,
    spec: "R20, R54",
    summary: "an identity policy allows kms:Decrypt (or ReEncryptFrom) on every key, without a condition",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    if !matches!(cx.doc.kind, PolicyKind::Identity) {
        return;
    }
    let decrypt: u128 = ["Decrypt", "ReEncryptFrom"]
        .iter()
        .filter_map(|n| catalog::action_index(n))
        .fold(0, |m, i| m | 1u128 << i);
    for st in cx
        .doc
        .statements
        .iter()
        .filter(|s| s.is_allow() && s.conditions.is_empty())
    {
        let (Some(ac), Some(rc)) = (st.action.as_ref(), st.resource.as_ref()) else {
            continue;
        };
        let mask = if ac.negated {
            !ac.kms_mask & catalog::all_actions_mask()
        } else {
            ac.kms_mask
        };
        if mask & decrypt == 0 || rc.negated {
            continue;
        }
        let every_key = |raw: &str| {
            raw == "*"
                || crate::arn::split_arn(raw).is_some_and(|p| {
                    (p.service == "kms" || p.service == "*")
                        && p.account.contains('*')
                        && (p.resource == "*"
                            || p.resource.starts_with("key/*")
                            || p.resource == "key*")
                })
        };
        for r in rc.items.iter().filter(|r| every_key(&r.raw)) {
            out.push(
                Finding::new(&RULE, cx.doc.source, r.span, format!("`{}` lets this identity decrypt with every key whose policy delegates to IAM", r.raw), "every key")
                    .in_statement(st)
                    .help("name the key ARNs, or add a condition such as `kms:ViaService`, `kms:EncryptionContext:…` or `aws:ResourceTag/…`"),
            );
        }
    }
}
