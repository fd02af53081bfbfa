//! The escalation moves: who can act as whom (`sts:AssumeRole`, credentials, trust rewrites)
//! and change whose IAM, judged by `iam` with the engine's statement matcher; and the
//! escalated paths through them (CreateGrant, PutKeyPolicy, IAM writes), each KMS step a
//! request through the engine.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use super::iam;
use super::{
    AccessGraph, Act, ActsIndex, ActsSearch, Edge, EdgeKind, KeySubject, NodeKind, Reaches, Step,
    Subject, made_policy, split_action,
};
use crate::eval::{self, NamedPolicy};
use crate::grant::{Grant, GrantConstraints};
use crate::policy::{Effect, PolicyKind};
use crate::source::{SourceId, Span};

/// A move edge: from subject, to subject, kind, and the step that makes it.
type MoveEdge = (usize, usize, EdgeKind, Step);

/// IAM writes on a role: the action, the edge it makes, and how it is used.
const WRITES_ON_ROLE: [(&str, EdgeKind, &str); 3] = [
    (
        "iam:UpdateAssumeRolePolicy",
        EdgeKind::ActsAs,
        "rewrites the role's trust policy to name itself, then assumes it",
    ),
    (
        "iam:PutRolePolicy",
        EdgeKind::Empowers,
        "writes an inline policy into the role",
    ),
    (
        "iam:AttachRolePolicy",
        EdgeKind::Empowers,
        "attaches a managed policy to the role",
    ),
];

/// IAM writes on a user.
const WRITES_ON_USER: [(&str, EdgeKind, &str); 5] = [
    (
        "iam:CreateAccessKey",
        EdgeKind::ActsAs,
        "creates an access key for the user and signs in as it",
    ),
    (
        "iam:CreateLoginProfile",
        EdgeKind::ActsAs,
        "creates a console password for the user and signs in as it",
    ),
    (
        "iam:UpdateLoginProfile",
        EdgeKind::ActsAs,
        "resets the user's console password and signs in as it",
    ),
    (
        "iam:PutUserPolicy",
        EdgeKind::Empowers,
        "writes an inline policy into the user",
    ),
    (
        "iam:AttachUserPolicy",
        EdgeKind::Empowers,
        "attaches a managed policy to the user",
    ),
];

impl ActsSearch {
    fn new(start: NodeIndex) -> ActsSearch {
        ActsSearch {
            order: vec![(start, None)],
            at: HashMap::from([(start, 0)]),
            expanded: 0,
        }
    }

    /// Expands the next node met; `false` when every node met is expanded.
    fn advance(&mut self, index: &ActsIndex) -> bool {
        let Some(&(n, _)) = self.order.get(self.expanded) else {
            return false;
        };
        let from = self.expanded;
        self.expanded += 1;
        for &(t, e) in index.next.get(n.index()).into_iter().flatten() {
            if let std::collections::hash_map::Entry::Vacant(v) = self.at.entry(t) {
                v.insert(self.order.len());
                self.order.push((t, Some((from, e))));
            }
        }
        true
    }

    /// The node at position `i`, searching on as far as needed; `None` past the last.
    fn get(&mut self, i: usize, index: &ActsIndex) -> Option<NodeIndex> {
        while self.order.len() <= i {
            if !self.advance(index) {
                return None;
            }
        }
        self.order.get(i).map(|(n, _)| *n)
    }

    /// The position of `n`, searching on until it is met; `None` when it cannot be.
    fn find(&mut self, n: NodeIndex, index: &ActsIndex) -> Option<usize> {
        loop {
            if let Some(&i) = self.at.get(&n) {
                return Some(i);
            }
            if !self.advance(index) {
                return None;
            }
        }
    }
}

impl AccessGraph<'_> {
    // ----- escalation moves -----

    /// Builds the IAM and STS move edges once: who can act as whom, who can change whose IAM.
    pub(super) fn build_moves(&mut self) {
        if self.moves_built {
            return;
        }
        self.moves_built = true;
        let movers: Vec<usize> = (0..self.subjects.len())
            .filter(|&i| {
                self.subjects
                    .get(i)
                    .is_some_and(|s| matches!(s.kind, NodeKind::User | NodeKind::Role))
            })
            .collect();
        let mut edges = self.assume_role_moves(&movers);
        edges.extend(self.iam_write_moves(&movers));
        for (from, to, kind, step) in edges {
            let (Some(f), Some(t)) = (self.subjects.get(from), self.subjects.get(to)) else {
                continue;
            };
            let (fnode, tnode) = (f.node, t.node);
            self.graph.add_edge(
                fnode,
                tnode,
                Edge {
                    kind,
                    label: step.action.clone(),
                    step: Some(step),
                },
            );
        }
    }

    /// The IAM side of a move by `m`, as `iam` takes it.
    fn mover<'m>(&'m self, m: &'m Subject, scp: Option<&'m [Vec<NamedPolicy>]>) -> iam::Mover<'m> {
        iam::Mover {
            caller: &m.caller,
            unique_id: m.unique_id.as_deref(),
            identity: m.identity.as_deref(),
            boundary: m.boundary.as_ref(),
            scp,
            opts: &self.opts,
        }
    }

    /// AssumeRole: the trust policy names who may ask; each candidate is judged.
    fn assume_role_moves(&self, movers: &[usize]) -> Vec<MoveEdge> {
        let mut edges = Vec::new();
        for role in self.inv.roles() {
            let role_arn = &role.arn;
            let Some(&ri) = self.subject_by_id.get(role_arn) else {
                continue;
            };
            let Some(trust) = self.inv.trust_policies(role_arn) else {
                self.notes.borrow_mut().insert(format!(
                    "the trust policy of `{role_arn}` is not in the inputs: who can assume it is not judged"
                ));
                continue;
            };
            let role_account = role_arn.split(':').nth(4).unwrap_or("");
            for &mi in movers {
                if mi == ri {
                    continue;
                }
                let Some(m) = self.subjects.get(mi) else {
                    continue;
                };
                // Candidates: principals some trust statement may name, as the engine's
                // principal matcher judges it (an entry it cannot judge counts).
                let req = eval::OtherRequest {
                    caller: &m.caller,
                    unique_id: m.unique_id.as_deref(),
                    service: "sts",
                    name: "assumerole",
                    resource: role_arn,
                };
                let named = trust.iter().any(|p| {
                    p.doc.statements.iter().any(|st| {
                        eval::trust_principal_names(st, &req, &self.opts.open) != Ok(None)
                    })
                });
                if !named {
                    continue;
                }
                let scp = self.scp_for(&m.caller.account);
                let mover = self.mover(m, scp.as_deref());
                let mv = iam::decide(
                    &mover,
                    "sts",
                    "assumerole",
                    role_arn,
                    role_account,
                    Some(trust),
                );
                if let Some(step) =
                    self.move_step(m, "sts:AssumeRole", role_arn, "assumes the role", mv)
                {
                    edges.push((mi, ri, EdgeKind::ActsAs, step));
                }
            }
        }
        edges
    }

    /// IAM writes within an account, by principals whose IAM allows some IAM action.
    fn iam_write_moves(&self, movers: &[usize]) -> Vec<MoveEdge> {
        let mut edges = Vec::new();
        for &mi in movers {
            let Some(m) = self.subjects.get(mi) else {
                continue;
            };
            // Only principals whose IAM allows some IAM write are asked further.
            let writes_iam = m.identity.as_deref().is_some_and(|ids| {
                ids.iter().any(|p| {
                    p.doc.statements.iter().any(|st| {
                        st.effect.as_ref().map(|e| e.value) == Some(Effect::Allow)
                            && st
                                .action
                                .as_ref()
                                .is_some_and(|a| eval::action_may_cover_service(a, "iam"))
                    })
                })
            });
            if !writes_iam || m.iam_assumed {
                continue;
            }
            let scp = self.scp_for(&m.caller.account);
            let mover = self.mover(m, scp.as_deref());
            for &ti in movers {
                let Some(t) = self.subjects.get(ti) else {
                    continue;
                };
                if t.caller.account == m.caller.account {
                    self.writes_on((mi, m), (ti, t), &mover, &mut edges);
                }
            }
        }
        edges
    }

    /// The IAM writes by `m` on `t` (same account): on a role, on a user, on a group the
    /// user is in, or a new version of a customer managed policy attached to it. One way to
    /// change `t`'s IAM is enough.
    fn writes_on(
        &self,
        (mi, m): (usize, &Subject),
        (ti, t): (usize, &Subject),
        mover: &iam::Mover<'_>,
        edges: &mut Vec<MoveEdge>,
    ) {
        let mut ask = |action: &str, resource: &str, kind: EdgeKind, how: &str| {
            let (svc, name) = split_action(action);
            let mv = iam::decide(mover, &svc, &name, resource, &m.caller.account, None);
            if let Some(step) = self.move_step(m, action, resource, how, mv) {
                edges.push((mi, ti, kind, step));
                true
            } else {
                false
            }
        };
        let (writes, resource): (&[(&str, EdgeKind, &str)], &str) = if t.kind == NodeKind::Role {
            (&WRITES_ON_ROLE, &t.grant_arn)
        } else {
            (&WRITES_ON_USER, &t.caller.arn)
        };
        let mut done = false;
        for &(action, kind, how) in writes {
            if ti == mi && kind == EdgeKind::ActsAs {
                continue;
            }
            done |= ask(action, resource, kind, how) && kind == EdgeKind::Empowers;
        }
        if !done && t.kind != NodeKind::Role {
            let groups = self
                .inv
                .users()
                .iter()
                .find(|u| u.arn == t.caller.arn)
                .map(|u| u.groups.as_slice())
                .unwrap_or_default();
            'groups: for gname in groups {
                let Some(g) = self.inv.groups().iter().find(|g| g.name == *gname) else {
                    continue;
                };
                let how = format!(
                    "changes the policies of group `{}`, which the user is in",
                    g.name
                );
                for action in ["iam:PutGroupPolicy", "iam:AttachGroupPolicy"] {
                    if ask(action, &g.arn, EdgeKind::Empowers, &how) {
                        done = true;
                        break 'groups;
                    }
                }
            }
        }
        if done {
            return;
        }
        let attached: Vec<String> = if t.kind == NodeKind::Role {
            self.inv
                .roles()
                .iter()
                .find(|r| r.arn == t.grant_arn)
                .map(|r| r.attached.clone())
                .unwrap_or_default()
        } else {
            self.inv
                .users()
                .iter()
                .find(|u| u.arn == t.caller.arn)
                .map(|u| u.attached.clone())
                .unwrap_or_default()
        };
        for a in attached
            .iter()
            .filter(|a| !a.starts_with("arn:aws:iam::aws:"))
        {
            let how = format!("writes a new default version of `{a}`, which is attached to it");
            if ask("iam:CreatePolicyVersion", a, EdgeKind::Empowers, &how) {
                break;
            }
        }
    }

    pub(super) fn move_step(
        &self,
        m: &Subject,
        action: &str,
        target: &str,
        how: &str,
        mv: iam::Move,
    ) -> Option<Step> {
        let (via, conditions) = match mv {
            iam::Move::Yes(v) => (v, Vec::new()),
            iam::Move::Conditional(v, c) => (v, c),
            iam::Move::No => return None,
            iam::Move::Unknown(u) => {
                self.notes.borrow_mut().insert(format!(
                    "whether `{}` can call {action} on `{target}` is not judged: {u}",
                    m.id
                ));
                return None;
            }
        };
        Some(Step {
            actor: m.id.clone(),
            action: action.to_owned(),
            target: target.to_owned(),
            how: how.to_owned(),
            via,
            conditions,
        })
    }

    /// The acts-as edges in search order and their components, built once per graph.
    pub(super) fn acts_index(&self) -> std::rc::Rc<ActsIndex> {
        if let Some(done) = self.acts_index.borrow().as_ref() {
            return std::rc::Rc::clone(done);
        }
        let count = self.graph.node_count();
        let mut next: Vec<Vec<(NodeIndex, petgraph::graph::EdgeIndex)>> = vec![Vec::new(); count];
        let mut acts: DiGraph<(), ()> = DiGraph::with_capacity(count, 0);
        for _ in 0..count {
            acts.add_node(());
        }
        let mut empowers: Vec<Vec<(usize, petgraph::graph::EdgeIndex)>> = vec![Vec::new(); count];
        for n in self.graph.node_indices() {
            let mut writes: Vec<(usize, petgraph::graph::EdgeIndex)> = self
                .graph
                .edges(n)
                .filter(|e| e.weight().kind == EdgeKind::Empowers && e.weight().step.is_some())
                .filter_map(|e| Some((*self.subject_by_node.get(&e.target())?, e.id())))
                .collect();
            writes.sort_by_key(|(i, _)| self.subjects.get(*i).map(|s| s.id.clone()));
            if let Some(slot) = empowers.get_mut(n.index()) {
                *slot = writes;
            }
            let mut out: Vec<(NodeIndex, petgraph::graph::EdgeIndex)> = self
                .graph
                .edges(n)
                .filter(|e| e.weight().kind == EdgeKind::ActsAs && e.weight().step.is_some())
                .map(|e| (e.target(), e.id()))
                .collect();
            // Stable: edges to one target keep the graph's order.
            out.sort_by(|a, b| self.graph[a.0].id.cmp(&self.graph[b.0].id));
            for &(t, _) in &out {
                acts.add_edge(n, t, ());
            }
            if let Some(slot) = next.get_mut(n.index()) {
                *slot = out;
            }
        }
        let components = petgraph::algo::tarjan_scc(&acts);
        let mut component = vec![0; count];
        for (c, members) in components.iter().enumerate() {
            for n in members {
                if let Some(slot) = component.get_mut(n.index()) {
                    *slot = c;
                }
            }
        }
        let built = std::rc::Rc::new(ActsIndex {
            next,
            empowers,
            component,
            components,
        });
        self.acts_index.replace(Some(std::rc::Rc::clone(&built)));
        built
    }

    /// The steps along the search from its start to position `i`.
    pub(super) fn chain(&self, search: &ActsSearch, mut i: usize) -> Vec<Step> {
        let mut steps = Vec::new();
        while let Some(&(_, Some((from, e)))) = search.order.get(i) {
            if let Some(step) = self.graph.edge_weight(e).and_then(|w| w.step.clone()) {
                steps.push(step);
            }
            i = from;
        }
        steps.reverse();
        steps
    }

    /// Whether `si` may reach, by acting as others, a principal from which a move could open
    /// `action` on `ki`: its own CreateGrant or PutKeyPolicy, another's direct access, or an
    /// IAM write. A sound pre-filter for [`Self::escalate`]: decided once per strongly
    /// connected component, key and action.
    pub(super) fn may_escalate(&self, si: usize, ki: usize, action: &Act) -> bool {
        let index = self.acts_index();
        let Some(node) = self.subjects.get(si).map(|s| s.node) else {
            return false;
        };
        let memo_key = (u32::try_from(ki).unwrap_or(u32::MAX), action.slot);
        let known = if action.slot == u16::MAX {
            None
        } else {
            self.escalation_memo.borrow().get(&memo_key).cloned()
        };
        let reaches = match known {
            Some(r) => r,
            None => {
                let r: Reaches = std::rc::Rc::new(RefCell::new(vec![None; index.components.len()]));
                if action.slot != u16::MAX {
                    self.escalation_memo
                        .borrow_mut()
                        .insert(memo_key, std::rc::Rc::clone(&r));
                }
                r
            }
        };
        let Some(&start) = index.component.get(node.index()) else {
            return false;
        };
        let opens = |n: NodeIndex| -> bool {
            let Some(&qi) = self.subject_by_node.get(&n) else {
                return false;
            };
            self.direct(qi, ki, action).usable()
                || self.via_create_grant(qi, ki, action).is_some()
                || self.via_put_key_policy(qi, ki, action).is_some()
                || index.empowers.get(n.index()).is_some_and(|w| !w.is_empty())
        };
        let known = |c: usize| reaches.borrow().get(c).copied().flatten();
        // Depth first over the components `start` reaches, each decided once: only the
        // principals a search from `si` could meet are asked about.
        let mut stack: Vec<(usize, bool)> = vec![(start, false)];
        while let Some((c, children_done)) = stack.pop() {
            if known(c).is_some() {
                continue;
            }
            let Some(members) = index.components.get(c) else {
                continue;
            };
            let successors = || {
                members.iter().flat_map(|&n| {
                    index
                        .next
                        .get(n.index())
                        .into_iter()
                        .flatten()
                        .filter_map(|(t, _)| index.component.get(t.index()).copied())
                        .filter(move |&tc| tc != c)
                })
            };
            let decided = if children_done {
                Some(successors().any(|tc| known(tc) == Some(true)))
            } else if members.iter().any(|&n| opens(n)) {
                Some(true)
            } else {
                stack.push((c, true));
                stack.extend(
                    successors()
                        .filter(|&tc| known(tc).is_none())
                        .map(|tc| (tc, false)),
                );
                None
            };
            if let (Some(on), Some(slot)) = (decided, reaches.borrow_mut().get_mut(c)) {
                *slot = Some(on);
            }
        }
        known(start).unwrap_or(true)
    }

    /// The principals `qi` can change the IAM of, with the step (from the acts-as index,
    /// where they are listed once per graph).
    pub(super) fn empowers(&self, qi: usize, index: &ActsIndex) -> Vec<(usize, Step)> {
        let Some(q) = self.subjects.get(qi) else {
            return Vec::new();
        };
        index
            .empowers
            .get(q.node.index())
            .into_iter()
            .flatten()
            .filter_map(|&(xi, e)| Some((xi, self.graph.edge_weight(e)?.step.clone()?)))
            .collect()
    }

    /// `q` grants itself `action` on `k` with CreateGrant, then uses it: both steps judged by
    /// the engine.
    pub(super) fn via_create_grant(&self, qi: usize, ki: usize, action: &Act) -> Option<Vec<Step>> {
        if !action.grantable {
            return None;
        }
        let (q, k) = (self.subjects.get(qi)?, self.keys.get(ki)?);
        if !self.may_reach(qi, k, self.create_grant.bit) {
            return None;
        }
        let memo_key = (
            u32::try_from(qi).unwrap_or(u32::MAX),
            u32::try_from(ki).unwrap_or(u32::MAX),
            action.slot,
        );
        if let Some(done) = self.grant_memo.borrow().get(&memo_key) {
            return done.clone();
        }
        let found = self.create_grant_for(q, k, action);
        self.grant_memo.borrow_mut().insert(memo_key, found.clone());
        found
    }

    pub(super) fn create_grant_for(
        &self,
        q: &Subject,
        k: &KeySubject,
        action: &Act,
    ) -> Option<Vec<Step>> {
        let action_name: &str = action;
        let bare = action_name
            .split_once(':')
            .map_or(action_name, |(_, n)| n)
            .to_owned();
        let op = crate::catalog::action_index(&bare)
            .and_then(crate::catalog::action)
            .map_or(bare, |a| a.name.to_owned());
        let grant = Grant {
            key_id: Some(k.arn.clone()),
            grant_id: Some("self-granted".into()),
            name: Some(format!("{op} for {}", q.id)),
            grantee: q.grant_arn.clone(),
            grantee_is_service: false,
            grantee_class: crate::arn::classify_aws_principal(&q.grant_arn),
            retiring: None,
            issuing_account: Some(format!("arn:aws:iam::{}:root", k.account)),
            operations: vec![op.clone()],
            constraints: GrantConstraints::default(),
            source: SourceId::NONE,
            span: Span::default(),
            grantee_span: Span::default(),
            operations_span: Span::default(),
            late: crate::grant::LateParts::default(),
        };
        let create = self.run(
            q,
            k,
            "kms:CreateGrant",
            q.identity.clone(),
            None,
            Some(grant.clone()),
        );
        if !create.usable() {
            return None;
        }
        let mut key = (*k.inputs).clone();
        key.grants.get_or_insert_with(Vec::new).push(grant);
        let used = self.run(q, k, action, q.identity.clone(), Some(Arc::new(key)), None);
        if !used.usable() {
            return None;
        }
        let mut first = self.step_of(q, "kms:CreateGrant", k, &create);
        first.how = format!("grants itself {op} ({})", create.how);
        let mut second = self.step_of(q, action, k, &used);
        second.how = format!("uses the grant it created ({})", used.how);
        Some(vec![first, second])
    }

    /// `q` rewrites the key policy to allow itself, then acts under it.
    pub(super) fn via_put_key_policy(
        &self,
        qi: usize,
        ki: usize,
        action: &Act,
    ) -> Option<Vec<Step>> {
        let put = self.direct(qi, ki, &self.put_key_policy);
        if !put.usable() {
            return None;
        }
        let (q, k) = (self.subjects.get(qi)?, self.keys.get(ki)?);
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Written by {id}","Effect":"Allow","Principal":{{"AWS":"{arn}"}},"Action":"kms:*","Resource":"*"}}]}}"#,
            id = q.id.replace('"', ""),
            arn = q.grant_arn.replace('"', "")
        );
        let policy = made_policy("key policy it would write", PolicyKind::Key, &text)?;
        let mut key = (*k.inputs).clone();
        key.policies = Some(vec![policy]);
        key.policy_unknown = None;
        let used = self.run(q, k, action, q.identity.clone(), Some(Arc::new(key)), None);
        if !used.usable() {
            return None;
        }
        let mut first = self.step_of(q, "kms:PutKeyPolicy", k, &put);
        first.how = format!("writes a key policy that allows itself kms:* ({})", put.how);
        let mut second = self.step_of(q, action, k, &used);
        second.how = format!("under the key policy it wrote ({})", used.how);
        Some(vec![first, second])
    }

    /// `x`, given an identity policy allowing `action` on the key, then acts through root
    /// delegation (engine-judged).
    pub(super) fn via_empowered(&self, xi: usize, ki: usize, action: &Act) -> Option<Step> {
        let (x, k) = (self.subjects.get(xi)?, self.keys.get(ki)?);
        let Some(mut identity) = x.identity.as_deref().map(<[NamedPolicy]>::to_vec) else {
            self.notes.borrow_mut().insert(format!(
                "`{}` can be given IAM policies, but its current ones are not all in the inputs: the path is not judged",
                x.id
            ));
            return None;
        };
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{key}"}}]}}"#,
            key = k.arn
        );
        identity.push(made_policy(
            "identity policy written for it",
            PolicyKind::Identity,
            &text,
        )?);
        let used = self.run(x, k, action, Some(identity.into()), None, None);
        if !used.usable() {
            return None;
        }
        let mut step = self.step_of(x, action, k, &used);
        step.how = format!("with the policy written for it ({})", used.how);
        Some(step)
    }

    /// The shortest escalated path for `si` to `action` on `ki`, if any: the principals `si`
    /// can act as are tried nearest first (breadth-first over acts-as edges, by target id;
    /// chains of any length, cycles visited once), and the search goes only as far as the
    /// first that opens the action.
    pub(super) fn escalate(&self, si: usize, ki: usize, action: &Act) -> Option<Vec<Step>> {
        if !self.may_escalate(si, ki, action) {
            return None;
        }
        let index = self.acts_index();
        let k = self.keys.get(ki)?;
        let mut search = ActsSearch::new(self.subjects.get(si)?.node);
        // The first path that needs no condition wins; a conditional one found earlier (a
        // role allowed only under a tag) is kept only in case no other path opens, so that
        // the answer does not depend on which role comes first.
        let mut conditional: Option<Vec<Step>> = None;
        let mut offer = |path: Vec<Step>| -> Option<Vec<Step>> {
            if path.iter().all(|s| s.conditions.is_empty()) {
                return Some(path);
            }
            conditional.get_or_insert(path);
            None
        };
        let mut i = 0;
        while let Some(n) = search.get(i, &index) {
            let at = i;
            i += 1;
            let Some(&qi) = self.subject_by_node.get(&n) else {
                continue;
            };
            let Some(q) = self.subjects.get(qi) else {
                continue;
            };
            if qi != si {
                let d = self.direct(qi, ki, action);
                if d.usable() {
                    let mut path = self.chain(&search, at);
                    path.push(self.step_of(q, action, k, &d));
                    if let Some(p) = offer(path) {
                        return Some(p);
                    }
                }
            }
            if let Some(steps) = self.via_create_grant(qi, ki, action) {
                let mut path = self.chain(&search, at);
                path.extend(steps);
                if let Some(p) = offer(path) {
                    return Some(p);
                }
            }
            if let Some(steps) = self.via_put_key_policy(qi, ki, action) {
                let mut path = self.chain(&search, at);
                path.extend(steps);
                if let Some(p) = offer(path) {
                    return Some(p);
                }
            }
            for (xi, write) in self.empowers(qi, &index) {
                let Some(x_node) = self.subjects.get(xi).map(|x| x.node) else {
                    continue;
                };
                let Some(x_at) = search.find(x_node, &index) else {
                    continue;
                };
                if let Some(last) = self.via_empowered(xi, ki, action) {
                    let mut path = self.chain(&search, at);
                    path.push(write);
                    if xi != qi {
                        path.extend(self.chain(&search, x_at));
                    }
                    path.push(last);
                    if let Some(p) = offer(path) {
                        return Some(p);
                    }
                }
            }
        }
        conditional
    }
}
