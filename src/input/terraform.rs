//! `terraform show -json` output: plans and state (spec R131–R133, R135).
//!
//! Reads the after-state of every resource instance (from `resource_changes`, skipping
//! deletions, else from `planned_values` or state `values`), in modules at any depth, with
//! `count`/`for_each` instances. Each policy string becomes its own source
//! (`plan.json › aws_kms_key.main › policy`). A key's policy that is unknown until apply is
//! recorded as unknown — unless the configuration sets no `policy` at all, when the default
//! key policy applies (R117, R135) — and `aws_kms_key_policy` replaces the policy of the key its
//! `key_id` refers to, resolved through `configuration` references.

use std::collections::BTreeMap;

mod world;

use super::{Fact, InputOptions, Loaded, PolicyRole, embedded, strings};
use crate::diag::{Finding, input_rules};
use crate::grant::{Grant, GrantConstraints};
use crate::json::{Json, JsonKind};
use crate::model::{KeySettings, PlannedKey, PlannedPolicy, Setting};
use crate::policy::PolicyKind;
use crate::source::{SourceId, SourceMap, Span};

/// One resource instance's after-values.
struct Instance<'j, 'a> {
    address: String,
    module: String,
    ty: String,
    name: String,
    after: &'j Json<'a>,
    unknown: Option<&'j Json<'a>>,
    sensitive: Option<&'j Json<'a>>,
    /// The plan creates it (`create`, or a replacement); otherwise it exists already.
    created: bool,
}

fn s(v: &Json<'_>, k: &str) -> Option<String> {
    v.get(k).and_then(Json::as_str).map(str::to_owned)
}

fn is_true(v: Option<&Json<'_>>) -> bool {
    matches!(v.map(|x| &x.kind), Some(JsonKind::Bool(true)))
}

/// `module.a.module.b.aws_kms_key.x[0]` → (`module.a.module.b`, `aws_kms_key.x`).
fn split_address(address: &str, module: &str) -> String {
    let rest = if module.is_empty() {
        address
    } else {
        address.get(module.len() + 1..).unwrap_or(address)
    };
    rest.split('[').next().unwrap_or(rest).to_owned()
}

/// A module instance's address as its call path in the configuration: `count` and `for_each`
/// keys dropped (`module.keys["a"].module.x[0]` → `module.keys.module.x`).
fn module_call_path(module: &str) -> String {
    let mut out = String::with_capacity(module.len());
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for c in module.chars() {
        if depth > 0 {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                '[' if !quoted => depth += 1,
                ']' if !quoted => depth -= 1,
                _ => {}
            }
        } else if c == '[' {
            depth = 1;
        } else {
            out.push(c);
        }
    }
    out
}

/// The configuration's resources by (module path, `type.name`).
/// `too_deep` is set when modules nest past [`MAX_MODULE_DEPTH`].
fn config_resources<'j, 'a>(
    j: &'j Json<'a>,
    too_deep: &mut bool,
) -> BTreeMap<(String, String), &'j Json<'a>> {
    let mut out = BTreeMap::new();
    fn walk<'j, 'a>(
        m: &'j Json<'a>,
        path: &str,
        out: &mut BTreeMap<(String, String), &'j Json<'a>>,
        depth: usize,
        too_deep: &mut bool,
    ) {
        if depth > MAX_MODULE_DEPTH {
            *too_deep = true;
            return;
        }
        for r in m.get("resources").and_then(Json::as_array).unwrap_or(&[]) {
            if let Some(a) = r.get("address").and_then(Json::as_str) {
                out.insert((path.to_owned(), a.to_owned()), r);
            }
        }
        for mc in m
            .get("module_calls")
            .and_then(Json::as_object)
            .unwrap_or(&[])
        {
            let child = if path.is_empty() {
                format!("module.{}", mc.key)
            } else {
                format!("{path}.module.{}", mc.key)
            };
            if let Some(module) = mc.value.get("module") {
                walk(module, &child, out, depth + 1, too_deep);
            }
        }
    }
    if let Some(root) = j.get("configuration").and_then(|c| c.get("root_module")) {
        walk(root, "", &mut out, 0, too_deep);
    }
    out
}

/// How deep modules may nest before a plan or state is refused as not fully read. Terraform
/// sets no limit; the JSON depth cap (two levels a module) bounds the walk anyway, so this
/// only has to be above anything real — and it is reported when crossed, never a silent cut.
const MAX_MODULE_DEPTH: usize = 64;

/// Which world of a plan a read builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlanSide {
    /// The world after apply: each resource's `after` (the plan as `check` reads it).
    After,
    /// The world as it is: each resource's `before`, and the prior state's values. Nothing in
    /// it is unknown, and nothing is created.
    Before,
}

/// Instances from `resource_changes` (skipping deletions), else `planned_values` / `values`;
/// on the `Before` side, each change's `before` (skipping creations), else the prior state.
fn instances<'j, 'a>(
    j: &'j Json<'a>,
    side: PlanSide,
    too_deep: &mut bool,
) -> Vec<Instance<'j, 'a>> {
    let mut out = Vec::new();
    if let Some(rcs) = j.get("resource_changes").and_then(Json::as_array) {
        for rc in rcs {
            let Some(change) = rc.get("change") else {
                continue;
            };
            let actions: Vec<&str> = change
                .get("actions")
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            let (values, unknown, sensitive, created) = match side {
                PlanSide::After if actions == ["delete"] => continue,
                PlanSide::After => (
                    change.get("after"),
                    change.get("after_unknown"),
                    change.get("after_sensitive"),
                    actions.contains(&"create"),
                ),
                PlanSide::Before => (
                    change.get("before"),
                    None,
                    change.get("before_sensitive"),
                    false,
                ),
            };
            let Some(after) = values.filter(|a| a.as_object().is_some()) else {
                continue;
            };
            out.push(Instance {
                address: s(rc, "address").unwrap_or_default(),
                module: s(rc, "module_address").unwrap_or_default(),
                ty: s(rc, "type").unwrap_or_default(),
                name: s(rc, "name").unwrap_or_default(),
                after,
                unknown,
                sensitive,
                created,
            });
        }
        return out;
    }
    fn walk<'j, 'a>(
        m: &'j Json<'a>,
        out: &mut Vec<Instance<'j, 'a>>,
        depth: usize,
        too_deep: &mut bool,
    ) {
        if depth > MAX_MODULE_DEPTH {
            *too_deep = true;
            return;
        }
        let module = s(m, "address").unwrap_or_default();
        for r in m.get("resources").and_then(Json::as_array).unwrap_or(&[]) {
            if let Some(values) = r.get("values") {
                out.push(Instance {
                    address: s(r, "address").unwrap_or_default(),
                    module: module.clone(),
                    ty: s(r, "type").unwrap_or_default(),
                    name: s(r, "name").unwrap_or_default(),
                    after: values,
                    unknown: None,
                    sensitive: r.get("sensitive_values"),
                    created: false,
                });
            }
        }
        for c in m
            .get("child_modules")
            .and_then(Json::as_array)
            .unwrap_or(&[])
        {
            walk(c, out, depth + 1, too_deep);
        }
    }
    let root = match side {
        PlanSide::After => j.get("planned_values"),
        PlanSide::Before => j.get("prior_state").and_then(|p| p.get("values")),
    }
    .or_else(|| j.get("values"))
    .and_then(|v| v.get("root_module"));
    if let Some(root) = root {
        walk(root, &mut out, 0, too_deep);
    }
    out
}

/// The resource address an attribute refers to (`aws_kms_key.a.id` → `aws_kms_key.a`),
/// inside the instance's module.
fn reference(config: Option<&Json<'_>>, attr: &str, module: &str) -> Option<String> {
    let refs = config?
        .get("expressions")?
        .get(attr)?
        .get("references")?
        .as_array()?;
    let r = refs
        .iter()
        .filter_map(Json::as_str)
        .find(|r| !r.starts_with("var.") && !r.starts_with("local."))?;
    let mut parts: Vec<&str> = r.split('.').collect();
    // `type.name.attr` → `type.name`; `data.type.name.attr` keeps `data.`.
    let keep = if parts.first() == Some(&"data") { 3 } else { 2 };
    parts.truncate(keep);
    let base = parts.join(".");
    Some(if module.is_empty() {
        base
    } else {
        format!("{module}.{base}")
    })
}

fn configured(config: Option<&Json<'_>>, attr: &str) -> bool {
    config
        .and_then(|c| c.get("expressions"))
        .and_then(|e| e.get(attr))
        .is_some()
}

/// A key resource's declared settings, with their spans in the plan.
fn tf_settings(inst: &Instance<'_, '_>, id: SourceId) -> KeySettings {
    let at = |k: &str| {
        inst.after
            .get(k)
            .filter(|v| !matches!(v.kind, JsonKind::Null))
    };
    let flag = |k: &str| {
        at(k).and_then(|v| match v.kind {
            JsonKind::Bool(b) => Some(Setting {
                value: b,
                source: id,
                span: v.span,
            }),
            _ => None,
        })
    };
    let text = |k: &str| at(k).and_then(Json::as_str).map(str::to_owned);
    let external = inst.ty.contains("external");
    KeySettings {
        resource_type: inst.ty.clone(),
        source: id,
        span: inst.after.span,
        bypass: flag("bypass_policy_lockout_safety_check").filter(|b| b.value),
        rotation: flag("enable_key_rotation"),
        deletion_window: at("deletion_window_in_days").and_then(|v| {
            let n = match &v.kind {
                JsonKind::Number(n) => n.parse::<u64>().ok(),
                _ => None,
            }?;
            Some(Setting {
                value: n,
                source: id,
                span: v.span,
            })
        }),
        key_spec: text("customer_master_key_spec").or_else(|| text("key_spec")),
        key_usage: text("key_usage"),
        origin: if external {
            Some("EXTERNAL".into())
        } else if text("custom_key_store_id").is_some() {
            Some("AWS_CLOUDHSM".into())
        } else {
            None
        },
        replica: inst.ty.contains("replica"),
    }
}

/// A plan-level finding is about a resource: its address names it in every format and is its
/// identity, as for the declared-key rules.
fn about(f: &mut Finding, address: &str) {
    f.fingerprint = Some(crate::diag::fingerprint(f.rule.code, address, "", ""));
    f.about = Some(crate::diag::About {
        identity: address.to_owned(),
        statement: String::new(),
    });
}

/// Where one plan's readers write: its source, the options, the sources and what is loaded.
struct Sink<'r> {
    id: SourceId,
    opts: &'r InputOptions,
    sources: &'r mut SourceMap,
    out: &'r mut Loaded,
}

impl Sink<'_> {
    /// Reads the policy string `attr` of `inst` as a policy of `kind` in `role`: `Some(true)`
    /// when it is given, `Some(false)` when the attribute is empty or not a string, `None`
    /// when it is absent.
    fn policy_string(
        &mut self,
        inst: &Instance<'_, '_>,
        attr: &str,
        kind: PolicyKind,
        role: PolicyRole,
    ) -> Option<bool> {
        let (id, opts, sources, out) = (self.id, self.opts, &mut *self.sources, &mut *self.out);
        match inst.after.get(attr) {
            Some(v) => match &v.kind {
                JsonKind::String(text) if !text.is_empty() => {
                    let first_source = sources.len();
                    let before = out.policies.len();
                    let mut o = opts.clone();
                    o.policy_kind = Some(kind);
                    o.input_kind = None;
                    embedded(
                        v,
                        text,
                        id,
                        &format!("{} › {attr}", inst.address),
                        &o,
                        sources,
                        out,
                        1,
                    );
                    for p in out.policies.iter_mut().skip(before) {
                        p.role = role.clone();
                        p.label = format!("{} › {attr}", inst.address);
                    }
                    // Sensitive values are evaluated but never printed (R133).
                    if inst.sensitive.is_some_and(|s| is_true(s.get(attr))) {
                        sources.mark_sensitive_from(first_source);
                    }
                    Some(true)
                }
                _ => Some(false),
            },
            None => None,
        }
    }
}

/// The state shared by the readers of one plan's resource instances.
struct Ctx<'r> {
    io: Sink<'r>,
    has_configuration: bool,
    place: world::Place,
    principals: world::Principals,
    /// Managed policies of the plan whose document is known only after apply.
    late_policies: BTreeMap<String, ()>,
    keys: BTreeMap<String, PlannedKey>,
    /// The keys `aws_kms_key_policy` resources name (as written), with their own address.
    replaced: Vec<(String, String)>,
    /// R113: `bypass_policy_lockout_safety_check` on an `aws_kms_key_policy`, by target key.
    bypassed: Vec<(String, Setting<bool>)>,
    /// R133: the `aws_kms_key_policy` resources whose policy is known only after apply: the
    /// key they name (as written), their address and where they are.
    late_key_policies: Vec<(Option<String>, String, Span)>,
}

/// Whether the plan marks `attr` of `inst` as known only after apply.
fn unknown(inst: &Instance<'_, '_>, attr: &str) -> bool {
    inst.unknown.is_some_and(|u| is_true(u.get(attr)))
}

/// R135: 0.x (Terraform 0.12–1.0) and 1.x are compatible; another major is not, and is
/// reported.
fn version_supported(j: &Json<'_>, id: SourceId, head: Span, out: &mut Loaded) -> bool {
    let version = j.get("format_version").and_then(Json::as_str).unwrap_or("");
    if version.starts_with("0.") || version.starts_with("1.") {
        return true;
    }
    out.findings.push(
        Finding::new(
            &input_rules::MALFORMED_INPUT,
            id,
            j.get("format_version").map_or(head, |v| v.span),
            format!("Terraform JSON `format_version` {version:?} is not one kmsaudit reads"),
            "unknown major version",
        )
        .help("kmsaudit reads `terraform show -json` output with format_version 0.x and 1.x"),
    );
    false
}

/// Reads a plan or state.
pub(super) fn read(
    j: &Json<'_>,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
) {
    read_side(j, id, opts, sources, out, PlanSide::After);
}

/// Reads one world of a plan (a state has only the one world, `After`).
pub(super) fn read_side(
    j: &Json<'_>,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
    side: PlanSide,
) {
    let head = Span::new(j.span.start as usize, j.span.start as usize + 1);
    if !version_supported(j, id, head, out) {
        return;
    }
    let mut too_deep = false;
    let config = config_resources(j, &mut too_deep);
    let insts = instances(j, side, &mut too_deep);
    if too_deep {
        out.findings.push(
            Finding::new(
                &input_rules::INPUT_LIMIT,
                id,
                head,
                format!("modules nest more than {MAX_MODULE_DEPTH} deep: the resources below that were not read"),
                "too deep",
            )
            .help("check that this is the plan or state you meant"),
        );
    }
    // R133, R117: a policy unknown until apply is the default only when the configuration
    // shows the resource sets none. Without the configuration (or without this resource in
    // it) that cannot be told, so the policy is unknown, never assumed to be the default.
    let has_configuration = j.get("configuration").is_some();
    let text = sources.get(id).map(|f| f.text.clone());
    let place = world::place(j, text.as_deref(), &config, &opts.template);
    let principals = world::created(&insts, &config, &place);
    let mut cx = Ctx {
        io: Sink {
            id,
            opts,
            sources,
            out,
        },
        has_configuration,
        place,
        principals,
        late_policies: BTreeMap::new(),
        keys: BTreeMap::new(),
        replaced: Vec::new(),
        bypassed: Vec::new(),
        late_key_policies: Vec::new(),
    };
    for inst in &insts {
        let cfg = config
            .get(&(
                module_call_path(&inst.module),
                split_address(&inst.address, &inst.module),
            ))
            .copied();
        match inst.ty.as_str() {
            "aws_kms_key"
            | "aws_kms_external_key"
            | "aws_kms_replica_key"
            | "aws_kms_replica_external_key" => read_key(&mut cx, inst, cfg),
            "aws_kms_key_policy" => read_key_policy(&mut cx, inst, cfg),
            "aws_kms_grant" => read_grant(&mut cx, inst, cfg),
            "aws_kms_alias" => read_alias(&mut cx, inst, cfg),
            "aws_iam_policy" => read_iam_policy(&mut cx, inst),
            "aws_iam_role" => read_role(&mut cx, inst),
            "aws_iam_role_policy" | "aws_iam_user_policy" | "aws_iam_group_policy" => {
                read_inline_policy(&mut cx, inst, cfg);
            }
            "aws_iam_role_policy_attachment"
            | "aws_iam_user_policy_attachment"
            | "aws_iam_group_policy_attachment" => read_policy_attachment(&mut cx, inst, cfg),
            "aws_iam_policy_attachment" => read_shared_policy_attachment(&mut cx, inst, cfg),
            "aws_iam_group_membership" => read_group_membership(&mut cx, inst, cfg),
            "aws_iam_user_group_membership" => read_user_group_membership(&mut cx, inst, cfg),
            _ => {}
        }
        let _ = &inst.name;
    }
    let Ctx {
        io: Sink { out, .. },
        place,
        principals,
        late_policies,
        mut keys,
        replaced,
        bypassed,
        late_key_policies,
        ..
    } = cx;
    principals.emit(&late_policies, out);
    for (target, b) in bypassed {
        let found = planned_keys(&keys, Some(&target), "");
        if found.is_empty() {
            out.findings
                .push(crate::diag::input_rules::bypass_in_request(
                    b.source,
                    b.span,
                    Some(&target),
                ));
        }
        for address in found {
            if let Some(k) = keys.get_mut(&address) {
                k.settings.bypass.get_or_insert(b.clone());
            }
        }
    }
    // R133: a policy known only after apply leaves its key's policy unknown, whichever form
    // names the key; when no planned key is found, the policy resource itself is reported.
    let mut late_policies = 0;
    for (target, address, span) in late_key_policies {
        let found = planned_keys(&keys, target.as_ref(), &address);
        if found.is_empty() {
            late_policies += 1;
            let on = target.as_deref().map_or_else(
                || "a key not known until apply".to_owned(),
                |t| format!("`{t}`"),
            );
            let mut f = Finding::new(
                &input_rules::UNKNOWN_VALUE,
                id,
                span,
                format!("the policy `{address}` sets on {on} is known only after apply: it was not checked, and answers that depend on it are undetermined"),
                "unknown until apply",
            )
            .help("render the policy in the configuration (a literal or `jsonencode`), or check the applied key with `aws kms get-key-policy`");
            about(&mut f, &address);
            out.findings.push(f);
        }
        for a in found {
            if let Some(k) = keys.get_mut(&a) {
                k.policy = PlannedPolicy::Unknown;
            }
        }
    }
    let replaced: BTreeMap<String, ()> = replaced
        .iter()
        .flat_map(|(t, policy)| planned_keys(&keys, Some(t), policy))
        .map(|a| (a, ()))
        .collect();
    for (address, k) in &mut keys {
        // An aws_kms_key_policy replaces the key's policy (R132).
        if replaced.contains_key(address) && k.policy != PlannedPolicy::Unknown {
            k.policy = PlannedPolicy::Given;
        }
    }
    for k in keys.values() {
        if k.policy == PlannedPolicy::Unknown {
            let mut f = Finding::new(
                    &input_rules::UNKNOWN_VALUE,
                    id,
                    k.settings.span,
                    format!("the policy of `{}` is known only after apply: it was not checked, and answers that depend on it are undetermined", k.address),
                    "unknown until apply",
                )
                .help("render the policy in the configuration (a literal or `jsonencode`), or check the applied key with `aws kms get-key-policy`");
            about(&mut f, &k.address);
            out.findings.push(f);
        }
    }
    // R135: the account from `data.aws_caller_identity` in prior state, the Region from the
    // provider configuration.
    let identity = j
        .get("prior_state")
        .and_then(|p| p.get("values"))
        .and_then(|v| v.get("root_module"))
        .and_then(|r| r.get("resources"))
        .and_then(Json::as_array)
        .and_then(|rs| {
            rs.iter()
                .find(|r| s(r, "type").as_deref() == Some("aws_caller_identity"))
        })
        .and_then(|r| r.get("values"));
    let account = place.account.clone();
    // The principal running the plan: who will call CreateKey and PutKeyPolicy (R112).
    let caller = identity.and_then(|v| s(v, "arn"));
    let region = place.region_of(None);
    out.facts.push(Fact::TerraformKeys {
        late_policies,
        keys: keys.into_values().collect(),
        account,
        region,
        caller,
    });
}

/// `aws_kms_key`, `aws_kms_external_key` and their replicas: a planned key.
fn read_key(cx: &mut Ctx<'_>, inst: &Instance<'_, '_>, cfg: Option<&Json<'_>>) {
    let id = cx.io.id;
    let given = cx.io.policy_string(
        inst,
        "policy",
        PolicyKind::Key,
        PolicyRole::KeyPolicy {
            key: Some(inst.address.clone()),
            name: "default".into(),
        },
    ) == Some(true);
    let policy = if given {
        PlannedPolicy::Given
    } else if unknown(inst, "policy")
        && (configured(cfg, "policy") || !cx.has_configuration || cfg.is_none())
    {
        PlannedPolicy::Unknown
    } else {
        PlannedPolicy::Default
    };
    let provider = cfg.and_then(|c| s(c, "provider_config_key"));
    let replica = inst.ty.contains("replica");
    cx.keys.insert(
        inst.address.clone(),
        PlannedKey {
            address: inst.address.clone(),
            arn: s(inst.after, "arn").filter(|_| !unknown(inst, "arn")),
            key_id: s(inst.after, "key_id").filter(|_| !unknown(inst, "key_id")),
            policy,
            settings: tf_settings(inst, id),
            region: cx.place.region_of(provider.as_deref()),
            multi_region: replica || is_true(inst.after.get("multi_region")),
            primary: if replica {
                reference(cfg, "primary_key_arn", &inst.module)
            } else {
                None
            },
            partition: cx.place.partition.clone(),
        },
    );
}

/// `aws_kms_key_policy`: replaces the policy of the key its `key_id` refers to (R132).
fn read_key_policy(cx: &mut Ctx<'_>, inst: &Instance<'_, '_>, cfg: Option<&Json<'_>>) {
    let id = cx.io.id;
    let target = reference(cfg, "key_id", &inst.module).or_else(|| s(inst.after, "key_id"));
    if let Some(t) = &target {
        cx.replaced.push((t.clone(), inst.address.clone()));
        if let Some(b) = tf_settings(inst, id).bypass {
            cx.bypassed.push((t.clone(), b));
        }
    }
    let given = cx.io.policy_string(
        inst,
        "policy",
        PolicyKind::Key,
        PolicyRole::KeyPolicy {
            key: target.clone(),
            name: "default".into(),
        },
    );
    if given != Some(true) && unknown(inst, "policy") {
        // Resolved once every key of the plan is read: a key in a module may come later.
        cx.late_key_policies
            .push((target, inst.address.clone(), inst.after.span));
    }
}

/// The planned keys a `key_id` reference names, as [`reference`] gives it: the key at that
/// address; with `for_each` or `count`, the instance with the policy resource's own index
/// (`aws_kms_key.this["a"]` for `aws_kms_key_policy.this["a"]`); otherwise every instance
/// of that resource, or every key of that module (`module.kms`), since which one is meant
/// is not known. Empty when the reference names no planned key (an existing key's id).
fn planned_keys(
    keys: &BTreeMap<String, PlannedKey>,
    target: Option<&String>,
    policy_address: &str,
) -> Vec<String> {
    let Some(t) = target else {
        return Vec::new();
    };
    if keys.contains_key(t) {
        return vec![t.clone()];
    }
    if let Some(index) = policy_address
        .rfind('[')
        .filter(|_| policy_address.ends_with(']'))
        .and_then(|i| policy_address.get(i..))
    {
        let instance = format!("{t}{index}");
        if keys.contains_key(&instance) {
            return vec![instance];
        }
    }
    let (by_index, in_module) = (format!("{t}["), format!("{t}."));
    keys.keys()
        .filter(|a| {
            a.starts_with(&by_index) || (t.starts_with("module.") && a.starts_with(&in_module))
        })
        .cloned()
        .collect()
}

/// `aws_kms_grant`: a grant on the key its `key_id` refers to.
fn read_grant(cx: &mut Ctx<'_>, inst: &Instance<'_, '_>, cfg: Option<&Json<'_>>) {
    let id = cx.io.id;
    let key = reference(cfg, "key_id", &inst.module).or_else(|| s(inst.after, "key_id"));
    let mut constraints = GrantConstraints::default();
    for c in inst
        .after
        .get("constraints")
        .and_then(Json::as_array)
        .unwrap_or(&[])
    {
        let map = |k: &str| -> Option<BTreeMap<String, String>> {
            let m = c.get(k)?.as_object()?;
            Some(
                m.iter()
                    .filter_map(|x| Some((x.key.to_string(), x.value.as_str()?.to_owned())))
                    .collect(),
            )
        };
        constraints.equals = constraints
            .equals
            .or_else(|| map("encryption_context_equals"));
        constraints.subset = constraints
            .subset
            .or_else(|| map("encryption_context_subset"));
    }
    // A grantee or retiring principal known only after apply is the plan's
    // principal the configuration refers to.
    let principal_of = |attr: &str| {
        s(inst.after, attr)
            .filter(|_| !unknown(inst, attr))
            .or_else(|| {
                let r = reference(cfg, attr, &inst.module)?;
                cx.principals.by_address(&r).map(|p| p.arn.clone())
            })
    };
    let found = principal_of("grantee_principal");
    // R133: known only after apply and not one of the plan's principals: it may be anyone.
    let late = crate::grant::LateParts {
        grantee: found.is_none() && unknown(inst, "grantee_principal"),
        operations: unknown_within(inst, "operations"),
        constraints: unknown_within(inst, "constraints"),
    };
    let grantee = match found {
        Some(g) => g,
        None if late.grantee => LATE_GRANTEE.to_owned(),
        None => String::new(),
    };
    if late.any() {
        let parts: Vec<&str> = [
            (late.grantee, "grantee"),
            (late.operations, "operations"),
            (late.constraints, "constraints"),
        ]
        .iter()
        .filter(|(l, _)| *l)
        .map(|(_, n)| *n)
        .collect();
        let mut f = Finding::new(
            &input_rules::UNKNOWN_VALUE,
            id,
            inst.after.span,
            format!(
                "the {} of `{}` {} known only after apply: answers that depend on the grant are undetermined",
                parts.join(" and "),
                inst.address,
                if parts == ["grantee"] { "is" } else { "are" }
            ),
            "unknown until apply",
        )
        .help("name the grantee with a principal of the plan or a literal ARN, or check the applied grant with `aws kms list-grants`");
        about(&mut f, &inst.address);
        cx.io.out.findings.push(f);
    }
    let retiring = principal_of("retiring_principal");
    cx.io.out.facts.push(Fact::Grant(Grant {
        key_id: key,
        // A planned grant's id is known only after apply: its address names it.
        grant_id: s(inst.after, "grant_id")
            .filter(|_| !unknown(inst, "grant_id"))
            .or_else(|| Some(inst.address.clone())),
        name: s(inst.after, "name").or_else(|| Some(inst.address.clone())),
        grantee_class: crate::arn::classify_aws_principal(&grantee),
        grantee_is_service: !grantee.starts_with("arn:") && grantee.contains(".amazonaws.com"),
        grantee,
        retiring,
        issuing_account: None,
        operations: strings(inst.after.get("operations")),
        constraints,
        source: id,
        span: inst.after.span,
        grantee_span: inst
            .after
            .get("grantee_principal")
            .map_or(inst.after.span, |g| g.span),
        operations_span: inst
            .after
            .get("operations")
            .map_or(inst.after.span, |o| o.span),
        late,
    }));
}

/// How a planned grant's grantee known only after apply is shown.
const LATE_GRANTEE: &str = "(known after apply)";

/// Whether the plan marks `attr` of `inst`, or anything inside it, as known only after apply.
fn unknown_within(inst: &Instance<'_, '_>, attr: &str) -> bool {
    fn any(v: &Json<'_>, depth: usize) -> bool {
        if depth > 16 {
            return true;
        }
        match &v.kind {
            JsonKind::Bool(b) => *b,
            JsonKind::Array(items) => items.iter().any(|x| any(x, depth + 1)),
            JsonKind::Object(members) => members.iter().any(|m| any(&m.value, depth + 1)),
            _ => false,
        }
    }
    inst.unknown
        .and_then(|u| u.get(attr))
        .is_some_and(|v| any(v, 0))
}

/// `aws_kms_alias`: an alias of the key its `target_key_id` refers to.
fn read_alias(cx: &mut Ctx<'_>, inst: &Instance<'_, '_>, cfg: Option<&Json<'_>>) {
    let target =
        reference(cfg, "target_key_id", &inst.module).or_else(|| s(inst.after, "target_key_id"));
    if let Some(name) = s(inst.after, "name") {
        cx.io.out.facts.push(Fact::Alias {
            name,
            arn: None,
            target,
        });
    }
}

/// `aws_iam_policy`: a managed policy of the plan.
fn read_iam_policy(cx: &mut Ctx<'_>, inst: &Instance<'_, '_>) {
    // Attachments name it by address (its ARN is known only after apply).
    let given = cx.io.policy_string(
        inst,
        "policy",
        PolicyKind::Identity,
        PolicyRole::Managed {
            arn: inst.address.clone(),
            default: true,
        },
    );
    if given != Some(true) && unknown(inst, "policy") {
        cx.late_policies.insert(inst.address.clone(), ());
    }
}

/// `aws_iam_role`: its trust policy and its `inline_policy` blocks.
fn read_role(cx: &mut Ctx<'_>, inst: &Instance<'_, '_>) {
    let arn = cx
        .principals
        .by_address(&inst.address)
        .map_or_else(|| inst.address.clone(), |p| p.arn.clone());
    cx.io.policy_string(
        inst,
        "assume_role_policy",
        PolicyKind::Trust,
        PolicyRole::Trust(arn.clone()),
    );
    let Sink {
        id,
        opts,
        sources,
        out,
    } = &mut cx.io;
    let (id, opts) = (*id, *opts);
    for ip in inst
        .after
        .get("inline_policy")
        .and_then(Json::as_array)
        .unwrap_or(&[])
    {
        if let Some(v) = ip.get("policy") {
            if let Some(text) = v.as_str().filter(|t| !t.is_empty()) {
                let before = out.policies.len();
                let mut o = opts.clone();
                o.policy_kind = Some(PolicyKind::Identity);
                embedded(
                    v,
                    text,
                    id,
                    &format!("{} › inline_policy", inst.address),
                    &o,
                    sources,
                    out,
                    1,
                );
                for p in out.policies.iter_mut().skip(before) {
                    p.role = PolicyRole::RoleInline(arn.clone());
                    p.label = format!("{} › inline_policy", inst.address);
                }
            }
        }
    }
}

/// `aws_iam_role_policy`, `aws_iam_user_policy`, `aws_iam_group_policy`: an inline policy of
/// the principal its `role`/`user`/`group` names.
fn read_inline_policy(cx: &mut Ctx<'_>, inst: &Instance<'_, '_>, cfg: Option<&Json<'_>>) {
    let id = cx.io.id;
    let (attr, kind) = match inst.ty.as_str() {
        "aws_iam_role_policy" => ("role", world::Kind::Role),
        "aws_iam_user_policy" => ("user", world::Kind::User),
        _ => ("group", world::Kind::Group),
    };
    let Some(owner) = cx.principals.owner(inst, cfg, attr, kind, &cx.place) else {
        return;
    };
    let Some(p) = cx.principals.list.get(owner) else {
        return;
    };
    let role = match kind {
        world::Kind::Role => PolicyRole::RoleInline(p.arn.clone()),
        world::Kind::User => PolicyRole::UserInline(p.arn.clone()),
        world::Kind::Group => PolicyRole::GroupInline(p.group_key()),
    };
    let given = cx
        .io
        .policy_string(inst, "policy", PolicyKind::Identity, role);
    if given != Some(true) && unknown(inst, "policy") {
        let why = format!("the policy of `{}` is known only after apply", inst.address);
        let mut f = Finding::new(
                &input_rules::UNKNOWN_VALUE,
                id,
                inst.after.get("policy").map_or(inst.after.span, |v| v.span),
                format!("{why}: it was not checked, and answers about `{}` that depend on it are undetermined", p.arn),
                "unknown until apply",
            )
            .help("render the policy in the configuration from values known at plan time (a key's ARN is not), or check the applied policy");
        about(&mut f, &inst.address);
        cx.io.out.findings.push(f);
        if let Some(p) = cx.principals.list.get_mut(owner) {
            p.unknown.push(why);
        }
    }
}

/// `aws_iam_role_policy_attachment` and its user and group forms: one managed policy
/// attached to one principal.
fn read_policy_attachment(cx: &mut Ctx<'_>, inst: &Instance<'_, '_>, cfg: Option<&Json<'_>>) {
    let (attr, kind) = match inst.ty.as_str() {
        "aws_iam_role_policy_attachment" => ("role", world::Kind::Role),
        "aws_iam_user_policy_attachment" => ("user", world::Kind::User),
        _ => ("group", world::Kind::Group),
    };
    let Some(owner) = cx.principals.owner(inst, cfg, attr, kind, &cx.place) else {
        return;
    };
    let policy = world::policy_ref(inst, cfg, "policy_arn");
    if let Some(p) = cx.principals.list.get_mut(owner) {
        match policy {
            Some(a) => p.attached.push(a),
            None => p.unknown.push(format!(
                "the policy `{}` attaches is known only after apply",
                inst.address
            )),
        }
    }
}

/// `aws_iam_policy_attachment`: one managed policy attached to roles, users and groups.
fn read_shared_policy_attachment(
    cx: &mut Ctx<'_>,
    inst: &Instance<'_, '_>,
    cfg: Option<&Json<'_>>,
) {
    let policy = world::policy_ref(inst, cfg, "policy_arn");
    for (attr, kind) in [
        ("roles", world::Kind::Role),
        ("users", world::Kind::User),
        ("groups", world::Kind::Group),
    ] {
        for at in cx.principals.members(inst, cfg, attr, kind, &cx.place) {
            if let Some(p) = cx.principals.list.get_mut(at) {
                match &policy {
                    Some(a) => p.attached.push(a.clone()),
                    None => p.unknown.push(format!(
                        "the policy `{}` attaches is known only after apply",
                        inst.address
                    )),
                }
            }
        }
    }
}

/// `aws_iam_group_membership`: users of one group.
fn read_group_membership(cx: &mut Ctx<'_>, inst: &Instance<'_, '_>, cfg: Option<&Json<'_>>) {
    let Some(group) = cx
        .principals
        .owner(inst, cfg, "group", world::Kind::Group, &cx.place)
    else {
        return;
    };
    let key = cx
        .principals
        .list
        .get(group)
        .map(world::Principal::group_key);
    for at in cx
        .principals
        .members(inst, cfg, "users", world::Kind::User, &cx.place)
    {
        if let (Some(p), Some(k)) = (cx.principals.list.get_mut(at), &key) {
            p.groups.push(k.clone());
        }
    }
}

/// `aws_iam_user_group_membership`: groups of one user.
fn read_user_group_membership(cx: &mut Ctx<'_>, inst: &Instance<'_, '_>, cfg: Option<&Json<'_>>) {
    let Some(user) = cx
        .principals
        .owner(inst, cfg, "user", world::Kind::User, &cx.place)
    else {
        return;
    };
    let groups: Vec<String> = cx
        .principals
        .members(inst, cfg, "groups", world::Kind::Group, &cx.place)
        .into_iter()
        .filter_map(|g| cx.principals.list.get(g).map(world::Principal::group_key))
        .collect();
    if let Some(p) = cx.principals.list.get_mut(user) {
        p.groups.extend(groups);
    }
}

#[cfg(test)]
mod tests {
    use super::module_call_path;

    #[test]
    fn module_instances_map_to_their_call_in_the_configuration() {
        assert_eq!(module_call_path(""), "");
        assert_eq!(module_call_path("module.keys[\"a\"]"), "module.keys");
        assert_eq!(
            module_call_path("module.keys[\"a]\\\"b\"].module.x[0]"),
            "module.keys.module.x"
        );
    }
}
