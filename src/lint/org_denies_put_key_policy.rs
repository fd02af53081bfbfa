//! `KMS064` org-denies-put-key-policy (spec R110 step 4, R50).
//!
//! ## What it does
//! With an AWS Organizations tree among the inputs, asks the engine whether the SCPs or RCPs
//! above the key's account deny `kms:PutKeyPolicy` to the account's root user — the one
//! principal the key policy's root delegation always keeps. Reported as a note: an organisation
//! administrator can lift it.
//!
//! ## Why is this bad?
//! It may be exactly the guard wanted, but while it holds nobody in the account can change the
//! key policy — not even to repair it — and the key's manageability depends on someone outside
//! the account.
//!
//! ## Example
//! An SCP attached to the key account's OU:
//! ```json
//! {"Version": "2012-10-17", "Statement": [{"Sid": "BadFreezeKeyPolicies", "Effect": "Deny", "Action": "kms:PutKeyPolicy", "Resource": "*"}]}
//! ```
//! Use instead: exempt the key administrators' role:
//! ```json
//! {"Version": "2012-10-17", "Statement": [{"Sid": "GoodFreezeExceptAdmins", "Effect": "Deny", "Action": "kms:PutKeyPolicy", "Resource": "*", "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/KeyAdmin"}}}]}
//! ```
//!
//! ## References
//! - AWS Organizations User Guide: "Service control policies (SCPs)"
//! - AWS Organizations User Guide: "Resource control policies (RCPs)"

use super::keys::KeyLintContext;
use super::root_delegation_missing::policy_span;
use super::{Finding, Rule, Severity};
use crate::eval::Decision;

pub(crate) static RULE: Rule = Rule {
    code: "KMS064",
    name: "org-denies-put-key-policy",
    severity: Severity::Info,
    spec: "R110, R50",
    summary: "an SCP or RCP above the key's account denies kms:PutKeyPolicy (reversible only at the organisation)",
    input_error: false,
};

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    if cx.aws_managed() {
        return;
    }
    let Some(ev) = cx.probe_org("kms:PutKeyPolicy") else {
        return;
    };
    if ev.decision != Decision::ExplicitDeny {
        return;
    }
    let by: Vec<String> = ev
        .checks
        .iter()
        .flat_map(|c| c.deciding.iter())
        .filter(|id| !id.starts_with(super::keys::KEY_POLICY))
        .cloned()
        .collect();
    if by.is_empty() {
        return; // A Deny in the key policy itself is KMS004's.
    }
    out.push(
        Finding::new(
            &RULE,
            cx.doc().source,
            policy_span(cx),
            format!(
                "the organisation denies kms:PutKeyPolicy in account {} ({}): nobody in the account can change this key policy until it is lifted",
                cx.facts.account,
                by.join(", ")
            ),
            "denied by the organisation",
        )
        .help("exempt the key administrators' role in the SCP/RCP, or make sure an organisation administrator can lift it when the key policy must change"),
    );
}
