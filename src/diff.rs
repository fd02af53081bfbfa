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

pub(crate) mod guard;
mod identity;

use std::collections::{BTreeMap, BTreeSet};

use crate::eval::{Caller, NamedPolicy};
use crate::grant::Grant;
use crate::graph::{AccessGraph, Extras, LimitedCells, Paths, Row};
use crate::inventory::Inventory;
use crate::source::{SourceId, Span};

/// Every KMS action on a key that a principal can be allowed (the actions `what-can` asks).
pub fn key_actions() -> Vec<String> {
    crate::catalog::actions()
        .iter()
        .filter(|a| a.on_key && !a.grant_only)
        .map(|a| format!("kms:{}", a.name))
        .collect()
}

/// `actions`, or every KMS action on a key when none is given.
fn or_every_action(actions: &[String]) -> Vec<String> {
    if actions.is_empty() {
        key_actions()
    } else {
        actions.to_vec()
    }
}

/// A world's access: one row per (principal, key, action) allowed, conditional or
/// undetermined, sorted; with the graph's notes on what it could not judge.
#[derive(Debug, Default)]
pub struct Access {
    /// The rows.
    pub rows: Vec<Row>,
    /// What the analysis could not judge.
    pub(crate) notes: Vec<String>,
}

/// The rows of `actions` (every KMS action on a key when empty) on every key of `inv`,
/// following `paths`.
pub(crate) fn access(inv: &Inventory, extras: &Extras, actions: &[String], paths: Paths) -> Access {
    let mut g = AccessGraph::build(inv, extras);
    let actions = or_every_action(actions);
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
    let actions = or_every_action(actions);
    worlds_of(
        AccessGraph::build(before, extras),
        AccessGraph::build(after, extras),
        &actions,
        paths,
    )
}

/// Both whole worlds' rows from their graphs.
fn worlds_of(
    mut gb: AccessGraph<'_>,
    mut ga: AccessGraph<'_>,
    actions: &[String],
    paths: Paths,
) -> (Access, Access) {
    let mut rb = gb.matrix(actions, paths);
    let mut ra = ga.matrix(actions, paths);
    fill_named(
        &mut gb,
        &mut rb,
        &mut ga,
        &mut ra,
        actions,
        paths,
        &|_, _, _| true,
    );
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

/// Asks each world about the principals (ARNs) only the other world's rows name, keeping the
/// rows `keep` accepts; sorts both.
fn fill_named(
    gb: &mut AccessGraph<'_>,
    rb: &mut Vec<Row>,
    ga: &mut AccessGraph<'_>,
    ra: &mut Vec<Row>,
    actions: &[String],
    paths: Paths,
    keep: &dyn Fn(&str, &str, &str) -> bool,
) {
    let named = |rows: &[Row]| -> BTreeSet<String> {
        rows.iter()
            .filter(|r| r.principal.starts_with("arn:"))
            .map(|r| r.principal.clone())
            .collect()
    };
    let (nb, na) = (named(rb), named(ra));
    let fill = |g: &mut AccessGraph<'_>, rows: &mut Vec<Row>, missing: Vec<&String>| {
        for p in missing {
            // Only the cells kept are asked: the same rows as filtering the whole answer.
            if let Ok(more) = g.what_can_of(p, paths, Some(actions), keep) {
                rows.extend(more);
            }
        }
        rows.sort_by(|a, b| {
            (&a.principal, &a.key, &a.action).cmp(&(&b.principal, &b.key, &b.action))
        });
    };
    fill(gb, rb, na.difference(&nb).collect());
    fill(ga, ra, nb.difference(&na).collect());
}

/// The cells of the access matrix whose inputs differ between two worlds: outside them, a row
/// is the same in both, so the difference needs only these.
#[derive(Debug, Default, PartialEq, Eq)]
struct Scope {
    /// Keys (ARNs) whose policies, grants, facts, aliases or existence differ, each with the
    /// principals and classes (ids) whose rows on it can differ: those a differing statement
    /// or grant could concern and whoever can reach them by a move; `None` for every
    /// principal (facts, aliases or policy headers differ, or the key is in one world only).
    keys: BTreeMap<String, Option<BTreeSet<String>>>,
    /// Principals and classes (ids) whose own inputs differ, who exist in one world only, or
    /// who can reach such a principal by a move in either world: their rows on every key.
    principals: BTreeSet<String>,
    /// Users and roles whose identity policies differ only in statements whose cells can be
    /// bounded (`identity`), and whoever can reach one of them by a move: their rows on
    /// those cells.
    limited: LimitedCells,
}

/// A policy as the engine reads it, without where it was read: its label (the name without
/// its file), kind, version, which statements are broken, and its canonical text.
fn policy_print(p: &NamedPolicy) -> String {
    let label = p.name.split_once(" › ").map_or(p.name.as_str(), |(_, l)| l);
    let broken: Vec<&Option<String>> = p.doc.statements.iter().map(|s| &s.broken).collect();
    format!(
        "{label}\u{1}{:?}\u{1}{:?}\u{1}{broken:?}\u{1}{}",
        p.doc.kind,
        p.doc.version,
        crate::policy::to_json(&p.doc)
    )
}

fn policies_print(ps: Option<&[NamedPolicy]>) -> String {
    match ps {
        None => "none".into(),
        Some(ps) => ps
            .iter()
            .map(policy_print)
            .collect::<Vec<_>>()
            .join("\u{2}"),
    }
}

/// A grant without where it was read.
fn grant_print(g: &Grant) -> String {
    let mut g = g.clone();
    g.source = SourceId::default();
    g.span = Span::point(0);
    g.grantee_span = Span::point(0);
    g.operations_span = Span::point(0);
    format!("{g:?}")
}

/// Everything the engine reads about a key.
fn key_print(inv: &Inventory, arn: &str) -> String {
    match inv.key_inputs(arn) {
        Err(e) => format!("error {e}"),
        Ok(k) => format!(
            "{:?}\u{3}{:?}\u{3}{}\u{3}{}",
            k.facts,
            k.policy_unknown,
            policies_print(k.policies.as_deref()),
            k.grants.map_or("none".into(), |gs| gs
                .iter()
                .map(grant_print)
                .collect::<Vec<_>>()
                .join("\u{2}"))
        ),
    }
}

/// A statement as the engine reads it, without where it was read: its label (`Sid` or `#n`,
/// so a statement whose position shifts counts as another), whether it is broken, and its
/// canonical text.
fn statement_print(p: &NamedPolicy, at: usize) -> String {
    let st = p.doc.statement(at);
    format!(
        "{:?}\u{1}{:?}\u{1}{}",
        st.map(crate::policy::Statement::label),
        st.map(|s| &s.broken),
        crate::policy::to_json(&crate::inventory::narrowed_policy(p, &[at]).doc)
    )
}

/// A policy without its statements: its label, kind and version.
fn policy_head(p: &NamedPolicy) -> String {
    let label = p.name.split_once(" › ").map_or(p.name.as_str(), |(_, l)| l);
    format!("{label}\u{1}{:?}\u{1}{:?}", p.doc.kind, p.doc.version)
}

/// The positions of `items` whose print the other world holds a different number of times
/// (a multiset difference: a duplicate added or removed counts).
fn differing<T>(mine: &[T], theirs: &[T], print: &dyn Fn(&T) -> String) -> Vec<usize> {
    let count = |xs: &[T]| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for x in xs {
            *m.entry(print(x)).or_default() += 1;
        }
        m
    };
    let (a, b) = (count(mine), count(theirs));
    mine.iter()
        .enumerate()
        .filter(|(_, x)| {
            let p = print(x);
            a.get(&p) != b.get(&p)
        })
        .map(|(i, _)| i)
        .collect()
}

/// The statements two lists of policies differ by: each world's policies narrowed to the
/// statements the other world lacks (by label and text), or `None` when the lists differ in
/// length or in a policy's label, kind or version.
fn differing_statements(pb: &[NamedPolicy], pa: &[NamedPolicy]) -> Option<Vec<NamedPolicy>> {
    if pb.len() != pa.len() {
        return None;
    }
    let mut out = Vec::new();
    for (x, y) in pb.iter().zip(pa) {
        if policy_head(x) != policy_head(y) {
            return None;
        }
        let prints = |p: &NamedPolicy| -> Vec<String> {
            (0..p.doc.statements.len())
                .map(|i| statement_print(p, i))
                .collect()
        };
        let (sx, sy) = (prints(x), prints(y));
        let same = |s: &String| s.clone();
        for (p, mine, theirs) in [(x, &sx, &sy), (y, &sy, &sx)] {
            let at = differing(mine, theirs, &same);
            if !at.is_empty() {
                out.push(crate::inventory::narrowed_policy(p, &at));
            }
        }
    }
    Some(out)
}

/// What differs on a key both worlds hold with the same facts and policy headers: each
/// world's key policies narrowed to the statements the other world lacks (by label and
/// text), and the grants one world holds and the other does not.
struct KeyChange {
    statements: Vec<NamedPolicy>,
    grants: Vec<Grant>,
}

/// The key's change, or `None` when something every principal's rows on it read differs
/// (facts and aliases, an unknown policy, the list of policies, whether grants are known).
fn key_change(before: &Inventory, after: &Inventory, arn: &str) -> Option<KeyChange> {
    let (Ok(b), Ok(a)) = (before.key_inputs(arn), after.key_inputs(arn)) else {
        return None;
    };
    if format!("{:?}\u{3}{:?}", b.facts, b.policy_unknown)
        != format!("{:?}\u{3}{:?}", a.facts, a.policy_unknown)
    {
        return None;
    }
    let mut change = KeyChange {
        statements: Vec::new(),
        grants: Vec::new(),
    };
    match (&b.policies, &a.policies) {
        (None, None) => {}
        (Some(pb), Some(pa)) => change.statements = differing_statements(pb, pa)?,
        _ => return None,
    }
    match (&b.grants, &a.grants) {
        (None, None) => {}
        (Some(gb), Some(ga)) => {
            for (mine, theirs) in [(gb, ga), (ga, gb)] {
                for i in differing(mine, theirs, &grant_print) {
                    change.grants.extend(mine.get(i).cloned());
                }
            }
        }
        _ => return None,
    }
    Some(change)
}

/// Whether a grant could name `caller` as its grantee: a superset of the engine's grantee
/// match (R71): the caller's own ARN, role or federating user is the grantee's ARN (or, for
/// an assumed-role grantee, a session of the same role), or the grantee is its account, or a
/// service when the caller is one; any other grantee is counted as naming everyone. The
/// retiring principal and the issuing account are not read: they matter only to a request
/// that names a grant id (R75), and the graph's requests name none.
fn grant_may_name(g: &Grant, caller: &Caller) -> bool {
    use crate::arn::PrincipalClass;
    if g.grantee_is_service {
        return caller.kind == crate::eval::CallerKind::Service;
    }
    let head = |a: &str| a.rsplit_once('/').map(|(h, _)| h.to_owned());
    match &g.grantee_class {
        PrincipalClass::Account { account, .. } => *account == caller.account,
        PrincipalClass::User { arn, .. }
        | PrincipalClass::Role { arn, .. }
        | PrincipalClass::AssumedRole { arn, .. }
        | PrincipalClass::FederatedUser { arn, .. } => {
            caller.arn == *arn
                || caller.role_arn.as_deref() == Some(arn.as_str())
                || caller.federating_user.as_deref() == Some(arn.as_str())
                || (caller.session_open && head(&caller.arn) == head(arn))
        }
        _ => true,
    }
}

/// Whether `change` could concern `caller`: a differing statement whose principal entries
/// may match it as the engine matches them (`*`, `NotPrincipal`, no principal, a broken or
/// unreadable entry, its account, its own ARN or role: everything not provably excluded),
/// or a differing grant that may name it.
fn concerns(
    change: &KeyChange,
    index: &[crate::inventory::StatementIndex],
    caller: &Caller,
) -> bool {
    let by_statement = index.iter().any(|i| match i.concerning(caller) {
        None => true,
        Some(at) => !at.is_empty(),
    });
    by_statement || change.grants.iter().any(|g| grant_may_name(g, caller))
}

/// The principals and classes (ids, of either world) whose rows on a key `change` can
/// touch: those it could concern and, with every path, whoever can reach one of them.
fn concerned(
    change: &KeyChange,
    gb: &mut AccessGraph<'_>,
    ga: &mut AccessGraph<'_>,
    paths: Paths,
) -> BTreeSet<String> {
    let index: Vec<crate::inventory::StatementIndex> = change
        .statements
        .iter()
        .map(|p| crate::inventory::StatementIndex::new(&p.doc))
        .collect();
    let test = |c: &Caller| concerns(change, &index, c);
    let mut out: BTreeSet<String> = gb.subjects_where(&test).into_iter().collect();
    out.extend(ga.subjects_where(&test));
    if paths == Paths::All && !out.is_empty() {
        let reached: Vec<String> = gb
            .reaching(&out)
            .into_iter()
            .chain(ga.reaching(&out))
            .collect();
        out.extend(reached);
    }
    out
}

/// Everything the graph reads about a user or role, in three parts: its identity policies as
/// the engine takes them (group and managed policies included); its trust policies; and the
/// rest: the record (groups, attachments, boundary, tags, unique id), its boundary as the
/// engine takes it, and what is unknown about it.
#[derive(PartialEq, Eq)]
struct PrincipalPrint {
    identity: String,
    trust: String,
    rest: String,
    role: bool,
}

fn principal_print(inv: &Inventory, record: &str, arn: &str, role: bool) -> PrincipalPrint {
    let caller = match Caller::parse(arn, role.then_some(arn)) {
        Ok(c) => c,
        Err(e) => {
            return PrincipalPrint {
                identity: String::new(),
                trust: String::new(),
                rest: format!("{record}\u{3}unparsed {e}"),
                role,
            };
        }
    };
    let cp = inv.caller_policies(&caller);
    PrincipalPrint {
        identity: policies_print(cp.identity.as_deref()),
        trust: policies_print(inv.trust_policies(arn)),
        rest: format!(
            "{record}\u{3}{}\u{3}{:?}\u{3}{:?}\u{3}{}\u{3}{:?}",
            cp.boundary.as_ref().map_or("none".into(), policy_print),
            cp.role_arn,
            cp.tags,
            cp.found,
            cp.notes,
        ),
        role,
    }
}

/// Every user's and role's print, by ARN.
fn principal_prints(inv: &Inventory) -> BTreeMap<String, PrincipalPrint> {
    let mut out = BTreeMap::new();
    for u in inv.users() {
        let p = principal_print(inv, &format!("{u:?}"), &u.arn, false);
        out.entry(u.arn.clone()).or_insert(p);
    }
    for r in inv.roles() {
        let p = principal_print(inv, &format!("{r:?}"), &r.arn, true);
        out.entry(r.arn.clone()).or_insert(p);
    }
    out
}

/// What the engine reads for every principal and key alike: whether IAM data was given, the
/// account and Region in play, the key policy names listed, and the SCP and RCP levels above
/// every account the graph asks about.
fn global_print(inv: &Inventory, accounts: &BTreeSet<String>) -> String {
    let mut s = format!(
        "{}\u{3}{:?}\u{3}{:?}\u{3}{:?}",
        inv.has_iam(),
        inv.account_region(),
        inv.key_policy_names(),
        inv.plan_caller()
    );
    let levels = |l: Option<crate::eval::Levels>| {
        l.map_or("none".into(), |l| {
            l.iter()
                .map(|level| policies_print(Some(level)))
                .collect::<Vec<_>>()
                .join("\u{4}")
        })
    };
    for a in accounts {
        s.push_str(&format!(
            "\u{5}{a}\u{3}{}\u{3}{}",
            levels(inv.scp_levels(a)),
            levels(inv.rcp_levels(a))
        ));
    }
    s
}

/// The account of an ARN or of a class (`account:…`).
fn account_of(id: &str) -> Option<&str> {
    id.strip_prefix("account:")
        .or_else(|| id.split(':').nth(4).filter(|a| !a.is_empty()))
}

/// Whether `extras` hold anything (the diff is given none; with some, nothing is scoped).
fn extras_given(extras: &Extras) -> bool {
    extras.key_policy.is_some()
        || !extras.grants.is_empty()
        || extras.identity.is_some()
        || extras.scp.is_some()
        || extras.rcp.is_some()
        || extras.key.is_some()
        || extras.identity_unknown
}

/// The cells that can differ between the worlds of `gb` and `ga`, or `None` when something
/// every cell reads differs (organisation levels, whether IAM data was given, the account in
/// play, inputs given beside the inventories): then every cell can.
fn scope(
    before: &Inventory,
    after: &Inventory,
    extras: &Extras,
    gb: &mut AccessGraph<'_>,
    ga: &mut AccessGraph<'_>,
    actions: &[String],
    paths: Paths,
) -> Option<Scope> {
    if extras_given(extras) {
        return None;
    }
    let (sb, sa) = (gb.subject_ids(), ga.subject_ids());
    let (kb, ka) = (before.key_arns(), after.key_arns());
    let mut accounts = BTreeSet::new();
    for id in sb.iter().chain(&sa).map(|(id, _)| id.as_str()) {
        accounts.extend(account_of(id).map(str::to_owned));
    }
    for k in kb.iter().chain(&ka) {
        accounts.extend(account_of(k).map(str::to_owned));
    }
    if global_print(before, &accounts) != global_print(after, &accounts) {
        return None;
    }
    let mut scope = Scope::default();
    let all_keys: BTreeSet<&String> = kb.iter().chain(&ka).collect();
    let keys: Vec<&String> = all_keys.iter().copied().collect();
    for k in all_keys {
        let both = kb.contains(k) && ka.contains(k);
        if both && key_print(before, k) == key_print(after, k) {
            continue;
        }
        let cells = if both {
            key_change(before, after, k).map(|c| concerned(&c, gb, ga, paths))
        } else {
            None
        };
        scope.keys.insert(k.clone(), cells);
    }
    let (pb, pa) = (principal_prints(before), principal_prints(after));
    let mut changed: BTreeSet<String> = BTreeSet::new();
    let mut limited: LimitedCells = BTreeMap::new();
    let mut trust_changed: BTreeSet<String> = BTreeSet::new();
    let asked = identity::Asked {
        keys: &keys,
        actions,
        paths,
        opts: gb.options(),
    };
    for (arn, p) in &pb {
        match pa.get(arn) {
            Some(q) if q == p => {}
            Some(q) if q.rest == p.rest && q.role == p.role => {
                if q.trust != p.trust {
                    trust_changed.insert(arn.clone());
                }
                if q.identity != p.identity {
                    match identity::identity_cells(before, after, arn, p.role, &asked) {
                        Some(cells) => {
                            limited.insert(arn.clone(), cells);
                        }
                        None => {
                            changed.insert(arn.clone());
                        }
                    }
                }
            }
            _ => {
                changed.insert(arn.clone());
            }
        }
    }
    for arn in pa.keys() {
        if !pb.contains_key(arn) {
            changed.insert(arn.clone());
        }
    }
    // A principal or class only one world asks about (named by a changed policy, a class
    // whose account gained or lost IAM data) is asked about everywhere.
    let (ib, ia): (BTreeSet<&String>, BTreeSet<&String>) = (
        sb.iter().map(|(id, _)| id).collect(),
        sa.iter().map(|(id, _)| id).collect(),
    );
    changed.extend(ib.symmetric_difference(&ia).map(|id| (*id).clone()));
    scope.principals = changed.clone();
    if paths == Paths::All && !changed.is_empty() {
        // Whoever can act as a changed principal, or change its IAM, in either world may
        // gain or lose what it gains or loses.
        scope.principals.extend(gb.reaching(&changed));
        scope.principals.extend(ga.reaching(&changed));
    }
    if paths == Paths::All {
        // A role's trust policies decide who can act as it, not what it can do: whoever else
        // can reach it in either world may gain or lose its access (its own rows cannot).
        for t in &trust_changed {
            let one = BTreeSet::from([t.clone()]);
            let reached = gb.reaching(&one).into_iter().chain(ga.reaching(&one));
            scope.principals.extend(reached.filter(|p| p != t));
        }
    }
    scope.limited = reach_limited(limited, &scope.principals, gb, ga, paths);
    Some(scope)
}

/// The limited principals' cells, given too to whoever can reach one of them by a move (its
/// rows there may go through it): each of them is asked about the union of every limited
/// principal's cells. Who reaches them is worked out before any is left out, so that a
/// principal that reaches a limited one through a principal asked everywhere (or one whose
/// trust policy alone changed, which is not) still gets the cells. Principals asked
/// everywhere are left out of the answer only.
fn reach_limited(
    limited: LimitedCells,
    everywhere: &BTreeSet<String>,
    gb: &mut AccessGraph<'_>,
    ga: &mut AccessGraph<'_>,
    paths: Paths,
) -> LimitedCells {
    if paths == Paths::Direct || limited.is_empty() {
        let mut limited = limited;
        limited.retain(|p, _| !everywhere.contains(p));
        return limited;
    }
    let mut union: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for cells in limited.values() {
        for (k, acts) in cells {
            union
                .entry(k.clone())
                .or_default()
                .extend(acts.iter().cloned());
        }
    }
    let targets: BTreeSet<String> = limited.keys().cloned().collect();
    let reached: Vec<String> = gb
        .reaching(&targets)
        .into_iter()
        .chain(ga.reaching(&targets))
        .chain(targets.iter().cloned())
        .collect();
    let mut out = LimitedCells::new();
    for p in reached {
        if !everywhere.contains(&p) {
            out.entry(p).or_insert_with(|| union.clone());
        }
    }
    out
}

/// Both worlds' rows on the cells that can differ (`scope`), each world asked about the
/// principals the other names there, as [`worlds`] does on the whole matrix: comparing them
/// gives the same changes as comparing the whole worlds, at the cost of what changed. When
/// something every cell reads differs, both whole worlds ([`worlds`]).
pub fn changed_worlds(
    before: &Inventory,
    after: &Inventory,
    extras: &Extras,
    actions: &[String],
    paths: Paths,
) -> (Access, Access) {
    let actions = or_every_action(actions);
    let mut gb = AccessGraph::build(before, extras);
    let mut ga = AccessGraph::build(after, extras);
    let Some(scope) = scope(before, after, extras, &mut gb, &mut ga, &actions, paths) else {
        return worlds_of(gb, ga, &actions, paths);
    };
    if scope.keys.is_empty() && scope.principals.is_empty() && scope.limited.is_empty() {
        // Nothing any row reads differs: no row can, and no move needs working out.
        return (
            Access {
                rows: Vec::new(),
                notes: gb.notes(),
            },
            Access {
                rows: Vec::new(),
                notes: ga.notes(),
            },
        );
    }
    let mut rb = gb.matrix_of(
        &scope.keys,
        &scope.principals,
        &scope.limited,
        &actions,
        paths,
    );
    let mut ra = ga.matrix_of(
        &scope.keys,
        &scope.principals,
        &scope.limited,
        &actions,
        paths,
    );
    let inside = |key: &str, principal: &str, action: &str| {
        scope.principals.contains(principal)
            || match scope.keys.get(key) {
                Some(None) => true,
                Some(Some(some)) => some.contains(principal),
                None => false,
            }
            || scope
                .limited
                .get(principal)
                .and_then(|cells| cells.get(key))
                .is_some_and(|acts| acts.contains(action))
    };
    fill_named(&mut gb, &mut rb, &mut ga, &mut ra, &actions, paths, &inside);
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
    pub(crate) fn as_str(self) -> &'static str {
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
    pub(crate) before: Option<Row>,
    /// The row after (added and changed rows).
    pub(crate) after: Option<Row>,
}

impl Change {
    /// The row that names the change: after when there is one.
    pub fn row(&self) -> Option<&Row> {
        self.after.as_ref().or(self.before.as_ref())
    }
}

/// A row's identity across worlds.
fn identity(r: &Row) -> (&str, &str, &str) {
    (&r.key, &r.action, &r.principal)
}

/// A statement or grant named without the file it was read from (`x.json › policy#Sid` →
/// `Sid`); grants keep their label.
pub(crate) fn via_label(via: &str) -> &str {
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
    out.sort_by(|x, y| (x.kind, x.row().map(identity)).cmp(&(y.kind, y.row().map(identity))));
    out
}
