//! `KMS070` dead-actions (spec R29, R44).
//!
//! ## What it does
//! For each `Allow` statement, finds condition keys that the service reference says are never
//! present in requests for some of the statement's actions — `kms:GrantIsForAWSResource` on
//! `kms:Encrypt`, `kms:Decrypt` or `kms:GenerateDataKey*`, `kms:EncryptionContext:…` on
//! `kms:DescribeKey` — tested with an operator that is false when the key is missing (not
//! `…IfExists`, not a negated operator). It names the actions the statement can therefore
//! never allow. (KMS010 reports the key when none of the statement's actions supports it.)
//! Only actions written out in full count: a wildcard (`kms:*`, `kms:Describe*`) means
//! "whichever of these the condition allows", as in AWS's own CloudWatch Logs key policy.
//!
//! ## Why is this bad?
//! The statement looks like it grants those actions, but every request for them fails the
//! condition: callers get `AccessDenied` with a policy that seems to allow them. Usually the
//! actions belong in a statement of their own, without that condition.
//!
//! ## Example
//! ```json
//! {"Sid": "BadUseAndGrantsTogether", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:CreateGrant"], "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodGrantsForServices", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
//! ```
//!
//! ## References
//! - Service Authorization Reference: "Actions, resources, and condition keys for AWS Key Management Service"
//! - IAM User Guide: "Condition operators" (a missing key and the `…IfExists` operators)

use super::{Finding, LintContext, Rule, Severity};
use crate::catalog;
use crate::policy::{ActionClause, PolicyKind};

pub(crate) static RULE: Rule = Rule {
    code: "KMS070",
    name: "dead-actions",
    severity: Severity::Warning,
    spec: "R29, R44",
    summary: "a condition key never present for some of the statement's actions: those actions can never be allowed by it",
    input_error: false,
};

/// The actions a statement names in full (no wildcard) that the policy can decide: in a key
/// policy, actions on the key that are not IAM-only.
fn named_actions(clause: &ActionClause, kind: PolicyKind) -> catalog::ActionMask {
    let written = clause
        .items
        .iter()
        .filter(|i| i.service == "kms" && !i.raw.contains(['*', '?']))
        .fold(0, |m, i| m | i.kms_mask);
    catalog::actions()
        .iter()
        .enumerate()
        .filter(|(_, a)| a.in_service_reference)
        .filter(|(_, a)| kind != PolicyKind::Key || (a.on_key && !a.iam_only))
        .fold(0, |m, (i, _)| m | (1u128 << i))
        & written
}

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for st in cx.doc.statements.iter().filter(|s| s.is_allow()) {
        let Some(clause) = st.action.as_ref().filter(|a| !a.negated) else {
            continue;
        };
        let actions = named_actions(clause, cx.doc.kind);
        if actions == 0 {
            continue;
        }
        for c in &st.conditions {
            let Some(info) = c.key_info else { continue };
            // Global keys and the key's own properties are judged elsewhere (R44, R45).
            if info.global || info.resource_key || c.when_absent() != Some(false) {
                continue;
            }
            let dead = actions & !info.actions;
            // None dead: nothing to say; all dead: KMS010's finding.
            if dead == 0 || dead == actions {
                continue;
            }
            let names: Vec<String> = (0..catalog::actions().len())
                .filter(|i| dead & (1u128 << i) != 0)
                .filter_map(catalog::action)
                .map(|a| format!("kms:{}", a.name))
                .collect();
            out.push(
                Finding::new(
                    &RULE,
                    cx.doc.source,
                    c.key_span,
                    format!(
                        "`{}` is never present in {} requests: this statement can never allow {}",
                        c.key,
                        names.join(", "),
                        if names.len() == 1 { "it" } else { "them" }
                    ),
                    "never present for some of the actions",
                )
                .in_statement(st)
                .help("move those actions to a statement without this condition, or remove them"),
            );
        }
    }
}
