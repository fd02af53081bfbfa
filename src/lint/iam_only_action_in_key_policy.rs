//! `KMS012` iam-only-action-in-key-policy (spec L012, R47, R75).
//!
//! ## What it does
//! Flags actions named in a key policy that a key policy cannot control: actions with no key
//! resource (`kms:CreateKey`, `kms:ListKeys`, `kms:ListAliases`, `kms:GenerateRandom`, custom
//! key store operations, `kms:ListRetirableGrants`) and `kms:RetireGrant`.
//!
//! ## Why is this bad?
//! They have no effect there; the author probably expects them to work.
//!
//! ## Example
//! ```json
//! {"Sid": "BadCreateKey", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Admin"}, "Action": "kms:CreateKey", "Resource": "*"}
//! ```
//! Use instead: allow them in an IAM policy.
//!
//! ## References
//! - AWS KMS Developer Guide: "Permissions reference" (Policy type column)
//! - AWS KMS Developer Guide: "Retiring and revoking grants"

use super::{Finding, LintContext, Rule, Severity};
use crate::catalog;
use crate::policy::PolicyKind;

pub(crate) static RULE: Rule = Rule {
    code: "KMS012",
    name: "iam-only-action-in-key-policy",
    severity: Severity::Info,
    spec: "L012, R47, R75",
    summary: "a key policy names an action it cannot control (IAM-only actions, `kms:RetireGrant`)",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    if cx.doc.kind != PolicyKind::Key {
        return;
    }
    for st in &cx.doc.statements {
        let Some(a) = &st.action else { continue };
        if a.negated {
            continue;
        }
        for item in &a.items {
            // Only names written out in full: `kms:List*` in a console policy is not a mistake.
            let Some(name) = item.name.as_literal() else {
                continue;
            };
            if item.service != "kms" {
                continue;
            }
            let Some(info) = catalog::action_index(name).and_then(catalog::action) else {
                continue;
            };
            let why = if info.iam_only {
                "it has no key resource, so only IAM policies control it"
            } else if info.grant_only {
                "who may retire a grant is decided by the grant, not by the key policy"
            } else {
                continue;
            };
            out.push(
                Finding::new(
                    &RULE,
                    cx.doc.source,
                    item.span,
                    format!("`kms:{}` has no effect in a key policy: {why}", info.name),
                    "no effect here",
                )
                .in_statement(st)
                .help(if info.iam_only {
                    "allow it in an IAM policy instead"
                } else {
                    "name a retiring principal on the grant, or allow `kms:RetireGrant` in an IAM policy"
                }),
            );
        }
    }
}
