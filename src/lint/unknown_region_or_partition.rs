//! `KMS073` unknown-region-or-partition.
//!
//! ## What it does
//! Warns about an ARN in a `Principal`, `NotPrincipal`, `Resource` or `NotResource` whose
//! partition is not an AWS partition (`aws-foo`) or whose Region is not an AWS Region
//! (`eu-wset-1`), with the nearest known name ("did you mean `eu-west-1`?"), and about a known
//! Region written in another partition's ARN (`arn:aws:kms:cn-north-1:…`). A Region this build
//! does not know but that is shaped like one (`eu-south-3`) may be newer than the build: it
//! draws a note (info), not a warning. Wildcards and policy variables are not judged.
//!
//! ## Why is this bad?
//! AWS compares ARNs as text: a key ARN with a misspelt Region or partition names no key, so
//! the statement never applies — an Allow that grants nothing, or a Deny that protects nothing.
//! IAM accepts such a policy without a word. The answers kmsaudit gives are unchanged: the ARN
//! is matched as written, as AWS matches it.
//!
//! ## Example
//! ```json
//! {"Sid": "BadRegionTypo", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:eu-wset-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodRegion", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
//! ```
//!
//! ## References
//! - AWS General Reference: "Amazon Resource Names (ARNs)"
//! - AWS General Reference: "AWS service endpoints" (Regions and partitions)

use super::{Finding, LintContext, Rule, Severity};
use crate::arn::{NameCheck, check_partition, check_region, split_arn};
use crate::policy::{PrincipalType, Statement};
use crate::source::Span;

pub(crate) static RULE: Rule = Rule {
    code: "KMS073",
    name: "unknown-region-or-partition",
    severity: Severity::Warning,
    spec: "-",
    summary: "an ARN whose partition or Region is not an AWS one (`eu-wset-1`, `aws-foo`): it names nothing (info for a Region newer than this build)",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for st in &cx.doc.statements {
        if let Some(p) = &st.principal {
            for e in p.entries.iter().filter(|e| e.ty == PrincipalType::Aws) {
                report(cx, st, &e.value, e.span, out);
            }
        }
        if let Some(r) = &st.resource {
            for item in &r.items {
                report(cx, st, &item.raw, item.span, out);
            }
        }
    }
}

fn report(cx: &LintContext<'_>, st: &Statement, value: &str, span: Span, out: &mut Vec<Finding>) {
    let Some(p) = split_arn(value) else {
        return;
    };
    let partition = check_partition(p.partition);
    let region = check_region(
        p.region,
        (partition == NameCheck::Known).then_some(p.partition),
    );
    let (message, label, help, severity) = match (&partition, &region) {
        (NameCheck::Unknown { suggestion }, _) => (
            format!(
                "`{}` in `{value}` is not an AWS partition: the ARN names nothing",
                p.partition
            ),
            "unknown partition",
            match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("write one of {}", partitions()),
            },
            Severity::Warning,
        ),
        (_, NameCheck::Unknown { suggestion }) => (
            format!(
                "`{}` in `{value}` is not an AWS Region: the ARN names nothing",
                p.region
            ),
            "unknown Region",
            match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => "Regions look like `eu-west-1`".to_owned(),
            },
            Severity::Warning,
        ),
        (_, NameCheck::OtherPartition { partition: home }) => (
            format!(
                "Region `{}` is in partition `{home}`, not `{}`: `{value}` names nothing",
                p.region, p.partition
            ),
            "Region of another partition",
            format!("write `arn:{home}:…` for a resource in `{}`", p.region),
            Severity::Warning,
        ),
        (_, NameCheck::Newer) => (
            format!(
                "`{}` in `{value}` is not a Region this build of kmsaudit knows: taken as a newer Region",
                p.region
            ),
            "unknown Region",
            "if the Region exists, nothing is wrong; otherwise check its spelling".to_owned(),
            Severity::Info,
        ),
        (_, NameCheck::Known) => return,
    };
    let mut f = Finding::new(&RULE, cx.doc.source, span, message, label)
        .in_statement(st)
        .help(help);
    f.severity = severity;
    out.push(f);
}

fn partitions() -> String {
    crate::arn::PARTITIONS
        .iter()
        .map(|(p, _)| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
