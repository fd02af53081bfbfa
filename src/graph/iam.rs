//! The IAM and STS moves of escalation paths: may a principal call `sts:AssumeRole` on a role,
//! or an IAM write (`iam:PutRolePolicy`, `iam:CreatePolicyVersion`…) on another principal?
//!
//! The KMS engine (`eval`) decides KMS requests only, but it also answers, statement by
//! statement, whether a statement applies to such a request ([`eval::other_statement_applies`]:
//! the same `Action`, `Resource` and `Principal` matchers and the same switches as for KMS
//! requests), so that a matching fix lands once. This module only combines those answers by the
//! IAM rules that apply: an explicit Deny anywhere wins (R8, R46 step 1); every SCP level must
//! allow (R48); a permissions boundary must allow; an identity policy must allow, except that a
//! same-account trust policy naming the caller's own ARN is enough for `sts:AssumeRole` (the
//! resource-policy rule of R54, applied to roles); a cross-account move needs both sides. A
//! condition is never guessed: a statement whose `Condition` block decides the move makes the
//! move conditional on it, and a statement that cannot be judged makes it unknown, never
//! allowed or denied.

use crate::eval::{self, Caller, NamedPolicy, OtherApplies, OtherRequest};
use crate::policy::{Effect, Statement};

/// The answer for one move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Move {
    /// Allowed by these statements.
    Yes(Vec<String>),
    /// Allowed by these statements when these conditions hold.
    Conditional(Vec<String>, Vec<String>),
    /// Not allowed.
    No,
    /// Cannot be judged: why.
    Unknown(String),
}

/// The principal side of a move.
#[derive(Debug)]
pub(crate) struct Mover<'a> {
    pub(crate) caller: &'a Caller,
    /// The caller's IAM unique id (`AIDA…`, `AROA…`), when known.
    pub(crate) unique_id: Option<&'a str>,
    /// Identity policies; `None` when some are missing from the inputs.
    pub(crate) identity: Option<&'a [NamedPolicy]>,
    pub(crate) boundary: Option<&'a NamedPolicy>,
    /// SCP levels above the caller's account, root first.
    pub(crate) scp: Option<&'a [Vec<NamedPolicy>]>,
    /// The engine's options: its switches decide matching here as in KMS requests.
    pub(crate) opts: &'a eval::Options,
}

impl Mover<'_> {
    /// The request of this mover for `service:name` on `resource`.
    fn request<'r>(
        &'r self,
        service: &'r str,
        name: &'r str,
        resource: &'r str,
    ) -> OtherRequest<'r> {
        OtherRequest {
            caller: self.caller,
            unique_id: self.unique_id,
            service,
            name,
            resource,
        }
    }
}

fn statement_id(p: &NamedPolicy, st: &Statement) -> String {
    format!("{}#{}", p.name, st.label().trim_start_matches('#'))
}

fn condition_texts(st: &Statement, p: &NamedPolicy) -> Vec<String> {
    st.conditions
        .iter()
        .map(|c| {
            let values: Vec<&str> = c.values.iter().map(|v| v.text.as_str()).collect();
            format!(
                "`{} {} {}` ({})",
                c.operator.raw,
                c.key,
                values.join(", "),
                statement_id(p, st)
            )
        })
        .collect()
}

/// What a set of policies says: allowing statements, conditions, denials.
#[derive(Default)]
struct Tally {
    allow: Vec<String>,
    allow_cond: Vec<(String, Vec<String>)>,
    deny: Vec<String>,
    deny_cond: Vec<String>,
    /// Deny statements that cannot be judged.
    unknown_deny: Vec<String>,
    /// Allow statements that cannot be judged.
    unknown_allow: Vec<String>,
}

fn tally<'p>(
    policies: impl IntoIterator<Item = &'p NamedPolicy>,
    req: &OtherRequest<'_>,
    opts: &eval::Options,
) -> Tally {
    tally_where(policies, req, opts, |_| true)
}

/// [`tally`] over the statements `keep` selects.
fn tally_where<'p>(
    policies: impl IntoIterator<Item = &'p NamedPolicy>,
    req: &OtherRequest<'_>,
    opts: &eval::Options,
    keep: impl Fn(&Statement) -> bool,
) -> Tally {
    let mut t = Tally::default();
    for p in policies {
        for st in p.doc.statements.iter().filter(|st| keep(st)) {
            let deny = match st.effect.as_ref().map(|e| e.value) {
                Some(Effect::Deny) => true,
                Some(Effect::Allow) => false,
                None => continue,
            };
            match (eval::other_statement_applies(p, st, req, opts), deny) {
                (OtherApplies::No, _) => {}
                (OtherApplies::Yes, false) => t.allow.push(statement_id(p, st)),
                (OtherApplies::Yes, true) => t.deny.push(statement_id(p, st)),
                (OtherApplies::Conditional, false) => {
                    t.allow_cond
                        .push((statement_id(p, st), condition_texts(st, p)));
                }
                (OtherApplies::Conditional, true) => t.deny_cond.extend(
                    condition_texts(st, p)
                        .into_iter()
                        .map(|c| format!("the Deny's condition {c} does not hold")),
                ),
                (OtherApplies::Unknown(u), true) => t.unknown_deny.push(u.to_string()),
                (OtherApplies::Unknown(u), false) => t.unknown_allow.push(u.to_string()),
            }
        }
    }
    t
}

/// The allow side of a tally: `Ok(Some((via, conditions)))` when something allows,
/// `Ok(None)` when nothing does, `Err(why)` when only an Allow that cannot be judged might
/// (an unknown Allow beside a certain one changes nothing, as in the engine).
type Allowed = Result<Option<(Vec<String>, Vec<String>)>, String>;

fn allowed(t: &Tally) -> Allowed {
    if !t.allow.is_empty() {
        return Ok(Some((t.allow.clone(), Vec::new())));
    }
    // Alternatives: the first conditional statement stands for them all (each is enough).
    let Some((id, conds)) = t.allow_cond.first() else {
        return match t.unknown_allow.first() {
            Some(u) => Err(u.clone()),
            None => Ok(None),
        };
    };
    let mut c = conds.clone();
    if t.allow_cond.len() > 1 {
        c.push(format!(
            "(or the conditions of {} other statements)",
            t.allow_cond.len() - 1
        ));
    }
    Ok(Some((vec![id.clone()], c)))
}

/// Decides one IAM or STS move by `mover` on `resource` (`service` and `name` lower case).
/// `resource_policy` is the target's trust policy for `sts:AssumeRole`.
pub(crate) fn decide(
    mover: &Mover<'_>,
    service: &str,
    name: &str,
    resource: &str,
    resource_account: &str,
    resource_policy: Option<&[NamedPolicy]>,
) -> Move {
    let req = mover.request(service, name, resource);
    let opts = mover.opts;
    let mut conditions = Vec::new();
    // Explicit denies first (R8).
    let scp = mover.scp.unwrap_or(&[]);
    let every = mover
        .identity
        .unwrap_or(&[])
        .iter()
        .chain(mover.boundary)
        .chain(scp.iter().flatten())
        .chain(resource_policy.unwrap_or(&[]));
    let all = tally(every, &req, opts);
    if !all.deny.is_empty() {
        return Move::No;
    }
    if let Some(u) = all.unknown_deny.first() {
        return Move::Unknown(u.clone());
    }
    conditions.extend(all.deny_cond);
    // Every SCP level must allow (R48).
    for level in scp {
        match allowed(&tally(level, &req, opts)) {
            Ok(Some((_, c))) => conditions.extend(c),
            Ok(None) => return Move::No,
            Err(u) => return Move::Unknown(u),
        }
    }
    let (via, more) = match resource_policy {
        None => match identity_side(mover, &req) {
            Ok(a) => a,
            Err(m) => return m,
        },
        Some(rp) => {
            match resource_side(mover, &req, rp, mover.caller.account == resource_account) {
                Ok(a) => a,
                Err(m) => return m,
            }
        }
    };
    conditions.extend(more);
    // Identity policies missing from the inputs could hold a Deny (R46 step 1): a move that
    // would be allowed is then unknown, never allowed (as the engine answers).
    if mover.identity.is_none() {
        return Move::Unknown(format!(
            "the identity policies of `{}` are not all in the inputs: a Deny in them could refuse the move",
            mover.caller.arn
        ));
    }
    if conditions.is_empty() {
        Move::Yes(via)
    } else {
        Move::Conditional(via, conditions)
    }
}

/// The allowing statements and conditions of a move, or the move when it is not allowed.
type Side = Result<(Vec<String>, Vec<String>), Move>;

/// A move with a resource policy (a role's trust policy): the resource policy must allow;
/// then either statements naming the caller by its own ARN, in the caller's own account,
/// are enough on their own (R54), or the identity side must allow too. The two are
/// alternatives: a conditional direct allow stands when the identity side does not allow,
/// and a direct statement that cannot be judged makes a refused identity side unknown.
fn resource_side(
    mover: &Mover<'_>,
    req: &OtherRequest<'_>,
    rp: &[NamedPolicy],
    own_account: bool,
) -> Side {
    let (via, conditions) = match allowed(&tally(rp, req, mover.opts)) {
        Ok(Some(a)) => a,
        Ok(None) => return Err(Move::No),
        Err(u) => return Err(Move::Unknown(u)),
    };
    let direct = if own_account {
        let names = |st: &Statement| {
            eval::trust_principal_names(st, req, &mover.opts.open) == Ok(Some(true))
        };
        allowed(&tally_where(rp, req, mover.opts, names))
    } else {
        Ok(None)
    };
    if matches!(&direct, Ok(Some((_, c))) if c.is_empty()) {
        return Ok((via, conditions));
    }
    match identity_side(mover, req) {
        Ok((v, c)) => Ok((
            via.into_iter().chain(v).collect(),
            conditions.into_iter().chain(c).collect(),
        )),
        Err(refused) => match direct {
            Ok(Some(alternative)) => Ok(alternative),
            Err(u) => Err(Move::Unknown(u)),
            Ok(None) => Err(refused),
        },
    }
}

/// The identity side of a move: an identity policy must allow, and the permissions boundary
/// too.
fn identity_side(mover: &Mover<'_>, req: &OtherRequest<'_>) -> Side {
    let Some(ids) = mover.identity else {
        return Err(Move::Unknown(format!(
            "the identity policies of `{}` are not all in the inputs",
            mover.caller.arn
        )));
    };
    let (via, mut conditions) = match allowed(&tally(ids, req, mover.opts)) {
        Ok(Some(a)) => a,
        Ok(None) => return Err(Move::No),
        Err(u) => return Err(Move::Unknown(u)),
    };
    if let Some(b) = mover.boundary {
        match allowed(&tally(std::iter::once(b), req, mover.opts)) {
            Ok(Some((_, c))) => conditions.extend(c),
            Ok(None) => return Err(Move::No),
            Err(u) => return Err(Move::Unknown(u)),
        }
    }
    Ok((via, conditions))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyKind;
    use crate::source::SourceId;

    fn policy(name: &str, kind: PolicyKind, text: &str) -> NamedPolicy {
        let j = crate::json::parse(text).unwrap();
        let (doc, _) = crate::policy::parse_policy(&j, SourceId::new(0, 0), kind);
        NamedPolicy {
            name: name.into(),
            doc: doc.into(),
        }
    }

    fn caller(arn: &str) -> Caller {
        Caller::parse(arn, None).unwrap()
    }

    /// The engine's default switches, for movers that need no others.
    static DEFAULT_OPTIONS: std::sync::LazyLock<eval::Options> =
        std::sync::LazyLock::new(eval::Options::default);

    /// A mover with these identity policies (`None`: missing), no boundary, no SCPs and the
    /// default switches.
    fn plain_mover<'a>(c: &'a Caller, identity: Option<&'a [NamedPolicy]>) -> Mover<'a> {
        Mover {
            caller: c,
            unique_id: None,
            identity,
            boundary: None,
            scp: None,
            opts: &DEFAULT_OPTIONS,
        }
    }

    const TRUST_ROLE_A: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/A"},"Action":"sts:AssumeRole"}]}"#;
    const TRUST_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}"#;
    const ALLOW_ASSUME: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/B"}]}"#;

    #[test]
    fn same_account_trust_naming_the_role_is_enough_for_assume_role() {
        let c = caller("arn:aws:iam::111122223333:role/A");
        let trust = [policy("trust", PolicyKind::Trust, TRUST_ROLE_A)];
        let m = plain_mover(&c, Some(&[]));
        let got = decide(
            &m,
            "sts",
            "assumerole",
            "arn:aws:iam::111122223333:role/B",
            "111122223333",
            Some(&trust),
        );
        assert!(matches!(got, Move::Yes(_)), "{got:?}");
    }

    #[test]
    fn account_trust_needs_identity_and_keeps_conditions() {
        let c = caller("arn:aws:iam::111122223333:role/A");
        let trust = [policy("trust", PolicyKind::Trust, TRUST_ACCOUNT)];
        let none = plain_mover(&c, Some(&[]));
        let b = "arn:aws:iam::111122223333:role/B";
        assert_eq!(
            decide(&none, "sts", "assumerole", b, "111122223333", Some(&trust)),
            Move::No
        );
        let ids = [policy("id", PolicyKind::Identity, ALLOW_ASSUME)];
        let some = Mover {
            identity: Some(&ids),
            ..none
        };
        let got = decide(&some, "sts", "assumerole", b, "111122223333", Some(&trust));
        match got {
            Move::Conditional(_, c) => assert!(c.iter().any(|c| c.contains("sts:ExternalId"))),
            other => panic!("{other:?}"),
        }
    }

    mod agreement {
        //! The graph's moves and the engine agree: a resource policy matched as a trust
        //! policy is a key policy matched by the engine, when the action is a KMS action
        //! and no statement has a condition (R17–R24, R46, R53–R55).
        use super::*;
        use crate::eval::{Decision, Inputs, KeyFacts, KeyInputs, Options, Request};
        use proptest::prelude::*;
        use serde_json::{Value, json};

        const KEY: &str =
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

        fn pick<T: Clone + std::fmt::Debug + 'static>(v: Vec<T>) -> impl Strategy<Value = T> {
            prop::sample::select(v)
        }

        fn action() -> impl Strategy<Value = (&'static str, Value)> {
            pick(vec![
                ("Action", json!("kms:*")),
                ("Action", json!("kms:Decrypt")),
                ("Action", json!("kms:Describe*")),
                ("Action", json!(["kms:Encrypt", "kms:Re*"])),
                ("Action", json!("*")),
                ("Action", json!("s3:*")),
                ("NotAction", json!("kms:Decrypt")),
                ("NotAction", json!("s3:*")),
            ])
        }

        fn resource() -> impl Strategy<Value = (&'static str, Value)> {
            pick(vec![
                ("Resource", json!("*")),
                ("Resource", json!(KEY)),
                ("Resource", json!("arn:aws:kms:*:111122223333:key/*")),
                (
                    "Resource",
                    json!("arn:aws:kms:us-east-1:111122223333:key/other"),
                ),
                ("Resource", json!("arn:aws:*:us-east-1:111122223333:key/*")),
                ("Resource", json!("arn:aws:kms:*")),
                ("Resource", json!("arn*")),
                ("NotResource", json!("arn:aws:kms:*:*:alias/*")),
                ("NotResource", json!(KEY)),
            ])
        }

        /// `"*"` is left out of `Allow`: a key policy's `"*"` names every caller itself,
        /// while a trust policy's only opens the door to the account's principals. Entries
        /// that cannot be judged are left out too: both answer "unknown" for them, but the
        /// engine weighs an unknown statement against every path and the graph against the
        /// first that fails.
        fn principal(allow: bool) -> impl Strategy<Value = Value> {
            let mut v = vec![
                json!({"AWS": "arn:aws:iam::111122223333:root"}),
                json!({"AWS": "111122223333"}),
                json!({"AWS": "arn:aws:iam::111122223333:role/App"}),
                json!({"AWS": "arn:aws:iam::111122223333:user/Alice"}),
                json!({"AWS": "arn:aws:iam::444455556666:role/Ext"}),
                json!({"AWS": "444455556666"}),
            ];
            if !allow {
                v.push(json!("*"));
            }
            pick(v)
        }

        fn statement(with_principal: bool) -> impl Strategy<Value = Value> {
            (prop::bool::weighted(0.7), action(), resource()).prop_flat_map(move |(allow, a, r)| {
                principal(allow).prop_map(move |p| {
                    let mut s = json!({"Effect": if allow { "Allow" } else { "Deny" }});
                    s[a.0] = a.1.clone();
                    s[r.0] = r.1.clone();
                    if with_principal {
                        s["Principal"] = p;
                    }
                    s
                })
            })
        }

        fn doc(name: &str, kind: PolicyKind, sts: &[Value]) -> NamedPolicy {
            let text = json!({"Version": "2012-10-17", "Statement": sts}).to_string();
            policy(name, kind, &text)
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

            #[test]
            fn graph_moves_and_engine_agree_on_kms_actions(
                kp in prop::collection::vec(statement(true), 1..4),
                id in prop::option::weighted(0.85, prop::collection::vec(statement(false), 0..3)),
                caller in 0..3usize,
                action in pick(vec!["Decrypt", "DescribeKey", "Encrypt", "ReEncryptFrom"]),
            ) {
                let arn = ["arn:aws:iam::111122223333:role/App",
                    "arn:aws:iam::111122223333:user/Alice",
                    "arn:aws:iam::444455556666:role/Ext"][caller];
                let c = Caller::parse(arn, None).unwrap();
                let identity = id.as_ref().map(|sts| {
                    if sts.is_empty() { Vec::new() } else { vec![doc("id", PolicyKind::Identity, sts)] }
                });
                let trust = [doc("kp", PolicyKind::Trust, &kp)];
                let m = plain_mover(&c, identity.as_deref());
                let lower = action.to_ascii_lowercase();
                let graph = decide(&m, "kms", &lower, KEY, "111122223333", Some(&trust));
                let inputs = Inputs {
                    keys: vec![std::sync::Arc::new(KeyInputs {
                        facts: KeyFacts::from_arn(KEY).unwrap(),
                        policies: Some(vec![doc("kp", PolicyKind::Key, &kp)]),
                        grants: Some(Vec::new()),
                        policy_unknown: None,
                    })],
                    identity: identity.clone().map(Into::into),
                    ..Inputs::default()
                };
                let req = Request::new(c.clone(), &format!("kms:{action}"), KEY);
                let engine = crate::eval::evaluate(&inputs, &req, &Options::default()).decision;
                let agree = match &graph {
                    Move::Yes(_) => engine == Decision::Allow,
                    Move::No => matches!(engine, Decision::ImplicitDeny | Decision::ExplicitDeny),
                    // A statement the graph cannot judge makes the move unknown even where
                    // the engine finds no allow at all: cautious, never open.
                    Move::Unknown(_) => engine != Decision::Allow,
                    Move::Conditional(..) => false,
                };
                prop_assert!(agree, "graph {:?}, engine {:?}", graph, engine);
            }
        }
    }

    mod agreement_with_conditions {
        //! The graph's moves and the engine agree on random identity policies, key policies
        //! (matched by the graph as a trust policy), SCPs and targets: `Action`/`NotAction`,
        //! `Resource`/`NotResource` with wildcards, short patterns (under both settings of the
        //! Q11 switch, given to both sides) and policy variables, and `Condition` blocks on a
        //! request key the engine leaves open (R11–R24, R46, R48, R53–R55). Whatever the graph
        //! claims, the engine asked directly agrees: a move is an Allow, no move a Deny, a
        //! conditional move an answer that depends on the conditions; an unknown move is never
        //! an Allow, except where a policy variable the engine substitutes decides it.
        use super::*;
        use crate::eval::{Decision, Inputs, KeyFacts, KeyInputs, Options, Request};
        use proptest::prelude::*;
        use serde_json::{Value, json};

        const KEY: &str =
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        const OTHER_KEY: &str =
            "arn:aws:kms:eu-west-1:444455556666:key/0987dcba-09fe-87dc-65ba-ab0987654321";

        fn pick<T: Clone + std::fmt::Debug + 'static>(v: Vec<T>) -> impl Strategy<Value = T> {
            prop::sample::select(v)
        }

        fn action() -> impl Strategy<Value = (&'static str, Value)> {
            pick(vec![
                ("Action", json!("kms:*")),
                ("Action", json!("kms:Decrypt")),
                ("Action", json!("kms:*crypt*")),
                ("Action", json!("KMS:describe*")),
                ("Action", json!(["kms:Encrypt", "kms:Re*"])),
                ("Action", json!("*")),
                ("Action", json!(["s3:*", "iam:PassRole"])),
                ("NotAction", json!("kms:Decrypt")),
                ("NotAction", json!(["kms:Describe*", "kms:Encrypt"])),
                ("NotAction", json!("s3:*")),
            ])
        }

        fn resource() -> impl Strategy<Value = (&'static str, Value)> {
            pick(vec![
                ("Resource", json!("*")),
                ("Resource", json!(KEY)),
                ("Resource", json!(OTHER_KEY)),
                ("Resource", json!("arn:aws:kms:*:111122223333:key/*")),
                ("Resource", json!("arn:aws:kms:*:*:key/1234*")),
                (
                    "Resource",
                    json!("arn:aws:kms:us-east-1:111122223333:alias/*"),
                ),
                ("Resource", json!("arn:aws:*:*:444455556666:key/*")),
                ("Resource", json!("arn:aws:kms:*")),
                ("Resource", json!("arn:aws:kms:us-east-1:*")),
                ("Resource", json!("arn*")),
                (
                    "Resource",
                    json!("arn:aws:kms:us-east-1:111122223333:key/${aws:username}"),
                ),
                ("NotResource", json!("arn:aws:kms:*:*:alias/*")),
                ("NotResource", json!(KEY)),
                (
                    "NotResource",
                    json!(["arn:aws:kms:eu-*", "arn:aws:iam::*:role/*"]),
                ),
            ])
        }

        /// `Condition` blocks on `kms:ViaService`, which the engine leaves open (residual).
        fn condition() -> impl Strategy<Value = Option<Value>> {
            pick(vec![
                None,
                None,
                Some(json!({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})),
                Some(json!({"StringLike": {"kms:ViaService": ["ec2.*.amazonaws.com", "rds.*"]}})),
                Some(json!({"StringNotEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})),
            ])
        }

        /// Principals of key-policy statements; `"*"` is left out of `Allow` (see
        /// `agreement::principal`).
        fn principal(allow: bool) -> impl Strategy<Value = Value> {
            let mut v = vec![
                json!({"AWS": "arn:aws:iam::111122223333:root"}),
                json!({"AWS": "444455556666"}),
                json!({"AWS": "arn:aws:iam::111122223333:role/App"}),
                json!({"AWS": ["arn:aws:iam::111122223333:user/Alice", "arn:aws:iam::444455556666:root"]}),
                json!({"AWS": "arn:aws:iam::444455556666:role/Ext"}),
            ];
            if !allow {
                v.push(json!("*"));
            }
            pick(v)
        }

        fn statement(with_principal: bool, scp: bool) -> impl Strategy<Value = Value> {
            (
                prop::bool::weighted(0.7),
                action(),
                resource(),
                condition(),
                prop::bool::weighted(if scp { 0.5 } else { 0.0 }),
            )
                .prop_flat_map(move |(allow, a, r, c, no_resource)| {
                    principal(allow).prop_map(move |p| {
                        let mut s = json!({"Effect": if allow { "Allow" } else { "Deny" }});
                        s[a.0] = a.1.clone();
                        if !no_resource {
                            s[r.0] = r.1.clone();
                        }
                        // SCPs too: an SCP gate left open on `kms:ViaService` is a
                        // requirement of the engine's answer, as it is of the graph's move.
                        if let Some(c) = c.as_ref() {
                            s["Condition"] = c.clone();
                        }
                        if with_principal {
                            s["Principal"] = p;
                        }
                        s
                    })
                })
        }

        fn doc(name: &str, kind: PolicyKind, sts: &[Value]) -> NamedPolicy {
            let text = json!({"Version": "2012-10-17", "Statement": sts}).to_string();
            policy(name, kind, &text)
        }

        fn has_variable(sts: &[Value]) -> bool {
            sts.iter().any(|s| s.to_string().contains("${"))
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

            #[test]
            fn graph_moves_and_engine_agree_with_conditions_switches_and_scps(
                kp in prop::collection::vec(statement(true, false), 1..4),
                id in prop::option::weighted(0.85, prop::collection::vec(statement(false, false), 0..4)),
                scp in prop::option::weighted(0.3, prop::collection::vec(statement(false, true), 1..3)),
                caller in 0..3usize,
                on_other_key in prop::bool::weighted(0.2),
                short_match_nothing in prop::bool::ANY,
                action in pick(vec!["Decrypt", "DescribeKey", "Encrypt", "ReEncryptFrom"]),
            ) {
                let arn = ["arn:aws:iam::111122223333:role/App",
                    "arn:aws:iam::111122223333:user/Alice",
                    "arn:aws:iam::444455556666:role/Ext"][caller];
                let (key, key_account) = if on_other_key {
                    (OTHER_KEY, "444455556666")
                } else {
                    (KEY, "111122223333")
                };
                let c = Caller::parse(arn, None).unwrap();
                let identity = id.as_ref().map(|sts| {
                    if sts.is_empty() { Vec::new() } else { vec![doc("id", PolicyKind::Identity, sts)] }
                });
                let levels: Option<crate::eval::Levels> =
                    scp.as_ref().map(|sts| vec![vec![doc("scp", PolicyKind::Scp, sts)]].into());
                let mut opts = Options { residual: true, ..Options::default() };
                opts.open.short_resource_patterns_match_nothing = short_match_nothing;
                let trust = [doc("kp", PolicyKind::Trust, &kp)];
                let m = Mover {
                    caller: &c,
                    unique_id: None,
                    identity: identity.as_deref(),
                    boundary: None,
                    scp: levels.as_deref(),
                    opts: &opts,
                };
                let lower = action.to_ascii_lowercase();
                let graph = decide(&m, "kms", &lower, key, key_account, Some(&trust));
                let inputs = Inputs {
                    keys: vec![std::sync::Arc::new(KeyInputs {
                        facts: KeyFacts::from_arn(key).unwrap(),
                        policies: Some(vec![doc("kp", PolicyKind::Key, &kp)]),
                        grants: Some(Vec::new()),
                        policy_unknown: None,
                    })],
                    identity: identity.clone().map(Into::into),
                    scp: levels.clone(),
                    ..Inputs::default()
                };
                let req = Request::new(c.clone(), &format!("kms:{action}"), key);
                let engine = crate::eval::evaluate(&inputs, &req, &opts).decision;
                let variables = has_variable(&kp)
                    || id.as_deref().is_some_and(has_variable)
                    || scp.as_deref().is_some_and(has_variable);
                let agree = match &graph {
                    Move::Yes(_) => engine == Decision::Allow,
                    Move::No => matches!(engine, Decision::ImplicitDeny | Decision::ExplicitDeny),
                    // Allowed if the `kms:ViaService` conditions hold: the engine, which
                    // leaves that key open, cannot settle it either.
                    Move::Conditional(..) => engine == Decision::Undetermined,
                    // The graph does not substitute policy variables; the engine does.
                    Move::Unknown(_) => variables || engine != Decision::Allow,
                };
                prop_assert!(agree, "graph {:?}, engine {:?}", graph, engine);
            }
        }
    }

    #[test]
    fn r21_graph_move_short_resource_pattern_matches_only_with_a_last_star() {
        // `arn*` has one segment that is not `*`: it matches nothing (Q11 default).
        let c = caller("arn:aws:iam::111122223333:role/A");
        let ids = [policy(
            "id",
            PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PutRolePolicy","Resource":"arn*"}]}"#,
        )];
        let m = plain_mover(&c, Some(&ids));
        let b = "arn:aws:iam::111122223333:role/B";
        assert_eq!(
            decide(&m, "iam", "putrolepolicy", b, "111122223333", None),
            Move::No
        );
    }

    #[test]
    fn r54_graph_direct_trust_statement_must_apply_to_the_move() {
        // The trust policy names role A only for tagging; AssumeRole is open to the account,
        // which needs an identity allow that A does not have.
        let c = caller("arn:aws:iam::111122223333:role/A");
        let trust = [policy(
            "trust",
            PolicyKind::Trust,
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/A"},"Action":"sts:TagSession"},
                {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#,
        )];
        let m = plain_mover(&c, Some(&[]));
        let b = "arn:aws:iam::111122223333:role/B";
        assert_eq!(
            decide(&m, "sts", "assumerole", b, "111122223333", Some(&trust)),
            Move::No
        );
    }

    #[test]
    fn r54_graph_conditional_direct_trust_does_not_lend_its_principal_to_another_statement() {
        // A is named by its own ARN only under a condition; the account statement needs an
        // identity allow that A does not have. The move is conditional, never plain.
        let c = caller("arn:aws:iam::111122223333:role/A");
        let trust = [policy(
            "trust",
            PolicyKind::Trust,
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/A"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}},
                {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#,
        )];
        let m = plain_mover(&c, Some(&[]));
        let b = "arn:aws:iam::111122223333:role/B";
        match decide(&m, "sts", "assumerole", b, "111122223333", Some(&trust)) {
            Move::Conditional(via, c) => {
                assert_eq!(via, ["trust#1"]);
                assert!(c.iter().any(|c| c.contains("sts:ExternalId")), "{c:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn r46_graph_move_with_identity_policies_missing_is_unknown() {
        let c = caller("arn:aws:iam::111122223333:role/A");
        let trust = [policy("trust", PolicyKind::Trust, TRUST_ROLE_A)];
        let m = plain_mover(&c, None);
        let b = "arn:aws:iam::111122223333:role/B";
        let got = decide(&m, "sts", "assumerole", b, "111122223333", Some(&trust));
        assert!(matches!(got, Move::Unknown(_)), "{got:?}");
    }

    #[test]
    fn a_deny_wins_over_the_trust_policy() {
        let c = caller("arn:aws:iam::111122223333:role/A");
        let trust = [policy("trust", PolicyKind::Trust, TRUST_ROLE_A)];
        let deny = [policy(
            "id",
            PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sts:*","Resource":"*"}]}"#,
        )];
        let m = plain_mover(&c, Some(&deny));
        let b = "arn:aws:iam::111122223333:role/B";
        assert_eq!(
            decide(&m, "sts", "assumerole", b, "111122223333", Some(&trust)),
            Move::No
        );
    }
}
