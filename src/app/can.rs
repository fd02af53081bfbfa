//! `kmsaudit can`: build the request and inputs from flags and files, evaluate, render.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use crate::cli::{CanArgs, CanFormat, ExpectArg, KeyManagerArg, PlainOpArg};
use crate::diag::{Finding, input_rules};
use crate::eval::{
    self, Caller, Decision, Inputs, KeyFacts, KeyInputs, KeyManager, NamedPolicy, OpenDefaults,
    Options, Request,
};
use crate::grant::{self, Grant};
use crate::input::{self, InputName, InputOptions};
use crate::inventory::Inventory;
use crate::policy::{ParseOptions, PolicyKind};
use crate::report::can as render;
use crate::source::SourceMap;

mod batch;
use batch::batch;

pub(crate) use super::outcome::{Failure, fail};

pub(super) fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Loads the policies in a file as `kind`. Input errors fail; grammar problems do not (the
/// engine makes statements it cannot judge undetermined).
pub(super) fn load_policies(
    path: &Path,
    kind: PolicyKind,
    sources: &mut SourceMap,
    base: &InputOptions,
) -> Result<Vec<NamedPolicy>, Failure> {
    if let Some(arn) = path.to_str().filter(|p| p.starts_with("arn:")) {
        return super::policy::named_by_arn(arn, kind).map_err(fail);
    }
    let opts = InputOptions {
        policy_kind: Some(kind),
        ..base.clone()
    };
    let loaded = input::load(&InputName::Path(path.to_path_buf()), &opts, sources);
    let errors = loaded.input_errors();
    if !errors.is_empty() || loaded.policies.is_empty() {
        return Err(Failure {
            message: format!("cannot read `{}` as a {}", path.display(), kind.describe()),
            findings: errors,
        });
    }
    let name = file_name(path);
    let n = loaded.policies.len();
    Ok(loaded
        .policies
        .into_iter()
        .enumerate()
        .map(|(i, p)| NamedPolicy {
            name: if n == 1 {
                name.clone()
            } else {
                format!("{name}[{i}]")
            },
            doc: p.doc.into(),
        })
        .collect())
}

/// SCP or RCP levels, one file per level, root first; `None` when no file is given.
pub(super) fn load_levels(
    paths: &[PathBuf],
    kind: PolicyKind,
    sources: &mut SourceMap,
    base: &InputOptions,
) -> Result<Option<crate::eval::Levels>, Failure> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut levels = Vec::new();
    for p in paths {
        levels.push(load_policies(p, kind, sources, base)?);
    }
    Ok(Some(levels.into()))
}

fn load_one(
    path: &Path,
    kind: PolicyKind,
    sources: &mut SourceMap,
    base: &InputOptions,
) -> Result<NamedPolicy, Failure> {
    let mut v = load_policies(path, kind, sources, base)?;
    if v.len() != 1 {
        return Err(fail(format!(
            "`{}` must hold exactly one policy",
            path.display()
        )));
    }
    v.pop().ok_or_else(|| fail("no policy"))
}

/// Reads a JSON input the way every input is read (size cap, encodings); input errors fail.
fn read_json_file(
    path: &Path,
    sources: &mut SourceMap,
    base: &InputOptions,
) -> Result<(crate::source::SourceId, std::sync::Arc<str>), Failure> {
    let mut findings = Vec::new();
    let id = input::read_source(
        &InputName::Path(path.to_path_buf()),
        base,
        sources,
        &mut findings,
    );
    let text = id.and_then(|id| sources.get(id)).map(|f| f.text.clone());
    match (id, text) {
        (Some(id), Some(text)) => Ok((id, text)),
        _ => Err(Failure {
            message: format!("cannot read `{}`", path.display()),
            findings: findings
                .into_iter()
                .filter(|f| f.rule.input_error)
                .collect(),
        }),
    }
}

pub(super) fn load_grants(
    path: &Path,
    sources: &mut SourceMap,
    base: &InputOptions,
) -> Result<Vec<Grant>, Failure> {
    let (id, text) = read_json_file(path, sources, base)?;
    let j = crate::json::parse_with_depth(&text, base.max_depth).map_err(|e| Failure {
        message: format!("`{}` is not valid JSON", path.display()),
        findings: vec![
            Finding::new(
                &input_rules::INVALID_JSON,
                id,
                e.span,
                e.message(),
                e.label(),
            )
            .help(e.help()),
        ],
    })?;
    let (grants, errors) = grant::read_grants(&j, id);
    if !errors.is_empty() {
        return Err(Failure {
            message: format!("cannot read the grants in `{}`", path.display()),
            findings: errors
                .into_iter()
                .map(|e| {
                    Finding::new(&input_rules::NOT_A_POLICY, id, e.span, e.message, "here")
                        .help("give `aws kms list-grants` output")
                })
                .collect(),
        });
    }
    Ok(grants)
}

fn load_grant_request(
    path: &Path,
    sources: &mut SourceMap,
    base: &InputOptions,
) -> Result<Grant, Failure> {
    let mut v = load_grants(path, sources, base)?;
    if v.len() != 1 {
        return Err(fail(format!(
            "`{}` must hold one grant request (`create-grant --cli-input-json`)",
            path.display()
        )));
    }
    v.pop().ok_or_else(|| fail("no grant"))
}

fn pair(s: &str, flag: &str) -> Result<(String, String), Failure> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| fail(format!("`{flag} {s}`: expected KEY=VALUE")))
}

fn pairs(list: &[String], flag: &str) -> Result<Vec<(String, String)>, Failure> {
    list.iter().map(|s| pair(s, flag)).collect()
}

/// The flags of `can` that need checking, validated once, before any file is read: a batch
/// does not re-read them for each of its lines.
struct Settings {
    /// How input files are read (parse options from `--open`, size limits).
    base: InputOptions,
    /// The engine's open defaults (`--open`, `--plain-op-on-multivalued`).
    open: OpenDefaults,
    /// `--context`.
    context: Vec<(String, String)>,
    /// `--principal-tag`.
    principal_tags: Vec<(String, String)>,
    /// `--encryption-context`.
    encryption_context: Vec<(String, String)>,
    /// `--destination-encryption-context`.
    destination_encryption_context: Vec<(String, String)>,
}

impl Settings {
    fn from_args(args: &CanArgs) -> Result<Settings, Failure> {
        Ok(Settings {
            base: base_options(args)?,
            open: open_defaults(args)?,
            context: pairs(&args.context, "--context")?,
            principal_tags: pairs(&args.principal_tag, "--principal-tag")?,
            encryption_context: pairs(&args.encryption_context, "--encryption-context")?,
            destination_encryption_context: pairs(
                &args.destination_encryption_context,
                "--destination-encryption-context",
            )?,
        })
    }
}

/// The open parsing choices among `--open` (Q12, Q13).
fn parse_options(args: &CanArgs) -> Result<ParseOptions, Failure> {
    let mut p = ParseOptions::default();
    for q in &args.open {
        match q.to_ascii_uppercase().as_str() {
            "Q12" => p.first_duplicate_wins = true,
            "Q13" => p.case_sensitive_operators = true,
            _ => {}
        }
    }
    Ok(p)
}

/// Validated open defaults.
fn open_defaults(args: &CanArgs) -> Result<OpenDefaults, Failure> {
    let mut o = OpenDefaults {
        plain_op_on_multivalued: args.plain_op_on_multivalued.map(|p| p == PlainOpArg::Any),
        ..OpenDefaults::default()
    };
    for q in &args.open {
        // Q12 and Q13 are parse options, applied where the policies are read.
        let parse_option = q.eq_ignore_ascii_case("Q12") || q.eq_ignore_ascii_case("Q13");
        if !parse_option && !o.switch(q) {
            return Err(fail(format!(
                "`--open {q}`: switchable open questions are Q1-Q14, Q16, Q18, Q20, Q23-Q25 (see `docs/cli.md`)"
            )));
        }
    }
    Ok(o)
}

/// Key facts given as flags override what the inputs say.
fn apply_key_flags(f: &mut KeyFacts, args: &CanArgs) -> Result<(), Failure> {
    if args.key_spec.is_some() {
        f.key_spec = args.key_spec.clone();
    }
    if args.key_usage.is_some() {
        f.key_usage = args.key_usage.clone();
    }
    if args.key_origin.is_some() {
        f.origin = args.key_origin.clone();
    }
    if args.key_state.is_some() {
        f.key_state = args.key_state.clone();
    }
    if let Some(m) = args.key_manager {
        f.key_manager = Some(match m {
            KeyManagerArg::Aws => KeyManager::Aws,
            KeyManagerArg::Customer => KeyManager::Customer,
        });
    }
    if !args.key_tag.is_empty() || args.key_no_tags {
        f.tags = Some(pairs(&args.key_tag, "--key-tag")?);
    }
    if !args.key_alias.is_empty() || args.key_no_aliases {
        f.aliases = Some(args.key_alias.clone());
        if f.key_manager.is_none() && args.key_alias.iter().any(|a| a.starts_with("alias/aws/")) {
            f.key_manager = Some(KeyManager::Aws);
        }
    }
    Ok(())
}

/// Everything the flags and files describe, loaded once.
struct Loaded {
    inputs: Inputs,
    template: Option<KeyInputs>,
    opts: Options,
    inventory: Option<Inventory>,
    explicit_identity: bool,
    /// The validated flags; `base` says how the input files were read, for files read later
    /// (grant requests).
    settings: Settings,
    /// Position of each key in `inputs.keys`, by ARN.
    key_at: crate::hash::FastMap<String, usize>,
    /// Keys a batch met in its requests, by ARN, as the inventory or the template describes
    /// them.
    met_keys: Mutex<crate::hash::FastMap<String, Arc<KeyInputs>>>,
    /// Each caller's side of the inputs, by ARN, role ARN and whether the role path was
    /// assumed.
    callers: Mutex<CallerMemo>,
}

impl Loaded {
    /// The inputs for a key: given on the command line, or met by a batch.
    fn key(&self, arn: &str) -> Option<Arc<KeyInputs>> {
        match self.key_at.get(arn) {
            Some(&i) => self.inputs.keys.get(i).cloned(),
            None => self.met().get(arn).cloned(),
        }
    }

    fn met(&self) -> std::sync::MutexGuard<'_, crate::hash::FastMap<String, Arc<KeyInputs>>> {
        // A poisoned lock only means another worker failed: the map is still whole.
        self.met_keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

type CallerMemo = crate::hash::FastMap<(String, Option<String>, bool), Arc<CallerSide>>;

/// Loads the positional input files into an inventory.
fn load_inventory(
    args: &CanArgs,
    sources: &mut SourceMap,
    base: &InputOptions,
) -> Result<Option<Inventory>, Failure> {
    if args.files.is_empty() {
        return Ok(None);
    }
    inventory_of(
        &args.files,
        &args.place,
        base,
        args.limits.max_policies,
        sources,
    )
    .map(Some)
}

/// Reads `files` into one inventory, `place` giving the values they leave open (the account
/// and Region of keys without an ARN, CloudFormation parameters).
pub(super) fn inventory_of(
    files: &[PathBuf],
    place: &crate::cli::PlaceArgs,
    base: &InputOptions,
    max_policies: usize,
    sources: &mut SourceMap,
) -> Result<Inventory, Failure> {
    let mut inv = Inventory::new();
    let opts = inventory_options(place, base)?;
    add_files(&mut inv, files, &opts, max_policies, sources)?;
    inv.set_account_region(place.account.clone(), place.region.clone());
    Ok(inv)
}

/// The options the inventory commands read their files with: `base` with the place flags.
pub(super) fn inventory_options(
    place: &crate::cli::PlaceArgs,
    base: &InputOptions,
) -> Result<InputOptions, Failure> {
    let mut template = super::template_context(place).map_err(fail)?;
    // The inputs' own keys and principals share the stack's one account whatever its number
    // (spec R134); `can` names `--account` where an answer depends on it.
    template.stand_in_account = true;
    Ok(InputOptions {
        template,
        ..base.clone()
    })
}

/// Adds each input file to the inventory; the first file with an input error fails.
fn add_files(
    inv: &mut Inventory,
    files: &[PathBuf],
    opts: &InputOptions,
    max_policies: usize,
    sources: &mut SourceMap,
) -> Result<(), Failure> {
    let mut policies = 0usize;
    // A directory (a collected account, say) stands for the files in it.
    let files = input::expand_dirs(files).map_err(fail)?;
    for path in &files {
        let loaded = input::load(&InputName::Path(path.clone()), opts, sources);
        policies += loaded.policies.len();
        if policies > max_policies {
            return Err(fail(format!(
                "the inputs hold more than {max_policies} policies (at `{}`): check them, or raise `--max-policies`",
                path.display()
            )));
        }
        let errors = loaded.input_errors();
        if !errors.is_empty() {
            return Err(Failure {
                message: format!("cannot read `{}`", path.display()),
                findings: errors,
            });
        }
        inv.add(&file_name(path), loaded);
    }
    Ok(())
}

/// The principal a `--principal` value names: a plan's or template's principal by address
/// or logical id, else the value itself.
pub(crate) fn resolve_principal(name: &str, inv: Option<&Inventory>) -> Result<String, Failure> {
    if let Some(arn) = inv.and_then(|i| i.resolve_principal(name)) {
        return Ok(arn.to_owned());
    }
    match inv.and_then(|i| i.unknown_address(name)) {
        Some(e) => Err(fail(e)),
        None => Ok(name.to_owned()),
    }
}

/// The key ARN a `--key` value names, through the inventory when there is one.
fn resolve_key(name: &str, inv: Option<&Inventory>) -> Result<String, Failure> {
    if let Some(arn) = inv.and_then(|i| i.resolve_key(name)) {
        return Ok(arn);
    }
    if let Some(e) = inv.and_then(|i| i.unknown_address(name)) {
        return Err(fail(e));
    }
    KeyFacts::from_arn(name).map(|f| f.arn).map_err(|e| {
        if inv.is_some() {
            fail(format!(
                "{e}; no key id or alias of that name is in the input files"
            ))
        } else {
            fail(e)
        }
    })
}

/// The read options every input file of `can` shares: parse options and size limits.
fn base_options(args: &CanArgs) -> Result<InputOptions, Failure> {
    Ok(InputOptions {
        parse: parse_options(args)?,
        ..args.limits.input_options()
    })
}

fn load_inputs(args: &CanArgs, sources: &mut SourceMap) -> Result<Loaded, Failure> {
    let settings = Settings::from_args(args)?;
    let base = &settings.base;
    let inventory = load_inventory(args, sources, base)?;
    let identity = load_identity(args, sources, base)?;
    let key_policies = match &args.key_policy {
        Some(p) => Some(load_policies(p, PolicyKind::Key, sources, base)?),
        None => None,
    };
    let grants = match &args.grants {
        Some(p) => Some(load_grants(p, sources, base)?),
        None => None,
    };
    let mut inputs = load_given_policies(args, sources, base)?;
    inputs.identity = identity.map(Into::into);
    let (mut keys, template) = load_key(args, inventory.as_ref(), key_policies, grants.as_deref())?;
    load_destination_key(
        args,
        sources,
        base,
        inventory.as_ref(),
        grants.as_deref(),
        &mut keys,
    )?;
    let opts = run_options(&settings, args);
    let explicit_identity = !args.identity_policy.is_empty() || args.identity_unknown;
    let key_at = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.facts.arn.clone(), i))
        .collect();
    inputs.keys = keys;
    Ok(Loaded {
        key_at,
        settings,
        inventory,
        explicit_identity,
        callers: Mutex::new(CallerMemo::default()),
        met_keys: Mutex::new(crate::hash::FastMap::default()),
        inputs,
        template,
        opts,
    })
}

/// The identity policies given with `--identity-policy`; `None` with `--identity-unknown`.
fn load_identity(
    args: &CanArgs,
    sources: &mut SourceMap,
    base: &InputOptions,
) -> Result<Option<Vec<NamedPolicy>>, Failure> {
    Ok(if args.identity_unknown {
        None
    } else {
        let mut v = Vec::new();
        for p in &args.identity_policy {
            v.extend(load_policies(p, PolicyKind::Identity, sources, base)?);
        }
        Some(v)
    })
}

/// The policies given on the command line around the key: SCP and RCP levels, boundary,
/// session policies, VPC endpoint policy (the keys and identity policies are set apart).
fn load_given_policies(
    args: &CanArgs,
    sources: &mut SourceMap,
    base: &InputOptions,
) -> Result<Inputs, Failure> {
    let scp = load_levels(&args.scp, PolicyKind::Scp, sources, base)?;
    let rcp = load_levels(&args.rcp, PolicyKind::Rcp, sources, base)?;
    let boundary = match &args.boundary {
        Some(p) => Some(load_one(p, PolicyKind::Boundary, sources, base)?),
        None => None,
    };
    let mut session = Vec::new();
    for p in &args.session_policy {
        session.extend(load_policies(p, PolicyKind::Session, sources, base)?);
    }
    let vpce = match &args.vpce_policy {
        Some(p) => Some(load_one(p, PolicyKind::VpcEndpoint, sources, base)?),
        None => None,
    };
    Ok(Inputs {
        keys: Vec::new(),
        identity: None,
        boundary,
        session,
        scp,
        rcp,
        vpce,
    })
}

/// The key of `--key` with the key policy and grants given explicitly laid over what the
/// inventory says; without `--key`, the template key a batch's keys start from.
fn load_key(
    args: &CanArgs,
    inventory: Option<&Inventory>,
    key_policies: Option<Vec<NamedPolicy>>,
    grants: Option<&[Grant]>,
) -> Result<(Vec<Arc<KeyInputs>>, Option<KeyInputs>), Failure> {
    let mut keys = Vec::new();
    let mut template = None;
    match &args.key {
        Some(k) => {
            let arn = resolve_key(k, inventory)?;
            let mut ki = key_inputs(&arn, inventory)?;
            apply_key_flags(&mut ki.facts, args)?;
            // Explicit files override what the inputs define.
            if key_policies.is_some() {
                ki.policies = key_policies;
            }
            if let Some(g) = grants {
                ki.grants
                    .get_or_insert_with(Vec::new)
                    .extend(g.iter().map(|g| {
                        let mut g = g.clone();
                        g.bind_to_key(&ki.facts.arn, &ki.facts.key_id);
                        g
                    }));
            }
            keys.push(Arc::new(ki));
        }
        None => {
            template = Some(KeyInputs {
                facts: KeyFacts::from_arn("arn:aws:kms:us-east-1:000000000000:key/template")
                    .map_err(fail)?,
                policies: key_policies,
                grants: grants.map(<[Grant]>::to_vec),
                policy_unknown: None,
            });
        }
    }
    Ok((keys, template))
}

/// What the inventory knows of the key `arn`; without inputs, the key its ARN names with
/// nothing known of its policy or grants.
fn key_inputs(arn: &str, inventory: Option<&Inventory>) -> Result<KeyInputs, Failure> {
    match inventory {
        Some(inv) => inv.key_inputs(arn).map_err(fail),
        None => Ok(KeyInputs {
            facts: KeyFacts::from_arn(arn).map_err(fail)?,
            policies: None,
            grants: None,
            policy_unknown: None,
        }),
    }
}

/// The destination key of `--destination-key`, added to `keys` unless it is the key itself.
fn load_destination_key(
    args: &CanArgs,
    sources: &mut SourceMap,
    base: &InputOptions,
    inventory: Option<&Inventory>,
    grants: Option<&[Grant]>,
    keys: &mut Vec<Arc<KeyInputs>>,
) -> Result<(), Failure> {
    if let Some(d) = &args.destination_key {
        let policies = match &args.destination_key_policy {
            Some(p) => Some(load_policies(p, PolicyKind::Key, sources, base)?),
            None => None,
        };
        let arn = resolve_key(d, inventory)?;
        if keys.iter().any(|k| k.facts.arn == arn) {
            // ReEncrypt within one key: the key's inputs are already in play.
        } else {
            let mut ki = key_inputs(&arn, inventory)?;
            if policies.is_some() {
                ki.policies = policies;
            }
            // R62, R79: the grants given are read for every key in play; the engine keeps those
            // whose `KeyId` names the destination key by full ARN.
            if let Some(g) = grants {
                ki.grants.get_or_insert_with(Vec::new).extend(
                    g.iter()
                        .filter(|g| g.key_id.as_deref().is_some_and(|k| k.starts_with("arn:")))
                        .cloned(),
                );
            }
            keys.push(Arc::new(ki));
        }
    }
    Ok(())
}

/// The engine's options for the run.
fn run_options(settings: &Settings, args: &CanArgs) -> Options {
    Options {
        open: settings.open,
        residual: args.residual,
        assume_absent: args.assume_absent,
        trace: true,
        // R107 (v2): the time of the run, unless `--context aws:CurrentTime=…` pins it.
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_secs()).ok())
            .map(eval::iso8601),
    }
}

fn build_request(
    principal: &str,
    action: &str,
    key: &str,
    context: Vec<(String, String)>,
    args: &CanArgs,
    settings: &Settings,
    grant_request: Option<&Grant>,
) -> Result<Request, Failure> {
    let role_arn = context
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("aws:PrincipalArn"))
        .map(|(_, v)| v.clone());
    let mut caller = Caller::parse(principal, role_arn.as_deref()).map_err(fail)?;
    // R1 (v2): `aws:PrincipalArn` may complete the caller (a session's role path), never make
    // it another principal.
    for (k, v) in &context {
        if k.eq_ignore_ascii_case("aws:PrincipalArn") && caller.principal_arn() != Some(v) {
            return Err(fail(format!(
                "`--context aws:PrincipalArn={v}` does not agree with the principal `{principal}`{}",
                match caller.principal_arn() {
                    Some(a) => format!(", whose `aws:PrincipalArn` is `{a}`"),
                    None => String::new(),
                }
            )));
        }
    }
    caller.tags = settings.principal_tags.clone();
    let action_bare = crate::arn::split_once_byte(action, b':').map_or(action, |(_, n)| n);
    let multi = ["reencrypt", "createalias", "updatealias", "deletealias"];
    if crate::catalog::action_index(action_bare).is_none()
        && !multi.contains(&action_bare.to_ascii_lowercase().as_str())
    {
        let hint = crate::catalog::suggest_action(action_bare)
            .map(|s| format!(": did you mean `kms:{s}`?"))
            .unwrap_or_default();
        return Err(fail(format!("`{action}` is not a KMS action{hint}")));
    }
    let mut req = Request::new(caller, action, key);
    req.via_service = args.via_service.clone();
    req.request_alias = args.request_alias.clone();
    req.alias = args.alias.clone();
    req.grant_id = args.grant_id.clone();
    req.destination_key = args.destination_key.clone();
    if !settings.encryption_context.is_empty() {
        req.encryption_context = Some(settings.encryption_context.clone());
    }
    if !settings.destination_encryption_context.is_empty() {
        req.destination_encryption_context = Some(settings.destination_encryption_context.clone());
    }
    req.grant_request = grant_request.cloned();
    req.context = context;
    Ok(req)
}

/// What the inventory says about one caller, worked out once per caller: a batch asks about
/// the same principals over and over.
struct CallerSide {
    role_arn: Option<String>,
    tags: Vec<(String, String)>,
    /// The caller's identity policies with the explicit ones added, when the inventory decides
    /// them (a user or a role session while IAM data is loaded).
    identity: Option<Option<Arc<[NamedPolicy]>>>,
    boundary: Option<NamedPolicy>,
    scp: Option<crate::eval::Levels>,
    notes: Vec<String>,
}

fn caller_side(loaded: &Loaded, inv: &Inventory, caller: &eval::Caller) -> CallerSide {
    let cp = inv.caller_policies(caller);
    // A plan's or template's principal is decided by the inventory too (its policies are
    // all in the plan, or named as unknown), even where no authorization details are loaded.
    let identity = ((inv.has_iam() || cp.found)
        && matches!(
            caller.kind,
            eval::CallerKind::User | eval::CallerKind::AssumedRole
        ))
    .then(|| match (cp.found, cp.identity) {
        (true, Some(mut ids)) => {
            ids.extend(
                loaded
                    .inputs
                    .identity
                    .iter()
                    .flat_map(|i| i.iter())
                    .cloned(),
            );
            Some(ids.into())
        }
        // Some of the caller's policies are missing: the IAM side is unknown.
        (true, None) => None,
        // Not in the inputs: only what was given explicitly counts.
        (false, _) if loaded.explicit_identity => loaded.inputs.identity.clone(),
        (false, _) => None,
    });
    CallerSide {
        role_arn: cp.role_arn,
        tags: cp.tags,
        identity,
        boundary: cp.boundary,
        scp: match &loaded.inputs.scp {
            Some(s) => Some(Arc::clone(s)),
            None => inv.scp_levels(&caller.account),
        },
        notes: cp.notes,
    }
}

/// The inputs for one request: the flags' inputs, completed from the inventory for this caller
/// (identity policies, groups, boundary, role path, tags, SCP and RCP levels). Returns notes on
/// what the inventory could not resolve.
fn inputs_for<'a>(
    loaded: &'a Loaded,
    req: &mut Request,
) -> (std::borrow::Cow<'a, Inputs>, Vec<String>) {
    let Some(inv) = &loaded.inventory else {
        // Without `--key`, a batch's keys stand on the given key policy and grants (the
        // template): they were met by `prepare`, not given on the command line.
        let given = |arn: &str| loaded.key_at.contains_key(arn);
        if given(&req.key) && req.destination_key.as_deref().is_none_or(given) {
            return (std::borrow::Cow::Borrowed(&loaded.inputs), Vec::new());
        }
        let given = &loaded.inputs;
        let inputs = crate::inventory::InputsFor::standalone()
            .keys(
                std::iter::once(req.key.as_str())
                    .chain(req.destination_key.as_deref())
                    .filter_map(|arn| loaded.key(arn)),
            )
            .identity(given.identity.clone())
            .boundary(given.boundary.clone())
            .session(given.session.clone())
            .scp(given.scp.clone())
            .rcp_or_inventory(given.rcp.clone())
            .vpce(given.vpce.clone())
            .build();
        return (std::borrow::Cow::Owned(inputs), Vec::new());
    };
    // A role's sessions share what the inventory says about the role.
    let who = match req.caller.kind {
        eval::CallerKind::AssumedRole => [
            req.caller.account.as_str(),
            "\u{1f}",
            req.caller.name.as_str(),
        ]
        .concat(),
        _ => req.caller.arn.clone(),
    };
    let memo_key = (
        who,
        req.caller.role_arn.clone(),
        req.caller.role_path_assumed,
    );
    // A poisoned memo only means another worker failed: its entries are still whole.
    let memo = || {
        loaded
            .callers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    let cached = memo().get(&memo_key).cloned();
    let side = match cached {
        Some(side) => side,
        None => {
            let side = Arc::new(caller_side(loaded, inv, &req.caller));
            memo().insert(memo_key, Arc::clone(&side));
            side
        }
    };
    // Only the keys this request is about: a batch accumulates every key it has seen, and
    // copying all of them for each request made a 300-key batch quadratic.
    let keys = std::iter::once(req.key.as_str())
        .chain(req.destination_key.as_deref())
        .filter_map(|arn| loaded.key(arn));
    let boundary = match &loaded.inputs.boundary {
        Some(b) => Some(b.clone()),
        None if side.identity.is_some() => side.boundary.clone(),
        None => None,
    };
    let key_account = crate::arn::split_arn(&req.key).map(|p| p.account);
    let inputs = inv
        .inputs_for(&req.caller, key_account)
        .keys(keys)
        .identity(match &side.identity {
            Some(decided) => decided.clone(),
            None => loaded.inputs.identity.clone(),
        })
        .boundary(boundary)
        .session(loaded.inputs.session.clone())
        .scp(side.scp.clone())
        .rcp_or_inventory(loaded.inputs.rcp.clone())
        .vpce(loaded.inputs.vpce.clone())
        .build();
    if let Some(r) = &side.role_arn {
        req.caller.role_arn = Some(r.clone());
        req.caller.role_path_assumed = false;
    }
    if req.caller.tags.is_empty() {
        req.caller.tags.clone_from(&side.tags);
    }
    derive_org_keys(inv, req);
    (std::borrow::Cow::Owned(inputs), side.notes.clone())
}

/// R9, R102: the organisation keys AWS sets for accounts in an organisation, from the
/// Organizations tree, unless given with `--context`.
fn derive_org_keys(inv: &Inventory, req: &mut Request) {
    // Without a tree no account has an organisation: nothing to split or look up per request.
    if !inv.has_org_tree() {
        return;
    }
    let key_account = crate::arn::split_arn(&req.key).map(|p| p.account.to_owned());
    let sides = [
        (key_account, "aws:ResourceOrgID", "aws:ResourceOrgPaths"),
        (
            Some(req.caller.account.to_string()).filter(|a| !a.is_empty()),
            "aws:PrincipalOrgID",
            "aws:PrincipalOrgPaths",
        ),
    ];
    for (account, id_key, paths_key) in sides {
        let Some((org, path)) = account.and_then(|a| inv.org_of(&a)) else {
            continue;
        };
        for (k, v) in [(id_key, org), (paths_key, path)] {
            if !req.context.iter().any(|(c, _)| c.eq_ignore_ascii_case(k)) {
                req.context.push((k.to_owned(), v));
            }
        }
    }
}

fn expect_met(expect: Option<ExpectArg>, d: Decision) -> bool {
    match expect {
        None => true,
        Some(ExpectArg::Allow) => d == Decision::Allow,
        Some(ExpectArg::Deny) => matches!(d, Decision::ExplicitDeny | Decision::ImplicitDeny),
        Some(ExpectArg::ExplicitDeny) => d == Decision::ExplicitDeny,
        Some(ExpectArg::ImplicitDeny) => d == Decision::ImplicitDeny,
        Some(ExpectArg::Undetermined) => d == Decision::Undetermined,
    }
}

fn parse_expect(s: &str) -> Option<ExpectArg> {
    match s {
        "allow" => Some(ExpectArg::Allow),
        "deny" => Some(ExpectArg::Deny),
        "explicit-deny" => Some(ExpectArg::ExplicitDeny),
        "implicit-deny" => Some(ExpectArg::ImplicitDeny),
        "undetermined" => Some(ExpectArg::Undetermined),
        _ => None,
    }
}

/// `kmsaudit can`.
pub(crate) fn can(
    args: &CanArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> io::Result<super::Exit> {
    let mut sources = SourceMap::new();
    let result = match &args.requests {
        Some(path) => batch(args, path, &mut sources, stdout),
        None => single(args, &mut sources, stdout),
    };
    super::outcome::finish(result.map(super::Exit::from_code), &sources, stderr)
}

fn single(args: &CanArgs, sources: &mut SourceMap, stdout: &mut dyn Write) -> Result<u8, Failure> {
    let (mut ev, req) = answer(args, sources)?;
    if args.no_trace {
        for c in &mut ev.checks {
            c.steps.clear();
        }
    }
    let out = match args.format {
        CanFormat::Human => render::render_human(&ev, &req, sources, stdout),
        CanFormat::Json => render::render_json(&ev, &req, sources, stdout),
    };
    // A reader that has gone (`… | head`) is not an error; the status is still the answer's.
    super::outcome::unless_reader_gone(out)
        .map_err(|e| fail(format!("cannot write the answer: {e}")))?;
    Ok(u8::from(!expect_met(args.expect, ev.decision)))
}

/// Answers one request as `can` would: the evaluation and the request it was about.
pub(crate) fn answer(
    args: &CanArgs,
    sources: &mut SourceMap,
) -> Result<(eval::Evaluation, Request), Failure> {
    let (Some(principal), Some(action), Some(key)) = (&args.principal, &args.action, &args.key)
    else {
        return Err(fail("`--principal`, `--action` and `--key` are required"));
    };
    let loaded = load_inputs(args, sources)?;
    let context = loaded.settings.context.clone();
    let grant_request = match &args.grant_request {
        Some(p) => Some(load_grant_request(p, sources, &loaded.settings.base)?),
        None => None,
    };
    let key_name = key.as_str();
    let key = resolve_key(key, loaded.inventory.as_ref())?;
    let principal = resolve_principal(principal, loaded.inventory.as_ref())?;
    let mut req = build_request(
        &principal,
        action,
        &key,
        context,
        args,
        &loaded.settings,
        grant_request.as_ref(),
    )?;
    if let Some(d) = &req.destination_key {
        req.destination_key = Some(resolve_key(d, loaded.inventory.as_ref())?);
    }
    let (inputs, mut notes) = inputs_for(&loaded, &mut req);
    // The one reading of identity policies nobody gave, said where the answer rests on it.
    let principal_with_iam = matches!(
        req.caller.kind,
        eval::CallerKind::User | eval::CallerKind::AssumedRole
    );
    if principal_with_iam
        && !loaded.explicit_identity
        && inputs.identity.as_deref().is_some_and(<[_]>::is_empty)
    {
        notes.push(
            "no identity policies were given for the caller: taken as none (give `--identity-policy`, the account's authorization details, or `--identity-unknown` to leave its IAM side open)"
                .to_owned(),
        );
    }
    let mut ev = eval::evaluate(&inputs, &req, &loaded.opts);
    // A planned key's Region or account that nothing gives (spec R133).
    super::plan_place::settle(&mut ev, &inputs, &req, &loaded.opts, key_name);
    for c in &mut ev.checks {
        c.notes.extend(notes.iter().cloned().map(eval::Note::Input));
    }
    Ok((ev, req))
}
