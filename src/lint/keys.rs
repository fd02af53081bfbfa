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
use std::rc::Rc;
use std::sync::{Arc, OnceLock};

use crate::arn::PrincipalClass;
use crate::catalog;
use crate::eval::{
    self, Caller, Decision, Evaluation, Inputs, KeyFacts, KeyInputs, NamedPolicy, Options, Request,
};
use crate::policy::{PolicyDocument, PolicyKind, Statement};
use crate::source::SourceId;

pub(crate) use crate::inventory::Directory;
use crate::inventory::{InputsFor, allow_all};

mod memo;
mod narrowing;
mod reach;
mod vocabulary;

use memo::{ALLOW_ALL_NAME, Asked, OwnedMemo};
use narrowing::{Built, Narrowed, Narrowing};

pub(crate) use reach::{AdminAnalysis, Candidate, Reach};
pub(crate) use vocabulary::prefixed_name;
pub(crate) use vocabulary::{deputy_guard, key_actions, residual_text};

// The probe layer's maps are looked up on every probe; no map here is iterated, so the
// output does not depend on the hasher's seed.
use crate::hash::{FastMap, FastSet};

/// One key policy with its key, for the key-level rules.
pub struct KeyLintContext<'a> {
    /// The key policy, named `key policy` in engine answers.
    pub(crate) policy: NamedPolicy,
    /// The key: from the input, or made from the account (given or inferred) for a bare policy.
    pub(crate) facts: KeyFacts,
    /// The account was given or known, not inferred from the policy's principals.
    pub(crate) account_known: bool,
    /// The Region is known (a key ARN, `--region`, or the plan's provider).
    pub(crate) region_known: bool,
    /// The key's identity for fingerprints: ARN, Terraform address, logical id or file name.
    pub(crate) identity: String,
    /// Which IAM principals exist, when authorization details were loaded.
    pub(crate) directory: Option<&'a dyn Directory>,
    /// The settings the rules read.
    pub(crate) config: &'a super::Config,
    /// Everything the inputs define, for the organisation's SCP and RCP levels.
    pub(crate) organisation: Option<&'a crate::inventory::Inventory>,
    /// For a policy a plan creates or replaces: who will call PutKeyPolicy (R112).
    pub(crate) deployer: Option<String>,
    admins: OnceCell<AdminAnalysis>,
    /// The key policy's statements by the callers they can concern, and the narrowed
    /// policies built from them.
    own: Narrowing,
    /// The key policy without its `Deny` statements, likewise (built when asked for).
    allows: OnceCell<Narrowing>,
    /// The probes of this key policy asked so far, with the engine's answers, by the hash of
    /// the probe (made from borrowed fields, so a probe asked again allocates nothing). A
    /// policy naming thousands of principals asks tens of thousands: they are looked up by
    /// hash.
    answers: RefCell<FastMap<u64, Answers>>,
    /// The answers for the last service principal asked about: the rules ask a service
    /// principal's probes one service after another, and no other rule asks them again, so
    /// keeping every service's answers only held memory (a policy of 8,000 services: 280 MB,
    /// and time that grew faster than the policy).
    service_answers: RefCell<Answers>,
    /// The seed of the probes' hashes.
    hasher: foldhash::fast::RandomState,
    /// Callers made from principal ARNs and account ids, parsed once per key policy.
    callers: RefCell<FastMap<String, Option<Rc<Caller>>>>,
    /// The callers this context holds (in `callers` and `probes`) until it is dropped, by
    /// address.
    owned: RefCell<FastMap<usize, Rc<Caller>>>,
    /// Every probe is run, none ruled out by the pre-check: for the tests that hold the
    /// pre-check against the engine.
    skip_off: std::cell::Cell<bool>,
    /// Every action is asked of the engine, none answered by another of its class: for the
    /// tests that hold the classes against the engine.
    classes_off: std::cell::Cell<bool>,
    /// Every caller is asked of the engine, none answered by another with its signature: for
    /// the tests that hold the caller classes against the engine.
    caller_classes_off: std::cell::Cell<bool>,
    /// See `aws_managed`.
    aws_managed: OnceCell<bool>,
    /// See `statement_named`.
    by_sid: OnceCell<FastMap<String, usize>>,
    /// The account probe and the stranger, parsed once.
    probes: OnceCell<ProbeCallers>,
    /// [`Self::named_callers`] by statement and entry position, found once: three rules walk
    /// them, and finding them (each ARN seen once, its caller looked up) cost more than the
    /// walks.
    named: OnceCell<Vec<(usize, usize, Rc<Caller>)>>,
    /// The answers of the callers this context owns, by address.
    owned_memo: OwnedMemo,
}

/// The account probe and the stranger (either `None` when its ARN does not parse).
type ProbeCallers = (Option<Rc<Caller>>, Option<Rc<Caller>>);

/// Probes with the engine's answers.
type Answers = Vec<(Asked, Rc<Evaluation>)>;

/// An identity-policy set as the caches tell sets apart: by policy names; `None` when the
/// caller's identity policies are not known.
type IdentityNames = Option<Vec<String>>;

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
pub(crate) use crate::arn::UNKNOWN_ACCOUNT;

/// The name probes give the key policy.
pub(crate) const KEY_POLICY: &str = "key policy";

/// Probe principals: a role of the key's account that no policy names, and one of an account
/// no policy names (documentation-reserved account ids are avoided: any 12 digits will do).
const PROBE_ROLE: &str = "kmsaudit-probe";
/// The account of the stranger probe (R24, L005).
pub(crate) const STRANGER_ACCOUNT: &str = "000011112222";

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

impl<'a> KeyLintContext<'a> {
    /// A context for one key policy.
    pub fn new(
        policy: &NamedPolicy,
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
        let named = memo::named_entries(&policy.doc);
        let room = memo::room_for(named);
        KeyLintContext {
            own: Narrowing::new(policy.clone()),
            policy,
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
            answers: RefCell::new(crate::hash::map_with(room)),
            service_answers: RefCell::new(Vec::new()),
            hasher: foldhash::fast::RandomState::default(),
            callers: RefCell::new(crate::hash::map_with(room)),
            owned: RefCell::new(crate::hash::map_with(room)),
            skip_off: std::cell::Cell::new(false),
            classes_off: std::cell::Cell::new(false),
            caller_classes_off: std::cell::Cell::new(false),
            aws_managed: OnceCell::new(),
            by_sid: OnceCell::new(),
            probes: OnceCell::new(),
            named: OnceCell::new(),
            owned_memo: OwnedMemo::for_named(named),
        }
    }

    /// The key policy narrowed to the statements that can concern `caller` (R24): the engine
    /// answers every request `caller` can make against it as against the whole policy.
    pub(crate) fn policy_for(&self, caller: &Caller) -> NamedPolicy {
        self.own.for_caller(caller).policy.clone()
    }

    /// The key policy document.
    pub(crate) fn doc(&self) -> &PolicyDocument {
        &self.policy.doc
    }

    /// The key is AWS managed (R114): by its facts, or by the shape of its policy (R121).
    pub(crate) fn aws_managed(&self) -> bool {
        // Most key rules ask; the policy's shape is worked out once.
        *self.aws_managed.get_or_init(|| {
            self.facts.key_manager == Some(eval::KeyManager::Aws)
                || crate::lint::shapes::label(self.doc(), &self.facts.account)
                    == crate::lint::shapes::Shape::AwsManaged
        })
    }

    /// Runs one request against this key policy alone (no grants), in residual mode: request
    /// keys that are not given stay open.
    pub(crate) fn probe(
        &self,
        caller: &Caller,
        action: &str,
        identity: Option<&[NamedPolicy]>,
    ) -> Rc<Evaluation> {
        self.probe_with(&self.policy, caller, action, identity)
    }

    /// [`Self::probe`] against another version of the key policy.
    pub(crate) fn probe_with(
        &self,
        policy: &NamedPolicy,
        caller: &Caller,
        action: &str,
        identity: Option<&[NamedPolicy]>,
    ) -> Rc<Evaluation> {
        self.run(policy, caller, action, identity, false, true)
    }

    /// Why the key policy does not let `caller` do `action`: each statement that names the
    /// caller and the action, with the element that failed (from the engine's trace).
    pub(crate) fn why_not(&self, caller: &Caller, action: &str) -> Vec<String> {
        let ev = self.run(&self.policy, caller, action, Some(&[]), true, true);
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
    pub(crate) fn probe_org(&self, action: &str) -> Option<Evaluation> {
        let all = self.organisation?;
        let caller = Caller::parse(&self.facts.account, None).ok()?;
        let inputs = all
            .inputs_for(&caller, Some(&self.facts.account))
            .keys([self.key_inputs(&self.policy)])
            .identity(Some(Vec::new().into()))
            .build();
        if inputs.scp.is_none() && inputs.rcp.is_none() {
            return None;
        }
        Some(eval::evaluate(
            &inputs,
            &Request::new(caller, action, &self.facts.arn),
            &Self::options(false),
        ))
    }

    /// Whether [`Self::probe_alias`] allows, run only when [`Self::may_allow_to`] allows
    /// with the alias probe's identity policy.
    pub(crate) fn alias_allowed(&self, caller: &Caller, action: &str) -> bool {
        self.owned_alias(caller, action)
            .unwrap_or_else(|| self.alias_allowed_by(caller, action))
    }

    /// [`Self::alias_allowed`], asked of the engine.
    fn alias_allowed_by(&self, caller: &Caller, action: &str) -> bool {
        let narrowed = self.own.for_caller(caller);
        let inputs = self.alias_inputs(&narrowed);
        self.may_allow_to(caller, action, inputs.identity.as_deref())
            && self.alias_probe(&inputs, caller.clone(), action).decision == Decision::Allow
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
            Rc::new(
                InputsFor::standalone()
                    .keys([self.key_inputs(&narrowed.policy)])
                    .identity(Some(identity.into()))
                    .build(),
            )
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
        caller: &Caller,
        action: &str,
        identity: Option<&[NamedPolicy]>,
        trace: bool,
        remember: bool,
    ) -> Rc<Evaluation> {
        let Some(narrowing) = self.narrowing(policy) else {
            let inputs = InputsFor::standalone()
                .keys([self.key_inputs(policy)])
                .identity(identity.map(Into::into))
                .build();
            let req = Request::new(caller.clone(), action, &self.facts.arn);
            return Rc::new(eval::evaluate(&inputs, &req, &Self::options(trace)));
        };
        let own_policy = std::ptr::eq(narrowing, &self.own);
        // Several rules ask the same question of the same policy (who can PutKeyPolicy, can
        // the account's roles CreateGrant…): each is evaluated once. Every probe of the key
        // policy looks; only those meant to be remembered are kept.
        let service = caller.kind == eval::CallerKind::Service;
        let hash = own_policy.then(|| Asked::hash(&self.hasher, identity, caller, action, trace));
        if let Some(h) = hash {
            let is = |(a, _): &&(Asked, Rc<Evaluation>)| a.is(identity, caller, action, trace);
            let found = if service {
                self.service_answers
                    .borrow()
                    .iter()
                    .find(is)
                    .map(|(_, e)| Rc::clone(e))
            } else {
                self.answers
                    .borrow()
                    .get(&h)
                    .and_then(|v| v.iter().find(is))
                    .map(|(_, e)| Rc::clone(e))
            };
            if let Some(a) = found {
                return a;
            }
        }
        let asked = (hash.is_some() && remember).then(|| {
            let kept = self
                .owned_rc(caller)
                .unwrap_or_else(|| Rc::new(caller.clone()));
            Asked::new(identity, kept, action, trace)
        });
        // The engine sees only the statements that can concern the caller (R24).
        let narrowed = narrowing.for_caller(caller);
        let built = self.built(&narrowed, identity);
        let req = Request::new(caller.clone(), action, &self.facts.arn);
        let ev = Rc::new(eval::evaluate(&built.inputs, &req, &Self::options(trace)));
        if let (Some(h), Some(k)) = (hash, asked) {
            if service {
                let mut kept = self.service_answers.borrow_mut();
                if kept
                    .first()
                    .is_some_and(|(a, _)| a.caller.arn != k.caller.arn)
                {
                    kept.clear();
                }
                kept.push((k, Rc::clone(&ev)));
            } else {
                self.answers
                    .borrow_mut()
                    .entry(h)
                    .or_default()
                    .push((k, Rc::clone(&ev)));
            }
        }
        ev
    }

    /// The engine's inputs for `narrowed` with `identity`: built once each.
    fn built(&self, narrowed: &Narrowed, identity: Option<&[NamedPolicy]>) -> Rc<Built> {
        let cached = narrowed
            .inputs
            .borrow()
            .iter()
            .find(|b| Self::same_identity(b.names.as_deref(), identity))
            .map(Rc::clone);
        if let Some(b) = cached {
            return b;
        }
        let built = Rc::new(Built {
            names: identity.map(|l| l.iter().map(|p| p.name.clone()).collect()),
            inputs: Rc::new(
                InputsFor::standalone()
                    .keys([self.key_inputs(&narrowed.policy)])
                    .identity(identity.map(Into::into))
                    .build(),
            ),
            classes: OnceCell::new(),
            kept_classes: RefCell::new(FastMap::default()),
            callers_shareable: OnceCell::new(),
            principals: OnceCell::new(),
        });
        narrowed.inputs.borrow_mut().push(Rc::clone(&built));
        built
    }

    /// The action whose answer `action` shares when `caller` asks it of this key policy with
    /// `identity` (see [`eval::ActionClasses`]), when it is another: the key rules that ask
    /// one caller about every key action run the engine once per class. Only the answer as a
    /// [`Reach`] is shared, which names no action.
    #[cfg(test)]
    fn shared_action(
        &self,
        caller: &Caller,
        action: &str,
        identity: Option<&[NamedPolicy]>,
    ) -> Option<&'static str> {
        self.shared_action_in(&self.built(&self.own.for_caller(caller), identity), action)
    }

    /// [`Self::shared_action`] on the engine's inputs `built`.
    fn shared_action_in(&self, built: &Built, action: &str) -> Option<&'static str> {
        if self.classes_off.get() {
            return None;
        }
        let index = catalog::action_index(action.strip_prefix("kms:")?)?;
        let rep = built
            .classes
            .get_or_init(|| Rc::new(eval::ActionClasses::of(&built.inputs)))
            .representative(index);
        (rep != index).then(|| catalog::prefixed(rep)).flatten()
    }

    /// The caller and action whose answer `caller` asking `action` with `identity` shares
    /// ([`Self::shared_caller`], [`Self::shared_action`]), each `None` when it is its own: the
    /// narrowed policy and the engine's inputs are looked up once for both.
    fn shared(
        &self,
        caller: &Caller,
        action: &str,
        identity: Option<&[NamedPolicy]>,
    ) -> (Option<Rc<Caller>>, Option<&'static str>) {
        let narrowed = self.own.for_caller(caller);
        let built = self.built(&narrowed, identity);
        (
            self.shared_caller_in(&narrowed, &built, caller),
            self.shared_action_in(&built, action),
        )
    }

    /// The caller whose answers `caller` shares when it asks this key policy with `identity`
    /// (see [`eval::CallerSignature`]), when it is another: a policy naming twenty roles in
    /// the same statements asks the engine about one of them. Only answers as a [`Reach`]
    /// are shared, which name no caller.
    #[cfg(test)]
    fn shared_caller(
        &self,
        caller: &Caller,
        identity: Option<&[NamedPolicy]>,
    ) -> Option<Rc<Caller>> {
        let narrowed = self.own.for_caller(caller);
        self.shared_caller_in(&narrowed, &self.built(&narrowed, identity), caller)
    }

    /// [`Self::shared_caller`] on `narrowed`, the key policy narrowed for `caller`, and the
    /// engine's inputs `built` from it.
    fn shared_caller_in(
        &self,
        narrowed: &Narrowed,
        built: &Built,
        caller: &Caller,
    ) -> Option<Rc<Caller>> {
        if self.caller_classes_off.get() {
            return None;
        }
        if !*built
            .callers_shareable
            .get_or_init(|| eval::callers_shareable(&built.inputs))
        {
            return None;
        }
        let address = std::ptr::from_ref(caller) as usize;
        if let Some(rep) = narrowed.by_address.borrow().get(&address) {
            return rep.clone();
        }
        if let Some(found) = narrowed
            .asked
            .borrow()
            .get(caller.arn.as_str())
            .and_then(|v| v.iter().find(|(c, _)| c == caller))
        {
            return found.1.clone();
        }
        let index = built
            .principals
            .get_or_init(|| eval::PrincipalIndex::of(&built.inputs));
        let sig = eval::CallerSignature::of_indexed(
            &built.inputs,
            index,
            caller,
            &Self::options(false).open,
        );
        let rep = {
            let mut reps = narrowed.representatives.borrow_mut();
            // An owned caller represents its class as itself, so that the answers kept by
            // address ([`memo::OwnedMemo`]) find it whichever of the class asks.
            let rep = reps.entry(sig).or_insert_with(|| {
                self.owned_rc(caller)
                    .unwrap_or_else(|| Rc::new(caller.clone()))
            });
            (**rep != *caller).then(|| Rc::clone(rep))
        };
        // A caller this context holds is found by address from now on; any other by ARN.
        if self.owns(caller) {
            narrowed
                .by_address
                .borrow_mut()
                .insert(address, rep.clone());
        } else {
            narrowed
                .asked
                .borrow_mut()
                .entry(caller.arn.clone())
                .or_default()
                .push((caller.clone(), rep.clone()));
        }
        rep
    }

    /// Whether `caller` is one this context holds until it is dropped: a parsed principal or
    /// a probe.
    fn owns(&self, caller: &Caller) -> bool {
        self.owned
            .borrow()
            .contains_key(&(std::ptr::from_ref(caller) as usize))
    }

    /// `caller` itself, shared, when this context holds it.
    fn owned_rc(&self, caller: &Caller) -> Option<Rc<Caller>> {
        self.owned
            .borrow()
            .get(&(std::ptr::from_ref(caller) as usize))
            .map(Rc::clone)
    }

    /// Records a caller this context holds until it is dropped.
    fn own_caller(&self, caller: Option<&Rc<Caller>>) {
        if let Some(c) = caller {
            self.owned
                .borrow_mut()
                .insert(Rc::as_ptr(c) as usize, Rc::clone(c));
        }
    }

    /// Runs one request against this key policy alone with request keys nobody gave taken as
    /// absent (not open), and no identity policies: what a caller that carries only what its
    /// kind always carries meets (a service principal calling on its own behalf).
    pub(crate) fn probe_closed(&self, caller: Caller, action: &str) -> Evaluation {
        let inputs = InputsFor::standalone()
            .keys([self.key_inputs(&self.policy)])
            .identity(Some(Vec::new().into()))
            .build();
        eval::evaluate(
            &inputs,
            &Request::new(caller, action, &self.facts.arn),
            &Options::default(),
        )
    }

    /// The probe's answer as a [`Reach`].
    pub(crate) fn reach(
        &self,
        caller: &Caller,
        action: &str,
        identity: Option<&[NamedPolicy]>,
    ) -> Reach {
        if let Some(r) = self.owned_reach(caller, action, identity, false) {
            return r;
        }
        let (rep, shared_action) = self.shared(caller, action, identity);
        let caller = rep.as_deref().unwrap_or(caller);
        let action = shared_action.unwrap_or(action);
        Reach::from_evaluation(&self.probe(caller, action, identity))
    }

    /// [`Self::reach`] for a probe no other rule asks: its answer is not remembered (a policy
    /// naming thousands of services asks each about every action, and the answers would hold
    /// hundreds of megabytes).
    pub(crate) fn reach_once(
        &self,
        caller: &Caller,
        action: &str,
        identity: Option<&[NamedPolicy]>,
    ) -> Reach {
        let (rep, shared_action) = self.shared(caller, action, identity);
        let caller = rep.as_deref().unwrap_or(caller);
        let action = shared_action.unwrap_or(action);
        Reach::from_evaluation(&self.run(&self.policy, caller, action, identity, false, false))
    }

    /// Whether the probe of `action` by `caller` with `identity` could be allowed, even under
    /// conditions: [`eval::key_policy_may_allow`] over this key policy. Most callers are named
    /// by a statement or two, so this rules out most of a key's probes before the engine runs.
    pub(crate) fn may_allow_to(
        &self,
        caller: &Caller,
        action: &str,
        identity: Option<&[NamedPolicy]>,
    ) -> bool {
        if self.skip_off.get() {
            return true;
        }
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
    ///
    /// A probe already answered is taken from the memo without the pre-check: when several
    /// rules ask one caller, the first one's answer settles it.
    pub(crate) fn allow_reach(
        &self,
        caller: &Caller,
        action: &str,
        identity: Option<&[NamedPolicy]>,
    ) -> Reach {
        if let Some(r) = self.owned_reach(caller, action, identity, true) {
            return r;
        }
        let (rep, shared_action) = self.shared(caller, action, identity);
        let caller = rep.as_deref().unwrap_or(caller);
        let action = shared_action.unwrap_or(action);
        if let Some(ev) = self.remembered(caller, action, identity) {
            return Reach::from_evaluation(&ev);
        }
        if self.may_allow_to(caller, action, identity) {
            self.reach(caller, action, identity)
        } else {
            Reach::No
        }
    }

    /// The memo's answer to a probe of the key policy (no trace), when it was asked before.
    fn remembered(
        &self,
        caller: &Caller,
        action: &str,
        identity: Option<&[NamedPolicy]>,
    ) -> Option<Rc<Evaluation>> {
        let is = |(a, _): &&(Asked, Rc<Evaluation>)| a.is(identity, caller, action, false);
        if caller.kind == eval::CallerKind::Service {
            return self
                .service_answers
                .borrow()
                .iter()
                .find(is)
                .map(|(_, e)| Rc::clone(e));
        }
        let h = Asked::hash(&self.hasher, identity, caller, action, false);
        self.answers
            .borrow()
            .get(&h)
            .and_then(|v| v.iter().find(is))
            .map(|(_, e)| Rc::clone(e))
    }

    /// The key policy without its `Deny` statements (to ask what a Deny takes away, R110).
    /// Built once; probes against it are narrowed as probes against the key policy are.
    pub(crate) fn without_denies(&self) -> &NamedPolicy {
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
    pub(crate) fn allow_all_identity(&self) -> Vec<NamedPolicy> {
        allow_all()
            .map(|doc| NamedPolicy {
                name: ALLOW_ALL_NAME.into(),
                doc,
            })
            .into_iter()
            .collect()
    }

    /// A role of the key's account that the key policy does not name.
    pub(crate) fn account_probe(&self) -> Option<Rc<Caller>> {
        self.probes
            .get_or_init(|| {
                let parse = |arn: String| {
                    let c = Caller::parse(&arn, None).ok().map(Rc::new);
                    self.own_caller(c.as_ref());
                    c
                };
                (
                    parse(format!(
                        "arn:{}:iam::{}:role/{PROBE_ROLE}",
                        self.facts.partition, self.facts.account
                    )),
                    parse(format!(
                        "arn:{}:iam::{STRANGER_ACCOUNT}:role/{PROBE_ROLE}",
                        self.facts.partition
                    )),
                )
            })
            .0
            .clone()
    }

    /// A role of an account no policy names, whose own IAM allows everything (R24, L005).
    pub(crate) fn stranger(&self) -> Option<Rc<Caller>> {
        self.account_probe();
        self.probes.get().and_then(|p| p.1.clone())
    }

    /// The statement an engine answer names (`key policy#Sid`, `key policy##2`): the first
    /// with that Sid, looked up by hash (rules ask once per answer, and answers are many).
    pub(crate) fn statement_named(&self, id: &str) -> Option<&Statement> {
        let rest = id.strip_prefix(KEY_POLICY)?.strip_prefix('#')?;
        let doc = self.doc();
        let by_sid = self.by_sid.get_or_init(|| {
            let mut m: FastMap<String, usize> = FastMap::default();
            for (pos, st) in doc.statements.iter().enumerate() {
                if let Some(sid) = &st.sid {
                    m.entry(sid.value.clone()).or_insert(pos);
                }
            }
            m
        });
        if let Some(&pos) = by_sid.get(rest) {
            return doc.statement(pos);
        }
        let n: usize = rest.trim_start_matches('#').parse().ok()?;
        doc.statement(n.checked_sub(1)?)
    }

    /// The caller a principal ARN or account id stands for (`Caller::parse` without a role
    /// ARN), parsed once per key policy: several rules ask about the same principals.
    pub(crate) fn caller(&self, principal: &str) -> Option<Rc<Caller>> {
        if let Some(c) = self.callers.borrow().get(principal) {
            return c.clone();
        }
        let c = Caller::parse(principal, None).ok().map(Rc::new);
        self.own_caller(c.as_ref());
        self.callers
            .borrow_mut()
            .insert(principal.to_owned(), c.clone());
        c
    }

    /// R110: every principal an `Allow` names, probed for `kms:PutKeyPolicy`. Computed once.
    pub(crate) fn admin_analysis(&self) -> &AdminAnalysis {
        self.admins.get_or_init(|| self.compute_admins())
    }

    fn compute_admins(&self) -> AdminAnalysis {
        let mut out = AdminAnalysis::default();
        // The candidates so far by the hash of their caller's ARN and role ARN: a caller named
        // twice (by ARN and by account id, or in two statements) is probed once.
        let mut seen: FastMap<u64, Vec<usize>> = FastMap::default();
        for st in &self.doc().statements {
            let Some(pc) = st.principal.as_ref().filter(|_| st.is_allow()) else {
                continue;
            };
            if pc.negated {
                continue;
            }
            for e in &pc.entries {
                let caller = match &e.class {
                    PrincipalClass::Account { account, .. } => self.caller(account),
                    PrincipalClass::User { arn, .. }
                    | PrincipalClass::Role { arn, .. }
                    | PrincipalClass::AssumedRole { arn, .. } => self.caller(arn),
                    // "*" counts as an administrator (R110 step 2): any principal of the
                    // key's account.
                    PrincipalClass::Any => self.account_probe(),
                    _ => None,
                };
                let Some(caller) = caller else { continue };
                let key =
                    std::hash::BuildHasher::hash_one(&self.hasher, (&caller.arn, &caller.role_arn));
                let same = |&i: &usize| {
                    out.candidates.get(i).is_some_and(|c| {
                        c.caller.arn == caller.arn && c.caller.role_arn == caller.role_arn
                    })
                };
                let earlier = seen.entry(key).or_default();
                if earlier.iter().any(same) {
                    continue;
                }
                earlier.push(out.candidates.len());
                let reach = self.reach(&caller, "kms:PutKeyPolicy", Some(&[]));
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
                    owner_keeps: std::cell::Cell::new(None),
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
    let mut seen: FastSet<&str> = FastSet::default();
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
            Arc::make_mut(st).sid = None;
        }
    }
    Arc::new(copy)
}

#[cfg(test)]
mod tests;
