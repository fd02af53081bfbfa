//! `KMS021` network-deny-without-carve-out (spec L021, R103).
//!
//! ## What it does
//! Flags `Deny` statements keyed on the caller's network (`aws:SourceIp`, `aws:SourceVpc`,
//! `aws:SourceVpce`, `aws:VpcSourceIp`) that have no carve-out for AWS services acting for the
//! principal (`aws:ViaAWSService`, `aws:PrincipalIsAWSService`, `kms:ViaService`,
//! `aws:CalledVia`).
//!
//! ## Why is this bad?
//! When S3, EBS or another service calls KMS for the principal, the request comes from the
//! service's network, not the principal's: the Deny fires and encrypted volumes, objects and
//! snapshots stop working.
//!
//! ## Example
//! ```json
//! {"Sid": "BadOfficeOnly", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodOfficeOrService", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}, "Bool": {"aws:ViaAWSService": "false"}}}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "AWS global condition keys" (aws:SourceIp and VPC endpoint caveats)
//! - IAM User Guide: "AWS global condition context keys" (aws:ViaAWSService)

use super::{Finding, LintContext, Rule, Severity};

pub(crate) static RULE: Rule = Rule {
    code: "KMS021",
    name: "network-deny-without-carve-out",
    severity: Severity::Warning,
    spec: "L021, R103",
    summary: "a Deny on `aws:SourceIp`/`aws:SourceVpc(e)` without a carve-out for AWS services acting for the principal",
    input_error: false,
};

const NETWORK: &[&str] = &[
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:vpcsourceip",
];
const CARVE_OUT: &[&str] = &[
    "aws:viaawsservice",
    "aws:principalisawsservice",
    "kms:viaservice",
    "aws:calledvia",
    "aws:calledviafirst",
    "aws:calledvialast",
];

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for st in cx.doc.statements.iter().filter(|s| s.is_deny()) {
        if st
            .conditions
            .iter()
            .any(|c| CARVE_OUT.contains(&c.key_lower.as_str()))
        {
            continue;
        }
        for c in st
            .conditions
            .iter()
            .filter(|c| NETWORK.contains(&c.key_lower.as_str()))
        {
            out.push(
                Finding::new(&RULE, cx.doc.source, c.key_span, format!("this Deny on `{}` also fires when an AWS service uses the key for the principal (the request comes from the service's network)", c.key), "network condition without service carve-out")
                    .in_statement(st)
                    .help("add `\"Bool\": {\"aws:ViaAWSService\": \"false\"}` so the Deny applies only to direct calls"),
            );
        }
    }
}
