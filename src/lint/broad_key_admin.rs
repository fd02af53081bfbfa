//! `KMS053` broad-key-admin.
//!
//! ## What it does
//! Asks the engine whether key-administration actions (`kms:PutKeyPolicy`,
//! `kms:ScheduleKeyDeletion`, `kms:DisableKey`, `kms:CreateGrant` without
//! `kms:GrantIsForAWSResource`) are open to every principal of the key's account through the
//! key policy alone — a role of the account that the policy does not name and that has no IAM
//! policies is probed. When `admins` is set in `kmsaudit.toml`, named principals outside that
//! list who can call `kms:PutKeyPolicy` or `kms:ScheduleKeyDeletion` are reported too.
//!
//! ## Why is this bad?
//! Whoever can change the key policy, delete the key or create grants controls every use of the
//! key. `"Principal": "*"` with `kms:CallerAccount` or `aws:PrincipalOrgID` hands that to every
//! identity of an account or organisation, bypassing IAM entirely.
//!
//! ## Example
//! ```json
//! {"Sid": "BadAccountWideAdmin", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": "111122223333"}}}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodNamedAdmin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyAdmin"}, "Action": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"], "Resource": "*"}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Default key policy" (key administrators)
//! - AWS KMS Developer Guide: "Security best practices for AWS KMS" (least privilege)

use super::keys::{KeyLintContext, Reach};
use super::{Finding, Rule, Severity};

pub(crate) static RULE: Rule = Rule {
    code: "KMS053",
    name: "broad-key-admin",
    severity: Severity::Warning,
    spec: "R54, R119",
    summary: "key administration (PutKeyPolicy, ScheduleKeyDeletion, DisableKey, CreateGrant) open to every principal of an account, or to principals outside the configured admins",
    input_error: false,
};

const ADMIN: &[&str] = &[
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:CreateGrant",
];

fn opened(reach: &Reach) -> bool {
    match reach {
        Reach::Yes(_) => true,
        // A grant-creating path that needs an AWS service is the console's key-user statement.
        Reach::Conditional(alts) => alts.iter().any(|a| {
            !a.iter()
                .any(|r| r.key == "kms:grantisforawsresource" || r.key == "kms:viaservice")
        }),
        _ => false,
    }
}

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    if cx.aws_managed() {
        return;
    }
    if let Some(probe) = cx.account_probe() {
        let mut open: Vec<&str> = Vec::new();
        let mut by: Vec<String> = Vec::new();
        let stranger = cx.stranger();
        let iam = cx.allow_all_identity();
        for a in ADMIN {
            // Open to everyone is KMS005's finding.
            let public = stranger
                .as_ref()
                .is_some_and(|s| matches!(cx.allow_reach(s, a, Some(&iam)), Reach::Yes(_)));
            if public {
                continue;
            }
            match cx.allow_reach(&probe, a, Some(&[])) {
                r @ Reach::Yes(_) if opened(&r) => {
                    if let Reach::Yes(ids) = r {
                        by.extend(ids.iter().cloned());
                    }
                    open.push(a);
                }
                Reach::Conditional(alts) if opened(&Reach::Conditional(alts.clone())) => {
                    by.extend(alts.iter().flatten().map(|r| r.statement.clone()));
                    open.push(a);
                }
                _ => {}
            }
        }
        by.sort();
        by.dedup();
        if let Some(st) = by.iter().find_map(|id| cx.statement_named(id)) {
            let span = st.principal.as_ref().map_or(st.span, |p| p.span);
            out.push(
                Finding::new(&RULE, cx.doc().source, span, format!("every principal of {} can call {} through this statement, without any IAM permission", if cx.facts.account == super::keys::UNKNOWN_ACCOUNT { "the key's account".to_owned() } else { format!("account {}", cx.facts.account) }, open.join(", ")), "account-wide key administration")
                    .in_statement(st)
                    .help("name the key administrators (roles) instead of `*`, and give key users only the cryptographic actions"),
            );
        }
    }
    if cx.config.admins.is_empty() {
        return;
    }
    for n in cx.named_callers() {
        let (st, e, arn, caller) = (n.statement, n.entry, n.arn, n.caller);
        {
            if cx.config.admins.iter().any(|a| a == arn) {
                continue;
            }
            let can: Vec<&str> = ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"]
                .into_iter()
                .filter(|a| matches!(cx.allow_reach(&caller, a, Some(&[])), Reach::Yes(_)))
                .collect();
            if can.is_empty() {
                continue;
            }
            out.push(
                Finding::new(&RULE, cx.doc().source, e.span, format!("`{arn}` is not among the configured key administrators but can call {}", can.join(", ")), "not a configured admin")
                    .in_statement(st)
                    .help("remove the administration actions from this principal, or add it to `admins` in kmsaudit.toml"),
            );
        }
    }
}
