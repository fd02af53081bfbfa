//! `KMS072` key-policy-resource-other-service (spec R19, R21).
//!
//! ## What it does
//! Warns about a key-policy `Resource` that is the ARN of another service's resource — an RDS
//! database, an S3 bucket, an IAM role — rather than `"*"` or a KMS key ARN.
//!
//! ## Why is this bad?
//! A key policy decides requests on its own key only, and a key's ARN is never an RDS or S3
//! ARN: that `Resource` never matches, so whatever the statement was meant to allow (or deny)
//! never happens. It is usually a policy written for the other service's resource and pasted
//! into the key policy, or an intent ("only for this bucket") that belongs in a condition such
//! as `kms:EncryptionContext:aws:s3:arn` or `kms:ViaService`.
//!
//! ## Example
//! ```json
//! {"Sid": "BadBucketArn", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "arn:aws:s3:::example-bucket/*"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodBucketContext", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"ArnLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::example-bucket/*"}}}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Key policies in AWS KMS" (Resource)
//! - AWS KMS Developer Guide: "Encryption context" (kms:EncryptionContext:aws:s3:arn)

use super::{Finding, LintContext, Rule, Severity};
use crate::policy::PolicyKind;

pub(crate) static RULE: Rule = Rule {
    code: "KMS072",
    name: "key-policy-resource-other-service",
    severity: Severity::Warning,
    spec: "R19, R21",
    summary: "a key-policy `Resource` that is another service's ARN (RDS, S3…): it never matches the key, so the statement never applies to it",
    input_error: false,
};

/// The service a key-policy `Resource` names, when it is a full ARN of a service other than
/// KMS (no wildcard in the service part).
pub(crate) fn other_service(raw: &str) -> Option<&str> {
    let p = crate::arn::split_arn(raw)?;
    (!p.service.eq_ignore_ascii_case("kms")
        && !p.service.is_empty()
        && !p.service.contains(['*', '?', '$']))
    .then_some(p.service)
}

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    if cx.doc.kind != PolicyKind::Key {
        return;
    }
    for st in &cx.doc.statements {
        let Some(r) = st.resource.as_ref().filter(|r| !r.negated) else {
            continue;
        };
        for item in &r.items {
            let Some(service) = other_service(&item.raw) else {
                continue;
            };
            let what = if r.items.len() == 1 {
                "the statement never applies to this key"
            } else {
                "this entry never matches this key"
            };
            out.push(
                Finding::new(
                    &RULE,
                    cx.doc.source,
                    item.span,
                    format!("key-policy resource `{}` is an ARN of service `{service}`, never this key's: {what}", item.raw),
                    "not a KMS key ARN",
                )
                .in_statement(st)
                .help("write `\"Resource\": \"*\"` (this key); to limit use to another service's resource, add a condition such as `kms:EncryptionContext:…` or `kms:ViaService`"),
            );
        }
    }
}
