//! `KMS068` identity-key-admin-all-keys (spec R20, R54, R119).
//!
//! ## What it does
//! Flags identity-policy `Allow` statements without conditions that allow key administration —
//! `kms:PutKeyPolicy`, `kms:ScheduleKeyDeletion`, `kms:DisableKey` or
//! `kms:DeleteImportedKeyMaterial`, whether named or through `kms:*`, `kms:Put*`,
//! `kms:Disable*` or `NotAction` — on every key (`"*"` or a `key/*` ARN pattern).
//!
//! ## Why is this bad?
//! Every key whose policy delegates to IAM (the default) can then be taken over (a new key
//! policy) or destroyed (deleted, disabled, its key material removed) by this identity: a
//! workload role's credentials become an administrator's over every key of the account.
//! (KMS055 reports the decrypt half of the same pattern; KMS067 the grant half.)
//!
//! ## Example
//! ```json
//! {"Sid": "BadAllKmsOnAllKeys", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodUseOneKey", "Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], "Resource": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Best practices for IAM policies" (least privilege, specify KMS keys)
//! - AWS KMS Developer Guide: "Default key policy" (allows access to the AWS account and enables IAM policies)

use super::identity_create_grant_all_keys::{allowed_actions, every_key};
use super::{Finding, LintContext, Rule, Severity};
use crate::catalog;
use crate::policy::PolicyKind;

pub(crate) static RULE: Rule = Rule {
    code: "KMS068",
    name: "identity-key-admin-all-keys",
    severity: Severity::Warning,
    spec: "R20, R54, R119",
    summary: "an identity policy allows key administration (PutKeyPolicy, ScheduleKeyDeletion, DisableKey…) on every key, without a condition",
    input_error: false,
};

/// The actions that take a key over or destroy it.
const ADMIN: &[&str] = &[
    "PutKeyPolicy",
    "ScheduleKeyDeletion",
    "DisableKey",
    "DeleteImportedKeyMaterial",
];

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    if cx.doc.kind != PolicyKind::Identity {
        return;
    }
    for st in cx.doc.statements.iter().filter(|s| s.conditions.is_empty()) {
        let allowed = allowed_actions(st);
        let admin: Vec<&str> = ADMIN
            .iter()
            .copied()
            .filter(|a| catalog::action_index(a).is_some_and(|i| allowed & (1u128 << i) != 0))
            .collect();
        if admin.is_empty() {
            continue;
        }
        let Some(rc) = st.resource.as_ref().filter(|r| !r.negated) else {
            continue;
        };
        let named: Vec<String> = admin.iter().map(|a| format!("kms:{a}")).collect();
        for r in rc.items.iter().filter(|r| every_key(&r.raw)) {
            out.push(
                Finding::new(
                    &RULE,
                    cx.doc.source,
                    r.span,
                    format!("`{}` lets this identity call {} on every key whose policy delegates to IAM: it can take over or destroy those keys", r.raw, named.join(", ")),
                    "key administration on every key",
                )
                .in_statement(st)
                .help("give administration of named keys to an administrator role only, or scope the statement with `aws:ResourceTag/…`"),
            );
        }
    }
}
