//! `KMS059` key-without-policy (spec R117).
//!
//! ## What it does
//! Notes keys that a Terraform plan or CloudFormation template declares without a key policy
//! (and no `aws_kms_key_policy` for them): AWS gives them the default key policy, which
//! delegates everything to the account's IAM policies.
//!
//! ## Why is this bad?
//! Nothing is open, but who can use and manage the key is then decided entirely by IAM
//! policies elsewhere — any identity with `kms:*` on `*` can decrypt with it and schedule its
//! deletion. Most teams want the key policy to say who its administrators and users are.
//!
//! ## Example
//! ```json
//! {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": true}}}}
//! ```
//! Use instead: a `KeyPolicy` naming the account, the key administrators and the key users.
//!
//! ## References
//! - AWS KMS Developer Guide: "Default key policy"
//! - Terraform AWS provider: "aws_kms_key" (policy)

use super::{DeclaredKey, Finding, Rule, Severity};
use crate::model::PlannedPolicy;

pub(crate) static RULE: Rule = Rule {
    code: "KMS059",
    name: "key-without-policy",
    severity: Severity::Info,
    spec: "R117",
    summary: "a key declared without a key policy gets AWS's default: IAM policies alone decide who uses and manages it",
    input_error: false,
};

pub(crate) fn check(cx: &DeclaredKey<'_>, out: &mut Vec<Finding>) {
    if cx.key.policy != PlannedPolicy::Default {
        return;
    }
    let s = &cx.key.settings;
    out.push(
        Finding::new(&RULE, s.source, s.span, format!("`{}` has no key policy: AWS applies the default, so IAM policies alone decide who can use and manage it", cx.key.address), "default key policy")
            .help("declare a key policy that names the key administrators and key users"),
    );
}
