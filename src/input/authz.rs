//! `aws iam get-account-authorization-details` output (spec R130, R15).

use super::{Fact, InputOptions, Loaded, PolicyRole, read_document, strings};
use crate::diag::{Finding, input_rules};
use crate::json::{Json, JsonKind};
use crate::model::{Group, Role, User};
use crate::policy::PolicyKind;
use crate::source::{SourceId, SourceMap, Span};

fn s(v: &Json<'_>, k: &str) -> Option<String> {
    v.get(k).and_then(Json::as_str).map(str::to_owned)
}

fn attached(v: &Json<'_>) -> Vec<String> {
    v.get("AttachedManagedPolicies")
        .and_then(Json::as_array)
        .map(|a| a.iter().filter_map(|p| s(p, "PolicyArn")).collect())
        .unwrap_or_default()
}

fn boundary(v: &Json<'_>) -> Option<String> {
    v.get("PermissionsBoundary")
        .and_then(|b| s(b, "PermissionsBoundaryArn"))
}

fn tags(v: &Json<'_>) -> Vec<(String, String)> {
    v.get("Tags")
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| Some((s(t, "Key")?, s(t, "Value")?)))
                .collect()
        })
        .unwrap_or_default()
}

fn list<'j, 'a>(j: &'j Json<'a>, key: &str) -> &'j [Json<'a>] {
    j.get(key).and_then(Json::as_array).unwrap_or(&[])
}

/// Moves a top-level list out of the document, so each entry's tree is freed once it is
/// read: the models built from later entries reuse that memory, and an organisation's
/// dump peaks at the size of its models rather than models plus the whole tree.
fn take_list<'a>(j: &mut Json<'a>, key: &str) -> Vec<Json<'a>> {
    let JsonKind::Object(members) = &mut j.kind else {
        return Vec::new();
    };
    // The last of duplicate keys wins (R16), as in `Json::get`.
    match members.iter_mut().rev().find(|m| m.key == key) {
        Some(m) => match &mut m.value.kind {
            JsonKind::Array(items) => std::mem::take(items),
            _ => Vec::new(),
        },
        None => Vec::new(),
    }
}

fn missing(id: SourceId, v: &Json<'_>, what: &str, out: &mut Loaded) {
    out.findings.push(
        Finding::new(
            &input_rules::MALFORMED_INPUT,
            id,
            Span::new(v.span.start as usize, v.span.start as usize + 1),
            format!("an entry without `{what}`"),
            "here",
        )
        .help("give the output exactly as `aws iam get-account-authorization-details` prints it"),
    );
}

#[expect(
    clippy::too_many_arguments,
    reason = "threads the read or evaluation context through one call"
)]
fn inline(
    v: &Json<'_>,
    list_key: &str,
    owner: &str,
    role: &dyn Fn() -> PolicyRole,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
) {
    for p in list(v, list_key) {
        let name = s(p, "PolicyName").unwrap_or_default();
        match p.get("PolicyDocument") {
            Some(doc) => read_document(
                doc,
                id,
                &[owner, " › ", &*name].concat(),
                PolicyKind::Identity,
                role(),
                [owner, " › ", &*name].concat(),
                opts,
                sources,
                out,
            ),
            None => missing(id, p, "PolicyDocument", out),
        }
    }
}

/// Reads users, groups, roles and managed policies.
pub(super) fn read(
    j: &mut Json<'_>,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
) {
    if matches!(
        j.get("IsTruncated").map(|v| &v.kind),
        Some(JsonKind::Bool(true))
    ) {
        out.findings.push(
            Finding::new(
                &input_rules::INCOMPLETE,
                id,
                Span::new(j.span.start as usize, j.span.start as usize + 1),
                "this output is one page of several: data may be incomplete",
                "IsTruncated",
            )
            .help("fetch every page and pass each file; pages are joined"),
        );
    }
    // Size the outputs once: a dump holds tens of thousands of policies, and growth
    // slack in these lists was several MB of an organisation's peak memory.
    let inline_count = |key: &str, inner: &str| -> usize {
        list(j, key).iter().map(|e| list(e, inner).len()).sum()
    };
    let roles = list(j, "RoleDetailList").len();
    let entities = list(j, "UserDetailList").len() + list(j, "GroupDetailList").len() + roles;
    let policies = inline_count("UserDetailList", "UserPolicyList")
        + inline_count("GroupDetailList", "GroupPolicyList")
        + inline_count("RoleDetailList", "RolePolicyList")
        + roles
        + list(j, "Policies").len();
    out.policies.reserve_exact(policies);
    out.facts.reserve_exact(entities);
    read_users(j, id, opts, sources, out);
    read_groups(j, id, opts, sources, out);
    read_roles(j, id, opts, sources, out);
    read_managed_policies(j, id, opts, sources, out);
}

/// The users, with their inline policies.
fn read_users(
    j: &mut Json<'_>,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
) {
    for u in take_list(j, "UserDetailList") {
        let u = &u;
        let (Some(arn), Some(name)) = (s(u, "Arn"), s(u, "UserName")) else {
            missing(id, u, "Arn", out);
            continue;
        };
        let owner = format!("user/{name}");
        let a = arn.clone();
        inline(
            u,
            "UserPolicyList",
            &owner,
            &|| PolicyRole::UserInline(a.clone()),
            id,
            opts,
            sources,
            out,
        );
        let groups = strings(u.get("GroupList"));
        out.facts.push(Fact::User(User {
            id: s(u, "UserId"),
            groups,
            attached: attached(u),
            boundary: boundary(u),
            tags: tags(u),
            arn,
            name,
        }));
    }
}

/// The groups, with their inline policies.
fn read_groups(
    j: &mut Json<'_>,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
) {
    for g in take_list(j, "GroupDetailList") {
        let g = &g;
        let (Some(arn), Some(name)) = (s(g, "Arn"), s(g, "GroupName")) else {
            missing(id, g, "Arn", out);
            continue;
        };
        let owner = format!("group/{name}");
        let n = name.clone();
        inline(
            g,
            "GroupPolicyList",
            &owner,
            &|| PolicyRole::GroupInline(n.clone()),
            id,
            opts,
            sources,
            out,
        );
        out.facts.push(Fact::Group(Group {
            attached: attached(g),
            arn,
            name,
        }));
    }
}

/// The roles, with their inline and trust policies.
fn read_roles(
    j: &mut Json<'_>,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
) {
    for r in take_list(j, "RoleDetailList") {
        let r = &r;
        let (Some(arn), Some(name)) = (s(r, "Arn"), s(r, "RoleName")) else {
            missing(id, r, "Arn", out);
            continue;
        };
        let owner = format!("role/{name}");
        let a = arn.clone();
        inline(
            r,
            "RolePolicyList",
            &owner,
            &|| PolicyRole::RoleInline(a.clone()),
            id,
            opts,
            sources,
            out,
        );
        if let Some(trust) = r.get("AssumeRolePolicyDocument") {
            read_document(
                trust,
                id,
                &[&*owner, " › trust policy"].concat(),
                PolicyKind::Trust,
                PolicyRole::Trust(arn.clone()),
                [&*owner, " › trust policy"].concat(),
                opts,
                sources,
                out,
            );
        }
        out.facts.push(Fact::Role(Role {
            id: s(r, "RoleId"),
            attached: attached(r),
            boundary: boundary(r),
            tags: tags(r),
            arn,
            name,
        }));
    }
}

/// The managed policies: the default version of each.
fn read_managed_policies(
    j: &mut Json<'_>,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
) {
    for p in take_list(j, "Policies") {
        let p = &p;
        let Some(arn) = s(p, "Arn") else {
            missing(id, p, "Arn", out);
            continue;
        };
        let name = s(p, "PolicyName").unwrap_or_default();
        let default_id = s(p, "DefaultVersionId");
        // R15: only the default version is effective; it alone is read.
        let versions = list(p, "PolicyVersionList");
        let default = versions.iter().find(|v| {
            matches!(
                v.get("IsDefaultVersion").map(|x| &x.kind),
                Some(JsonKind::Bool(true))
            ) || (default_id.is_some() && s(v, "VersionId") == default_id)
        });
        match default.and_then(|v| v.get("Document")) {
            Some(doc) => read_document(
                doc,
                id,
                &["policy/", &*name].concat(),
                PolicyKind::Identity,
                PolicyRole::Managed {
                    arn: arn.clone(),
                    default: true,
                },
                ["policy/", &*name].concat(),
                opts,
                sources,
                out,
            ),
            None => missing(id, p, "PolicyVersionList[].Document (default version)", out),
        }
    }
}
