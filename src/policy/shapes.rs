//! Known key-policy shapes (spec R121): AWS's SDK default (R117), console default (R118) and
//! AWS managed key policy (R120), recognised by structure — statement sets, ignoring `Sid`,
//! `Id` and order — so reports can say which one a policy is, rules can exempt AWS managed
//! keys (R114) and the engine can tell a customer managed key by its policy (R60).

use crate::arn::PrincipalClass;
use crate::policy::{PolicyDocument, PrincipalType, Statement};

/// What a key policy looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One statement: the key's account, `kms:*` (R117).
    SdkDefault,
    /// The SDK default plus the console's administrator and user statements (R118).
    ConsoleDefault,
    /// The AWS managed key template (R120).
    AwsManaged,
    /// Anything else.
    Custom,
}

impl Shape {}

const ADMIN_ACTIONS: &[&str] = &[
    "kms:create*",
    "kms:describe*",
    "kms:enable*",
    "kms:list*",
    "kms:put*",
    "kms:update*",
    "kms:revoke*",
    "kms:disable*",
    "kms:get*",
    "kms:delete*",
    "kms:tagresource",
    "kms:untagresource",
    "kms:schedulekeydeletion",
    "kms:cancelkeydeletion",
    "kms:importkeymaterial",
    "kms:replicatekey",
    "kms:updateprimaryregion",
    "kms:rotatekeyondemand",
];
const USER_ACTIONS: &[&str] = &[
    "kms:encrypt",
    "kms:decrypt",
    "kms:reencrypt*",
    "kms:generatedatakey*",
    "kms:describekey",
    "kms:generatemac",
    "kms:verifymac",
    "kms:getpublickey",
    "kms:sign",
    "kms:verify",
];
const GRANT_ACTIONS: &[&str] = &["kms:creategrant", "kms:listgrants", "kms:revokegrant"];
const MANAGED_READ_ACTIONS: &[&str] =
    &["kms:describe*", "kms:get*", "kms:list*", "kms:revokegrant"];

fn actions_within(st: &Statement, allowed: &[&str]) -> bool {
    st.action.as_ref().is_some_and(|a| {
        !a.negated
            && !a.items.is_empty()
            && a.items
                .iter()
                .all(|i| allowed.iter().any(|a| a.eq_ignore_ascii_case(&i.raw)))
    })
}

fn plain_allow(st: &Statement) -> bool {
    st.is_allow()
        && st.resource.as_ref().is_some_and(|r| {
            !r.negated && r.items.len() == 1 && r.items.iter().all(|i| i.is_star())
        })
        && st.principal.as_ref().is_some_and(|p| !p.negated)
}

fn only_account(st: &Statement, account: &str) -> bool {
    st.principal.as_ref().is_some_and(|p| {
        !p.entries.is_empty()
            && p.entries.iter().all(
                |e| matches!(&e.class, PrincipalClass::Account { account: a, .. } if a == account),
            )
    })
}

fn root_statement(st: &Statement, account: &str) -> bool {
    plain_allow(st)
        && st.conditions.is_empty()
        && only_account(st, account)
        && st.action.as_ref().is_some_and(|a| {
            !a.negated && a.items.len() == 1 && a.items.iter().all(|i| i.raw == "kms:*")
        })
}

fn aws_principals(st: &Statement) -> bool {
    st.principal.as_ref().is_some_and(|p| {
        !p.entries.is_empty() && p.entries.iter().all(|e| e.ty == PrincipalType::Aws)
    })
}

/// Labels a key policy whose key belongs to `account`.
pub fn label(doc: &PolicyDocument, account: &str) -> Shape {
    let sts = &doc.statements;
    if sts.len() == 1 && sts.iter().all(|s| root_statement(s, account)) {
        return Shape::SdkDefault;
    }
    let managed_use = |st: &Statement| {
        plain_allow(st)
            && st.principal.as_ref().is_some_and(|p| {
                p.entries.len() == 1 && p.entries.iter().all(|e| e.class == PrincipalClass::Any)
            })
            && st.conditions.len() == 2
            && st.conditions.iter().all(|c| {
                c.operator.raw == "StringEquals"
                    && (c.key_lower == "kms:viaservice"
                        || (c.key_lower == "kms:calleraccount"
                            && c.values.iter().all(|v| v.text == account)))
            })
    };
    let managed_read = |st: &Statement| {
        plain_allow(st)
            && st.conditions.is_empty()
            && only_account(st, account)
            && actions_within(st, MANAGED_READ_ACTIONS)
    };
    if sts.len() == 2 && sts.iter().any(|s| managed_use(s)) && sts.iter().any(|s| managed_read(s)) {
        return Shape::AwsManaged;
    }
    let console_extra = |st: &Statement| {
        plain_allow(st)
            && aws_principals(st)
            && (st.conditions.is_empty()
                && (actions_within(st, ADMIN_ACTIONS) || actions_within(st, USER_ACTIONS))
                || st.conditions.len() == 1
                    && st.conditions.iter().all(|c| {
                        c.key_lower == "kms:grantisforawsresource"
                            && c.values.iter().all(|v| v.text == "true")
                    })
                    && actions_within(st, GRANT_ACTIONS))
    };
    if sts.len() > 1
        && sts.iter().filter(|s| root_statement(s, account)).count() == 1
        && sts
            .iter()
            .all(|s| root_statement(s, account) || console_extra(s))
    {
        return Shape::ConsoleDefault;
    }
    Shape::Custom
}
