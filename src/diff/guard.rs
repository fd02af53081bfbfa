//! `[[guard]]` rules of `kmsaudit.toml`, checked on one world's access rows (KMS080).
//!
//! A guard names keys (ARNs, key ids, aliases, Terraform addresses, globs) and actions
//! (`kms:Decrypt`, `kms:ReEncrypt*`, `kms:*`), and one rule: `only` (no principal outside the
//! list may have the access, by any path), `deny_outside_org` (no principal of an account
//! outside the organisation may), `require` (some principal of the list must keep one action).
//! Rows the inputs leave open (conditional, undetermined, or assuming a principal's own IAM
//! allows) "may violate": they are reported with what is unknown, never passed silently.

use std::collections::BTreeSet;

use crate::diag::{Finding, Severity};
use crate::graph::{Paths, Row, RowDecision, Step};
use crate::inventory::Inventory;
use crate::lint::guard_violated::GUARD_VIOLATED;
use crate::source::{SourceId, Span};

/// What a guard demands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Demand {
    /// Nobody but these principals (ARNs, Terraform addresses, globs).
    Only(Vec<String>),
    /// No principal outside this organisation (`o-…`).
    DenyOutsideOrg(String),
    /// One of these principals keeps this action.
    Require {
        /// The action.
        action: String,
        /// The principals.
        by_any_of: Vec<String>,
    },
}

/// One `[[guard]]`.
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    /// Its name, as findings show it.
    pub(crate) name: String,
    /// Key patterns.
    pub(crate) keys: Vec<String>,
    /// Action patterns.
    pub(crate) actions: Vec<String>,
    /// The demand.
    pub(crate) demand: Demand,
    /// The severity of its findings (default error).
    pub(crate) severity: Severity,
    /// Where it is written (`kmsaudit.toml`), for findings with no statement to point at.
    pub(crate) source: SourceId,
    /// Its span there.
    pub(crate) span: Span,
}

/// A `*` glob, whole string, case-sensitive (ARNs and aliases are).
fn glob(pattern: &str, text: &str) -> bool {
    crate::pattern::Pattern::parse(pattern, true, false)
        .0
        .matches(text)
}

/// The KMS actions an action pattern covers (`kms:ReEncrypt*` → From and To), among those the
/// rows are computed for; case-insensitive like IAM.
fn actions_of(patterns: &[String]) -> Vec<String> {
    let all = super::key_actions();
    all.into_iter()
        .filter(|a| {
            patterns
                .iter()
                .any(|p| glob(&p.to_ascii_lowercase(), &a.to_ascii_lowercase()))
        })
        .collect()
}

/// Whether a key pattern names `arn`: `*`, the ARN or its key id (globs), an alias that
/// targets it, or a Terraform address the inventory resolves to it.
fn key_matches(pattern: &str, arn: &str, inv: &Inventory) -> bool {
    if glob(pattern, arn) {
        return true;
    }
    let id = arn.rsplit_once("key/").map_or(arn, |(_, id)| id);
    if glob(pattern, id) {
        return true;
    }
    if pattern.starts_with("alias/") || pattern.starts_with("arn:") {
        let by_alias = inv.aliases().any(|(name, alias_arn, target)| {
            (glob(pattern, name) || alias_arn.is_some_and(|a| glob(pattern, a)))
                && target.is_some_and(|t| t == arn || t == id)
        });
        if by_alias {
            return true;
        }
    }
    !pattern.contains('*') && inv.resolve_key(pattern).is_some_and(|a| a == arn)
}

/// Whether a principal of the list names a row's principal: its ARN (a glob), or a Terraform
/// address (`aws_iam_role.app`, `module.m.aws_iam_role.app`) resolved as `can --principal`
/// resolves it, to exactly the principal the plan gives that address. An address the inputs
/// do not hold names nobody: it exempts no one.
fn principal_listed(list: &[String], principal: &str, inv: &Inventory) -> bool {
    list.iter().any(|p| match inv.resolve_principal(p) {
        Some(arn) => arn == principal,
        None => !looks_like_address(p) && glob(p, principal),
    })
}

/// A Terraform address or CloudFormation-style name rather than an ARN or a glob of one.
fn looks_like_address(p: &str) -> bool {
    !p.starts_with("arn:") && !p.contains(':') && p.contains('.') && !p.contains('*')
}

/// The account a row's principal belongs to; `None` for every principal (`*`) and services.
fn account_of(principal: &str) -> Option<&str> {
    if let Some(a) = principal.strip_prefix("account:") {
        return Some(a);
    }
    if principal.starts_with("arn:") {
        return principal.split(':').nth(4).filter(|a| !a.is_empty());
    }
    if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
        return Some(principal);
    }
    None
}

/// What a row leaves open, in words; empty when it is a plain allow.
fn unknowns(r: &Row) -> Vec<String> {
    let mut out = Vec::new();
    match r.decision {
        RowDecision::Allow => {}
        RowDecision::Conditional => {
            out.push(format!("allowed only if {}", r.conditions.join(", or ")))
        }
        RowDecision::Undetermined => {
            if r.reasons.is_empty() {
                out.push("the inputs do not settle it".to_owned());
            } else {
                out.extend(r.reasons.iter().cloned());
            }
        }
    }
    if r.iam_assumed && r.decision == RowDecision::Allow {
        out.push("its own IAM policies are not in the inputs".to_owned());
    }
    out
}

/// A path in one line: `role/A sts:AssumeRole on role/B (trust#1) → … → kms:Decrypt on key/…
/// (key policy#App)`.
pub(crate) fn path_words(path: &[Step]) -> String {
    path.iter()
        .map(|s| {
            let short = |a: &str| {
                if a.starts_with("arn:") {
                    a.splitn(6, ':').nth(5).unwrap_or(a).to_owned()
                } else {
                    a.to_owned()
                }
            };
            let mut t = format!(
                "{} {} on {}: {}",
                short(&s.actor),
                s.action,
                short(&s.target),
                s.how
            );
            if !s.via.is_empty() {
                t.push_str(&format!(" [{}]", s.via.join(", ")));
            }
            t
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

/// Where a path's access is written: the last step's statement or grant that the inventory
/// can place (a key policy statement, a grant), else `None`.
pub(crate) fn locate(inv: &Inventory, path: &[Step]) -> Option<(SourceId, Span)> {
    for step in path.iter().rev() {
        for via in &step.via {
            if let Some(at) = locate_via(inv, via) {
                return Some(at);
            }
        }
    }
    None
}

/// A statement (`policy name#label`) or grant (`grant label`) as the engine names it.
pub(crate) fn locate_via(inv: &Inventory, via: &str) -> Option<(SourceId, Span)> {
    if let Some(label) = via.strip_prefix("grant ") {
        return inv
            .grants()
            .iter()
            .find(|g| g.label() == label)
            .map(|g| (g.source, g.span));
    }
    let (name, label) = via.rsplit_once('#')?;
    inv.key_policies_for_lint().iter().find_map(|kp| {
        if kp.policy.name != name {
            return None;
        }
        kp.policy
            .doc
            .statements
            .iter()
            .find(|st| st.label() == label)
            .map(|st| (kp.policy.doc.source, st.span))
    })
}

/// The actions every guard asks about, for one computation of rows.
pub(crate) fn guard_actions(guards: &[Guard]) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    for g in guards {
        out.extend(actions_of(&g.actions));
        if let Demand::Require { action, .. } = &g.demand {
            out.extend(actions_of(std::slice::from_ref(action)));
        }
    }
    out.into_iter().collect()
}

/// Checks `guards` on the world `inv`: the findings of every guard, sorted by guard, key,
/// action and principal.
pub(crate) fn check(guards: &[Guard], inv: &Inventory) -> Vec<Finding> {
    if guards.is_empty() {
        return Vec::new();
    }
    let actions = guard_actions(guards);
    if actions.is_empty() {
        return Vec::new();
    }
    let access = super::access(inv, &crate::graph::Extras::default(), &actions, Paths::All);
    let keys: BTreeSet<&str> = access.rows.iter().map(|r| r.key.as_str()).collect();
    let mut all_keys: BTreeSet<String> = inv.key_arns().into_iter().collect();
    all_keys.extend(keys.iter().map(|k| (*k).to_owned()));
    let mut out = Vec::new();
    for g in guards {
        let acts = actions_of(&g.actions);
        let on_key = |arn: &str| g.keys.iter().any(|p| key_matches(p, arn, inv));
        match &g.demand {
            Demand::Only(list) => {
                for r in &access.rows {
                    if !on_key(&r.key) || !acts.contains(&r.action) {
                        continue;
                    }
                    if principal_listed(list, &r.principal, inv) {
                        continue;
                    }
                    out.push(row_finding(
                        g,
                        inv,
                        r,
                        "is not one of the principals it allows",
                    ));
                }
            }
            Demand::DenyOutsideOrg(org) => {
                for r in &access.rows {
                    if !on_key(&r.key) || !acts.contains(&r.action) {
                        continue;
                    }
                    if r.principal.starts_with("service:") {
                        continue;
                    }
                    let key_account = r.key.split(':').nth(4).unwrap_or_default();
                    let outside = match account_of(&r.principal) {
                        None => Some(true),
                        Some(a) => match inv.org_of(a) {
                            Some((o, _)) => Some(o != *org),
                            // The key's own account is the team's: inside.
                            None if a == key_account => Some(false),
                            None => None,
                        },
                    };
                    match outside {
                        Some(false) => {}
                        Some(true) => out.push(row_finding(
                            g,
                            inv,
                            r,
                            &format!("is outside organisation {org}"),
                        )),
                        None => {
                            let mut f = row_finding(
                                g,
                                inv,
                                r,
                                &format!("may be outside organisation {org}"),
                            );
                            f.message = format!(
                                "{} (the inputs do not say which organisation account {} is in: give its AWS Organizations tree)",
                                f.message,
                                account_of(&r.principal).unwrap_or_default()
                            );
                            if !f.message.contains("may violate") {
                                f.message = f.message.replacen("violates", "may violate", 1);
                            }
                            out.push(f);
                        }
                    }
                }
            }
            Demand::Require { action, by_any_of } => {
                let wanted = actions_of(std::slice::from_ref(action));
                for key in all_keys.iter().filter(|k| on_key(k)) {
                    for a in &wanted {
                        let holders: Vec<&Row> = access
                            .rows
                            .iter()
                            .filter(|r| {
                                r.key == *key
                                    && r.action == *a
                                    && principal_listed(by_any_of, &r.principal, inv)
                            })
                            .collect();
                        if holders.iter().any(|r| unknowns(r).is_empty()) {
                            continue;
                        }
                        let at = key_policy_at(inv, key).unwrap_or((g.source, g.span));
                        let (verb, why) = if holders.is_empty() {
                            ("violates", String::new())
                        } else {
                            let open: Vec<String> =
                                holders.iter().flat_map(|r| unknowns(r)).collect();
                            ("may violate", format!(": {}", open.join("; ")))
                        };
                        let message = format!(
                            "{key} {verb} guard `{}`: none of {} can surely {a} on it{why}",
                            g.name,
                            by_any_of.join(", ")
                        );
                        let mut f = Finding::new(&GUARD_VIOLATED, at.0, at.1, message, "guard")
                            .help("keep a statement that allows one of the listed principals, or change the guard");
                        f.severity = g.severity;
                        out.push(f);
                    }
                }
            }
        }
    }
    out
}

/// Where a key's policy is, for a finding about the key as a whole.
fn key_policy_at(inv: &Inventory, key: &str) -> Option<(SourceId, Span)> {
    inv.key_policies_for_lint()
        .iter()
        .find(|kp| kp.facts.as_ref().is_some_and(|f| f.arn == key))
        .map(|kp| (kp.policy.doc.source, kp.policy.doc.span))
}

/// A finding for a row that breaks guard `g`: at the statement or grant that gives the access
/// (else at the guard), naming the guard, the principal and the path.
fn row_finding(g: &Guard, inv: &Inventory, r: &Row, why: &str) -> Finding {
    let open = unknowns(r);
    let verb = if open.is_empty() {
        "violates"
    } else {
        "may violate"
    };
    let mut message = format!(
        "{} {verb} guard `{}`: it can {} on {} and {why}; path: {}",
        r.principal,
        g.name,
        r.action,
        r.key,
        path_words(&r.path)
    );
    if !open.is_empty() {
        message.push_str(&format!(" (unknown: {})", open.join("; ")));
    }
    let (source, span) = locate(inv, &r.path).unwrap_or((g.source, g.span));
    let mut f = Finding::new(&GUARD_VIOLATED, source, span, message, "gives the access")
        .help("remove this access, or list the principal in the guard if it is intended");
    f.severity = g.severity;
    f
}
