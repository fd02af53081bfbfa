//! `KMS067` identity-create-grant-all-keys (spec R20, R54, R89).
//!
//! ## What it does
//! Flags identity-policy `Allow` statements that allow `kms:CreateGrant` on every key — `"*"`,
//! or a key ARN pattern such as `arn:aws:kms:*:111122223333:key/*` — without a condition that
//! keeps grants to AWS services or named grantees (`kms:GrantIsForAWSResource`,
//! `kms:GranteePrincipal`, `kms:ViaService`) or picks keys by tag or alias
//! (`aws:ResourceTag/…`, `kms:ResourceAliases`).
//!
//! ## Why is this bad?
//! Every key whose policy delegates to IAM (the default) then lets this identity create grants
//! on it, for any grantee in any account and any operation it names: one role's credentials hand
//! out use of every key, and grants outlive the policy change that would have stopped them.
//! (KMS022 reports the same mistake in a key policy.)
//!
//! ## Example
//! ```json
//! {"Sid": "BadGrantsOnAllKeys", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:CreateGrant"], "Resource": "*"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodGrantsForServices", "Effect": "Allow", "Action": "kms:CreateGrant", "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "kms:GrantIsForAWSResource"
//! - AWS KMS Developer Guide: "Best practices for IAM policies"
//! - AWS KMS Developer Guide: "Grants in AWS KMS"

use super::{Finding, LintContext, Rule, Severity};
use crate::catalog;
use crate::policy::{PolicyKind, Statement};

pub(crate) static RULE: Rule = Rule {
    code: "KMS067",
    name: "identity-create-grant-all-keys",
    severity: Severity::Warning,
    spec: "R20, R54, R89",
    summary: "an identity policy allows kms:CreateGrant on every key without kms:GrantIsForAWSResource: it can hand any key it reaches to anyone",
    input_error: false,
};

/// Keys that keep a grant to an AWS service or to named grantees (R89, R91).
const GRANT_SCOPES: &[&str] = &[
    "kms:grantisforawsresource",
    "kms:granteeprincipal",
    "kms:viaservice",
];

/// A condition key that picks keys by their tags or aliases: the statement is then not about
/// every key.
pub(crate) fn scopes_keys(key_lower: &str) -> bool {
    key_lower.starts_with("aws:resourcetag/") || key_lower == "kms:resourcealiases"
}

/// A `Resource` pattern of an identity policy that covers every key of an account or of every
/// account (R20, R21): `*`, or a KMS (or any-service) ARN whose resource part is `*`, `key*` or
/// `key/*`.
pub(crate) fn every_key(raw: &str) -> bool {
    raw == "*"
        || crate::arn::split_arn(raw).is_some_and(|p| {
            (p.service == "kms" || p.service == "*") && matches!(p.resource, "*" | "key*" | "key/*")
        })
}

/// The KMS actions an identity-policy `Allow` statement allows (its `NotAction` taken as the
/// complement), or nothing for other statements.
pub(crate) fn allowed_actions(st: &Statement) -> catalog::ActionMask {
    match st.action.as_ref().filter(|_| st.is_allow()) {
        Some(a) if a.negated => !a.kms_mask & catalog::all_actions_mask(),
        Some(a) => a.kms_mask,
        None => 0,
    }
}

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    if cx.doc.kind != PolicyKind::Identity {
        return;
    }
    let Some(grant) = catalog::action_index("CreateGrant") else {
        return;
    };
    for st in &cx.doc.statements {
        if allowed_actions(st) & (1u128 << grant) == 0
            || st
                .conditions
                .iter()
                .any(|c| GRANT_SCOPES.contains(&c.key_lower.as_str()) || scopes_keys(&c.key_lower))
        {
            continue;
        }
        let Some(rc) = st.resource.as_ref().filter(|r| !r.negated) else {
            continue;
        };
        for r in rc.items.iter().filter(|r| every_key(&r.raw)) {
            out.push(
                Finding::new(
                    &RULE,
                    cx.doc.source,
                    r.span,
                    format!("`{}` lets this identity call kms:CreateGrant on every key whose policy delegates to IAM: it can give any principal, in any account, use of those keys", r.raw),
                    "CreateGrant on every key",
                )
                .in_statement(st)
                .help("add `\"Condition\": {\"Bool\": {\"kms:GrantIsForAWSResource\": \"true\"}}` so only AWS services create grants for it, or name the key ARNs"),
            );
        }
    }
}
