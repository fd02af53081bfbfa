//! CloudFormation templates in JSON and YAML (spec R134, R135).
//!
//! Both forms become one `serde_json::Value` (YAML short-form tags such as `!Sub` turn into
//! their long forms, `{"Fn::Sub": …}`), then every KMS and IAM resource is read from it.
//! Intrinsic functions inside policies are resolved from `--account`, `--region`,
//! `--partition`, `--param K=V` and parameter defaults; what cannot be resolved becomes the
//! placeholder `unknown://…`, which makes its statement undetermined, never silently true or
//! false. Each resolved policy is its own source (`template › LogicalId › KeyPolicy`) whose
//! findings also name the place in the template.
//!
//! YAML is parsed with `saphyr-parser`: a maintained, pure-Rust YAML 1.2 parser whose event
//! stream keeps tags (which CloudFormation's short forms need and most YAML-to-value loaders
//! drop) and positions.

use std::collections::BTreeMap;
use std::sync::Arc;

mod principals;
mod resolve;

use serde_json::{Map, Value};

use super::{Fact, InputOptions, Loaded, PlannedKey, PlannedPolicy, PolicyRole, embedded_text};
use crate::diag::{Finding, input_rules};
use crate::json::{Json, JsonKind};
use crate::policy::PolicyKind;
use crate::source::{SourceId, SourceMap, Span};
use resolve::{Resolver, own_key_id};

/// Values for intrinsics: `--account`, `--region`, `--partition`, `--param K=V`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateContext {
    /// `AWS::AccountId`.
    pub(crate) account: Option<String>,
    /// `AWS::Region`.
    pub(crate) region: Option<String>,
    /// `AWS::Partition` (default `aws`).
    pub(crate) partition: Option<String>,
    /// Template parameters.
    pub(crate) params: BTreeMap<String, String>,
    /// Without `account`, `AWS::AccountId` stands for one account all the same (the lint's
    /// view: the stack's keys and principals share it); otherwise it stays open (a decision's
    /// view, where the caller's account must not be guessed).
    pub(crate) stand_in_account: bool,
}

/// Where each node of interest sits in the template text: path → byte span.
type Locations = BTreeMap<Vec<String>, Span>;

fn to_value(j: &Json<'_>, path: &mut Vec<String>, locs: &mut Locations) -> Value {
    if path.len() <= 5 {
        locs.insert(path.clone(), j.span);
    }
    match &j.kind {
        JsonKind::Null => Value::Null,
        JsonKind::Bool(b) => Value::Bool(*b),
        JsonKind::Number(n) => serde_json::from_str(n).unwrap_or(Value::String((*n).to_owned())),
        JsonKind::String(s) => Value::String(s.to_string()),
        JsonKind::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    path.push(i.to_string());
                    let v = to_value(x, path, locs);
                    path.pop();
                    v
                })
                .collect(),
        ),
        JsonKind::Object(members) => {
            let mut m = Map::new();
            for mem in members {
                path.push(mem.key.to_string());
                let v = to_value(&mem.value, path, locs);
                path.pop();
                m.insert(mem.key.to_string(), v);
            }
            Value::Object(m)
        }
    }
}

/// A JSON template.
pub(super) fn read_json(
    j: &Json<'_>,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
) {
    let mut locs = Locations::new();
    let v = to_value(j, &mut Vec::new(), &mut locs);
    read_template(&v, &locs, id, opts, sources, out);
}

/// A YAML template.
pub(super) fn read_yaml(
    text: &str,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
) {
    let mut events = Vec::new();
    for e in saphyr_parser::Parser::new_from_str(text) {
        match e {
            Ok(ev) => events.push(ev),
            Err(err) => {
                let m = err.marker();
                let at = CharOffsets::new(text).byte(m.index());
                out.findings.push(
                    Finding::new(
                        &input_rules::MALFORMED_INPUT,
                        id,
                        Span::new(at, at + 1),
                        format!("invalid YAML: {}", err.info()),
                        "here",
                    )
                    .help("fix the YAML syntax (check the indentation)"),
                );
                return;
            }
        }
    }
    let mut locs = Locations::new();
    let mut pos = 0usize;
    let mut builder = YamlBuilder {
        events: &events,
        offsets: CharOffsets::new(text),
        anchors: BTreeMap::new(),
        budget: alias_budget(text.len()),
        over_budget: false,
    };
    let mut doc = None;
    while pos < events.len() {
        if let Some((
            saphyr_parser::Event::MappingStart(..)
            | saphyr_parser::Event::SequenceStart(..)
            | saphyr_parser::Event::Scalar(..),
            _,
        )) = events.get(pos)
        {
            doc = builder.node(&mut pos, &mut Vec::new(), &mut locs, 0);
            break;
        }
        pos += 1;
    }
    if builder.over_budget {
        // A "billion laughs": aliases of aliases that would expand to far more nodes than the
        // file holds. Refused before the expansion is built.
        out.findings.push(
            Finding::new(
                &input_rules::INPUT_LIMIT,
                id,
                Span::point(0),
                format!(
                    "YAML aliases expand to more than {} nodes ({} bytes of input): the template is not read",
                    alias_budget(text.len()),
                    text.len()
                ),
                "too many nodes",
            )
            .help("CloudFormation templates do not need aliases of aliases: write the values out"),
        );
        return;
    }
    match doc {
        Some(v) => read_template(&v, &locs, id, opts, sources, out),
        None => out.findings.push(
            Finding::new(
                &input_rules::MALFORMED_INPUT,
                id,
                Span::point(0),
                "the YAML document is empty or nested too deeply",
                "here",
            )
            .help("give a CloudFormation template"),
        ),
    }
}

/// How many nodes a YAML document of `len` bytes may expand to, aliases included: a node takes
/// at least two bytes to write, so twice the length (plus room for tiny files) leaves every
/// real template its aliases while an alias bomb (an 822-byte file naming a billion nodes) is
/// refused after a few thousand.
fn alias_budget(len: usize) -> usize {
    len.saturating_mul(2).saturating_add(10_000)
}

/// Character offsets (what saphyr's markers count) to byte offsets, walking forward from the
/// last answer: events come in document order, so a template costs one pass, not one pass
/// per node.
struct CharOffsets<'t> {
    text: &'t str,
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl<'t> CharOffsets<'t> {
    fn new(text: &'t str) -> Self {
        CharOffsets {
            text,
            ascii: text.is_ascii(),
            chars: 0,
            bytes: 0,
        }
    }

    fn byte(&mut self, chars: usize) -> usize {
        if self.ascii {
            return chars.min(self.text.len());
        }
        if chars < self.chars {
            self.chars = 0;
            self.bytes = 0;
        }
        let rest = self.text.get(self.bytes..).unwrap_or("");
        let skip = chars - self.chars;
        let at = rest
            .char_indices()
            .nth(skip)
            .map_or(self.text.len(), |(i, _)| self.bytes + i);
        self.chars = chars;
        self.bytes = at;
        at
    }
}

/// A plain YAML scalar as the core schema reads it (YAML 1.2).
fn scalar(s: &str, style: saphyr_parser::ScalarStyle) -> Value {
    if style != saphyr_parser::ScalarStyle::Plain {
        return Value::String(s.to_owned());
    }
    match s {
        "null" | "Null" | "NULL" | "~" | "" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ => {
            if s.bytes().all(|b| b.is_ascii_digit() || b == b'-') && s.parse::<i64>().is_ok() {
                return s
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or(Value::String(s.to_owned()));
            }
            Value::String(s.to_owned())
        }
    }
}

/// Wraps a value in its CloudFormation short-form tag: `!Sub x` → `{"Fn::Sub": x}`.
fn tagged(tag: Option<&saphyr_parser::Tag>, v: Value) -> Value {
    let Some(t) = tag else { return v };
    if t.handle != "!" {
        return v;
    }
    let name = t.suffix.as_str();
    let key = match name {
        "Ref" | "Condition" => name.to_owned(),
        "GetAtt" => {
            // `!GetAtt Res.Attr` is `{"Fn::GetAtt": ["Res", "Attr"]}`.
            if let Value::String(s) = &v {
                if let Some((r, a)) = s.split_once('.') {
                    let mut m = Map::new();
                    m.insert(
                        "Fn::GetAtt".into(),
                        Value::Array(vec![Value::String(r.into()), Value::String(a.into())]),
                    );
                    return Value::Object(m);
                }
            }
            "Fn::GetAtt".into()
        }
        other => format!("Fn::{other}"),
    };
    let mut m = Map::new();
    m.insert(key, v);
    Value::Object(m)
}

type YamlEvent<'a> = (saphyr_parser::Event<'a>, saphyr_parser::Span);

/// Whether the collection being read ends at `pos` (the end event is then stepped over);
/// `None` when the stream ends first.
fn closes(
    events: &[YamlEvent<'_>],
    pos: &mut usize,
    is_end: impl Fn(&saphyr_parser::Event<'_>) -> bool,
) -> Option<bool> {
    let (ev, _) = events.get(*pos)?;
    let end = is_end(ev);
    if end {
        *pos += 1;
    }
    Some(end)
}

/// Builds values from the event stream, expanding aliases within a node budget.
struct YamlBuilder<'e, 't> {
    events: &'e [YamlEvent<'e>],
    offsets: CharOffsets<'t>,
    /// Anchored values with the number of nodes each holds.
    anchors: BTreeMap<usize, (Value, usize)>,
    /// Nodes that may still be built.
    budget: usize,
    over_budget: bool,
}

impl YamlBuilder<'_, '_> {
    /// Takes `n` nodes from the budget; false (and building stops) when there are not enough.
    fn spend(&mut self, n: usize) -> bool {
        match self.budget.checked_sub(n) {
            Some(left) => {
                self.budget = left;
                true
            }
            None => {
                self.over_budget = true;
                false
            }
        }
    }

    /// The node at `pos` and the number of nodes it holds; `None` when the stream ends early,
    /// nests deeper than 64 or spends the budget.
    fn node(
        &mut self,
        pos: &mut usize,
        path: &mut Vec<String>,
        locs: &mut Locations,
        depth: usize,
    ) -> Option<Value> {
        self.sized(pos, path, locs, depth).map(|(v, _)| v)
    }

    fn sized(
        &mut self,
        pos: &mut usize,
        path: &mut Vec<String>,
        locs: &mut Locations,
        depth: usize,
    ) -> Option<(Value, usize)> {
        use saphyr_parser::Event;
        if depth > 64 || !self.spend(1) {
            return None;
        }
        let events = self.events;
        let (ev, span) = events.get(*pos)?;
        *pos += 1;
        if path.len() <= 5 {
            let s = self.offsets.byte(span.start.index());
            locs.insert(path.clone(), Span::new(s, s + 1));
        }
        let mut size = 1usize;
        let (v, anchor) = match ev {
            Event::Scalar(s, style, anchor, tag) => {
                (tagged(tag.as_deref(), scalar(s, *style)), *anchor)
            }
            Event::Alias(id) => {
                // The copy is paid for before it is made; an unknown anchor reads as null.
                let Some(n) = self.anchors.get(id).map(|(_, n)| *n) else {
                    return Some((Value::Null, 1));
                };
                if !self.spend(n) {
                    return None;
                }
                let v = self.anchors.get(id).map(|(v, _)| v.clone())?;
                return Some((v, n.saturating_add(1)));
            }
            Event::SequenceStart(anchor, tag) => {
                let mut items = Vec::new();
                while !closes(events, pos, |e| matches!(e, Event::SequenceEnd))? {
                    path.push(items.len().to_string());
                    let item = self.sized(pos, path, locs, depth + 1);
                    path.pop();
                    let (item, n) = item?;
                    size = size.saturating_add(n);
                    items.push(item);
                }
                (tagged(tag.as_deref(), Value::Array(items)), *anchor)
            }
            Event::MappingStart(anchor, tag) => {
                let mut m = Map::new();
                while !closes(events, pos, |e| matches!(e, Event::MappingEnd))? {
                    let (k, kn) =
                        self.sized(pos, &mut Vec::new(), &mut Locations::new(), depth + 1)?;
                    let key = match k {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    path.push(key.clone());
                    let v = self.sized(pos, path, locs, depth + 1);
                    path.pop();
                    let (v, vn) = v?;
                    size = size.saturating_add(kn).saturating_add(vn);
                    m.insert(key, v);
                }
                (tagged(tag.as_deref(), Value::Object(m)), *anchor)
            }
            _ => return None,
        };
        if anchor > 0 {
            self.anchors.insert(anchor, (v.clone(), size));
        }
        Some((v, size))
    }
}

/// A key policy holding `Fn::If`, read once per branch (see [`if_branches`]): each branch is
/// its own key policy, named with what selects it, so a finding says which deployment it is
/// about.
#[allow(clippy::too_many_arguments)]
fn key_policy_branches(
    logical: &str,
    doc: &Value,
    conditions: Option<&Value>,
    locs: &Locations,
    resolver: &mut Resolver<'_>,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
) {
    let at: Vec<String> = ["Resources", logical, "Properties", "KeyPolicy"]
        .iter()
        .map(|p| (*p).to_owned())
        .collect();
    let span = locs.get(&at).copied().unwrap_or(Span::point(0));
    for (branch, doc) in if_branches(doc, conditions).unwrap_or_default() {
        let leaf = format!("KeyPolicy when {branch}");
        let path = ["Resources", logical, "Properties", leaf.as_str()];
        let mut here = Locations::new();
        here.insert(path.iter().map(|p| (*p).to_owned()).collect(), span);
        policy(
            &doc,
            &path,
            PolicyKind::Key,
            PolicyRole::KeyPolicy {
                key: Some(format!("{logical} when {branch}")),
                name: "default".into(),
            },
            &here,
            resolver,
            id,
            opts,
            sources,
            out,
        );
    }
}

/// The most template conditions one policy's `Fn::If`s may name: each combination is checked.
const MAX_IF_CONDITIONS: usize = 4;

/// `Fn::If` and `AWS::NoValue` resolved per branch (R133): for a policy whose value holds
/// `Fn::If`, one policy per combination of the template conditions it names, each with what
/// selects it (`IsProd` true, or `Stage = prod` when the condition is an `Fn::Equals` on a
/// parameter). `{"Ref": "AWS::NoValue"}` removes the property or list item it stands for.
/// `None` when the value has no `Fn::If`, or names more conditions than are tried (it is then
/// left open and reported as such, like any value the template leaves open).
fn if_branches(doc: &Value, conditions: Option<&Value>) -> Option<Vec<(String, Value)>> {
    fn names(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let (1, Some(Value::Array(a))) = (m.len(), m.get("Fn::If")) {
                    if let Some(n) = a.first().and_then(Value::as_str) {
                        if !out.iter().any(|o| o == n) {
                            out.push(n.to_owned());
                        }
                    }
                }
                m.values().for_each(|x| names(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| names(x, out)),
            _ => {}
        }
    }
    fn no_value(v: &Value) -> bool {
        v.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue")
            && v.as_object().is_some_and(|m| m.len() == 1)
    }
    /// The value with each `Fn::If` replaced by its chosen branch; `None` for `AWS::NoValue`.
    fn choose(v: &Value, pick: &[(String, bool)]) -> Option<Value> {
        match v {
            _ if no_value(v) => None,
            Value::Object(m) => {
                if let (1, Some(Value::Array(a))) = (m.len(), m.get("Fn::If")) {
                    let name = a.first().and_then(Value::as_str)?;
                    let yes = pick
                        .iter()
                        .find(|(n, _)| n == name)
                        .is_some_and(|(_, b)| *b);
                    return choose(a.get(if yes { 1 } else { 2 })?, pick);
                }
                Some(Value::Object(
                    m.iter()
                        .filter_map(|(k, x)| choose(x, pick).map(|x| (k.clone(), x)))
                        .collect(),
                ))
            }
            Value::Array(a) => Some(Value::Array(
                a.iter().filter_map(|x| choose(x, pick)).collect(),
            )),
            other => Some(other.clone()),
        }
    }
    let mut found = Vec::new();
    names(doc, &mut found);
    if found.is_empty() || found.len() > MAX_IF_CONDITIONS {
        return None;
    }
    // What selects a branch: `P = v` / `P ≠ v` for `Fn::Equals` on a parameter.
    let describe = |name: &str, yes: bool| -> String {
        let eq = conditions
            .and_then(|c| c.get(name))
            .and_then(|c| c.get("Fn::Equals"))
            .and_then(Value::as_array);
        let param = eq.and_then(|a| {
            let (x, y) = (a.first()?, a.get(1)?);
            match (
                x.get("Ref").and_then(Value::as_str),
                y.get("Ref").and_then(Value::as_str),
            ) {
                (Some(p), None) => Some((p, y)),
                (None, Some(p)) => Some((p, x)),
                _ => None,
            }
        });
        match param {
            Some((p, Value::String(v))) => {
                format!("{name} ({p} {} `{v}`)", if yes { "=" } else { "≠" })
            }
            _ => format!("{name} is {yes}"),
        }
    };
    let mut out = Vec::new();
    for bits in 0..(1usize << found.len()) {
        let pick: Vec<(String, bool)> = found
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), bits & (1 << i) == 0))
            .collect();
        let label = pick
            .iter()
            .map(|(n, b)| describe(n, *b))
            .collect::<Vec<_>>()
            .join(", ");
        out.push((label, choose(doc, &pick).unwrap_or(Value::Null)));
    }
    Some(out)
}

fn s<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(Value::as_str)
}

#[allow(clippy::too_many_arguments)]
fn policy(
    doc: &Value,
    path: &[&str],
    kind: PolicyKind,
    role: PolicyRole,
    locs: &Locations,
    resolver: &mut Resolver<'_>,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
) {
    let before = resolver.unresolved.len();
    let resolved = resolver.resolve(doc);
    // A policy may be written as an object or as a JSON string.
    let text = match &resolved {
        Value::String(t) => t.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    let key: Vec<String> = path.iter().map(|p| (*p).to_owned()).collect();
    let span = locs.get(&key).copied().unwrap_or(Span::point(0));
    let label = path.get(1..).map(|p| p.join(" › ")).unwrap_or_default();
    let mut o = opts.clone();
    o.policy_kind = Some(kind);
    o.input_kind = None;
    let first = out.policies.len();
    // The resolved text is its own source, placed at the property in the template.
    embedded_text(span, text, false, id, &label, &o, sources, out, 1);
    let unresolved: Vec<String> = resolver.unresolved.get(before..).unwrap_or(&[]).to_vec();
    for p in out.policies.iter_mut().skip(first) {
        p.role = role.clone();
        p.label = label.clone();
        // A statement holding an unresolved value cannot be judged (R133).
        if let Some(src) = sources.get(p.doc.source) {
            for st in &mut p.doc.statements {
                let st = Arc::make_mut(st);
                if src.slice(st.span).contains("unknown://") && st.broken.is_none() {
                    st.broken = Some(format!(
                        "it holds a value the template leaves open ({})",
                        unresolved.join(", ")
                    ));
                }
            }
        }
    }
    if !unresolved.is_empty() {
        out.findings.push(
            Finding::new(
                &input_rules::UNKNOWN_VALUE,
                id,
                span,
                format!("`{label}` holds values the template leaves open ({}): statements using them cannot be judged", unresolved.join(", ")),
                "unresolved",
            )
            .help("give `--account`, `--region`, `--partition` or `--param NAME=VALUE` for the values kmsaudit can resolve"),
        );
    }
}

/// A key resource's declared settings, with their places in the template.
fn cfn_settings(
    ty: &str,
    props: &Value,
    base: &[&str; 3],
    locs: &Locations,
    id: SourceId,
) -> super::KeySettings {
    let span_of = |leaf: &str| {
        let mut path: Vec<String> = base.iter().map(|p| (*p).to_owned()).collect();
        if !leaf.is_empty() {
            path.push(leaf.to_owned());
        }
        locs.get(&path).copied().unwrap_or(Span::point(0))
    };
    let flag = |k: &str| {
        let value = match props.get(k)? {
            Value::Bool(b) => *b,
            Value::String(t) if t.eq_ignore_ascii_case("true") => true,
            Value::String(t) if t.eq_ignore_ascii_case("false") => false,
            _ => return None,
        };
        Some(super::Setting {
            value,
            source: id,
            span: span_of(k),
        })
    };
    let text = |k: &str| props.get(k).and_then(Value::as_str).map(str::to_owned);
    super::KeySettings {
        resource_type: ty.to_owned(),
        source: id,
        span: locs
            .get(&vec![base[0].to_owned(), base[1].to_owned()])
            .copied()
            .unwrap_or(Span::point(0)),
        bypass: flag("BypassPolicyLockoutSafetyCheck").filter(|b| b.value),
        rotation: flag("EnableKeyRotation"),
        deletion_window: props.get("PendingWindowInDays").and_then(|v| {
            let n = match v {
                Value::Number(n) => n.as_u64(),
                Value::String(t) => t.parse().ok(),
                _ => None,
            }?;
            Some(super::Setting {
                value: n,
                source: id,
                span: span_of("PendingWindowInDays"),
            })
        }),
        key_spec: text("KeySpec"),
        key_usage: text("KeyUsage"),
        origin: text("Origin"),
        replica: ty == "AWS::KMS::ReplicaKey",
    }
}

/// What the readers of one template's resources share.
struct Cx<'r, 'a> {
    locs: &'r Locations,
    resolver: &'r mut Resolver<'a>,
    id: SourceId,
    opts: &'r InputOptions,
    sources: &'r mut SourceMap,
    out: &'r mut Loaded,
}

fn read_template(
    v: &Value,
    locs: &Locations,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
) {
    let mut params = BTreeMap::new();
    if let Some(ps) = v.get("Parameters").and_then(Value::as_object) {
        for (name, p) in ps {
            if let Some(d) = p.get("Default") {
                let d = match d {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                params.insert(name.clone(), d);
            }
        }
    }
    params.extend(
        opts.template
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    let Some(resources) = v.get("Resources").and_then(Value::as_object) else {
        return;
    };
    let mut own_keys: Vec<String> = resources
        .iter()
        .filter(|(_, r)| matches!(s(r, "Type"), Some("AWS::KMS::Key" | "AWS::KMS::ReplicaKey")))
        .map(|(logical, _)| logical.clone())
        .collect();
    own_keys.sort();
    let mut resolver = Resolver {
        ctx: &opts.template,
        params,
        unresolved: Vec::new(),
        own_keys,
        this_key: None,
        in_resource: false,
        own_principals: BTreeMap::new(),
    };
    let mut world = principals::World::new(resources, &mut resolver, &opts.template);
    let mut keys = Vec::new();
    let mut cx = Cx {
        locs,
        resolver: &mut resolver,
        id,
        opts,
        sources,
        out,
    };
    for (logical, r) in resources {
        let ty = s(r, "Type").unwrap_or("");
        let props = r.get("Properties").cloned().unwrap_or(Value::Null);
        let base = ["Resources", logical.as_str(), "Properties"];
        match ty {
            "AWS::KMS::Key" | "AWS::KMS::ReplicaKey" => {
                keys.push(read_key(&mut cx, v, logical, ty, &props, base));
            }
            "AWS::KMS::Alias" => read_alias(&mut cx, &props),
            "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" => {
                read_principal(&mut cx, &world, logical, ty, &props, base);
            }
            "AWS::IAM::UserToGroupAddition" => world.add_to_group(&props, cx.resolver),
            "AWS::IAM::ManagedPolicy" | "AWS::IAM::Policy" => {
                read_managed_policy(&mut cx, &mut world, logical, &props, base);
            }
            _ => {}
        }
    }
    world.emit(out);
    out.facts.push(Fact::TerraformKeys {
        late_policies: 0,
        keys,
        account: opts.template.account.clone(),
        region: opts.template.region.clone(),
        caller: None,
    });
}

/// `AWS::KMS::Key` and `AWS::KMS::ReplicaKey`: the key, and its policy (once per `Fn::If`
/// branch when it has them).
fn read_key(
    cx: &mut Cx<'_, '_>,
    v: &Value,
    logical: &str,
    ty: &str,
    props: &Value,
    base: [&str; 3],
) -> PlannedKey {
    let planned = match props.get("KeyPolicy") {
        Some(doc) if if_branches(doc, v.get("Conditions")).is_some() => {
            key_policy_branches(
                logical,
                doc,
                v.get("Conditions"),
                cx.locs,
                cx.resolver,
                cx.id,
                cx.opts,
                cx.sources,
                cx.out,
            );
            PlannedPolicy::Given
        }
        Some(doc) => {
            let path = [base[0], base[1], base[2], "KeyPolicy"];
            cx.resolver.this_key = Some(logical.to_owned());
            policy(
                doc,
                &path,
                PolicyKind::Key,
                PolicyRole::KeyPolicy {
                    key: Some(logical.to_owned()),
                    name: "default".into(),
                },
                cx.locs,
                cx.resolver,
                cx.id,
                cx.opts,
                cx.sources,
                cx.out,
            );
            cx.resolver.this_key = None;
            PlannedPolicy::Given
        }
        // A key without `KeyPolicy` gets the default key policy (R134, Q19).
        None => PlannedPolicy::Default,
    };
    PlannedKey {
        address: logical.to_owned(),
        arn: None,
        // The id `Fn::GetAtt Key.Arn` gives it elsewhere in the template.
        key_id: Some(own_key_id(logical)),
        policy: planned,
        settings: cfn_settings(ty, props, &base, cx.locs, cx.id),
        region: cx.opts.template.region.clone(),
        multi_region: ty == "AWS::KMS::ReplicaKey"
            || props.get("MultiRegion").and_then(Value::as_bool) == Some(true),
        primary: None,
        partition: cx
            .opts
            .template
            .partition
            .clone()
            .unwrap_or_else(|| "aws".to_owned()),
    }
}

/// `AWS::KMS::Alias`: an alias of the key its `TargetKeyId` names.
fn read_alias(cx: &mut Cx<'_, '_>, props: &Value) {
    let target = props
        .get("TargetKeyId")
        .map(|t| match t.get("Ref").and_then(Value::as_str) {
            Some(r) => r.to_owned(),
            None => match cx.resolver.resolve(t) {
                Value::String(s) => s,
                other => other.to_string(),
            },
        });
    if let Some(name) = s(props, "AliasName") {
        cx.out.facts.push(Fact::Alias {
            name: name.to_owned(),
            arn: None,
            target,
        });
    }
}

/// `AWS::IAM::Role`, `AWS::IAM::User`, `AWS::IAM::Group`: the trust policy and the inline
/// `Policies`.
fn read_principal(
    cx: &mut Cx<'_, '_>,
    world: &principals::World,
    logical: &str,
    ty: &str,
    props: &Value,
    base: [&str; 3],
) {
    if let Some(doc) = props.get("AssumeRolePolicyDocument") {
        let path = [base[0], base[1], base[2], "AssumeRolePolicyDocument"];
        policy(
            doc,
            &path,
            PolicyKind::Trust,
            PolicyRole::Trust(world.arn_of(logical)),
            cx.locs,
            cx.resolver,
            cx.id,
            cx.opts,
            cx.sources,
            cx.out,
        );
    }
    for (i, p) in props
        .get("Policies")
        .and_then(Value::as_array)
        .unwrap_or(&Vec::new())
        .iter()
        .enumerate()
    {
        if let Some(doc) = p.get("PolicyDocument") {
            let idx = i.to_string();
            let path = [base[0], base[1], base[2], "Policies", idx.as_str()];
            let role = world.inline(logical, ty);
            policy(
                doc,
                &path,
                PolicyKind::Identity,
                role,
                cx.locs,
                cx.resolver,
                cx.id,
                cx.opts,
                cx.sources,
                cx.out,
            );
        }
    }
}

/// `AWS::IAM::ManagedPolicy` and `AWS::IAM::Policy`: its attachments and its document.
fn read_managed_policy(
    cx: &mut Cx<'_, '_>,
    world: &mut principals::World,
    logical: &str,
    props: &Value,
    base: [&str; 3],
) {
    world.attach_policy(logical, props, cx.resolver);
    if let Some(doc) = props.get("PolicyDocument") {
        let path = [base[0], base[1], base[2], "PolicyDocument"];
        policy(
            doc,
            &path,
            PolicyKind::Identity,
            PolicyRole::Managed {
                arn: logical.to_owned(),
                default: true,
            },
            cx.locs,
            cx.resolver,
            cx.id,
            cx.opts,
            cx.sources,
            cx.out,
        );
    }
}
