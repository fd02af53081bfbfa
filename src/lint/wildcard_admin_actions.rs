//! `KMS024` wildcard-admin-actions (spec L024, R119).
//!
//! ## What it does
//! In key-policy `Allow` statements that do not make their principals key administrators (they
//! do not cover `kms:PutKeyPolicy`), expands each wildcard action against the service
//! reference and lists the management actions it includes: `kms:Create*` includes
//! `CreateGrant` and `CreateAlias`, `kms:Get*` includes `GetKeyPolicy`, `kms:Delete*` includes
//! `DeleteImportedKeyMaterial`, `kms:Update*` includes `UpdatePrimaryRegion`…
//!
//! ## Why is this bad?
//! Wildcards copied from the console's administrator statement give key users more than they
//! need — `CreateGrant` lets them hand the key to anyone.
//!
//! ## Example
//! ```json
//! {"Sid": "BadUserWildcards", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": ["kms:Decrypt", "kms:Get*", "kms:Create*"], "Resource": "*"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodUserActions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Default key policy" (Allows key administrators to administer the KMS key)
//! - AWS KMS Developer Guide: "Permissions reference"

use super::{Finding, LintContext, Rule, Severity};
use crate::catalog;
use crate::policy::PolicyKind;

pub(crate) static RULE: Rule = Rule {
    code: "KMS024",
    name: "wildcard-admin-actions",
    severity: Severity::Info,
    spec: "L024, R119",
    summary: "an action wildcard gives non-administrators management actions (`kms:Create*` includes CreateGrant, `kms:Get*` GetKeyPolicy…)",
    input_error: false,
};

/// Actions that change or reveal who has access, or destroy the key.
const MANAGEMENT: &[&str] = &[
    "CreateGrant",
    "CreateAlias",
    "UpdateAlias",
    "DeleteAlias",
    "GetKeyPolicy",
    "PutKeyPolicy",
    "ScheduleKeyDeletion",
    "DisableKey",
    "DisableKeyRotation",
    "RevokeGrant",
    "TagResource",
    "UntagResource",
    "ImportKeyMaterial",
    "DeleteImportedKeyMaterial",
    "UpdatePrimaryRegion",
    "ReplicateKey",
    "UpdateKeyDescription",
    "EnableKey",
    "CancelKeyDeletion",
    "RotateKeyOnDemand",
];

fn bit(name: &str) -> u128 {
    catalog::action_index(name).map_or(0, |i| 1u128 << i)
}

/// Each management action with its catalogue bit, looked up once per run.
fn management() -> &'static [(&'static str, u128)] {
    static BITS: std::sync::OnceLock<Vec<(&'static str, u128)>> = std::sync::OnceLock::new();
    BITS.get_or_init(|| MANAGEMENT.iter().map(|m| (*m, bit(m))).collect())
}

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    if cx.doc.kind != PolicyKind::Key {
        return;
    }
    let put = management()
        .iter()
        .find(|(m, _)| *m == "PutKeyPolicy")
        .map_or(0, |(_, b)| *b);
    for st in cx.doc.statements.iter().filter(|s| s.is_allow()) {
        let Some(ac) = st.action.as_ref().filter(|a| !a.negated) else {
            continue;
        };
        if ac.kms_mask & put != 0 {
            continue; // An administrator statement.
        }
        // A statement for whole accounts delegates to their IAM policies, which decide.
        let accounts_only = st.principal.as_ref().is_some_and(|p| {
            !p.entries.is_empty()
                && p.entries
                    .iter()
                    .all(|e| matches!(e.class, crate::arn::PrincipalClass::Account { .. }))
        });
        if accounts_only {
            continue;
        }
        for item in ac.items.iter().filter(|i| i.raw.contains(['*', '?'])) {
            let included: Vec<&str> = management()
                .iter()
                .filter(|(_, b)| item.kms_mask & b != 0)
                .map(|(m, _)| *m)
                .collect();
            if included.is_empty() {
                continue;
            }
            let list: Vec<String> = included.iter().map(|m| format!("kms:{m}")).collect();
            out.push(
                Finding::new(
                    &RULE,
                    cx.doc.source,
                    item.span,
                    format!("`{}` includes {}", item.raw, list.join(", ")),
                    "expands to management actions",
                )
                .in_statement(st)
                .help("list the actions the principals need instead of a wildcard"),
            );
        }
    }
}
