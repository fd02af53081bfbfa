//! `KMS056` cross-account-unconditioned.
//!
//! ## What it does
//! Lists every principal of another account (not in `trusted_accounts`) that a key-policy
//! `Allow` names without any condition, with the actions it gets.
//!
//! ## Why is this bad?
//! Often it is exactly what was meant — AWS's console adds external accounts this way — but
//! reviewers want to see every account that can use the key, and an unconditioned statement
//! gives that account's administrators the say over which of their identities may.
//!
//! ## Example
//! ```json
//! {"Sid": "BadPartnerAnyUse", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:Decrypt", "Resource": "*"}
//! ```
//! Use instead: scope it, or list the account in `trusted_accounts`:
//! ```json
//! {"Sid": "GoodPartnerViaS3", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Allowing users in other accounts to use a KMS key"

use super::keys::KeyLintContext;
use super::{Finding, Rule, Severity};

pub(crate) static RULE: Rule = Rule {
    code: "KMS056",
    name: "cross-account-unconditioned",
    severity: Severity::Info,
    spec: "R55",
    summary: "another account (not in trusted_accounts) is allowed to use the key without a condition",
    input_error: false,
};

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    if !cx.account_known {
        return;
    }
    for st in cx
        .doc()
        .statements
        .iter()
        .filter(|s| s.is_allow() && s.conditions.is_empty())
    {
        for e in st.named_principals() {
            let Some(a) = e.class.account() else { continue };
            if a == cx.facts.account || cx.config.trusted_accounts.iter().any(|t| t == a) {
                continue;
            }
            out.push(
                Finding::new(&RULE, cx.doc().source, e.span, format!("account {a} (`{}`) can use this key with no condition", e.value), "external account")
                    .in_statement(st)
                    .help("confirm the account should have this access; scope it with conditions or list it in `trusted_accounts`"),
            );
        }
    }
}
