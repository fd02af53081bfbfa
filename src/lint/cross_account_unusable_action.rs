//! `KMS015` cross-account-unusable-action (spec L015, R52).
//!
//! ## What it does
//! For each principal of another account that a key-policy `Allow` names, lists the actions
//! the statement gives it that AWS never allows across accounts (`kms:PutKeyPolicy`,
//! `kms:ScheduleKeyDeletion`, `kms:CreateAlias`, `kms:EnableKey`…), as the engine's step 5
//! refuses them.
//!
//! ## Why is this bad?
//! Nothing is exposed, but the statement promises access that can never be used: usually
//! a copy of an administrator statement given to a partner account, which deserves a look.
//!
//! ## Example
//! ```json
//! {"Sid": "BadPartnerAdmin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": ["kms:Decrypt", "kms:ScheduleKeyDeletion"], "Resource": "*"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodPartnerUse", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:Decrypt", "Resource": "*"}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Allowing users in other accounts to use a KMS key"
//! - AWS KMS Developer Guide: "Permissions reference" (Cross-account use column)

use super::keys::KeyLintContext;
use super::{Finding, Rule, Severity};
use crate::catalog::{self, CrossAccount};
use crate::diag::kms_action_list;

pub(crate) static RULE: Rule = Rule {
    code: "KMS015",
    name: "cross-account-unusable-action",
    severity: Severity::Info,
    spec: "L015, R52",
    summary: "an external principal is allowed actions that never work across accounts",
    input_error: false,
};

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    if !cx.account_known {
        return; // Which principals are external is only a guess.
    }
    for st in cx.doc().statements.iter().filter(|s| s.is_allow()) {
        let (Some(pc), Some(ac)) = (st.principal.as_ref(), st.action.as_ref()) else {
            continue;
        };
        if pc.negated {
            continue;
        }
        let mask = if ac.negated {
            !ac.kms_mask & catalog::all_actions_mask()
        } else {
            ac.kms_mask
        };
        let never: Vec<&str> = catalog::actions()
            .iter()
            .enumerate()
            .filter(|(i, a)| {
                a.cross_account == CrossAccount::No && !a.iam_only && mask & (1u128 << i) != 0
            })
            .map(|(_, a)| a.name)
            .collect();
        if never.is_empty() {
            continue;
        }
        for e in pc
            .entries
            .iter()
            .filter(|e| e.class.account().is_some_and(|a| a != cx.facts.account))
        {
            out.push(
                Finding::new(
                    &RULE,
                    cx.doc().source,
                    e.span,
                    format!(
                        "`{}` is in another account: {} never work across accounts",
                        e.value,
                        kms_action_list(&never, 5)
                    ),
                    "external principal",
                )
                .in_statement(st)
                .help(
                    "give external accounts only the cryptographic and grant actions they can use",
                ),
            );
        }
    }
}
