//! Step 6 of the decision algorithm (R46): the allow paths — the key policy naming the caller
//! (R53), root delegation + IAM (R54), cross-account key policy + IAM (R55), a service
//! principal's direct call (R59), grants (R56), the identity path of checks without a key
//! resource (R47, R58) and RetireGrant by the grant's terms (R75) — and, when none holds, why
//! each failed (as [`Reason`]s).

use super::decide::{Run, Scope, SetAllow};
use super::grants::{grant_on_key, grant_path, retire_path};
use super::matcher::{StmtEval, eval_statement, kind, statement_id};
use super::{
    CallerKind, CheckResult, IdentitySays, Inputs, NamedPolicy, Path, Reason, Request, Requirement,
    StatementTrace, StepName, StepOutcome, Tri, Unknown,
};
use crate::grant::Grant;
use crate::policy::{Effect, Statement};

/// Where the allow paths stand.
pub(super) struct Allow {
    pub(super) t: Tri,
    pub(super) path: Option<Path>,
    pub(super) by: Vec<String>,
    /// Residual alternatives (OR of ANDs) under which an open path would allow.
    pub(super) residual: Vec<Vec<Requirement>>,
    /// The hashes of `residual`'s alternatives, once it is long enough that looking through
    /// it for each new one would cost: a policy of thousands of open statements makes as
    /// many alternatives, and a linear search for each made one evaluation quadratic.
    seen: Option<Seen>,
}

/// Residual alternatives' positions by their hash.
type Seen = std::collections::HashMap<u64, Vec<usize>, foldhash::fast::FixedState>;

/// How many residual alternatives are looked through one by one before they are hashed.
const LINEAR_ALTERNATIVES: usize = 16;

impl Allow {
    fn new() -> Allow {
        Allow {
            t: Tri::No,
            path: None,
            by: Vec::new(),
            residual: Vec::new(),
            seen: None,
        }
    }

    /// Records one path's result: the first path that holds names the answer; an open one adds
    /// its residual alternatives, its statement's requirements AND each open other set's.
    fn note(
        &mut self,
        t: Tri,
        path: Path,
        by: impl FnOnce() -> Vec<String>,
        reqs: &[Requirement],
        others: &[&SetAllow],
    ) {
        if t == Tri::Yes && self.t != Tri::Yes {
            self.path = Some(path);
            self.by = by();
        }
        // Once a path holds, the residual is never read (an allowed answer has none, and an
        // answer left open by a Deny or a gate keeps only theirs): building it would only
        // cost, a policy's worth of alternatives for every caller asked.
        if t == Tri::Unknown && self.t != Tri::Yes {
            self.combine(reqs, others);
        }
        self.t = self.t.or(t);
    }

    fn combine(&mut self, stmt: &[Requirement], others: &[&SetAllow]) {
        let mut alts: Vec<Vec<Requirement>> = vec![stmt.to_vec()];
        for o in others.iter().filter(|o| o.tri() == Tri::Unknown) {
            let mut next = Vec::new();
            for a in &alts {
                for r in &o.residual {
                    let mut x = a.clone();
                    x.extend(r.iter().cloned());
                    next.push(x);
                }
            }
            alts = next;
        }
        for mut a in alts.into_iter().take(16) {
            a.sort();
            a.dedup();
            if self.is_new(&a) {
                self.residual.push(a);
            }
        }
    }

    /// Whether `alt` is not yet among the residual alternatives (and, once they are hashed,
    /// records where the next one pushed will be).
    fn is_new(&mut self, alt: &[Requirement]) -> bool {
        use std::hash::BuildHasher;
        if self.seen.is_none() && self.residual.len() < LINEAR_ALTERNATIVES {
            return !self.residual.iter().any(|r| r.as_slice() == alt);
        }
        // A fixed hasher: the map is never iterated, only asked.
        let hasher = foldhash::fast::FixedState::default();
        let residual = &self.residual;
        let seen = self.seen.get_or_insert_with(|| {
            let mut m: Seen = Seen::default();
            for (i, r) in residual.iter().enumerate() {
                m.entry(hasher.hash_one(r)).or_default().push(i);
            }
            m
        });
        // Alternatives under one hash are compared in full: two never merge on a collision.
        let same = seen.entry(hasher.hash_one(alt)).or_default();
        if same
            .iter()
            .any(|&i| residual.get(i).is_some_and(|r| r.as_slice() == alt))
        {
            return false;
        }
        same.push(residual.len());
        true
    }
}

/// The IAM side of the caller: identity policies, permissions boundary and session policies
/// (R54, R57), each scanned once for Allow statements, with their traces.
pub(super) struct Iam {
    pub(super) id: SetAllow,
    pub(super) pb: Option<SetAllow>,
    pub(super) sp: Option<SetAllow>,
    tr_id: Vec<StatementTrace>,
    tr_pb: Vec<StatementTrace>,
    tr_sp: Vec<StatementTrace>,
}

impl Iam {
    fn scan(run: &mut Run<'_>, inputs: &Inputs, scope: &Scope<'_>) -> Iam {
        let mut tr_id = Vec::new();
        let id = match scope.id {
            Some(i) => run.scan(i, Effect::Allow, &mut tr_id),
            None => SetAllow {
                tri: Some(Tri::Unknown),
                unknowns: vec![Unknown::AllowIn(super::Input::IdentityPolicies)],
                ..SetAllow::default()
            },
        };
        let mut tr_pb = Vec::new();
        let pb = match &inputs.boundary {
            Some(b) if scope.identity_side => {
                Some(run.scan(std::slice::from_ref(b), Effect::Allow, &mut tr_pb))
            }
            _ => None,
        };
        let mut tr_sp = Vec::new();
        let sp = if scope.identity_side && !inputs.session.is_empty() {
            Some(run.scan(&inputs.session, Effect::Allow, &mut tr_sp))
        } else {
            None
        };
        Iam {
            id,
            pb,
            sp,
            tr_id,
            tr_pb,
            tr_sp,
        }
    }

    pub(super) fn pb_t(&self) -> Tri {
        self.pb.as_ref().map_or(Tri::Yes, SetAllow::tri)
    }

    pub(super) fn sp_t(&self) -> Tri {
        self.sp.as_ref().map_or(Tri::Yes, SetAllow::tri)
    }

    /// R57: the boundary and the session policies limit, never grant.
    pub(super) fn limits(&self) -> Tri {
        self.pb_t().and(self.sp_t())
    }

    /// The limiting sets, for residual alternatives; with the identity set first if `with_id`.
    fn others(&self, with_id: bool) -> Vec<&SetAllow> {
        let mut v: Vec<&SetAllow> = Vec::new();
        if with_id {
            v.push(&self.id);
        }
        v.extend(self.pb.as_ref());
        v.extend(self.sp.as_ref());
        v
    }

    /// What the identity policies say, for the explanations.
    pub(super) fn says(&self) -> Option<IdentitySays> {
        match self.id.tri() {
            Tri::Unknown => Some(IdentitySays::Open),
            _ if !self.id.condition_fails.is_empty() => Some(IdentitySays::ConditionFails(
                self.id.condition_fails.clone(),
            )),
            _ => None,
        }
    }
}

/// Step 6 (R46): every allow path, with the reasons each failed when none holds.
pub(super) fn allow_paths(
    run: &mut Run<'_>,
    inputs: &Inputs,
    req: &Request,
    scope: &Scope<'_>,
    result: &mut CheckResult,
) -> Allow {
    let mut iam = Iam::scan(run, inputs, scope);
    let mut allow = Allow::new();
    if scope.retire {
        retire_step(run, inputs, req, scope, &mut iam, &mut allow, result);
    } else if scope.spec.key.is_none() || scope.alias_half {
        identity_path(run, inputs, scope, &mut iam, &mut allow, result);
    } else {
        key_paths(run, inputs, scope, &mut iam, &mut allow, result);
    }
    allow
}

/// R75: who may retire a grant is decided by the grant; R75 (v2): its IAM items go through
/// IAM, limited by the boundary and session policies as R54 is.
fn retire_step(
    run: &mut Run<'_>,
    inputs: &Inputs,
    req: &Request,
    scope: &Scope<'_>,
    iam: &mut Iam,
    allow: &mut Allow,
    result: &mut CheckResult,
) {
    let iam_side = iam.id.tri().and(iam.limits());
    let (t, by, why) = retire_path(inputs, req, run, scope.facts, iam_side);
    allow.t = t;
    if t == Tri::Yes {
        allow.path = Some(Path::RetireByGrant);
        allow.by = by;
    } else {
        result.reasons.extend(why);
    }
    if t == Tri::Unknown && iam.id.tri() == Tri::Unknown {
        // The grant's IAM items are open because the identity policies are: say so.
        run.note_unknown(&iam.id);
    }
    run.step(
        StepName::RetireGrant,
        || StepOutcome::Tri(t),
        std::mem::take(&mut iam.tr_id),
    );
}

/// R47: no key policy in play (an alias, or an action without a resource): the identity path
/// alone. R58 (v2): the account's root user has every permission in its own account and needs
/// no identity policy (SCPs and explicit Denies were applied before).
fn identity_path(
    run: &mut Run<'_>,
    inputs: &Inputs,
    scope: &Scope<'_>,
    iam: &mut Iam,
    allow: &mut Allow,
    result: &mut CheckResult,
) {
    let resource = scope.spec.resource;
    if scope.alias_half && resource.contains(":alias/aws/") {
        // R47: aliases under alias/aws/ are reserved.
        result.reasons.push(Reason::ReservedAlias);
        run.step(
            StepName::IdentityPath,
            || StepOutcome::ReservedAlias,
            std::mem::take(&mut iam.tr_id),
        );
        return;
    }
    let root_in_own_account = scope.is_root && root_owns_resource(resource, run.ctx.caller);
    let t = if root_in_own_account {
        Tri::Yes
    } else if scope.identity_side {
        iam.id.tri().and(iam.limits())
    } else {
        Tri::No
    };
    allow.t = t;
    if root_in_own_account {
        allow.path = Some(Path::RootUser);
    } else if t == Tri::Yes {
        allow.path = Some(Path::IdentityOnly);
        allow.by = iam.id.by.clone();
    } else if t == Tri::Unknown && iam.id.tri() == Tri::Unknown {
        allow.combine(&[], &[&iam.id]);
    }
    if iam.id.tri() == Tri::No {
        result.reasons.push(Reason::IamOnly {
            action: scope.action_name.to_owned(),
            resource: resource.to_owned(),
            condition_fails: iam.id.condition_fails.clone(),
        });
    }
    boundary_reasons(result, iam, scope, inputs);
    run.step(
        StepName::IdentityPath,
        || StepOutcome::Tri(t),
        std::mem::take(&mut iam.tr_id),
    );
}

/// What the key-policy statements say about the caller, for the explanation.
pub(super) struct Named {
    /// Whether a statement that names the account (delegation, R54) applies.
    pub(super) delegation: Tri,
    /// Some statement names the caller (or its role, or the federating user).
    pub(super) names_caller: bool,
    /// Statements that name the caller but do not apply.
    pub(super) not_applying: Vec<String>,
}

/// The key-policy paths (R53–R55, R59), the grants (R56) and the explanation.
fn key_paths(
    run: &mut Run<'_>,
    inputs: &Inputs,
    scope: &Scope<'_>,
    iam: &mut Iam,
    allow: &mut Allow,
    result: &mut CheckResult,
) {
    let (kp_evals, tr_kp) = key_policy_allows(run, scope.kp);
    let mut named = Named {
        delegation: Tri::No,
        names_caller: false,
        not_applying: Vec::new(),
    };
    for ((p, st), e) in &kp_evals {
        key_policy_statement(run, scope, iam, allow, &mut named, (p, st), e);
    }
    let n_kp = kp_evals.len();
    let given = scope.kp.is_some();
    run.step(
        StepName::KeyPolicyAllow,
        || {
            if given {
                StepOutcome::StatementsConsidered(n_kp)
            } else {
                StepOutcome::KeyPolicyNotGiven
            }
        },
        tr_kp,
    );
    trace_iam(run, scope, iam);
    // Without the key policy, any key-policy path may hold: not a deny, an unknown.
    if scope.kp_missing {
        allow.t = allow.t.or(Tri::Unknown);
        run.only_residual = false;
        run.unknowns
            .push(Unknown::AllowIn(scope.key_policy_input()));
    }
    let grants = grants_step(run, scope, iam, allow);
    if allow.t != Tri::Yes && run.opts.trace {
        super::explain::explain_deny(result, scope, run.ctx.caller, iam, &named, allow.t, grants);
        boundary_reasons(result, iam, scope, inputs);
    }
    if iam.id.tri() == Tri::Unknown {
        run.note_unknown(&iam.id);
    }
}

type KpEval<'p> = ((&'p NamedPolicy, &'p Statement), StmtEval);

/// Matches every key-policy statement that may allow (a statement without a readable Effect
/// may: it is unknown).
fn key_policy_allows<'p>(
    run: &mut Run<'_>,
    kp: Option<&'p [NamedPolicy]>,
) -> (Vec<KpEval<'p>>, Vec<StatementTrace>) {
    let mut evals = Vec::new();
    let mut traces = Vec::new();
    for p in kp.unwrap_or(&[]) {
        run.ctx.policy_kind = p.doc.kind;
        for st in &p.doc.statements {
            if st.effect.as_ref().is_some_and(|e| e.value != Effect::Allow) {
                continue;
            }
            let mut e = eval_statement(p, st, &run.ctx, run.target, run.has_boundary);
            if st.effect.is_none() && e.applies != Tri::No {
                e.applies = Tri::Unknown;
            }
            if let Some(t) = e.trace.take() {
                traces.push(*t);
            }
            evals.push(((p, &**st), e));
        }
    }
    (evals, traces)
}

/// One key-policy Allow statement: which path it may open for this caller.
fn key_policy_statement(
    run: &mut Run<'_>,
    scope: &Scope<'_>,
    iam: &Iam,
    allow: &mut Allow,
    named: &mut Named,
    (p, st): (&NamedPolicy, &Statement),
    e: &StmtEval,
) {
    let k = e.kinds;
    if k & (kind::DIRECT | kind::VIA_ROLE | kind::VIA_USER) != 0 {
        named.names_caller = true;
        if e.applies == Tri::No {
            named.not_applying.push(st.label());
        }
    }
    // A statement that names nobody here, or that names the caller and does not apply,
    // opens no path.
    if !e.principal_unknown && (k == 0 || e.applies == Tri::No) {
        return;
    }
    let id = || statement_id(p, st);
    if scope.same_account && scope.identity_side {
        same_account_paths(run, scope, iam, allow, named, e, &id);
    } else if scope.identity_side {
        cross_account_path(run, scope, iam, allow, named, e, &id);
    } else if k & (kind::SERVICE | kind::WILDCARD) != 0 || e.principal_unknown {
        // R59: a service principal's direct call.
        allow.note(
            e.applies,
            Path::ServicePrincipal,
            || vec![id()],
            &e.residual,
            &[],
        );
    }
    if k == 0 && e.principal_unknown && e.applies != Tri::No {
        // Whom the statement names cannot be judged: it may open any path.
        allow.note(Tri::Unknown, Path::NoAllow, Vec::new, &[], &[]);
    }
    if e.applies == Tri::Unknown && !e.only_residual {
        run.unknowns.extend(e.unknowns.iter().cloned());
        run.only_residual = false;
    }
}

/// The caller's own account: the key policy names the caller (R53) or delegates to the
/// account for IAM to decide (R54). R57: the boundary and session policies block role and
/// federated-user matches, not exact user or session ARNs or `"*"` (Q2 switched: they block
/// exact session ARNs too).
fn same_account_paths(
    run: &Run<'_>,
    scope: &Scope<'_>,
    iam: &Iam,
    allow: &mut Allow,
    named: &mut Named,
    e: &StmtEval,
    id: &dyn Fn() -> String,
) {
    let k = e.kinds;
    let caller_kind = run.ctx.caller.kind;
    let q2 = run.opts.open.session_policy_blocks_exact_session;
    let unblocked = k & (kind::WILDCARD | kind::NOT_PRINCIPAL) != 0
        || k & kind::DIRECT != 0 && !(caller_kind != CallerKind::User && q2 && iam.sp.is_some())
        || (k & kind::ACCOUNT != 0 && scope.is_root);
    let blocked = k & (kind::VIA_ROLE | kind::VIA_USER) != 0
        || (k & kind::DIRECT != 0 && caller_kind != CallerKind::User && q2);
    if unblocked {
        allow.note(
            e.applies,
            Path::KeyPolicyNamesCaller,
            || vec![id()],
            &e.residual,
            &[],
        );
    } else if blocked {
        let t = e.applies.and(iam.limits());
        let others = iam.others(false);
        allow.note(
            t,
            Path::KeyPolicyNamesCaller,
            || vec![id()],
            &e.residual,
            &others,
        );
    }
    if k & kind::ACCOUNT != 0 && !scope.is_root {
        named.delegation = named.delegation.or(e.applies);
        let t = e.applies.and(iam.id.tri()).and(iam.limits());
        let by = || {
            let mut by = vec![id()];
            by.extend(iam.id.by.iter().cloned());
            by
        };
        let others = iam.others(true);
        allow.note(t, Path::RootDelegationIam, by, &e.residual, &others);
    }
}

/// R55: another account's key: the key policy names the caller's account or the caller, and
/// the caller's IAM allows too. Q25: an external root user needs no identity allow (switched:
/// it is not allowed).
fn cross_account_path(
    run: &Run<'_>,
    scope: &Scope<'_>,
    iam: &Iam,
    allow: &mut Allow,
    named: &mut Named,
    e: &StmtEval,
    id: &dyn Fn() -> String,
) {
    let k = e.kinds;
    let any = kind::ACCOUNT
        | kind::DIRECT
        | kind::VIA_ROLE
        | kind::VIA_USER
        | kind::WILDCARD
        | kind::NOT_PRINCIPAL;
    if k & any == 0 && !e.principal_unknown {
        return;
    }
    if k & kind::ACCOUNT != 0 {
        named.delegation = named.delegation.or(e.applies);
    }
    let idt = if scope.is_root {
        Tri::from_bool(!run.opts.open.external_root_denied)
    } else {
        iam.id.tri()
    };
    let t = e.applies.and(idt).and(iam.limits());
    let by = || {
        let mut by = vec![id()];
        if !scope.is_root {
            by.extend(iam.id.by.iter().cloned());
        }
        by
    };
    let others = iam.others(!scope.is_root);
    allow.note(t, Path::CrossAccountKeyPolicyIam, by, &e.residual, &others);
}

/// Records the identity, boundary and session-policy scans in the trace.
fn trace_iam(run: &mut Run<'_>, scope: &Scope<'_>, iam: &mut Iam) {
    let id = (!iam.tr_id.is_empty() || scope.id.is_some()).then(|| iam.id.tri());
    let pb = iam.pb.is_some().then(|| iam.pb_t());
    let sp = iam.sp.is_some().then(|| iam.sp_t());
    for (name, tri, trace) in [
        (StepName::IdentityAllow, id, &mut iam.tr_id),
        (StepName::Boundary, pb, &mut iam.tr_pb),
        (StepName::SessionPolicies, sp, &mut iam.tr_sp),
    ] {
        if let Some(t) = tri {
            run.step(name, || StepOutcome::Tri(t), std::mem::take(trace));
        }
    }
}

/// What the grants step found, for the explanation.
pub(super) struct GrantsSeen {
    /// Some grant names the caller.
    pub(super) for_caller: bool,
    /// Why each grant that names the caller does not allow.
    pub(super) reasons: Vec<Reason>,
}

/// R56, R69–R74: the key's grants.
fn grants_step(run: &mut Run<'_>, scope: &Scope<'_>, iam: &Iam, allow: &mut Allow) -> GrantsSeen {
    let given: Option<&[Grant]> = scope.key_inputs.and_then(|k| k.grants.as_deref());
    let mut seen = GrantsSeen {
        for_caller: false,
        reasons: Vec::new(),
    };
    if let Some(f) = scope.facts {
        for g in given.unwrap_or(&[]) {
            let on_key = grant_on_key(g, f);
            if on_key == Tri::No {
                continue;
            }
            let (t, for_caller, why) = grant_path(g, run, scope, iam);
            let (t, unknown) = if on_key == Tri::Unknown && t != Tri::No {
                let grant = g.label();
                (Tri::Unknown, Some(Unknown::GrantKeyAlias { grant }))
            } else {
                let open = (t == Tri::Unknown).then(|| Unknown::GrantOpen { grant: g.label() });
                (t, open)
            };
            seen.for_caller |= for_caller;
            if t == Tri::Yes && allow.t != Tri::Yes {
                allow.path = Some(Path::Grant);
                allow.by = vec![format!("grant {}", g.label())];
            }
            allow.t = allow.t.or(t);
            if let Some(u) = unknown {
                run.unknowns.push(u.clone());
                run.only_residual = false;
                if for_caller {
                    seen.reasons.push(Reason::Grant {
                        grant: g.label(),
                        miss: match u {
                            Unknown::GrantKeyAlias { .. } => super::GrantMiss::KeyAlias,
                            _ => super::GrantMiss::Open,
                        },
                    });
                }
            } else if for_caller && t != Tri::Yes {
                seen.reasons.extend(why);
            }
        }
    }
    let n = given.map(<[Grant]>::len);
    run.step(
        StepName::Grants,
        || StepOutcome::GrantsConsidered(n),
        Vec::new(),
    );
    seen
}

/// R57: the permissions boundary and session policies limit the IAM path and the key-policy
/// statements that name the role.
fn boundary_reasons(result: &mut CheckResult, iam: &Iam, scope: &Scope<'_>, inputs: &Inputs) {
    if iam.pb.as_ref().is_some_and(|p| p.tri() == Tri::No) {
        result.reasons.push(Reason::Boundary {
            policy: inputs
                .boundary
                .as_ref()
                .map_or(String::new(), |b| b.name.clone()),
            action: scope.action_name.to_owned(),
        });
    }
    if iam.sp.as_ref().is_some_and(|s| s.tri() == Tri::No) {
        result.reasons.push(Reason::SessionPolicies {
            action: scope.action_name.to_owned(),
        });
    }
}

/// R58: is the resource of an IAM-only check (`*`, or an alias ARN) in the caller's own
/// account? An alias in another account is not the root user's to manage.
fn root_owns_resource(resource: &str, caller: &super::Caller) -> bool {
    if resource == "*" {
        return true;
    }
    crate::arn::split_arn(resource)
        .is_some_and(|p| p.account == caller.account && p.partition == caller.partition)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alt(statement: usize) -> Vec<Requirement> {
        vec![Requirement {
            text: "`kms:EncryptionContext:k` is `v`".into(),
            key: "kms:encryptioncontext:k".into(),
            statement: format!("key policy#O{statement}"),
        }]
    }

    /// R46 step 6: the residual of open paths holds each alternative once, in the order the
    /// statements gave them, however many there are (past the first sixteen they are found by
    /// hash: a policy of thousands of open statements made each evaluation quadratic).
    #[test]
    fn r46_residual_alternatives_are_kept_once_each_in_order() {
        let mut allow = Allow::new();
        for round in 0..2 {
            for i in 0..40 {
                allow.note(Tri::Unknown, Path::ServicePrincipal, Vec::new, &alt(i), &[]);
            }
            assert_eq!(allow.residual.len(), 40, "round {round}");
        }
        let expected: Vec<Vec<Requirement>> = (0..40).map(alt).collect();
        assert_eq!(allow.residual, expected);
        // Alternatives that differ in any part are kept apart.
        let mut other = alt(3);
        if let Some(r) = other.first_mut() {
            r.text.push('!');
        }
        allow.note(Tri::Unknown, Path::ServicePrincipal, Vec::new, &other, &[]);
        assert_eq!(allow.residual.len(), 41);
    }

    /// Once a path holds, the open ones after it add nothing: an allowed answer reads no
    /// residual.
    #[test]
    fn r46_an_open_path_after_one_that_holds_adds_no_alternative() {
        let mut allow = Allow::new();
        allow.note(Tri::Unknown, Path::ServicePrincipal, Vec::new, &alt(0), &[]);
        allow.note(Tri::Yes, Path::ServicePrincipal, Vec::new, &[], &[]);
        allow.note(Tri::Unknown, Path::ServicePrincipal, Vec::new, &alt(1), &[]);
        assert_eq!(allow.t, Tri::Yes);
        assert_eq!(allow.residual, vec![alt(0)]);
    }
}
