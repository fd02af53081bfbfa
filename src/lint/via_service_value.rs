//! `KMS009` via-service-value (spec L009, R82).
//!
//! ## What it does
//! Checks every `kms:ViaService` value: it must look like `<service>.<region>.amazonaws.com`
//! (wildcards allowed), name a service that calls KMS on a principal's behalf (unknown ones
//! are info), and — in a key policy whose key's Region is known — name that Region, since an
//! integrated service only uses keys in its own Region.
//!
//! ## Why is this bad?
//! A value that never occurs never matches: an Allow scoped by it allows nothing, and a Deny
//! that carves it out denies everything. The common slips are a missing Region
//! (`s3.amazonaws.com`), the wrong Region and `ebs` for EBS (which is `ec2`).
//!
//! ## Example
//! ```json
//! {"Sid": "BadNoRegion", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "s3.amazonaws.com"}}}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodViaS3", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "kms:ViaService" (value format and supported services)

use super::keys::KeyLintContext;
use super::{Finding, LintContext, Rule, Severity};
use crate::policy::{Condition, PolicyDocument};

pub(crate) static RULE: Rule = Rule {
    code: "KMS009",
    name: "via-service-value",
    severity: Severity::Warning,
    spec: "L009, R82",
    summary: "a `kms:ViaService` value that is malformed, names another Region than the key's, or an unknown service (info)",
    input_error: false,
};

fn part_ok(p: &str) -> bool {
    !p.is_empty()
        && p.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '*' || c == '?'
        })
}

fn via_conditions(
    doc: &PolicyDocument,
) -> impl Iterator<Item = (&crate::policy::Statement, &Condition)> {
    doc.statements.iter().flat_map(|st| {
        st.conditions
            .iter()
            .filter(|c| c.key_lower == "kms:viaservice")
            .map(move |c| (&**st, c))
    })
}

/// Format and service: every document.
pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for (st, c) in via_conditions(cx.doc) {
        for v in &c.values {
            let t = v.text.as_str();
            if t.contains("${") || t == "*" {
                continue;
            }
            let parts: Vec<&str> = t.split('.').collect();
            let well_formed = t.ends_with(".amazonaws.com")
                && parts.len() == 4
                && parts.iter().take(2).all(|p| part_ok(p));
            if !well_formed {
                out.push(
                    Finding::new(&RULE, cx.doc.source, v.span, format!("`{t}` is not a `kms:ViaService` value (`<service>.<region>.amazonaws.com`): it never matches"), "malformed service name")
                        .in_statement(st)
                        .help("write the service endpoint with its Region, e.g. `s3.us-east-1.amazonaws.com` (EBS is `ec2.<region>.amazonaws.com`)"),
                );
                continue;
            }
            let service = parts.first().copied().unwrap_or_default();
            if !service.contains(['*', '?'])
                && !crate::catalog::via_service_prefixes().contains(&service)
            {
                let mut f = Finding::new(&RULE, cx.doc.source, v.span, format!("`{service}` is not among the services AWS lists as calling KMS on a principal's behalf"), "unknown service")
                    .in_statement(st)
                    .help("check the service name (EBS and EC2 are `ec2`, Aurora is `rds`); ignore this if the service is newer than kmsaudit's catalogue");
                f.severity = Severity::Info;
                out.push(f);
            }
        }
    }
}

/// The Region: key policies whose key's Region is known.
pub(crate) fn check_key(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    if !cx.region_known {
        return;
    }
    let region = cx.facts.region.as_str();
    for (st, c) in via_conditions(cx.doc()) {
        for v in &c.values {
            let Some(r) = v.text.split('.').nth(1) else {
                continue;
            };
            if v.text.ends_with(".amazonaws.com") && !r.contains(['*', '?', '$']) && r != region {
                out.push(
                    Finding::new(&RULE, cx.doc().source, v.span, format!("`{}` names Region `{r}`, but the key is in `{region}`: services use keys of their own Region, so this never matches", v.text), "another Region")
                        .in_statement(st)
                        .help(format!("use the key's Region: `{}`", v.text.replacen(&format!(".{r}."), &format!(".{region}."), 1))),
                );
            }
        }
    }
}
