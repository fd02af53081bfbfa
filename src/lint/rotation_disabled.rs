//! `KMS057` rotation-disabled.
//!
//! ## What it does
//! Flags symmetric encryption keys with AWS-generated key material that a Terraform plan or
//! CloudFormation template declares without automatic rotation (`enable_key_rotation`,
//! `EnableKeyRotation`; both default to off). Keys that cannot rotate automatically — HMAC,
//! asymmetric, imported key material, custom key stores, replicas (rotation follows the
//! primary) — are skipped.
//!
//! ## Why is this bad?
//! Rotation limits how much data one key version protects and is required by most compliance
//! baselines; for these keys AWS does it for free, without re-encrypting anything.
//!
//! ## Example
//! ```json
//! {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": false}}}}
//! ```
//! Use instead:
//! ```json
//! {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": true}}}}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Rotate AWS KMS keys" (automatic key rotation; keys that support it)
//! - Terraform AWS provider: "aws_kms_key" (enable_key_rotation)

use super::{DeclaredKey, Finding, Rule, Severity};

pub(crate) static RULE: Rule = Rule {
    code: "KMS057",
    name: "rotation-disabled",
    severity: Severity::Info,
    spec: "R4 (key spec, origin)",
    summary: "a symmetric customer managed key is declared without automatic rotation",
    input_error: false,
};

pub(crate) fn check(cx: &DeclaredKey<'_>, out: &mut Vec<Finding>) {
    let s = &cx.key.settings;
    let symmetric = s
        .key_spec
        .as_deref()
        .is_none_or(|k| k == "SYMMETRIC_DEFAULT")
        && s.key_usage
            .as_deref()
            .is_none_or(|u| u == "ENCRYPT_DECRYPT");
    let generated = s.origin.as_deref().is_none_or(|o| o == "AWS_KMS");
    if !symmetric || !generated || s.replica || s.rotation.as_ref().is_some_and(|r| r.value) {
        return;
    }
    let (source, span, how) = match &s.rotation {
        Some(r) => (r.source, r.span, "turns automatic rotation off"),
        None => (
            s.source,
            s.span,
            "does not turn on automatic rotation (it is off by default)",
        ),
    };
    out.push(
        Finding::new(&RULE, source, span, format!("`{}` {how}", cx.key.address), "no automatic rotation")
            .help("set `enable_key_rotation = true` (Terraform) or `EnableKeyRotation: true` (CloudFormation)"),
    );
}
