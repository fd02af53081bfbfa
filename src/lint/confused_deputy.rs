//! `KMS030` confused-deputy (spec L030, R59, R105).
//!
//! ## What it does
//! For every service principal an `Allow` names, asks the engine whether the service can use
//! the key, with request keys left open. When it can without any condition that ties the
//! request to your resource or account — `aws:SourceArn`, `aws:SourceAccount`,
//! `aws:SourceOrgID`, or an encryption-context key that names the calling resource
//! (`kms:EncryptionContext:aws:cloudtrail:arn`, `kms:EncryptionContext:aws:logs:arn`) — the
//! service can be made to use the key on behalf of anyone.
//!
//! ## Why is this bad?
//! A service principal acts for every customer of the service. Without a source condition,
//! another account's trail, log group or topic can make the service use your key: the
//! confused-deputy problem.
//!
//! ## Example
//! ```json
//! {"Sid": "BadCloudTrailAnyTrail", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:GenerateDataKey*", "Resource": "*"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodCloudTrailOwnTrail", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:GenerateDataKey*", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/main"}}}
//! ```
//!
//! ## References
//! - IAM User Guide: "The confused deputy problem"
//! - AWS CloudTrail User Guide: "Configure AWS KMS key policies for CloudTrail"
//! - Amazon CloudWatch Logs User Guide: "Encrypt log data in CloudWatch Logs using AWS KMS"

use super::adversary::{Counterexample, Model};
use super::keys::{KeyLintContext, Reach, deputy_guard, key_actions};
use super::{Finding, Rule, Severity};
use crate::arn::PrincipalClass;
use crate::diag::kms_action_list;
use crate::eval::Caller;

pub(crate) static RULE: Rule = Rule {
    code: "KMS030",
    name: "confused-deputy",
    severity: Severity::Warning,
    spec: "L030, R59, R105",
    summary: "a service principal may use the key without `aws:SourceArn`/`aws:SourceAccount`: any customer of the service can make it act (confused deputy)",
    input_error: false,
};

/// Metadata actions reveal nothing a deputy could misuse; the documented CloudTrail policy
/// allows `kms:DescribeKey` to the service unconditioned.
const HARMLESS: &[&str] = &[
    "DescribeKey",
    "GetPublicKey",
    "ListGrants",
    "ListResourceTags",
    "GetKeyRotationStatus",
    "GetKeyPolicy",
    "ListKeyPolicies",
    "ListKeyRotations",
];

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    // A set: a policy may name thousands of principals.
    let mut seen: crate::hash::FastSet<&str> = crate::hash::FastSet::default();
    let mut model: Option<Model<'_, '_>> = None;
    for st in cx.doc().statements.iter().filter(|s| s.is_allow()) {
        for e in st.named_principals() {
            let PrincipalClass::Service(name) = &e.class else {
                continue;
            };
            if seen.contains(&name.as_str()) {
                continue;
            }
            let Ok(caller) = Caller::parse(name, None) else {
                continue;
            };
            let mut unguarded: Vec<&str> = Vec::new();
            let mut example: Option<Counterexample> = None;
            for a in key_actions().filter(|a| !HARMLESS.contains(&a.name)) {
                let by_this = |ids: &mut dyn Iterator<Item = &str>| {
                    ids.filter_map(|id| cx.statement_named(id))
                        .any(|s| s.index == st.index)
                };
                let action = format!("kms:{}", a.name);
                // The adversary's question (R105): a customer of the service in another account,
                // with the source values it can give (its own account, its own resources, a
                // wildcard of the policy filled in).
                if let Some(ce) = model
                    .get_or_insert_with(|| Model::new(cx))
                    .search(&caller, &action)
                    .filter(|ce| {
                        ce.unsettled.is_none()
                            && by_this(&mut ce.statements.iter().map(String::as_str))
                    })
                {
                    unguarded.push(a.name);
                    example.get_or_insert(ce);
                    continue;
                }
                match cx.reach_once(&caller, &action, None) {
                    Reach::Yes(by) if by_this(&mut by.iter().map(String::as_str)) => {
                        unguarded.push(a.name);
                    }
                    Reach::Conditional(alts)
                        if alts.iter().any(|alt| {
                            !alt.iter().any(|r| deputy_guard(&r.key))
                                && by_this(&mut alt.iter().map(|r| r.statement.as_str()))
                        }) =>
                    {
                        unguarded.push(a.name);
                    }
                    _ => {}
                }
            }
            if unguarded.is_empty() {
                continue;
            }
            seen.insert(name);
            out.push(
                Finding::new(
                    &RULE,
                    cx.doc().source,
                    e.span,
                    format!(
                        "`{name}` may call {} for any customer of the service: no `aws:SourceArn` or `aws:SourceAccount` condition ties it to your resources{}",
                        kms_action_list(&unguarded, 6),
                        example.map_or_else(String::new, |ce| format!(" (e.g. {})", ce.describe()))
                    ),
                    "service principal without a source condition",
                )
                .in_statement(st)
                .help(format!(
                    "add `\"Condition\": {{\"StringEquals\": {{\"aws:SourceAccount\": \"{}\"}}}}` or an `aws:SourceArn` naming your resource",
                    cx.facts.account
                )),
            );
        }
    }
}
