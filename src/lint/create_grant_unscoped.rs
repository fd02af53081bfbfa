//! `KMS022` create-grant-unscoped (spec L022, R89, R119).
//!
//! ## What it does
//! For every principal a key-policy `Allow` names (other than the key's own account and key
//! administrators, who can change the policy anyway), asks the engine whether it can call
//! `kms:CreateGrant` directly — not only through an AWS service
//! (`kms:GrantIsForAWSResource`) and not only for grants limited by `kms:GrantOperations` or
//! `kms:GranteePrincipal`. Those conditions count by what they let through: the engine is
//! also asked for a direct grant to a principal of another account, with the values the key
//! user can give (`kms:GrantIsForAWSResource` false, a stranger as `kms:GranteePrincipal`, the
//! operations the policy names), so `StringLike kms:GranteePrincipal "*"` or `Bool
//! kms:GrantIsForAWSResource "false"` do not restrict; the finding shows that request.
//!
//! ## Why is this bad?
//! A key user who can create grants can give any principal, in any account, any operation the
//! grant allows — use of the key escapes the key policy. The console's key-user statement
//! allows `CreateGrant` only with `kms:GrantIsForAWSResource`.
//!
//! ## Example
//! ```json
//! {"Sid": "BadUserGrants", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": ["kms:Decrypt", "kms:CreateGrant"], "Resource": "*"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodServiceGrants", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Default key policy" (Allows key users to use the KMS key with AWS services)
//! - AWS KMS Developer Guide: "kms:GrantIsForAWSResource"
//! - AWS KMS Developer Guide: "Grants in AWS KMS"

use super::adversary::Model;
use super::keys::{KeyLintContext, Reach};
use super::{Finding, Rule, Severity};
use crate::arn::PrincipalClass;

pub(crate) static RULE: Rule = Rule {
    code: "KMS022",
    name: "create-grant-unscoped",
    severity: Severity::Warning,
    spec: "L022, R89, R119",
    summary: "a key user may call kms:CreateGrant directly (without kms:GrantIsForAWSResource): it can delegate use of the key to anyone",
    input_error: false,
};

const GRANT_SCOPES: &[&str] = &[
    "kms:grantisforawsresource",
    "kms:grantoperations",
    "kms:granteeprincipal",
    "kms:viaservice",
];

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    // A set: a policy may name thousands of principals.
    let mut seen: crate::hash::FastSet<&str> = crate::hash::FastSet::default();
    let mut model: Option<Model<'_, '_>> = None;
    for st in cx.doc().statements.iter().filter(|s| s.is_allow()) {
        for e in st.named_principals() {
            let caller = match &e.class {
                PrincipalClass::User { arn, .. }
                | PrincipalClass::Role { arn, .. }
                | PrincipalClass::AssumedRole { arn, .. } => cx.caller(arn),
                PrincipalClass::Account { account, .. } if *account != cx.facts.account => {
                    cx.caller(account)
                }
                _ => None,
            };
            let Some(caller) = caller else { continue };
            if !seen.insert(e.value.as_str()) {
                continue;
            }
            // Administrators can rewrite the policy: their grants are not the finding.
            let admin = matches!(
                cx.reach(&caller, "kms:PutKeyPolicy", Some(&[])),
                Reach::Yes(_) | Reach::Conditional(_)
            );
            if admin {
                continue;
            }
            // What the key policy gives it directly: in the key's account its own IAM policies
            // are the account's business (delegation); another account's principal needs its
            // own IAM too, which that account controls.
            let identity = if caller.account == cx.facts.account {
                Vec::new()
            } else {
                cx.allow_all_identity()
            };
            let open = match cx.reach(&caller, "kms:CreateGrant", Some(&identity)) {
                Reach::Yes(_) => Some(String::new()),
                Reach::Conditional(alts) => alts
                    .iter()
                    .find(|a| !a.iter().any(|r| GRANT_SCOPES.contains(&r.key.as_str())))
                    .map(|a| {
                        let t: Vec<&str> = a.iter().map(|r| r.text.as_str()).collect();
                        format!(" (when {})", t.join(" and "))
                    })
                    // A grant condition restricts by what it lets through (R89): the engine
                    // is asked for a direct grant to a stranger with the values the principal
                    // can give (`kms:GranteePrincipal` `*`, `kms:GrantIsForAWSResource`
                    // only as a non-restricting test…).
                    .or_else(|| {
                        // Every path needs `kms:GrantIsForAWSResource` true, which a direct
                        // call never has (R89): nothing to search.
                        if alts
                            .iter()
                            .all(|a| a.iter().any(|r| needs_aws_resource(cx, r)))
                        {
                            return None;
                        }
                        model
                            .get_or_insert_with(|| Model::new(cx))
                            .direct_grant(&caller, identity)
                            .map(|ce| format!(" (e.g. {})", ce.describe()))
                    }),
                // The requested grant was left open: ask with a direct grant to a stranger.
                Reach::Unknown(_) => model
                    .get_or_insert_with(|| Model::new(cx))
                    .direct_grant(&caller, identity)
                    .map(|ce| format!(" (e.g. {})", ce.describe())),
                Reach::No | Reach::Denied(_) => None,
            };
            let Some(when) = open else { continue };
            out.push(
                Finding::new(&RULE, cx.doc().source, e.span, format!("`{}` can call kms:CreateGrant directly{when}: it can give any principal use of this key", e.value), "may create grants for anyone")
                    .in_statement(st)
                    .help("allow kms:CreateGrant only with `\"Condition\": {\"Bool\": {\"kms:GrantIsForAWSResource\": \"true\"}}`, as the console's key-user statement does"),
            );
        }
    }
}

/// Whether the requirement is a `kms:GrantIsForAWSResource` test that holds only when the key
/// is `true` (`Bool` or `StringEquals`, without `IfExists` or a set operator, every value
/// `true`): a direct `CreateGrant` call, where the key is false, never meets it (R89).
fn needs_aws_resource(cx: &KeyLintContext<'_>, r: &crate::eval::Requirement) -> bool {
    use crate::policy::BaseOperator as B;
    r.key == "kms:grantisforawsresource"
        && cx.statement_named(&r.statement).is_some_and(|st| {
            st.conditions.iter().any(|c| {
                c.key_lower == "kms:grantisforawsresource"
                    && !c.operator.if_exists
                    && c.operator.set.is_none()
                    && matches!(
                        c.operator.base,
                        Some(B::Bool | B::StringEquals | B::StringEqualsIgnoreCase)
                    )
                    && !c.values.is_empty()
                    && c.values.iter().all(|v| v.text.eq_ignore_ascii_case("true"))
            })
        })
}
