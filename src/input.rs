//! Reading inputs: files, directories and standard input, into sources and policy documents.
//!
//! Owns the journey from a path to parsed documents: size caps, byte decoding, strict JSON,
//! recognising what a file holds (spec R122–R124: a raw policy document, a policy as a JSON
//! string or URL-encoded string, `aws kms get-key-policy` output and `put-key-policy` input)
//! and the findings for files that cannot be read. A policy held in a JSON string becomes its
//! own source (`file › Policy`) so findings underline readable text. Knows nothing of lint
//! rules beyond the input codes, and nothing of decisions.

use std::path::{Path, PathBuf};

mod authz;
mod aws_cli;
pub(crate) mod capped;
mod cloudformation;
mod detect;
mod org;
mod terraform;

pub use crate::model::{
    Fact, Group, InputKind, KeySettings, Loaded, LoadedPolicy, OrgNode, PlannedKey, PlannedPolicy,
    PolicyRole, Role, Setting, User,
};
pub(crate) use cloudformation::TemplateContext;
pub(crate) use detect::detect;

use crate::diag::{Finding, Rule, input_rules};
use crate::json::{self, EncodingNote, Json, JsonError, JsonErrorKind, JsonKind};
use crate::policy::{ParseOptions, PolicyKind, parse_policy_with};
use crate::source::{Origin, SourceFile, SourceId, SourceMap, Span};

/// Default cap on input size: 16 MiB (issue 2). Organisation-wide authorization
/// details can be larger; `--max-file-size` raises the cap, and KMS033 says so.
pub(crate) const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// Default cap on statements in one policy document. AWS's own size quotas (32 KB for a key
/// policy, 6,144 characters for a managed policy) keep real policies far below it.
pub(crate) const DEFAULT_MAX_STATEMENTS: usize = 10_000;

/// How inputs are read.
#[derive(Debug, Clone)]
pub struct InputOptions {
    /// Files larger than this are refused.
    pub max_file_size: u64,
    /// JSON nested deeper than this is refused.
    pub max_depth: usize,
    /// A policy with more statements than this is refused (KMS033), never half read.
    pub max_statements: usize,
    /// Read every policy as this kind instead of inferring it.
    pub policy_kind: Option<PolicyKind>,
    /// Open parsing choices (spec Q12, Q13).
    pub parse: ParseOptions,
    /// Read every input as this kind instead of detecting it.
    pub input_kind: Option<InputKind>,
    /// Values for CloudFormation intrinsics.
    pub template: TemplateContext,
}

impl Default for InputOptions {
    fn default() -> Self {
        InputOptions {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            max_depth: json::DEFAULT_MAX_DEPTH,
            max_statements: DEFAULT_MAX_STATEMENTS,
            policy_kind: None,
            parse: ParseOptions::default(),
            input_kind: None,
            template: TemplateContext::default(),
        }
    }
}

/// Where an input comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum InputName {
    /// A file.
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// Bytes already in memory, with the name to show (fuzzing, embedding).
    Memory(String, std::sync::Arc<[u8]>),
}

impl InputName {
    /// The name shown to users.
    pub(crate) fn display(&self) -> String {
        match self {
            // As `Path::display` writes it (invalid UTF-8 as U+FFFD), without the formatter.
            InputName::Path(p) => p.to_string_lossy().into_owned(),
            InputName::Stdin => "<stdin>".into(),
            InputName::Memory(name, _) => name.clone(),
        }
    }
}

/// Reads a file's text into `sources` within the size cap, decoding UTF-16 and skipping a
/// BOM (with a note). Returns `None` when it cannot, with the reason in `findings`.
pub(crate) fn read_source(
    name: &InputName,
    opts: &InputOptions,
    sources: &mut SourceMap,
    findings: &mut Vec<Finding>,
) -> Option<SourceId> {
    let display = name.display();
    let bytes = match read_bytes(name, opts.max_file_size) {
        Ok(b) => b,
        Err(ReadError::TooLarge(size)) => {
            let id = sources.add(SourceFile::new(display, "", None));
            findings.push(
                Finding::new(
                    &input_rules::INPUT_LIMIT,
                    id,
                    Span::point(0),
                    format!(
                        "file is {size} bytes, over the {}-byte limit",
                        opts.max_file_size
                    ),
                    "too large",
                )
                .help("check that this is the file you meant, or raise `--max-file-size`"),
            );
            return None;
        }
        Err(e @ (ReadError::Io(_) | ReadError::NotAFile(_))) => {
            let id = sources.add(SourceFile::new(display, "", None));
            findings.push(
                Finding::new(
                    &input_rules::UNREADABLE,
                    id,
                    Span::point(0),
                    format!("cannot read the file: {e}"),
                    "unreadable",
                )
                .help("check the path and its permissions"),
            );
            return None;
        }
    };
    let decoded = match json::decode_text(&bytes) {
        Ok((std::borrow::Cow::Borrowed(_), None)) => Ok(None),
        Ok((t, n)) => Ok(Some((t.into_owned(), n))),
        Err(e) => Err(e),
    };
    let (text, note) = match decoded {
        // Plain UTF-8: take the buffer as it is, without a copy (large dumps).
        Ok(None) => match String::from_utf8(bytes) {
            Ok(t) => (t, None),
            Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), None),
        },
        Ok(Some(pair)) => pair,
        Err(e) => {
            // Show the bytes that did decode, so line and column point at the first bad byte.
            let lossy = String::from_utf8_lossy(&bytes).into_owned();
            // The bad byte became one replacement character: underline the whole of it.
            let at = (e.span.start as usize).min(lossy.len());
            let width = lossy
                .get(at..)
                .and_then(|s| s.chars().next())
                .map_or(0, char::len_utf8);
            let span = if e.kind == JsonErrorKind::InvalidUtf8 {
                Span::new(at, at + width)
            } else {
                Span::point(0)
            };
            let id = sources.add(SourceFile::new(display, lossy, None));
            findings.push(
                Finding::new(
                    &input_rules::INVALID_ENCODING,
                    id,
                    span,
                    e.message(),
                    e.label(),
                )
                .help(e.help()),
            );
            return None;
        }
    };
    let id = sources.add(SourceFile::new(display, text, None));
    if let Some(note) = note {
        let (msg, help) = match note {
            EncodingNote::Utf8Bom => (
                "file starts with a UTF-8 byte-order mark; it was skipped",
                "AWS tools accept it, but some JSON tools do not: save the file as UTF-8 without BOM",
            ),
            EncodingNote::Utf16Le | EncodingNote::Utf16Be => (
                "file is UTF-16 (as PowerShell's `>` writes); it was decoded",
                "re-encode it as UTF-8 for AWS tools: `iconv -f UTF-16 -t UTF-8 in.json > out.json`, or in PowerShell `Out-File -Encoding utf8`",
            ),
        };
        findings.push(
            Finding::new(
                &input_rules::ENCODING_NOTE,
                id,
                Span::point(0),
                msg,
                "encoding",
            )
            .help(help),
        );
    }
    Some(id)
}

/// Reads one input, adding its sources to `sources`.
pub fn load(name: &InputName, opts: &InputOptions, sources: &mut SourceMap) -> Loaded {
    let mut out = load_text(name, opts, sources);
    if let InputName::Path(p) = name {
        pair_by_layout(p, &mut out);
    }
    out
}

/// A Terraform plan read once into its two worlds: the world after apply (the first, as
/// [`load`] reads it) and the world before it (each resource's `before`, the prior state's
/// values). Both point into the plan's own text. The second is `None` when the input cannot
/// be read (the first's findings say why) or is not a plan (the first's `kind` says what it
/// is; a YAML template is read as [`load`] reads it, other JSON no further).
pub(crate) fn load_plan_worlds(
    name: &InputName,
    opts: &InputOptions,
    sources: &mut SourceMap,
) -> (Loaded, Option<Loaded>) {
    let mut before = None;
    let after = load_text_with(name, opts, sources, |parsed, id, sources, out| {
        let kind = opts.input_kind.unwrap_or_else(|| detect(&parsed));
        out.kind = Some(kind);
        if kind != InputKind::TerraformPlan {
            return;
        }
        terraform::read_side(&parsed, id, opts, sources, out, terraform::PlanSide::After);
        let mut b = Loaded {
            kind: Some(kind),
            ..Loaded::default()
        };
        terraform::read_side(
            &parsed,
            id,
            opts,
            sources,
            &mut b,
            terraform::PlanSide::Before,
        );
        before = Some(b);
    });
    (after, before)
}

/// The key id a collected account directory's layout gives a file:
/// `…/keys/<region>/<key-id>/<output>.json` (what `scripts/collect-account.sh` writes).
pub(crate) fn key_of_layout(path: &Path) -> Option<String> {
    let mut parts = path.iter().rev().skip(1).map(|c| c.to_str());
    let key = parts.next()??;
    let _region = parts.next()??;
    (parts.next()?? == "keys" && !key.is_empty()).then(|| key.to_owned())
}

/// A key policy without a `KeyId` (`get-key-policy` output has none) belongs to the key its
/// place in a collected directory names.
fn pair_by_layout(path: &Path, out: &mut Loaded) {
    let Some(key) = key_of_layout(path) else {
        return;
    };
    for p in &mut out.policies {
        if let PolicyRole::KeyPolicy { key: k @ None, .. } = &mut p.role {
            *k = Some(key.clone());
        }
    }
}

/// Every file the paths name, directories expanded as `check` expands them (`.json` files,
/// recursively, sorted): what the graph commands and `can` read. What a walk cannot read is
/// an error naming the path.
pub(crate) fn expand_dirs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    if !paths.iter().any(|p| p.is_dir()) {
        return Ok(paths.to_vec());
    }
    let (found, not_read) = expand_paths(paths, &globset::GlobSet::empty(), false);
    if let Some(n) = not_read.iter().find(|n| n.error) {
        return Err(format!("cannot read `{}`: {}", n.path.display(), n.reason));
    }
    Ok(found
        .into_iter()
        .filter_map(|(name, _)| match name {
            InputName::Path(p) => Some(p),
            _ => None,
        })
        .collect())
}

fn load_text(name: &InputName, opts: &InputOptions, sources: &mut SourceMap) -> Loaded {
    load_text_with(name, opts, sources, |parsed, id, sources, out| {
        recognise(parsed, id, opts, sources, out, 0);
    })
}

/// Reads an input's text (a YAML template or other YAML as [`load_text`] reads them), parses
/// it as JSON and hands the document to `read`; what cannot be read is a finding in the
/// answer.
fn load_text_with(
    name: &InputName,
    opts: &InputOptions,
    sources: &mut SourceMap,
    read: impl FnOnce(Json<'_>, SourceId, &mut SourceMap, &mut Loaded),
) -> Loaded {
    let mut out = Loaded::default();
    let Some(id) = read_source(name, opts, sources, &mut out.findings) else {
        return out;
    };
    let Some(file) = sources.get(id) else {
        return out;
    };
    let text = file.text.clone();
    let parsed = match json::parse_with_depth(&text, opts.max_depth) {
        Ok(j) => j,
        Err(_) if looks_like_yaml_template(name, &text) => {
            out.kind = Some(InputKind::CloudFormation);
            cloudformation::read_yaml(&text, id, opts, sources, &mut out);
            return out;
        }
        // Other YAML (a CI file, a compose file) is not policy input rather than broken JSON.
        Err(_) if yaml_named(name) => {
            out.unrecognised = true;
            out.findings.push(
                Finding::new(
                    &input_rules::NOT_A_POLICY,
                    id,
                    crate::source::Span::point(0),
                    "a YAML file that is not a CloudFormation template (no `AWSTemplateFormatVersion` or `Resources`)",
                    "not policy input",
                )
                .help("kmsaudit reads YAML CloudFormation templates; leave other YAML out, or pass `--skip-unrecognised`"),
            );
            return out;
        }
        Err(e) => {
            let rule = json_error_rule(&e, &text, &mut out);
            out.findings
                .push(Finding::new(rule, id, e.span, e.message(), e.label()).help(e.help()));
            return out;
        }
    };
    read(parsed, id, sources, &mut out);
    out
}

/// A YAML CloudFormation template: named `.yaml`/`.yml`/`.template` and holding `Resources:`,
/// or starting with `AWSTemplateFormatVersion:`.
fn looks_like_yaml_template(name: &InputName, text: &str) -> bool {
    let yaml_name = yaml_named(name);
    let start = text.trim_start();
    start.starts_with("AWSTemplateFormatVersion:")
        || (yaml_name && text.lines().any(|l| l.trim_end() == "Resources:"))
}

/// Named `.yaml`, `.yml` or `.template`.
fn yaml_named(name: &InputName) -> bool {
    match name {
        InputName::Path(p) => p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            ["yaml", "yml", "template"].contains(&e.to_ascii_lowercase().as_str())
        }),
        InputName::Memory(name, _) => std::path::Path::new(name)
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| {
                ["yaml", "yml", "template"].contains(&e.to_ascii_lowercase().as_str())
            }),
        InputName::Stdin => false,
    }
}

use capped::ReadError;

/// The bytes of an input, through the one capped reader (files) or under the same cap.
fn read_bytes(name: &InputName, max: u64) -> Result<Vec<u8>, ReadError> {
    match name {
        InputName::Path(p) => capped::read_file(p, max),
        InputName::Stdin => capped::read_all(std::io::stdin().lock(), max, Vec::new()),
        InputName::Memory(_, bytes) => {
            if bytes.len() as u64 > max {
                return Err(ReadError::TooLarge(bytes.len() as u64));
            }
            Ok(bytes.to_vec())
        }
    }
}

/// Recognises what a JSON value holds (spec R122) and reads it.
/// Takes the document by value so a reader can free parts of it as it goes (an
/// organisation's authorization details are read entry by entry).
fn recognise(
    mut doc: Json<'_>,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
    level: usize,
) {
    let j = &doc;
    let kind = match opts.input_kind.filter(|_| level == 0) {
        Some(k) => k,
        None => detect(j),
    };
    if level == 0 {
        out.kind = Some(kind);
    }
    let head = Span::new(j.span.start as usize, j.span.start as usize + 1);
    match kind {
        InputKind::Policy => match &j.kind {
            JsonKind::Array(items) => {
                // A JSON array of policy documents (an SCP or RCP level holding several policies).
                for item in items {
                    let kind = opts.policy_kind.unwrap_or_else(|| infer_kind(item));
                    push_policy(
                        item,
                        id,
                        kind,
                        PolicyRole::Standalone,
                        String::new(),
                        opts,
                        out,
                    );
                }
            }
            _ => {
                let kind = opts.policy_kind.unwrap_or_else(|| infer_kind(j));
                push_policy(
                    j,
                    id,
                    kind,
                    PolicyRole::Standalone,
                    String::new(),
                    opts,
                    out,
                );
            }
        },
        // A policy encoded once more as a JSON string, possibly URL-encoded (R123).
        InputKind::EncodedPolicy => {
            if let Some(s) = j.as_str() {
                if level < 3 {
                    embedded(j, s, id, "(string)", opts, sources, out, level);
                }
            }
        }
        InputKind::GetKeyPolicy | InputKind::PutKeyPolicyInput => {
            aws_cli::key_policy(j, id, opts, sources, out, level);
        }
        InputKind::ListKeyPolicies
        | InputKind::ListGrants
        | InputKind::DescribeKey
        | InputKind::ListAliases
        | InputKind::ListResourceTags
        | InputKind::CreateGrantInput => aws_cli::read(kind, j, id, out),
        InputKind::AuthorizationDetails => authz::read(&mut doc, id, opts, sources, out),
        InputKind::OrganizationsTree => org::read(j, id, opts, sources, out),
        InputKind::TerraformPlan | InputKind::TerraformState => {
            terraform::read(j, id, opts, sources, out)
        }
        InputKind::CloudFormation => cloudformation::read_json(j, id, opts, sources, out),
        InputKind::BareStatement => {
            out.findings.push(
                Finding::new(
                    &input_rules::NOT_A_POLICY,
                    id,
                    head,
                    "this is a single statement, not a policy document",
                    "bare statement",
                )
                .help(
                    "wrap it: `{\"Version\": \"2012-10-17\", \"Statement\": [ <this statement> ]}`",
                ),
            );
        }
        InputKind::Unknown => {
            out.unrecognised = true;
            let looked = match &j.kind {
                JsonKind::Object(m) => {
                    let keys: Vec<String> =
                        m.iter().take(4).map(|x| format!("`{}`", x.key)).collect();
                    if keys.is_empty() {
                        "an empty object".to_owned()
                    } else {
                        format!("an object with {}", keys.join(", "))
                    }
                }
                _ => j.type_name().to_owned(),
            };
            out.findings.push(
                Finding::new(
                    &input_rules::NOT_A_POLICY,
                    id,
                    head,
                    format!("not a policy document: found {looked}"),
                    "not a policy",
                )
                .help(format!("kmsaudit reads {}", InputKind::accepted())),
            );
        }
    }
}

/// Parses one policy document and records it with its role.
pub(crate) fn push_policy(
    j: &Json<'_>,
    id: SourceId,
    kind: PolicyKind,
    role: PolicyRole,
    label: String,
    opts: &InputOptions,
    out: &mut Loaded,
) {
    if let Some(st) = j.get("Statement") {
        let n = st.as_array().map_or(0, <[Json<'_>]>::len);
        if n > opts.max_statements {
            out.findings.push(
                Finding::new(
                    &input_rules::INPUT_LIMIT,
                    id,
                    Span::new(st.span.start as usize, st.span.start as usize + 1),
                    format!(
                        "the policy has {n} statements, over the limit of {}: it is not read",
                        opts.max_statements
                    ),
                    "too many statements",
                )
                .help("check that this is the policy you meant, or raise `--max-statements`"),
            );
            return;
        }
    }
    let (doc, problems) = parse_policy_with(j, id, kind, opts.parse);
    out.policies.push(LoadedPolicy {
        doc,
        problems,
        role,
        label,
    });
}

/// Reads a policy document that an input holds as an object, a JSON string or a URL-encoded
/// string (R123, R130), as `kind` with `role`.
#[expect(
    clippy::too_many_arguments,
    reason = "threads the read or evaluation context through one call"
)]
pub(crate) fn read_document(
    v: &Json<'_>,
    id: SourceId,
    path: &str,
    kind: PolicyKind,
    role: PolicyRole,
    label: String,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
) {
    match &v.kind {
        JsonKind::Object(_) => push_policy(v, id, kind, role, label, opts, out),
        JsonKind::String(s) => {
            let mut o = opts.clone();
            o.policy_kind = Some(kind);
            o.input_kind = None;
            let before = out.policies.len();
            embedded(v, s, id, path, &o, sources, out, 1);
            for p in out.policies.iter_mut().skip(before) {
                p.role = role.clone();
                p.label = label.clone();
            }
        }
        _ => out.findings.push(
            Finding::new(
                &input_rules::NOT_A_POLICY,
                id,
                v.span,
                format!(
                    "`{path}` must be a policy document (an object or a JSON string), not {}",
                    v.type_name()
                ),
                "not a policy document",
            )
            .help("give the policy document itself"),
        ),
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "threads the read or evaluation context through one call"
)]
pub(crate) fn embedded(
    literal: &Json<'_>,
    value: &str,
    parent: SourceId,
    path: &str,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
    level: usize,
) {
    let (text, exact) = if value.len() >= 3
        && value
            .get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case("%7B"))
    {
        (url_decode(value), false)
    } else {
        (value.to_owned(), true)
    };
    embedded_text(
        literal.span,
        text,
        exact,
        parent,
        path,
        opts,
        sources,
        out,
        level,
    );
}

/// Reads `text` as its own source placed at `literal` in `parent`; `exact` when the text is
/// the literal's JSON-unescaped value (then positions map character by character).
#[expect(
    clippy::too_many_arguments,
    reason = "threads the read context through one call"
)]
pub(crate) fn embedded_text(
    literal: Span,
    text: String,
    exact: bool,
    parent: SourceId,
    path: &str,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
    level: usize,
) {
    let parent_name = sources
        .get(parent)
        .map(|f| f.name.clone())
        .unwrap_or_default();
    let name = [parent_name.as_str(), " › ", path].concat();
    let id = sources.add(SourceFile::new(
        name,
        text,
        Some(Origin {
            parent,
            literal,
            path: path.to_owned(),
            exact,
            escapes: std::sync::OnceLock::new(),
        }),
    ));
    let Some(file) = sources.get(id) else { return };
    let text = file.text.clone();
    match json::parse_with_depth(&text, opts.max_depth) {
        Ok(inner) => recognise(inner, id, opts, sources, out, level + 1),
        Err(e) => {
            let rule = json_error_rule(&e, &text, out);
            out.findings.push(
                Finding::new(
                    rule,
                    id,
                    e.span,
                    format!("in the `{path}` string: {}", e.message()),
                    e.label(),
                )
                .help(e.help()),
            );
        }
    }
}

/// The rule for JSON that does not parse: too deep is over a limit, anything else is invalid
/// JSON. Broken JSON with nothing of a policy input in it (a JSONC settings file) is not ours:
/// it is marked unrecognised, so that it is skipped where unrecognised input is and reported
/// when named.
fn json_error_rule(e: &JsonError, text: &str, out: &mut Loaded) -> &'static Rule {
    if matches!(e.kind, JsonErrorKind::TooDeep { .. }) {
        &input_rules::INPUT_LIMIT
    } else {
        out.unrecognised = !detect::could_be_input(text);
        &input_rules::INVALID_JSON
    }
}

/// The strings of a JSON array, in order (other items, and a value that is not an array,
/// give none).
fn strings(v: Option<&Json<'_>>) -> Vec<String> {
    v.and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// With no hint, a document that names principals is a resource (key) policy (issue scope).
fn infer_kind(j: &Json<'_>) -> PolicyKind {
    let Some(st) = j.get("Statement") else {
        return PolicyKind::Identity;
    };
    let has_principal =
        |s: &Json<'_>| s.get("Principal").is_some() || s.get("NotPrincipal").is_some();
    let any = match &st.kind {
        JsonKind::Array(items) => items.iter().any(has_principal),
        JsonKind::Object(_) => has_principal(st),
        _ => false,
    };
    if any {
        PolicyKind::Key
    } else {
        PolicyKind::Identity
    }
}

/// RFC 3986 percent-decoding; an invalid escape is kept as written.
fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(0);
        if b == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Inputs found by [`expand_paths`]: each with whether the user named it.
pub(crate) type FoundInputs = Vec<(InputName, bool)>;

/// Something a directory walk met and did not read, with why.
#[derive(Debug)]
pub(crate) struct NotRead {
    /// The path met.
    pub(crate) path: PathBuf,
    /// Why it was not read, in words.
    pub(crate) reason: String,
    /// An error (the run cannot vouch for the tree: exit 2) rather than a choice the options
    /// made (a symbolic link not followed).
    pub(crate) error: bool,
}

/// What directory walks met and did not read, in walk order.
pub(crate) type WalkErrors = Vec<NotRead>;

/// How deep a directory walk goes: a file below this many directories is reported, not read.
pub(crate) const MAX_WALK_DEPTH: usize = 64;

/// Expands paths: files as given, directories recursively (files ending in `.json`, hidden
/// directories skipped), `-` as standard input. The result is sorted and has no duplicates;
/// each entry says whether the user named it (named files that are not policies are errors,
/// files met in a directory walk are skipped).
///
/// A walk reads regular files only. Symbolic links are not followed unless `follow` is set,
/// and then only links to files inside the walked directories; links to directories never
/// are (no loops). Every `.json` entry it does not read — a link, a named pipe, a device —
/// and every directory past [`MAX_WALK_DEPTH`] or unreadable is reported, never skipped.
pub(crate) fn expand_paths(
    paths: &[PathBuf],
    exclude: &globset::GlobSet,
    follow: bool,
) -> (FoundInputs, WalkErrors) {
    let mut walk = Walk {
        exclude,
        roots: Vec::new(),
        follow,
        found: Vec::new(),
        not_read: Vec::new(),
    };
    for p in paths {
        if p.as_os_str() == "-" {
            walk.found.push((InputName::Stdin, true));
        } else if p.is_dir() {
            walk.roots = std::fs::canonicalize(p).into_iter().collect();
            walk.dir(p, 0);
        } else if let Some(reason) = link_out_of_tree(p) {
            // A committed link named on the command line (as a pre-commit hook names every
            // changed file) must not make the run read, and quote, a file outside the tree.
            walk.report(p.clone(), reason, true);
        } else {
            walk.found.push((InputName::Path(p.clone()), true));
        }
    }
    let Walk {
        mut found,
        not_read,
        ..
    } = walk;
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0);
    (found, not_read)
}

/// Why a path named on the command line is not read: it is a symbolic link whose target lies
/// outside the working directory. `None` for everything else (a plain file anywhere, a link
/// that stays inside the working directory, a path that does not exist: the reader says so).
fn link_out_of_tree(p: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(p).ok()?;
    if !meta.file_type().is_symlink() {
        return None;
    }
    let here = std::env::current_dir().and_then(std::fs::canonicalize).ok();
    match (std::fs::canonicalize(p), here) {
        (Ok(target), Some(here)) if target.starts_with(&here) => None,
        (Ok(target), _) => Some(format!(
            "a symbolic link to `{}`, outside the working directory: not read (name the file itself to check it)",
            target.display()
        )),
        (Err(e), _) => Some(format!("a symbolic link that cannot be followed: {e}")),
    }
}

/// One directory walk's state.
struct Walk<'a> {
    exclude: &'a globset::GlobSet,
    /// The walked root, resolved: `--follow` reads links that stay inside it.
    roots: Vec<PathBuf>,
    follow: bool,
    found: FoundInputs,
    not_read: WalkErrors,
}

impl Walk<'_> {
    fn report(&mut self, path: PathBuf, reason: impl Into<String>, error: bool) {
        self.not_read.push(NotRead {
            path,
            reason: reason.into(),
            error,
        });
    }

    fn dir(&mut self, dir: &Path, depth: usize) {
        if depth > MAX_WALK_DEPTH {
            self.report(
                dir.to_path_buf(),
                format!("more than {MAX_WALK_DEPTH} directories deep: not searched"),
                true,
            );
            return;
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                self.report(dir.to_path_buf(), e.to_string(), true);
                return;
            }
        };
        // The entry's type comes with the directory listing on most file systems: no call per
        // file. It is that of the entry itself, so a symbolic link is seen as one.
        let mut list: Vec<(PathBuf, std::io::Result<std::fs::FileType>)> = entries
            .filter_map(|e| e.ok().map(|e| (e.path(), e.file_type())))
            .collect();
        // Every entry is `dir` joined with one name (no separator in it), and names in a
        // directory differ: the paths' bytes share `dir` and then order as the names do, which
        // is the order of the paths, without splitting each into components for each pair
        // (9 M instructions for a 1,000-file directory, on the thread that merges).
        list.sort_unstable_by(|a, b| {
            a.0.as_os_str()
                .as_encoded_bytes()
                .cmp(b.0.as_os_str().as_encoded_bytes())
        });
        for (path, file_type) in list {
            if self.exclude.is_match(&path) {
                continue;
            }
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            let file_type = match file_type
                .or_else(|_| std::fs::symlink_metadata(&path).map(|m| m.file_type()))
            {
                Ok(t) => t,
                Err(e) => {
                    self.report(path, e.to_string(), true);
                    continue;
                }
            };
            if file_type.is_dir() {
                if !hidden {
                    self.dir(&path, depth + 1);
                }
                continue;
            }
            let json = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
            if !json {
                continue;
            }
            if file_type.is_file() {
                self.found.push((InputName::Path(path), false));
            } else if file_type.is_symlink() {
                self.link(path);
            } else {
                self.report(
                    path,
                    "not a regular file (a named pipe, socket or device)",
                    true,
                );
            }
        }
    }

    /// A symbolic link named `*.json` met in the walk.
    fn link(&mut self, path: PathBuf) {
        if !self.follow {
            self.report(
                path,
                "a symbolic link: not followed (`--follow` reads links to files inside the walked directories)",
                false,
            );
            return;
        }
        let target = match std::fs::canonicalize(&path) {
            Ok(t) => t,
            Err(e) => {
                self.report(
                    path,
                    format!("a symbolic link that cannot be followed: {e}"),
                    true,
                );
                return;
            }
        };
        if !self.roots.iter().any(|r| target.starts_with(r)) {
            self.report(
                path,
                format!(
                    "a symbolic link to `{}`, outside the walked directory: not read",
                    target.display()
                ),
                false,
            );
            return;
        }
        match std::fs::metadata(&target) {
            Ok(m) if m.is_file() => self.found.push((InputName::Path(path), false)),
            Ok(_) => self.report(
                path,
                "a symbolic link to something not a regular file",
                true,
            ),
            Err(e) => self.report(
                path,
                format!("a symbolic link that cannot be followed: {e}"),
                true,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_decoding_r123() {
        assert_eq!(
            url_decode("%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"),
            r#"{"Version":"2012-10-17","Statement":[]}"#
        );
        assert_eq!(url_decode("100%zz"), "100%zz");
    }

    /// A file's name in findings is what `Path::display` writes, invalid UTF-8 included.
    #[cfg(unix)]
    #[test]
    fn file_names_are_written_as_path_display_writes_them() {
        use std::os::unix::ffi::OsStrExt;
        for bytes in [
            &b"fixtures/key.json"[..],
            b"caf\xc3\xa9/policy.json",
            b"bad\xff\xfe/k\xe2\x82.json",
            b"\xed\xa0\x80surrogate.json",
            b"",
        ] {
            let path = Path::new(std::ffi::OsStr::from_bytes(bytes));
            assert_eq!(
                InputName::Path(path.to_path_buf()).display(),
                path.display().to_string()
            );
        }
    }
}
