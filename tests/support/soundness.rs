//! The soundness property (never fail open), shared by the property tests and the evaluator
//! fuzz target.
//!
//! A scenario is a key policy, identity policies, an RCP, grants, a caller, an action and a
//! full assignment of every *dimension* (request keys such as `kms:ViaService` or
//! `aws:SourceIp`, and facts such as the key's tags or the caller's role path). The question
//! is first put with some dimensions left unset (in residual mode or not); then each unset
//! dimension is given every value a real request could carry — the values the policies
//! mention, a fresh value none mentions, and absent where a real request may lack the key —
//! and the question is put again. An `allow` must stay `allow` for every assignment, an
//! `explicit-deny` must never become `allow`; `undetermined` may become anything.
//!
//! Grants: a grant whose `KeyId` differs from the request's key in one ARN part (partition,
//! Region, account, key id) never allows (R79).
//!
//! The random source is a tape of choices ([`Tape`]): the property tests feed a generated
//! vector (which proptest shrinks towards zeros, and choice 0 is always the simplest), the
//! fuzzer its own generator.
#![allow(
    dead_code,
    unreachable_pub,
    reason = "shared by the test binary and the fuzz example, each using a part"
)]

use std::sync::Arc;

use kmsaudit::eval::{
    self, Caller, Decision, Inputs, KeyFacts, KeyInputs, KeyManager, NamedPolicy, Options, Request,
};
use kmsaudit::policy::PolicyKind;
use kmsaudit::source::SourceId;
use serde_json::{Value, json};

/// The request's key.
pub const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// Classes of v2 corrections (spec "Changes in v2") that the engine does not implement yet:
/// the property does not generate the situations that exercise them, so that it stays a
/// check of everything else. Each entry: the class and its rule ids. Empty once the
/// corrections are in.
pub fn pending_v2_classes() -> &'static [(Class, &'static str)] {
    &[]
}

/// A class of situations the property can switch off while its correction is pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Keys AWS always sets (`aws:SourceIp`, `aws:MultiFactorAuthPresent`) left unset outside
    /// residual mode (R9, R107).
    AlwaysSetKeys,
    /// A role session whose role path is not given (R1).
    RolePath,
    /// Case-twin encryption-context keys (R7, Q9).
    CaseTwinContext,
    /// VPC keys and `aws:SourceIp` through an integrated service (R103).
    ViaServiceNetwork,
    /// A grant whose `KeyId` names the key in another partition, Region or account (R79).
    GrantKeyArn,
    /// The key manager not given with a customer key policy (R60).
    KeyManager,
}

fn on(c: Class) -> bool {
    !pending_v2_classes().iter().any(|(p, _)| *p == c)
}

/// A source of choices.
pub trait Tape {
    /// A number below `n` (0 when `n` is 0).
    fn pick(&mut self, n: usize) -> usize;
    fn flip(&mut self) -> bool {
        self.pick(2) == 1
    }
}

/// A vector of choices, 0 when exhausted (proptest shrinks it towards the simplest scenario).
#[derive(Debug)]
pub struct VecTape<'a>(pub &'a [u32], pub usize);

impl Tape for VecTape<'_> {
    fn pick(&mut self, n: usize) -> usize {
        let v = self.0.get(self.1).copied().unwrap_or(0) as usize;
        self.1 += 1;
        if n == 0 { 0 } else { v % n }
    }
}

/// The dimensions a question may leave unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dim {
    /// `kms:ViaService`.
    Via,
    /// The encryption context.
    Context,
    /// `aws:SourceIp`, or `aws:SourceVpce`/`aws:SourceVpc` through a VPC endpoint.
    Network,
    /// `aws:PrincipalTag/team`.
    PrincipalTag,
    /// `aws:MultiFactorAuthPresent`.
    Mfa,
    /// `aws:CurrentTime`.
    Time,
    /// `aws:PrincipalOrgID`.
    OrgId,
    /// The key manager (fact).
    KeyManager,
    /// The role path of a role session (fact).
    RolePath,
    /// The key's tags (fact).
    KeyTags,
    /// The key's aliases (fact).
    Aliases,
}

pub const DIMS: [Dim; 11] = [
    Dim::Via,
    Dim::Context,
    Dim::Network,
    Dim::PrincipalTag,
    Dim::Mfa,
    Dim::Time,
    Dim::OrgId,
    Dim::KeyManager,
    Dim::RolePath,
    Dim::KeyTags,
    Dim::Aliases,
];

/// Callers: a session of `App` (its role path is a dimension), a user, the root user, the
/// role `App` itself (any session, path known), a session of another account's role.
pub const CALLERS: [&str; 5] = [
    "arn:aws:sts::111122223333:assumed-role/App/s1",
    "arn:aws:iam::111122223333:user/Alice",
    "111122223333",
    "arn:aws:iam::111122223333:role/App",
    "arn:aws:sts::444455556666:assumed-role/Ext/s1",
];

pub const ACTIONS: [&str; 4] = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:DescribeKey",
    "kms:GenerateDataKey",
];

/// How many values a dimension has; value 0 is "absent" / "not known" where that is a value.
fn values(d: Dim) -> usize {
    match d {
        Dim::Via => 4,
        Dim::Context => 7,
        Dim::Network => 5,
        Dim::PrincipalTag | Dim::OrgId => 3,
        Dim::Mfa => 3,
        Dim::Time => 2,
        Dim::KeyManager => 2,
        Dim::RolePath => 2,
        Dim::KeyTags | Dim::Aliases => 3,
    }
}

/// Whether value `v` of `d` can be the value of a real request by `caller`.
fn possible(d: Dim, v: usize, caller: usize) -> bool {
    match d {
        // Role sessions always carry MFA presence; users and root only with temporary
        // credentials (R9, R107).
        Dim::Mfa if v == 0 => !is_session(caller),
        Dim::Context if v == 6 => on(Class::CaseTwinContext),
        _ => true,
    }
}

fn is_session(caller: usize) -> bool {
    matches!(caller, 0 | 3 | 4)
}

/// Whether a real request may lack the key of `d` (so that "not given" reads as absent
/// outside residual mode).
fn may_be_absent(d: Dim, caller: usize) -> bool {
    match d {
        Dim::Via | Dim::Context | Dim::PrincipalTag | Dim::OrgId => true,
        Dim::Mfa => !is_session(caller),
        Dim::Network | Dim::Time => false,
        Dim::KeyManager | Dim::RolePath | Dim::KeyTags | Dim::Aliases => false,
    }
}

fn is_fact(d: Dim) -> bool {
    matches!(
        d,
        Dim::KeyManager | Dim::RolePath | Dim::KeyTags | Dim::Aliases
    )
}

/// A condition key, the values policies mention, and its operators.
struct KeySpec {
    key: &'static str,
    values: &'static [&'static str],
    ops: &'static [&'static str],
}

const STRING_OPS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLike",
    "StringEqualsIfExists",
    "StringNotEqualsIfExists",
    "StringEqualsIgnoreCase",
    "Null",
];
const MULTI_OPS: &[&str] = &[
    "ForAnyValue:StringEquals",
    "ForAllValues:StringEquals",
    "ForAnyValue:StringNotEquals",
    "ForAllValues:StringNotEquals",
    "ForAnyValue:StringLike",
    "Null",
];
const IP_OPS: &[&str] = &["IpAddress", "NotIpAddress", "NotIpAddressIfExists", "Null"];
const BOOL_OPS: &[&str] = &["Bool", "BoolIfExists", "Null"];
const DATE_OPS: &[&str] = &["DateLessThan", "DateGreaterThan", "DateGreaterThanIfExists"];
const ARN_OPS: &[&str] = &["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLikeIfExists"];

const KEYS: &[KeySpec] = &[
    KeySpec {
        key: "kms:ViaService",
        values: &[
            "s3.us-east-1.amazonaws.com",
            "ec2.us-east-1.amazonaws.com",
            "s3.*",
        ],
        ops: STRING_OPS,
    },
    KeySpec {
        key: "kms:EncryptionContext:App",
        values: &["x", "y", "*"],
        ops: STRING_OPS,
    },
    KeySpec {
        key: "kms:EncryptionContextKeys",
        values: &["App", "Other"],
        ops: MULTI_OPS,
    },
    KeySpec {
        key: "aws:SourceIp",
        values: &["10.0.0.0/8", "203.0.113.0/24"],
        ops: IP_OPS,
    },
    KeySpec {
        key: "aws:SourceVpce",
        values: &["vpce-1"],
        ops: STRING_OPS,
    },
    KeySpec {
        key: "aws:SourceVpc",
        values: &["vpc-1"],
        ops: STRING_OPS,
    },
    KeySpec {
        key: "aws:PrincipalTag/team",
        values: &["payments"],
        ops: STRING_OPS,
    },
    KeySpec {
        key: "aws:MultiFactorAuthPresent",
        values: &["true", "false"],
        ops: BOOL_OPS,
    },
    KeySpec {
        key: "aws:CurrentTime",
        values: &["2028-01-01T00:00:00Z"],
        ops: DATE_OPS,
    },
    KeySpec {
        key: "aws:PrincipalOrgID",
        values: &["o-abc123"],
        ops: STRING_OPS,
    },
    KeySpec {
        key: "aws:PrincipalArn",
        values: &[
            "arn:aws:iam::111122223333:role/App",
            "arn:aws:iam::111122223333:role/team/App",
            "arn:aws:iam::111122223333:role/*",
        ],
        ops: ARN_OPS,
    },
    KeySpec {
        key: "aws:ResourceTag/env",
        values: &["prod"],
        ops: STRING_OPS,
    },
    KeySpec {
        key: "kms:ResourceAliases",
        values: &["alias/app"],
        ops: MULTI_OPS,
    },
    KeySpec {
        key: "aws:ViaAWSService",
        values: &["true", "false"],
        ops: BOOL_OPS,
    },
    KeySpec {
        key: "aws:ResourceAccount",
        values: &["111122223333"],
        ops: STRING_OPS,
    },
];

/// The condition keys (indices into [`KEYS`]) whose values a dimension sets.
fn keys_of(d: Dim) -> &'static [usize] {
    match d {
        Dim::Via => &[0, 13],
        Dim::Context => &[1, 2],
        Dim::Network => &[3, 4, 5],
        Dim::PrincipalTag => &[6],
        Dim::Mfa => &[7],
        Dim::Time => &[8],
        Dim::OrgId => &[9],
        Dim::RolePath => &[10],
        Dim::KeyTags => &[11],
        Dim::Aliases => &[12],
        Dim::KeyManager => &[14],
    }
}

/// A condition, half the time on a key of `focus`.
fn condition(t: &mut dyn Tape, focus: &[usize]) -> Value {
    let i = if !focus.is_empty() && t.flip() {
        focus[t.pick(focus.len())]
    } else {
        t.pick(KEYS.len())
    };
    let k = &KEYS[i];
    let op = k.ops[t.pick(k.ops.len())];
    let value: Value = if op == "Null" {
        json!(if t.flip() { "true" } else { "false" })
    } else if t.flip() && k.values.len() > 1 {
        json!(k.values)
    } else {
        json!(k.values[t.pick(k.values.len())])
    };
    json!({ op: { k.key: value } })
}

fn principal(t: &mut dyn Tape) -> Value {
    match t.pick(7) {
        0 => json!("*"),
        1 => json!({"AWS": "arn:aws:iam::111122223333:root"}),
        2 => json!({"AWS": "arn:aws:iam::111122223333:role/App"}),
        3 => json!({"AWS": "arn:aws:iam::111122223333:role/team/App"}),
        4 => json!({"AWS": "arn:aws:iam::111122223333:user/Alice"}),
        5 => json!({"AWS": "444455556666"}),
        _ => json!({"AWS": "arn:aws:iam::444455556666:role/Ext"}),
    }
}

fn action(t: &mut dyn Tape) -> Value {
    match t.pick(5) {
        0 => json!("kms:*"),
        1 => json!("kms:Decrypt"),
        2 => json!(["kms:Encrypt", "kms:GenerateDataKey*"]),
        3 => json!("kms:Describe*"),
        _ => json!("*"),
    }
}

/// One statement; `allow_bias` out of 4 are `Allow`; a `Deny` always has a condition (one
/// without denies everything, which tells nothing).
fn statement(t: &mut dyn Tape, with_principal: bool, allow_bias: usize, focus: &[usize]) -> Value {
    let allow = t.pick(4) < allow_bias;
    let mut s = json!({"Effect": if allow { "Allow" } else { "Deny" }, "Action": action(t)});
    s["Resource"] = match t.pick(4) {
        1 if !with_principal => json!("arn:aws:kms:*:111122223333:key/*"),
        2 if !with_principal => json!(KEY),
        _ => json!("*"),
    };
    if with_principal {
        s["Principal"] = principal(t);
    }
    let n = t.pick(3) + usize::from(!allow);
    if n > 0 {
        let mut c = serde_json::Map::new();
        for _ in 0..n {
            if let Value::Object(m) = condition(t, focus) {
                for (op, body) in m {
                    match c.get_mut(&op) {
                        Some(Value::Object(existing)) => {
                            if let Value::Object(b) = body {
                                existing.extend(b);
                            }
                        }
                        _ => {
                            c.insert(op, body);
                        }
                    }
                }
            }
        }
        s["Condition"] = Value::Object(c);
    }
    s
}

/// One generated question.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub key_policy: Vec<Value>,
    /// `None`: the caller's identity policies are not known.
    pub identity: Option<Vec<Value>>,
    /// One RCP level (Deny statements), if any.
    pub rcp: Option<Vec<Value>>,
    pub caller: usize,
    pub action: usize,
    /// The value of every dimension, by [`DIMS`] order.
    pub full: Vec<usize>,
    /// The dimensions the first question leaves unset.
    pub unset: Vec<Dim>,
    /// The first question is asked in residual mode.
    pub residual: bool,
}

impl Scenario {
    /// Draws a scenario whose first question leaves request keys (`facts` false) or facts
    /// about the key and the caller (`facts` true) unset.
    pub fn draw(t: &mut dyn Tape, facts: bool) -> Scenario {
        let caller = t.pick(CALLERS.len());
        let action = t.pick(ACTIONS.len());
        let full: Vec<usize> = DIMS
            .iter()
            .map(|d| {
                let v = t.pick(values(*d));
                if possible(*d, v, caller) { v } else { 1 }
            })
            .collect();
        let residual = t.flip();
        let mut unset = Vec::new();
        for _ in 0..1 + t.pick(3) {
            let d = DIMS[t.pick(DIMS.len())];
            if is_fact(d) == facts
                && !unset.contains(&d)
                && allowed_unset(d, caller, residual, &full)
            {
                unset.push(d);
            }
        }
        unset.sort();
        let focus: Vec<usize> = unset
            .iter()
            .flat_map(|d| keys_of(*d).iter().copied())
            .collect();
        let n = 1 + t.pick(4);
        let mut key_policy: Vec<Value> = (0..n).map(|_| statement(t, true, 2, &focus)).collect();
        // Mostly a root delegation, as real key policies have.
        if t.pick(4) != 0 {
            key_policy.insert(
                0,
                json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}),
            );
        }
        let identity = match t.pick(6) {
            0 => None,
            1 => Some(Vec::new()),
            _ => {
                let mut v = vec![json!({"Effect": "Allow", "Action": "kms:*", "Resource": "*"})];
                v.extend((0..t.pick(3)).map(|_| statement(t, false, 2, &focus)));
                Some(v)
            }
        };
        let rcp = match t.pick(3) {
            0 => {
                let mut s = statement(t, false, 0, &focus);
                s["Principal"] = json!("*");
                Some(vec![s])
            }
            _ => None,
        };
        Scenario {
            key_policy,
            identity,
            rcp,
            caller,
            action,
            full,
            unset,
            residual,
        }
    }

    fn full(&self, d: Dim) -> usize {
        DIMS.iter()
            .position(|x| *x == d)
            .and_then(|i| self.full.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// The assignments to try for the unset dimensions.
    fn candidates(&self, d: Dim) -> Vec<usize> {
        // A call through a VPC endpoint is a direct call: no `kms:ViaService`.
        let via_endpoint = !self.unset.contains(&Dim::Network) && self.full(Dim::Network) >= 3;
        (0..values(d))
            .filter(|v| !(d == Dim::Via && via_endpoint && *v != 0))
            .filter(|v| possible(d, *v, self.caller))
            .filter(|v| {
                // Outside residual mode a key a request may lack reads as absent when not
                // given: that is the answer's own premise, not an open value.
                self.residual || is_fact(d) || !may_be_absent(d, self.caller) || *v == 0
            })
            .filter(|v| !(d == Dim::Network && !self.residual && *v >= 3))
            .collect()
    }
}

fn allowed_unset(d: Dim, caller: usize, residual: bool, full: &[usize]) -> bool {
    // The network value given, as DIMS orders it (index 2).
    let network = full.get(2).copied().unwrap_or(0);
    match d {
        Dim::RolePath => caller == 0 && on(Class::RolePath),
        // With `kms:ViaService` open, a given `aws:SourceIp` may be an EC2 address (R103).
        Dim::Via if network < 3 => on(Class::ViaServiceNetwork),
        Dim::Network | Dim::Mfa if !residual => on(Class::AlwaysSetKeys),
        Dim::KeyManager => on(Class::KeyManager),
        _ => true,
    }
}

/// Whether a statement's `Principal` element names `role/App` under the path `/` exactly.
fn names_role_at_root_path(statements: &[Value]) -> bool {
    const APP: &str = "arn:aws:iam::111122223333:role/App";
    statements.iter().any(|st| {
        let aws = st.get("Principal").and_then(|p| p.get("AWS"));
        match aws {
            Some(Value::String(a)) => a == APP,
            Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(APP)),
            _ => false,
        }
    })
}

fn named(name: &str, statements: &[Value], kind: PolicyKind) -> Option<NamedPolicy> {
    let text = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    let j = kmsaudit::json::parse(&text).ok()?;
    let (doc, _) = kmsaudit::policy::parse_policy(&j, SourceId::new(0, 0), kind);
    Some(NamedPolicy {
        name: name.into(),
        doc: doc.into(),
    })
}

/// A value of `d`, or `None` when `d` is unset.
fn value(given: &[(Dim, usize)], d: Dim) -> Option<usize> {
    given.iter().find(|(g, _)| *g == d).map(|(_, v)| *v)
}

/// The inputs and request for an assignment (`given`: the dimensions given; the others are
/// not given).
fn build(
    s: &Scenario,
    given: &[(Dim, usize)],
    grants: Option<Vec<kmsaudit::grant::Grant>>,
) -> Option<(Inputs, Request)> {
    let v = |d: Dim| value(given, d);
    let mut facts = KeyFacts::from_arn(KEY).ok()?;
    facts.key_manager = v(Dim::KeyManager).map(|m| {
        if m == 0 {
            KeyManager::Customer
        } else {
            KeyManager::Aws
        }
    });
    let tag_values = ["", "prod", "staging"];
    facts.tags = v(Dim::KeyTags).map(|t| match t {
        0 => Vec::new(),
        t => vec![("env".to_owned(), tag_values[t].to_owned())],
    });
    facts.aliases = v(Dim::Aliases).map(|a| match a {
        0 => Vec::new(),
        1 => vec!["alias/app".to_owned()],
        _ => vec!["alias/other".to_owned()],
    });
    let key_policy = named("key-policy", &s.key_policy, PolicyKind::Key)?;
    // A key policy's `Principal` naming `role/App` names a role that exists (KMS checks at
    // PutKeyPolicy), and role names are unique in an account whatever their path: beside it,
    // a session of `App` under `/team/` is no world AWS can be in (docs/semantics.md, R1).
    if v(Dim::RolePath).is_some_and(|p| p != 0) && names_role_at_root_path(&s.key_policy) {
        return None;
    }
    // R60 (v2): a key whose given policy is not the AWS managed template is customer managed;
    // "AWS managed" beside such a policy is no world AWS can be in.
    if facts.key_manager == Some(KeyManager::Aws)
        && kmsaudit::policy::shapes::label(&key_policy.doc, &facts.account)
            != kmsaudit::policy::shapes::Shape::AwsManaged
    {
        return None;
    }
    let inputs = Inputs {
        keys: vec![Arc::new(KeyInputs {
            facts,
            policies: Some(vec![key_policy]),
            grants: Some(grants.unwrap_or_default()),
            policy_unknown: None,
        })],
        identity: match &s.identity {
            None => None,
            Some(st) if st.is_empty() => Some(Vec::new().into()),
            Some(st) => Some(vec![named("identity", st, PolicyKind::Identity)?].into()),
        },
        rcp: match &s.rcp {
            None => None,
            Some(st) => Some(vec![vec![named("rcp", st, PolicyKind::Rcp)?]].into()),
        },
        ..Inputs::default()
    };
    let role = match (s.caller, v(Dim::RolePath)) {
        (0, Some(0)) => Some("arn:aws:iam::111122223333:role/App"),
        (0, Some(_)) => Some("arn:aws:iam::111122223333:role/team/App"),
        (4, _) => Some("arn:aws:iam::444455556666:role/Ext"),
        _ => None,
    };
    let caller = Caller::parse(CALLERS[s.caller], role).ok()?;
    let mut req = Request::new(caller, ACTIONS[s.action], KEY);
    let mut ctx = |k: &str, val: &str| req.context.push((k.to_owned(), val.to_owned()));
    let via = v(Dim::Via).and_then(|x| {
        [
            None,
            Some("s3.us-east-1.amazonaws.com"),
            Some("ec2.us-east-1.amazonaws.com"),
            Some("sqs.us-east-1.amazonaws.com"),
        ][x]
    });
    // R103: through an integrated service the original request's VPC keys are absent (a
    // call through a VPC endpoint to the service leaves no network key at all), and through
    // EC2 `aws:SourceIp` is an EC2 address outside every range a policy names.
    // In residual evaluation with `kms:ViaService` open, the network keys depend on the path
    // the call takes (through EC2 `aws:SourceIp` is not the caller's), so a value given for
    // them would not be the same fact in every refinement: they are left out with it.
    let network = if s.residual && v(Dim::Via).is_none() {
        None
    } else {
        v(Dim::Network)
    };
    match (network, via) {
        (Some(n @ 0..=2), None) => ctx(
            "aws:SourceIp",
            ["10.1.2.3", "203.0.113.5", "198.51.100.7"][n],
        ),
        (Some(0..=2), Some("ec2.us-east-1.amazonaws.com")) => ctx("aws:SourceIp", "198.51.100.9"),
        (Some(n @ 0..=2), Some(_)) => ctx(
            "aws:SourceIp",
            ["10.1.2.3", "203.0.113.5", "198.51.100.7"][n],
        ),
        (Some(n), None) => {
            ctx("aws:SourceVpce", if n == 3 { "vpce-1" } else { "vpce-9" });
            ctx("aws:SourceVpc", if n == 3 { "vpc-1" } else { "vpc-9" });
        }
        (Some(_), Some(_)) | (None, _) => {}
    }
    match v(Dim::PrincipalTag) {
        Some(1) => ctx("aws:PrincipalTag/team", "payments"),
        Some(2) => ctx("aws:PrincipalTag/team", "ops"),
        _ => {}
    }
    match v(Dim::Mfa) {
        Some(1) => ctx("aws:MultiFactorAuthPresent", "true"),
        Some(2) => ctx("aws:MultiFactorAuthPresent", "false"),
        _ => {}
    }
    match v(Dim::Time) {
        Some(0) => ctx("aws:CurrentTime", "2027-06-01T00:00:00Z"),
        Some(_) => ctx("aws:CurrentTime", "2029-06-01T00:00:00Z"),
        None => {}
    }
    match v(Dim::OrgId) {
        Some(1) => ctx("aws:PrincipalOrgID", "o-abc123"),
        Some(2) => ctx("aws:PrincipalOrgID", "o-zzz999"),
        _ => {}
    }
    // A principal in no organisation has no org id; a real request says so by its absence.
    req.via_service = via.map(str::to_owned);
    if let Some(c) = v(Dim::Context) {
        let p = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        req.encryption_context = Some(match c {
            0 => Vec::new(),
            1 => vec![p("App", "x")],
            2 => vec![p("App", "y")],
            3 => vec![p("App", "fresh")],
            4 => vec![p("Other", "z")],
            5 => vec![p("App", "x"), p("Other", "z")],
            _ => vec![p("App", "x"), p("app", "y")],
        });
    }
    Some((inputs, req))
}

/// A counterexample.
#[derive(Debug, Clone)]
pub struct Violation {
    pub scenario: Scenario,
    /// The first question's answer.
    pub before: Decision,
    /// The assignment of the unset dimensions, and the answer then.
    pub assignment: Vec<(Dim, usize)>,
    pub after: Decision,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.scenario;
        write!(
            f,
            "{:?} with {:?} unset (residual {}) became {:?} with {:?}\n  caller {} action {}\n  key policy {}\n  identity {}\n  rcp {}\n  dims {:?}",
            self.before,
            s.unset,
            s.residual,
            self.after,
            self.assignment,
            CALLERS[s.caller],
            ACTIONS[s.action],
            Value::from(s.key_policy.clone()),
            s.identity.clone().map_or(Value::Null, Value::from),
            s.rcp.clone().map_or(Value::Null, Value::from),
            DIMS.iter().zip(&s.full).collect::<Vec<_>>(),
        )
    }
}

fn decide(inputs: &Inputs, req: &Request, residual: bool) -> Decision {
    let opts = Options {
        residual,
        ..Options::default()
    };
    eval::evaluate(inputs, req, &opts).decision
}

/// Counts of what one check did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    /// First questions asked.
    pub questions: u64,
    /// Second questions asked (one per assignment).
    pub assignments: u64,
    /// First answers that were `allow` or `explicit-deny` (the ones the property constrains).
    pub decided: u64,
}

/// The property: `None` when it holds for every assignment.
pub fn check(s: &Scenario, tally: &mut Tally) -> Option<Violation> {
    let base: Vec<(Dim, usize)> = DIMS
        .iter()
        .zip(&s.full)
        .filter(|(d, _)| !s.unset.contains(d))
        .map(|(d, v)| (*d, *v))
        .collect();
    let (inputs, req) = build(s, &base, None)?;
    let before = decide(&inputs, &req, s.residual);
    tally.questions += 1;
    if !matches!(before, Decision::Allow | Decision::ExplicitDeny) {
        return None;
    }
    tally.decided += 1;
    let mut combos: Vec<Vec<(Dim, usize)>> = vec![Vec::new()];
    for d in &s.unset {
        let mut next = Vec::new();
        for c in &combos {
            for v in s.candidates(*d) {
                let mut c2 = c.clone();
                c2.push((*d, v));
                next.push(c2);
            }
        }
        combos = next;
    }
    for combo in combos {
        let mut given = base.clone();
        given.extend(combo.iter().copied());
        // An assignment no real world can have (R60) constrains nothing.
        let Some((inputs, req)) = build(s, &given, None) else {
            continue;
        };
        let after = decide(&inputs, &req, false);
        tally.assignments += 1;
        let bad = match before {
            Decision::Allow => matches!(after, Decision::ExplicitDeny | Decision::ImplicitDeny),
            Decision::ExplicitDeny => after == Decision::Allow,
            _ => false,
        };
        if bad {
            return Some(Violation {
                scenario: s.clone(),
                before,
                assignment: combo,
                after,
            });
        }
    }
    None
}

/// A grant for the caller on `key_id`, for every action the scenarios ask.
fn grant(caller: usize, key_id: &str) -> Option<kmsaudit::grant::Grant> {
    let grantee = match caller {
        0 | 3 => "arn:aws:iam::111122223333:role/App",
        1 => "arn:aws:iam::111122223333:user/Alice",
        2 => "arn:aws:iam::111122223333:root",
        _ => "arn:aws:iam::444455556666:role/Ext",
    };
    let text = json!({
        "KeyId": key_id, "GrantId": "g1", "GranteePrincipal": grantee,
        "IssuingAccount": "arn:aws:iam::111122223333:root",
        "Operations": ["Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey"],
    })
    .to_string();
    let j = kmsaudit::json::parse(&text).ok()?;
    let mut errors = Vec::new();
    kmsaudit::grant::read_grant(&j, SourceId::new(0, 1), &mut errors)
}

/// The request's key with one ARN part changed.
pub const OTHER_KEYS: [(&str, &str); 4] = [
    (
        "partition",
        "arn:aws-cn:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ),
    (
        "Region",
        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ),
    (
        "account",
        "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ),
    (
        "key id",
        "arn:aws:kms:us-east-1:111122223333:key/0000abcd-12ab-34cd-56ef-1234567890ab",
    ),
];

/// A grant's `KeyId` changed in one ARN part never allows what the question without the grant
/// does not (R79). `Some((part, without, with))` on a counterexample.
pub fn check_grant(s: &Scenario) -> Option<(&'static str, Decision, Decision)> {
    let given: Vec<(Dim, usize)> = DIMS.iter().zip(&s.full).map(|(d, v)| (*d, *v)).collect();
    let (inputs, req) = build(s, &given, None)?;
    let without = decide(&inputs, &req, false);
    if without == Decision::Allow {
        return None;
    }
    for (part, arn) in OTHER_KEYS {
        if part != "key id" && !on(Class::GrantKeyArn) {
            continue;
        }
        let g = grant(s.caller, arn)?;
        let (inputs, req) = build(s, &given, Some(vec![g]))?;
        let with = decide(&inputs, &req, false);
        if with == Decision::Allow {
            return Some((part, without, with));
        }
    }
    None
}

/// The same grant on the request's own key does allow when nothing denies (so that
/// [`check_grant`] cannot pass by never allowing at all).
pub fn own_key_grant_allows(s: &Scenario) -> Option<Decision> {
    let given: Vec<(Dim, usize)> = DIMS.iter().zip(&s.full).map(|(d, v)| (*d, *v)).collect();
    let g = grant(s.caller, KEY)?;
    let (inputs, req) = build(s, &given, Some(vec![g]))?;
    Some(decide(&inputs, &req, false))
}
