//! The access difference between two worlds, and the team's guardrails on one world.
//!
//! A world is an inventory; its access is the rows the access graph gives for every KMS action
//! on every key (`who-can` for each key and action, escalation paths included). The
//! difference of two worlds is a comparison of those rows, never a second engine: a row is
//! identified by (key, action, principal); one only after is added, one only before is
//! removed, one in both whose decision, conditions or path differ is changed.
//!
//! Paths are compared by what they say, not by where their policies were read: a statement is
//! named by its label (`Sid` or `#n`) without the file it is in, so the same statement read
//! from a `get-key-policy` output and from a policy file is the same step.
//!
//! `guard` checks the `[[guard]]` rules of `kmsaudit.toml` on one world's rows.

pub mod guard;

use std::collections::BTreeMap;

use crate::graph::{AccessGraph, Extras, Paths, Row};
use crate::inventory::Inventory;

/// Every KMS action on a key that a principal can be allowed (the actions `what-can` asks).
pub fn key_actions() -> Vec<String> {
    crate::catalog::actions()
        .iter()
        .filter(|a| a.on_key && !a.grant_only)
        .map(|a| format!("kms:{}", a.name))
        .collect()
}

/// A world's access: one row per (principal, key, action) allowed, conditional or
/// undetermined, sorted; with the graph's notes on what it could not judge.
#[derive(Debug, Default)]
pub struct Access {
    /// The rows.
    pub rows: Vec<Row>,
    /// What the analysis could not judge.
    pub notes: Vec<String>,
}

/// The rows of `actions` (every KMS action on a key when empty) on every key of `inv`,
/// following `paths`.
pub fn access(inv: &Inventory, extras: &Extras, actions: &[String], paths: Paths) -> Access {
    let mut g = AccessGraph::build(inv, extras);
    let actions = if actions.is_empty() {
        key_actions()
    } else {
        actions.to_vec()
    };
    let rows = g.matrix(&actions, paths);
    Access {
        rows,
        notes: g.notes(),
    }
}

/// Both worlds' access, each asked about the principals the other names too: a principal that
/// only the world after names (the grantee of a new grant) is asked about in the world before
/// as well, where its access comes from its account's delegation alone, so that a new name is
/// never mistaken for new access. Classes (`account:…`, `*`) are each world's own.
pub fn worlds(
    before: &Inventory,
    after: &Inventory,
    extras: &Extras,
    actions: &[String],
    paths: Paths,
) -> (Access, Access) {
    let actions = if actions.is_empty() {
        key_actions()
    } else {
        actions.to_vec()
    };
    let mut gb = AccessGraph::build(before, extras);
    let mut rb = gb.matrix(&actions, paths);
    let mut ga = AccessGraph::build(after, extras);
    let mut ra = ga.matrix(&actions, paths);
    let named = |rows: &[Row]| -> std::collections::BTreeSet<String> {
        rows.iter()
            .filter(|r| r.principal.starts_with("arn:"))
            .map(|r| r.principal.clone())
            .collect()
    };
    let (nb, na) = (named(&rb), named(&ra));
    let fill = |g: &mut AccessGraph<'_>, rows: &mut Vec<Row>, missing: Vec<&String>| {
        for p in missing {
            if let Ok(more) = g.what_can(p, paths) {
                rows.extend(more.into_iter().filter(|r| actions.contains(&r.action)));
            }
        }
        rows.sort_by(|a, b| {
            (&a.principal, &a.key, &a.action).cmp(&(&b.principal, &b.key, &b.action))
        });
    };
    fill(&mut gb, &mut rb, na.difference(&nb).collect());
    fill(&mut ga, &mut ra, nb.difference(&na).collect());
    (
        Access {
            rows: rb,
            notes: gb.notes(),
        },
        Access {
            rows: ra,
            notes: ga.notes(),
        },
    )
}

/// How a row changed between the worlds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// Only after.
    Added,
    /// In both, with a different decision, conditions or path.
    Changed,
    /// Only before.
    Removed,
}

impl ChangeKind {
    /// The word used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Changed => "changed",
            ChangeKind::Removed => "removed",
        }
    }
}

/// One row of the difference, with the row of each world that has it.
#[derive(Debug, Clone)]
pub struct Change {
    /// How it changed.
    pub kind: ChangeKind,
    /// The row before (removed and changed rows).
    pub before: Option<Row>,
    /// The row after (added and changed rows).
    pub after: Option<Row>,
}

impl Change {
    /// The row that names the change: after when there is one.
    pub fn row(&self) -> Option<&Row> {
        self.after.as_ref().or(self.before.as_ref())
    }
}

/// A row's identity across worlds.
fn identity(r: &Row) -> (String, String, String) {
    (r.key.clone(), r.action.clone(), r.principal.clone())
}

/// A statement or grant named without the file it was read from (`x.json › policy#Sid` →
/// `Sid`); grants keep their label.
pub fn via_label(via: &str) -> &str {
    if via.starts_with("grant ") {
        return via;
    }
    via.rsplit_once('#').map_or(via, |(_, label)| label)
}

/// What a row says, for comparing worlds: decision, conditions, reasons, and each step
/// without the file names of its statements.
fn meaning(r: &Row) -> impl PartialEq + '_ {
    let steps: Vec<_> = r
        .path
        .iter()
        .map(|s| {
            (
                &s.actor,
                &s.action,
                &s.target,
                &s.how,
                s.via.iter().map(|v| via_label(v)).collect::<Vec<_>>(),
                &s.conditions,
            )
        })
        .collect();
    (
        r.decision,
        &r.conditions,
        &r.reasons,
        r.escalated,
        r.iam_assumed,
        steps,
    )
}

/// The difference of two worlds' rows: added first, then changed, then removed; within each,
/// by key, action and principal.
pub fn compare(before: &[Row], after: &[Row]) -> Vec<Change> {
    let old: BTreeMap<_, &Row> = before.iter().map(|r| (identity(r), r)).collect();
    let new: BTreeMap<_, &Row> = after.iter().map(|r| (identity(r), r)).collect();
    let mut out = Vec::new();
    for (id, a) in &new {
        match old.get(id) {
            None => out.push(Change {
                kind: ChangeKind::Added,
                before: None,
                after: Some((*a).clone()),
            }),
            Some(b) if meaning(b) != meaning(a) => out.push(Change {
                kind: ChangeKind::Changed,
                before: Some((*b).clone()),
                after: Some((*a).clone()),
            }),
            Some(_) => {}
        }
    }
    for (id, b) in &old {
        if !new.contains_key(id) {
            out.push(Change {
                kind: ChangeKind::Removed,
                before: Some((*b).clone()),
                after: None,
            });
        }
    }
    out.sort_by(|x, y| {
        let key = |c: &Change| (c.kind, c.row().map(identity));
        key(x).cmp(&key(y))
    });
    out
}
