//! The questions: `who-can`, `what-can`, `matrix` and who keeps control of a key. Every KMS
//! step is a request through the engine, pre-filtered by what the principal's identity
//! policies could allow (the engine's own matcher judges each statement).

use std::sync::Arc;

use super::{
    AccessGraph, Act, Direct, EdgeKind, Kept, KeySubject, NodeKind, Outcome, Paths, Row,
    RowDecision, Step, Subject, describe_path,
};
use crate::eval::{self, Caller, CallerKind, Decision, KeyInputs, NamedPolicy, Request};
use crate::grant::Grant;

/// The subjects (ids) asked on each key (ARN), every subject for `None`.
type KeyCells = std::collections::BTreeMap<String, Option<std::collections::BTreeSet<String>>>;

/// Principal (subject id) → key ARN → the actions asked there: the cells a scoped matrix
/// asks a principal about besides those [`KeyCells`] and the principals asked everywhere name.
pub(crate) type LimitedCells = std::collections::BTreeMap<
    String,
    std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
>;

impl AccessGraph<'_> {
    /// The KMS actions `s` could possibly be allowed on `k` (sound pre-filter: an action
    /// outside the mask is one the engine would deny). Every door needs either the key policy
    /// or a grant naming the principal itself (then everything is possible), or an identity
    /// policy allowing the action on the key (R46 steps 6–6d).
    pub(super) fn reach_mask(&self, si: usize, k: &KeySubject) -> u128 {
        let Some(s) = self.subjects.get(si) else {
            return 0;
        };
        if !s.iam_principal
            || s.iam_assumed
            || s.identity.is_none()
            || k.open
            || s.kind == NodeKind::Root
            || k.named_subjects.contains(&si)
            || (si >= k.subjects_known
                && (k.named.contains(&s.caller.arn) || k.named.contains(&s.grant_arn)))
            || (!k.grant_accounts.is_empty()
                && k.grant_accounts.contains(s.caller.account.as_str()))
        {
            return u128::MAX;
        }
        let mut mask = s.cover_all;
        // A pattern without wildcard or variable matches only the ARN it spells (R21): the
        // engine's matcher answers the same, at more cost.
        for (m, arn) in &s.cover_exact {
            if m & !mask != 0 && **arn == *k.arn {
                mask |= m;
            }
        }
        for (m, parts) in &s.cover_some {
            if m & !mask != 0 && eval::resource_pattern_may_match(parts, &k.arn, &self.opts) {
                mask |= m;
            }
        }
        mask
    }

    pub(super) fn may_reach(&self, si: usize, k: &KeySubject, bit: u128) -> bool {
        self.reach_mask(si, k) & bit != 0
    }

    /// Whether the subject has any move (acts-as or IAM change) out of it.
    pub(super) fn alone(&self, si: usize) -> bool {
        if !self.moves_built {
            return true;
        }
        let Some(s) = self.subjects.get(si) else {
            return true;
        };
        !self
            .graph
            .edges(s.node)
            .any(|e| matches!(e.weight().kind, EdgeKind::ActsAs | EdgeKind::Empowers))
    }

    /// Runs one KMS request through the engine.
    pub(super) fn run(
        &self,
        s: &Subject,
        k: &KeySubject,
        action: &str,
        identity: Option<Arc<[NamedPolicy]>>,
        key: Option<Arc<KeyInputs>>,
        grant_request: Option<Grant>,
    ) -> Direct {
        let inputs = self
            .inv
            .inputs_for(&s.caller, Some(&k.account))
            .keys([key.unwrap_or_else(|| Self::key_for(k, &s.caller))])
            .identity(identity)
            .boundary(s.boundary.clone())
            .scp(if s.iam_principal {
                self.scp_for(&s.caller.account)
            } else {
                None
            })
            .rcp_or_inventory(self.extras.rcp.clone())
            .build();
        let mut req = Request::new(s.caller.clone(), action, &k.arn);
        if let Some(g) = grant_request {
            // The mover calls KMS itself: not a grant an AWS service makes for a resource.
            req.context
                .push(("kms:GrantIsForAWSResource".into(), "false".into()));
            req.grant_request = Some(g);
        }
        let ev = eval::evaluate(&inputs, &req, &self.opts);
        let mut via: Vec<String> = ev.checks.iter().flat_map(|c| c.deciding.clone()).collect();
        via.dedup();
        let path = ev
            .checks
            .iter()
            .find_map(|c| c.path.as_ref())
            .map(eval::Path::name);
        let outcome = match ev.decision {
            Decision::Allow => Outcome::Allow,
            Decision::ExplicitDeny | Decision::ImplicitDeny => Outcome::Denied,
            Decision::Undetermined => {
                let unknowns: Vec<String> = ev
                    .checks
                    .iter()
                    .flat_map(|c| c.unknowns.iter().map(ToString::to_string))
                    .collect();
                let residual: Vec<String> = ev
                    .checks
                    .iter()
                    .flat_map(|c| c.residual.iter())
                    .filter(|a| !a.is_empty())
                    .map(|alt| {
                        let parts: Vec<&str> = alt.iter().map(|r| r.text.as_str()).collect();
                        parts.join(" and ")
                    })
                    .collect();
                if unknowns.is_empty() && !residual.is_empty() {
                    let mut r = residual;
                    r.sort();
                    r.dedup();
                    Outcome::Conditional(r)
                } else if unknowns.is_empty() {
                    // R46: an undetermined answer stays undetermined in the graph even when
                    // the engine names no unknown request value (a RetireGrant without its
                    // target grant, a Deny that may apply): a row without reasons would read
                    // as an allow.
                    Outcome::Undetermined(vec![
                        "the inputs do not settle it (`kmsaudit can` on this request says why)"
                            .to_owned(),
                    ])
                } else {
                    Outcome::Undetermined(unknowns)
                }
            }
        };
        let how = describe_path(
            path.as_deref(),
            ev.decision,
            matches!(outcome, Outcome::Conditional(_)),
        );
        Direct { outcome, how, via }
    }

    /// The key's inputs with each key policy narrowed to the statements that can concern
    /// `caller` (R24): the engine's answer is the whole policy's, at the cost of the part.
    pub(super) fn key_for(k: &KeySubject, caller: &Caller) -> Arc<KeyInputs> {
        let Some(policies) = k.inputs.policies.as_ref() else {
            return Arc::clone(&k.inputs);
        };
        let index = k.statement_index.get_or_init(|| {
            policies
                .iter()
                .map(|p| crate::inventory::StatementIndex::new(&p.doc))
                .collect()
        });
        let keep: Kept = policies
            .iter()
            .zip(index)
            .map(|(p, i)| i.positions(caller, p.doc.statements.len()))
            .collect();
        if keep.iter().all(Option::is_none) {
            return Arc::clone(&k.inputs);
        }
        if let Some(done) = k.narrowed.borrow().get(&keep) {
            return Arc::clone(done);
        }
        let narrowed: Vec<NamedPolicy> = policies
            .iter()
            .zip(&keep)
            .map(|(p, kept)| match kept {
                None => p.clone(),
                Some(at) => crate::inventory::narrowed_policy(p, at),
            })
            .collect();
        let built = Arc::new(KeyInputs {
            facts: k.inputs.facts.clone(),
            policies: Some(narrowed),
            grants: k.inputs.grants.clone(),
            policy_unknown: k.inputs.policy_unknown.clone(),
        });
        k.narrowed.borrow_mut().insert(keep, Arc::clone(&built));
        built
    }

    /// The engine's answer for subject `si` doing `action` on key `ki`, memoised.
    pub(super) fn direct(&self, si: usize, ki: usize, action: &Act) -> Direct {
        let Some(k) = self.keys.get(ki) else {
            return Direct::denied();
        };
        self.direct_masked(si, ki, action, self.reach_mask(si, k))
    }

    /// [`Self::direct`] with the pre-filter mask of (`si`, `ki`) already worked out: it
    /// depends on the principal and key only, not on the action.
    fn direct_masked(&self, si: usize, ki: usize, action: &Act, mask: u128) -> Direct {
        let (Some(s), Some(k)) = (self.subjects.get(si), self.keys.get(ki)) else {
            return Direct::denied();
        };
        if mask & action.bit == 0 {
            return Direct::denied();
        }
        let slot = action.slot;
        let memo_key = (
            u32::try_from(si).unwrap_or(u32::MAX),
            u32::try_from(ki).unwrap_or(u32::MAX),
            slot,
        );
        if slot != u16::MAX {
            if let Some(d) = self.memo.borrow().get(&memo_key) {
                return d.clone();
            }
        }
        let d = if s.iam_assumed {
            // First without any IAM: what the key policy (or a grant) allows on its own.
            let bare = self.run(s, k, action, Some(Arc::from([])), None, None);
            if matches!(bare.outcome, Outcome::Allow) {
                bare
            } else {
                let mut d = self.run(s, k, action, s.identity.clone(), None, None);
                let iam = "its own IAM policies allow it".to_owned();
                d.outcome = match d.outcome {
                    Outcome::Allow => Outcome::Conditional(vec![iam]),
                    Outcome::Conditional(c) => Outcome::Conditional(
                        c.into_iter().map(|c| format!("{c} and {iam}")).collect(),
                    ),
                    other => other,
                };
                d
            }
        } else {
            self.run(s, k, action, s.identity.clone(), None, None)
        };
        if slot != u16::MAX {
            self.memo.borrow_mut().insert(memo_key, d.clone());
        }
        d
    }

    pub(super) fn step_of(&self, s: &Subject, action: &str, k: &KeySubject, d: &Direct) -> Step {
        Step {
            actor: s.id.clone(),
            action: action.to_owned(),
            target: k.arn.clone(),
            how: d.how.clone(),
            via: d.via.clone(),
            conditions: match &d.outcome {
                Outcome::Conditional(c) => {
                    if c.len() == 1 {
                        c.clone()
                    } else {
                        vec![format!("one of: {}", c.join("; or "))]
                    }
                }
                _ => Vec::new(),
            },
        }
    }

    pub(super) fn row(
        &self,
        s: &Subject,
        k: &KeySubject,
        action: &str,
        path: Vec<Step>,
        escalated: bool,
        reasons: Vec<String>,
    ) -> Row {
        let conditions: Vec<String> = path.iter().flat_map(|p| p.conditions.clone()).collect();
        let decision = if !reasons.is_empty() {
            RowDecision::Undetermined
        } else if conditions.is_empty() {
            RowDecision::Allow
        } else {
            RowDecision::Conditional
        };
        Row {
            principal: s.id.clone(),
            kind: s.kind,
            key: k.arn.clone(),
            action: action.to_owned(),
            decision,
            conditions,
            reasons,
            path,
            escalated,
            iam_assumed: s.iam_assumed,
        }
    }

    /// The row for subject `si`, `action` on key `ki`, if it can.
    pub(super) fn reach(&self, si: usize, ki: usize, action: &Act, paths: Paths) -> Option<Row> {
        let k = self.keys.get(ki)?;
        let alone = paths == Paths::Direct || self.alone(si);
        self.reach_masked(si, ki, action, paths, alone, self.reach_mask(si, k))
    }

    /// [`Self::reach`] with what depends on the principal and key only worked out once for
    /// every action: whether the principal is `alone` (under `paths`) and the pre-filter
    /// `mask` of (`si`, `ki`).
    fn reach_masked(
        &self,
        si: usize,
        ki: usize,
        action: &Act,
        paths: Paths,
        alone: bool,
        mask: u128,
    ) -> Option<Row> {
        let (s, k) = (self.subjects.get(si)?, self.keys.get(ki)?);
        // Nothing can open for a principal that acts as no one else, changes no one's IAM and
        // whose own access cannot cover the action, CreateGrant or PutKeyPolicy on this key.
        let bits = if paths == Paths::Direct {
            action.bit
        } else {
            action.bit | self.create_grant.bit | self.put_key_policy.bit
        };
        if alone && mask & bits == 0 {
            return None;
        }
        let d = self.direct_masked(si, ki, action, mask);
        match &d.outcome {
            Outcome::Allow | Outcome::Conditional(_) => {
                let step = self.step_of(s, action, k, &d);
                return Some(self.row(s, k, action, vec![step], false, Vec::new()));
            }
            Outcome::Undetermined(reasons) => {
                let step = self.step_of(s, action, k, &d);
                return Some(self.row(s, k, action, vec![step], false, reasons.clone()));
            }
            Outcome::Denied => {}
        }
        if paths == Paths::All && matches!(s.kind, NodeKind::User | NodeKind::Role) {
            if let Some(path) = self.escalate(si, ki, action) {
                return Some(self.row(s, k, action, path, true, Vec::new()));
            }
        }
        None
    }

    pub(super) fn key_index(&self, key: &str) -> Result<usize, String> {
        let arn = self.inv.resolve_key(key).unwrap_or_else(|| key.to_owned());
        self.key_by_arn
            .get(&arn)
            .copied()
            .ok_or_else(|| format!("no key `{key}` is in the inputs"))
    }

    /// Every principal or class that can perform `action` on `key`, sorted by principal.
    pub fn who_can(&mut self, action: &str, key: &str, paths: Paths) -> Result<Vec<Row>, String> {
        let ki = self.key_index(key)?;
        if paths == Paths::All {
            self.build_moves();
        }
        let act = Act::new(action);
        let mut rows: Vec<Row> = (0..self.subjects.len())
            .filter_map(|si| self.reach(si, ki, &act, paths))
            .collect();
        rows.sort_by(|a, b| a.principal.cmp(&b.principal));
        Ok(rows)
    }

    /// Every key and KMS action `principal` can use.
    pub(crate) fn what_can(&mut self, principal: &str, paths: Paths) -> Result<Vec<Row>, String> {
        self.what_can_of(principal, paths, None, &|_, _, _| true)
    }

    /// [`Self::what_can`] on the cells (key ARN, the principal's subject id) `asked` accepts
    /// only, and on `actions` only when given: the same rows as filtering the whole answer,
    /// without building the others.
    pub(crate) fn what_can_of(
        &mut self,
        principal: &str,
        paths: Paths,
        actions: Option<&[String]>,
        asked: &dyn Fn(&str, &str, &str) -> bool,
    ) -> Result<Vec<Row>, String> {
        // A plan's or template's principal by address or logical id.
        let inv = self.inv;
        let principal = match inv.resolve_principal(principal) {
            Some(arn) => arn,
            None => match inv.unknown_address(principal) {
                Some(e) => return Err(e),
                None => principal,
            },
        };
        let si = match self.subject_by_id.get(principal) {
            Some(&i) => i,
            None => {
                let caller = Caller::parse(principal, None)?;
                let kind = match caller.kind {
                    CallerKind::User => NodeKind::User,
                    CallerKind::AssumedRole => NodeKind::Role,
                    CallerKind::Root => NodeKind::Root,
                    CallerKind::Service => NodeKind::Service,
                    CallerKind::Anonymous => NodeKind::AnyPrincipal,
                    CallerKind::FederatedUser => NodeKind::User,
                };
                let id = if kind == NodeKind::Service {
                    format!("service:{principal}")
                } else {
                    principal.to_owned()
                };
                self.add_subject(&id, kind, caller, None)
            }
        };
        if paths == Paths::All {
            self.build_moves();
        }
        let actions: Vec<Act> = crate::catalog::actions()
            .iter()
            .filter(|a| a.on_key && !a.grant_only)
            .map(|a| format!("kms:{}", a.name))
            .filter(|a| actions.is_none_or(|only| only.contains(a)))
            .map(|a| Act::new(&a))
            .collect();
        let mut rows = Vec::new();
        let Some(id) = self.subjects.get(si).map(|s| s.id.as_str()) else {
            return Ok(rows);
        };
        for (ki, k) in self.keys.iter().enumerate() {
            for a in &actions {
                if asked(&k.arn, id, &a.name) {
                    rows.extend(self.reach(si, ki, a, paths));
                }
            }
        }
        rows.sort_by(|a, b| (&a.key, &a.action).cmp(&(&b.key, &b.action)));
        Ok(rows)
    }

    /// Principals × keys for a set of actions: one row per allowed cell.
    pub(crate) fn matrix(&mut self, actions: &[String], paths: Paths) -> Vec<Row> {
        self.cells(actions, paths, None)
    }

    /// The options the graph asks the engine with.
    pub(crate) fn options(&self) -> &crate::eval::Options {
        &self.opts
    }

    /// The id and kind of every principal and class the graph asks about.
    pub(crate) fn subject_ids(&self) -> Vec<(String, NodeKind)> {
        self.subjects
            .iter()
            .map(|s| (s.id.clone(), s.kind))
            .collect()
    }

    /// The subjects that can reach one of `targets` (subject ids) through acts-as or
    /// IAM-change moves, the targets among them included: every principal whose escalated
    /// paths may go through a target.
    pub(crate) fn reaching(&mut self, targets: &std::collections::BTreeSet<String>) -> Vec<String> {
        self.build_moves();
        let mut seen = std::collections::HashSet::new();
        let mut todo: Vec<petgraph::graph::NodeIndex> = targets
            .iter()
            .filter_map(|t| self.subject_by_id.get(t))
            .filter_map(|&i| self.subjects.get(i).map(|s| s.node))
            .collect();
        let mut out = Vec::new();
        while let Some(n) = todo.pop() {
            if !seen.insert(n) {
                continue;
            }
            if let Some(s) = self
                .subject_by_node
                .get(&n)
                .and_then(|&i| self.subjects.get(i))
            {
                out.push(s.id.clone());
            }
            for e in self.graph.edges_directed(n, petgraph::Direction::Incoming) {
                if matches!(e.weight().kind, EdgeKind::ActsAs | EdgeKind::Empowers) {
                    todo.push(petgraph::visit::EdgeRef::source(&e));
                }
            }
        }
        out.sort();
        out
    }

    /// The ids of the subjects (principals and classes) whose caller `concerns` accepts.
    pub(crate) fn subjects_where(&self, concerns: &dyn Fn(&Caller) -> bool) -> Vec<String> {
        self.subjects
            .iter()
            .filter(|s| concerns(&s.caller))
            .map(|s| s.id.clone())
            .collect()
    }

    /// `matrix` on some cells only: on each key of `keys` (ARNs), the rows of the subjects it
    /// lists (ids; every subject for `None`), and the rows of the subjects `principals` (ids)
    /// on every key.
    pub(crate) fn matrix_of(
        &mut self,
        keys: &std::collections::BTreeMap<String, Option<std::collections::BTreeSet<String>>>,
        principals: &std::collections::BTreeSet<String>,
        limited: &LimitedCells,
        actions: &[String],
        paths: Paths,
    ) -> Vec<Row> {
        self.cells(actions, paths, Some((keys, principals, limited)))
    }

    /// The rows of the cells `only` names (as [`Self::matrix_of`] reads them; every cell for
    /// `None`), sorted by principal, key and action. Which subjects are asked on every key is
    /// worked out once, and each key's entry looked up once, not once per cell.
    fn cells(
        &mut self,
        actions: &[String],
        paths: Paths,
        only: Option<(
            &KeyCells,
            &std::collections::BTreeSet<String>,
            &LimitedCells,
        )>,
    ) -> Vec<Row> {
        if paths == Paths::All {
            self.build_moves();
        }
        let actions: Vec<Act> = actions.iter().map(|a| Act::new(a)).collect();
        let any_bits = actions.iter().fold(0u128, |m, a| m | a.bit)
            | if paths == Paths::All {
                self.create_grant.bit | self.put_key_policy.bit
            } else {
                0
            };
        let alone: Vec<bool> = (0..self.subjects.len())
            .map(|si| paths == Paths::Direct || self.alone(si))
            .collect();
        let everywhere: Vec<bool> = self
            .subjects
            .iter()
            .map(|s| only.is_none_or(|(_, principals, _)| principals.contains(&s.id)))
            .collect();
        let limited: Vec<Option<&std::collections::BTreeMap<String, _>>> = self
            .subjects
            .iter()
            .map(|s| only.and_then(|(_, _, limited)| limited.get(&s.id)))
            .collect();
        let mut rows = Vec::new();
        for (ki, k) in self.keys.iter().enumerate() {
            // `None`: no subject but those asked everywhere; `Some(None)`: every subject.
            let on_key = match only {
                None => Some(None),
                Some((keys, _, _)) => keys.get(&k.arn).map(Option::as_ref),
            };
            for (si, s) in self.subjects.iter().enumerate() {
                let asked = everywhere.get(si).copied().unwrap_or(false)
                    || match on_key {
                        Some(None) => true,
                        Some(Some(some)) => some.contains(&s.id),
                        None => false,
                    };
                // Not asked on every cell of the key: only the actions a limited principal
                // is asked there, if any.
                let some_actions = if asked {
                    None
                } else {
                    match limited
                        .get(si)
                        .copied()
                        .flatten()
                        .and_then(|l| l.get(&k.arn))
                    {
                        Some(acts) => Some(acts),
                        None => continue,
                    }
                };
                // The pre-filter once per principal and key, not once per action (nor again
                // inside each action's engine call).
                let lone = alone.get(si).copied().unwrap_or(true);
                let mask = self.reach_mask(si, k);
                if lone && mask & any_bits == 0 {
                    continue;
                }
                for a in &actions {
                    if some_actions.is_some_and(|acts| !acts.contains(&a.name)) {
                        continue;
                    }
                    rows.extend(self.reach_masked(si, ki, a, paths, lone, mask));
                }
            }
        }
        rows.sort_by(|a, b| {
            (&a.principal, &a.key, &a.action).cmp(&(&b.principal, &b.key, &b.action))
        });
        rows
    }

    /// Whether anyone, through any path, can reach `kms:PutKeyPolicy` on `key` (R109–R116 as a
    /// reachability question): the rows that can, with their paths.
    pub(crate) fn who_keeps_control(&mut self, key: &str) -> Result<Vec<Row>, String> {
        self.who_can("kms:PutKeyPolicy", key, Paths::All)
    }
}
