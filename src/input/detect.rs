//! Recognising an input by its top-level shape (spec R122, R135).

use crate::json::{Json, JsonKind};
use crate::model::InputKind;

/// Words every input kmsaudit reads holds at least one of, as a key or inside an encoded policy
/// (`Statement`, `Policy`, `Policies`, `PolicyNames`, `KeyMetadata`, `RoleDetailList`,
/// `resource_changes`, `Resources`…). Case-sensitive, as AWS's element names are.
const INPUT_MARKERS: &[&str] = &[
    "Statement",
    "Policy",
    "Policies",
    "Grants",
    "Grantee",
    "KeyMetadata",
    "KeyId",
    "Aliases",
    "TagKey",
    "Children",
    "DetailList",
    "format_version",
    "planned_values",
    "resource_changes",
    "Resources",
    "AWSTemplateFormatVersion",
    "Effect",
];

/// Whether text could be policy input at all, judged before (or without) parsing it: false
/// when it holds none of [`INPUT_MARKERS`], as a JSON-with-comments settings file does. Such a
/// file is not ours even when it does not parse, so `--skip-unrecognised` (and a directory walk)
/// may skip it; a file that holds a marker and does not parse is still an error.
pub(crate) fn could_be_input(text: &str) -> bool {
    INPUT_MARKERS.iter().any(|m| text.contains(m))
}

fn has(j: &Json<'_>, key: &str) -> bool {
    j.get(key).is_some()
}

/// Recognises an input by its top-level shape.
pub(crate) fn detect(j: &Json<'_>) -> InputKind {
    match &j.kind {
        JsonKind::String(_) => return InputKind::EncodedPolicy,
        JsonKind::Array(items) => {
            if !items.is_empty() && items.iter().all(|i| has(i, "Statement")) {
                return InputKind::Policy;
            }
            if !items.is_empty()
                && items
                    .iter()
                    .all(|i| has(i, "GranteePrincipal") || has(i, "GranteeServicePrincipal"))
            {
                return InputKind::ListGrants;
            }
            return InputKind::Unknown;
        }
        JsonKind::Object(_) => {}
        _ => return InputKind::Unknown,
    }
    if has(j, "Statement") {
        return InputKind::Policy;
    }
    if j.get("Policy").and_then(Json::as_str).is_some() {
        return if has(j, "KeyId") {
            InputKind::PutKeyPolicyInput
        } else {
            InputKind::GetKeyPolicy
        };
    }
    if has(j, "PolicyNames") {
        return InputKind::ListKeyPolicies;
    }
    if has(j, "Grants") {
        return InputKind::ListGrants;
    }
    if has(j, "KeyMetadata") {
        return InputKind::DescribeKey;
    }
    if has(j, "Aliases") {
        return InputKind::ListAliases;
    }
    if j.get("Tags")
        .and_then(Json::as_array)
        .is_some_and(|t| t.iter().all(|x| has(x, "TagKey")))
    {
        return InputKind::ListResourceTags;
    }
    // An Organizations tree also has `Policies`: tell it apart first (R135).
    if has(j, "PolicyTypes") || (has(j, "Children") && has(j, "Id")) {
        return InputKind::OrganizationsTree;
    }
    if ["UserDetailList", "RoleDetailList", "GroupDetailList"]
        .iter()
        .any(|k| has(j, k))
        || j.get("Policies")
            .and_then(Json::as_array)
            .is_some_and(|p| p.iter().any(|x| has(x, "PolicyVersionList")))
    {
        return InputKind::AuthorizationDetails;
    }
    if has(j, "format_version") {
        if has(j, "planned_values") || has(j, "resource_changes") {
            return InputKind::TerraformPlan;
        }
        if has(j, "values") {
            return InputKind::TerraformState;
        }
    }
    if j.get("Resources")
        .and_then(Json::as_object)
        .is_some_and(|r| !r.is_empty() && r.iter().all(|m| has(&m.value, "Type")))
        || has(j, "AWSTemplateFormatVersion")
    {
        return InputKind::CloudFormation;
    }
    if has(j, "Operations") && (has(j, "GranteePrincipal") || has(j, "GranteeServicePrincipal")) {
        return InputKind::CreateGrantInput;
    }
    if has(j, "Effect") && (has(j, "Action") || has(j, "NotAction")) {
        return InputKind::BareStatement;
    }
    InputKind::Unknown
}
