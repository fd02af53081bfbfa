//! The decision algorithm of spec R46–R62, with its trace and explanations.

use super::context::Ctx;
use super::matcher::{Target, eval_statement, kind, statement_id};
use super::{
    CallerKind, CheckResult, Decision, Evaluation, Inputs, KeyFacts, KeyInputs, KeyManager,
    NamedPolicy, Options, Request, Requirement, StatementTrace, Step, Tri,
};
use crate::arn::{PrincipalClass, classify_aws_principal};
use crate::catalog::{self, ActionInfo, CrossAccount};
use crate::grant::Grant;
use crate::policy::Effect;

/// Which encryption context a check uses (R87, R88).
#[derive(Debug, Clone, Copy)]
enum EcSource {
    Request,
    Destination,
}

#[derive(Debug)]
struct CheckSpec<'r> {
    action_index: usize,
    /// The resource ARN checked (key or alias), `*` for actions without a resource.
    resource: &'r str,
    /// The key whose policies and grants apply (none for the alias half and IAM-only actions).
    key: Option<&'r str>,
    /// The key the request is about (for facts and context), even for the alias half.
    context_key: Option<&'r str>,
    ec: EcSource,
    same_key: Option<bool>,
    /// R3 (v2): the key this check is about was not given: the check is undetermined, naming
    /// the missing input.
    missing: Option<&'static str>,
}

/// Evaluates a request: expands it into its authorization checks (R3) and combines their
/// decisions (R62).
pub fn evaluate(inputs: &Inputs, req: &Request, opts: &Options) -> Evaluation {
    let specs = match expand(req) {
        Ok(s) => s,
        Err(msg) => {
            return Evaluation {
                decision: Decision::Undetermined,
                checks: vec![CheckResult {
                    action: req.action.clone(),
                    resource: req.key.clone(),
                    decision: Decision::Undetermined,
                    path: None,
                    deciding: Vec::new(),
                    reasons: Vec::new(),
                    unknowns: vec![msg],
                    residual: Vec::new(),
                    notes: Vec::new(),
                    steps: Vec::new(),
                }],
            };
        }
    };
    let checks: Vec<CheckResult> = specs
        .iter()
        .map(|s| run_check(inputs, req, opts, s))
        .collect();
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

fn expand(req: &Request) -> Result<Vec<CheckSpec<'_>>, String> {
    let bare_raw = req
        .action
        .split_once(':')
        .map_or(req.action.as_str(), |(_, n)| n);
    let key = Some(req.key.as_str());
    let single = |name: &str| -> Result<CheckSpec<'_>, String> {
        let idx = action_named(name).ok_or_else(|| format!("`{name}` is not a KMS action"))?;
        let info = catalog::action(idx).ok_or_else(|| format!("`{name}` is not a KMS action"))?;
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
    let alias_half = |name: &str| -> Result<CheckSpec<'_>, String> {
        let idx = action_named(name).ok_or_else(|| format!("`{name}` is not a KMS action"))?;
        // R3 (v2): without the alias ARN this check is undetermined, never skipped.
        let (resource, missing) = match req.alias.as_deref() {
            Some(a) => (a, None),
            None => (
                "(alias not given)",
                Some(
                    "this check is on the alias, which was not given (`--alias arn:aws:kms:<region>:<account>:alias/<name>`)",
                ),
            ),
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
        let from = action_named("ReEncryptFrom").ok_or("catalogue lacks ReEncryptFrom")?;
        let to = action_named("ReEncryptTo").ok_or("catalogue lacks ReEncryptTo")?;
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
                missing: dest.is_none().then_some(
                    "the destination key was not given (`--destination-key`): whether it allows `kms:ReEncryptTo` cannot be judged",
                ),
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
                s.missing = Some(
                    "the alias's new target key was not given (`--destination-key`): whether it allows `kms:UpdateAlias` cannot be judged",
                );
            }
        }
        return Ok(vec![alias_half("UpdateAlias")?, single("UpdateAlias")?, s]);
    }
    Ok(vec![single(&req.action)?])
}

/// What one set of Allow statements concluded.
#[derive(Debug, Default)]
struct SetAllow {
    tri: Option<Tri>,
    /// Allowing statements (`policy#sid`).
    by: Vec<String>,
    /// Residual alternatives when unknown only because of open request keys.
    residual: Vec<Vec<Requirement>>,
    unknowns: Vec<String>,
    only_residual: bool,
    /// Statements whose action and resource cover the request but whose condition fails,
    /// with that condition (`policy#sid`, `StringEquals kms:ViaService`); recorded only when
    /// tracing, for the explanation.
    condition_fails: Vec<(String, String)>,
}

impl SetAllow {
    fn tri(&self) -> Tri {
        self.tri.unwrap_or(Tri::No)
    }

    /// "statement `p#s` allows it, but its condition `X` fails" for each such statement.
    fn condition_fail_text(&self, action: &str) -> Option<String> {
        if self.condition_fails.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .condition_fails
            .iter()
            .map(|(st, c)| format!("`{st}` allows `{action}`, but its condition `{c}` fails"))
            .collect();
        Some(parts.join("; "))
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

struct Run<'a> {
    opts: &'a Options,
    ctx: Ctx<'a>,
    target: Target<'a>,
    has_boundary: bool,
    steps: Vec<Step>,
    unknowns: Vec<String>,
    only_residual: bool,
}

impl<'a> Run<'a> {
    /// Records a step; the outcome text is built only when tracing.
    fn step(
        &mut self,
        name: &str,
        outcome: impl FnOnce() -> String,
        statements: Vec<StatementTrace>,
    ) {
        if self.opts.trace {
            self.steps.push(Step {
                name: name.to_owned(),
                outcome: outcome(),
                statements,
            });
        }
    }

    /// Evaluates every statement of `effect` in `policies`; returns the combined result.
    fn scan(
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

    fn note_unknown(&mut self, s: &SetAllow) {
        if s.tri() == Tri::Unknown {
            self.unknowns.extend(s.unknowns.iter().cloned());
            if !s.only_residual {
                self.only_residual = false;
            }
        }
    }
}

fn key_facts<'i>(inputs: &'i Inputs, arn: &str) -> Result<std::borrow::Cow<'i, KeyFacts>, String> {
    match inputs.key(arn) {
        Some(k) => Ok(std::borrow::Cow::Borrowed(&k.facts)),
        None => KeyFacts::from_arn(arn).map(std::borrow::Cow::Owned),
    }
}

/// R79: does a grant belong to this key? A grant belongs to the key its `KeyId` names by full
/// ARN — partition, Region, account and key id — so a grant on the us-east-1 copy of a
/// multi-Region key gives nothing on its eu-west-1 replica, and a grant on another account's key
/// with the same id gives nothing. A bare key id (or no `KeyId`) names the key the grant list was
/// read for, which the readers resolve to that key's ARN; an alias names the key it points to,
/// unknown unless the key's aliases are known.
fn grant_on_key(g: &Grant, facts: &KeyFacts) -> Tri {
    let Some(id) = g.key_id.as_deref() else {
        return Tri::Yes;
    };
    // The common case, without taking the ARN apart: list-grants names the key by its ARN.
    if id == facts.arn {
        return Tri::Yes;
    }
    let Some(p) = crate::arn::split_arn(id) else {
        if let Some(alias) = id.strip_prefix("alias/").map(|_| id) {
            return match &facts.aliases {
                Some(list) => Tri::from_bool(list.iter().any(|a| a == alias)),
                None => Tri::Unknown,
            };
        }
        return Tri::from_bool(id == facts.key_id);
    };
    if p.service != "kms"
        || p.partition != facts.partition
        || p.region != facts.region
        || p.account != facts.account
    {
        return Tri::No;
    }
    if let Some(k) = p.resource.strip_prefix("key/") {
        return Tri::from_bool(k == facts.key_id);
    }
    if p.resource.starts_with("alias/") {
        return match &facts.aliases {
            Some(list) => Tri::from_bool(list.iter().any(|a| a == p.resource)),
            None => Tri::Unknown,
        };
    }
    Tri::No
}

fn run_check(inputs: &Inputs, req: &Request, opts: &Options, spec: &CheckSpec<'_>) -> CheckResult {
    let Some(action) = catalog::action(spec.action_index) else {
        return CheckResult {
            action: String::new(),
            resource: spec.resource.to_owned(),
            decision: Decision::Undetermined,
            path: None,
            deciding: Vec::new(),
            reasons: Vec::new(),
            unknowns: vec!["the action is not in the catalogue".into()],
            residual: Vec::new(),
            notes: Vec::new(),
            steps: Vec::new(),
        };
    };
    let action_name = format!("kms:{}", action.name);
    if let Some(why) = spec.missing {
        return CheckResult {
            action: action_name,
            resource: spec.resource.to_owned(),
            decision: Decision::Undetermined,
            path: None,
            deciding: Vec::new(),
            reasons: Vec::new(),
            unknowns: vec![why.to_owned()],
            residual: Vec::new(),
            notes: Vec::new(),
            steps: Vec::new(),
        };
    }
    let mut result = CheckResult {
        action: action_name.clone(),
        resource: spec.resource.to_owned(),
        decision: Decision::Undetermined,
        path: None,
        deciding: Vec::new(),
        reasons: Vec::new(),
        unknowns: Vec::new(),
        residual: Vec::new(),
        notes: Vec::new(),
        steps: Vec::new(),
    };
    let facts = match spec.context_key.map(|k| key_facts(inputs, k)) {
        Some(Ok(f)) => Some(f),
        Some(Err(msg)) => {
            result.unknowns.push(msg);
            return result;
        }
        None => None,
    };
    let key_inputs: Option<&KeyInputs> = spec.key.and_then(|k| inputs.key(k));
    let caller = &req.caller;
    if caller.role_path_assumed {
        if let Some(r) = &caller.role_arn {
            result.notes.push(format!(
                "the role's path is not known: assumed `{r}` (give `--context aws:PrincipalArn=<role ARN>` if it has a path)"
            ));
        }
    }
    let ec_list: Option<Vec<(&str, &str)>> =
        if action.name == "CreateGrant" && opts.open.ec_from_source_only {
            None
        } else if action.name == "CreateGrant" {
            req.grant_request.as_ref().map(|g| {
                let m = g
                    .constraints
                    .equals
                    .as_ref()
                    .or(g.constraints.subset.as_ref());
                m.map(|m| m.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect())
                    .unwrap_or_default()
            })
        } else {
            let src = match spec.ec {
                EcSource::Destination if !opts.open.ec_from_source_only => {
                    req.destination_encryption_context.as_ref()
                }
                EcSource::Request | EcSource::Destination => req.encryption_context.as_ref(),
            };
            // `--context kms:EncryptionContext:K=V` sets the encryption context too.
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
        };
    // R8 (v2): same account means same account id in the same partition.
    let same_account = match (&facts, caller.kind) {
        (_, CallerKind::Service | CallerKind::Anonymous) => false,
        (Some(f), _) => f.account == caller.account && f.partition == caller.partition,
        (None, _) => true,
    };
    // R8, R24 (v2): a principal of another partition can never use the key: no statement,
    // grant or delegation matches it.
    if let Some(f) = facts.as_deref() {
        if caller.kind != CallerKind::Service && f.partition != caller.partition {
            result.decision = Decision::ImplicitDeny;
            result.path = Some("partition".into());
            result.reasons.push(format!(
                "the caller is in partition `{}` and the key in `{}`: a principal of another partition can never use the key",
                caller.partition, f.partition
            ));
            return result;
        }
    }
    let ctx = Ctx {
        req,
        caller,
        key: facts.as_deref(),
        action,
        action_index: spec.action_index,
        opts,
        ec: ec_list,
        reencrypt_same_key: spec.same_key,
        policy_kind: crate::policy::PolicyKind::Key,
    };
    let alias_half = spec.key.is_none() && spec.resource != "*";
    let target = Target {
        arn: spec.resource,
        none: spec.resource == "*",
    };
    let mut run = Run {
        opts,
        ctx,
        target,
        has_boundary: inputs.boundary.is_some(),
        steps: Vec::new(),
        unknowns: Vec::new(),
        only_residual: true,
    };
    let retire = action.grant_only;
    // Which sets are in scope (R48).
    let kp: Option<&[NamedPolicy]> = if spec.key.is_some() && !retire {
        key_inputs.and_then(|k| k.policies.as_deref())
    } else {
        None
    };
    let kp_missing = spec.key.is_some() && !retire && kp.is_none();
    let identity_side = !matches!(caller.kind, CallerKind::Service | CallerKind::Anonymous);
    let id: Option<&[NamedPolicy]> = if identity_side {
        inputs.identity.as_deref()
    } else {
        Some(&[])
    };
    // R48 (v2): service-linked roles (path `/aws-service-role/`) are limited by neither SCPs
    // nor RCPs; Q4 switched makes RCPs apply to them.
    let service_linked = caller.kind == CallerKind::AssumedRole
        && caller
            .role_arn
            .as_deref()
            .is_some_and(|r| r.contains(":role/aws-service-role/"));
    let scp_in_scope = identity_side && inputs.scp.is_some() && !service_linked;
    // R60 (v2): a key whose policy is given and is not the AWS managed template (R120, R121)
    // is customer managed. Only the RCP scope asks, so the shape is looked at only then.
    let key_manager = facts.as_ref().and_then(|f| {
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
    });
    let rcp_in_scope = inputs.rcp.is_some()
        && spec.key.is_some()
        && !retire
        && key_manager != Some(KeyManager::Aws)
        && (!service_linked || opts.open.rcp_applies_to_service_linked_roles);
    // R51, R103: the endpoint policy acts on a request made through the endpoint, never on one
    // an integrated service makes on the caller's behalf.
    let source_vpce = super::context::via_service(req).is_none()
        && req
            .context
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("aws:SourceVpce"));
    let vpce: Option<&NamedPolicy> = if source_vpce {
        inputs.vpce.as_ref()
    } else {
        None
    };

    // Step 1: explicit deny anywhere wins (R49).
    let mut traces = Vec::new();
    let mut deny_by: Vec<String> = Vec::new();
    let mut deny_unknown: Vec<String> = Vec::new();
    let mut deny_residual: Vec<Vec<Requirement>> = Vec::new();
    let mut sets: Vec<(&str, &[NamedPolicy])> = Vec::new();
    if let Some(k) = kp {
        sets.push(("key policy", k));
    }
    if let Some(i) = id {
        sets.push(("identity policies", i));
    }
    if identity_side {
        if let Some(b) = &inputs.boundary {
            sets.push(("permissions boundary", std::slice::from_ref(b)));
        }
        sets.push(("session policies", &inputs.session));
    }
    if scp_in_scope {
        if let Some(levels) = &inputs.scp {
            for l in levels.iter() {
                sets.push(("SCP", l));
            }
        }
    }
    let rcp_levels: &[Vec<NamedPolicy>] = if rcp_in_scope {
        inputs.rcp.as_deref().unwrap_or(&[])
    } else {
        &[]
    };
    for l in rcp_levels {
        sets.push(("RCP", l));
    }
    if let Some(v) = vpce {
        sets.push(("VPC endpoint policy", std::slice::from_ref(v)));
    }
    for (label, set) in &sets {
        let s = run.scan(set, Effect::Deny, &mut traces);
        let mut t = s.tri();
        // An RCP Deny does not reach an AWS managed key; when the key manager is unknown, whether
        // it applies is unknown too.
        if *label == "RCP" && t != Tri::No && key_manager.is_none() {
            t = Tri::Unknown;
            deny_unknown.push(
                "an RCP Deny applies unless the key is AWS managed; the key manager was not given"
                    .into(),
            );
        }
        match t {
            Tri::Yes => deny_by.extend(s.by),
            Tri::Unknown => {
                if s.only_residual && !s.residual.is_empty() {
                    deny_residual.extend(s.residual);
                } else {
                    deny_unknown.extend(s.unknowns);
                }
            }
            Tri::No => {}
        }
    }
    if kp_missing {
        deny_unknown.push(match key_inputs.and_then(|k| k.policy_unknown.as_deref()) {
            Some(why) => format!("{why}: a Deny in it could refuse the request"),
            None => format!(
                "the key policy of `{}` was not given: a Deny in it could refuse the request (give `--key-policy`)",
                spec.key.unwrap_or("")
            ),
        });
    }
    if id.is_none() && identity_side {
        deny_unknown.push(
            "the caller's identity policies are not known: a Deny in them could refuse the request"
                .into(),
        );
    }
    let outcome = || {
        if !deny_by.is_empty() {
            format!("explicit deny by {}", deny_by.join(", "))
        } else if !deny_unknown.is_empty() || !deny_residual.is_empty() {
            "a Deny may apply".to_owned()
        } else {
            "no Deny applies".to_owned()
        }
    };
    run.step("1 explicit deny", outcome, std::mem::take(&mut traces));
    if !deny_by.is_empty() {
        result.decision = Decision::ExplicitDeny;
        result.path = Some("1 explicit deny".into());
        result.deciding = deny_by;
        result.reasons.push(format!(
            "an explicit Deny applies to `{action_name}`: {}",
            result.deciding.join(", ")
        ));
        result.steps = run.steps;
        return result;
    }

    // Step 2: RCP gate — RCPFullAWSAccess is attached at every level, so only Denies act (R50).
    if inputs.rcp.is_some() {
        let why = if rcp_in_scope {
            "passed: `RCPFullAWSAccess` allows at every level; RCPs act only through Deny"
        } else if service_linked && spec.key.is_some() {
            "skipped: RCPs do not apply to service-linked roles"
        } else if key_manager == Some(KeyManager::Aws) {
            "skipped: RCPs do not apply to AWS managed keys"
        } else {
            "skipped: not a key resource"
        };
        run.step("2 RCP gate", || why.into(), Vec::new());
    } else {
        run.step("2 RCP gate", || "skipped: no RCPs given".into(), Vec::new());
    }

    // Step 3: SCP gate (R50): every level needs an Allow.
    let mut gate_unknown: Vec<String> = Vec::new();
    if scp_in_scope {
        let levels = inputs.scp.as_deref().unwrap_or(&[]);
        for (i, level) in levels.iter().enumerate() {
            let mut tr = Vec::new();
            let s = run.scan(level, Effect::Allow, &mut tr);
            match s.tri() {
                Tri::Yes => run.step(
                    &format!("3 SCP gate, level {}", i + 1),
                    || format!("allowed by {}", s.by.join(", ")),
                    tr,
                ),
                Tri::No => {
                    run.step(
                        &format!("3 SCP gate, level {}", i + 1),
                        || "no SCP at this level allows it".into(),
                        tr,
                    );
                    result.decision = Decision::ImplicitDeny;
                    result.path = Some(format!("3 SCP gate, level {}", i + 1));
                    result.reasons.push(format!(
                        "no SCP at organisation level {} allows `{action_name}` (an SCP gate without an Allow denies, even when every other policy allows)",
                        i + 1
                    ));
                    deny_note(&mut result, &deny_unknown);
                    result.steps = run.steps;
                    return result;
                }
                Tri::Unknown => {
                    run.step(
                        &format!("3 SCP gate, level {}", i + 1),
                        || "unknown".into(),
                        tr,
                    );
                    gate_unknown.extend(s.unknowns);
                }
            }
        }
    } else if !identity_side {
        run.step(
            "3 SCP gate",
            || "skipped: SCPs do not apply to service principals".into(),
            Vec::new(),
        );
    } else if service_linked && inputs.scp.is_some() {
        run.step(
            "3 SCP gate",
            || "skipped: SCPs do not apply to service-linked roles".into(),
            Vec::new(),
        );
    } else {
        run.step("3 SCP gate", || "skipped: no SCPs given".into(), Vec::new());
    }

    // Step 4: VPC endpoint gate (R51).
    if let Some(v) = vpce {
        let mut tr = Vec::new();
        let s = run.scan(std::slice::from_ref(v), Effect::Allow, &mut tr);
        match s.tri() {
            Tri::Yes => run.step(
                "4 VPC endpoint gate",
                || format!("allowed by {}", s.by.join(", ")),
                tr,
            ),
            Tri::No => {
                run.step(
                    "4 VPC endpoint gate",
                    || "the endpoint policy does not allow it".into(),
                    tr,
                );
                result.decision = Decision::ImplicitDeny;
                result.path = Some("4 VPC endpoint gate".into());
                result.reasons.push(format!(
                    "the VPC endpoint policy `{}` does not allow `{action_name}` for this caller",
                    v.name
                ));
                deny_note(&mut result, &deny_unknown);
                result.steps = run.steps;
                return result;
            }
            Tri::Unknown => {
                run.step("4 VPC endpoint gate", || "unknown".into(), tr);
                gate_unknown.extend(s.unknowns);
            }
        }
    }

    // Step 5: operations that never work cross-account (R52).
    if spec.key.is_some()
        && !same_account
        && identity_side
        && action.cross_account == CrossAccount::No
    {
        run.step(
            "5 cross-account",
            || format!("`{action_name}` cannot be used on a key in another account"),
            Vec::new(),
        );
        result.decision = Decision::ImplicitDeny;
        result.path = Some("5 cross-account".into());
        result.reasons.push(format!(
            "`{action_name}` never works on a key in another account (caller account {}, key account {})",
            caller.account,
            facts.as_ref().map_or("", |f| f.account.as_str())
        ));
        result.steps = run.steps;
        return result;
    }

    // Step 6: the allow paths.
    let mut tr_id = Vec::new();
    let id_allow = match id {
        Some(i) => run.scan(i, Effect::Allow, &mut tr_id),
        None => SetAllow {
            tri: Some(Tri::Unknown),
            unknowns: vec!["the caller's identity policies are not known".into()],
            ..SetAllow::default()
        },
    };
    let mut tr_pb = Vec::new();
    let pb_allow = match &inputs.boundary {
        Some(b) if identity_side => {
            Some(run.scan(std::slice::from_ref(b), Effect::Allow, &mut tr_pb))
        }
        _ => None,
    };
    let mut tr_sp = Vec::new();
    let sp_allow = if identity_side && !inputs.session.is_empty() {
        Some(run.scan(&inputs.session, Effect::Allow, &mut tr_sp))
    } else {
        None
    };
    let pb_t = pb_allow.as_ref().map_or(Tri::Yes, SetAllow::tri);
    let sp_t = sp_allow.as_ref().map_or(Tri::Yes, SetAllow::tri);
    let is_root = caller.kind == CallerKind::Root;

    let mut allow = Tri::No;
    let mut allow_path: Option<String> = None;
    let mut allow_by: Vec<String> = Vec::new();
    let mut residual: Vec<Vec<Requirement>> = Vec::new();
    let combine =
        |stmt: &[Requirement], others: &[&SetAllow], residual: &mut Vec<Vec<Requirement>>| {
            let mut alts: Vec<Vec<Requirement>> = vec![stmt.to_vec()];
            for o in others {
                if o.tri() == Tri::Unknown {
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
            }
            for a in alts.into_iter().take(16) {
                let mut a = a;
                a.sort();
                a.dedup();
                if !residual.contains(&a) {
                    residual.push(a);
                }
            }
        };

    if spec.key.is_none() || alias_half || retire {
        if retire {
            // R75: who may retire a grant is decided by the grant.
            // R75 (v2): items 1 and 3 go through IAM, limited by PB and SP as R54 is.
            let iam_side = id_allow.tri().and(pb_t).and(sp_t);
            let (t, by, why) = retire_path(inputs, req, &run, facts.as_deref(), iam_side);
            allow = t;
            if t == Tri::Yes {
                allow_path = Some("RetireGrant by the grant's terms".into());
                allow_by = by;
            } else {
                result.reasons.extend(why);
            }
            run.step(
                "6 RetireGrant (R75)",
                || t.as_str().into(),
                std::mem::take(&mut tr_id),
            );
        } else if alias_half && spec.resource.contains(":alias/aws/") {
            // R47: aliases under alias/aws/ are reserved.
            result
                .reasons
                .push("aliases beginning `alias/aws/` are reserved for AWS managed keys".into());
            run.step(
                "6 identity path",
                || "reserved alias".into(),
                std::mem::take(&mut tr_id),
            );
        } else {
            // R47: no key policy in play: the identity path alone. R58 (v2): the account's
            // root user has every permission in its own account and needs no identity policy
            // (SCPs and explicit Denies were applied above).
            let root_in_own_account = is_root && root_owns_resource(spec.resource, caller);
            let t = if root_in_own_account {
                Tri::Yes
            } else if identity_side {
                id_allow.tri().and(pb_t).and(sp_t)
            } else {
                Tri::No
            };
            allow = t;
            if root_in_own_account {
                allow_path = Some("root user of the account (no key resource)".into());
                allow_by = Vec::new();
            } else if t == Tri::Yes {
                allow_path = Some("identity policies (no key resource)".into());
                allow_by = id_allow.by.clone();
            } else if t == Tri::Unknown && id_allow.tri() == Tri::Unknown {
                combine(&[], &[&id_allow], &mut residual);
            }
            if id_allow.tri() == Tri::No {
                result.reasons.push(match id_allow.condition_fail_text(&action_name) {
                    Some(fails) => format!(
                        "`{action_name}` on `{}` is authorized only by IAM policies: {fails}",
                        spec.resource
                    ),
                    None => format!(
                        "`{action_name}` on `{}` is authorized only by IAM policies, and no identity policy of the caller allows it",
                        spec.resource
                    ),
                });
            }
            boundary_reasons(&mut result, &pb_allow, &sp_allow, &action_name, inputs);
            run.step(
                "6 identity path",
                || t.as_str().into(),
                std::mem::take(&mut tr_id),
            );
        }
    } else {
        // Key policy Allow statements.
        let mut kp_evals = Vec::new();
        let mut tr_kp = Vec::new();
        if let Some(k) = kp {
            for p in k {
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
                        tr_kp.push(*t);
                    }
                    kp_evals.push(((p, st), e));
                }
            }
        }
        let mut note_path = |t: Tri,
                             name: &str,
                             by: &dyn Fn() -> Vec<String>,
                             reqs: &[Requirement],
                             others: &[&SetAllow],
                             residual: &mut Vec<Vec<Requirement>>| {
            if t == Tri::Yes && allow != Tri::Yes {
                allow_path = Some(name.to_owned());
                allow_by = by();
            }
            if t == Tri::Unknown {
                combine(reqs, others, residual);
            }
            allow = allow.or(t);
        };
        let mut delegation_any = Tri::No;
        let mut names_caller = false;
        // Statements that name the caller but do not apply (a condition or the action failed),
        // for the explanation.
        let mut named_not_applying: Vec<String> = Vec::new();
        for ((kp_p, kp_st), e) in &kp_evals {
            let id_s = || statement_id(kp_p, kp_st);
            let k = e.kinds;
            if k & (kind::DIRECT | kind::VIA_ROLE | kind::VIA_USER) != 0 {
                names_caller = true;
                if e.applies == Tri::No {
                    named_not_applying.push(kp_st.label());
                }
            }
            let principal_t = if k != 0 {
                e.applies
            } else if e.principal_unknown {
                Tri::Unknown
            } else {
                Tri::No
            };
            if principal_t == Tri::No && !e.principal_unknown {
                continue;
            }
            let a = e.applies;
            if same_account && identity_side {
                // 6a: the key policy names the caller (R53); PB/SP block role and federated-user
                // matches but not exact user or session ARNs or "*" (R57).
                let unblocked = k & (kind::WILDCARD | kind::NOT_PRINCIPAL) != 0
                    || k & kind::DIRECT != 0
                        && !(caller.kind != CallerKind::User
                            && opts.open.session_policy_blocks_exact_session
                            && sp_allow.is_some())
                    || (k & kind::ACCOUNT != 0 && is_root);
                let blocked = k & (kind::VIA_ROLE | kind::VIA_USER) != 0
                    || (k & kind::DIRECT != 0
                        && caller.kind != CallerKind::User
                        && opts.open.session_policy_blocks_exact_session);
                if unblocked {
                    note_path(
                        a,
                        "6a key policy names the caller",
                        &|| vec![id_s()],
                        &e.residual,
                        &[],
                        &mut residual,
                    );
                } else if blocked {
                    let mut others: Vec<&SetAllow> = Vec::new();
                    if let Some(p) = &pb_allow {
                        others.push(p);
                    }
                    if let Some(s) = &sp_allow {
                        others.push(s);
                    }
                    let t = a.and(pb_t).and(sp_t);
                    note_path(
                        t,
                        "6a key policy names the caller",
                        &|| vec![id_s()],
                        &e.residual,
                        &others,
                        &mut residual,
                    );
                }
                // 6b: delegation to IAM (R54).
                if k & kind::ACCOUNT != 0 && !is_root {
                    delegation_any = delegation_any.or(a);
                    let t = a.and(id_allow.tri()).and(pb_t).and(sp_t);
                    let by = || {
                        let mut by = vec![id_s()];
                        by.extend(id_allow.by.iter().cloned());
                        by
                    };
                    let mut others: Vec<&SetAllow> = vec![&id_allow];
                    if let Some(p) = &pb_allow {
                        others.push(p);
                    }
                    if let Some(s) = &sp_allow {
                        others.push(s);
                    }
                    note_path(
                        t,
                        "6b key-policy delegation + IAM",
                        &by,
                        &e.residual,
                        &others,
                        &mut residual,
                    );
                }
            } else if identity_side {
                // 6c: cross-account (R55): the key policy and the caller's IAM both allow.
                let names = k
                    & (kind::ACCOUNT
                        | kind::DIRECT
                        | kind::VIA_ROLE
                        | kind::VIA_USER
                        | kind::WILDCARD
                        | kind::NOT_PRINCIPAL)
                    != 0
                    || e.principal_unknown;
                if names {
                    if k & kind::ACCOUNT != 0 {
                        delegation_any = delegation_any.or(a);
                    }
                    // Q25: an external root user needs no identity allow (switched: not allowed).
                    let idt = if is_root {
                        Tri::from_bool(!opts.open.external_root_denied)
                    } else {
                        id_allow.tri()
                    };
                    let t = a.and(idt).and(pb_t).and(sp_t);
                    let by = || {
                        let mut by = vec![id_s()];
                        if !is_root {
                            by.extend(id_allow.by.iter().cloned());
                        }
                        by
                    };
                    let mut others: Vec<&SetAllow> = Vec::new();
                    if !is_root {
                        others.push(&id_allow);
                    }
                    if let Some(p) = &pb_allow {
                        others.push(p);
                    }
                    if let Some(s) = &sp_allow {
                        others.push(s);
                    }
                    note_path(
                        t,
                        "6c cross-account: key policy + caller's IAM",
                        &by,
                        &e.residual,
                        &others,
                        &mut residual,
                    );
                }
            } else if k & (kind::SERVICE | kind::WILDCARD) != 0 || e.principal_unknown {
                // 6e: a service principal's direct call (R59).
                note_path(
                    a,
                    "6e service principal",
                    &|| vec![id_s()],
                    &e.residual,
                    &[],
                    &mut residual,
                );
            }
            if k == 0 && e.principal_unknown && a != Tri::No {
                // Whom the statement names cannot be judged: it may open any path.
                note_path(
                    Tri::Unknown,
                    "unknown",
                    &|| Vec::new(),
                    &[],
                    &[],
                    &mut residual,
                );
            }
            if a == Tri::Unknown && !e.only_residual {
                run.unknowns.extend(e.unknowns.iter().cloned());
                run.only_residual = false;
            }
        }
        let n_kp = kp_evals.len();
        let kp_outcome = || {
            if kp.is_some() {
                format!("{n_kp} Allow statement(s) considered")
            } else {
                "the key policy was not given".into()
            }
        };
        run.step("6 key policy (Allow)", kp_outcome, tr_kp);
        if !tr_id.is_empty() || id.is_some() {
            run.step(
                "6 identity policies (Allow)",
                || id_allow.tri().as_str().into(),
                std::mem::take(&mut tr_id),
            );
        }
        if pb_allow.is_some() {
            run.step(
                "6 permissions boundary",
                || pb_t.as_str().into(),
                std::mem::take(&mut tr_pb),
            );
        }
        if sp_allow.is_some() {
            run.step(
                "6 session policies",
                || sp_t.as_str().into(),
                std::mem::take(&mut tr_sp),
            );
        }
        // Without the key policy, any key-policy path may hold: not a deny, an unknown.
        if kp_missing {
            allow = allow.or(Tri::Unknown);
            run.only_residual = false;
            run.unknowns.push(match key_inputs.and_then(|k| k.policy_unknown.as_deref()) {
                Some(why) => format!("{why}: whether it allows the request cannot be judged"),
                None => "the key policy was not given: whether it allows the request cannot be judged (give `--key-policy`)".to_owned(),
            });
        }
        // 6d: grants (R56, R69–R74).
        let grants: &[Grant] = key_inputs.and_then(|k| k.grants.as_deref()).unwrap_or(&[]);
        let mut grant_reasons = Vec::new();
        let mut any_grant_for_caller = false;
        if let Some(f) = &facts {
            for g in grants {
                let on_key = grant_on_key(g, f);
                if on_key == Tri::No {
                    continue;
                }
                let (t, for_caller, mut why) =
                    grant_path(g, &run, action, &id_allow, same_account, pb_t, sp_t);
                let t = if on_key == Tri::Unknown && t != Tri::No {
                    why = format!(
                        "grant {} names its key by an alias, and the key's aliases are not known (give `--key-alias`)",
                        g.label()
                    );
                    Tri::Unknown
                } else {
                    t
                };
                any_grant_for_caller |= for_caller;
                if t == Tri::Yes && allow != Tri::Yes {
                    allow_path = Some("6d grant".into());
                    allow_by = vec![format!("grant {}", g.label())];
                }
                if t == Tri::Unknown {
                    run.unknowns.push(why.clone());
                    run.only_residual = false;
                }
                allow = allow.or(t);
                if for_caller && t != Tri::Yes {
                    grant_reasons.push(why);
                }
            }
        }
        let gstep = || match key_inputs.and_then(|k| k.grants.as_ref()) {
            None => "no grants given".to_owned(),
            Some(g) => format!("{} grant(s) considered", g.len()),
        };
        run.step("6d grants", gstep, Vec::new());

        if allow != Tri::Yes && opts.trace {
            explain_deny(
                &mut result,
                ExplainIn {
                    open: allow == Tri::Unknown,
                    action_name: &action_name,
                    caller_arn: &caller.arn,
                    key_account: facts.as_ref().map_or("", |f| f.account.as_str()),
                    key_arn: spec.resource,
                    same_account,
                    is_root,
                    identity_side,
                    names_caller,
                    named_not_applying,
                    delegation: delegation_any,
                    id_allow: &id_allow,
                    kp_given: kp.is_some(),
                    any_grant_for_caller,
                    grant_reasons,
                },
            );
            boundary_reasons(&mut result, &pb_allow, &sp_allow, &action_name, inputs);
        }
        if id_allow.tri() == Tri::Unknown {
            run.note_unknown(&id_allow);
        }
    }

    // Combine (R46 step 7) — never fail open.
    let mut unknowns = run.unknowns;
    unknowns.extend(gate_unknown.iter().cloned());
    result.steps = run.steps;
    match allow {
        Tri::Yes
            if deny_unknown.is_empty() && gate_unknown.is_empty() && deny_residual.is_empty() =>
        {
            result.decision = Decision::Allow;
            result.path = allow_path;
            result.deciding = allow_by;
            result.reasons.clear();
            if opts.trace {
                result.reasons.push(format!(
                    "allowed by {}",
                    result.path.clone().unwrap_or_default()
                ));
            }
            if let Some(state) = facts.as_ref().and_then(|f| f.key_state.as_deref()) {
                if state != "Enabled" {
                    // R61: key state never changes the decision.
                    result.notes.push(format!(
                        "authorized, but KeyState={state}; the call would fail"
                    ));
                }
            }
        }
        Tri::No => {
            result.decision = Decision::ImplicitDeny;
            result.path = Some("7 no applicable Allow".into());
            deny_note(&mut result, &deny_unknown);
        }
        _ => {
            result.decision = Decision::Undetermined;
            if allow == Tri::Yes {
                result.path = allow_path;
                result.deciding = allow_by;
                result
                    .unknowns
                    .push("an allow path holds, but a Deny or a gate cannot be judged".into());
            }
            result.unknowns.extend(deny_unknown);
            result.unknowns.extend(gate_unknown);
            if allow != Tri::Yes {
                result.unknowns.extend(unknowns);
                result.residual = residual;
            } else {
                result.residual = vec![Vec::new()];
            }
            for alt in &deny_residual {
                let parts: Vec<String> = alt
                    .iter()
                    .map(|r| format!("{} ({})", r.text, r.statement))
                    .collect();
                result
                    .notes
                    .push(format!("denied if {}", parts.join(" and ")));
            }
            result.unknowns.sort();
            result.unknowns.dedup();
        }
    }
    result
}

/// R58: is the resource of an IAM-only check (`*`, or an alias ARN) in the caller's own account?
/// An alias in another account is not the root user's to manage.
fn root_owns_resource(resource: &str, caller: &super::Caller) -> bool {
    if resource == "*" {
        return true;
    }
    crate::arn::split_arn(resource)
        .is_some_and(|p| p.account == caller.account && p.partition == caller.partition)
}

fn deny_note(result: &mut CheckResult, deny_unknown: &[String]) {
    if !deny_unknown.is_empty() {
        result.notes.push(format!(
            "a Deny may also apply, which would make this an explicit deny: {}",
            deny_unknown.join("; ")
        ));
    }
}

fn boundary_reasons(
    result: &mut CheckResult,
    pb: &Option<SetAllow>,
    sp: &Option<SetAllow>,
    action_name: &str,
    inputs: &Inputs,
) {
    if let Some(p) = pb {
        if p.tri() == Tri::No {
            let name = inputs.boundary.as_ref().map_or("", |b| b.name.as_str());
            result.reasons.push(format!(
                "the permissions boundary `{name}` does not allow `{action_name}`: it limits the IAM path and key-policy statements that name the role"
            ));
        }
    }
    if let Some(s) = sp {
        if s.tri() == Tri::No {
            result.reasons.push(format!("no session policy allows `{action_name}`: session policies limit the session's permissions"));
        }
    }
}

struct ExplainIn<'a> {
    /// No allow path holds for certain, but one may: the answer is undetermined, so the
    /// explanation says what is open and suggests no fix.
    open: bool,
    action_name: &'a str,
    caller_arn: &'a str,
    key_account: &'a str,
    key_arn: &'a str,
    same_account: bool,
    is_root: bool,
    identity_side: bool,
    names_caller: bool,
    named_not_applying: Vec<String>,
    delegation: Tri,
    id_allow: &'a SetAllow,
    kp_given: bool,
    any_grant_for_caller: bool,
    grant_reasons: Vec<String>,
}

/// Why each allow path failed, with the fix (the AccessDenied question).
fn explain_deny(result: &mut CheckResult, x: ExplainIn<'_>) {
    let a = x.action_name;
    if !x.kp_given {
        result.reasons.push("the key policy was not given, so no key-policy path can be judged (give `--key-policy`)".to_owned());
    } else if !x.identity_side {
        result.reasons.push(format!(
            "no key-policy statement allows the service principal `{}` to call `{a}` under this request's conditions, and no grant does",
            x.caller_arn
        ));
    } else {
        let root = format!("arn:aws:iam::{}:root", x.key_account);
        let id = x.id_allow.tri();
        let id_allows = id == Tri::Yes;
        // What the caller's identity policies say, in words that agree with `id`: a statement
        // that would allow but for its condition is named with that condition; an open one is
        // open, never "no identity policy allows it".
        let id_open_or_failing = |on: &str| match id {
            Tri::Unknown => Some(format!(
                "whether an identity policy of the caller allows `{a}` on `{on}` is open: it depends on what the answer lists as unknown or required"
            )),
            _ => x
                .id_allow
                .condition_fail_text(a)
                .map(|fails| format!("identity policy {fails}")),
        };
        if x.same_account && !x.is_root {
            match (x.delegation, id_allows) {
                (Tri::No, true) if x.open => result.reasons.push(format!(
                    "IAM policy {} allows `{a}`, but no key-policy statement allows `{root}` (the account) `{a}` for certain, so whether IAM policies apply to this key cannot be judged",
                    x.id_allow.by.join(", ")
                )),
                (Tri::No, true) => result.reasons.push(format!(
                    "IAM policy {} allows `{a}`, but the key policy has no statement that allows `{root}` (the account) `{a}` for this request, so IAM policies do not apply to this key — add the root delegation statement `{{\"Effect\": \"Allow\", \"Principal\": {{\"AWS\": \"{root}\"}}, \"Action\": \"kms:*\", \"Resource\": \"*\"}}` or name the caller in the key policy",
                    x.id_allow.by.join(", ")
                )),
                (Tri::No, false) if id == Tri::Unknown => result.reasons.push(format!(
                    "the key policy does not delegate `{a}` to the account (`{root}`), so no identity policy of the caller can allow it, whatever they say"
                )),
                (Tri::No, false) => result.reasons.push(match id_open_or_failing(x.key_arn) {
                    Some(t) => format!(
                        "the key policy does not delegate `{a}` to the account (`{root}`), and {t}"
                    ),
                    None => format!(
                        "the key policy does not delegate `{a}` to the account (`{root}`), and no identity policy of the caller allows it either"
                    ),
                }),
                (_, false) if x.open || id_open_or_failing(x.key_arn).is_some() => {
                    result.reasons.push(match id_open_or_failing(x.key_arn) {
                        Some(t) => format!(
                            "the key policy delegates `{a}` to the account (`{root}`); {t}"
                        ),
                        None => format!(
                            "the key policy delegates `{a}` to the account (`{root}`), but no identity policy of the caller allows `{a}` on `{}`",
                            x.key_arn
                        ),
                    });
                }
                (_, false) => result.reasons.push(format!(
                    "the key policy delegates `{a}` to the account (`{root}`), but no identity policy of the caller allows `{a}` on `{}` — attach an IAM policy that allows it on the key ARN",
                    x.key_arn
                )),
                (_, true) => {}
            }
            if !x.names_caller {
                result.reasons.push(format!("no key-policy statement names `{}` (or its role) for `{a}` under this request's conditions", x.caller_arn));
            } else if x.named_not_applying.is_empty() {
                result.reasons.push(format!("a key-policy statement names `{}` (or its role), but it does not apply to this request (see its conditions in the trace)", x.caller_arn));
            } else {
                let list: Vec<String> = x
                    .named_not_applying
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect();
                result.reasons.push(format!(
                    "key-policy statement {} names `{}` (or its role), but does not apply to this request: its action or conditions do not match (the trace shows which)",
                    list.join(", "),
                    x.caller_arn
                ));
            }
        } else if x.is_root && x.same_account {
            result.reasons.push(format!(
                "the root user has no identity policies: only a key-policy statement naming the account `{root}` (or `*`) could allow `{a}`, and none applies"
            ));
        } else {
            if x.delegation == Tri::No && !x.names_caller {
                result.reasons.push(format!(
                    "the key policy (account {}) allows neither the caller's account nor the caller for `{a}`: a principal in another account needs a key-policy statement naming its account or itself",
                    x.key_account
                ));
            } else if !id_allows && !x.is_root {
                result.reasons.push(match id_open_or_failing(x.key_arn) {
                    Some(t) => format!(
                        "the key policy allows the caller's account, and cross-account use needs an identity policy too; {t}"
                    ),
                    None => format!(
                        "the key policy allows the caller's account, but no identity policy of the caller allows `{a}` on `{}`: cross-account use needs both",
                        x.key_arn
                    ),
                });
            }
        }
    }
    if x.any_grant_for_caller {
        result.reasons.extend(x.grant_reasons);
    }
    if result.reasons.is_empty() {
        result.reasons.push(format!(
            "no allow path holds for `{}` and `{a}`: the trace shows which element of each statement failed",
            x.caller_arn
        ));
    }
}

/// R71–R74: does a grant allow this check for this caller?
/// Returns the result, whether the grant names the caller at all, and why it does not apply.
fn grant_path(
    g: &Grant,
    run: &Run<'_>,
    action: &ActionInfo,
    id_allow: &SetAllow,
    same_account: bool,
    pb_t: Tri,
    sp_t: Tri,
) -> (Tri, bool, String) {
    let c = run.ctx.caller;
    let label = LazyLabel(g);
    // Grantee (R71).
    let grantee = if g.grantee_is_service {
        Tri::from_bool(c.kind == CallerKind::Service && c.arn == g.grantee)
    } else {
        match &g.grantee_class {
            PrincipalClass::User { arn, .. } => Tri::from_bool(
                (c.kind == CallerKind::User && c.arn == *arn)
                    || (c.kind == CallerKind::FederatedUser
                        && c.federating_user.as_deref() == Some(arn.as_str())),
            ),
            PrincipalClass::Role { arn, .. } => Tri::from_bool(
                c.kind == CallerKind::AssumedRole && c.role_arn.as_deref() == Some(arn.as_str()),
            ),
            PrincipalClass::AssumedRole { arn, .. } => {
                if c.kind == CallerKind::AssumedRole && c.arn == *arn {
                    Tri::Yes
                } else if c.session_open
                    && c.role_arn.is_some()
                    && arn.rsplit_once('/').map(|(h, _)| h)
                        == c.arn.rsplit_once('/').map(|(h, _)| h)
                {
                    Tri::Unknown
                } else {
                    Tri::No
                }
            }
            PrincipalClass::FederatedUser { arn, .. } => {
                Tri::from_bool(c.kind == CallerKind::FederatedUser && c.arn == *arn)
            }
            PrincipalClass::Account { account, .. } => {
                if *account != c.account
                    || matches!(c.kind, CallerKind::Service | CallerKind::Anonymous)
                {
                    Tri::No
                } else if c.kind == CallerKind::Root {
                    Tri::Yes
                } else if run.opts.open.account_grantee_root_only {
                    Tri::No
                } else {
                    // Q7: principals of the account whose IAM allows the action on the key;
                    // R71 (v2): that is R54's IAM side in full, so the permissions boundary
                    // and session policies limit it too.
                    id_allow.tri().and(pb_t).and(sp_t)
                }
            }
            _ => Tri::No,
        }
    };
    if grantee == Tri::No {
        if !run.opts.trace {
            return (Tri::No, false, String::new());
        }
        return (
            Tri::No,
            false,
            format!("grant {label} is for `{}`, not the caller", g.grantee),
        );
    }
    // Operation (R72); only grantable operations can be granted (R70).
    if !action.grantable || !g.operations.iter().any(|o| o == action.name) {
        return (
            Tri::No,
            true,
            format!(
                "grant {label} names the caller but its operations ({}) do not include `{}`",
                g.operations.join(", "),
                action.name
            ),
        );
    }
    // Constraints (R73).
    let mut t = grantee;
    let ignore_ec = matches!(action.name, "DescribeKey" | "RetireGrant");
    let residual_ec = run.opts.residual && run.ctx.req.encryption_context.is_none();
    if !ignore_ec {
        if let Some(eq) = &g.constraints.equals {
            let ok = if residual_ec {
                Tri::Unknown
            } else {
                ec_constraint(eq, run.ctx.ec.as_deref().unwrap_or(&[]), true)
            };
            if ok == Tri::No {
                return (
                    Tri::No,
                    true,
                    format!(
                        "grant {label} requires the encryption context to equal {} exactly (keys in any case, values case-sensitive), and the request's does not",
                        fmt_map(eq)
                    ),
                );
            }
            t = t.and(ok);
        }
        if let Some(sub) = &g.constraints.subset {
            let ok = if residual_ec {
                Tri::Unknown
            } else {
                ec_constraint(sub, run.ctx.ec.as_deref().unwrap_or(&[]), false)
            };
            if ok == Tri::No {
                return (
                    Tri::No,
                    true,
                    format!(
                        "grant {label} requires the encryption context to include {} (keys in any case, values case-sensitive), and the request's does not",
                        fmt_map(sub)
                    ),
                );
            }
            t = t.and(ok);
        }
    }
    if let Some(src) = &g.constraints.source_arn {
        if action.name != "RetireGrant" {
            let given = run
                .ctx
                .req
                .context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("aws:SourceArn"))
                .map(|(_, v)| v.as_str());
            let ok = match given {
                Some(v) if run.opts.open.grant_source_arn_pattern => Tri::from_bool(
                    crate::pattern::Pattern::parse(src, true, false)
                        .0
                        .matches(v),
                ),
                Some(v) => Tri::from_bool(v == src),
                None if run.opts.residual => Tri::Unknown,
                None => Tri::No,
            };
            if ok == Tri::No {
                return (
                    Tri::No,
                    true,
                    format!("grant {label} requires `aws:SourceArn` to be `{src}`"),
                );
            }
            t = t.and(ok);
        }
    }
    // R74: CreateGrant through a grant: the child must be no broader than the parent.
    if action.name == "CreateGrant" {
        match &run.ctx.req.grant_request {
            None => t = t.and(Tri::Unknown),
            Some(child) => {
                let ops_ok = child.operations.iter().all(|o| g.operations.contains(o));
                let strict_ok = match (&g.constraints.subset, &g.constraints.equals) {
                    (Some(ps), _) => {
                        // R73 (v2): constraint keys in any case, values exact.
                        let within = |m: &std::collections::BTreeMap<String, String>| {
                            ps.iter().all(|(k, v)| {
                                m.iter()
                                    .any(|(mk, mv)| mk.eq_ignore_ascii_case(k) && mv == v)
                            })
                        };
                        child.constraints.subset.as_ref().is_some_and(within)
                            || child.constraints.equals.as_ref().is_some_and(within)
                    }
                    (None, Some(pe)) => child.constraints.equals.as_ref().is_some_and(|ce| {
                        let covers = |a: &std::collections::BTreeMap<String, String>,
                                      b: &std::collections::BTreeMap<String, String>| {
                            a.iter().all(|(k, v)| {
                                b.iter().any(|(bk, bv)| bk.eq_ignore_ascii_case(k) && bv == v)
                            })
                        };
                        covers(pe, ce) && covers(ce, pe)
                    }),
                    (None, None) => true,
                };
                if !ops_ok || !strict_ok {
                    return (
                        Tri::No,
                        true,
                        format!(
                            "grant {label} allows CreateGrant only for child grants with a subset of its operations and constraints at least as strict (R74)"
                        ),
                    );
                }
            }
        }
    }
    // Q5: boundaries and session policies do not limit grants by default.
    if run.opts.open.boundary_limits_grants {
        t = t.and(pb_t).and(sp_t);
    }
    // Q6: a cross-account grantee needs no IAM allow by default.
    if run.opts.open.cross_account_grant_needs_iam && !same_account && c.kind != CallerKind::Root {
        t = t.and(id_allow.tri());
    }
    let why = if t == Tri::Unknown {
        format!(
            "grant {label}: whether it applies cannot be judged (an account grantee's IAM, a session name, or the requested grant is not known)"
        )
    } else {
        String::new()
    };
    (t, true, why)
}

/// R73 (v2): does an encryption-context constraint hold for the request's context? A pair's key
/// compares case-insensitively, its value case-sensitively; the request's context is a set of
/// distinct pairs (a pair given twice is one pair). `equals` also needs every request pair in
/// the constraint. A request holding two entries whose keys differ only by case, where the
/// constraint names that key, is unknown: AWS documents only "do not do this".
fn ec_constraint(
    constraint: &std::collections::BTreeMap<String, String>,
    req: &[(&str, &str)],
    equals: bool,
) -> Tri {
    let mut t = Tri::Yes;
    for (ck, cv) in constraint {
        let mut found: Option<(&str, &str)> = None;
        let mut twins = false;
        for &(rk, rv) in req {
            if rk.eq_ignore_ascii_case(ck) {
                match found {
                    // The same pair again is one pair; another case or value is a twin.
                    Some(f) if f != (rk, rv) => twins = true,
                    _ => found = Some((rk, rv)),
                }
            }
        }
        t = t.and(match found {
            None => Tri::No,
            Some(_) if twins => Tri::Unknown,
            Some((_, v)) => Tri::from_bool(v == cv),
        });
        if t == Tri::No {
            return t;
        }
    }
    if equals {
        for (rk, rv) in req {
            let listed = constraint
                .iter()
                .any(|(ck, cv)| ck.eq_ignore_ascii_case(rk) && cv == rv);
            if !listed {
                let key_named = constraint.keys().any(|ck| ck.eq_ignore_ascii_case(rk));
                // A twin of a named key whose value differs: the twin rule above decides.
                t = t.and(if key_named && t == Tri::Unknown {
                    Tri::Unknown
                } else {
                    Tri::No
                });
                if t == Tri::No {
                    return t;
                }
            }
        }
    }
    t
}

/// A grant's label, formatted only when a message needs it.
struct LazyLabel<'g>(&'g Grant);

impl std::fmt::Display for LazyLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.label())
    }
}

fn fmt_map(m: &std::collections::BTreeMap<String, String>) -> String {
    let parts: Vec<String> = m.iter().map(|(k, v)| format!("`{k}`=`{v}`")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// R75: RetireGrant is authorized by the target grant, not by the key policy.
fn retire_path(
    inputs: &Inputs,
    req: &Request,
    run: &Run<'_>,
    facts: Option<&KeyFacts>,
    iam_side: Tri,
) -> (Tri, Vec<String>, Vec<String>) {
    let c = run.ctx.caller;
    let Some(gid) = &req.grant_id else {
        return (
            Tri::Unknown,
            Vec::new(),
            vec!["`kms:RetireGrant` is decided by the target grant: give `--grant-id`".into()],
        );
    };
    let grants = facts
        .and_then(|f| inputs.key(&f.arn))
        .and_then(|k| k.grants.as_deref())
        .unwrap_or(&[]);
    let Some(g) = grants.iter().find(|g| {
        g.grant_id.as_deref() == Some(gid.as_str())
            && facts.is_none_or(|f| grant_on_key(g, f) != Tri::No)
    }) else {
        return (
            Tri::Unknown,
            Vec::new(),
            vec![format!(
                "grant `{gid}` is not among the grants given for this key"
            )],
        );
    };
    let matches = |who: &str| -> Tri {
        if !who.starts_with("arn:") {
            return Tri::from_bool(c.kind == CallerKind::Service && c.arn == who);
        }
        match classify_aws_principal(who) {
            PrincipalClass::User { arn, .. } => {
                Tri::from_bool(c.kind == CallerKind::User && c.arn == arn)
            }
            PrincipalClass::Role { arn, .. } => {
                Tri::from_bool(c.role_arn.as_deref() == Some(arn.as_str()))
            }
            PrincipalClass::AssumedRole { arn, .. } | PrincipalClass::FederatedUser { arn, .. } => {
                Tri::from_bool(c.arn == arn)
            }
            PrincipalClass::Account { account, .. } => {
                if account != c.account {
                    Tri::No
                } else if c.kind == CallerKind::Root {
                    Tri::Yes
                } else {
                    iam_side
                }
            }
            _ => Tri::No,
        }
    };
    let label = g.label();
    let by_retiring = g.retiring.as_deref().map_or(Tri::No, matches);
    let by_grantee = if g.operations.iter().any(|o| o == "RetireGrant") {
        matches(&g.grantee)
    } else {
        Tri::No
    };
    let issuing = g
        .issuing_account
        .as_deref()
        .and_then(|a| crate::arn::split_arn(a).map(|p| p.account.to_owned()));
    let by_issuer = match issuing {
        Some(acct) if acct == c.account => {
            if c.kind == CallerKind::Root {
                Tri::Yes
            } else {
                iam_side
            }
        }
        _ => Tri::No,
    };
    let on_key = facts.map_or(Tri::Yes, |f| grant_on_key(g, f));
    let t = by_retiring.or(by_grantee).or(by_issuer).and(on_key);
    let mut why = Vec::new();
    if t != Tri::Yes {
        why.push(format!(
            "grant {label} may be retired by its retiring principal ({}), by its grantee only if its operations include `RetireGrant` ({}), or by the issuing account's principals allowed by IAM — the caller is none of these; `kms:RetireGrant` in a key policy has no effect",
            g.retiring.as_deref().unwrap_or("none"),
            g.operations.join(", ")
        ));
    }
    (t, vec![format!("grant {label}")], why)
}
