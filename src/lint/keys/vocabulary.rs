//! The words the key-level rules share: the condition keys that scope a request to its owner or
//! guard a service's request, the key actions probed, and requirement alternatives as text.

use crate::catalog;
use crate::eval::Requirement;

/// Condition keys that tie a service principal's request to one resource or account: the
/// confused-deputy guards (R105, L030). Encryption-context keys that name the calling resource
/// (`kms:EncryptionContext:aws:cloudtrail:arn`, `…:aws:logs:arn`) count, as AWS documents them
/// for this purpose.
pub(crate) fn deputy_guard(key: &str) -> bool {
    matches!(
        key,
        "aws:sourceaccount" | "aws:sourcearn" | "aws:sourceorgid" | "aws:sourceorgpaths"
    ) || key
        .strip_prefix("kms:encryptioncontext:aws:")
        .is_some_and(|rest| rest.ends_with(":arn") || rest.ends_with(":sourcearn"))
}

/// Key-resource actions a key policy can allow (not IAM-only ones). Alias operations (which
/// also need an alias) and `RetireGrant` (decided by the grant, R75) are not single-key
/// questions and are left out.
pub(crate) fn key_actions() -> impl Iterator<Item = &'static catalog::ActionInfo> {
    const NOT_PROBED: &[&str] = &["CreateAlias", "DeleteAlias", "UpdateAlias", "RetireGrant"];
    catalog::actions()
        .iter()
        .filter(|a| a.on_key && !a.iam_only && a.in_service_reference)
        .filter(|a| !NOT_PROBED.contains(&a.name))
}

/// Joins requirement alternatives into one sentence: "`a` is `x` and `b` is `y`, or …".
pub(crate) fn residual_text(alts: &[Vec<Requirement>]) -> String {
    let parts: Vec<String> = alts
        .iter()
        .map(|a| {
            a.iter()
                .map(|r| r.text.as_str())
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .collect();
    parts.join(", or ")
}

/// `kms:Name` for the catalogue action `name`.
pub(crate) fn prefixed_name(name: &str) -> Option<&'static str> {
    catalog::action_index(name).and_then(catalog::prefixed)
}
