//! `KMS017` lockout-check-bypassed (spec L017, R113).
//!
//! ## What it does
//! Flags keys declared with the lockout safety check turned off:
//! `bypass_policy_lockout_safety_check = true` on a Terraform `aws_kms_key` (or external,
//! replica or `aws_kms_key_policy` resource) and `BypassPolicyLockoutSafetyCheck: true` on a
//! CloudFormation `AWS::KMS::Key`. The key's policy still gets the lockout analysis (KMS003,
//! KMS004).
//!
//! ## Why is this bad?
//! The safety check is what stops a policy that would lock everyone out of the key. Turned
//! off, one mistake makes the key unmanageable, and only AWS Support can recover it.
//!
//! ## Example
//! ```json
//! {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"BypassPolicyLockoutSafetyCheck": true}}}}
//! ```
//! Use instead:
//! ```json
//! {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": true}}}}
//! ```
//!
//! ## References
//! - AWS KMS API Reference: "PutKeyPolicy" (BypassPolicyLockoutSafetyCheck)
//! - Terraform AWS provider: "aws_kms_key" (bypass_policy_lockout_safety_check)
//! - AWS CloudFormation User Guide: "AWS::KMS::Key" (BypassPolicyLockoutSafetyCheck)

use super::{DeclaredKey, Finding, Rule, Severity};

pub(crate) static RULE: Rule = Rule {
    code: "KMS017",
    name: "lockout-check-bypassed",
    severity: Severity::Warning,
    spec: "L017, R113",
    summary: "the key is declared with the lockout safety check bypassed",
    input_error: false,
};

pub(crate) fn check(cx: &DeclaredKey<'_>, out: &mut Vec<Finding>) {
    let Some(b) = &cx.key.settings.bypass else {
        return;
    };
    out.push(
        Finding::new(&RULE, b.source, b.span, format!("`{}` bypasses the lockout safety check: a policy that locks everyone out of the key will be accepted", cx.key.address), "safety check off")
            .help("remove the bypass; if a policy is rejected without it, fix the policy so the deploying principal keeps kms:PutKeyPolicy"),
    );
}

/// R113: a key policy update with the bypass flag true that declares no key of its own — a
/// `put-key-policy` request (AWS CLI input), or an `aws_kms_key_policy` whose key is not in
/// the plan — reported by the input layer where the flag is written.
pub(crate) fn in_request(
    source: crate::source::SourceId,
    span: crate::source::Span,
    key: Option<&str>,
) -> Finding {
    Finding::new(
        &RULE,
        source,
        span,
        format!(
            "this key policy update{} bypasses the lockout safety check: a policy that locks everyone out of the key will be accepted",
            key.map_or_else(String::new, |k| format!(" for `{k}`"))
        ),
        "safety check off",
    )
    .help("remove the bypass; if the policy is rejected without it, fix the policy so the calling principal keeps kms:PutKeyPolicy")
}
