//! The access graph: who can use a key, what a principal can reach, and the paths in between.
//!
//! Owns building the inventory into a petgraph graph — accounts, principals (and classes of
//! principals), keys, aliases, policies and grants, with edges for group membership, policy
//! attachment, role trust, root delegation, key-policy access, grants and the escalation moves
//! — and answering `who-can`, `what-can` and `matrix` on it. The graph proposes; the engine
//! confirms: every KMS step of every answer is a real request through [`crate::eval::evaluate`]
//! (residual mode, so request keys nobody gave come back as conditions), and every IAM or STS
//! step is judged by `iam` with the same policy model. `NodeIndex` and the petgraph types never
//! leave this module.
//!
//! Escalation moves (issue: access graph, item 4):
//! - `sts:AssumeRole` on a role (trust policy and the caller's IAM), chains of any length;
//! - credentials for a user (`iam:CreateAccessKey`, `iam:CreateLoginProfile`,
//!   `iam:UpdateLoginProfile`) and a rewritten trust policy (`iam:UpdateAssumeRolePolicy`),
//!   which let the mover act as that principal too;
//! - `kms:CreateGrant` on the key, granting itself the operation (the engine judges the
//!   CreateGrant request with that grantee and operation, so `kms:GrantOperations`,
//!   `kms:GranteePrincipal` and `kms:GrantIsForAWSResource` conditions hold or fail as AWS
//!   would), then the operation under that grant;
//! - `kms:PutKeyPolicy` on the key, writing a policy that allows itself, then the action under
//!   that policy;
//! - an IAM write (`iam:PutRolePolicy`, `iam:AttachRolePolicy`, `iam:PutUserPolicy`,
//!   `iam:AttachUserPolicy`, `iam:PutGroupPolicy`, `iam:AttachGroupPolicy`,
//!   `iam:CreatePolicyVersion`) that gives a principal it can act as a policy allowing the
//!   action, then the action through root delegation.

mod export;
mod iam;

pub use export::ExportFormat;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::arn::PrincipalClass;
use crate::eval::{
    self, Caller, CallerKind, Decision, Inputs, KeyInputs, NamedPolicy, Options, Request,
};
use crate::grant::{Grant, GrantConstraints};
use crate::inventory::Inventory;
use crate::policy::{Effect, PolicyKind};
use crate::source::{SourceId, Span};

/// Default cap on the nodes of an access graph (`--max-graph-nodes`).
pub const DEFAULT_MAX_GRAPH_NODES: usize = 5_000_000;

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    /// An AWS account.
    Account,
    /// An account's root user.
    Root,
    /// An IAM user.
    User,
    /// An IAM group.
    Group,
    /// An IAM role (standing for its sessions).
    Role,
    /// A service principal.
    Service,
    /// Every principal (`"*"`).
    AnyPrincipal,
    /// Any principal of one account whose own IAM allows it.
    AccountPrincipals,
    /// A KMS key.
    Key,
    /// A KMS alias.
    Alias,
    /// A policy document.
    Policy,
    /// A KMS grant.
    Grant,
}

impl NodeKind {
    /// The word used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Account => "account",
            NodeKind::Root => "root",
            NodeKind::User => "user",
            NodeKind::Group => "group",
            NodeKind::Role => "role",
            NodeKind::Service => "service",
            NodeKind::AnyPrincipal => "any-principal",
            NodeKind::AccountPrincipals => "account-principals",
            NodeKind::Key => "key",
            NodeKind::Alias => "alias",
            NodeKind::Policy => "policy",
            NodeKind::Grant => "grant",
        }
    }
}

/// A node: its kind, identity (an ARN or a class such as `account:444455556666`) and label.
#[derive(Debug, Clone)]
pub struct Node {
    /// Kind.
    pub kind: NodeKind,
    /// Identity.
    pub id: String,
    /// Short label for drawings.
    pub label: String,
}

/// What an edge stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EdgeKind {
    /// User → group.
    MemberOf,
    /// Principal → policy attached to or embedded in it.
    HasPolicy,
    /// Principal → role or user it can act as (AssumeRole, credentials, trust rewrite).
    ActsAs,
    /// Key → account whose IAM the key policy delegates to (R50).
    RootDelegation,
    /// Key → principal its key policy allows.
    KeyPolicyAllows,
    /// Key → grant on it.
    HasGrant,
    /// Grant → grantee.
    GrantTo,
    /// Alias → key.
    AliasOf,
    /// Principal → key on which it can create grants or rewrite the policy.
    Escalates,
    /// Principal → principal whose IAM policies it can change.
    Empowers,
}

impl EdgeKind {
    /// The word used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::MemberOf => "member-of",
            EdgeKind::HasPolicy => "has-policy",
            EdgeKind::ActsAs => "acts-as",
            EdgeKind::RootDelegation => "root-delegation",
            EdgeKind::KeyPolicyAllows => "key-policy-allows",
            EdgeKind::HasGrant => "has-grant",
            EdgeKind::GrantTo => "grant-to",
            EdgeKind::AliasOf => "alias-of",
            EdgeKind::Escalates => "escalates",
            EdgeKind::Empowers => "empowers",
        }
    }
}

/// An edge: kind and label (the actions or move it stands for).
#[derive(Debug, Clone)]
pub struct Edge {
    /// Kind.
    pub kind: EdgeKind,
    /// Label.
    pub label: String,
    /// For moves: the step that makes it.
    step: Option<Step>,
}

/// One explained step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Who acts.
    pub actor: String,
    /// The action (`sts:AssumeRole`, `kms:CreateGrant`, `kms:Decrypt`).
    pub action: String,
    /// On what.
    pub target: String,
    /// How it is allowed: the engine's path (`key policy`, `IAM through root delegation`,
    /// `grant`) or the move.
    pub how: String,
    /// The statements or grants that allow it.
    pub via: Vec<String>,
    /// Conditions it needs (AND).
    pub conditions: Vec<String>,
}

/// A row's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RowDecision {
    /// Allowed.
    Allow,
    /// Allowed when the conditions hold.
    Conditional,
    /// The inputs do not settle it (the reasons say why).
    Undetermined,
}

impl RowDecision {
    /// The word used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            RowDecision::Allow => "allow",
            RowDecision::Conditional => "conditional",
            RowDecision::Undetermined => "undetermined",
        }
    }
}

/// One answer row: a principal (or class) that can perform an action on a key, and how.
#[derive(Debug, Clone)]
pub struct Row {
    /// An ARN, or a class: `*`, `account:444455556666`, `service:s3.amazonaws.com`.
    pub principal: String,
    /// The principal's kind.
    pub kind: NodeKind,
    /// The key ARN.
    pub key: String,
    /// The action (`kms:Decrypt`).
    pub action: String,
    /// Decision.
    pub decision: RowDecision,
    /// Conditions: for a conditional row, alternatives (OR), each a conjunction in words.
    pub conditions: Vec<String>,
    /// For an undetermined row, why.
    pub reasons: Vec<String>,
    /// The steps from the principal to the action.
    pub path: Vec<Step>,
    /// The path goes through an escalation move.
    pub escalated: bool,
    /// The principal's IAM policies are not in the inputs: the row assumes they allow.
    pub iam_assumed: bool,
}

/// Which paths to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paths {
    /// Only the principal's own access.
    Direct,
    /// Escalation moves too.
    All,
}

/// Inputs given beside the inventory (the flags `can` takes).
#[derive(Debug, Default)]
pub struct Extras {
    /// Key policies for the key in question (`--key-policy`): they replace the inventory's.
    pub key_policy: Option<Vec<NamedPolicy>>,
    /// Grants on the key in question (`--grants`).
    pub grants: Vec<Grant>,
    /// Identity policies (`--identity-policy`): added to every principal's own, and taken as
    /// the IAM of principals the inventory does not hold.
    pub identity: Option<Vec<NamedPolicy>>,
    /// SCP levels (`--scp`), for every principal.
    pub scp: Option<crate::eval::Levels>,
    /// RCP levels (`--rcp`), for every key.
    pub rcp: Option<crate::eval::Levels>,
    /// The key in question (`--key`), as an ARN.
    pub key: Option<String>,
}

/// How a KMS request came out.
#[derive(Debug, Clone)]
enum Outcome {
    Allow,
    Conditional(Vec<String>),
    Undetermined(Vec<String>),
    Denied,
}

/// The engine's answer for one request, kept for paths.
#[derive(Debug, Clone)]
struct Direct {
    outcome: Outcome,
    how: String,
    via: Vec<String>,
}

impl Direct {
    fn denied() -> Direct {
        Direct {
            outcome: Outcome::Denied,
            how: String::new(),
            via: Vec::new(),
        }
    }

    fn usable(&self) -> bool {
        matches!(self.outcome, Outcome::Allow | Outcome::Conditional(_))
    }
}

/// A principal or class of principals the analysis asks about.
#[derive(Debug)]
struct Subject {
    id: String,
    kind: NodeKind,
    caller: Caller,
    unique_id: Option<String>,
    /// Identity policies as the engine takes them; `None` when incomplete.
    identity: Option<Arc<[NamedPolicy]>>,
    boundary: Option<NamedPolicy>,
    /// The inputs do not hold this principal's IAM: answers assume it allows, and say so.
    iam_assumed: bool,
    /// The ARN a grant or policy names it by (the role ARN for a role).
    grant_arn: String,
    node: NodeIndex,
    /// Pre-filter: actions its IAM allows on every key, and on keys matching a pattern.
    cover_all: u128,
    cover_some: Vec<(u128, Vec<crate::pattern::Pattern>)>,
    /// Actions its IAM allows on one key ARN written out in full.
    cover_exact: Vec<(u128, Box<str>)>,
    /// It is matched by identity (user, role, root): the IAM side matters.
    iam_principal: bool,
}

/// For each key policy of a key, the positions of the statements kept (`None`: all).
type Kept = Vec<Option<Vec<usize>>>;

/// A key with what the engine needs.
#[derive(Debug)]
struct KeySubject {
    arn: String,
    account: String,
    inputs: Arc<KeyInputs>,
    node: NodeIndex,
    /// ARNs its key policy or grants name directly (role ARNs for roles).
    named: BTreeSet<String>,
    /// Accounts its grants name as grantee.
    grant_accounts: BTreeSet<String>,
    /// The subjects `named` stands for, among the first `subjects_known`.
    named_subjects: std::collections::HashSet<usize>,
    subjects_known: usize,
    /// Some statement may name anyone (`*`, `NotPrincipal`, a unique id), or the policy is
    /// not known: every principal is asked.
    open: bool,
    /// Each key policy's statements by the callers they can concern (R24), built when asked.
    statement_index: std::cell::OnceCell<Vec<crate::inventory::StatementIndex>>,
    /// The key's inputs narrowed for callers, by the statement positions kept per policy.
    narrowed: RefCell<HashMap<Kept, Arc<KeyInputs>>>,
}

/// The acts-as edges out of every node, in the order searches take them (by target id), and
/// the graph's strongly connected components under acts-as: principals that can all act as
/// one another form one component, so whether a principal can reach one that opens an action
/// is decided once per component rather than by a search from every principal.
#[derive(Debug)]
struct ActsIndex {
    /// By node index: (target, edge) for each acts-as edge with a step, sorted by target id.
    next: Vec<Vec<(NodeIndex, petgraph::graph::EdgeIndex)>>,
    /// By node index: the subjects whose IAM it can change, by subject id, with the edge.
    empowers: Vec<Vec<(usize, petgraph::graph::EdgeIndex)>>,
    /// By node index: its component.
    component: Vec<usize>,
    /// Components, each a list of nodes, successors before predecessors (Tarjan's order).
    components: Vec<Vec<NodeIndex>>,
}

/// For each acts-as component, whether a move out of it (or a component it reaches) may open
/// an action on a key: `None` until asked.
type Reaches = std::rc::Rc<RefCell<Vec<Option<bool>>>>;

/// A breadth-first search over acts-as edges, advanced only as far as asked: nodes in the
/// order the search meets them, each with the position of the node it was reached from and
/// the edge taken.
struct ActsSearch {
    order: Vec<(NodeIndex, Option<(usize, petgraph::graph::EdgeIndex)>)>,
    at: HashMap<NodeIndex, usize>,
    expanded: usize,
}

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

/// Nodes, and edges as (from, to, edge) positions in the node list.
pub type View = (Vec<Node>, Vec<(usize, usize, Edge)>);

/// A memo key: subject, key, action slot.
type Cell = (u32, u32, u16);

/// The most edges `graph` draws.
pub const MAX_DRAWN_EDGES: usize = 20_000;

/// The account no policy names, for the "any principal" class.
const STRANGER_ACCOUNT: &str = "000011112222";

/// The access graph over one inventory, with the analyses on it.
#[derive(Debug)]
pub struct AccessGraph<'a> {
    inv: &'a Inventory,
    extras: &'a Extras,
    graph: DiGraph<Node, Edge>,
    subjects: Vec<Subject>,
    subject_by_id: BTreeMap<String, usize>,
    subject_by_node: HashMap<NodeIndex, usize>,
    /// The acts-as edges in search order and their strongly connected components: built on
    /// first use, dropped when an edge is added.
    acts_index: RefCell<Option<std::rc::Rc<ActsIndex>>>,
    /// Per key and action slot: for each component, whether a principal in it or in a
    /// component it can reach might open the action through a move (see `may_escalate`).
    escalation_memo: RefCell<HashMap<(u32, u16), Reaches>>,
    keys: Vec<KeySubject>,
    key_by_arn: BTreeMap<String, usize>,
    scp_by_account: RefCell<BTreeMap<String, Option<crate::eval::Levels>>>,
    memo: RefCell<HashMap<Cell, Direct>>,
    /// CreateGrant escalations found (or not) per principal, key and operation.
    grant_memo: RefCell<HashMap<Cell, Option<Vec<Step>>>>,
    node_by_id: BTreeMap<(NodeKind, String), NodeIndex>,
    /// What the analysis could not judge, in sentences.
    notes: RefCell<BTreeSet<String>>,
    opts: Options,
    moves_built: bool,
    create_grant: Act,
    put_key_policy: Act,
}

fn allow_all() -> Option<NamedPolicy> {
    Some(NamedPolicy {
        name: "its own IAM policies (assumed to allow)".into(),
        doc: crate::inventory::allow_all()?,
    })
}

/// A policy made for a path's hypothetical step, parsed like any other.
fn made_policy(name: &str, kind: PolicyKind, text: &str) -> Option<NamedPolicy> {
    let j = crate::json::parse(text).ok()?;
    let (doc, _) = crate::policy::parse_policy(&j, SourceId::NONE, kind);
    Some(NamedPolicy {
        name: name.into(),
        doc: Arc::new(doc),
    })
}

/// The action's index in the catalogue, for memo keys (`u16::MAX` for a multi-check action).
fn action_slot(action: &str) -> u16 {
    let bare = action.split_once(':').map_or(action, |(_, n)| n);
    crate::catalog::action_index(bare)
        .and_then(|i| u16::try_from(i).ok())
        .unwrap_or(u16::MAX)
}

fn action_bit(action: &str) -> u128 {
    let bare = action.split_once(':').map_or(action, |(_, n)| n);
    crate::catalog::action_index(bare).map_or(u128::MAX, |i| 1u128 << i)
}

fn grantable(action: &str) -> bool {
    let bare = action.split_once(':').map_or(action, |(_, n)| n);
    crate::catalog::action_index(bare)
        .and_then(crate::catalog::action)
        .is_some_and(|a| a.grantable)
}

/// A KMS action with what the hot paths need, looked up once.
#[derive(Debug, Clone)]
struct Act {
    name: String,
    bit: u128,
    slot: u16,
    grantable: bool,
}

impl Act {
    fn new(action: &str) -> Act {
        Act {
            name: action.to_owned(),
            bit: action_bit(action),
            slot: action_slot(action),
            grantable: grantable(action),
        }
    }
}

impl std::fmt::Display for Act {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl std::ops::Deref for Act {
    type Target = str;
    fn deref(&self) -> &str {
        &self.name
    }
}

/// Lower-case `service`, `name` of an IAM action.
fn split_action(action: &str) -> (String, String) {
    let (s, n) = action.split_once(':').unwrap_or(("", action));
    (s.to_ascii_lowercase(), n.to_ascii_lowercase())
}

/// The engine's path name (`6a key policy names the caller`, `6d grant`…). Without one, the
/// words follow the decision: only an `allow` is "allowed"; an answer the inputs leave open
/// says so, with or without conditions (R46 step 7: never fail open, not even in words).
fn describe_path(path: Option<&str>, decision: Decision, conditional: bool) -> String {
    match (path, decision) {
        (Some(p), _) => p.to_owned(),
        (None, Decision::Allow) => "allowed".to_owned(),
        (None, Decision::Undetermined) if conditional => {
            "allowed only if the conditions hold".to_owned()
        }
        (None, Decision::Undetermined) => "not settled by the inputs".to_owned(),
        (None, Decision::ExplicitDeny | Decision::ImplicitDeny) => "denied".to_owned(),
    }
}

/// Summarises which KMS actions a principal's identity policies could allow on which keys.
/// Sound for the pre-filter: whatever cannot be read precisely counts as covering everything.
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
            let mask = if a.negated {
                u128::MAX
            } else {
                a.items.iter().fold(0u128, |m, i| {
                    m | if i.service == "*" || i.service.eq_ignore_ascii_case("kms") {
                        i.kms_mask
                    } else {
                        0
                    }
                })
            };
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

/// Whether a resource pattern (split into ARN parts) may match a key ARN.
fn pattern_may_match(parts: &[crate::pattern::Pattern], arn: &str) -> bool {
    let mut texts = [""; 6];
    for (slot, t) in texts.iter_mut().zip(arn.splitn(6, ':')) {
        *slot = t;
    }
    match parts {
        [one] => one.matches(arn),
        p if p.len() == 6 => p.iter().zip(&texts).all(|(p, t)| p.matches(t)),
        // Short patterns (Q11): count them as matching, the engine decides.
        _ => true,
    }
}

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

    fn node(&mut self, kind: NodeKind, id: &str, label: &str) -> NodeIndex {
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

    fn edge(&mut self, from: NodeIndex, to: NodeIndex, kind: EdgeKind, label: &str) {
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

    fn account_has_iam(&self, account: &str) -> bool {
        let in_account = |arn: &str| arn.split(':').nth(4) == Some(account);
        // A plan's or template's principals are not the whole account (R135 v2).
        self.inv.has_iam()
            && (self.inv.roles().iter().any(|r| in_account(&r.arn))
                || self.inv.users().iter().any(|u| in_account(&u.arn)))
    }

    /// Adds a subject (once per id); returns its index.
    fn add_subject(
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
            } else {
                (allow_all().map(|p| vec![p]), None, true, caller)
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
    fn add_named(&mut self, class: &PrincipalClass, service: Option<&str>) -> Option<usize> {
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

    fn add_principals(&mut self) {
        let inv = self.inv;
        let mut accounts = BTreeSet::new();
        for g in inv.groups() {
            let n = self.node(NodeKind::Group, &g.arn, &g.name);
            for a in &g.attached {
                let p = self.node(NodeKind::Policy, a, a.rsplit('/').next().unwrap_or(a));
                self.edge(n, p, EdgeKind::HasPolicy, "attached");
            }
        }
        for u in inv.users() {
            let Ok(caller) = Caller::parse(&u.arn, None) else {
                continue;
            };
            let i = self.add_subject(&u.arn, NodeKind::User, caller, u.id.clone());
            let Some(n) = self.subjects.get(i).map(|s| s.node) else {
                continue;
            };
            if let Some(a) = u.arn.split(':').nth(4) {
                accounts.insert(a.to_owned());
            }
            for gname in &u.groups {
                if let Some(g) = inv.groups().iter().find(|g| g.name == *gname) {
                    let gn = self.node(NodeKind::Group, &g.arn, &g.name);
                    self.edge(n, gn, EdgeKind::MemberOf, "member of");
                }
            }
            for a in &u.attached {
                let p = self.node(NodeKind::Policy, a, a.rsplit('/').next().unwrap_or(a));
                self.edge(n, p, EdgeKind::HasPolicy, "attached");
            }
        }
        for r in inv.roles() {
            let Ok(caller) = Caller::parse(&r.arn, Some(&r.arn)) else {
                continue;
            };
            let i = self.add_subject(&r.arn, NodeKind::Role, caller, r.id.clone());
            let Some(n) = self.subjects.get(i).map(|s| s.node) else {
                continue;
            };
            if let Some(a) = r.arn.split(':').nth(4) {
                accounts.insert(a.to_owned());
            }
            for a in &r.attached {
                let p = self.node(NodeKind::Policy, a, a.rsplit('/').next().unwrap_or(a));
                self.edge(n, p, EdgeKind::HasPolicy, "attached");
            }
        }
        for a in accounts {
            if let Ok(caller) = Caller::parse(&a, None) {
                let id = caller.arn.clone();
                self.add_subject(&id, NodeKind::Root, caller, None);
            }
        }
    }

    fn add_keys(&mut self) {
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

    fn add_key(&mut self, arn: String, inputs: KeyInputs) {
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
            if let Some(si) = self.add_named(&g.grantee_class, service) {
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

    /// Key ARNs in the graph, sorted.
    pub fn key_arns(&self) -> Vec<&str> {
        self.key_by_arn.keys().map(String::as_str).collect()
    }

    /// What the analysis could not judge.
    pub fn notes(&self) -> Vec<String> {
        self.notes.borrow().iter().cloned().collect()
    }

    fn scp_for(&self, account: &str) -> Option<crate::eval::Levels> {
        if let Some(s) = &self.extras.scp {
            return Some(s.clone());
        }
        self.scp_by_account
            .borrow_mut()
            .entry(account.to_owned())
            .or_insert_with(|| self.inv.scp_levels(account))
            .clone()
    }

    /// The KMS actions `s` could possibly be allowed on `k` (sound pre-filter: an action
    /// outside the mask is one the engine would deny). Every door needs either the key policy
    /// or a grant naming the principal itself (then everything is possible), or an identity
    /// policy allowing the action on the key (R46 steps 6–6d).
    fn reach_mask(&self, si: usize, k: &KeySubject) -> u128 {
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
            || (!k.grant_accounts.is_empty() && k.grant_accounts.contains(&s.caller.account))
        {
            return u128::MAX;
        }
        let mut mask = s.cover_all;
        for (m, arn) in &s.cover_exact {
            if m & !mask != 0 && **arn == *k.arn {
                mask |= m;
            }
        }
        for (m, parts) in &s.cover_some {
            if m & !mask != 0 && pattern_may_match(parts, &k.arn) {
                mask |= m;
            }
        }
        mask
    }

    fn may_reach(&self, si: usize, k: &KeySubject, bit: u128) -> bool {
        self.reach_mask(si, k) & bit != 0
    }

    /// Whether the subject has any move (acts-as or IAM change) out of it.
    fn alone(&self, si: usize) -> bool {
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
    fn run(
        &self,
        s: &Subject,
        k: &KeySubject,
        action: &str,
        identity: Option<Arc<[NamedPolicy]>>,
        key: Option<Arc<KeyInputs>>,
        grant_request: Option<Grant>,
    ) -> Direct {
        let inputs = Inputs {
            keys: vec![key.unwrap_or_else(|| Self::key_for(k, &s.caller))],
            identity,
            boundary: s.boundary.clone(),
            session: Vec::new(),
            scp: if s.iam_principal {
                self.scp_for(&s.caller.account)
            } else {
                None
            },
            rcp: self
                .extras
                .rcp
                .clone()
                .or_else(|| self.inv.rcp_levels(&k.account)),
            vpce: None,
        };
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
        let path = ev.checks.iter().find_map(|c| c.path.as_deref());
        let outcome = match ev.decision {
            Decision::Allow => Outcome::Allow,
            Decision::ExplicitDeny | Decision::ImplicitDeny => Outcome::Denied,
            Decision::Undetermined => {
                let unknowns: Vec<String> =
                    ev.checks.iter().flat_map(|c| c.unknowns.clone()).collect();
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
                } else {
                    Outcome::Undetermined(unknowns)
                }
            }
        };
        let how = describe_path(
            path,
            ev.decision,
            matches!(outcome, Outcome::Conditional(_)),
        );
        Direct { outcome, how, via }
    }

    /// The key's inputs with each key policy narrowed to the statements that can concern
    /// `caller` (R24): the engine's answer is the whole policy's, at the cost of the part.
    fn key_for(k: &KeySubject, caller: &Caller) -> Arc<KeyInputs> {
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
    fn direct(&self, si: usize, ki: usize, action: &Act) -> Direct {
        let (Some(s), Some(k)) = (self.subjects.get(si), self.keys.get(ki)) else {
            return Direct::denied();
        };
        if !self.may_reach(si, k, action.bit) {
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

    fn step_of(&self, s: &Subject, action: &str, k: &KeySubject, d: &Direct) -> Step {
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

    fn row(
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

    // ----- escalation moves -----

    /// Builds the IAM and STS move edges once: who can act as whom, who can change whose IAM.
    fn build_moves(&mut self) {
        if self.moves_built {
            return;
        }
        self.moves_built = true;
        let mut edges: Vec<(usize, usize, EdgeKind, Step)> = Vec::new();
        let roles: Vec<(String, String)> = self
            .inv
            .roles()
            .iter()
            .map(|r| (r.arn.clone(), r.name.clone()))
            .collect();
        let movers: Vec<usize> = (0..self.subjects.len())
            .filter(|&i| {
                self.subjects
                    .get(i)
                    .is_some_and(|s| matches!(s.kind, NodeKind::User | NodeKind::Role))
            })
            .collect();
        // AssumeRole: the trust policy names who may ask; each candidate is judged.
        for (role_arn, _) in &roles {
            let Some(&ri) = self.subject_by_id.get(role_arn) else {
                continue;
            };
            let Some(trust) = self.inv.trust_policies(role_arn) else {
                self.notes.borrow_mut().insert(format!(
                    "the trust policy of `{role_arn}` is not in the inputs: who can assume it is not judged"
                ));
                continue;
            };
            let role_account = role_arn.split(':').nth(4).unwrap_or("").to_owned();
            // Candidates: principals the trust policy names, their accounts' principals, or
            // everyone for `*`.
            let mut named = BTreeSet::new();
            let mut accounts = BTreeSet::new();
            let mut anyone = false;
            for p in trust {
                for st in &p.doc.statements {
                    for e in st.principal.iter().flat_map(|pc| pc.entries.iter()) {
                        match &e.class {
                            PrincipalClass::Any | PrincipalClass::UniqueId => anyone = true,
                            PrincipalClass::Account { account, .. } => {
                                accounts.insert(account.clone());
                            }
                            PrincipalClass::User { arn, .. } | PrincipalClass::Role { arn, .. } => {
                                named.insert(arn.clone());
                            }
                            _ => {}
                        }
                    }
                }
            }
            for &mi in &movers {
                if mi == ri {
                    continue;
                }
                let Some(m) = self.subjects.get(mi) else {
                    continue;
                };
                if !(anyone
                    || named.contains(&m.grant_arn)
                    || named.contains(&m.caller.arn)
                    || accounts.contains(&m.caller.account))
                {
                    continue;
                }
                let scp = self.scp_for(&m.caller.account);
                let mover = iam::Mover {
                    caller: &m.caller,
                    unique_id: m.unique_id.as_deref(),
                    identity: m.identity.as_deref(),
                    boundary: m.boundary.as_ref(),
                    scp: scp.as_deref(),
                };
                let mv = iam::decide(
                    &mover,
                    "sts",
                    "assumerole",
                    role_arn,
                    &role_account,
                    Some(trust),
                );
                if let Some(step) =
                    self.move_step(m, "sts:AssumeRole", role_arn, "assumes the role", mv)
                {
                    edges.push((mi, ri, EdgeKind::ActsAs, step));
                }
            }
        }
        // IAM writes within an account.
        let writes_on_role: [(&str, EdgeKind, &str); 3] = [
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
        let writes_on_user: [(&str, EdgeKind, &str); 5] = [
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
        for &mi in &movers {
            let Some(m) = self.subjects.get(mi) else {
                continue;
            };
            // Only principals whose IAM allows some IAM write are asked further.
            let writes_iam = m.identity.as_deref().is_some_and(|ids| {
                ids.iter().any(|p| {
                    p.doc.statements.iter().any(|st| {
                        st.effect.as_ref().map(|e| e.value) == Some(Effect::Allow)
                            && st.action.as_ref().is_some_and(|a| {
                                a.negated
                                    || a.items.iter().any(|i| {
                                        i.service == "*" || i.service.eq_ignore_ascii_case("iam")
                                    })
                            })
                    })
                })
            });
            if !writes_iam || m.iam_assumed {
                continue;
            }
            let scp = self.scp_for(&m.caller.account);
            let mover = iam::Mover {
                caller: &m.caller,
                unique_id: m.unique_id.as_deref(),
                identity: m.identity.as_deref(),
                boundary: m.boundary.as_ref(),
                scp: scp.as_deref(),
            };
            for &ti in &movers {
                let Some(t) = self.subjects.get(ti) else {
                    continue;
                };
                if t.caller.account != m.caller.account {
                    continue;
                }
                let mut ask = |action: &str, resource: &str, kind: EdgeKind, how: &str| {
                    let (svc, name) = split_action(action);
                    let mv = iam::decide(&mover, &svc, &name, resource, &m.caller.account, None);
                    if let Some(step) = self.move_step(m, action, resource, how, mv) {
                        edges.push((mi, ti, kind, step));
                        true
                    } else {
                        false
                    }
                };
                let mut done = false;
                if t.kind == NodeKind::Role {
                    for (action, kind, how) in writes_on_role {
                        if ti == mi && kind == EdgeKind::ActsAs {
                            continue;
                        }
                        done |= ask(action, &t.grant_arn, kind, how) && kind == EdgeKind::Empowers;
                    }
                } else {
                    for (action, kind, how) in writes_on_user {
                        if ti == mi && kind == EdgeKind::ActsAs {
                            continue;
                        }
                        done |= ask(action, &t.caller.arn, kind, how) && kind == EdgeKind::Empowers;
                    }
                    if !done {
                        if let Some(u) = self.inv.users().iter().find(|u| u.arn == t.caller.arn) {
                            for gname in &u.groups {
                                let Some(g) = self.inv.groups().iter().find(|g| g.name == *gname)
                                else {
                                    continue;
                                };
                                for action in ["iam:PutGroupPolicy", "iam:AttachGroupPolicy"] {
                                    if ask(
                                        action,
                                        &g.arn,
                                        EdgeKind::Empowers,
                                        &format!(
                                            "changes the policies of group `{}`, which the user is in",
                                            g.name
                                        ),
                                    ) {
                                        done = true;
                                        break;
                                    }
                                }
                                if done {
                                    break;
                                }
                            }
                        }
                    }
                }
                if !done {
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
                        if ask(
                            "iam:CreatePolicyVersion",
                            a,
                            EdgeKind::Empowers,
                            &format!(
                                "writes a new default version of `{a}`, which is attached to it"
                            ),
                        ) {
                            break;
                        }
                    }
                }
            }
        }
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

    fn move_step(
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
    fn acts_index(&self) -> std::rc::Rc<ActsIndex> {
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
    fn chain(&self, search: &ActsSearch, mut i: usize) -> Vec<Step> {
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
    fn may_escalate(&self, si: usize, ki: usize, action: &Act) -> bool {
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
    fn empowers(&self, qi: usize, index: &ActsIndex) -> Vec<(usize, Step)> {
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
    fn via_create_grant(&self, qi: usize, ki: usize, action: &Act) -> Option<Vec<Step>> {
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

    fn create_grant_for(&self, q: &Subject, k: &KeySubject, action: &Act) -> Option<Vec<Step>> {
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
    fn via_put_key_policy(&self, qi: usize, ki: usize, action: &Act) -> Option<Vec<Step>> {
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
    fn via_empowered(&self, xi: usize, ki: usize, action: &Act) -> Option<Step> {
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
    fn escalate(&self, si: usize, ki: usize, action: &Act) -> Option<Vec<Step>> {
        if !self.may_escalate(si, ki, action) {
            return None;
        }
        let index = self.acts_index();
        let k = self.keys.get(ki)?;
        let mut search = ActsSearch::new(self.subjects.get(si)?.node);
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
                    return Some(path);
                }
            }
            if let Some(steps) = self.via_create_grant(qi, ki, action) {
                let mut path = self.chain(&search, at);
                path.extend(steps);
                return Some(path);
            }
            if let Some(steps) = self.via_put_key_policy(qi, ki, action) {
                let mut path = self.chain(&search, at);
                path.extend(steps);
                return Some(path);
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
                    return Some(path);
                }
            }
        }
        None
    }

    /// The row for subject `si`, `action` on key `ki`, if it can.
    fn reach(&self, si: usize, ki: usize, action: &Act, paths: Paths) -> Option<Row> {
        let (s, k) = (self.subjects.get(si)?, self.keys.get(ki)?);
        // Nothing can open for a principal that acts as no one else, changes no one's IAM and
        // whose own access cannot cover the action, CreateGrant or PutKeyPolicy on this key.
        let alone = paths == Paths::Direct || self.alone(si);
        let bits = if paths == Paths::Direct {
            action.bit
        } else {
            action.bit | self.create_grant.bit | self.put_key_policy.bit
        };
        if alone && !self.may_reach(si, k, bits) {
            return None;
        }
        let d = self.direct(si, ki, action);
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

    fn key_index(&self, key: &str) -> Result<usize, String> {
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
    pub fn what_can(&mut self, principal: &str, paths: Paths) -> Result<Vec<Row>, String> {
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
            .map(|a| Act::new(&format!("kms:{}", a.name)))
            .collect();
        let mut rows = Vec::new();
        for ki in 0..self.keys.len() {
            for a in &actions {
                rows.extend(self.reach(si, ki, a, paths));
            }
        }
        rows.sort_by(|a, b| (&a.key, &a.action).cmp(&(&b.key, &b.action)));
        Ok(rows)
    }

    /// Principals × keys for a set of actions: one row per allowed cell.
    pub fn matrix(&mut self, actions: &[String], paths: Paths) -> Vec<Row> {
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
        let mut rows = Vec::new();
        for (ki, k) in self.keys.iter().enumerate() {
            for (si, &alone) in alone.iter().enumerate() {
                // The pre-filter once per principal and key, not once per action.
                if alone && self.reach_mask(si, k) & any_bits == 0 {
                    continue;
                }
                for a in &actions {
                    rows.extend(self.reach(si, ki, a, paths));
                }
            }
        }
        rows.sort_by(|a, b| {
            (&a.principal, &a.key, &a.action).cmp(&(&b.principal, &b.key, &b.action))
        });
        rows
    }

    /// The nodes and edges (of one key's neighbourhood when `key` is given), sorted.
    pub fn export_view(&mut self, key: Option<&str>) -> Result<View, String> {
        self.build_moves();
        // Escalation edges to keys: who can create grants on or rewrite each key.
        let mut add = Vec::new();
        for ki in 0..self.keys.len() {
            for si in 0..self.subjects.len() {
                for (action, label) in [
                    (&self.create_grant, "kms:CreateGrant"),
                    (&self.put_key_policy, "kms:PutKeyPolicy"),
                ] {
                    let d = self.direct(si, ki, action);
                    let label = match d.outcome {
                        Outcome::Denied => continue,
                        Outcome::Allow => label.to_owned(),
                        Outcome::Conditional(_) => format!("{label} (conditional)"),
                        Outcome::Undetermined(_) => format!("{label} (undetermined)"),
                    };
                    if let (Some(s), Some(k)) = (self.subjects.get(si), self.keys.get(ki)) {
                        add.push((s.node, k.node, label));
                    }
                }
            }
        }
        for (from, to, label) in add {
            self.edge(from, to, EdgeKind::Escalates, &label);
        }
        let keep: Option<BTreeSet<NodeIndex>> = match key {
            None => None,
            Some(k) => {
                let ki = self.key_index(k)?;
                let start = self.keys.get(ki).map(|k| k.node).ok_or("no such key")?;
                // The key's neighbourhood: everything within two hops either way.
                let mut seen = BTreeSet::from([start]);
                let mut frontier = vec![start];
                for _ in 0..2 {
                    let mut next = Vec::new();
                    for n in frontier {
                        for m in self.graph.neighbors_undirected(n) {
                            if seen.insert(m) {
                                next.push(m);
                            }
                        }
                    }
                    frontier = next;
                }
                Some(seen)
            }
        };
        let mut idx: Vec<NodeIndex> = self
            .graph
            .node_indices()
            .filter(|n| keep.as_ref().is_none_or(|k| k.contains(n)))
            .collect();
        idx.sort_by(|a, b| {
            (self.graph[*a].kind, &self.graph[*a].id)
                .cmp(&(self.graph[*b].kind, &self.graph[*b].id))
        });
        let pos: HashMap<NodeIndex, usize> = idx.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let nodes: Vec<Node> = idx.iter().map(|n| self.graph[*n].clone()).collect();
        let mut edges: Vec<(usize, usize, Edge)> = self
            .graph
            .edge_references()
            .filter_map(|e| {
                Some((
                    *pos.get(&e.source())?,
                    *pos.get(&e.target())?,
                    e.weight().clone(),
                ))
            })
            .collect();
        edges.sort_by(|a, b| {
            (a.0, a.1, a.2.kind, &a.2.label).cmp(&(b.0, b.1, b.2.kind, &b.2.label))
        });
        // A thousand principals that may all act as one another are a million edges: tens of
        // megabytes no reader can use. The drawing is cut, and a note says so.
        if edges.len() > MAX_DRAWN_EDGES {
            self.notes.borrow_mut().insert(format!(
                "the graph has {} edges: only the first {MAX_DRAWN_EDGES} (by source, then target) are drawn; give `--key` to draw one key's neighbourhood, or use `who-can`, `what-can` and `matrix`",
                edges.len()
            ));
            edges.truncate(MAX_DRAWN_EDGES);
        }
        Ok((nodes, edges))
    }

    /// Renders the graph (or one key's neighbourhood).
    pub fn export(&mut self, key: Option<&str>, format: ExportFormat) -> Result<String, String> {
        let (nodes, edges) = self.export_view(key)?;
        Ok(export::render(&nodes, &edges, format))
    }

    /// Whether anyone, through any path, can reach `kms:PutKeyPolicy` on `key` (R109–R116 as a
    /// reachability question): the rows that can, with their paths.
    pub fn who_keeps_control(&mut self, key: &str) -> Result<Vec<Row>, String> {
        self.who_can("kms:PutKeyPolicy", key, Paths::All)
    }
}
