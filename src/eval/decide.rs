//! The decision algorithm of spec R46–R62, with its trace and explanations.

use super::context::Ctx;
use super::matcher::{Target, eval_statement, statement_id};
use super::paths::Allow;
use super::{
    CallerKind, CheckResult, Decision, Evaluation, Input, Inputs, KeyFacts, KeyInputs, KeyManager,
    NamedPolicy, Note, Options, Path, Reason, Request, Requirement, Skip, StatementTrace, Step,
    StepName, StepOutcome, Tri, Unknown,
};
use crate::catalog::{self, ActionInfo, CrossAccount};
use crate::policy::Effect;
use std::borrow::Cow;
use std::ops::ControlFlow;

/// Which encryption context a check uses (R87, R88).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EcSource {
    Request,
    Destination,
}

#[derive(Debug, PartialEq)]
pub(super) struct CheckSpec<'r> {
    action_index: usize,
    /// The resource ARN checked (key or alias), `*` for actions without a resource.
    pub(super) resource: &'r str,
    /// The key whose policies and grants apply (none for the alias half and IAM-only actions).
    pub(super) key: Option<&'r str>,
    /// The key the request is about (for facts and context), even for the alias half.
    context_key: Option<&'r str>,
    ec: EcSource,
    same_key: Option<bool>,
    /// R3 (v2): the key this check is about was not given: the check is undetermined, naming
    /// the missing input.
    missing: Option<Input>,
}

/// Evaluates a request: expands it into its authorization checks (R3) and combines their
/// decisions (R62).
pub fn evaluate(inputs: &Inputs, req: &Request, opts: &Options) -> Evaluation {
    let specs = match expand(req) {
        Ok(s) => s,
        Err(msg) => {
            let mut check = CheckResult::new(req.action.clone(), req.key.clone());
            check.unknowns.push(msg);
            return Evaluation {
                decision: Decision::Undetermined,
                checks: vec![check],
            };
        }
    };
    // `UpdateAlias` onto the key it already names asks the same check twice: it runs once.
    let mut checks: Vec<CheckResult> = Vec::with_capacity(specs.len());
    for (i, s) in specs.iter().enumerate() {
        let same = specs
            .iter()
            .take(i)
            .position(|earlier| earlier == s)
            .and_then(|j| checks.get(j).cloned());
        checks.push(same.unwrap_or_else(|| run_check(inputs, req, opts, s)));
    }
    let has = |d: Decision| checks.iter().any(|c| c.decision == d);
    let decision = if has(Decision::ExplicitDeny) {
        Decision::ExplicitDeny
    } else if has(Decision::ImplicitDeny) {
        Decision::ImplicitDeny
    } else if has(Decision::Undetermined) {
        Decision::Undetermined
    } else {
        Decision::Allow
    };
    Evaluation { decision, checks }
}

fn action_named(name: &str) -> Option<usize> {
    let bare = name
        .strip_prefix("kms:")
        .or_else(|| name.strip_prefix("KMS:"))
        .unwrap_or(name);
    catalog::action_index(bare)
}

fn expand(req: &Request) -> Result<Vec<CheckSpec<'_>>, Unknown> {
    let bare_raw =
        crate::arn::split_once_byte(&req.action, b':').map_or(req.action.as_str(), |(_, n)| n);
    let key = Some(req.key.as_str());
    let not_action = |name: &str| Unknown::NotAnAction(name.to_owned());
    let single = |name: &str| -> Result<CheckSpec<'_>, Unknown> {
        let idx = action_named(name).ok_or_else(|| not_action(name))?;
        let info = catalog::action(idx).ok_or_else(|| not_action(name))?;
        Ok(CheckSpec {
            action_index: idx,
            resource: if info.on_key { req.key.as_str() } else { "*" },
            key: if info.on_key { key } else { None },
            context_key: if info.on_key { key } else { None },
            ec: EcSource::Request,
            // A bare `kms:ReEncryptFrom`/`kms:ReEncryptTo` knows the other key only if given.
            same_key: req.destination_key.as_deref().map(|d| d == req.key),
            missing: None,
        })
    };
    let alias_half = |name: &str| -> Result<CheckSpec<'_>, Unknown> {
        let idx = action_named(name).ok_or_else(|| not_action(name))?;
        // R3 (v2): without the alias ARN this check is undetermined, never skipped.
        let (resource, missing) = match req.alias.as_deref() {
            Some(a) => (a, None),
            None => ("(alias not given)", Some(Input::Alias)),
        };
        Ok(CheckSpec {
            action_index: idx,
            resource,
            key: None,
            context_key: key,
            ec: EcSource::Request,
            same_key: None,
            missing,
        })
    };
    let is = |w: &str| bare_raw.eq_ignore_ascii_case(w);
    if is("ReEncrypt") {
        // R3, R88: ReEncrypt checks the source key (ReEncryptFrom) and the destination
        // (ReEncryptTo); R3 (v2): a destination not given leaves ReEncryptTo undetermined.
        let dest = req.destination_key.as_deref();
        let same = dest.map(|d| d == req.key);
        let from = action_named("ReEncryptFrom").ok_or_else(|| not_action("ReEncryptFrom"))?;
        let to = action_named("ReEncryptTo").ok_or_else(|| not_action("ReEncryptTo"))?;
        return Ok(vec![
            CheckSpec {
                action_index: from,
                resource: req.key.as_str(),
                key,
                context_key: key,
                ec: EcSource::Request,
                same_key: same,
                missing: None,
            },
            CheckSpec {
                action_index: to,
                resource: dest.unwrap_or("(destination key not given)"),
                key: dest,
                context_key: dest,
                ec: EcSource::Destination,
                same_key: same,
                missing: dest.is_none().then_some(Input::DestinationKey),
            },
        ]);
    }
    if is("CreateAlias") || is("DeleteAlias") {
        let name = if is("CreateAlias") {
            "CreateAlias"
        } else {
            "DeleteAlias"
        };
        return Ok(vec![alias_half(name)?, single(name)?]);
    }
    if is("UpdateAlias") {
        // R3 (v2): the alias, its current key and its new key; a new key not given leaves
        // that check undetermined.
        let mut s = single("UpdateAlias")?;
        match req.destination_key.as_deref() {
            Some(new) => {
                s.resource = new;
                s.key = Some(new);
                s.context_key = Some(new);
            }
            None => {
                s.resource = "(new target key not given)";
                s.key = None;
                s.context_key = None;
                s.missing = Some(Input::NewTargetKey);
            }
        }
        return Ok(vec![alias_half("UpdateAlias")?, single("UpdateAlias")?, s]);
    }
    Ok(vec![single(&req.action)?])
}

/// What one set of statements of one effect concluded.
#[derive(Debug, Default)]
pub(super) struct SetAllow {
    pub(super) tri: Option<Tri>,
    /// Applying statements (`policy#sid`).
    pub(super) by: Vec<String>,
    /// Residual alternatives when unknown only because of open request keys.
    pub(super) residual: Vec<Vec<Requirement>>,
    pub(super) unknowns: Vec<Unknown>,
    pub(super) only_residual: bool,
    /// Statements whose action and resource cover the request but whose condition fails,
    /// with that condition (`policy#sid`, `StringEquals kms:ViaService`); recorded only when
    /// tracing, for the explanation.
    pub(super) condition_fails: Vec<(String, String)>,
}

impl SetAllow {
    pub(super) fn tri(&self) -> Tri {
        self.tri.unwrap_or(Tri::No)
    }
}

/// From a statement's trace: the first condition that fails when every other element
/// (action, resource, principal) matched — the statement would apply but for it.
fn failing_condition(trace: &StatementTrace) -> Option<String> {
    let mut failed = None;
    for e in &trace.elements {
        match (e.element.strip_prefix("Condition "), e.outcome) {
            (Some(c), Tri::No) if failed.is_none() => failed = Some(c.to_owned()),
            (None, Tri::No | Tri::Unknown) => return None,
            _ => {}
        }
    }
    failed
}

/// The state of one check while its steps run.
pub(super) struct Run<'a> {
    pub(super) opts: &'a Options,
    pub(super) ctx: Ctx<'a>,
    pub(super) target: Target<'a>,
    pub(super) has_boundary: bool,
    pub(super) steps: Vec<Step>,
    pub(super) unknowns: Vec<Unknown>,
    pub(super) only_residual: bool,
}

impl<'a> Run<'a> {
    /// Records a step; the outcome is built only when tracing.
    pub(super) fn step(
        &mut self,
        name: StepName,
        outcome: impl FnOnce() -> StepOutcome,
        statements: Vec<StatementTrace>,
    ) {
        if self.opts.trace {
            self.steps.push(Step {
                name,
                outcome: outcome(),
                statements,
            });
        }
    }

    /// Evaluates every statement of `effect` in `policies`; returns the combined result.
    pub(super) fn scan(
        &mut self,
        policies: &[NamedPolicy],
        effect: Effect,
        traces: &mut Vec<StatementTrace>,
    ) -> SetAllow {
        let mut out = SetAllow {
            tri: Some(Tri::No),
            only_residual: true,
            ..SetAllow::default()
        };
        for p in policies {
            self.ctx.policy_kind = p.doc.kind;
            for st in &p.doc.statements {
                let eff = st.effect.as_ref().map(|e| e.value);
                if eff.is_some_and(|e| e != effect) {
                    continue;
                }
                let e = eval_statement(p, st, &self.ctx, self.target, self.has_boundary);
                // A statement without a readable Effect could be either: unknown for both.
                let applies = if eff.is_none() && e.applies != Tri::No {
                    Tri::Unknown
                } else {
                    e.applies
                };
                if let Some(t) = e.trace {
                    if applies == Tri::No {
                        if let Some(c) = failing_condition(&t) {
                            out.condition_fails.push((statement_id(p, st), c));
                        }
                    }
                    traces.push(*t);
                }
                match applies {
                    Tri::Yes => out.by.push(statement_id(p, st)),
                    Tri::Unknown => {
                        if e.only_residual && !e.residual.is_empty() {
                            out.residual.push(e.residual);
                        } else {
                            out.only_residual = false;
                        }
                        out.unknowns.extend(e.unknowns);
                    }
                    Tri::No => {}
                }
                out.tri = Some(out.tri().or(applies));
            }
        }
        out
    }

    pub(super) fn note_unknown(&mut self, s: &SetAllow) {
        if s.tri() == Tri::Unknown {
            self.unknowns.extend(s.unknowns.iter().cloned());
            if !s.only_residual {
                self.only_residual = false;
            }
        }
    }
}

fn key_facts<'i>(inputs: &'i Inputs, arn: &str) -> Option<Cow<'i, KeyFacts>> {
    match inputs.key(arn) {
        Some(k) => Some(Cow::Borrowed(&k.facts)),
        None => KeyFacts::from_arn(arn).ok().map(Cow::Owned),
    }
}

impl CheckResult {
    /// An undecided result for `action` on `resource`, filled in by the steps.
    pub(super) fn new(action: String, resource: String) -> CheckResult {
        CheckResult {
            action,
            resource,
            decision: Decision::Undetermined,
            path: None,
            deciding: Vec::new(),
            reasons: Vec::new(),
            unknowns: Vec::new(),
            residual: Vec::new(),
            notes: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// Ends the check with a deny on `path`, for `reason`.
    fn deny(&mut self, decision: Decision, path: Path, reason: Reason) {
        self.decision = decision;
        self.path = Some(path);
        self.reasons.push(reason);
    }
}

/// Which policy sets a check consults and what the engine knows of caller and key (R8, R48).
pub(super) struct Scope<'a> {
    pub(super) spec: &'a CheckSpec<'a>,
    pub(super) action: &'static ActionInfo,
    pub(super) action_name: &'static str,
    pub(super) facts: Option<&'a KeyFacts>,
    pub(super) key_inputs: Option<&'a KeyInputs>,
    /// The key policies, when the check consults them and they are given.
    pub(super) kp: Option<&'a [NamedPolicy]>,
    /// The check consults the key policy and it was not given.
    pub(super) kp_missing: bool,
    /// The caller's identity policies (`None`: unknown; empty for service principals).
    pub(super) id: Option<&'a [NamedPolicy]>,
    /// The caller is an IAM principal (identity policies, boundaries and SCPs apply).
    pub(super) identity_side: bool,
    pub(super) service_linked: bool,
    pub(super) scp_in_scope: bool,
    pub(super) rcp_in_scope: bool,
    pub(super) key_manager: Option<KeyManager>,
    pub(super) vpce: Option<&'a NamedPolicy>,
    pub(super) same_account: bool,
    pub(super) is_root: bool,
    /// The check is on an alias (the alias half of an alias operation).
    pub(super) alias_half: bool,
    /// `RetireGrant`/`RevokeGrant`-like checks decided by the grant (R75).
    pub(super) retire: bool,
}

impl<'a> Scope<'a> {
    fn new(
        inputs: &'a Inputs,
        req: &'a Request,
        opts: &Options,
        spec: &'a CheckSpec<'a>,
        action: &'static ActionInfo,
        facts: Option<&'a KeyFacts>,
    ) -> Scope<'a> {
        let caller = &req.caller;
        let key_inputs = spec.key.and_then(|k| inputs.key(k));
        let retire = action.grant_only;
        let kp = if spec.key.is_some() && !retire {
            key_inputs.and_then(|k| k.policies.as_deref())
        } else {
            None
        };
        let identity_side = !matches!(caller.kind, CallerKind::Service | CallerKind::Anonymous);
        // R48 (v2): service-linked roles (path `/aws-service-role/`) are limited by neither
        // SCPs nor RCPs; Q4 switched makes RCPs apply to them.
        let service_linked = caller.kind == CallerKind::AssumedRole
            && caller
                .role_arn
                .as_deref()
                .is_some_and(|r| r.contains(":role/aws-service-role/"));
        let key_manager = key_manager(inputs, kp, facts);
        // R51, R103: the endpoint policy acts on a request made through the endpoint, never on
        // one an integrated service makes on the caller's behalf.
        let source_vpce = super::context::via_service(req).is_none()
            && req
                .context
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("aws:SourceVpce"));
        Scope {
            spec,
            action,
            action_name: catalog::prefixed(spec.action_index).unwrap_or(action.name),
            facts,
            key_inputs,
            kp,
            kp_missing: spec.key.is_some() && !retire && kp.is_none(),
            id: if identity_side {
                inputs.identity.as_deref()
            } else {
                Some(&[])
            },
            identity_side,
            service_linked,
            scp_in_scope: identity_side && inputs.scp.is_some() && !service_linked,
            rcp_in_scope: inputs.rcp.is_some()
                && spec.key.is_some()
                && !retire
                && key_manager != Some(KeyManager::Aws)
                && (!service_linked || opts.open.rcp_applies_to_service_linked_roles),
            key_manager,
            vpce: if source_vpce {
                inputs.vpce.as_ref()
            } else {
                None
            },
            same_account: same_account(facts, caller),
            is_root: caller.kind == CallerKind::Root,
            alias_half: spec.key.is_none() && spec.resource != "*",
            retire,
        }
    }

    /// The key policy is unknown: why, for the explanations.
    pub(super) fn key_policy_input(&self) -> Input {
        Input::KeyPolicy {
            key: self.spec.key.unwrap_or_default().to_owned(),
            why: self.key_inputs.and_then(|k| k.policy_unknown.clone()),
        }
    }
}

/// R8 (v2): same account means same account id in the same partition.
fn same_account(facts: Option<&KeyFacts>, caller: &super::Caller) -> bool {
    match (facts, caller.kind) {
        (_, CallerKind::Service | CallerKind::Anonymous) => false,
        (Some(f), _) => f.account == caller.account && f.partition == caller.partition,
        (None, _) => true,
    }
}

/// R60 (v2): a key whose policy is given and is not the AWS managed template (R120, R121) is
/// customer managed. Only the RCP scope asks, so the shape is looked at only then.
fn key_manager(
    inputs: &Inputs,
    kp: Option<&[NamedPolicy]>,
    facts: Option<&KeyFacts>,
) -> Option<KeyManager> {
    let f = facts?;
    f.key_manager.or_else(|| {
        let customer = inputs.rcp.is_some()
            && kp.is_some_and(|ps| {
                !ps.is_empty()
                    && ps.iter().all(|p| {
                        crate::policy::shapes::label(&p.doc, &f.account)
                            != crate::policy::shapes::Shape::AwsManaged
                    })
            });
        customer.then_some(KeyManager::Customer)
    })
}

/// R87, R88: the encryption context a check sees — the source or destination context of a
/// ReEncrypt, the requested grant's constraint for CreateGrant (Q20 switched: none), and
/// `--context kms:EncryptionContext:K=V` pairs.
fn encryption_context<'r>(
    req: &'r Request,
    opts: &Options,
    action: &ActionInfo,
    ec: EcSource,
) -> Option<Vec<(&'r str, &'r str)>> {
    if action.name == "CreateGrant" {
        if opts.open.ec_from_source_only {
            return None;
        }
        return req.grant_request.as_ref().map(|g| {
            let m = g
                .constraints
                .equals
                .as_ref()
                .or(g.constraints.subset.as_ref());
            m.map(|m| m.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect())
                .unwrap_or_default()
        });
    }
    let src = match ec {
        EcSource::Destination if !opts.open.ec_from_source_only => {
            req.destination_encryption_context.as_ref()
        }
        EcSource::Request | EcSource::Destination => req.encryption_context.as_ref(),
    };
    let mut list: Option<Vec<(&str, &str)>> =
        src.map(|v| v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect());
    for (k, v) in &req.context {
        if k.len() > 22
            && k.get(..22)
                .is_some_and(|p| p.eq_ignore_ascii_case("kms:EncryptionContext:"))
        {
            list.get_or_insert_with(Vec::new)
                .push((k.get(22..).unwrap_or(""), v.as_str()));
        }
    }
    list
}

/// What the deny and gate steps left open, for the last step.
#[derive(Default)]
pub(super) struct Pending {
    /// Why a Deny may apply.
    deny_unknown: Vec<Unknown>,
    /// Residual Deny alternatives: denied if these hold.
    deny_residual: Vec<Vec<Requirement>>,
    /// Gates that cannot be judged.
    gate_unknown: Vec<Unknown>,
    /// Gates open only on request keys nobody gave (residual mode): for each gate, its
    /// alternatives (OR of ANDs). Each gate must pass, so every one of them becomes a
    /// requirement of the answer (R50, R51).
    gate_residual: Vec<Vec<Vec<Requirement>>>,
}

impl Pending {
    /// A gate (an SCP level, the VPC endpoint policy) that cannot be judged: open only on
    /// request keys, its alternatives become requirements of the answer; otherwise it is
    /// unknown. Never dropped: a gate left open must never let an allow through (R50, R51).
    fn open_gate(&mut self, s: SetAllow) {
        if s.only_residual && !s.residual.is_empty() {
            self.gate_residual.push(s.residual);
        } else if s.unknowns.is_empty() {
            self.gate_unknown.push(Unknown::DenyOrGateOpen);
        } else {
            self.gate_unknown.extend(s.unknowns);
        }
    }

    /// `base` (OR of ANDs) AND every open gate's alternatives, each alternative sorted, at
    /// most 16 of them. An empty `base` stays empty: nothing allows.
    fn with_gates(&self, base: Vec<Vec<Requirement>>) -> Vec<Vec<Requirement>> {
        let mut alts = base;
        for gate in &self.gate_residual {
            let mut next = Vec::new();
            for a in &alts {
                for g in gate {
                    let mut x = a.clone();
                    x.extend(g.iter().cloned());
                    x.sort();
                    x.dedup();
                    if !next.contains(&x) {
                        next.push(x);
                    }
                }
            }
            next.truncate(16);
            alts = next;
        }
        alts
    }
}

/// One authorization check (R46): the steps in order; the first that settles ends the check.
fn run_check(inputs: &Inputs, req: &Request, opts: &Options, spec: &CheckSpec<'_>) -> CheckResult {
    let Some(action) = catalog::action(spec.action_index) else {
        let mut r = CheckResult::new(String::new(), spec.resource.to_owned());
        r.unknowns.push(Unknown::NotAnAction(req.action.clone()));
        return r;
    };
    let name = catalog::prefixed(spec.action_index).unwrap_or(action.name);
    let mut result = CheckResult::new(name.to_owned(), spec.resource.to_owned());
    if let Some(input) = &spec.missing {
        result.unknowns.push(Unknown::CheckNeeds {
            action: result.action.clone(),
            input: input.clone(),
        });
        return result;
    }
    let facts = match spec.context_key.map(|k| (k, key_facts(inputs, k))) {
        Some((_, Some(f))) => Some(f),
        Some((k, None)) => {
            result.unknowns.push(Unknown::NotAKeyArn(k.to_owned()));
            return result;
        }
        None => None,
    };
    let caller = &req.caller;
    if caller.role_path_assumed {
        if let Some(r) = &caller.role_arn {
            result.notes.push(Note::RolePathAssumed(r.clone()));
        }
    }
    if other_partition(facts.as_deref(), caller, &mut result).is_break() {
        return result;
    }
    let scope = Scope::new(inputs, req, opts, spec, action, facts.as_deref());
    let mut run = Run {
        opts,
        ctx: Ctx {
            req,
            caller,
            key: facts.as_deref(),
            action,
            action_index: spec.action_index,
            opts,
            ec: encryption_context(req, opts, action, spec.ec),
            reencrypt_same_key: spec.same_key,
            policy_kind: crate::policy::PolicyKind::Key,
        },
        target: Target {
            arn: spec.resource,
            none: spec.resource == "*",
        },
        has_boundary: inputs.boundary.is_some(),
        steps: Vec::new(),
        unknowns: Vec::new(),
        only_residual: true,
    };
    let mut pending = Pending::default();
    if gates(&mut run, inputs, &scope, &mut pending, &mut result).is_break() {
        result.steps = run.steps;
        return result;
    }
    let allow = super::paths::allow_paths(&mut run, inputs, req, &scope, &mut result);
    decide(result, run, pending, allow, &scope)
}

/// Steps 1 to 5 (R46): explicit deny, then the RCP, SCP and VPC endpoint gates, then the
/// actions that never work across accounts. `Break`: the check is decided.
fn gates(
    run: &mut Run<'_>,
    inputs: &Inputs,
    scope: &Scope<'_>,
    pending: &mut Pending,
    result: &mut CheckResult,
) -> ControlFlow<()> {
    explicit_deny(run, inputs, scope, pending, result)?;
    rcp_gate(run, inputs, scope);
    scp_gate(run, inputs, scope, pending, result)?;
    vpce_gate(run, scope, pending, result)?;
    cross_account(run, scope, result)
}

/// R8, R24 (v2): a principal of another partition can never use the key: no statement,
/// grant or delegation matches it.
fn other_partition(
    facts: Option<&KeyFacts>,
    caller: &super::Caller,
    result: &mut CheckResult,
) -> ControlFlow<()> {
    match facts {
        Some(f) if caller.kind != CallerKind::Service && f.partition != caller.partition => {
            result.deny(
                Decision::ImplicitDeny,
                Path::OtherPartition,
                Reason::OtherPartition {
                    caller: caller.partition.to_string(),
                    key: f.partition.clone(),
                },
            );
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    }
}

/// The policy sets an explicit Deny is looked for in (R48, R49), labelled.
fn deny_sets<'a>(inputs: &'a Inputs, scope: &Scope<'a>) -> Vec<(bool, &'a [NamedPolicy])> {
    // `true` marks RCP levels, whose Deny depends on the key manager.
    let mut sets: Vec<(bool, &[NamedPolicy])> = Vec::new();
    if let Some(k) = scope.kp {
        sets.push((false, k));
    }
    if let Some(i) = scope.id {
        sets.push((false, i));
    }
    if scope.identity_side {
        if let Some(b) = &inputs.boundary {
            sets.push((false, std::slice::from_ref(b)));
        }
        sets.push((false, &inputs.session));
    }
    if scope.scp_in_scope {
        if let Some(levels) = &inputs.scp {
            sets.extend(levels.iter().map(|l| (false, l.as_slice())));
        }
    }
    if scope.rcp_in_scope {
        if let Some(levels) = &inputs.rcp {
            sets.extend(levels.iter().map(|l| (true, l.as_slice())));
        }
    }
    if let Some(v) = scope.vpce {
        sets.push((false, std::slice::from_ref(v)));
    }
    sets
}

/// Step 1, R49: an explicit Deny in any policy in scope wins. A Deny that cannot be judged, or
/// in an input not given, is pending: it keeps an allow from being certain.
fn explicit_deny(
    run: &mut Run<'_>,
    inputs: &Inputs,
    scope: &Scope<'_>,
    pending: &mut Pending,
    result: &mut CheckResult,
) -> ControlFlow<()> {
    let mut traces = Vec::new();
    let mut deny_by: Vec<String> = Vec::new();
    for (is_rcp, set) in deny_sets(inputs, scope) {
        let s = run.scan(set, Effect::Deny, &mut traces);
        let mut t = s.tri();
        // An RCP Deny does not reach an AWS managed key; when the key manager is unknown,
        // whether it applies is unknown too.
        if is_rcp && t != Tri::No && scope.key_manager.is_none() {
            t = Tri::Unknown;
            pending.deny_unknown.push(Unknown::RcpDenyNeedsKeyManager);
        }
        match t {
            Tri::Yes => deny_by.extend(s.by),
            Tri::Unknown if s.only_residual && !s.residual.is_empty() => {
                pending.deny_residual.extend(s.residual);
            }
            Tri::Unknown => pending.deny_unknown.extend(s.unknowns),
            Tri::No => {}
        }
    }
    if scope.kp_missing {
        pending
            .deny_unknown
            .push(Unknown::DenyIn(scope.key_policy_input()));
    }
    if scope.id.is_none() && scope.identity_side {
        pending
            .deny_unknown
            .push(Unknown::DenyIn(Input::IdentityPolicies));
    }
    let open = !pending.deny_unknown.is_empty() || !pending.deny_residual.is_empty();
    let outcome = || match (deny_by.is_empty(), open) {
        (false, _) => StepOutcome::DeniedBy(deny_by.clone()),
        (true, true) => StepOutcome::DenyMayApply,
        (true, false) => StepOutcome::NoDeny,
    };
    run.step(StepName::ExplicitDeny, outcome, traces);
    if deny_by.is_empty() {
        return ControlFlow::Continue(());
    }
    result.deny(
        Decision::ExplicitDeny,
        Path::ExplicitDeny,
        Reason::ExplicitDeny {
            action: scope.action_name.to_owned(),
            statements: deny_by.clone(),
        },
    );
    result.deciding = deny_by;
    ControlFlow::Break(())
}

/// Step 2, R50: the RCP gate. `RCPFullAWSAccess` is attached at every level, so RCPs act only
/// through their Denies (step 1); the step only records whether they were in scope (R48).
fn rcp_gate(run: &mut Run<'_>, inputs: &Inputs, scope: &Scope<'_>) {
    let outcome = if inputs.rcp.is_none() {
        StepOutcome::Skipped(Skip::NoRcps)
    } else if scope.rcp_in_scope {
        StepOutcome::RcpPassed
    } else if scope.service_linked && scope.spec.key.is_some() {
        StepOutcome::Skipped(Skip::ServiceLinkedRole)
    } else if scope.key_manager == Some(KeyManager::Aws) {
        StepOutcome::Skipped(Skip::AwsManagedKey)
    } else {
        StepOutcome::Skipped(Skip::NotAKey)
    };
    run.step(StepName::RcpGate, || outcome, Vec::new());
}

/// Step 3, R50: the SCP gate. Every organisation level needs an SCP that allows; a level
/// without one denies even when every other policy allows.
fn scp_gate(
    run: &mut Run<'_>,
    inputs: &Inputs,
    scope: &Scope<'_>,
    pending: &mut Pending,
    result: &mut CheckResult,
) -> ControlFlow<()> {
    let skipped = if !scope.identity_side {
        Some(Skip::ServicePrincipal)
    } else if scope.service_linked && inputs.scp.is_some() {
        Some(Skip::ServiceLinkedRole)
    } else if !scope.scp_in_scope {
        Some(Skip::NoScps)
    } else {
        None
    };
    if let Some(why) = skipped {
        run.step(
            StepName::ScpGate(None),
            || StepOutcome::Skipped(why),
            Vec::new(),
        );
        return ControlFlow::Continue(());
    }
    let levels = inputs.scp.as_deref().unwrap_or(&[]);
    for (i, level) in levels.iter().enumerate() {
        let name = StepName::ScpGate(Some(i + 1));
        allow_gate(
            run,
            level,
            name,
            pending,
            result,
            StepOutcome::NoScpAllows,
            || {
                (
                    Path::ScpGate(i + 1),
                    Reason::ScpGate {
                        level: i + 1,
                        action: scope.action_name.to_owned(),
                    },
                )
            },
        )?;
    }
    ControlFlow::Continue(())
}

/// A gate whose policies must allow (an SCP level, the VPC endpoint policy): passed, open
/// (what it leaves unknown waits for the allow paths), or an implicit deny by `denied`.
fn allow_gate(
    run: &mut Run<'_>,
    policies: &[NamedPolicy],
    name: StepName,
    pending: &mut Pending,
    result: &mut CheckResult,
    no: StepOutcome,
    denied: impl FnOnce() -> (Path, Reason),
) -> ControlFlow<()> {
    let mut tr = Vec::new();
    let s = run.scan(policies, Effect::Allow, &mut tr);
    match s.tri() {
        Tri::Yes => run.step(name, || StepOutcome::AllowedBy(s.by.clone()), tr),
        Tri::Unknown => {
            run.step(name, || StepOutcome::Tri(Tri::Unknown), tr);
            pending.open_gate(s);
        }
        Tri::No => {
            run.step(name, || no, tr);
            let (path, reason) = denied();
            result.deny(Decision::ImplicitDeny, path, reason);
            deny_note(result, &pending.deny_unknown);
            return ControlFlow::Break(());
        }
    }
    ControlFlow::Continue(())
}

/// Step 4, R51: the VPC endpoint gate. A request through an endpoint needs its policy to allow.
fn vpce_gate(
    run: &mut Run<'_>,
    scope: &Scope<'_>,
    pending: &mut Pending,
    result: &mut CheckResult,
) -> ControlFlow<()> {
    let Some(v) = scope.vpce else {
        return ControlFlow::Continue(());
    };
    allow_gate(
        run,
        std::slice::from_ref(v),
        StepName::VpcEndpoint,
        pending,
        result,
        StepOutcome::EndpointDenies,
        || {
            (
                Path::VpcEndpoint,
                Reason::VpcEndpoint {
                    policy: v.name.clone(),
                    action: scope.action_name.to_owned(),
                },
            )
        },
    )
}

/// Step 5, R52: operations that never work on a key in another account.
fn cross_account(
    run: &mut Run<'_>,
    scope: &Scope<'_>,
    result: &mut CheckResult,
) -> ControlFlow<()> {
    if scope.spec.key.is_none()
        || scope.same_account
        || !scope.identity_side
        || scope.action.cross_account != CrossAccount::No
    {
        return ControlFlow::Continue(());
    }
    let action = scope.action_name.to_owned();
    run.step(
        StepName::CrossAccount,
        || StepOutcome::NeverCrossAccount(action),
        Vec::new(),
    );
    result.deny(
        Decision::ImplicitDeny,
        Path::CrossAccountAction,
        Reason::CrossAccountAction {
            action: scope.action_name.to_owned(),
            caller_account: run.ctx.caller.account.to_string(),
            key_account: scope.facts.map_or("", |f| f.account.as_str()).to_owned(),
        },
    );
    ControlFlow::Break(())
}

/// The last step (R46): combine the allow paths with what the deny and gate steps left
/// open — never fail open: an allow with a pending Deny or gate is undetermined.
fn decide(
    mut result: CheckResult,
    run: Run<'_>,
    pending: Pending,
    allow: Allow,
    scope: &Scope<'_>,
) -> CheckResult {
    result.steps = run.steps;
    let settled = pending.deny_unknown.is_empty()
        && pending.gate_unknown.is_empty()
        && pending.gate_residual.is_empty()
        && pending.deny_residual.is_empty();
    match allow.t {
        Tri::Yes if settled => {
            result.decision = Decision::Allow;
            result.deciding = allow.by;
            result.reasons.clear();
            if run.opts.trace {
                if let Some(p) = &allow.path {
                    result.reasons.push(Reason::Allowed(p.clone()));
                }
            }
            result.path = allow.path;
            if let Some(state) = scope.facts.and_then(|f| f.key_state.as_deref()) {
                if state != "Enabled" {
                    // R61: key state never changes the decision.
                    result.notes.push(Note::KeyState(state.to_owned()));
                }
            }
        }
        Tri::No => {
            result.decision = Decision::ImplicitDeny;
            result.path = Some(Path::NoAllow);
            deny_note(&mut result, &pending.deny_unknown);
        }
        _ => {
            result.decision = Decision::Undetermined;
            // Gates open only on request keys are requirements of the answer, not unknowns.
            let only_gate_residual = pending.deny_unknown.is_empty()
                && pending.gate_unknown.is_empty()
                && pending.deny_residual.is_empty();
            if allow.t == Tri::Yes {
                result.path = allow.path;
                result.deciding = allow.by;
                if !only_gate_residual {
                    result.unknowns.push(Unknown::DenyOrGateOpen);
                }
                result.residual = pending.with_gates(vec![Vec::new()]);
            } else {
                result.unknowns.extend(run.unknowns);
                result.residual = pending.with_gates(allow.residual);
            }
            result.unknowns.extend(pending.deny_unknown);
            result.unknowns.extend(pending.gate_unknown);
            for alt in pending.deny_residual {
                result.notes.push(Note::DeniedIf(alt));
            }
            result.unknowns.sort();
            result.unknowns.dedup();
        }
    }
    result
}

fn deny_note(result: &mut CheckResult, deny_unknown: &[Unknown]) {
    if !deny_unknown.is_empty() {
        result
            .notes
            .push(Note::DenyMayAlsoApply(deny_unknown.to_vec()));
    }
}
