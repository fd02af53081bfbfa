//! Key-level analysis: the rules that judge a key policy as a whole ask the evaluation engine.
//!
//! A [`KeyLintContext`] holds one key policy with what is known about its key (ARN, account,
//! Region, whether AWS manages it) and, when authorization details were loaded, which IAM
//! principals exist. Its probes build real requests — "can the root user of the key's account
//! call `kms:PutKeyPolicy`?", "can a role of an unknown account decrypt?" — and run them through
//! `eval` in residual mode, so request keys nobody gave stay open and come back as the
//! conditions an answer needs. The rules then classify those answers; none of them matches
//! statements by itself (spec R109–R116, L001–L005, L030).

use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::{Arc, OnceLock};

use crate::arn::PrincipalClass;
use crate::catalog;
use crate::eval::{
    self, Caller, Decision, Evaluation, Inputs, KeyFacts, KeyInputs, NamedPolicy, Options, Request,
    Requirement,
};
use crate::policy::{PolicyDocument, PolicyKind, Statement};
use crate::source::{SourceFile, SourceId, Span};

/// Whether IAM principals exist, from authorization details.
pub trait Directory {
    /// `Some(true)` when the principal exists, `Some(false)` when the IAM data of its account
    /// was loaded and does not hold it, `None` when nothing is known about its account.
    fn exists(&self, class: &PrincipalClass) -> Option<bool>;
    /// The caller's identity policies when the inputs hold all of them.
    fn identity_of(&self, caller: &Caller) -> Option<Vec<NamedPolicy>>;
}

/// One key policy with its key, for the key-level rules.
pub struct KeyLintContext<'a> {
    /// The key policy, named `key policy` in engine answers.
    pub policy: NamedPolicy,
    /// Its source text.
    pub source: &'a SourceFile,
    /// The key: from the input, or made from the account (given or inferred) for a bare policy.
    pub facts: KeyFacts,
    /// The account was given or known, not inferred from the policy's principals.
    pub account_known: bool,
    /// The Region is known (a key ARN, `--region`, or the plan's provider).
    pub region_known: bool,
    /// The key's identity for fingerprints: ARN, Terraform address, logical id or file name.
    pub identity: String,
    /// Which IAM principals exist, when authorization details were loaded.
    pub directory: Option<&'a dyn Directory>,
    /// The settings the rules read.
    pub config: &'a super::Config,
    /// Everything the inputs define, for the organisation's SCP and RCP levels.
    pub organisation: Option<&'a crate::inventory::Inventory>,
    /// For a policy a plan creates or replaces: who will call PutKeyPolicy (R112).
    pub deployer: Option<String>,
    admins: OnceCell<AdminAnalysis>,
    /// The key policy's statements by the callers they can concern, and the narrowed
    /// policies built from them.
    own: Narrowing,
    /// The key policy without its `Deny` statements, likewise (built when asked for).
    allows: OnceCell<Narrowing>,
    /// The probes of this key policy asked so far, with the engine's answers. A policy naming
    /// thousands of principals asks tens of thousands: they are looked up by hash.
    answers: RefCell<HashMap<Asked, Rc<Evaluation>>>,
    /// See `aws_managed`.
    aws_managed: OnceCell<bool>,
    /// See `statement_named`.
    by_sid: OnceCell<HashMap<String, usize>>,
}

/// An identity-policy set as the caches tell sets apart: by policy names; `None` when the
/// caller's identity policies are not known.
type IdentityNames = Option<Vec<String>>;

/// One probe of a key policy: the identity policies (by name), the caller (as far as probes
/// tell callers apart), the action and whether a trace was asked for.
#[derive(PartialEq, Eq, Hash)]
struct Asked {
    identity: IdentityNames,
    kind: eval::CallerKind,
    arn: String,
    role_arn: Option<String>,
    tags: Vec<(String, String)>,
    action: String,
    trace: bool,
}

/// A policy's statements by the callers they can concern (R24: a principal entry naming a
/// user, role, session or federated user by its ARN matches only the caller with that ARN,
/// the sessions of that role, or the federated users of that user; an account entry only the
/// principals of that account; a service entry only that service). Statements any caller may
/// match — `*`, a partial wildcard or malformed principal, `NotPrincipal`, no principal, an
/// unreadable statement — concern every caller. A probe then runs against the
/// statements that can concern its caller, which gives the engine's answer for the whole
/// policy: every other statement fails on `Principal` for it and adds nothing.
#[derive(Debug, Default)]
pub(crate) struct StatementIndex {
    /// Positions of the statements that may concern any caller.
    general: Vec<usize>,
    /// Positions of the statements naming an ARN (or, under `session:`, a session of a role),
    /// by that ARN.
    by_arn: HashMap<String, Vec<usize>>,
}

/// The prefix of the keys under which assumed-role session entries are also indexed: the
/// engine cannot judge a named session against a probe of "any session of the role".
const SESSION_OF: &str = "session:";
/// Policies of at most this many statements are not narrowed.
const NARROW_FROM: usize = 16;
/// The prefix of the keys of service principal entries.
const SERVICE: &str = "service:";
/// The prefix of the keys of account entries (`arn:aws:iam::A:root`, `A`).
const ACCOUNT: &str = "account:";

impl StatementIndex {
    pub(crate) fn new(doc: &PolicyDocument) -> StatementIndex {
        let mut out = StatementIndex::default();
        for (pos, st) in doc.statements.iter().enumerate() {
            let mut keys: Vec<String> = Vec::new();
            let mut general = st.broken.is_some();
            match st.principal.as_ref() {
                Some(pc) if !pc.negated => {
                    for e in &pc.entries {
                        match &e.class {
                            PrincipalClass::User { arn, .. }
                            | PrincipalClass::Role { arn, .. }
                            | PrincipalClass::FederatedUser { arn, .. } => keys.push(arn.clone()),
                            PrincipalClass::AssumedRole { arn, .. } => {
                                keys.push(arn.clone());
                                if let Some((head, _)) = arn.rsplit_once('/') {
                                    keys.push(format!("{SESSION_OF}{head}"));
                                }
                            }
                            PrincipalClass::Service(name) => keys.push(format!("{SERVICE}{name}")),
                            PrincipalClass::Account { account, .. } => {
                                keys.push(format!("{ACCOUNT}{account}"));
                            }
                            // Never any caller's principal (see `entry_kind`).
                            PrincipalClass::OtherIam { .. }
                            | PrincipalClass::UniqueId
                            | PrincipalClass::Federated
                            | PrincipalClass::CanonicalUser => {}
                            _ => general = true,
                        }
                    }
                }
                _ => general = true,
            }
            if general {
                out.general.push(pos);
                continue;
            }
            keys.sort_unstable();
            keys.dedup();
            for k in keys {
                out.by_arn.entry(k).or_default().push(pos);
            }
        }
        out
    }

    /// The positions of the statements that can concern `caller`, in order; `None` when that
    /// is every statement, or when the caller is one whose match the index cannot tell (a
    /// federated user whose federating user is not known is matched by name).
    pub(crate) fn positions(&self, caller: &Caller, all: usize) -> Option<Vec<usize>> {
        if caller.kind == eval::CallerKind::FederatedUser && caller.federating_user.is_none() {
            return None;
        }
        // A short policy costs less to run whole than to copy in part.
        if self.general.len() == all || all <= NARROW_FROM {
            return None;
        }
        let mut out = self.general.clone();
        let mut add = |k: &str| {
            if let Some(v) = self.by_arn.get(k) {
                out.extend_from_slice(v);
            }
        };
        match caller.kind {
            eval::CallerKind::Service => add(&format!("{SERVICE}{}", caller.arn)),
            eval::CallerKind::Anonymous => {}
            _ => add(&format!("{ACCOUNT}{}", caller.account)),
        }
        add(&caller.arn);
        if let Some(r) = &caller.role_arn {
            add(r);
        }
        if let Some(u) = &caller.federating_user {
            add(u);
        }
        if caller.session_open {
            if let Some((head, _)) = caller.arn.rsplit_once('/') {
                add(&format!("{SESSION_OF}{head}"));
            }
        }
        out.sort_unstable();
        out.dedup();
        (out.len() < all).then_some(out)
    }
}

/// A policy and what probes against it are built from: its statement index, and for each
/// caller the policy narrowed to the statements that can concern it.
#[derive(Debug)]
struct Narrowing {
    policy: NamedPolicy,
    index: OnceCell<StatementIndex>,
    /// Narrowed policies by the statement positions they keep (`None`: the whole policy).
    narrowed: RefCell<HashMap<Option<Vec<usize>>, Rc<Narrowed>>>,
}

/// A policy narrowed for some callers, with the engine's inputs built from it.
#[derive(Debug)]
struct Narrowed {
    policy: NamedPolicy,
    /// The engine's inputs, by identity: built once each.
    inputs: RefCell<Vec<(IdentityNames, Rc<Inputs>)>>,
    /// The engine's inputs for alias probes, built once.
    alias_inputs: OnceCell<Rc<Inputs>>,
}

/// `policy` with only the statements at `keep` (in order; each keeps its position for the
/// names answers give it).
pub(crate) fn narrowed_policy(policy: &NamedPolicy, keep: &[usize]) -> NamedPolicy {
    let doc = &policy.doc;
    let statements = keep
        .iter()
        .filter_map(|&i| doc.statements.get(i).cloned())
        .collect();
    NamedPolicy {
        name: policy.name.clone(),
        doc: Arc::new(PolicyDocument {
            source: doc.source,
            span: doc.span,
            kind: doc.kind,
            version: doc.version,
            version_span: doc.version_span,
            id: doc.id.clone(),
            statement_span: doc.statement_span,
            statements,
            duplicate_keys: Vec::new(),
            casing: Vec::new(),
        }),
    }
}

impl Narrowing {
    fn new(policy: NamedPolicy) -> Narrowing {
        Narrowing {
            policy,
            index: OnceCell::new(),
            narrowed: RefCell::new(HashMap::new()),
        }
    }

    /// The policy narrowed to the statements that can concern `caller`.
    fn for_caller(&self, caller: &Caller) -> Rc<Narrowed> {
        let all = self.policy.doc.statements.len();
        let positions = self
            .index
            .get_or_init(|| StatementIndex::new(&self.policy.doc))
            .positions(caller, all)
            // A narrowing that keeps most of the policy saves little and copies much: when
            // many statements can concern every caller, each caller would hold its own copy of
            // them. Such callers share the whole policy instead.
            .filter(|keep| keep.len().saturating_mul(2) <= all);
        if let Some(n) = self.narrowed.borrow().get(&positions) {
            return Rc::clone(n);
        }
        let policy = match &positions {
            None => self.policy.clone(),
            Some(keep) => narrowed_policy(&self.policy, keep),
        };
        let n = Rc::new(Narrowed {
            policy,
            inputs: RefCell::new(Vec::new()),
            alias_inputs: OnceCell::new(),
        });
        self.narrowed.borrow_mut().insert(positions, Rc::clone(&n));
        n
    }
}

impl std::fmt::Debug for KeyLintContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyLintContext")
            .field("key", &self.facts.arn)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

static DEFAULT_CONFIG: super::Config = super::Config::DEFAULT;

/// The account a bare key policy's key is assumed to be in when nothing names one.
pub use crate::arn::UNKNOWN_ACCOUNT;

/// The name probes give the key policy.
pub const KEY_POLICY: &str = "key policy";

/// What a probe concluded for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Allowed; the statements that allowed.
    Yes(Vec<String>),
    /// Allowed only under these alternatives (OR) of requirements (AND).
    Conditional(Vec<Vec<Requirement>>),
    /// Explicitly denied; the statements that denied.
    Denied(Vec<String>),
    /// Not allowed.
    No,
    /// Cannot be judged; why.
    Unknown(Vec<String>),
}

impl Reach {
    pub(crate) fn from_evaluation(ev: &Evaluation) -> Reach {
        let deciding = || {
            let mut v: Vec<String> = ev.checks.iter().flat_map(|c| c.deciding.clone()).collect();
            v.dedup();
            v
        };
        match ev.decision {
            Decision::Allow => Reach::Yes(deciding()),
            Decision::ExplicitDeny => Reach::Denied(deciding()),
            Decision::ImplicitDeny => Reach::No,
            Decision::Undetermined => {
                let unknowns: Vec<String> = ev
                    .checks
                    .iter()
                    .flat_map(|c| c.unknowns.iter().map(ToString::to_string))
                    .collect();
                let residual: Vec<Vec<Requirement>> = ev
                    .checks
                    .iter()
                    .flat_map(|c| c.residual.clone())
                    .filter(|a| !a.is_empty())
                    .collect();
                if unknowns.is_empty() && !residual.is_empty() {
                    Reach::Conditional(residual)
                } else {
                    Reach::Unknown(unknowns)
                }
            }
        }
    }
}

/// A principal the key policy names in an `Allow`, probed for `kms:PutKeyPolicy` (R110).
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The principal as written.
    pub principal: String,
    /// The caller probed for it.
    pub caller: Caller,
    /// Where it is written.
    pub span: Span,
    /// The statement it is in.
    pub statement: usize,
    /// The probe's answer for `kms:PutKeyPolicy`.
    pub reach: Reach,
    /// Whether it exists (IAM data), `None` when unknown.
    pub exists: Option<bool>,
    /// It is the key's own account (root delegation, R110 step 1).
    pub delegated: bool,
}

impl Candidate {
    /// The answer holds only when an AWS service calls on the principal's behalf (R116).
    pub fn service_only(&self) -> bool {
        match &self.reach {
            Reach::Conditional(alts) => alts
                .iter()
                .all(|a| a.iter().any(|r| r.key == "kms:viaservice")),
            _ => false,
        }
    }

    /// A human administrator path: allowed (or conditionally, not only via a service).
    pub fn usable(&self) -> bool {
        match &self.reach {
            Reach::Yes(_) | Reach::Unknown(_) => true,
            Reach::Conditional(_) => !self.service_only(),
            Reach::Denied(_) | Reach::No => false,
        }
    }
}

/// A user, role or session a key policy names, with where.
#[derive(Debug)]
pub struct NamedCaller<'a> {
    /// The first statement naming it.
    pub statement: &'a Statement,
    /// The principal entry.
    pub entry: &'a crate::policy::PrincipalEntry,
    /// Its ARN as written.
    pub arn: &'a str,
    /// The caller to probe.
    pub caller: Caller,
}

/// Who can manage the key (R110).
#[derive(Debug, Clone, Default)]
pub struct AdminAnalysis {
    /// Every principal an `Allow` names, with its probe.
    pub candidates: Vec<Candidate>,
}

impl AdminAnalysis {
    /// Candidates that can call `kms:PutKeyPolicy` and exist (or may exist).
    pub fn admins(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates
            .iter()
            .filter(|c| c.usable() && c.exists != Some(false))
    }
}

/// Probe principals: a role of the key's account that no policy names, and one of an account
/// no policy names (documentation-reserved account ids are avoided: any 12 digits will do).
const PROBE_ROLE: &str = "kmsaudit-probe";
/// The account of the stranger probe (R24, L005).
pub const STRANGER_ACCOUNT: &str = "000011112222";

/// An identity policy that allows alias operations on aliases only: the alias half of
/// `CreateAlias`/`UpdateAlias`, leaving the key half to the key policy.
fn alias_only() -> Option<Arc<PolicyDocument>> {
    static DOC: OnceLock<Option<Arc<PolicyDocument>>> = OnceLock::new();
    DOC.get_or_init(|| {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:CreateAlias","kms:UpdateAlias"],"Resource":"arn:*:kms:*:*:alias/*"}]}"#;
        let j = crate::json::parse(text).ok()?;
        let (doc, _) = crate::policy::parse_policy(&j, SourceId::NONE, PolicyKind::Identity);
        Some(Arc::new(doc))
    })
    .clone()
}

/// An identity policy allowing every action on every resource, parsed once.
pub(crate) fn allow_all() -> Option<Arc<PolicyDocument>> {
    static DOC: OnceLock<Option<Arc<PolicyDocument>>> = OnceLock::new();
    DOC.get_or_init(|| {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let j = crate::json::parse(text).ok()?;
        let (doc, _) = crate::policy::parse_policy(&j, SourceId::NONE, PolicyKind::Identity);
        Some(Arc::new(doc))
    })
    .clone()
}

impl<'a> KeyLintContext<'a> {
    /// A context for one key policy.
    pub fn new(
        policy: &NamedPolicy,
        source: &'a SourceFile,
        facts: KeyFacts,
        identity: String,
        directory: Option<&'a dyn Directory>,
    ) -> Self {
        // R10: statements under a repeated `Sid` are named by position, so that no probe (whole
        // or narrowed to a caller) takes one for another.
        let policy = NamedPolicy {
            name: KEY_POLICY.to_owned(),
            doc: unique_sids(&policy.doc),
        };
        KeyLintContext {
            own: Narrowing::new(policy.clone()),
            policy,
            source,
            facts,
            account_known: true,
            region_known: true,
            identity,
            directory,
            config: &DEFAULT_CONFIG,
            organisation: None,
            deployer: None,
            admins: OnceCell::new(),
            allows: OnceCell::new(),
            answers: RefCell::new(HashMap::new()),
            aws_managed: OnceCell::new(),
            by_sid: OnceCell::new(),
        }
    }

    /// The key policy narrowed to the statements that can concern `caller` (R24): the engine
    /// answers every request `caller` can make against it as against the whole policy.
    pub(crate) fn policy_for(&self, caller: &Caller) -> NamedPolicy {
        self.own.for_caller(caller).policy.clone()
    }

    /// The key policy document.
    pub fn doc(&self) -> &PolicyDocument {
        &self.policy.doc
    }

    /// The key is AWS managed (R114): by its facts, or by the shape of its policy (R121).
    pub fn aws_managed(&self) -> bool {
        // Most key rules ask; the policy's shape is worked out once.
        *self.aws_managed.get_or_init(|| {
            self.facts.key_manager == Some(eval::KeyManager::Aws)
                || crate::lint::shapes::label(self.doc(), &self.facts.account)
                    == crate::lint::shapes::Shape::AwsManaged
        })
    }

    /// Runs one request against this key policy alone (no grants), in residual mode: request
    /// keys that are not given stay open.
    pub fn probe(
        &self,
        caller: Caller,
        action: &str,
        identity: Option<Vec<NamedPolicy>>,
    ) -> Rc<Evaluation> {
        self.probe_with(&self.policy, caller, action, identity)
    }

    /// [`Self::probe`] against another version of the key policy.
    pub fn probe_with(
        &self,
        policy: &NamedPolicy,
        caller: Caller,
        action: &str,
        identity: Option<Vec<NamedPolicy>>,
    ) -> Rc<Evaluation> {
        self.run(policy, caller, action, identity, false, true)
    }

    /// Why the key policy does not let `caller` do `action`: each statement that names the
    /// caller and the action, with the element that failed (from the engine's trace).
    pub fn why_not(&self, caller: Caller, action: &str) -> Vec<String> {
        let ev = self.run(&self.policy, caller, action, Some(Vec::new()), true, true);
        let mut out = Vec::new();
        for step in ev.checks.iter().flat_map(|c| c.steps.iter()) {
            for st in &step.statements {
                if st.effect != "Allow" || st.applies != eval::Tri::No {
                    continue;
                }
                let named = st
                    .elements
                    .iter()
                    .any(|e| e.element == "Principal" && e.outcome == eval::Tri::Yes);
                let covers = st
                    .elements
                    .iter()
                    .any(|e| e.element == "Action" && e.outcome == eval::Tri::Yes);
                if !(named && covers) {
                    continue;
                }
                for e in st.elements.iter().filter(|e| e.outcome == eval::Tri::No) {
                    let key = e.element.rsplit(' ').next().unwrap_or("");
                    let never = catalog::condition_key(key).is_some_and(|k| {
                        catalog::action_index(action.trim_start_matches("kms:"))
                            .is_some_and(|i| k.actions & (1u128 << i) == 0)
                            && !k.global
                            && !k.resource_key
                    });
                    out.push(if never {
                        format!(
                            "statement `{}` needs `{key}`, which `{action}` requests never carry",
                            st.at.statement
                        )
                    } else {
                        format!(
                            "statement `{}`: {} — {}",
                            st.at.statement, e.element, e.detail
                        )
                    });
                }
            }
        }
        out
    }

    /// The names of an identity-policy set, which is what the caches tell sets apart by.
    fn same_identity(names: Option<&[String]>, identity: Option<&[NamedPolicy]>) -> bool {
        match (names, identity) {
            (None, None) => true,
            (Some(n), Some(list)) => {
                n.len() == list.len() && n.iter().zip(list).all(|(a, b)| *a == b.name)
            }
            _ => false,
        }
    }

    /// The key's account's root user asking for `action` with the organisation's SCP and RCP
    /// levels above the account in force (spec R50, R110 step 4); `None` when the inputs hold
    /// no organisation tree with the account.
    pub fn probe_org(&self, action: &str) -> Option<Evaluation> {
        let all = self.organisation?;
        let (scp, rcp) = (
            all.scp_levels(&self.facts.account),
            all.rcp_levels(&self.facts.account),
        );
        if scp.is_none() && rcp.is_none() {
            return None;
        }
        let caller = Caller::parse(&self.facts.account, None).ok()?;
        let inputs = Inputs {
            keys: vec![self.key_inputs(&self.policy)],
            identity: Some(Vec::new().into()),
            scp,
            rcp,
            ..Inputs::default()
        };
        Some(eval::evaluate(
            &inputs,
            &Request::new(caller, action, &self.facts.arn),
            &Self::options(false),
        ))
    }

    /// Whether [`Self::probe_alias`] allows, run only when [`Self::may_allow_to`] allows
    /// with the alias probe's identity policy.
    pub fn alias_allowed(&self, caller: &Caller, action: &str) -> bool {
        let narrowed = self.own.for_caller(caller);
        let inputs = self.alias_inputs(&narrowed);
        self.may_allow_to(caller, action, inputs.identity.as_deref())
            && self.alias_probe(&inputs, caller.clone(), action).decision == Decision::Allow
    }

    /// An alias operation (`kms:CreateAlias`, `kms:UpdateAlias`): its key half is what the key
    /// policy decides; the alias half is an IAM question, answered here by an identity that
    /// allows alias operations on aliases only.
    pub fn probe_alias(&self, caller: Caller, action: &str) -> Evaluation {
        let inputs = self.alias_inputs(&self.own.for_caller(&caller));
        self.alias_probe(&inputs, caller, action)
    }

    fn alias_probe(&self, inputs: &Inputs, caller: Caller, action: &str) -> Evaluation {
        let alias = format!(
            "arn:{}:kms:{}:{}:alias/kmsaudit-probe",
            self.facts.partition, self.facts.region, self.facts.account
        );
        let mut req = Request::new(caller, action, &self.facts.arn);
        req.alias = Some(alias);
        req.destination_key = Some(self.facts.arn.clone());
        eval::evaluate(inputs, &req, &Self::options(false))
    }

    /// The engine's inputs for alias probes: the (narrowed) key policy, and an identity policy
    /// that allows alias operations on aliases only. Built once each.
    fn alias_inputs(&self, narrowed: &Narrowed) -> Rc<Inputs> {
        Rc::clone(narrowed.alias_inputs.get_or_init(|| {
            let identity: Vec<NamedPolicy> = alias_only()
                .map(|doc| NamedPolicy {
                    name: "identity policy allowing alias operations on aliases".into(),
                    doc,
                })
                .into_iter()
                .collect();
            Rc::new(Inputs {
                keys: vec![self.key_inputs(&narrowed.policy)],
                identity: Some(identity.into()),
                ..Inputs::default()
            })
        }))
    }

    /// The key with `policy` as its key policy and no grants, as the engine takes it: a key
    /// whose manager is not known is judged as customer managed.
    fn key_inputs(&self, policy: &NamedPolicy) -> std::sync::Arc<KeyInputs> {
        let mut facts = self.facts.clone();
        if facts.key_manager.is_none() {
            facts.key_manager = Some(eval::KeyManager::Customer);
        }
        std::sync::Arc::new(KeyInputs {
            facts,
            policies: Some(vec![policy.clone()]),
            grants: Some(Vec::new()),
            policy_unknown: None,
        })
    }

    /// Residual evaluation: request keys nobody gave stay open.
    fn options(trace: bool) -> Options {
        Options {
            residual: true,
            trace,
            ..Options::default()
        }
    }

    /// The probes' bookkeeping for `policy` when it is this key policy or the key policy
    /// without its Denies.
    fn narrowing(&self, policy: &NamedPolicy) -> Option<&Narrowing> {
        if std::ptr::eq(policy, &self.policy) {
            return Some(&self.own);
        }
        self.allows
            .get()
            .filter(|n| std::ptr::eq(policy, &n.policy))
    }

    fn run(
        &self,
        policy: &NamedPolicy,
        caller: Caller,
        action: &str,
        identity: Option<Vec<NamedPolicy>>,
        trace: bool,
        remember: bool,
    ) -> Rc<Evaluation> {
        let names = |identity: Option<&[NamedPolicy]>| {
            identity.map(|l| l.iter().map(|p| p.name.clone()).collect::<Vec<_>>())
        };
        let Some(narrowing) = self.narrowing(policy) else {
            let inputs = Inputs {
                keys: vec![self.key_inputs(policy)],
                identity: identity.map(Into::into),
                ..Inputs::default()
            };
            let req = Request::new(caller, action, &self.facts.arn);
            return Rc::new(eval::evaluate(&inputs, &req, &Self::options(trace)));
        };
        let own_policy = std::ptr::eq(narrowing, &self.own);
        // Several rules ask the same question of the same policy (who can PutKeyPolicy, can
        // the account's roles CreateGrant…): each is evaluated once.
        let asked = (own_policy && remember).then(|| Asked {
            identity: names(identity.as_deref()),
            kind: caller.kind,
            arn: caller.arn.clone(),
            role_arn: caller.role_arn.clone(),
            tags: caller.tags.clone(),
            action: action.to_owned(),
            trace,
        });
        if let Some(a) = asked
            .as_ref()
            .and_then(|k| self.answers.borrow().get(k).cloned())
        {
            return a;
        }
        // The engine sees only the statements that can concern the caller (R24).
        let narrowed = narrowing.for_caller(&caller);
        let cached = narrowed
            .inputs
            .borrow()
            .iter()
            .find(|(n, _)| Self::same_identity(n.as_deref(), identity.as_deref()))
            .map(|(_, i)| Rc::clone(i));
        let inputs = match cached {
            Some(i) => i,
            None => {
                let tag = names(identity.as_deref());
                let built = Rc::new(Inputs {
                    keys: vec![self.key_inputs(&narrowed.policy)],
                    identity: identity.map(Into::into),
                    ..Inputs::default()
                });
                narrowed.inputs.borrow_mut().push((tag, Rc::clone(&built)));
                built
            }
        };
        let req = Request::new(caller, action, &self.facts.arn);
        let ev = Rc::new(eval::evaluate(&inputs, &req, &Self::options(trace)));
        if let Some(k) = asked {
            self.answers.borrow_mut().insert(k, Rc::clone(&ev));
        }
        ev
    }

    /// Runs one request against this key policy alone with request keys nobody gave taken as
    /// absent (not open), and no identity policies: what a caller that carries only what its
    /// kind always carries meets (a service principal calling on its own behalf).
    pub fn probe_closed(&self, caller: Caller, action: &str) -> Evaluation {
        let inputs = Inputs {
            keys: vec![self.key_inputs(&self.policy)],
            identity: Some(Vec::new().into()),
            ..Inputs::default()
        };
        eval::evaluate(
            &inputs,
            &Request::new(caller, action, &self.facts.arn),
            &Options::default(),
        )
    }

    /// The probe's answer as a [`Reach`].
    pub fn reach(&self, caller: Caller, action: &str, identity: Option<Vec<NamedPolicy>>) -> Reach {
        Reach::from_evaluation(&self.probe(caller, action, identity))
    }

    /// [`Self::reach`] for a probe no other rule asks: its answer is not remembered (a policy
    /// naming thousands of services asks each about every action, and the answers would hold
    /// hundreds of megabytes).
    pub fn reach_once(
        &self,
        caller: Caller,
        action: &str,
        identity: Option<Vec<NamedPolicy>>,
    ) -> Reach {
        Reach::from_evaluation(&self.run(&self.policy, caller, action, identity, false, false))
    }

    /// Whether the probe of `action` by `caller` with `identity` could be allowed, even under
    /// conditions: [`eval::key_policy_may_allow`] over this key policy. Most callers are named
    /// by a statement or two, so this rules out most of a key's probes before the engine runs.
    pub fn may_allow_to(
        &self,
        caller: &Caller,
        action: &str,
        identity: Option<&[NamedPolicy]>,
    ) -> bool {
        eval::key_policy_may_allow(
            &self.own.for_caller(caller).policy.doc,
            &self.facts.arn,
            caller,
            action,
            identity,
            &Self::options(false),
        )
    }

    /// [`Self::reach`] for rules that look only for [`Reach::Yes`] and
    /// [`Reach::Conditional`]: a probe [`Self::may_allow_to`] rules out is not run and answers
    /// [`Reach::No`] (it may be an explicit Deny, which such rules do not tell apart).
    pub fn allow_reach(
        &self,
        caller: &Caller,
        action: &str,
        identity: Option<Vec<NamedPolicy>>,
    ) -> Reach {
        if self.may_allow_to(caller, action, identity.as_deref()) {
            self.reach(caller.clone(), action, identity)
        } else {
            Reach::No
        }
    }

    /// The key policy without its `Deny` statements (to ask what a Deny takes away, R110).
    /// Built once; probes against it are narrowed as probes against the key policy are.
    pub fn without_denies(&self) -> &NamedPolicy {
        &self
            .allows
            .get_or_init(|| {
                let mut doc = (*self.policy.doc).clone();
                doc.statements.retain(|s| !s.is_deny());
                Narrowing::new(NamedPolicy {
                    name: self.policy.name.clone(),
                    doc: Arc::new(doc),
                })
            })
            .policy
    }

    /// A policy that allows everything, as an identity policy (a caller who controls its own
    /// IAM, or the "IAM allows it" side of delegation).
    pub fn allow_all_identity(&self) -> Vec<NamedPolicy> {
        allow_all()
            .map(|doc| NamedPolicy {
                name: "identity policy allowing everything".into(),
                doc,
            })
            .into_iter()
            .collect()
    }

    /// A role of the key's account that the key policy does not name.
    pub fn account_probe(&self) -> Option<Caller> {
        Caller::parse(
            &format!(
                "arn:{}:iam::{}:role/{PROBE_ROLE}",
                self.facts.partition, self.facts.account
            ),
            None,
        )
        .ok()
    }

    /// A role of an account no policy names, whose own IAM allows everything (R24, L005).
    pub fn stranger(&self) -> Option<Caller> {
        Caller::parse(
            &format!(
                "arn:{}:iam::{STRANGER_ACCOUNT}:role/{PROBE_ROLE}",
                self.facts.partition
            ),
            None,
        )
        .ok()
    }

    /// The statement an engine answer names (`key policy#Sid`, `key policy##2`): the first
    /// with that Sid, looked up by hash (rules ask once per answer, and answers are many).
    pub fn statement_named(&self, id: &str) -> Option<&Statement> {
        let rest = id.strip_prefix(KEY_POLICY)?.strip_prefix('#')?;
        let doc = self.doc();
        let by_sid = self.by_sid.get_or_init(|| {
            let mut m: HashMap<String, usize> = HashMap::new();
            for (pos, st) in doc.statements.iter().enumerate() {
                if let Some(sid) = &st.sid {
                    m.entry(sid.value.clone()).or_insert(pos);
                }
            }
            m
        });
        if let Some(&pos) = by_sid.get(rest) {
            return doc.statements.get(pos);
        }
        let n: usize = rest.trim_start_matches('#').parse().ok()?;
        doc.statements.get(n.checked_sub(1)?)
    }

    /// Every user, role and session an `Allow` names, once each (the first statement naming it),
    /// as a caller the engine can be asked about.
    pub fn named_callers(&self) -> Vec<NamedCaller<'_>> {
        let mut out: Vec<NamedCaller<'_>> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for st in self.doc().statements.iter().filter(|s| s.is_allow()) {
            let Some(pc) = st.principal.as_ref().filter(|p| !p.negated) else {
                continue;
            };
            for e in &pc.entries {
                let arn = match &e.class {
                    PrincipalClass::User { arn, .. }
                    | PrincipalClass::Role { arn, .. }
                    | PrincipalClass::AssumedRole { arn, .. } => arn.as_str(),
                    _ => continue,
                };
                if !seen.insert(arn) {
                    continue;
                }
                if let Ok(caller) = Caller::parse(arn, None) {
                    out.push(NamedCaller {
                        statement: st,
                        entry: e,
                        arn,
                        caller,
                    });
                }
            }
        }
        out
    }

    /// R110: every principal an `Allow` names, probed for `kms:PutKeyPolicy`. Computed once.
    pub fn admin_analysis(&self) -> &AdminAnalysis {
        self.admins.get_or_init(|| self.compute_admins())
    }

    fn compute_admins(&self) -> AdminAnalysis {
        let mut out = AdminAnalysis::default();
        let mut seen: HashSet<String> = HashSet::new();
        for st in &self.doc().statements {
            let Some(pc) = st.principal.as_ref().filter(|_| st.is_allow()) else {
                continue;
            };
            if pc.negated {
                continue;
            }
            for e in &pc.entries {
                let (caller, delegated) = match &e.class {
                    PrincipalClass::Account { account, .. } => (
                        Caller::parse(account, None).ok(),
                        *account == self.facts.account,
                    ),
                    PrincipalClass::User { arn, .. }
                    | PrincipalClass::Role { arn, .. }
                    | PrincipalClass::AssumedRole { arn, .. } => {
                        (Caller::parse(arn, None).ok(), false)
                    }
                    // "*" counts as an administrator (R110 step 2): any principal of the
                    // key's account.
                    PrincipalClass::Any => (self.account_probe(), false),
                    _ => (None, false),
                };
                let Some(caller) = caller else { continue };
                let key = format!(
                    "{}|{}",
                    caller.arn,
                    caller.role_arn.as_deref().unwrap_or("")
                );
                if !seen.insert(key) {
                    continue;
                }
                let reach = self.reach(caller.clone(), "kms:PutKeyPolicy", Some(Vec::new()));
                let exists = match &e.class {
                    PrincipalClass::Any | PrincipalClass::Account { .. } => Some(true),
                    c => self.directory.and_then(|d| d.exists(c)),
                };
                out.candidates.push(Candidate {
                    principal: e.value.clone(),
                    caller,
                    span: e.span,
                    statement: st.index,
                    reach,
                    exists,
                    delegated,
                });
            }
        }
        out
    }
}

/// The key policy as the rules ask the engine about it: a statement whose `Sid` repeats an
/// earlier one's loses it, so the engine names it by position (`key policy#3`) and every answer
/// leads back to the one statement that gave it ([`KeyLintContext::statement_named`]). AWS
/// refuses such a policy (KMS038 reports it), but a statement under a repeated `Sid` must
/// still be judged on its own, never taken for the first one (R10). The document is shared
/// unchanged when its `Sid`s are unique, as they almost always are.
fn unique_sids(doc: &Arc<PolicyDocument>) -> Arc<PolicyDocument> {
    // One pass with a set: a policy may hold thousands of statements.
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let repeated: Vec<usize> = doc
        .statements
        .iter()
        .enumerate()
        .filter(|(_, st)| {
            st.sid
                .as_ref()
                .is_some_and(|sid| !sid.value.is_empty() && !seen.insert(sid.value.as_str()))
        })
        .map(|(i, _)| i)
        .collect();
    if repeated.is_empty() {
        return Arc::clone(doc);
    }
    let mut copy = (**doc).clone();
    for i in repeated {
        if let Some(st) = copy.statements.get_mut(i) {
            st.sid = None;
        }
    }
    Arc::new(copy)
}

/// Condition keys that tie a request to the key owner's principals, organisation, network or
/// resources: a stranger cannot satisfy them (R24, L005).
pub const OWNER_SCOPING_KEYS: &[&str] = &[
    "kms:calleraccount",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:userid",
    "aws:username",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:vpcsourceip",
];

/// Condition keys that tie a service principal's request to one resource or account: the
/// confused-deputy guards (R105, L030). Encryption-context keys that name the calling resource
/// (`kms:EncryptionContext:aws:cloudtrail:arn`, `…:aws:logs:arn`) count, as AWS documents them
/// for this purpose.
pub fn deputy_guard(key: &str) -> bool {
    matches!(
        key,
        "aws:sourceaccount" | "aws:sourcearn" | "aws:sourceorgid" | "aws:sourceorgpaths"
    ) || key
        .strip_prefix("kms:encryptioncontext:aws:")
        .is_some_and(|rest| rest.ends_with(":arn") || rest.ends_with(":sourcearn"))
}

/// Key-resource actions a key policy can allow (not IAM-only ones). Alias operations (which
/// also need an alias) and `RetireGrant` (decided by the grant, R75) are not single-key
/// questions and are left out.
pub fn key_actions() -> impl Iterator<Item = &'static catalog::ActionInfo> {
    const NOT_PROBED: &[&str] = &["CreateAlias", "DeleteAlias", "UpdateAlias", "RetireGrant"];
    catalog::actions()
        .iter()
        .filter(|a| a.on_key && !a.iam_only && a.in_service_reference)
        .filter(|a| !NOT_PROBED.contains(&a.name))
}

/// Joins requirement alternatives into one sentence: "`a` is `x` and `b` is `y`, or …".
pub fn residual_text(alts: &[Vec<Requirement>]) -> String {
    let parts: Vec<String> = alts
        .iter()
        .map(|a| {
            a.iter()
                .map(|r| r.text.as_str())
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .collect();
    parts.join(", or ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceId;

    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn context(text: &str) -> (NamedPolicy, SourceFile) {
        let json = crate::json::parse(text).unwrap();
        let (doc, _) = crate::policy::parse_policy(&json, SourceId::new(0, 0), PolicyKind::Key);
        let policy = NamedPolicy {
            name: KEY_POLICY.into(),
            doc: Arc::new(doc),
        };
        (policy, SourceFile::new("kp.json", text, None))
    }

    /// A policy naming many principals one statement each, with statements any caller may
    /// match between them.
    fn many(roles: usize) -> String {
        let mut st = vec![
            r#"{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}"#.to_owned(),
            r#"{"Sid":"Logs","Effect":"Allow","Principal":{"Service":"logs.amazonaws.com"},"Action":"kms:Decrypt","Resource":"*"}"#.to_owned(),
            r#"{"Sid":"Anyone","Effect":"Allow","Principal":"*","Action":"kms:DescribeKey","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}"#.to_owned(),
            r#"{"Sid":"NoDelete","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/App1"},"Action":"kms:ScheduleKeyDeletion","Resource":"*"}"#.to_owned(),
            r#"{"Sid":"Session","Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/App2/alice"},"Action":"kms:PutKeyPolicy","Resource":"*"}"#.to_owned(),
            r#"{"Sid":"Other","Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":["kms:Decrypt","kms:CreateGrant"],"Resource":"*"}"#.to_owned(),
            r#"{"Sid":"DenyApp3","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:role/App3"},"Action":"kms:Decrypt","Resource":"*"}"#.to_owned(),
        ];
        for i in 0..roles {
            st.push(format!(
                r#"{{"Sid":"S{i}","Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::111122223333:role/App{i}","arn:aws:iam::111122223333:user/u{i}"]}},"Action":["kms:Decrypt","kms:CreateGrant","kms:PutKeyPolicy"],"Resource":"*","Condition":{{"Bool":{{"kms:GrantIsForAWSResource":"true"}}}}}}"#
            ));
        }
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            st.join(",")
        )
    }

    fn callers() -> Vec<Caller> {
        [
            "arn:aws:iam::111122223333:role/App1",
            "arn:aws:iam::111122223333:role/App2",
            "arn:aws:sts::111122223333:assumed-role/App2/alice",
            "arn:aws:sts::111122223333:assumed-role/App2/bob",
            "arn:aws:iam::111122223333:role/App3",
            "arn:aws:iam::111122223333:user/u7",
            "arn:aws:iam::111122223333:role/kmsaudit-probe",
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::444455556666:role/Elsewhere",
            "arn:aws:iam::000011112222:role/kmsaudit-probe",
            "arn:aws:sts::111122223333:federated-user/u7",
            "logs.amazonaws.com",
            "cloudtrail.amazonaws.com",
        ]
        .iter()
        .map(|s| Caller::parse(s, None).unwrap())
        .collect()
    }

    #[test]
    fn r24_a_probe_sees_only_the_statements_that_can_concern_its_caller() {
        let (policy, source) = context(&many(1_000));
        let facts = KeyFacts::from_arn(KEY).unwrap();
        let cx = KeyLintContext::new(&policy, &source, facts, "k".into(), None);
        let kept = |arn: &str| -> Vec<String> {
            let c = Caller::parse(arn, None).unwrap();
            let n = cx.own.for_caller(&c);
            n.policy
                .doc
                .statements
                .iter()
                .map(Statement::label)
                .collect()
        };
        // Its own statement, the account's root delegation, and the statements any caller
        // may match: not the other 999 roles' statements.
        assert_eq!(
            kept("arn:aws:iam::111122223333:role/App5"),
            ["Root", "Anyone", "NoDelete", "S5"]
        );
        // Any session of App2 may be the one a statement names.
        assert_eq!(
            kept("arn:aws:iam::111122223333:role/App2"),
            ["Root", "Anyone", "NoDelete", "Session", "S2"]
        );
        assert_eq!(
            kept("arn:aws:iam::444455556666:role/Elsewhere"),
            ["Anyone", "NoDelete", "Other"]
        );
        assert_eq!(kept("logs.amazonaws.com"), ["Logs", "Anyone", "NoDelete"]);
        // A federated user whose federating user is not known is matched by name: every
        // statement is kept.
        assert_eq!(
            kept("arn:aws:sts::111122223333:federated-user/u7").len(),
            policy.doc.statements.len()
        );
    }

    #[test]
    fn r24_narrowed_probes_answer_as_the_whole_policy_does() {
        let (policy, source) = context(&many(40));
        let facts = KeyFacts::from_arn(KEY).unwrap();
        let cx = KeyLintContext::new(&policy, &source, facts.clone(), "k".into(), None);
        let mut compared = 0;
        for caller in callers() {
            for action in [
                "kms:Decrypt",
                "kms:PutKeyPolicy",
                "kms:CreateGrant",
                "kms:ScheduleKeyDeletion",
                "kms:DescribeKey",
            ] {
                for identity in [None, Some(Vec::new()), Some(cx.allow_all_identity())] {
                    let whole = eval::evaluate(
                        &Inputs {
                            keys: vec![cx.key_inputs(&cx.policy)],
                            identity: identity.clone().map(Into::into),
                            ..Inputs::default()
                        },
                        &Request::new(caller.clone(), action, &facts.arn),
                        &KeyLintContext::options(false),
                    );
                    let narrowed = cx.probe(caller.clone(), action, identity.clone());
                    assert_eq!(
                        Reach::from_evaluation(&narrowed),
                        Reach::from_evaluation(&whole),
                        "{} {action} {identity:?}",
                        caller.arn
                    );
                    assert_eq!(narrowed.decision, whole.decision);
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, 13 * 5 * 3);
    }
}
