//! `KMS003` lockout (spec L003, R109, R110, R116).
//!
//! ## What it does
//! Asks the engine, for every principal an `Allow` of the key policy names (the key's own
//! account, users, roles, sessions, `"*"`), whether it can call `kms:PutKeyPolicy` on the key.
//! Conditions on request keys nobody gave are left open; keys that `PutKeyPolicy` never carries
//! (`kms:EncryptionContext:*`, `kms:GrantIsForAWSResource`…) are absent, so a statement that
//! needs them is dead (R116), and a path that holds only through `kms:ViaService` is not a
//! human administrator. Each path is then settled with the values an administrator's own
//! call has (never through a service, direct, over TLS, now or later, from the owner's
//! addresses and endpoints): a statement that needs a private `aws:SourceIp` without an
//! endpoint, a past `aws:CurrentTime`, `aws:SecureTransport` false or `aws:SourceArn` is no
//! admin path, and a Deny unless through a service takes every path. A user or role that an
//! `aws:PrincipalArn` condition names ("Deny `PutKeyPolicy` unless the caller is role X")
//! keeps control when it has IAM permission: a warning names it, and authorization details
//! showing it exists silence it. With authorization details, principals that do not exist
//! are dropped.
//! When nobody remains, the key cannot be managed: an error. When the only administrators are
//! named principals whose existence is not known, a warning names them (R110).
//!
//! ## Why is this bad?
//! A key nobody can call `PutKeyPolicy` on is unmanageable: its policy can never be fixed, and
//! only AWS Support can recover it. The account's root user cannot be deleted, which is why the
//! root delegation statement protects a key.
//!
//! ## Example
//! ```json
//! {"Sid": "BadOnlyContextAdmin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Admin"}, "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:app": "x"}}}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodRootAdmin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Default key policy" (Reduces the risk of the KMS key becoming unmanageable)
//! - AWS KMS API Reference: "PutKeyPolicy" (BypassPolicyLockoutSafetyCheck)

use super::keys::{Candidate, KeyLintContext, Reach, residual_text};
use super::owner;
use super::root_delegation_missing::policy_span;
use super::{Finding, Rule, Severity};

pub(crate) static RULE: Rule = Rule {
    code: "KMS003",
    name: "lockout",
    severity: Severity::Error,
    spec: "L003, R109, R110, R116",
    summary: "no existing principal can call kms:PutKeyPolicy: the key cannot be managed (warning when it depends on principals not known to exist)",
    input_error: false,
};

/// Why a candidate is not an administrator, for the message.
fn why_not(cx: &KeyLintContext<'_>, c: &Candidate) -> String {
    match &c.reach {
        Reach::No => {
            let why = cx.why_not(&c.caller, "kms:PutKeyPolicy");
            if why.is_empty() {
                format!("no statement lets `{}` call kms:PutKeyPolicy", c.principal)
            } else {
                format!("`{}`: {}", c.principal, why.join("; "))
            }
        }
        Reach::Denied(by) => format!("`{}` is denied by {}", c.principal, by.join(", ")),
        Reach::Conditional(alts) if c.service_only() => format!(
            "`{}` only through an AWS service ({})",
            c.principal,
            residual_text(alts)
        ),
        Reach::Conditional(alts) => format!(
            "`{}` only when {}, which an administrator's own kms:PutKeyPolicy call never meets",
            c.principal,
            residual_text(alts)
        ),
        Reach::Yes(_) | Reach::Unknown(_) if c.exists == Some(false) => {
            format!(
                "`{}` does not exist in the authorization details",
                c.principal
            )
        }
        Reach::Yes(_) | Reach::Unknown(_) => format!(
            "`{}`: no request an administrator makes is allowed (a kms:PutKeyPolicy call is direct — never through an AWS service — over TLS, now or later)",
            c.principal
        ),
    }
}

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    if cx.aws_managed() {
        return; // R114
    }
    let analysis = cx.admin_analysis();
    // R116: each admin path settled with the values an administrator's own call has.
    let model = owner::OwnerModel::new(cx);
    // Worked out in order, stopping at the first administrator known to exist.
    let mut admins: Vec<&Candidate> = Vec::new();
    for c in owner::admins(cx, &model) {
        if c.exists == Some(true) {
            return;
        }
        admins.push(c);
    }
    if !admins.is_empty() {
        // R110 step 2 without IAM data: manageability depends on named principals.
        let names: Vec<String> = admins
            .iter()
            .map(|c| format!("`{}`", c.principal))
            .collect();
        let Some(first) = admins.first() else { return };
        let mut f = Finding::new(
            &RULE,
            cx.doc().source,
            first.span,
            format!(
                "only {} can call kms:PutKeyPolicy: if {} deleted, the key cannot be managed",
                names.join(", "),
                if names.len() == 1 { "it is" } else { "they are" }
            ),
            "the only key administrator",
        )
        .help("add the root delegation statement for the key's account, or load `aws iam get-account-authorization-details` output to show the administrators exist");
        f.severity = Severity::Warning;
        out.push(f.in_statement_if_any(cx.doc().statement(first.statement)));
        return;
    }
    // R110: a principal an `aws:PrincipalArn` condition names ("Deny unless the caller is
    // role X", `"*"` scoped to X) keeps control when its IAM policies allow PutKeyPolicy.
    let named = owner::named_in_conditions(cx, &model);
    if named.iter().any(|n| n.exists == Some(true)) {
        return;
    }
    if let Some(first) = named.first() {
        let names: Vec<String> = named.iter().map(|n| format!("`{}`", n.arn)).collect();
        let one = names.len() == 1;
        let message = if named.iter().all(|n| n.exists == Some(false)) {
            format!(
                "only {} can call kms:PutKeyPolicy, and {} not exist in the authorization details: the key can be managed only after {} created with IAM permission for kms:PutKeyPolicy",
                names.join(", "),
                if one { "it does" } else { "they do" },
                if one { "it is" } else { "one of them is" }
            )
        } else {
            format!(
                "only {} can call kms:PutKeyPolicy, with IAM permission for it: manageability depends on {} existing with that permission",
                names.join(", "),
                if one { "it" } else { "them" }
            )
        };
        let mut f = Finding::new(
            &RULE,
            cx.doc().source,
            first.span,
            message,
            "the only key administrator",
        )
        .help("keep the principal and its kms:PutKeyPolicy permission, or load `aws iam get-account-authorization-details` output to show it exists");
        f.severity = Severity::Warning;
        out.push(f.in_statement_if_any(cx.doc().statement(first.statement)));
        return;
    }
    // Nobody can manage the key. A Deny that took every path away is KMS004's finding.
    if super::deny_trap::trapped(cx).is_some() {
        return;
    }
    // The proof: ask the access graph whether anyone in the inputs reaches PutKeyPolicy
    // through any path (role chains, grants, IAM changes on a principal the policy names).
    let proof = reachability(cx);
    if let Some(Ok(rows)) = &proof {
        if !rows.is_empty() {
            return;
        }
    }
    let reasons: Vec<String> = analysis.candidates.iter().map(|c| why_not(cx, c)).collect();
    let mut detail = if reasons.is_empty() {
        "no Allow statement names a principal that could".to_owned()
    } else {
        reasons.join("; ")
    };
    match &proof {
        Some(Ok(_)) => detail.push_str(
            "; and no principal in the inputs reaches it through any path (role chains, grants, CreateGrant, IAM policy changes)",
        ),
        Some(Err(e)) => detail.push_str(&format!("; paths through other principals were not searched: {e}")),
        None => {}
    }
    let (span, st) = match analysis
        .candidates
        .iter()
        .find(|c| matches!(c.reach, Reach::Yes(_) | Reach::Conditional(_)))
        .or(analysis.candidates.first())
    {
        Some(c) => (c.span, cx.doc().statement(c.statement)),
        None => (policy_span(cx), None),
    };
    let f = Finding::new(
        &RULE,
        cx.doc().source,
        span,
        format!("no existing principal can call kms:PutKeyPolicy on this key: {detail}"),
        "no usable key administrator",
    )
    .help(format!(
        "add `{{\"Effect\": \"Allow\", \"Principal\": {{\"AWS\": \"arn:{}:iam::{}:root\"}}, \"Action\": \"kms:*\", \"Resource\": \"*\"}}` so the account can always manage the key",
        cx.facts.partition, cx.facts.account
    ))
    .in_statement_if_any(st);
    out.push(f);
}

/// Who reaches `kms:PutKeyPolicy` on the key through any path, among principals the inputs
/// hold (a principal whose IAM is not in the inputs proves nothing). `None` without IAM data.
fn reachability(cx: &KeyLintContext<'_>) -> Option<Result<Vec<crate::graph::Row>, String>> {
    let inv = cx.organisation.filter(|i| i.has_iam())?;
    let extras = crate::graph::Extras {
        key_policy: Some(vec![cx.policy.clone()]),
        key: Some(cx.facts.arn.clone()),
        // A principal the inputs do not hold proves nothing: its rows stay marked.
        identity_unknown: true,
        ..crate::graph::Extras::default()
    };
    let mut g = crate::graph::AccessGraph::build(inv, &extras);
    Some(g.who_keeps_control(&cx.facts.arn).map(|rows| {
        rows.into_iter()
            .filter(|r| {
                !r.iam_assumed
                    && r.decision != crate::graph::RowDecision::Undetermined
                    && matches!(
                        r.kind,
                        crate::graph::NodeKind::User | crate::graph::NodeKind::Role
                    )
            })
            .collect()
    }))
}
