//! `KMS026` alias-in-identity-resource (spec L026, R22).
//!
//! ## What it does
//! Flags alias ARNs (`arn:aws:kms:…:alias/name`) in the `Resource` of identity-side policies
//! (identity, boundary, session, SCP, RCP, VPC endpoint) whose statement allows or denies key
//! operations such as `kms:Decrypt`.
//!
//! ## Why is this bad?
//! A key operation is authorized against the key's ARN, never against an alias: the statement
//! does not apply to the key behind the alias. Alias ARNs are meaningful only for the alias
//! operations (`CreateAlias`, `UpdateAlias`, `DeleteAlias`).
//!
//! ## Example
//! ```json
//! {"Sid": "BadAliasResource", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:111122223333:alias/finance-key"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodRequestAlias", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:111122223333:key/*", "Condition": {"StringEquals": {"kms:RequestAlias": "alias/finance-key"}}}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Using IAM policies with AWS KMS" (specifying KMS keys in IAM policy statements)
//! - AWS KMS Developer Guide: "Using aliases to control access to KMS keys"

use super::{Finding, LintContext, Rule, Severity};
use crate::catalog;
use crate::policy::PolicyKind;

pub(crate) static RULE: Rule = Rule {
    code: "KMS026",
    name: "alias-in-identity-resource",
    severity: Severity::Warning,
    spec: "L026, R22",
    summary: "an IAM `Resource` names a key by its alias ARN: it never matches key operations",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    if cx.doc.kind == PolicyKind::Key {
        return;
    }
    let alias_ops: u128 = ["CreateAlias", "UpdateAlias", "DeleteAlias"]
        .iter()
        .filter_map(|n| catalog::action_index(n))
        .fold(0, |m, i| m | 1u128 << i);
    let key_ops: u128 = catalog::actions()
        .iter()
        .enumerate()
        .filter(|(_, a)| a.on_key)
        .fold(0, |m, (i, _)| m | 1u128 << i)
        & !alias_ops;
    for st in &cx.doc.statements {
        let (Some(ac), Some(rc)) = (st.action.as_ref(), st.resource.as_ref()) else {
            continue;
        };
        if ac.negated || rc.negated || ac.kms_mask & key_ops == 0 {
            continue;
        }
        for r in rc
            .items
            .iter()
            .filter(|r| r.raw.starts_with("arn:") && r.raw.contains(":alias/"))
        {
            out.push(
                Finding::new(&RULE, cx.doc.source, r.span, format!("`{}` is an alias ARN: key operations are authorized against the key's ARN, so it never matches them", r.raw), "alias, not key")
                    .in_statement(st)
                    .help("name the key ARN, or use `arn:aws:kms:<region>:<account>:key/*` with a `kms:RequestAlias` or `kms:ResourceAliases` condition"),
            );
        }
    }
}
