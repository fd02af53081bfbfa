//! `aws kms` outputs and inputs (spec R124–R129, R135).

use super::{Fact, InputKind, InputOptions, Loaded, PolicyRole, embedded, strings};
use crate::diag::{Finding, input_rules};
use crate::json::{Json, JsonKind};
use crate::model::{KeyFacts, KeyManager};
use crate::policy::PolicyKind;
use crate::source::{SourceId, SourceMap, Span};

fn head(j: &Json<'_>) -> Span {
    Span::new(j.span.start as usize, j.span.start as usize + 1)
}

/// Paginated output warns that data may be incomplete (R122, R135).
fn pagination(j: &Json<'_>, id: SourceId, out: &mut Loaded) {
    let truncated = matches!(
        j.get("Truncated").map(|v| &v.kind),
        Some(JsonKind::Bool(true))
    ) || matches!(
        j.get("IsTruncated").map(|v| &v.kind),
        Some(JsonKind::Bool(true))
    );
    let marker = j.get("NextMarker").or_else(|| j.get("Marker"));
    if truncated || marker.is_some() {
        let span = marker.map_or_else(|| head(j), |m| m.span);
        out.findings.push(
            Finding::new(&input_rules::INCOMPLETE, id, span, "this output is one page of several: data may be incomplete", "more pages follow")
                .help("fetch every page (the AWS CLI does unless `--max-items` or `--no-paginate` is given) and pass each file; pages are joined"),
        );
    }
}

fn malformed(id: SourceId, span: Span, message: String, out: &mut Loaded) {
    out.findings.push(
        Finding::new(&input_rules::MALFORMED_INPUT, id, span, message, "here")
            .help("give the output exactly as the AWS CLI prints it"),
    );
}

/// `get-key-policy` output or `put-key-policy` input: the `Policy` string is the key policy.
pub(super) fn key_policy(
    j: &Json<'_>,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
    level: usize,
) {
    let Some(p) = j.get("Policy") else { return };
    let Some(text) = p.as_str() else {
        malformed(
            id,
            p.span,
            "`Policy` must be the key policy as a JSON string".into(),
            out,
        );
        return;
    };
    let name = j
        .get("PolicyName")
        .and_then(Json::as_str)
        .unwrap_or("default")
        .to_owned();
    let key = j.get("KeyId").and_then(Json::as_str).map(str::to_owned);
    // R113: the bypass flag of a put-key-policy request (KMS017).
    if let Some(b) = j
        .get("BypassPolicyLockoutSafetyCheck")
        .filter(|b| matches!(b.kind, JsonKind::Bool(true)))
    {
        out.findings
            .push(crate::diag::input_rules::bypass_in_request(
                id,
                b.span,
                key.as_deref(),
            ));
    }
    let mut o = opts.clone();
    o.policy_kind = Some(PolicyKind::Key);
    o.input_kind = None;
    let before = out.policies.len();
    embedded(p, text, id, "Policy", &o, sources, out, level);
    for lp in out.policies.iter_mut().skip(before) {
        lp.role = PolicyRole::KeyPolicy {
            key: key.clone(),
            name: name.clone(),
        };
    }
}

/// The key facts of a `KeyMetadata` object (R128).
pub(super) fn key_metadata(m: &Json<'_>) -> Option<KeyFacts> {
    let arn = m.get("Arn").and_then(Json::as_str)?;
    let mut f = KeyFacts::from_arn(arn).ok()?;
    let s = |k: &str| m.get(k).and_then(Json::as_str).map(str::to_owned);
    f.key_manager = match s("KeyManager").as_deref() {
        Some("AWS") => Some(KeyManager::Aws),
        Some("CUSTOMER") => Some(KeyManager::Customer),
        _ => None,
    };
    f.key_spec = s("KeySpec").or_else(|| s("CustomerMasterKeySpec"));
    f.key_usage = s("KeyUsage");
    f.origin = s("Origin");
    f.key_state = s("KeyState");
    f.multi_region_type = m
        .get("MultiRegionConfiguration")
        .and_then(|c| c.get("MultiRegionKeyType"))
        .and_then(Json::as_str)
        .map(str::to_owned);
    Some(f)
}

/// The other `aws kms` shapes: facts, not policies.
pub(super) fn read(kind: InputKind, j: &Json<'_>, id: SourceId, out: &mut Loaded) {
    pagination(j, id, out);
    match kind {
        InputKind::ListKeyPolicies => out
            .facts
            .push(Fact::KeyPolicyNames(strings(j.get("PolicyNames")))),
        InputKind::ListGrants | InputKind::CreateGrantInput => {
            let (grants, errors) = crate::grant::read_grants(j, id);
            for e in errors {
                malformed(id, e.span, e.message, out);
            }
            out.facts.extend(grants.into_iter().map(Fact::Grant));
        }
        InputKind::DescribeKey => match j.get("KeyMetadata") {
            Some(m) => match key_metadata(m) {
                Some(f) => out.facts.push(Fact::Key(f)),
                None => malformed(
                    id,
                    m.span,
                    "`KeyMetadata` has no valid key `Arn`".into(),
                    out,
                ),
            },
            None => malformed(id, head(j), "no `KeyMetadata`".into(), out),
        },
        InputKind::ListAliases => {
            for a in j.get("Aliases").and_then(Json::as_array).unwrap_or(&[]) {
                let Some(name) = a.get("AliasName").and_then(Json::as_str) else {
                    malformed(id, a.span, "an alias without `AliasName`".into(), out);
                    continue;
                };
                out.facts.push(Fact::Alias {
                    name: name.to_owned(),
                    arn: a.get("AliasArn").and_then(Json::as_str).map(str::to_owned),
                    // Aliases without a target are AWS-predefined and unassociated (R129).
                    target: a
                        .get("TargetKeyId")
                        .and_then(Json::as_str)
                        .map(str::to_owned),
                });
            }
        }
        InputKind::ListResourceTags => {
            let mut tags = Vec::new();
            for t in j.get("Tags").and_then(Json::as_array).unwrap_or(&[]) {
                match (
                    t.get("TagKey").and_then(Json::as_str),
                    t.get("TagValue").and_then(Json::as_str),
                ) {
                    (Some(k), Some(v)) => tags.push((k.to_owned(), v.to_owned())),
                    _ => malformed(
                        id,
                        t.span,
                        "a tag needs `TagKey` and `TagValue`".into(),
                        out,
                    ),
                }
            }
            out.facts.push(Fact::Tags(tags));
        }
        _ => {}
    }
}
