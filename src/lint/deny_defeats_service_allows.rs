//! `KMS071` deny-defeats-service-allows (spec R49, R59, R101, R102).
//!
//! ## What it does
//! Finds `Deny` statements that test a key about the calling principal — `aws:PrincipalArn`,
//! `aws:PrincipalAccount`, `aws:PrincipalOrgID`, `aws:PrincipalOrgPaths` — with an operator
//! that is true when the key is missing (`StringNotEquals`, `ArnNotLike`… without `IfExists`)
//! and no carve-out for AWS services (`aws:PrincipalIsAWSService`,
//! `aws:PrincipalServiceName`). For each service principal the policy's own `Allow`s name, it
//! asks the engine whether that Deny refuses the service the actions those Allows give it, and
//! names the Allows it defeats.
//!
//! ## Why is this bad?
//! A service principal calling on its own behalf (CloudTrail writing a trail, CloudWatch Logs
//! encrypting a log group) carries none of those keys, so the Deny applies to it: the
//! policy's service statements can never allow anything, and the service fails to use the key.
//!
//! ## Example
//! ```json
//! {"Sid": "BadOrgOnly", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodOrgOnlyExceptServices", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}, "Bool": {"aws:PrincipalIsAWSService": "false"}}}
//! ```
//!
//! ## References
//! - IAM User Guide: "AWS global condition context keys" (aws:PrincipalOrgID, aws:PrincipalIsAWSService)
//! - AWS KMS Developer Guide: "Resource control policies" (the data-perimeter example)

use super::keys::{KeyLintContext, Reach, key_actions};
use super::{Finding, Rule, Severity};
use crate::arn::PrincipalClass;
use crate::eval::Caller;
use crate::policy::Statement;

pub(crate) static RULE: Rule = Rule {
    code: "KMS071",
    name: "deny-defeats-service-allows",
    severity: Severity::Warning,
    spec: "R49, R59, R101, R102",
    summary: "a Deny on a principal key (aws:PrincipalOrgID…) with a negated operator also refuses service principals: the policy's own service Allows never apply",
    input_error: false,
};

/// Keys a service principal's own requests do not carry (R59, R101, R102).
const PRINCIPAL_KEYS: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
];

/// Keys that let a Deny tell service principals apart (R106).
const CARVE_OUT: &[&str] = &[
    "aws:principalisawsservice",
    "aws:principalservicename",
    "aws:principalservicenameslist",
];

/// A Deny of the kind this rule is about: a principal key under an operator that holds when
/// the key is missing, and no service carve-out.
fn suspect(st: &Statement) -> bool {
    st.is_deny()
        && !st
            .conditions
            .iter()
            .any(|c| CARVE_OUT.contains(&c.key_lower.as_str()))
        && st.conditions.iter().any(|c| {
            PRINCIPAL_KEYS.contains(&c.key_lower.as_str()) && c.when_absent() == Some(true)
        })
}

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    let doc = cx.doc();
    if cx.aws_managed() || !doc.statements.iter().any(|s| suspect(s)) {
        return;
    }
    let relaxed = cx.without_denies();
    // (deny index) → [(allow statement, service, entry span, actions)]
    let mut defeated: Vec<(usize, &Statement, &str, crate::source::Span, Vec<&str>)> = Vec::new();
    for st in doc.statements.iter().filter(|s| s.is_allow()) {
        let Some(pc) = st.principal.as_ref().filter(|p| !p.negated) else {
            continue;
        };
        let Some(ac) = st.action.as_ref() else {
            continue;
        };
        for e in &pc.entries {
            let PrincipalClass::Service(name) = &e.class else {
                continue;
            };
            let Ok(caller) = Caller::parse(name, None) else {
                continue;
            };
            for a in key_actions() {
                let covered = crate::catalog::action_index(a.name)
                    .is_some_and(|i| (ac.kms_mask & (1u128 << i) != 0) != ac.negated);
                if !covered {
                    continue;
                }
                let action = format!("kms:{}", a.name);
                // The Allow gives the action when no Deny is in the way…
                let by_this = |ids: &mut dyn Iterator<Item = &str>| {
                    ids.filter_map(|id| cx.statement_named(id))
                        .any(|s| s.index == st.index)
                };
                let allowed =
                    match Reach::from_evaluation(&cx.probe_with(relaxed, &caller, &action, None)) {
                        Reach::Yes(by) => by_this(&mut by.iter().map(String::as_str)),
                        Reach::Conditional(alts) => alts
                            .iter()
                            .any(|alt| by_this(&mut alt.iter().map(|r| r.statement.as_str()))),
                        _ => false,
                    };
                if !allowed {
                    continue;
                }
                // …and a suspect Deny refuses it: asked with request keys absent, not open,
                // since a service principal calling on its own behalf carries none of the
                // principal keys.
                let ev = cx.probe_closed(caller.clone(), &action);
                let Reach::Denied(by) = Reach::from_evaluation(&ev) else {
                    continue;
                };
                for deny in by
                    .iter()
                    .filter_map(|id| cx.statement_named(id))
                    .filter(|d| suspect(d))
                {
                    match defeated.iter_mut().find(|(d, s, n, _, _)| {
                        *d == deny.index && s.index == st.index && *n == name
                    }) {
                        Some((_, _, _, _, acts)) => acts.push(a.name),
                        None => defeated.push((deny.index, st, name, e.span, vec![a.name])),
                    }
                }
            }
        }
    }
    for deny in doc.statements.iter().filter(|s| suspect(s)) {
        let mine: Vec<_> = defeated.iter().filter(|(d, ..)| *d == deny.index).collect();
        if mine.is_empty() {
            continue;
        }
        let Some(key) = deny.conditions.iter().find(|c| {
            PRINCIPAL_KEYS.contains(&c.key_lower.as_str()) && c.when_absent() == Some(true)
        }) else {
            continue;
        };
        let names: Vec<String> = mine
            .iter()
            .map(|(_, st, service, _, acts)| {
                format!("`{}` ({service}: kms:{})", st.label(), acts.join(", kms:"))
            })
            .collect();
        let mut f = Finding::new(
            &RULE,
            doc.source,
            key.key_span,
            format!(
                "this Deny on `{}` also refuses service principals, which never carry it: it defeats the Allow{} {}",
                key.key,
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            ),
            "service principals never carry this key",
        )
        .in_statement(deny)
        .help(format!(
            "add `\"Bool\": {{\"aws:PrincipalIsAWSService\": \"false\"}}` to the Deny, or use `{}IfExists`",
            key.operator.raw.trim_end_matches("IfExists")
        ));
        for (_, _, service, span, _) in &mine {
            f = f.label(*span, format!("`{service}` is refused by the Deny"));
        }
        out.push(f);
    }
}
