//! `KMS010` unknown-action-or-key (spec L010, R17, R44).
//!
//! ## What it does
//! Flags KMS actions that match nothing in the service reference (with a "did you mean"),
//! other services' actions in a key policy, unknown `kms:` condition keys, and condition keys
//! that none of the statement's actions supports (so they are never present).
//!
//! ## Why is this bad?
//! A misspelt action grants nothing; a key that is never present makes a positive condition
//! false (the `Allow` never applies) and a negated one true (the `Deny` always applies).
//!
//! ## Example
//! ```json
//! {"Sid": "BadTypo", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrpyt", "Resource": "*"}
//! ```
//! Use instead: `kms:Decrypt`.
//!
//! ## References
//! - Service Authorization Reference: "Actions, resources, and condition keys for AWS Key Management Service"

use super::{Finding, LintContext, Rule, Severity};
use crate::catalog;
use crate::policy::{Condition, PolicyKind, Statement};

pub(crate) static RULE: Rule = Rule {
    code: "KMS010",
    name: "unknown-action-or-key",
    severity: Severity::Warning,
    spec: "L010, R17, R44",
    summary: "unknown KMS action, unknown condition key, or a key none of the statement's actions supports",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for st in &cx.doc.statements {
        actions(cx, st, out);
        keys(cx, st, out);
    }
}

fn actions(cx: &LintContext<'_>, st: &Statement, out: &mut Vec<Finding>) {
    let Some(clause) = &st.action else { return };
    let element = if clause.negated {
        "NotAction"
    } else {
        "Action"
    };
    for item in &clause.items {
        if item.service == "kms" && item.kms_mask == 0 {
            let name = item.raw.split_once(':').map_or("", |(_, n)| n);
            let mut f = Finding::new(
                &RULE,
                cx.doc.source,
                item.span,
                format!("`{}` matches no KMS action", item.raw),
                "unknown action",
            )
            .in_statement(st);
            f = match catalog::suggest_action(name) {
                Some(s) => f.help(format!("did you mean `kms:{s}`?")),
                None => f.help("see the actions of the AWS KMS service authorization reference"),
            };
            out.push(f);
        } else if cx.doc.kind == PolicyKind::Key
            && item.service != "kms"
            && item.service != "*"
            && !clause.negated
        {
            out.push(
                Finding::new(
                    &RULE,
                    cx.doc.source,
                    item.span,
                    format!("`{}` is not a KMS action: it never applies in a key policy", item.raw),
                    format!("not a KMS action in `{element}`"),
                )
                .in_statement(st)
                .help("a key policy controls only `kms:` actions on this key; remove it or move it to the right policy"),
            );
        }
    }
}

fn keys(cx: &LintContext<'_>, st: &Statement, out: &mut Vec<Finding>) {
    // With `NotAction` the statement covers nearly every action: no key is unsupported.
    let mask = match &st.action {
        Some(a) if !a.negated => Some(a),
        _ => None,
    };
    let all_kms = mask.is_some_and(|a| {
        a.items
            .iter()
            .all(|i| i.service == "kms" || i.service == "*")
    });
    for c in &st.conditions {
        let lower = c.key.to_ascii_lowercase();
        match c.key_info {
            None if lower.starts_with("kms:") => {
                let mut f = Finding::new(
                    &RULE,
                    cx.doc.source,
                    c.key_span,
                    format!("unknown condition key `{}`", c.key),
                    "not a KMS condition key",
                )
                .in_statement(st);
                f = match catalog::suggest_condition_key(&c.key) {
                    Some(s) => f.help(format!(
                        "did you mean `{}`?",
                        s.replace("${EncryptionContextKey}", "<key>")
                    )),
                    None => f.help(
                        "see the condition keys of the AWS KMS service authorization reference",
                    ),
                };
                out.push(f);
            }
            None => {
                // A key of another service on KMS-only actions is never present.
                let other_service = !lower.starts_with("aws:") && lower.contains(':');
                if other_service && all_kms {
                    out.push(unsupported(cx, st, c));
                }
            }
            Some(info) => {
                let Some(a) = mask else { continue };
                if info.global || !all_kms {
                    continue;
                }
                if info.actions & a.kms_mask == 0 {
                    out.push(unsupported(cx, st, c));
                }
            }
        }
    }
}

fn unsupported(cx: &LintContext<'_>, st: &Statement, c: &Condition) -> Finding {
    // What the pair evaluates to when the key is absent decides what the mistake does.
    let effect = match (c.when_absent(), st.is_deny()) {
        (Some(true), false) => "the test is always true and restricts nothing",
        (Some(true), true) => "the test is always true, so the `Deny` is not narrowed by it",
        (Some(false), false) => "the test is always false, so the statement never allows anything",
        (Some(false), true) => "the test is always false, so the `Deny` never applies",
        (None, _) => "the test cannot do what it says",
    };
    Finding::new(
        &RULE,
        cx.doc.source,
        c.key_span,
        format!(
            "`{}` is never present for the statement's actions: {effect}",
            c.key
        ),
        "not supported by these actions",
    )
    .in_statement(st)
    .help("move the condition to a statement whose actions support the key, or remove it")
}
