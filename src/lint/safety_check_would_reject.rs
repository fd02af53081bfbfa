//! `KMS052` safety-check-would-reject (spec R111, R112).
//!
//! ## What it does
//! For each key policy a Terraform plan or CloudFormation template creates or replaces, runs
//! AWS's lockout safety check before deploy: can the deploying principal (`--deployer`, or the
//! plan's `data.aws_caller_identity`) still call `kms:PutKeyPolicy` under the new policy? The
//! deployer's IAM policies come from authorization details among the inputs; without them the
//! answer may hinge on IAM, which is reported as a warning.
//!
//! ## Why is this bad?
//! AWS rejects such a policy (`MalformedPolicyDocumentException`) unless the bypass flag is set
//! — so the apply fails, or, with the bypass, the deployer locks itself out of the key.
//!
//! ## Example
//! ```json
//! {"Sid": "BadOnlyApp", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:*", "Resource": "*"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodRoot", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}
//! ```
//!
//! ## References
//! - AWS KMS API Reference: "PutKeyPolicy", "CreateKey" (BypassPolicyLockoutSafetyCheck)
//! - AWS re:Post Knowledge Center: "MalformedPolicyDocumentException when creating a KMS key"

use super::keys::KeyLintContext;
use super::root_delegation_missing::policy_span;
use super::{Finding, Rule, Severity};
use crate::eval::{Caller, Decision};

pub(crate) static RULE: Rule = Rule {
    code: "KMS052",
    name: "safety-check-would-reject",
    severity: Severity::Error,
    spec: "R111, R112",
    summary: "a key policy a plan deploys would not let the deployer call kms:PutKeyPolicy: AWS rejects it (or, bypassed, locks the deployer out)",
    input_error: false,
};

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    let Some(deployer) = cx.deployer.as_deref() else {
        return;
    };
    let Ok(caller) = Caller::parse(deployer, None) else {
        return;
    };
    let rejected = format!(
        "AWS would reject this key policy from `{deployer}`: it would not let the deployer call kms:PutKeyPolicy afterwards (the lockout safety check)"
    );
    let (severity, message) = match cx.directory.and_then(|d| d.identity_of(&caller)) {
        Some(identity) => match cx
            .probe(&caller, "kms:PutKeyPolicy", Some(&identity))
            .decision
        {
            Decision::Allow => return,
            Decision::ExplicitDeny | Decision::ImplicitDeny => (Severity::Error, rejected),
            Decision::Undetermined => (
                Severity::Warning,
                format!(
                    "whether AWS accepts this key policy from `{deployer}` cannot be judged from the inputs"
                ),
            ),
        },
        // The deployer's IAM policies are not in the inputs: does the key policy alone let it,
        // would any IAM policy, or none?
        None => {
            if cx.probe(&caller, "kms:PutKeyPolicy", Some(&[])).decision == Decision::Allow {
                return;
            }
            match cx
                .probe(&caller, "kms:PutKeyPolicy", Some(&cx.allow_all_identity()))
                .decision
            {
                Decision::ExplicitDeny | Decision::ImplicitDeny => (Severity::Error, rejected),
                Decision::Allow | Decision::Undetermined => (
                    Severity::Warning,
                    format!(
                        "this key policy passes AWS's lockout safety check only if `{deployer}`'s IAM policies allow kms:PutKeyPolicy on the key: they are not in the inputs"
                    ),
                ),
            }
        }
    };
    let mut f = Finding::new(&RULE, cx.doc().source, policy_span(cx), message, "the new key policy")
        .help(format!("let the deployer keep kms:PutKeyPolicy: delegate to the account (`arn:{}:iam::{}:root`) with the deployer's IAM allowing it, or name the deployer's role", cx.facts.partition, cx.facts.account));
    f.severity = severity;
    out.push(f);
}
