//! Statement matching (spec R17–R45): does a statement apply to a request, and how did its
//! `Principal` match the caller.

use super::condition::{eval_condition, resource_match};
use super::context::Ctx;
use super::{
    CallerKind, ElementTrace, NamedPolicy, Open, Requirement, StatementRef, StatementTrace, Tri,
    Unknown,
};
use crate::arn::PrincipalClass;
use crate::policy::{
    ActionClause, BaseOperator, Effect, PolicyDocument, PolicyKind, ResourceClause, Statement,
};
use crate::source::Span;

/// How a resource-policy `Principal` matched the caller (R24, R40). A bit set: one statement
/// may match in several ways.
pub(crate) mod kind {
    /// `"*"`.
    pub(crate) const WILDCARD: u8 = 1;
    /// The exact user or session ARN.
    pub(crate) const DIRECT: u8 = 2;
    /// The role ARN of a session.
    pub(crate) const VIA_ROLE: u8 = 4;
    /// The user ARN of a federated session.
    pub(crate) const VIA_USER: u8 = 8;
    /// The caller's account.
    pub(crate) const ACCOUNT: u8 = 16;
    /// The calling service principal.
    pub(crate) const SERVICE: u8 = 32;
    /// `NotPrincipal` in an `Allow` that does not exclude the caller (legacy, R26).
    pub(crate) const NOT_PRINCIPAL: u8 = 64;
}

/// The result of matching one statement.
#[derive(Debug)]
pub(crate) struct StmtEval {
    pub(crate) applies: Tri,
    /// Principal match kinds (resource policies).
    pub(crate) kinds: u8,
    /// The principal match itself is unknown for some entry.
    pub(crate) principal_unknown: bool,
    /// Why it is unknown.
    pub(crate) unknowns: Vec<Unknown>,
    /// Residual requirements (unknown only because request keys were left open).
    pub(crate) residual: Vec<Requirement>,
    /// The unknowns are all residual.
    pub(crate) only_residual: bool,
    /// Boxed: the trace is big and absent on the fast path, where the result moves a lot.
    pub(crate) trace: Option<Box<StatementTrace>>,
}

/// Where the request's resource sits: a key (key policies use `"*"` for it) or none.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'r> {
    /// The resource ARN (key or alias), or `*` for actions without a resource (R20).
    pub(crate) arn: &'r str,
    /// The action has no resource type.
    pub(crate) none: bool,
}

/// The action a statement is matched against: a KMS action by its catalogue index, or an
/// action of another service (lower case), for the access graph's IAM and STS moves.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ActionRef<'a> {
    /// A KMS action (its index in the catalogue).
    Kms(usize),
    /// `service:name`, both lower case.
    Other {
        /// `iam`, `sts`…
        service: &'a str,
        /// `putrolepolicy`, `assumerole`…
        name: &'a str,
    },
}

/// R17, R18: whether `Action`/`NotAction` covers the action. The one action matcher: the
/// engine, the key rules' pre-check and the graph's IAM moves all call it. Service prefixes
/// match exactly (no wildcard there but the bare `*`); names are globs, case-insensitive.
#[inline]
pub(crate) fn action_covers(a: &ActionClause, act: ActionRef<'_>) -> bool {
    let hit = match act {
        ActionRef::Kms(index) => u32::try_from(index)
            .ok()
            .and_then(|i| 1u128.checked_shl(i))
            .is_some_and(|bit| a.kms_mask & bit != 0),
        ActionRef::Other { service, name } => a.items.iter().any(|i| {
            (i.service == "*" && i.name.is_star())
                || (i.service.eq_ignore_ascii_case(service) && i.name.matches(name))
        }),
    };
    hit != a.negated
}

/// R19–R22: whether `Resource`/`NotResource` of a statement in a policy of `kind` covers
/// `target`. `parts` judges one ARN pattern against `target.arn` (R21, with the policy
/// variables substituted as the caller can). The one resource matcher: the engine, the key
/// rules' pre-check and the graph's IAM moves all call it.
pub(crate) fn resource_covers(
    r: &ResourceClause,
    kind: PolicyKind,
    target: Target<'_>,
    mut parts: impl FnMut(&[crate::pattern::Pattern]) -> Tri,
) -> Tri {
    let key_policy = kind == PolicyKind::Key;
    let mut any = Tri::No;
    for item in &r.items {
        let m = if target.none {
            // R20: no resource type: only a literal `*` matches.
            Tri::from_bool(item.is_star())
        } else if key_policy && item.is_star() {
            // R19: `*` in a key policy is this key.
            Tri::Yes
        } else {
            parts(&item.parts)
        };
        any = any.or(m);
        if any == Tri::Yes {
            break;
        }
    }
    if r.negated { any.negate() } else { any }
}

/// [`resource_covers`] where a policy variable is not substituted: a part holding one may
/// match (unknown).
pub(crate) fn resource_covers_unsubstituted(
    r: &ResourceClause,
    kind: PolicyKind,
    target: Target<'_>,
    short_resource_patterns_match_nothing: bool,
) -> Tri {
    resource_covers(r, kind, target, |parts| {
        super::condition::resource_match_with(
            parts,
            target.arn,
            short_resource_patterns_match_nothing,
            |_, _| Tri::Unknown,
        )
    })
}

/// `policy#Sid` (or `policy#n`), built with one allocation.
pub(crate) fn statement_id(p: &NamedPolicy, st: &Statement) -> String {
    statement_name(p, st, "")
}

/// `policy#Sid`, or `policy#` + `positional` + the statement's position when it has no `Sid`.
fn statement_name(p: &NamedPolicy, st: &Statement, positional: &str) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(p.name.len() + 24);
    s.push_str(&p.name);
    s.push('#');
    match &st.sid {
        Some(sid) if !sid.value.is_empty() => s.push_str(&sid.value),
        _ => {
            let _ = write!(s, "{positional}{}", st.index + 1);
        }
    }
    s
}

pub(crate) fn statement_ref(p: &NamedPolicy, st: &Statement) -> StatementRef {
    StatementRef {
        policy: p.name.clone(),
        kind: p.doc.kind,
        statement: st.label(),
        source: p.doc.source,
        span: st.span,
    }
}

/// Why a statement of a policy whose `Version` is not one AWS accepts cannot be judged (R11):
/// the trace and `report` both say it.
pub(crate) const BAD_VERSION: &str = "the policy's `Version` is neither `2012-10-17` nor `2008-10-17`, and AWS accepts no such policy";

/// Matches one statement. `has_boundary` matters for `NotPrincipal` (R26).
pub(crate) fn eval_statement(
    p: &NamedPolicy,
    st: &Statement,
    ctx: &Ctx<'_>,
    target: Target<'_>,
    has_boundary: bool,
) -> StmtEval {
    let tracing = ctx.opts.trace;
    let mut out = StmtEval {
        applies: Tri::No,
        kinds: 0,
        principal_unknown: false,
        unknowns: Vec::new(),
        residual: Vec::new(),
        only_residual: true,
        trace: None,
    };
    let mut elements: Vec<ElementTrace> = Vec::new();
    // Trace text is built only when tracing.
    let mut el = |name: &str, outcome: Tri, detail: &dyn Fn() -> String, span: Span| {
        if tracing {
            elements.push(ElementTrace {
                element: name.to_owned(),
                outcome,
                detail: detail(),
                span,
            });
        }
    };
    let finish = |mut out: StmtEval, elements: Vec<ElementTrace>, applies: Tri| {
        out.applies = applies;
        if tracing {
            out.trace = Some(Box::new(StatementTrace {
                at: statement_ref(p, st),
                effect: match st.effect.as_ref().map(|e| e.value) {
                    Some(Effect::Allow) => "Allow",
                    Some(Effect::Deny) => "Deny",
                    None => "?",
                },
                applies,
                elements,
            }));
        }
        out
    };
    // R11: AWS accepts no policy whose `Version` is not one of the two dates; what such a
    // document would do cannot be judged, never read as "no Version".
    let bad_version = p.doc.version == crate::policy::Version::Invalid;
    if st.broken.is_some() || bad_version {
        let why = st.broken.clone();
        el(
            "statement",
            Tri::Unknown,
            &|| {
                format!(
                    "cannot be judged: {}",
                    why.as_deref().unwrap_or(BAD_VERSION)
                )
            },
            st.span,
        );
        out.unknowns.push(Unknown::StatementBroken {
            statement: st.label(),
            policy: p.name.clone(),
            why,
        });
        out.only_residual = false;
        out.principal_unknown = true;
        return finish(out, elements, Tri::Unknown);
    }
    let resource_policy = p.doc.kind.has_principals();
    // R13: a Principal in an identity-side policy makes the statement ignored.
    if !resource_policy && st.principal.is_some() {
        el(
            "Principal",
            Tri::No,
            &|| "a principal in this kind of policy: the statement is ignored".to_owned(),
            st.span,
        );
        return finish(out, elements, Tri::No);
    }
    // R12: a statement without Action has no effect; so has one without Resource, except
    // in an SCP, where Resource may be omitted and means all resources.
    let Some(action) = &st.action else {
        el(
            "Action",
            Tri::No,
            &|| "no `Action`: the statement has no effect".to_owned(),
            st.span,
        );
        return finish(out, elements, Tri::No);
    };
    if st.resource.is_none() && p.doc.kind != crate::policy::PolicyKind::Scp {
        el(
            "Resource",
            Tri::No,
            &|| "no `Resource`: the statement has no effect".to_owned(),
            st.span,
        );
        return finish(out, elements, Tri::No);
    }
    eval_rest(
        p,
        st,
        ctx,
        target,
        has_boundary,
        out,
        elements,
        finish,
        action,
    )
}

#[expect(
    clippy::too_many_arguments,
    reason = "threads the read or evaluation context through one call"
)]
fn eval_rest(
    p: &NamedPolicy,
    st: &Statement,
    ctx: &Ctx<'_>,
    target: Target<'_>,
    has_boundary: bool,
    mut out: StmtEval,
    mut elements: Vec<ElementTrace>,
    finish: impl Fn(StmtEval, Vec<ElementTrace>, Tri) -> StmtEval,
    action: &crate::policy::ActionClause,
) -> StmtEval {
    let tracing = ctx.opts.trace;
    // Trace text is built only when tracing: the batch path must not allocate for it.
    let el = |elements: &mut Vec<ElementTrace>,
              name: &dyn Fn() -> String,
              outcome: Tri,
              detail: &dyn Fn() -> String,
              span: Span| {
        if tracing {
            elements.push(ElementTrace {
                element: name(),
                outcome,
                detail: detail(),
                span,
            });
        }
    };
    let action_name = ctx.action.name;
    // Action (R17, R18).
    let mut applies = Tri::Yes;
    let ok = action_covers(action, ActionRef::Kms(ctx.action_index));
    let word = if action.negated {
        "NotAction"
    } else {
        "Action"
    };
    el(
        &mut elements,
        &|| word.to_owned(),
        Tri::from_bool(ok),
        &|| {
            let verb = if ok { "covers" } else { "does not cover" };
            format!("{verb} `kms:{action_name}`")
        },
        action.span,
    );
    if !ok {
        return finish(out, elements, Tri::No);
    }
    // Resource (R19–R22).
    if let Some(r) = &st.resource {
        let mut var_unknown = None;
        let ok = resource_covers(r, p.doc.kind, target, |parts| {
            resource_match(parts, target.arn, ctx, &mut var_unknown)
        });
        let word = if r.negated { "NotResource" } else { "Resource" };
        el(
            &mut elements,
            &|| word.to_owned(),
            ok,
            &|| match ok {
                Tri::Yes => format!("covers `{}`", target.arn),
                Tri::No => format!("does not cover `{}`", target.arn),
                Tri::Unknown => "cannot be judged".into(),
            },
            r.span,
        );
        if ok == Tri::Unknown {
            out.only_residual = false;
            out.unknowns.push(match var_unknown {
                Some(open) => Unknown::Open(open),
                None => Unknown::ElementOpen {
                    element: word,
                    statement: st.label(),
                },
            });
        }
        applies = applies.and(ok);
        if applies == Tri::No {
            return finish(out, elements, Tri::No);
        }
    }
    // Principal (R24–R26).
    if p.doc.kind.has_principals() {
        if let Some(pc) = &st.principal {
            let (kinds, unknown) = principal_kinds(st, ctx, has_boundary);
            let detail = || principal_detail(st, ctx, kinds, unknown);
            out.kinds = kinds;
            out.principal_unknown = unknown;
            let ok = if kinds != 0 {
                Tri::Yes
            } else if unknown {
                Tri::Unknown
            } else {
                Tri::No
            };
            el(
                &mut elements,
                &|| {
                    if pc.negated {
                        "NotPrincipal"
                    } else {
                        "Principal"
                    }
                    .to_owned()
                },
                ok,
                &detail,
                pc.span,
            );
            if ok == Tri::Unknown {
                out.only_residual = false;
                out.unknowns.push(Unknown::PrincipalOpen {
                    statement: st.label(),
                    policy: p.name.clone(),
                    not_principal: pc.negated,
                });
            }
            applies = applies.and(ok);
            if applies == Tri::No {
                return finish(out, elements, Tri::No);
            }
        }
    }
    // Conditions (R27–R39).
    for c in &st.conditions {
        let o = eval_condition(c, ctx, tracing, st.is_deny());
        el(
            &mut elements,
            &|| format!("Condition {} {}", c.operator.raw, c.key),
            o.tri,
            &|| o.detail.clone(),
            c.key_span,
        );
        if o.tri == Tri::Unknown {
            out.note_open_condition(p, st, c, o.unknown);
        }
        applies = applies.and(o.tri);
        if applies == Tri::No && !tracing {
            return finish(out, elements, Tri::No);
        }
    }
    if applies != Tri::Unknown {
        out.residual.clear();
        out.unknowns.clear();
        out.only_residual = true;
    }
    finish(out, elements, applies)
}

impl StmtEval {
    /// A condition that cannot be judged: a requirement of the answer when only a request
    /// key nobody gave leaves it open (residual), otherwise an unknown.
    fn note_open_condition(
        &mut self,
        p: &NamedPolicy,
        st: &Statement,
        c: &crate::policy::Condition,
        unknown: Option<(Open, bool)>,
    ) {
        match unknown {
            Some((_, true)) => self.residual.push(Requirement {
                text: requirement_text(c),
                key: c.key_lower.clone(),
                statement: residual_statement(p, st),
            }),
            Some((why, false)) => {
                self.only_residual = false;
                self.unknowns.push(Unknown::Open(why));
            }
            None => {}
        }
    }
}

/// "`kms:ViaService` is `s3.us-east-1.amazonaws.com`" for a residual. Residuals are built on
/// the key rules' probe path, so the text is pushed into one buffer, not formatted.
fn requirement_text(c: &crate::policy::Condition) -> String {
    let verb = match c.operator.base {
        Some(
            BaseOperator::StringEquals
            | BaseOperator::ArnEquals
            | BaseOperator::NumericEquals
            | BaseOperator::DateEquals
            | BaseOperator::Bool
            | BaseOperator::BinaryEquals,
        ) => "is",
        Some(BaseOperator::StringEqualsIgnoreCase) => "is (ignoring case)",
        Some(BaseOperator::StringLike | BaseOperator::ArnLike) => "matches",
        Some(
            BaseOperator::StringNotEquals
            | BaseOperator::ArnNotEquals
            | BaseOperator::NumericNotEquals
            | BaseOperator::DateNotEquals,
        ) => "is not",
        Some(BaseOperator::StringNotEqualsIgnoreCase) => "is not (ignoring case)",
        Some(BaseOperator::StringNotLike | BaseOperator::ArnNotLike) => "does not match",
        Some(BaseOperator::NumericLessThan | BaseOperator::DateLessThan) => "is less than",
        Some(BaseOperator::NumericLessThanEquals | BaseOperator::DateLessThanEquals) => {
            "is at most"
        }
        Some(BaseOperator::NumericGreaterThan | BaseOperator::DateGreaterThan) => "is greater than",
        Some(BaseOperator::NumericGreaterThanEquals | BaseOperator::DateGreaterThanEquals) => {
            "is at least"
        }
        Some(BaseOperator::IpAddress) => "is in",
        Some(BaseOperator::NotIpAddress) => "is not in",
        Some(BaseOperator::Null) => {
            let absent = c
                .values
                .first()
                .is_some_and(|v| v.text.eq_ignore_ascii_case("true"));
            let state = if absent { "absent" } else { "present" };
            return ["`", c.key.as_str(), "` is ", state].concat();
        }
        None => "satisfies",
    };
    let set = match c.operator.set {
        Some(crate::policy::SetOperator::ForAnyValue) => "some value of ",
        Some(crate::policy::SetOperator::ForAllValues) => "every value of ",
        None => "",
    };
    let if_exists = if c.operator.if_exists {
        " (or is absent)"
    } else {
        ""
    };
    let values: usize = c.values.iter().map(|v| v.text.len() + 4).sum();
    let mut out = String::with_capacity(set.len() + c.key.len() + verb.len() + values + 24);
    out.push_str(set);
    out.push('`');
    out.push_str(&c.key);
    out.push_str("` ");
    out.push_str(verb);
    out.push(' ');
    if c.values.len() != 1 {
        out.push_str("one of ");
    }
    for (i, v) in c.values.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('`');
        out.push_str(&v.text);
        out.push('`');
    }
    out.push_str(if_exists);
    out
}

/// `policy#Sid` (or `policy##n`, the statement's label), as a residual names its statement.
fn residual_statement(p: &NamedPolicy, st: &Statement) -> String {
    statement_name(p, st, "#")
}

/// Principal matching of one statement: the kinds that matched, whether some entry was
/// unknown, and a description.
fn principal_kinds(st: &Statement, ctx: &Ctx<'_>, has_boundary: bool) -> (u8, bool) {
    let Some(pc) = &st.principal else {
        return (0, false);
    };
    let c = ctx.caller;
    if pc.negated {
        // R26: the caller is excluded iff no boundary, account listed, and its identity listed.
        let excluded = not_principal_excludes(pc, ctx, has_boundary);
        let applies = match excluded {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            Tri::Unknown => Tri::Unknown,
        };
        let kinds = if applies == Tri::Yes {
            if st.is_allow() {
                // Q24: a legacy Allow + NotPrincipal (switched: it matches nobody).
                if ctx.opts.open.allow_not_principal_matches_nobody {
                    0
                } else {
                    kind::NOT_PRINCIPAL
                }
            } else {
                kind::WILDCARD
            }
        } else {
            0
        };
        return (kinds, applies == Tri::Unknown);
    }
    let mut kinds = 0u8;
    let mut unknown = false;
    for e in &pc.entries {
        let (k, u) = entry_kind(&e.class, st.is_deny(), c, &ctx.opts.open);
        kinds |= k;
        unknown |= u;
    }
    (kinds, unknown)
}

/// A cheap, conservative pre-check for questions put to a key policy alone (its key has no
/// grants; no boundary, session policy, SCP or RCP is in force) with `identity` as the
/// caller's identity policies (`None`: not known): could some statement of `key_policy` that
/// does not deny let `caller` call `action` (`kms:X` or `X`) on its key?
///
/// `false` proves that the engine's answer is neither Allow nor allowed under conditions,
/// because every allowed path of a KMS request passes an `Allow` statement of the key policy
/// that covers the action and whose `Principal` matches the caller (R46, R53–R59):
/// - a statement that is not an `Allow` cannot allow; one without `Action` has no effect (R12);
/// - one whose `Action` does not cover the action does not apply (R17, R18);
/// - one whose `Principal` entries match the caller in no way, judged by the same
///   [`entry_kind`] the engine uses, does not apply (R24);
/// - one that names the caller only through its account delegates to IAM (R54, R55), which
///   allows nothing when no identity statement could cover the action on `key_arn` (its
///   `Resource` judged as the engine judges it, R19–R21); the account's root user needs no
///   identity allow.
///
/// What cannot be judged cheaply counts as possibly allowing: a broken statement, a missing
/// or negated `Principal`, an entry whose match is unknown, an action the catalogue does not
/// name (`kms:ReEncrypt` expands to two). A property test holds this against the engine.
pub fn key_policy_may_allow(
    key_policy: &PolicyDocument,
    key_arn: &str,
    caller: &super::Caller,
    action: &str,
    identity: Option<&[NamedPolicy]>,
    opts: &super::Options,
) -> bool {
    let bare = action.strip_prefix("kms:").unwrap_or(action);
    let Some(index) = crate::catalog::action_index(bare) else {
        return true;
    };
    if index >= 128 {
        return true;
    }
    let on_key = crate::catalog::action(index).is_some_and(|a| a.on_key);
    // An action on no key (CreateKey, ListKeys, custom key stores) is decided by IAM alone,
    // for the root user with no identity policy at all (R47, R58): no key policy rules it out.
    if !on_key {
        return true;
    }
    let covers = |st: &Statement| {
        st.action
            .as_ref()
            .is_some_and(|a| action_covers(a, ActionRef::Kms(index)))
    };
    // An identity statement's `Resource` could cover the key (R19, R21), judged by the
    // engine's resource matcher with a part holding a variable counted as possibly matching;
    // a statement without `Resource` is not judged here.
    let covers_key = |st: &Statement| {
        !on_key
            || st.resource.as_ref().is_none_or(|r| {
                resource_covers_unsubstituted(
                    r,
                    PolicyKind::Identity,
                    Target {
                        arn: key_arn,
                        none: false,
                    },
                    opts.open.short_resource_patterns_match_nothing,
                ) != Tri::No
            })
    };
    // Whether the caller's identity policies could allow the action: unknown ones could.
    let iam_may_allow = || {
        identity.is_none_or(|list| {
            list.iter().any(|p| {
                p.doc.statements.iter().any(|st| {
                    !st.is_deny() && (st.broken.is_some() || covers(st) && covers_key(st))
                })
            })
        })
    };
    key_policy.statements.iter().any(|st| {
        if st.is_deny() {
            return false;
        }
        if st.broken.is_some() {
            return true;
        }
        if !covers(st) {
            return false;
        }
        let Some(pc) = st.principal.as_ref().filter(|p| !p.negated) else {
            return true;
        };
        let mut kinds = 0u8;
        for e in &pc.entries {
            let (k, unknown) = entry_kind(&e.class, false, caller, &opts.open);
            if unknown {
                return true;
            }
            kinds |= k;
        }
        if kinds & !kind::ACCOUNT != 0 {
            return true;
        }
        kinds & kind::ACCOUNT != 0 && (caller.kind == CallerKind::Root || iam_may_allow())
    })
}

/// How one non-negated principal entry matches the caller: the kind bits, and whether the
/// match cannot be judged (R24). The one principal matcher: statement matching,
/// [`key_policy_may_allow`] and the graph's trust-policy moves all call it.
pub(crate) fn entry_kind(
    class: &PrincipalClass,
    in_deny: bool,
    c: &super::Caller,
    open: &super::OpenDefaults,
) -> (u8, bool) {
    let mut unknown = false;
    let k = match class {
        PrincipalClass::Any => {
            if c.kind == CallerKind::Service && open.star_excludes_services {
                0
            } else {
                kind::WILDCARD
            }
        }
        PrincipalClass::Account { account, .. } => {
            if c.kind != CallerKind::Service
                && c.kind != CallerKind::Anonymous
                && *account == c.account
            {
                kind::ACCOUNT
            } else {
                0
            }
        }
        PrincipalClass::User { arn, account } => match c.kind {
            CallerKind::User if *arn == c.arn => kind::DIRECT,
            CallerKind::FederatedUser => match &c.federating_user {
                Some(u) if u == arn => kind::VIA_USER,
                Some(_) => 0,
                None => {
                    // R24 (v2): the federating user was not given: any user of the caller's
                    // account could be it, so a Deny naming one may apply.
                    if (in_deny && *account == c.account && arn_partition(arn) == c.partition)
                        || arn.ends_with(&format!("/{}", c.name))
                        || arn.ends_with(&format!("user/{}", c.name))
                    {
                        unknown = true;
                    }
                    0
                }
            },
            _ => 0,
        },
        PrincipalClass::Role { arn, .. } => match (&c.kind, &c.role_arn) {
            (CallerKind::AssumedRole, Some(r)) if r == arn => kind::VIA_ROLE,
            _ => {
                // R1 (v2): the role's path was assumed; the same role under another path may
                // be the caller's.
                unknown = same_role_other_path(arn, c);
                0
            }
        },
        PrincipalClass::AssumedRole { arn, .. } => {
            if c.kind == CallerKind::AssumedRole {
                if *arn == c.arn {
                    kind::DIRECT
                } else if c.session_open
                    && arn.rsplit_once('/').is_some_and(|(head, _)| {
                        c.arn.rsplit_once('/').is_some_and(|(h, _)| h == head)
                    })
                {
                    // The request is for any session of the role; this names one session.
                    unknown = true;
                    0
                } else {
                    0
                }
            } else {
                0
            }
        }
        PrincipalClass::FederatedUser { arn, .. } => {
            if c.kind == CallerKind::FederatedUser && *arn == c.arn {
                kind::DIRECT
            } else {
                0
            }
        }
        PrincipalClass::Service(name) => {
            if c.kind == CallerKind::Service && *name == c.arn {
                kind::SERVICE
            } else {
                0
            }
        }
        // A value that is not a principal at all (`arn:aws:iam::account-id:root`) cannot be
        // judged: AWS would have rejected the policy, and whom the author meant is unknown.
        PrincipalClass::Malformed(_) => {
            unknown = true;
            0
        }
        // R24: a wildcard inside a principal ARN matches nothing; in a Deny that silently
        // narrows what the author meant to deny, so it is not judged there either.
        PrincipalClass::PartialWildcard => {
            if in_deny {
                unknown = true;
            }
            0
        }
        PrincipalClass::OtherIam { .. }
        | PrincipalClass::UniqueId
        | PrincipalClass::Federated
        | PrincipalClass::CanonicalUser => 0,
    };
    (k, unknown)
}

/// The partition part of an ARN.
fn arn_partition(arn: &str) -> &str {
    arn.split(':').nth(1).unwrap_or("")
}

/// R1 (v2): `arn` names the caller's role (same partition, account and name) under a path
/// other than the assumed `/`, while the caller's role path is not known.
pub(crate) fn same_role_other_path(arn: &str, c: &super::Caller) -> bool {
    c.kind == CallerKind::AssumedRole
        && c.role_path_assumed
        // The role's name is the ARN's last path segment: an ARN that does not end in
        // `/NAME` is not split (a statement naming twenty roles is asked this per entry).
        && arn
            .strip_suffix(c.name.as_str())
            .is_some_and(|head| head.ends_with('/'))
        && c.role_arn.as_deref() != Some(arn)
        && crate::arn::split_arn(arn).is_some_and(|p| {
            p.partition == c.partition
                && p.service == "iam"
                && p.account == c.account
                && p.resource
                    .strip_prefix("role/")
                    .is_some_and(|rest| rest.rsplit('/').next() == Some(c.name.as_str()))
        })
}

/// The trace text for a principal match (built only when tracing).
fn principal_detail(st: &Statement, ctx: &Ctx<'_>, kinds: u8, unknown: bool) -> String {
    let Some(pc) = &st.principal else {
        return String::new();
    };
    if pc.negated {
        return match (kinds != 0, unknown) {
            (true, _) => "the caller is not excluded by `NotPrincipal`".to_owned(),
            (false, true) => {
                "whether `NotPrincipal` excludes the caller cannot be judged".to_owned()
            }
            (false, false) => "the caller is excluded by `NotPrincipal`".to_owned(),
        };
    }
    if kinds != 0 {
        let named: Vec<String> = pc
            .entries
            .iter()
            .filter(|e| match &e.class {
                PrincipalClass::Any => true,
                PrincipalClass::Account { account, .. } => *account == ctx.caller.account,
                other => {
                    other.account() == Some(ctx.caller.account.as_str())
                        || matches!(other, PrincipalClass::Service(_))
                }
            })
            .map(|e| format!("`{}`", e.value))
            .collect();
        format!("{} matches the caller", named.join(", "))
    } else if unknown {
        "whether it names the caller cannot be judged (an invalid principal in a Deny, a session name, role path or federating user that was not given)".into()
    } else {
        let bad: Vec<&str> = pc
            .entries
            .iter()
            .filter(|e| {
                matches!(
                    e.class,
                    PrincipalClass::Malformed(_)
                        | PrincipalClass::PartialWildcard
                        | PrincipalClass::UniqueId
                )
            })
            .map(|e| e.value.as_str())
            .collect();
        if bad.is_empty() {
            format!("does not name `{}`", ctx.caller.arn)
        } else {
            format!(
                "does not name `{}` (`{}` is not a valid principal and matches nobody)",
                ctx.caller.arn,
                bad.join("`, `")
            )
        }
    }
}

fn not_principal_excludes(
    pc: &crate::policy::PrincipalClause,
    ctx: &Ctx<'_>,
    has_boundary: bool,
) -> Tri {
    let c = ctx.caller;
    let listed = |pred: &dyn Fn(&PrincipalClass) -> bool| pc.entries.iter().any(|e| pred(&e.class));
    if c.kind == CallerKind::Service {
        return Tri::from_bool(listed(
            &|cl| matches!(cl, PrincipalClass::Service(n) if *n == c.arn),
        ));
    }
    if has_boundary {
        return Tri::No;
    }
    let account = listed(
        &|cl| matches!(cl, PrincipalClass::Account { account, .. } if *account == c.account),
    );
    let identity = match c.kind {
        CallerKind::Root => true,
        CallerKind::User => {
            listed(&|cl| matches!(cl, PrincipalClass::User { arn, .. } if *arn == c.arn))
        }
        CallerKind::AssumedRole => {
            let named = listed(&|cl| match cl {
                PrincipalClass::Role { arn, .. } => Some(arn) == c.role_arn.as_ref(),
                PrincipalClass::AssumedRole { arn, .. } => *arn == c.arn,
                _ => false,
            });
            // R1 (v2): a role of the same name under another path may be the caller's.
            if !named
                && account
                && listed(
                    &|cl| matches!(cl, PrincipalClass::Role { arn, .. } if same_role_other_path(arn, c)),
                )
            {
                return Tri::Unknown;
            }
            named
        }
        CallerKind::FederatedUser => {
            listed(&|cl| matches!(cl, PrincipalClass::FederatedUser { arn, .. } if *arn == c.arn))
        }
        CallerKind::Service | CallerKind::Anonymous => false,
    };
    if ctx.opts.open.not_principal_any_match {
        // Q3 switched: any single listed match excludes.
        return Tri::from_bool(account || identity && c.kind != CallerKind::Root);
    }
    Tri::from_bool(account && identity)
}

mod other;
pub(crate) use other::{
    OtherApplies, OtherRequest, action_may_cover_service, kms_actions_covered,
    other_statement_applies, resource_pattern_may_match, trust_principal_names,
};
