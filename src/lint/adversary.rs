//! The adversary model: what a principal outside the key's account can make each request key be
//! (spec R24, R55, R105; written out in `docs/semantics.md`, "The adversary model").
//!
//! The public-key and confused-deputy rules ask the engine one question: "is there a request
//! an adversary can make that some Allow admits and no Deny refuses?". This module builds the
//! adversary's requests. The callers are principals of accounts no policy names — root, users,
//! roles (any session), federated users, with the names and paths the policy expects, in any
//! account a pattern of the policy lets through — or a service principal acting for such an
//! account. For every condition key an answer depends on, the candidate values are: absent,
//! the adversary's own value (`o-…` of another organisation, a public address, its own VPC
//! endpoint…), and a stranger's variant of each value the policy mentions (its wildcards
//! filled in, the account part set to the adversary's). Values only the key owner holds (its
//! organisation id, its VPC endpoints, its address ranges, its accounts) are never the
//! adversary's. Each combination is one concrete request: the engine decides it with its
//! three-valued logic, and the first `allow` is the counterexample. An answer the engine cannot
//! settle is kept as "may": never a silent pass.

mod values;

use std::sync::Arc;

use super::keys::{KeyLintContext, Reach, STRANGER_ACCOUNT};
use crate::arn::PrincipalClass;
use crate::eval::{self, Caller, CallerKind, Decision, Inputs, KeyInputs, NamedPolicy, Options};
use crate::policy::BaseOperator;
use values::{fill, fill_account, now_iso, principal_parts};

/// The filler an adversary writes where a pattern has `*`.
const FILL: &str = "kmsaudit-adversary";
/// The adversary's own organisation, VPC and VPC endpoint.
const ADV_ORG: &str = "o-kmsauditadv";
const ADV_VPCE: &str = "vpce-0kmsauditadversary";
const ADV_VPC: &str = "vpc-0kmsauditadversary";
/// Public addresses the adversary may call from (one IPv4 below and one above 128.0.0.0, one
/// IPv6); those inside a range the policy names are dropped unless the range is so wide that
/// it is nobody's (shorter than /8, /16 for IPv6).
const PUBLIC_ADDRESSES: &[&str] = &["52.94.0.99", "151.101.1.1", "2600:1f18::1"];
/// The most combinations tried for one answer; past it, the search is inconclusive.
const MAX_COMBINATIONS: usize = 512;

/// The work one key policy's searches may do, in statements put to the engine: past it every
/// search still open is reported as not settled (a warning, never a silent pass). Ordinary
/// policies stay far below it; a policy of thousands of statements that any stranger may match,
/// each under its own condition, would otherwise cost statements × searches × combinations.
const WORK_BUDGET: u64 = 1_000_000;

/// Request keys the caller determines: the search varies the caller, not these.
const CALLER_KEYS: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "kms:calleraccount",
    "aws:principaltype",
    "aws:username",
    "aws:principalisawsservice",
    "aws:principalservicename",
    "aws:principalservicenamelist",
];

/// Keys whose value comes from the key or its account: fixed by the owner, not varied.
fn owner_fact(key: &str) -> bool {
    key.starts_with("aws:resourcetag/")
        || matches!(
            key,
            "aws:resourceaccount"
                | "aws:resourceorgid"
                | "aws:resourceorgpaths"
                | "aws:requestedregion"
                | "kms:keyspec"
                | "kms:customermasterkeyspec"
                | "kms:keyusage"
                | "kms:customermasterkeyusage"
                | "kms:keyorigin"
                | "kms:multiregion"
                | "kms:multiregionkeytype"
                | "kms:resourcealiases"
                | "kms:keyagreementalgorithm"
                | "kms:reencryptonsamekey"
                | "kms:bypasspolicylockoutsafetycheck"
        )
}

/// Keys whose exact values belong to the key owner: an adversary has them only through a
/// wildcard (or, for an organisation id, when the configured organisation is another).
fn owner_held(key: &str, service_caller: bool) -> bool {
    matches!(
        key,
        "aws:principalorgid"
            | "aws:principalorgpaths"
            | "aws:sourcevpce"
            | "aws:sourcevpc"
            | "aws:sourceorgid"
            | "aws:sourceorgpaths"
            | "aws:sourceaccount"
            | "aws:sourcearn"
            | "aws:userid"
            | "kms:requestalias"
    ) || (service_caller && super::keys::deputy_guard(key))
}

/// Whether `op` compares numbers.
fn numeric(op: crate::policy::BaseOperator) -> bool {
    use crate::policy::BaseOperator as B;
    matches!(
        op,
        B::NumericEquals
            | B::NumericNotEquals
            | B::NumericLessThan
            | B::NumericLessThanEquals
            | B::NumericGreaterThan
            | B::NumericGreaterThanEquals
    )
}

/// The 12-digit accounts next to `account` (one below, one above), for numeric tests.
fn neighbours(account: &str) -> Vec<String> {
    let Ok(n) = account.trim().parse::<u64>() else {
        return Vec::new();
    };
    [n.checked_sub(1), n.checked_add(1)]
        .into_iter()
        .flatten()
        .map(|m| format!("{m:012}"))
        .filter(|a| crate::arn::is_account_id(a))
        .collect()
}

/// How a counterexample shows the value `v` of `axis`: the time of the run by name, so that
/// the finding reads the same on every run (its first candidate, R107).
fn shown_value(axis: &Axis, v: Option<&String>) -> Option<String> {
    let time = matches!(axis.key.as_str(), "aws:currenttime" | "aws:epochtime");
    if time && v.is_some() && v == axis.values.first().and_then(Option::as_ref) {
        return Some(NOW_SHOWN.to_owned());
    }
    v.cloned()
}

/// The time of the run, as a counterexample shows it.
const NOW_SHOWN: &str = "the time of the run";

/// Keys that come from how the request reached KMS (through an integrated service or not).
fn via_key(key: &str) -> bool {
    matches!(
        key,
        "kms:viaservice"
            | "aws:viaawsservice"
            | "aws:calledvia"
            | "aws:calledviafirst"
            | "aws:calledvialast"
    )
}

/// One condition key the search varies: its name as written and its candidate values
/// (`None`: absent).
#[derive(Debug, Clone)]
struct Axis {
    key: String,
    shown: String,
    values: Vec<Option<String>>,
}

/// A request by an adversary that the key policy lets in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Counterexample {
    /// The caller (ARN or service principal).
    pub(crate) principal: String,
    /// The action.
    pub(crate) action: String,
    /// The integrated service the request came through, if any.
    pub(crate) via: Option<String>,
    /// The request keys the answer depends on: name as written, value (`None`: absent).
    pub(crate) values: Vec<(String, Option<String>)>,
    /// The statements that allowed it (engine ids).
    pub(crate) statements: Vec<String>,
    /// Why the engine could not settle it, when it is only a "may".
    pub(crate) unsettled: Option<String>,
}

impl Counterexample {
    /// "`arn:…:role/Deploy` calling kms:Decrypt with `aws:PrincipalOrgID` = `o-…`".
    pub(crate) fn describe(&self) -> String {
        let mut s = format!("`{}` calling {}", self.principal, self.action);
        let parts: Vec<String> = self
            .values
            .iter()
            .map(|(k, v)| match v {
                Some(v) if v == NOW_SHOWN => format!("`{k}` = {v}"),
                Some(v) => format!("`{k}` = `{v}`"),
                None => format!("no `{k}`"),
            })
            .collect();
        if !parts.is_empty() {
            s.push_str(" with ");
            s.push_str(&parts.join(", "));
        }
        s
    }
}

/// The adversary's candidates for one key policy.
pub(crate) struct Model<'c, 'a> {
    cx: &'c KeyLintContext<'a>,
    /// Accounts the adversary may own (never the key's, a trusted or a named one).
    accounts: Vec<String>,
    /// Principal resource parts the policy expects (`role/Deploy`, `user/path/x`).
    names: Vec<String>,
    /// Every condition of the policy: (key lower, key as written, operator, values).
    conditions: Vec<(String, String, Option<BaseOperator>, Vec<String>)>,
    /// The engine's inputs: the key policy, and an identity that allows everything.
    inputs: Inputs,
    /// The same without identity policies (service principals have none).
    service_inputs: Inputs,
    now: String,
    /// Statements put to the engine so far (see [`WORK_BUDGET`]).
    spent: std::cell::Cell<u64>,
}

impl std::fmt::Debug for Model<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("accounts", &self.accounts)
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl<'c, 'a> Model<'c, 'a> {
    /// The model for the context's key policy.
    pub(crate) fn new(cx: &'c KeyLintContext<'a>) -> Self {
        let mut conditions = Vec::new();
        // Borrowed from the policy and the settings: a policy naming twenty principals made
        // as many copies of their accounts for each model.
        let mut named_accounts: Vec<&str> = vec![cx.facts.account.as_str()];
        named_accounts.extend(cx.config.trusted_accounts.iter().map(String::as_str));
        let mut names: Vec<String> = Vec::new();
        let mut account_patterns: Vec<String> = Vec::new();
        let mut numeric_accounts: Vec<String> = Vec::new();
        for st in &cx.doc().statements {
            if let Some(pc) = &st.principal {
                for e in &pc.entries {
                    if let Some(a) = e.class.account() {
                        if !a.contains(['*', '?']) {
                            named_accounts.push(a);
                        }
                    }
                    if matches!(e.class, PrincipalClass::PartialWildcard) {
                        principal_parts(&e.value, &mut account_patterns, &mut names);
                    }
                }
            }
            for c in &st.conditions {
                let written = || c.values.iter().map(|v| v.text.as_str());
                match c.key_lower.as_str() {
                    "kms:calleraccount" | "aws:principalaccount" | "aws:sourceaccount" => {
                        for v in written() {
                            if v.contains(['*', '?']) {
                                account_patterns.push(v.to_owned());
                            } else {
                                named_accounts.push(v);
                                // R24: a numeric test on an account lets in the accounts on
                                // one side of the one it names: the adversary takes its
                                // neighbours (`NumericGreaterThanEquals 111122223333`).
                                if c.operator.base.is_some_and(numeric) {
                                    numeric_accounts.extend(neighbours(v));
                                }
                            }
                        }
                    }
                    "aws:principalarn" | "aws:sourcearn" => {
                        for v in written() {
                            principal_parts(v, &mut account_patterns, &mut names);
                            if let Some(a) = v.split(':').nth(4) {
                                if !a.contains(['*', '?']) && !a.is_empty() {
                                    named_accounts.push(a);
                                }
                            }
                        }
                    }
                    "aws:username" => {
                        for v in written() {
                            names.push(format!("user/{}", fill(v)));
                        }
                    }
                    _ => {}
                }
                let values = written().map(str::to_owned).collect();
                conditions.push((c.key_lower.clone(), c.key.clone(), c.operator.base, values));
            }
        }
        let mut accounts = vec![STRANGER_ACCOUNT.to_owned()];
        for p in &account_patterns {
            if let Some(a) = fill_account(p, &named_accounts) {
                if !accounts.contains(&a) {
                    accounts.push(a);
                }
            }
        }
        for a in numeric_accounts {
            if !accounts.contains(&a) {
                accounts.push(a);
            }
        }
        accounts.retain(|a| !named_accounts.contains(&a.as_str()));
        names.sort();
        names.dedup();
        let key = Arc::new(KeyInputs {
            facts: {
                let mut f = cx.facts.clone();
                if f.key_manager.is_none() {
                    f.key_manager = Some(eval::KeyManager::Customer);
                }
                f
            },
            policies: Some(vec![cx.policy.clone()]),
            grants: Some(Vec::new()),
            policy_unknown: None,
        });
        let identity: Arc<[NamedPolicy]> = cx.allow_all_identity().into();
        Model {
            cx,
            accounts,
            names,
            conditions,
            inputs: Inputs {
                keys: vec![Arc::clone(&key)],
                identity: Some(identity),
                ..Inputs::default()
            },
            service_inputs: Inputs {
                keys: vec![key],
                identity: None,
                ..Inputs::default()
            },
            now: now_iso(),
            spent: std::cell::Cell::new(0),
        }
    }

    /// The principals the adversary may be: root, a user, a role (any session) and a
    /// federated user of each adversary account, and each principal name the policy expects
    /// made in the adversary's accounts. With no condition on the caller and no partial
    /// wildcard principal, one role of one account stands for all of them.
    pub(crate) fn principals(&self) -> Vec<Caller> {
        let partition = &self.cx.facts.partition;
        // The kind of caller matters when a condition reads it, when the policy expects
        // names, or when a principal other than `"*"` may match a stranger (a partial
        // wildcard such as `arn:aws:iam::*:root`); the account alone is read by every kind.
        let kinds_matter = !self.names.is_empty()
            || self.conditions.iter().any(|(k, ..)| {
                matches!(
                    k.as_str(),
                    "aws:principalarn" | "aws:principaltype" | "aws:username" | "aws:userid"
                )
            })
            || self.cx.doc().statements.iter().any(|st| {
                !st.is_deny()
                    && st.principal.as_ref().is_none_or(|p| {
                        p.negated
                            || p.entries.iter().any(|e| {
                                matches!(
                                    e.class,
                                    PrincipalClass::PartialWildcard | PrincipalClass::Malformed(_)
                                )
                            })
                    })
            });
        let mut out = Vec::new();
        let mut push = |arn: String| {
            if let Ok(c) = Caller::parse(&arn, None) {
                if !out
                    .iter()
                    .any(|o: &Caller| shown_caller(o) == shown_caller(&c))
                {
                    out.push(c);
                }
            }
        };
        for a in &self.accounts {
            push(format!("arn:{partition}:iam::{a}:role/{FILL}"));
            if !kinds_matter {
                continue;
            }
            push(format!("arn:{partition}:iam::{a}:root"));
            push(format!("arn:{partition}:iam::{a}:user/{FILL}"));
            push(format!("arn:{partition}:sts::{a}:federated-user/{FILL}"));
            for n in &self.names {
                push(format!("arn:{partition}:iam::{a}:{n}"));
            }
        }
        out.truncate(32);
        out
    }

    /// Every condition key the policy tests.
    fn tested_keys(&self) -> Vec<String> {
        self.conditions.iter().map(|(k, ..)| k.clone()).collect()
    }

    /// The condition keys to vary for a reach the engine left open: those its alternatives
    /// name when it is conditional, every key the policy tests when it is unknown.
    fn open_keys(&self, reach: &Reach) -> Vec<String> {
        match reach {
            Reach::Conditional(alts) => alts
                .iter()
                .flat_map(|a| a.iter().map(|r| r.key.clone()))
                .collect(),
            _ => self.tested_keys(),
        }
    }

    /// Whether the policy has a condition on `key` in a Deny statement or an Allow: the keys
    /// a search must vary beyond the ones an answer names.
    fn deny_keys(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for st in self.cx.doc().statements.iter().filter(|s| s.is_deny()) {
            for c in &st.conditions {
                if !out.contains(&c.key_lower) {
                    out.push(c.key_lower.clone());
                }
            }
        }
        out
    }

    /// Whether `caller` can make `action` (`kms:PutKeyPolicy`) under some request one of the
    /// owner's principals can make, with `identity` as its IAM policies (R109, R110, R116):
    /// `Yes` with a request the engine allows, `No` when none is, `Unknown` when the engine
    /// cannot settle one.
    pub(crate) fn owner_can(
        &self,
        caller: &Caller,
        action: &str,
        identity: Option<Vec<NamedPolicy>>,
    ) -> eval::Tri {
        let reach = self.cx.reach(caller, action, identity.as_deref());
        let mut keys: Vec<String> = match &reach {
            Reach::Yes(_) => return eval::Tri::Yes,
            Reach::No | Reach::Denied(_) => return eval::Tri::No,
            Reach::Conditional(_) | Reach::Unknown(_) => self.open_keys(&reach),
        };
        keys.extend(self.deny_keys());
        self.spend((keys.len() as u64).saturating_mul(self.conditions.len() as u64));
        if self.exhausted() {
            return eval::Tri::Unknown;
        }
        let mut axes: Vec<Axis> = Vec::new();
        for k in &keys {
            if let Some(a) = self.owner_axis(k) {
                if !axes.iter().any(|x| x.key == a.key) {
                    axes.push(a);
                }
            }
        }
        axes.sort_by(|a, b| a.key.cmp(&b.key));
        let inputs = Inputs {
            keys: self.inputs.keys.clone(),
            identity: identity.map(Into::into),
            ..Inputs::default()
        };
        let mut answer = eval::Tri::No;
        let mut pick = vec![0usize; axes.len()];
        for _ in 0..MAX_COMBINATIONS {
            if self.exhausted() {
                return eval::Tri::Unknown;
            }
            let chosen = choose(&axes, &pick);
            if consistent(&chosen) {
                match self.decide_with(&inputs, caller, action, &chosen).decision {
                    Decision::Allow => return eval::Tri::Yes,
                    Decision::Undetermined => answer = eval::Tri::Unknown,
                    Decision::ExplicitDeny | Decision::ImplicitDeny => {}
                }
            }
            if !next(&mut pick, &axes) {
                return answer;
            }
        }
        // Too many combinations: not settled.
        eval::Tri::Unknown
    }

    /// Searches for an adversary request by `caller` for `action` that the key policy allows.
    /// `None` when there is none; a counterexample with `unsettled` when the engine could not
    /// settle one.
    pub(crate) fn search(&self, caller: &Caller, action: &str) -> Option<Counterexample> {
        if !self.may_admit(caller, action) {
            return None;
        }
        let service = caller.kind == CallerKind::Service;
        let identity = (!service).then(|| self.cx.allow_all_identity());
        self.search_in(caller, action, identity, false)
    }

    /// The engine's cheap pre-check of [`Self::search`]: whether the key policy could let
    /// `caller` make `action` at all (an IAM principal with IAM allowing everything, a service
    /// principal with none). Most actions of most policies stop here.
    pub(crate) fn may_admit(&self, caller: &Caller, action: &str) -> bool {
        let identity = if caller.kind == CallerKind::Service {
            None
        } else {
            self.inputs.identity.as_deref()
        };
        self.cx.may_allow_to(caller, action, identity)
    }

    /// Whether `caller`, with `identity` as its IAM policies, can create a grant for a stranger
    /// directly (R89, R119): `kms:CreateGrant` not through a service
    /// (`kms:GrantIsForAWSResource` false or absent), for a grantee or retiring principal in an
    /// account the policy does not name, with the operations the policy names or `Decrypt`.
    pub(crate) fn direct_grant(
        &self,
        caller: &Caller,
        identity: Vec<NamedPolicy>,
    ) -> Option<Counterexample> {
        self.search_in(caller, "kms:CreateGrant", Some(identity), true)
            .filter(|ce| ce.unsettled.is_none())
    }

    fn search_in(
        &self,
        caller: &Caller,
        action: &str,
        identity: Option<Vec<NamedPolicy>>,
        grant: bool,
    ) -> Option<Counterexample> {
        let service = caller.kind == CallerKind::Service;
        let inputs = grant.then(|| Inputs {
            keys: self.inputs.keys.clone(),
            identity: identity.clone().map(Into::into),
            ..Inputs::default()
        });
        if !self.cx.may_allow_to(caller, action, identity.as_deref()) {
            return None;
        }
        let reach = self.cx.reach(caller, action, identity.as_deref());
        let mut keys: Vec<String> = match &reach {
            Reach::Yes(by) => {
                return Some(Counterexample {
                    principal: shown_caller(caller),
                    action: action.to_owned(),
                    via: None,
                    values: Vec::new(),
                    statements: by.to_vec(),
                    unsettled: None,
                });
            }
            Reach::Denied(_) => return None,
            // The probe is a direct call: keys that come from an integrated service calling
            // (`aws:ViaAWSService`, `aws:CalledVia`) were false or absent in it.
            Reach::No
                if self
                    .conditions
                    .iter()
                    .any(|(k, ..)| via_key(k) && k != "kms:viaservice") =>
            {
                self.tested_keys()
            }
            Reach::No => return None,
            Reach::Conditional(_) | Reach::Unknown(_) => self.open_keys(&reach),
        };
        keys.extend(self.deny_keys());
        // The residual probe is a direct call: `aws:ViaAWSService` and `aws:CalledVia*` were
        // settled (false, absent) there, so no answer names them. Vary them whenever the
        // policy tests them.
        keys.extend(
            self.conditions
                .iter()
                .filter(|(k, ..)| via_key(k))
                .map(|(k, ..)| k.clone()),
        );
        // Building each key's candidate values reads the policy's conditions: that is work too.
        self.spend((keys.len() as u64).saturating_mul(self.conditions.len() as u64));
        if self.exhausted() {
            return Some(self.not_settled(caller, action, None));
        }
        let mut axes: Vec<Axis> = Vec::new();
        for k in &keys {
            let axis = if grant {
                self.grant_axis(k)
            } else {
                self.axis(k, service)
            };
            if let Some(a) = axis {
                if !axes.iter().any(|x| x.key == a.key) {
                    axes.push(a);
                }
            }
        }
        axes.sort_by(|a, b| a.key.cmp(&b.key));
        let total = axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.values.len().max(1)));
        let mut maybe: Option<Counterexample> = None;
        let mut pick = vec![0usize; axes.len()];
        let mut tried = 0usize;
        loop {
            tried += 1;
            if tried > MAX_COMBINATIONS || self.exhausted() {
                break;
            }
            let chosen = choose(&axes, &pick);
            if consistent(&chosen) {
                let ev = match &inputs {
                    Some(i) => self.decide_with(i, caller, action, &chosen),
                    None => self.decide(caller, action, &chosen, service),
                };
                let example = || Counterexample {
                    principal: shown_caller(caller),
                    action: action.to_owned(),
                    via: chosen
                        .iter()
                        .find(|(a, _)| a.key == "kms:viaservice")
                        .and_then(|(_, v)| v.cloned()),
                    values: chosen
                        .iter()
                        .map(|(a, v)| (a.shown.clone(), shown_value(a, *v)))
                        .collect(),
                    statements: ev.checks.iter().flat_map(|c| c.deciding.clone()).collect(),
                    unsettled: None,
                };
                match ev.decision {
                    Decision::Allow => return Some(example()),
                    Decision::Undetermined if maybe.is_none() => {
                        let mut m = example();
                        let why: Vec<String> = ev
                            .checks
                            .iter()
                            .flat_map(|c| c.unknowns.iter().map(ToString::to_string))
                            .collect();
                        m.unsettled =
                            Some(why.into_iter().next().unwrap_or_else(|| {
                                "the engine cannot settle the answer".to_owned()
                            }));
                        m.statements = ev
                            .checks
                            .iter()
                            .flat_map(|c| c.residual.iter().flatten().map(|r| r.statement.clone()))
                            .collect();
                        maybe = Some(m);
                    }
                    _ => {}
                }
            }
            // Next combination.
            let mut i = 0;
            loop {
                let Some(slot) = pick.get_mut(i) else {
                    return maybe;
                };
                let len = axes.get(i).map_or(1, |a| a.values.len().max(1));
                *slot += 1;
                if *slot < len {
                    break;
                }
                *slot = 0;
                i += 1;
            }
        }
        // Too many combinations to try them all: never a silent pass.
        maybe.or_else(|| Some(self.not_settled(caller, action, total)))
    }

    /// The answer of a search that could not try every request: "may get in", with why.
    fn not_settled(&self, caller: &Caller, action: &str, total: Option<usize>) -> Counterexample {
        Counterexample {
            principal: shown_caller(caller),
            action: action.to_owned(),
            via: None,
            values: Vec::new(),
            statements: Vec::new(),
            unsettled: Some(if self.exhausted() {
                format!(
                    "the policy's {} statements are too many to try every request value of",
                    self.cx.doc().statements.len()
                )
            } else {
                format!(
                    "{} combinations of request values, more than the {MAX_COMBINATIONS} tried",
                    total.map_or_else(|| "too many".to_owned(), |n| n.to_string())
                )
            }),
        }
    }

    /// Counts `work` against [`WORK_BUDGET`]: its own searches' work, or the work another
    /// model of this key policy did for an answer this one reads (`lint::owner`), so that the
    /// budget runs out where it would have had this model done it.
    pub(crate) fn spend(&self, work: u64) {
        self.spent.set(self.spent.get().saturating_add(work));
    }

    /// The work counted so far against [`WORK_BUDGET`].
    pub(crate) fn spent(&self) -> u64 {
        self.spent.get()
    }

    /// One concrete request, decided by the engine.
    fn decide(
        &self,
        caller: &Caller,
        action: &str,
        chosen: &[(&Axis, Option<&String>)],
        service: bool,
    ) -> eval::Evaluation {
        let inputs = if service {
            &self.service_inputs
        } else {
            &self.inputs
        };
        self.decide_with(inputs, caller, action, chosen)
    }

    /// Whether the searches of this policy have used up [`WORK_BUDGET`].
    fn exhausted(&self) -> bool {
        self.spent.get() > WORK_BUDGET
    }

    fn decide_with(
        &self,
        inputs: &Inputs,
        caller: &Caller,
        action: &str,
        chosen: &[(&Axis, Option<&String>)],
    ) -> eval::Evaluation {
        // The engine sees only the statements that can concern this caller (R24), as the key
        // rules' own probes do, whenever `inputs` holds the context's own key policy: a
        // policy naming thousands of principals is not read whole for each of them.
        let narrowed;
        let inputs = match inputs.keys.first() {
            Some(key)
                if key.policies.as_deref().is_some_and(|ps| {
                    ps.len() == 1
                        && ps
                            .first()
                            .is_some_and(|p| Arc::ptr_eq(&p.doc, &self.cx.policy.doc))
                }) =>
            {
                narrowed = Inputs {
                    keys: vec![Arc::new(KeyInputs {
                        policies: Some(vec![self.cx.policy_for(caller)]),
                        ..(**key).clone()
                    })],
                    identity: inputs.identity.clone(),
                    ..Inputs::default()
                };
                &narrowed
            }
            _ => inputs,
        };
        let statements: usize = inputs
            .keys
            .iter()
            .flat_map(|k| k.policies.iter().flatten())
            .map(|p| p.doc.statements.len())
            .sum();
        self.spend(statements as u64 + 1);
        let mut req = eval::Request::new(caller.clone(), action, &self.cx.facts.arn);
        let mut ec: Vec<(String, String)> = Vec::new();
        for (axis, v) in chosen {
            let Some(v) = v else { continue };
            if axis.key == "kms:viaservice" {
                req.via_service = Some((*v).clone());
            } else if let Some(name) = axis.key.strip_prefix("kms:encryptioncontext:") {
                ec.push((name.to_owned(), (*v).clone()));
            } else if axis.key == "kms:encryptioncontextkeys" {
                ec.push(((*v).clone(), FILL.to_owned()));
            } else {
                req.context.push((axis.key.clone(), (*v).clone()));
            }
        }
        req.encryption_context = Some(ec);
        // R9, R103: a direct call carries `aws:SourceIp` unless it comes through a VPC
        // endpoint. A search that leaves `aws:SourceIp` out stands for a call through an
        // endpoint of the caller's own, so the request says so with a VPC key the search does
        // not vary (its value is no one's but the caller's).
        let ip_left_out = chosen
            .iter()
            .any(|(a, v)| a.key == "aws:sourceip" && v.is_none());
        if ip_left_out && !eval::has_vpc_keys(&req) {
            let varied = |k: &str| chosen.iter().any(|(a, _)| a.key == k);
            if let Some((k, v)) = [
                ("aws:SourceVpce", "vpce-0kmsaudit0caller00"),
                ("aws:SourceVpc", "vpc-0kmsaudit0caller00"),
                ("aws:VpcSourceIp", "10.255.255.254"),
            ]
            .into_iter()
            .find(|(k, _)| !varied(&k.to_ascii_lowercase()))
            {
                req.context.push((k.to_owned(), v.to_owned()));
            }
        }
        let opts = Options {
            residual: false,
            assume_absent: true,
            now: Some(self.now.clone()),
            ..Options::default()
        };
        eval::evaluate(inputs, &req, &opts)
    }
}

/// Steps `pick` to the next combination of `axes`; false after the last.
fn next(pick: &mut [usize], axes: &[Axis]) -> bool {
    for (slot, axis) in pick.iter_mut().zip(axes) {
        *slot += 1;
        if *slot < axis.values.len().max(1) {
            return true;
        }
        *slot = 0;
    }
    false
}

/// Each axis with its value at `pick` (`None`: the key absent).
fn choose<'x>(axes: &'x [Axis], pick: &[usize]) -> Vec<(&'x Axis, Option<&'x String>)> {
    axes.iter()
        .zip(pick)
        .map(|(a, &i)| (a, a.values.get(i).and_then(Option::as_ref)))
        .collect()
}

/// A request cannot come both from the internet (`aws:SourceIp`) and through a VPC endpoint.
fn consistent(chosen: &[(&Axis, Option<&String>)]) -> bool {
    let present = |k: &str| chosen.iter().any(|(a, v)| a.key == k && v.is_some());
    !(present("aws:sourceip")
        && (present("aws:sourcevpce") || present("aws:sourcevpc") || present("aws:vpcsourceip")))
}

/// The caller as a policy names it: a role rather than its open session.
fn shown_caller(c: &Caller) -> String {
    match (&c.role_arn, c.session_open) {
        (Some(r), true) => r.clone(),
        _ => c.arn.clone(),
    }
}
