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

use std::sync::Arc;

use super::keys::{KeyLintContext, Reach, STRANGER_ACCOUNT};
use crate::arn::PrincipalClass;
use crate::eval::{self, Caller, CallerKind, Decision, Inputs, KeyInputs, NamedPolicy, Options};
use crate::policy::BaseOperator;

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
pub struct Counterexample {
    /// The caller (ARN or service principal).
    pub principal: String,
    /// The action.
    pub action: String,
    /// The integrated service the request came through, if any.
    pub via: Option<String>,
    /// The request keys the answer depends on: name as written, value (`None`: absent).
    pub values: Vec<(String, Option<String>)>,
    /// The statements that allowed it (engine ids).
    pub statements: Vec<String>,
    /// Why the engine could not settle it, when it is only a "may".
    pub unsettled: Option<String>,
}

impl Counterexample {
    /// "`arn:…:role/Deploy` calling kms:Decrypt with `aws:PrincipalOrgID` = `o-…`".
    pub fn describe(&self) -> String {
        let mut s = format!("`{}` calling {}", self.principal, self.action);
        let parts: Vec<String> = self
            .values
            .iter()
            .map(|(k, v)| match v {
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
pub struct Model<'c, 'a> {
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
    pub fn new(cx: &'c KeyLintContext<'a>) -> Self {
        let mut conditions = Vec::new();
        let mut named_accounts: Vec<String> = vec![cx.facts.account.clone()];
        named_accounts.extend(cx.config.trusted_accounts.iter().cloned());
        let mut names: Vec<String> = Vec::new();
        let mut account_patterns: Vec<String> = Vec::new();
        for st in &cx.doc().statements {
            if let Some(pc) = &st.principal {
                for e in &pc.entries {
                    if let Some(a) = e.class.account() {
                        if !a.contains(['*', '?']) {
                            named_accounts.push(a.to_owned());
                        }
                    }
                    if matches!(e.class, PrincipalClass::PartialWildcard) {
                        principal_parts(&e.value, &mut account_patterns, &mut names);
                    }
                }
            }
            for c in &st.conditions {
                let values: Vec<String> = c.values.iter().map(|v| v.text.clone()).collect();
                match c.key_lower.as_str() {
                    "kms:calleraccount" | "aws:principalaccount" | "aws:sourceaccount" => {
                        for v in &values {
                            if v.contains(['*', '?']) {
                                account_patterns.push(v.clone());
                            } else {
                                named_accounts.push(v.clone());
                            }
                        }
                    }
                    "aws:principalarn" | "aws:sourcearn" => {
                        for v in &values {
                            principal_parts(v, &mut account_patterns, &mut names);
                            if let Some(a) = v.split(':').nth(4) {
                                if !a.contains(['*', '?']) && !a.is_empty() {
                                    named_accounts.push(a.to_owned());
                                }
                            }
                        }
                    }
                    "aws:username" => {
                        for v in &values {
                            names.push(format!("user/{}", fill(v)));
                        }
                    }
                    _ => {}
                }
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
        accounts.retain(|a| !named_accounts.contains(a));
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
    pub fn principals(&self) -> Vec<Caller> {
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

    /// The candidate values of one key.
    /// The candidate values of one key for one of the key owner's principals calling
    /// `kms:PutKeyPolicy` directly (R109, R116): never through a service (no `kms:ViaService`,
    /// `aws:ViaAWSService` false), over TLS, at any time from now on, with no `aws:Source*`
    /// keys (a direct call by a principal, not a service), from the owner's own addresses,
    /// VPC endpoints and organisation, or any value of its own choosing elsewhere.
    fn owner_axis(&self, key: &str) -> Option<Axis> {
        let only = |v: Option<&str>| {
            Some(Axis {
                key: if via_key(key) {
                    "kms:viaservice".to_owned()
                } else {
                    key.to_owned()
                },
                shown: key.to_owned(),
                values: vec![v.map(str::to_owned)],
            })
        };
        if via_key(key) {
            return only(None);
        }
        match key {
            "aws:securetransport" => return only(Some("true")),
            "aws:sourcearn" | "aws:sourceaccount" | "aws:sourceorgid" | "aws:sourceorgpaths" => {
                return only(None);
            }
            _ => {}
        }
        let mut axis = self.axis(key, false)?;
        let mentioned = self
            .conditions
            .iter()
            .filter(|(k, ..)| k == key)
            .flat_map(|(_, _, _, vs)| vs.iter());
        if key == "aws:sourceip" {
            // The owner's own public ranges; a private range is reached only through a VPC
            // endpoint, where `aws:SourceIp` is absent.
            axis.values = vec![None];
            axis.values
                .extend(PUBLIC_ADDRESSES.first().map(|a| Some((*a).to_owned())));
            for v in mentioned {
                if let Some((ip, _)) = cidr(v) {
                    if !private(ip) {
                        axis.values.push(Some(ip.to_string()));
                    }
                }
            }
        } else if owner_held(key, false) {
            for v in mentioned {
                let v = Some(fill(v));
                if !axis.values.contains(&v) {
                    axis.values.push(v);
                }
            }
        }
        Some(axis)
    }

    /// Whether `caller` can make `action` (`kms:PutKeyPolicy`) under some request one of the
    /// owner's principals can make, with `identity` as its IAM policies (R109, R110, R116):
    /// `Yes` with a request the engine allows, `No` when none is, `Unknown` when the engine
    /// cannot settle one.
    pub fn owner_can(
        &self,
        caller: &Caller,
        action: &str,
        identity: Option<Vec<NamedPolicy>>,
    ) -> eval::Tri {
        let reach = self.cx.reach(caller.clone(), action, identity.clone());
        let mut keys: Vec<String> = match &reach {
            Reach::Yes(_) => return eval::Tri::Yes,
            Reach::No | Reach::Denied(_) => return eval::Tri::No,
            Reach::Conditional(alts) => alts
                .iter()
                .flat_map(|a| a.iter().map(|r| r.key.clone()))
                .collect(),
            Reach::Unknown(_) => self.conditions.iter().map(|(k, ..)| k.clone()).collect(),
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
            let chosen: Vec<(&Axis, Option<&String>)> = axes
                .iter()
                .zip(&pick)
                .map(|(a, &i)| (a, a.values.get(i).and_then(Option::as_ref)))
                .collect();
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

    fn axis(&self, key: &str, service_caller: bool) -> Option<Axis> {
        if CALLER_KEYS.contains(&key) || owner_fact(key) {
            return None;
        }
        // R108: a name that is no condition key (`aws:PrincipleOrgID`, another service's key)
        // is never in a KMS request.
        let known = crate::catalog::condition_key(key).is_some()
            || (key.starts_with("aws:") && super::unknown_global_key::is_global(key));
        if !known {
            return Some(Axis {
                key: key.to_owned(),
                shown: key.to_owned(),
                values: vec![None],
            });
        }
        let shown = self
            .conditions
            .iter()
            .find(|(k, ..)| k == key)
            .map_or_else(|| key.to_owned(), |(_, s, ..)| s.clone());
        let mentioned = || {
            self.conditions
                .iter()
                .filter(move |(k, ..)| k == key)
                .flat_map(|(_, _, op, vs)| vs.iter().map(move |v| (*op, v.as_str())))
        };
        let mut values: Vec<Option<String>> = Vec::new();
        let mut add = |v: Option<String>| {
            if !values.contains(&v) {
                values.push(v);
            }
        };
        if key == "aws:securetransport" {
            add(Some("true".into()));
            add(Some("false".into()));
        } else if key == "aws:currenttime" || key == "aws:epochtime" {
            let epoch = key == "aws:epochtime";
            add(Some(if epoch {
                now_epoch().to_string()
            } else {
                self.now.clone()
            }));
            for (_, v) in mentioned() {
                if not_past(v, &self.now) {
                    add(Some(v.to_owned()));
                }
            }
            add(Some(if epoch {
                "4102444799".into()
            } else {
                "2099-12-31T23:59:59Z".into()
            }));
        } else if key == "aws:sourceip" {
            add(None);
            for v in self.addresses() {
                add(Some(v));
            }
        } else if key == "aws:vpcsourceip" {
            // The adversary's own VPC may use any private range.
            add(None);
            add(Some("10.0.0.1".into()));
            for (_, v) in mentioned() {
                if let Some(a) = first_address(v) {
                    add(Some(a));
                }
            }
        } else if via_key(key) {
            add(None);
            let region = &self.cx.facts.region;
            let named = self
                .conditions
                .iter()
                .filter(|(k, ..)| k == "kms:viaservice")
                .flat_map(|(_, _, _, vs)| vs.iter());
            for v in named {
                add(Some(v.replace('*', region).replace('?', "x")));
            }
            add(Some(format!("s3.{region}.amazonaws.com")));
            return Some(Axis {
                key: "kms:viaservice".into(),
                shown: "kms:ViaService".into(),
                values,
            });
        } else if owner_held(key, service_caller) {
            add(None);
            let own = match key {
                "aws:principalorgid" | "aws:sourceorgid" => Some(ADV_ORG.to_owned()),
                "aws:principalorgpaths" | "aws:sourceorgpaths" => {
                    Some(format!("{ADV_ORG}/r-kmsa/ou-kmsa-adversary/"))
                }
                "aws:sourcevpce" => Some(ADV_VPCE.to_owned()),
                "aws:sourcevpc" => Some(ADV_VPC.to_owned()),
                "aws:sourceaccount" => self.accounts.first().cloned(),
                "aws:userid" => Some(format!("AROAKMSAUDITADVERSARY:{FILL}")),
                _ => None,
            };
            add(own);
            let other_org = |v: &str| {
                matches!(key, "aws:principalorgid" | "aws:sourceorgid")
                    && self
                        .cx
                        .config
                        .organisation
                        .as_deref()
                        .is_some_and(|o| o != v)
            };
            for (_, v) in mentioned() {
                if other_org(v) {
                    add(Some(v.to_owned()));
                } else if v.contains(['*', '?']) && !pins_owner(key, v) {
                    if v.starts_with("arn:") {
                        for a in &self.accounts {
                            if let Some(x) = fill_arn(v, a) {
                                add(Some(x));
                            }
                        }
                    } else if key == "aws:sourceaccount" {
                        for a in &self.accounts {
                            if pattern_matches(v, a) {
                                add(Some(a.clone()));
                            }
                        }
                    } else {
                        add(Some(fill(v)));
                    }
                }
            }
        } else {
            // The adversary's own choice: absent, each value the policy names (its wildcards
            // filled in), and one more of its own.
            add(None);
            for (op, v) in mentioned() {
                match op {
                    Some(BaseOperator::Bool) | Some(BaseOperator::Null) => {
                        add(Some("true".into()));
                        add(Some("false".into()));
                    }
                    Some(
                        BaseOperator::NumericEquals
                        | BaseOperator::NumericNotEquals
                        | BaseOperator::NumericLessThan
                        | BaseOperator::NumericLessThanEquals
                        | BaseOperator::NumericGreaterThan
                        | BaseOperator::NumericGreaterThanEquals,
                    ) => {
                        add(Some(v.to_owned()));
                        add(Some("0".into()));
                        if let Ok(n) = v.parse::<i64>() {
                            add(Some(n.saturating_add(1).to_string()));
                        }
                    }
                    _ => add(Some(fill(v))),
                }
            }
            add(Some(FILL.into()));
        }
        Some(Axis {
            key: key.to_owned(),
            shown,
            values,
        })
    }

    /// Public addresses the adversary may call from.
    fn addresses(&self) -> Vec<String> {
        let ranges: Vec<&str> = self
            .conditions
            .iter()
            .filter(|(k, ..)| k == "aws:sourceip")
            .flat_map(|(_, _, _, vs)| vs.iter().map(String::as_str))
            .collect();
        let mut out = Vec::new();
        for a in PUBLIC_ADDRESSES {
            let Ok(ip) = a.parse::<std::net::IpAddr>() else {
                continue;
            };
            let owned = ranges.iter().any(|r| {
                cidr(r).is_some_and(|(net, len)| {
                    let narrow = if net.is_ipv4() { len >= 8 } else { len >= 16 };
                    narrow && in_range(ip, net, len)
                })
            });
            if !owned {
                out.push((*a).to_owned());
            }
        }
        out
    }

    /// Searches for an adversary request by `caller` for `action` that the key policy allows.
    /// `None` when there is none; a counterexample with `unsettled` when the engine could not
    /// settle one.
    pub fn search(&self, caller: &Caller, action: &str) -> Option<Counterexample> {
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
    pub fn may_admit(&self, caller: &Caller, action: &str) -> bool {
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
    pub fn direct_grant(
        &self,
        caller: &Caller,
        identity: Vec<NamedPolicy>,
    ) -> Option<Counterexample> {
        self.search_in(caller, "kms:CreateGrant", Some(identity), true)
            .filter(|ce| ce.unsettled.is_none())
    }

    /// The candidate values of one key for a direct grant request (see [`Self::direct_grant`]).
    fn grant_axis(&self, key: &str) -> Option<Axis> {
        let values: Vec<Option<String>> = match key {
            k if via_key(k) => vec![None],
            // A direct call: present and false (spec Q10).
            "kms:grantisforawsresource" => vec![Some("false".into())],
            "kms:granteeprincipal" | "kms:retiringprincipal" => {
                let partition = &self.cx.facts.partition;
                let mut v: Vec<Option<String>> = self
                    .accounts
                    .iter()
                    .map(|a| Some(format!("arn:{partition}:iam::{a}:role/{FILL}")))
                    .collect();
                for (_, _, _, vs) in self.conditions.iter().filter(|(k, ..)| k == key) {
                    for p in vs {
                        for a in &self.accounts {
                            if let Some(x) = fill_arn(p, a) {
                                if !v.contains(&Some(x.clone())) {
                                    v.push(Some(x));
                                }
                            }
                        }
                    }
                }
                v
            }
            "kms:grantoperations" => {
                let mut v: Vec<Option<String>> = vec![Some("Decrypt".into())];
                for (_, _, _, vs) in self.conditions.iter().filter(|(k, ..)| k == key) {
                    for o in vs {
                        if !o.contains(['*', '?']) && !v.contains(&Some(o.clone())) {
                            v.push(Some(o.clone()));
                        }
                    }
                }
                v
            }
            _ => return self.axis(key, false),
        };
        let shown = self
            .conditions
            .iter()
            .find(|(k, ..)| k == key)
            .map_or_else(|| key.to_owned(), |(_, s, ..)| s.clone());
        Some(Axis {
            key: key.to_owned(),
            shown,
            values,
        })
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
        let reach = self.cx.reach(caller.clone(), action, identity);
        let mut keys: Vec<String> = match &reach {
            Reach::Yes(by) => {
                return Some(Counterexample {
                    principal: shown_caller(caller),
                    action: action.to_owned(),
                    via: None,
                    values: Vec::new(),
                    statements: by.clone(),
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
                self.conditions.iter().map(|(k, ..)| k.clone()).collect()
            }
            Reach::No => return None,
            Reach::Conditional(alts) => alts
                .iter()
                .flat_map(|a| a.iter().map(|r| r.key.clone()))
                .collect(),
            Reach::Unknown(_) => self.conditions.iter().map(|(k, ..)| k.clone()).collect(),
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
            let chosen: Vec<(&Axis, Option<&String>)> = axes
                .iter()
                .zip(&pick)
                .map(|(a, &i)| (a, a.values.get(i).and_then(Option::as_ref)))
                .collect();
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
                        .map(|(a, v)| (a.shown.clone(), v.cloned()))
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

    /// Counts `work` against [`WORK_BUDGET`].
    fn spend(&self, work: u64) {
        self.spent.set(self.spent.get().saturating_add(work));
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

/// A private (RFC 1918, unique-local, link-local or loopback) address.
fn private(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(a) => a.is_private() || a.is_loopback() || a.is_link_local(),
        std::net::IpAddr::V6(a) => {
            a.is_loopback() || (a.segments().first().copied().unwrap_or(0) & 0xfe00) == 0xfc00
        }
    }
}

/// A request cannot come both from the internet (`aws:SourceIp`) and through a VPC endpoint.
fn consistent(chosen: &[(&Axis, Option<&String>)]) -> bool {
    let present = |k: &str| chosen.iter().any(|(a, v)| a.key == k && v.is_some());
    !(present("aws:sourceip")
        && (present("aws:sourcevpce") || present("aws:sourcevpc") || present("aws:vpcsourceip")))
}

/// Whether a wildcard value of an owner-held key still pins the owner: an organisation, VPC,
/// VPC endpoint or unique id given with enough of its random part that no adversary can get
/// one that matches (`o-a1b2c3d4e5/*`, `vpce-0a1b2c*`); `o-*` or `vpce-*` pin nothing.
fn pins_owner(key: &str, v: &str) -> bool {
    let (id, prefixes): (&str, &[&str]) = match key {
        "aws:principalorgpaths" | "aws:sourceorgpaths" => {
            (v.split('/').next().unwrap_or(v), &["o-"])
        }
        "aws:principalorgid" | "aws:sourceorgid" => (v, &["o-"]),
        "aws:sourcevpce" => (v, &["vpce-"]),
        "aws:sourcevpc" => (v, &["vpc-"]),
        "aws:userid" => (v.split(':').next().unwrap_or(v), &["AROA", "AIDA", "ASIA"]),
        _ => return false,
    };
    let fixed = id.split(['*', '?']).next().unwrap_or("");
    let random = prefixes
        .iter()
        .find_map(|p| fixed.strip_prefix(p))
        .unwrap_or(fixed);
    random.len() >= 4
}

/// The account and principal-name parts of an ARN pattern the policy expects.
fn principal_parts(v: &str, accounts: &mut Vec<String>, names: &mut Vec<String>) {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let (Some(service), Some(account), Some(resource)) = (parts.get(2), parts.get(4), parts.get(5))
    else {
        return;
    };
    if account.contains(['*', '?']) {
        accounts.push((*account).to_owned());
    }
    if *service == "iam" && (resource.starts_with("role/") || resource.starts_with("user/")) {
        names.push(fill(resource));
    } else if *service == "sts" {
        if let Some(role) = resource
            .strip_prefix("assumed-role/")
            .and_then(|r| r.split('/').next())
        {
            names.push(format!("role/{}", fill(role)));
        }
    }
}

/// The caller as a policy names it: a role rather than its open session.
fn shown_caller(c: &Caller) -> String {
    match (&c.role_arn, c.session_open) {
        (Some(r), true) => r.clone(),
        _ => c.arn.clone(),
    }
}

/// A pattern with its wildcards filled in by the adversary.
fn fill(v: &str) -> String {
    v.replace('*', FILL).replace('?', "x")
}

/// An ARN pattern filled in with the adversary's account in the account field; `None` when the
/// account field names an account (it is then not the adversary's).
fn fill_arn(v: &str, account: &str) -> Option<String> {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let acc = parts.get(4)?;
    if !acc.contains(['*', '?']) && !acc.is_empty() {
        return None;
    }
    if !pattern_matches(acc, account) && !acc.is_empty() {
        return None;
    }
    let mut out: Vec<String> = Vec::with_capacity(6);
    for (i, p) in parts.iter().enumerate() {
        out.push(if i == 4 { account.to_owned() } else { fill(p) });
    }
    Some(out.join(":"))
}

/// A 12-digit account matching `pattern` that is none of `named`.
fn fill_account(pattern: &str, named: &[String]) -> Option<String> {
    for digit in ['9', '8', '7'] {
        let fixed: usize = pattern.chars().filter(|c| *c != '*').count();
        let stars = pattern.matches('*').count();
        if fixed > 12 {
            return None;
        }
        let per = if stars == 0 {
            0
        } else {
            (12 - fixed).div_ceil(stars)
        };
        let mut s = String::new();
        let mut left = 12 - fixed;
        for c in pattern.chars() {
            match c {
                '*' => {
                    let n = per.min(left);
                    left -= n;
                    s.extend(std::iter::repeat_n(digit, n));
                }
                '?' => s.push(digit),
                c => s.push(c),
            }
        }
        if crate::arn::is_account_id(&s) && !named.contains(&s) && pattern_matches(pattern, &s) {
            return Some(s);
        }
    }
    None
}

/// `*`/`?` matching, for the few places the model needs it.
fn pattern_matches(p: &str, s: &str) -> bool {
    crate::pattern::Pattern::parse(p, true, false).0.matches(s)
}

/// An address range `a.b.c.d/n` (or a bare address).
fn cidr(r: &str) -> Option<(std::net::IpAddr, u8)> {
    let (a, n) = r.split_once('/').unwrap_or((r, ""));
    let ip: std::net::IpAddr = a.trim().parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = if n.is_empty() {
        max
    } else {
        n.trim().parse().ok()?
    };
    (len <= max).then_some((ip, len))
}

fn in_range(ip: std::net::IpAddr, net: std::net::IpAddr, len: u8) -> bool {
    match (ip, net) {
        (std::net::IpAddr::V4(a), std::net::IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (std::net::IpAddr::V6(a), std::net::IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// The first address of a range, for the adversary's own VPC.
fn first_address(r: &str) -> Option<String> {
    cidr(r).map(|(ip, _)| ip.to_string())
}

/// Whether a date (ISO 8601 or epoch seconds) is now or later: the adversary can wait, not go
/// back.
fn not_past(v: &str, now: &str) -> bool {
    if let Ok(n) = v.parse::<i64>() {
        return n >= now_epoch();
    }
    v >= now.get(..v.len().min(now.len())).unwrap_or(now)
}

fn now_epoch() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The current time in ISO 8601, to the second.
fn now_iso() -> String {
    eval::iso8601(now_epoch())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R24: an account pattern is filled in with an account that is none of the named ones.
    #[test]
    fn r24_account_patterns_are_filled_with_an_unnamed_account() {
        let named = vec!["444499999999".to_owned()];
        assert_eq!(
            fill_account("4444*", &named).as_deref(),
            Some("444488888888")
        );
        assert_eq!(fill_account("*", &[]).as_deref(), Some("999999999999"));
        assert_eq!(fill_account("1234567890123", &[]), None);
    }

    /// R24: a wildcard value of an owner-held key is the adversary's only when it pins no
    /// organisation, endpoint or unique id.
    #[test]
    fn r24_wildcards_that_pin_the_owner_are_not_the_adversarys() {
        assert!(!pins_owner("aws:principalorgid", "o-*"));
        assert!(pins_owner("aws:principalorgid", "o-a1b2c3d4e5*"));
        assert!(pins_owner("aws:principalorgpaths", "o-a1b2c3d4e5/*"));
        assert!(!pins_owner("aws:principalorgpaths", "o-*/r-ab12/*"));
        assert!(!pins_owner("aws:sourcevpce", "vpce-*"));
        assert!(pins_owner("aws:sourcevpce", "vpce-0a1b2c3d*"));
        assert!(!pins_owner("aws:userid", "AROA*"));
    }

    /// R24: an ARN pattern is the adversary's only when its account field is a wildcard.
    #[test]
    fn r105_arn_patterns_take_the_adversarys_account_only_where_open() {
        assert_eq!(
            fill_arn("arn:aws:cloudtrail:*:*:trail/*", "000011112222").as_deref(),
            Some("arn:aws:cloudtrail:kmsaudit-adversary:000011112222:trail/kmsaudit-adversary")
        );
        assert_eq!(
            fill_arn("arn:aws:cloudtrail:*:111122223333:trail/*", "000011112222"),
            None
        );
    }

    /// The public addresses the adversary calls from: a range is the owner's from /8 (IPv4).
    #[test]
    fn r24_public_addresses_and_ranges() {
        let (net, len) = cidr("0.0.0.0/0").unwrap_or((std::net::IpAddr::from([1, 1, 1, 1]), 99));
        assert_eq!(len, 0);
        assert!(in_range("52.94.0.99".parse().unwrap_or(net), net, len));
        let (n10, l10) = cidr("10.0.0.0/8").unwrap_or((net, 99));
        assert!(!in_range("52.94.0.99".parse().unwrap_or(net), n10, l10));
        assert!(private(n10));
        assert!(cidr("10.0.0.0/33").is_none());
        assert!(not_past("2099-01-01T00:00:00Z", &now_iso()));
        assert!(!not_past("2020-01-01T00:00:00Z", &now_iso()));
    }
}
