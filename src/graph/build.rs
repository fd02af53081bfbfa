//! Building the access graph from the inventory: principals (and classes of principals),
//! keys, aliases, policies and grants, with the edges between them, and the identity
//! summaries the pre-filters use.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};

use super::{
    AccessGraph, Act, Edge, EdgeKind, Extras, KeySubject, Node, NodeKind, Options,
    STRANGER_ACCOUNT, Subject, allow_all,
};
use crate::arn::PrincipalClass;
use crate::eval::{self, Caller, KeyInputs, NamedPolicy};
use crate::inventory::Inventory;
use crate::policy::Effect;

/// Summarises which KMS actions a principal's identity policies could allow on which keys.
/// Sound for the pre-filter: whatever cannot be read precisely counts as covering everything.
/// The actions are the engine's answer for each statement's `Action` ([`eval::kms_actions_covered`]);
/// resource patterns are judged per key by the engine's matcher (see `reach_mask`).
fn summarise(identity: &[NamedPolicy]) -> Cover {
    let mut all = 0u128;
    let mut some = Vec::new();
    let mut exact = Vec::new();
    for p in identity {
        for st in &p.doc.statements {
            if st.broken.is_some() {
                all = u128::MAX;
                continue;
            }
            if st.effect.as_ref().map(|e| e.value) != Some(Effect::Allow) {
                continue;
            }
            let Some(a) = &st.action else { continue };
            let mask = eval::kms_actions_covered(a);
            if mask == 0 {
                continue;
            }
            match &st.resource {
                Some(r) if !r.negated => {
                    for item in &r.items {
                        if item.is_star() || item.raw.contains("${") {
                            all |= mask;
                        } else if !item.raw.contains(['*', '?']) {
                            exact.push((mask, item.raw.clone().into_boxed_str()));
                        } else {
                            some.push((mask, item.parts.clone()));
                        }
                    }
                }
                _ => all |= mask,
            }
        }
    }
    (all, some, exact)
}

/// What `summarise` finds: actions on every key, on keys matching a pattern, on one key.
type Cover = (
    u128,
    Vec<(u128, Vec<crate::pattern::Pattern>)>,
    Vec<(u128, Box<str>)>,
);

impl<'a> AccessGraph<'a> {
    /// Builds the graph over the inventory and the extra inputs.
    pub fn build(inv: &'a Inventory, extras: &'a Extras) -> AccessGraph<'a> {
        let mut g = AccessGraph {
            inv,
            extras,
            graph: DiGraph::new(),
            subjects: Vec::new(),
            subject_by_id: BTreeMap::new(),
            subject_by_node: HashMap::new(),
            acts_index: RefCell::new(None),
            escalation_memo: RefCell::new(HashMap::new()),
            keys: Vec::new(),
            key_by_arn: BTreeMap::new(),
            scp_by_account: RefCell::new(BTreeMap::new()),
            memo: RefCell::new(HashMap::new()),
            grant_memo: RefCell::new(HashMap::new()),
            node_by_id: BTreeMap::new(),
            notes: RefCell::new(BTreeSet::new()),
            iam_taken_empty: RefCell::new(BTreeSet::new()),
            opts: Options {
                residual: true,
                trace: false,
                ..Options::default()
            },
            moves_built: false,
            create_grant: Act::new("kms:CreateGrant"),
            put_key_policy: Act::new("kms:PutKeyPolicy"),
        };
        g.add_principals();
        g.add_keys();
        g
    }

    pub(super) fn node(&mut self, kind: NodeKind, id: &str, label: &str) -> NodeIndex {
        if let Some(&n) = self.node_by_id.get(&(kind, id.to_owned())) {
            return n;
        }
        let n = self.graph.add_node(Node {
            kind,
            id: id.to_owned(),
            label: label.to_owned(),
        });
        self.node_by_id.insert((kind, id.to_owned()), n);
        n
    }

    pub(super) fn edge(&mut self, from: NodeIndex, to: NodeIndex, kind: EdgeKind, label: &str) {
        let exists = self
            .graph
            .edges_connecting(from, to)
            .any(|e| e.weight().kind == kind && e.weight().label == label);
        if !exists {
            self.acts_index.replace(None);
            self.escalation_memo.borrow_mut().clear();
            self.graph.add_edge(
                from,
                to,
                Edge {
                    kind,
                    label: label.to_owned(),
                    step: None,
                },
            );
        }
    }

    pub(super) fn account_has_iam(&self, account: &str) -> bool {
        let in_account = |arn: &str| arn.split(':').nth(4) == Some(account);
        // A plan's or template's principals are not the whole account (R135 v2).
        self.inv.has_iam()
            && (self.inv.roles().iter().any(|r| in_account(&r.arn))
                || self.inv.users().iter().any(|u| in_account(&u.arn)))
    }

    /// Adds a subject (once per id); returns its index.
    pub(super) fn add_subject(
        &mut self,
        id: &str,
        kind: NodeKind,
        caller: Caller,
        unique_id: Option<String>,
    ) -> usize {
        if let Some(&i) = self.subject_by_id.get(id) {
            return i;
        }
        let iam_principal = matches!(kind, NodeKind::User | NodeKind::Role);
        let (identity, boundary, iam_assumed, caller) = if iam_principal {
            let cp = self.inv.caller_policies(&caller);
            let mut caller = caller;
            if let Some(r) = &cp.role_arn {
                caller.role_arn = Some(r.clone());
                caller.role_path_assumed = false;
            }
            if caller.tags.is_empty() {
                caller.tags = cp.tags.clone();
            }
            let extra = self.extras.identity.clone().unwrap_or_default();
            if cp.found {
                let identity = cp.identity.map(|mut v| {
                    v.extend(extra);
                    v
                });
                if identity.is_none() {
                    for n in cp.notes {
                        self.notes.borrow_mut().insert(n);
                    }
                }
                (identity, cp.boundary, false, caller)
            } else if self.extras.identity.is_some() {
                (Some(extra), None, false, caller)
            } else if self.extras.identity_unknown {
                (allow_all().map(|p| vec![p]), None, true, caller)
            } else {
                // Issue 23 item 6: no identity policies given means none, as `can` takes it;
                // the answer says so once (`notes`).
                self.iam_taken_empty.borrow_mut().insert(id.to_owned());
                (Some(Vec::new()), None, false, caller)
            }
        } else if kind == NodeKind::AccountPrincipals || kind == NodeKind::AnyPrincipal {
            match &self.extras.identity {
                Some(v) => (Some(v.clone()), None, false, caller),
                None => (allow_all().map(|p| vec![p]), None, true, caller),
            }
        } else {
            (Some(Vec::new()), None, false, caller)
        };
        let (cover_all, cover_some, cover_exact) = match (&identity, iam_principal && !iam_assumed)
        {
            (Some(ids), true) => summarise(ids),
            _ => (u128::MAX, Vec::new(), Vec::new()),
        };
        let label = match kind {
            NodeKind::User | NodeKind::Role => {
                id.rsplit(['/', ':']).next().unwrap_or(id).to_owned()
            }
            _ => id.to_owned(),
        };
        let node = self.node(kind, id, &label);
        let grant_arn = match kind {
            NodeKind::Role => caller.role_arn.clone().unwrap_or_else(|| id.to_owned()),
            _ => caller.arn.clone(),
        };
        let at = self.subjects.len();
        self.subjects.push(Subject {
            id: id.to_owned(),
            kind,
            caller,
            unique_id,
            identity: identity.map(Into::into),
            boundary,
            iam_assumed,
            grant_arn,
            node,
            cover_all,
            cover_some,
            cover_exact,
            iam_principal: iam_principal || kind == NodeKind::Root,
        });
        self.subject_by_id.insert(id.to_owned(), at);
        self.subject_by_node.insert(node, at);
        at
    }

    /// Adds the subject a policy principal names, if it names one.
    pub(super) fn add_named(
        &mut self,
        class: &PrincipalClass,
        service: Option<&str>,
    ) -> Option<usize> {
        if let Some(s) = service {
            let caller = Caller::parse(s, None).ok()?;
            return Some(self.add_subject(
                &format!("service:{s}"),
                NodeKind::Service,
                caller,
                None,
            ));
        }
        match class {
            PrincipalClass::Any => {
                let caller = Caller::parse(
                    &format!("arn:aws:iam::{STRANGER_ACCOUNT}:role/any-principal"),
                    None,
                )
                .ok()?;
                Some(self.add_subject("*", NodeKind::AnyPrincipal, caller, None))
            }
            PrincipalClass::Account { account, partition } => {
                let root = format!("arn:{partition}:iam::{account}:root");
                let caller = Caller::parse(&root, None).ok()?;
                let r = self.add_subject(&root, NodeKind::Root, caller, None);
                if !self.account_has_iam(account) {
                    let caller = Caller::parse(
                        &format!("arn:{partition}:iam::{account}:role/any-principal"),
                        None,
                    )
                    .ok()?;
                    self.add_subject(
                        &format!("account:{account}"),
                        NodeKind::AccountPrincipals,
                        caller,
                        None,
                    );
                }
                Some(r)
            }
            PrincipalClass::User { arn, .. } => {
                let caller = Caller::parse(arn, None).ok()?;
                Some(self.add_subject(arn, NodeKind::User, caller, None))
            }
            PrincipalClass::Role { arn, .. } => {
                let caller = Caller::parse(arn, Some(arn)).ok()?;
                Some(self.add_subject(arn, NodeKind::Role, caller, None))
            }
            _ => None,
        }
    }

    /// A user's or role's subject node; its account is noted in `accounts`.
    fn iam_subject(
        &mut self,
        arn: &str,
        kind: NodeKind,
        caller: Caller,
        unique_id: Option<String>,
        accounts: &mut BTreeSet<String>,
    ) -> Option<NodeIndex> {
        let i = self.add_subject(arn, kind, caller, unique_id);
        let n = self.subjects.get(i).map(|s| s.node)?;
        if let Some(a) = arn.split(':').nth(4) {
            accounts.insert(a.to_owned());
        }
        Some(n)
    }

    /// Edges from `n` to each managed policy attached to it.
    fn attach_policies(&mut self, n: NodeIndex, attached: &[String]) {
        for a in attached {
            let p = self.node(NodeKind::Policy, a, a.rsplit('/').next().unwrap_or(a));
            self.edge(n, p, EdgeKind::HasPolicy, "attached");
        }
    }

    pub(super) fn add_principals(&mut self) {
        let inv = self.inv;
        let mut accounts = BTreeSet::new();
        for g in inv.groups() {
            let n = self.node(NodeKind::Group, &g.arn, &g.name);
            self.attach_policies(n, &g.attached);
        }
        for u in inv.users() {
            let Ok(caller) = Caller::parse(&u.arn, None) else {
                continue;
            };
            let Some(n) =
                self.iam_subject(&u.arn, NodeKind::User, caller, u.id.clone(), &mut accounts)
            else {
                continue;
            };
            for gname in &u.groups {
                if let Some(g) = inv.groups().iter().find(|g| g.name == *gname) {
                    let gn = self.node(NodeKind::Group, &g.arn, &g.name);
                    self.edge(n, gn, EdgeKind::MemberOf, "member of");
                }
            }
            self.attach_policies(n, &u.attached);
        }
        for r in inv.roles() {
            let Ok(caller) = Caller::parse(&r.arn, Some(&r.arn)) else {
                continue;
            };
            let Some(n) =
                self.iam_subject(&r.arn, NodeKind::Role, caller, r.id.clone(), &mut accounts)
            else {
                continue;
            };
            self.attach_policies(n, &r.attached);
        }
        for a in accounts {
            if let Ok(caller) = Caller::parse(&a, None) {
                let id = caller.arn.clone();
                self.add_subject(&id, NodeKind::Root, caller, None);
            }
        }
    }

    pub(super) fn add_keys(&mut self) {
        let mut arns = self.inv.key_arns();
        if let Some(k) = &self.extras.key {
            if !arns.contains(k) {
                arns.push(k.clone());
            }
        }
        arns.sort();
        for arn in arns {
            let mut inputs = match self.inv.key_inputs(&arn) {
                Ok(i) => i,
                Err(e) => {
                    self.notes
                        .borrow_mut()
                        .insert(format!("key `{arn}` left out: {e}"));
                    continue;
                }
            };
            if self.extras.key.as_deref() == Some(arn.as_str()) {
                if let Some(p) = &self.extras.key_policy {
                    inputs.policies = Some(p.clone());
                    inputs.policy_unknown = None;
                }
                if !self.extras.grants.is_empty() {
                    let mut gs = self.extras.grants.clone();
                    // R79: a grant whose `KeyId` names another key stays that key's.
                    for g in &mut gs {
                        g.bind_to_key(&arn, &inputs.facts.key_id);
                    }
                    inputs.grants.get_or_insert_with(Vec::new).extend(gs);
                }
            }
            self.add_key(arn, inputs);
        }
        for (name, alias_arn, target) in self.inv.aliases() {
            let Some(key) = target.and_then(|t| self.inv.resolve_key(t)) else {
                continue;
            };
            if let Some(&k) = self.key_by_arn.get(&key) {
                let Some(kn) = self.keys.get(k).map(|k| k.node) else {
                    continue;
                };
                let an = self.node(NodeKind::Alias, alias_arn.unwrap_or(name), name);
                self.edge(an, kn, EdgeKind::AliasOf, "alias of");
            }
        }
    }

    pub(super) fn add_key(&mut self, arn: String, inputs: KeyInputs) {
        let account = inputs.facts.account.clone();
        let kn = self.node(NodeKind::Key, &arn, arn.rsplit('/').next().unwrap_or(&arn));
        let mut named = BTreeSet::new();
        let mut grant_accounts = BTreeSet::new();
        let mut open = inputs.policies.is_none();
        if inputs.policies.is_none() {
            let why = inputs
                .policy_unknown
                .clone()
                .unwrap_or_else(|| format!("the key policy of `{arn}` is not in the inputs"));
            self.notes.borrow_mut().insert(format!(
                "{why}: every answer about this key is undetermined (give it with `--key-policy` or `aws kms get-key-policy` output)"
            ));
        }
        for p in inputs.policies.iter().flatten() {
            let pn = self.node(
                NodeKind::Policy,
                &format!("{arn} › {}", p.name),
                "key policy",
            );
            self.edge(kn, pn, EdgeKind::HasPolicy, "key policy");
            for st in &p.doc.statements {
                if st.broken.is_some() {
                    open = true;
                    continue;
                }
                if st.effect.as_ref().map(|e| e.value) != Some(Effect::Allow) {
                    continue;
                }
                let Some(pc) = &st.principal else { continue };
                if pc.negated {
                    open = true;
                    continue;
                }
                let actions = st
                    .action
                    .as_ref()
                    .map(|a| {
                        let items: Vec<&str> = a.items.iter().map(|i| i.raw.as_str()).collect();
                        let mut s = items.join(", ");
                        if a.negated {
                            s = format!("all but {s}");
                        }
                        s
                    })
                    .unwrap_or_default();
                for e in &pc.entries {
                    let service =
                        (e.ty == crate::policy::PrincipalType::Service).then_some(e.value.as_str());
                    match &e.class {
                        PrincipalClass::Any => open = true,
                        PrincipalClass::UniqueId | PrincipalClass::Malformed(_) => open = true,
                        PrincipalClass::User { arn, .. }
                        | PrincipalClass::Role { arn, .. }
                        | PrincipalClass::FederatedUser { arn, .. } => {
                            named.insert(arn.clone());
                        }
                        PrincipalClass::AssumedRole { arn, .. } => {
                            named.insert(arn.clone());
                            // The session's role, in ARN form without a path.
                            if let Some((head, rest)) = arn.split_once(":assumed-role/") {
                                if let Some((role, _)) = rest.split_once('/') {
                                    named.insert(format!(
                                        "{}:role/{role}",
                                        head.replace(":sts:", ":iam:")
                                    ));
                                }
                            }
                        }
                        _ => {}
                    }
                    let Some(si) = self.add_named(&e.class, service) else {
                        continue;
                    };
                    let Some(sn) = self.subjects.get(si).map(|s| s.node) else {
                        continue;
                    };
                    if let PrincipalClass::Account { account: a, .. } = &e.class {
                        let an = self.node(NodeKind::Account, &format!("account:{a}"), a);
                        self.edge(kn, an, EdgeKind::RootDelegation, &actions);
                        self.edge(an, sn, EdgeKind::MemberOf, "root");
                        if let Some(&ci) = self.subject_by_id.get(&format!("account:{a}")) {
                            if let Some(cn) = self.subjects.get(ci).map(|s| s.node) {
                                self.edge(an, cn, EdgeKind::MemberOf, "IAM principals");
                            }
                        }
                    } else {
                        self.edge(kn, sn, EdgeKind::KeyPolicyAllows, &actions);
                    }
                }
            }
        }
        for g in inputs.grants.iter().flatten() {
            let gid = format!("{arn} › grant {}", g.label());
            let gn = self.node(NodeKind::Grant, &gid, &format!("grant {}", g.label()));
            self.edge(kn, gn, EdgeKind::HasGrant, "grant");
            let service = g.grantee_is_service.then_some(g.grantee.as_str());
            match &g.grantee_class {
                PrincipalClass::Account { account, .. } => {
                    grant_accounts.insert(account.clone());
                }
                PrincipalClass::User { arn, .. }
                | PrincipalClass::Role { arn, .. }
                | PrincipalClass::AssumedRole { arn, .. } => {
                    named.insert(arn.clone());
                }
                PrincipalClass::UniqueId => open = true,
                _ => {}
            }
            // R133: a grantee known only after apply may be anyone: the any-principal row
            // stands for it, and the engine answers it undetermined.
            let class = if g.late.grantee {
                &PrincipalClass::Any
            } else {
                &g.grantee_class
            };
            if let Some(si) = self.add_named(class, service) {
                let Some(sn) = self.subjects.get(si).map(|s| s.node) else {
                    continue;
                };
                self.edge(gn, sn, EdgeKind::GrantTo, &g.operations.join(", "));
            }
        }
        let named_subjects = self
            .subjects
            .iter()
            .enumerate()
            .filter(|(_, s)| named.contains(&s.caller.arn) || named.contains(&s.grant_arn))
            .map(|(i, _)| i)
            .collect();
        let at = self.keys.len();
        self.key_by_arn.insert(arn.clone(), at);
        self.keys.push(KeySubject {
            arn,
            account,
            inputs: Arc::new(inputs),
            node: kn,
            named,
            grant_accounts,
            named_subjects,
            subjects_known: self.subjects.len(),
            open,
            statement_index: std::cell::OnceCell::new(),
            narrowed: RefCell::new(HashMap::new()),
        });
    }

    /// What the analysis could not judge.
    pub(crate) fn notes(&self) -> Vec<String> {
        let mut notes: Vec<String> = self.notes.borrow().iter().cloned().collect();
        let empty = self.iam_taken_empty.borrow();
        if !empty.is_empty() {
            let mut names: Vec<&str> = empty.iter().map(String::as_str).take(5).collect();
            if empty.len() > 5 {
                names.push("…");
            }
            notes.push(format!(
                "no identity policies were given for {} user(s) or role(s) ({}): taken as none, so they are listed only for what key policies and grants give them alone; a principal missing here may still have access through IAM policies not given (give `--identity-policy` or the account's authorization details, or `--identity-unknown` to show such access as conditional on their IAM)",
                empty.len(),
                names.join(", ")
            ));
        }
        notes
    }

    pub(super) fn scp_for(&self, account: &str) -> Option<crate::eval::Levels> {
        if let Some(s) = &self.extras.scp {
            return Some(s.clone());
        }
        self.scp_by_account
            .borrow_mut()
            .entry(account.to_owned())
            .or_insert_with(|| self.inv.scp_levels(account))
            .clone()
    }
}
