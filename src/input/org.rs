//! An AWS Organizations tree with its policies (spec R135): SCP and RCP levels per account.

use super::{Fact, InputOptions, Loaded, PolicyRole, read_document};
use crate::diag::{Finding, input_rules};
use crate::json::Json;
use crate::model::OrgNode;
use crate::policy::PolicyKind;
use crate::source::{SourceId, SourceMap, Span};

#[expect(
    clippy::too_many_arguments,
    reason = "a recursive walk carrying the read context"
)]
fn walk(
    j: &Json<'_>,
    parent: Option<&str>,
    management: Option<&str>,
    org_id: Option<&str>,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
    nodes: &mut Vec<OrgNode>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    let Some(node_id) = j.get("Id").and_then(Json::as_str) else {
        out.findings.push(
            Finding::new(
                &input_rules::MALFORMED_INPUT,
                id,
                Span::new(j.span.start as usize, j.span.start as usize + 1),
                "an organisation node without `Id`",
                "here",
            )
            .help("each root, OU and account needs its `Id`"),
        );
        return;
    };
    nodes.push(OrgNode {
        id: node_id.to_owned(),
        parent: parent.map(str::to_owned),
        management_account: management.map(str::to_owned),
        org_id: org_id.map(str::to_owned),
    });
    for p in j.get("Policies").and_then(Json::as_array).unwrap_or(&[]) {
        let ty = p
            .get("Type")
            .and_then(Json::as_str)
            .unwrap_or("SERVICE_CONTROL_POLICY");
        let name = p.get("Name").and_then(Json::as_str).unwrap_or("policy");
        let (kind, role) = match ty {
            "RESOURCE_CONTROL_POLICY" => (PolicyKind::Rcp, PolicyRole::Rcp(node_id.to_owned())),
            "SERVICE_CONTROL_POLICY" => (PolicyKind::Scp, PolicyRole::Scp(node_id.to_owned())),
            // Tag, backup and AI opt-out policies do not authorize.
            _ => continue,
        };
        if let Some(content) = p.get("Content") {
            read_document(
                content,
                id,
                &format!("{node_id} › {name}"),
                kind,
                role,
                format!("{node_id} › {name}"),
                opts,
                sources,
                out,
            );
        }
    }
    for c in j.get("Children").and_then(Json::as_array).unwrap_or(&[]) {
        walk(
            c,
            Some(node_id),
            management,
            org_id,
            id,
            opts,
            sources,
            out,
            nodes,
            depth + 1,
        );
    }
}

/// Reads the tree: every node with its parent, every SCP and RCP attached to it.
pub(super) fn read(
    j: &Json<'_>,
    id: SourceId,
    opts: &InputOptions,
    sources: &mut SourceMap,
    out: &mut Loaded,
) {
    // The root's ARN `arn:aws:organizations::<management>:root/o-…/r-…` names the management
    // account, which SCPs and RCPs do not affect (R48).
    let management = j
        .get("Arn")
        .and_then(Json::as_str)
        .and_then(crate::arn::split_arn)
        .map(|p| p.account.to_owned())
        .filter(|a| crate::arn::is_account_id(a));
    // … and the organisation's id, for `aws:PrincipalOrgID` / `aws:ResourceOrgID` (R9, R102).
    let org_id = j
        .get("Arn")
        .and_then(Json::as_str)
        .and_then(crate::arn::split_arn)
        .and_then(|p| p.resource.strip_prefix("root/"))
        .and_then(|r| r.split('/').next())
        .filter(|o| o.starts_with("o-"))
        .map(str::to_owned);
    let mut nodes = Vec::new();
    walk(
        j,
        None,
        management.as_deref(),
        org_id.as_deref(),
        id,
        opts,
        sources,
        out,
        &mut nodes,
        0,
    );
    out.facts.push(Fact::Org(nodes));
}
