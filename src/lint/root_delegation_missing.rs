//! `KMS001` root-delegation-missing (spec L001, R54, R63, R109).
//!
//! ## What it does
//! Asks the engine whether any principal of the key's own account can use the key through its
//! IAM policies: a role of the account that the key policy does not name, whose IAM policies
//! allow everything, is probed for every key action. When none is allowed, the key policy does
//! not delegate to the account.
//!
//! ## Why is this bad?
//! Without a statement for the account (`arn:aws:iam::<account>:root`), IAM policies in the
//! account have no effect on the key: "I added `kms:Decrypt` to my IAM policy and still get
//! AccessDenied". And only the principals the policy names can ever manage it: if they are
//! deleted, the key becomes unmanageable and only AWS Support can recover it.
//!
//! ## Example
//! ```json
//! {"Sid": "BadOnlyApp", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:*", "Resource": "*"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodEnableIam", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Default key policy" (Allows access to the AWS account and enables IAM policies)
//! - AWS KMS Developer Guide: "Troubleshooting key access"

use super::keys::KeyLintContext;
use super::keys::Reach;
use super::{Finding, Rule, Severity};
use crate::source::Span;

pub(crate) static RULE: Rule = Rule {
    code: "KMS001",
    name: "root-delegation-missing",
    severity: Severity::Warning,
    spec: "L001, R54, R63, R109",
    summary: "no statement delegates to the key's own account: IAM policies have no effect on the key",
    input_error: false,
};

/// Where a whole-policy finding points: the opening bracket of the `Statement` array, else of
/// the document (the whole array would underline every statement).
pub(crate) fn policy_span(cx: &KeyLintContext<'_>) -> Span {
    let doc = cx.doc();
    let start = doc.statement_span.unwrap_or(doc.span).start as usize;
    Span::new(start, start + 1)
}

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    if cx.aws_managed() {
        return; // R114: AWS sets the policy of its managed keys.
    }
    let Some(probe) = cx.account_probe() else {
        return;
    };
    let iam = cx.allow_all_identity();
    // Allowed or undetermined, as the partial-delegation rule asks it (the same probes).
    let delegated = super::keys::key_actions().any(|a| {
        super::keys::prefixed_name(a.name).is_none_or(|action| {
            matches!(
                cx.reach(&probe, action, Some(&iam)),
                Reach::Yes(_) | Reach::Conditional(_) | Reach::Unknown(_)
            )
        })
    });
    if delegated {
        return;
    }
    let account = &cx.facts.account;
    let inferred = if cx.account_known {
        String::new()
    } else {
        " (assumed from the principals; `--account` sets it)".into()
    };
    let whom = if !cx.account_known && account == crate::lint::keys::UNKNOWN_ACCOUNT {
        "the key's account (give `--account` to name it)".to_owned()
    } else {
        format!("account {account}{inferred}")
    };
    out.push(
        Finding::new(
            &RULE,
            cx.doc().source,
            policy_span(cx),
            format!(
                "no statement delegates to {whom}: IAM policies in the account have no effect on this key"
            ),
            "no statement for the key's own account",
        )
        .help(format!(
            "add the root delegation statement `{{\"Sid\": \"Enable IAM User Permissions\", \"Effect\": \"Allow\", \"Principal\": {{\"AWS\": \"arn:{}:iam::{account}:root\"}}, \"Action\": \"kms:*\", \"Resource\": \"*\"}}`, or accept that only the principals named here can use and manage the key",
            cx.facts.partition
        )),
    );
}
