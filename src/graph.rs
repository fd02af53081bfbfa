//! The access graph: who can use a key, what a principal can reach, and the paths in between.
//!
//! Owns building the inventory into a petgraph graph — accounts, principals (and classes of
//! principals), keys, aliases, policies and grants, with edges for group membership, policy
//! attachment, role trust, root delegation, key-policy access, grants and the escalation moves
//! — and answering `who-can`, `what-can` and `matrix` on it. The graph proposes; the engine
//! confirms: every KMS step of every answer is a real request through [`crate::eval::evaluate`]
//! (residual mode, so request keys nobody gave come back as conditions), and every IAM or STS
//! step is judged by `iam` with the engine's statement matcher. `NodeIndex` and the petgraph
//! types never leave this module.
//!
//! The parts: `build` turns the inventory into nodes and edges; `moves` adds the IAM and STS
//! moves (judged by `iam`) and searches the escalated paths through them; `queries` answers
//! `who-can`, `what-can` and `matrix`; `export` draws the graph. This file holds the types
//! they share.
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

mod build;
mod export;
mod iam;
mod moves;
mod queries;
pub(crate) use queries::LimitedCells;

pub(crate) use export::ExportFormat;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::eval::{Caller, Decision, KeyInputs, NamedPolicy, Options};
use crate::grant::Grant;
use crate::inventory::Inventory;
use crate::policy::PolicyKind;
use crate::source::SourceId;

/// Default cap on the nodes of an access graph (`--max-graph-nodes`).
pub(crate) const DEFAULT_MAX_GRAPH_NODES: usize = 5_000_000;

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum NodeKind {
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
    pub(crate) fn as_str(self) -> &'static str {
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
pub(crate) struct Node {
    /// Kind.
    pub(crate) kind: NodeKind,
    /// Identity.
    pub(crate) id: String,
    /// Short label for drawings.
    pub(crate) label: String,
}

/// What an edge stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum EdgeKind {
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
    pub(crate) fn as_str(self) -> &'static str {
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
pub(crate) struct Edge {
    /// Kind.
    pub(crate) kind: EdgeKind,
    /// Label.
    pub(crate) label: String,
    /// For moves: the step that makes it.
    step: Option<Step>,
}

/// One explained step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    /// Who acts.
    pub(crate) actor: String,
    /// The action (`sts:AssumeRole`, `kms:CreateGrant`, `kms:Decrypt`).
    pub(crate) action: String,
    /// On what.
    pub(crate) target: String,
    /// How it is allowed: the engine's path (`key policy`, `IAM through root delegation`,
    /// `grant`) or the move.
    pub(crate) how: String,
    /// The statements or grants that allow it.
    pub(crate) via: Vec<String>,
    /// Conditions it needs (AND).
    pub(crate) conditions: Vec<String>,
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
    pub(crate) kind: NodeKind,
    /// The key ARN.
    pub key: String,
    /// The action (`kms:Decrypt`).
    pub action: String,
    /// Decision.
    pub decision: RowDecision,
    /// Conditions: for a conditional row, alternatives (OR), each a conjunction in words.
    pub conditions: Vec<String>,
    /// For an undetermined row, why.
    pub(crate) reasons: Vec<String>,
    /// The steps from the principal to the action.
    pub(crate) path: Vec<Step>,
    /// The path goes through an escalation move.
    pub(crate) escalated: bool,
    /// The principal's IAM policies are not in the inputs: the row assumes they allow.
    pub(crate) iam_assumed: bool,
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
    /// `--identity-unknown`: the IAM of users and roles the inputs do not hold is open (their
    /// answers are conditional on it) instead of known to be empty.
    pub identity_unknown: bool,
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

/// Nodes, and edges as (from, to, edge) positions in the node list.
pub(crate) type View = (Vec<Node>, Vec<(usize, usize, Edge)>);

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
    /// Users and roles whose identity policies the inputs do not hold, taken as having none.
    iam_taken_empty: RefCell<BTreeSet<String>>,
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

/// The bit of a KMS action in the engine's action masks (its catalogue index); every bit
/// for a name the catalogue does not hold.
pub(crate) fn action_bit(action: &str) -> u128 {
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

/// The engine's path name (`key policy names the caller`, `grant`…). Without one, the
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
