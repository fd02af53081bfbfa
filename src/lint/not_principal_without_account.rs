//! `KMS027` not-principal-without-account (spec L027, R26).
//!
//! ## What it does
//! Flags a `Deny` with `NotPrincipal` that lists users, roles or sessions without also listing
//! their account (`arn:aws:iam::<account>:root`).
//!
//! ## Why is this bad?
//! AWS excludes a caller from such a Deny only when the caller's account is listed too. Without
//! it, the principals meant to be exempt are denied — often the key's administrators. (A
//! principal with a permissions boundary is never exempt, whatever the list says.)
//!
//! ## Example
//! ```json
//! {"Sid": "BadNoAccount", "Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:role/Break"}, "Action": "kms:*", "Resource": "*"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodWithAccount", "Effect": "Deny", "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:role/Break"]}, "Action": "kms:*", "Resource": "*"}
//! ```
//!
//! ## References
//! - IAM User Guide: "AWS JSON policy elements: NotPrincipal" (using NotPrincipal with Deny)

use super::{Finding, LintContext, Rule, Severity};
use crate::arn::PrincipalClass;

pub(crate) static RULE: Rule = Rule {
    code: "KMS027",
    name: "not-principal-without-account",
    severity: Severity::Warning,
    spec: "L027, R26",
    summary: "a Deny with `NotPrincipal` lists principals without their account: they are denied anyway",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for st in cx.doc.statements.iter().filter(|s| s.is_deny()) {
        let Some(pc) = st.principal.as_ref().filter(|p| p.negated) else {
            continue;
        };
        let accounts: crate::hash::FastSet<&str> = pc
            .entries
            .iter()
            .filter_map(|e| match &e.class {
                PrincipalClass::Account { account, .. } => Some(account.as_str()),
                _ => None,
            })
            .collect();
        for e in &pc.entries {
            let needs = matches!(
                e.class,
                PrincipalClass::User { .. }
                    | PrincipalClass::Role { .. }
                    | PrincipalClass::AssumedRole { .. }
                    | PrincipalClass::FederatedUser { .. }
            );
            let Some(account) = e.class.account().filter(|_| needs) else {
                continue;
            };
            if accounts.contains(account) {
                continue;
            }
            out.push(
                Finding::new(&RULE, cx.doc.source, e.span, format!("`{}` is not exempt from this Deny: its account `arn:aws:iam::{account}:root` is not listed in `NotPrincipal`", e.value), "denied despite `NotPrincipal`")
                    .in_statement(st)
                    .help(format!("add `arn:aws:iam::{account}:root` to `NotPrincipal` (or use `Principal: \"*\"` with an `ArnNotEquals` condition on `aws:PrincipalArn`)")),
            );
        }
    }
}
