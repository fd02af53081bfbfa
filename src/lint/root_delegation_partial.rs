//! `KMS002` root-delegation-partial (spec L002, R54, R63).
//!
//! ## What it does
//! When the key policy delegates to the key's own account, asks the engine, for every key
//! action, whether a role of the account whose IAM policies allow everything may perform it.
//! Reports the actions the account's IAM policies cannot grant, and those they can grant only
//! under conditions.
//!
//! ## Why is this bad?
//! A partial or conditional delegation is often deliberate, but it surprises whoever manages
//! IAM: an identity policy that allows the action has no effect on this key, or only when the
//! conditions hold. Reviewers want it spelled out.
//!
//! ## Example
//! ```json
//! {"Sid": "BadPartialRoot", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": ["kms:Describe*", "kms:PutKeyPolicy"], "Resource": "*"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodFullRoot", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Default key policy" (Allows access to the AWS account and enables IAM policies)
//! - AWS KMS Developer Guide: "Using IAM policies with AWS KMS"

use super::keys::{KeyLintContext, Reach, key_actions, residual_text};
use super::{Finding, Rule, Severity};
use crate::arn::PrincipalClass;
use crate::diag::name_list;

pub(crate) static RULE: Rule = Rule {
    code: "KMS002",
    name: "root-delegation-partial",
    severity: Severity::Info,
    spec: "L002, R54, R63",
    summary: "the delegation to the key's own account is partial or conditional (lists the actions and conditions)",
    input_error: false,
};

/// Up to eight actions as `` `kms:Name` ``, then how many more.
fn list(names: &[&str]) -> String {
    name_list(names, 8, |n| format!("`kms:{n}`"))
}

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    if cx.aws_managed() {
        return; // R114
    }
    // The delegation statement: an Allow naming the key's own account.
    let Some((st, entry)) = cx.doc().statements.iter().filter(|s| s.is_allow()).find_map(|s| {
        let pc = s.principal.as_ref().filter(|p| !p.negated)?;
        pc.entries
            .iter()
            .find(|e| matches!(&e.class, PrincipalClass::Account { account, .. } if *account == cx.facts.account))
            .map(|e| (s, e))
    }) else {
        return;
    };
    // The common full delegation — `kms:*` (or every key action) on `*`, no condition, and no
    // Deny or unreadable statement anywhere in the policy — allows every key action to a role
    // whose IAM allows it (R46 step 6b): nothing is partial, and the per-action sweep below
    // would find exactly that.
    static ALL_KEY_ACTIONS: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    let all_key_actions = *ALL_KEY_ACTIONS.get_or_init(|| {
        key_actions().fold(0u128, |m, a| {
            m | crate::catalog::action_index(a.name).map_or(0, |i| 1u128 << i)
        })
    });
    let full = st.conditions.is_empty()
        && st
            .action
            .as_ref()
            .is_some_and(|a| !a.negated && a.kms_mask & all_key_actions == all_key_actions)
        && st
            .resource
            .as_ref()
            .is_some_and(|r| !r.negated && r.items.iter().any(|i| i.is_star()))
        && cx
            .doc()
            .statements
            .iter()
            .all(|s| !s.is_deny() && s.broken.is_none() && s.effect.is_some());
    if full {
        return;
    }
    let Some(probe) = cx.account_probe() else {
        return;
    };
    let iam = cx.allow_all_identity();
    let mut missing: Vec<&str> = Vec::new();
    let mut conditional: Vec<(&str, String)> = Vec::new();
    let mut any = false;
    for a in key_actions() {
        let Some(action) = super::keys::prefixed_name(a.name) else {
            continue;
        };
        match cx.reach(&probe, action, Some(&iam)) {
            Reach::Yes(_) => any = true,
            Reach::Conditional(alts) => {
                any = true;
                conditional.push((a.name, residual_text(&alts)));
            }
            Reach::No | Reach::Denied(_) => missing.push(a.name),
            Reach::Unknown(_) => any = true,
        }
    }
    if !any || (missing.is_empty() && conditional.is_empty()) {
        return; // No delegation at all is KMS001's finding.
    }
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("IAM policies cannot grant {}", list(&missing)));
    }
    if let Some((first, cond)) = conditional.first() {
        let names: Vec<&str> = conditional.iter().map(|(n, _)| *n).collect();
        let same = conditional.iter().all(|(_, c)| c == cond);
        parts.push(if same {
            format!("{} only when {cond}", list(&names))
        } else {
            format!(
                "{} only under conditions (e.g. `kms:{first}` when {cond})",
                list(&names)
            )
        });
    }
    out.push(
        Finding::new(
            &RULE,
            cx.doc().source,
            entry.span,
            format!(
                "the delegation to account {} is partial: {}",
                cx.facts.account,
                parts.join("; ")
            ),
            "delegation to the key's own account",
        )
        .in_statement(st)
        .help("if this is deliberate, no action is needed; otherwise delegate `kms:*` to the account and limit access in IAM"),
    );
}
