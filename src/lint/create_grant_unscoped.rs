//! `KMS022` create-grant-unscoped (spec L022, R89, R119).
//!
//! ## What it does
//! For every principal a key-policy `Allow` names (other than the key's own account and key
//! administrators, who can change the policy anyway), asks the engine whether it can call
//! `kms:CreateGrant` directly — not only through an AWS service
//! (`kms:GrantIsForAWSResource`) and not only for grants limited by `kms:GrantOperations` or
//! `kms:GranteePrincipal`.
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

use super::keys::{KeyLintContext, Reach};
use super::{Finding, Rule, Severity};
use crate::arn::PrincipalClass;
use crate::eval::Caller;

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
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for st in cx.doc().statements.iter().filter(|s| s.is_allow()) {
        let Some(pc) = st.principal.as_ref().filter(|p| !p.negated) else {
            continue;
        };
        for e in &pc.entries {
            let caller = match &e.class {
                PrincipalClass::User { arn, .. }
                | PrincipalClass::Role { arn, .. }
                | PrincipalClass::AssumedRole { arn, .. } => Caller::parse(arn, None).ok(),
                PrincipalClass::Account { account, .. } if *account != cx.facts.account => {
                    Caller::parse(account, None).ok()
                }
                _ => None,
            };
            let Some(caller) = caller else { continue };
            if !seen.insert(e.value.as_str()) {
                continue;
            }
            // Administrators can rewrite the policy: their grants are not the finding.
            let admin = matches!(
                cx.reach(caller.clone(), "kms:PutKeyPolicy", Some(Vec::new())),
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
            let open = match cx.reach(caller, "kms:CreateGrant", Some(identity)) {
                Reach::Yes(_) => Some(String::new()),
                Reach::Conditional(alts) => alts
                    .iter()
                    .find(|a| !a.iter().any(|r| GRANT_SCOPES.contains(&r.key.as_str())))
                    .map(|a| {
                        let t: Vec<&str> = a.iter().map(|r| r.text.as_str()).collect();
                        format!(" (when {})", t.join(" and "))
                    }),
                _ => None,
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
