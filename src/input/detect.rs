//! Recognising an input by its top-level shape (spec R122, R135).

use crate::json::{Json, JsonKind};

/// The kinds of input kmsaudit knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InputKind {
    /// An IAM policy document (or a JSON array of them).
    Policy,
    /// A policy encoded as a JSON string (possibly URL-encoded).
    EncodedPolicy,
    /// `aws kms get-key-policy` output.
    GetKeyPolicy,
    /// `aws kms put-key-policy --cli-input-json` input.
    PutKeyPolicyInput,
    /// `aws kms list-key-policies` output.
    ListKeyPolicies,
    /// `aws kms list-grants` or `list-retirable-grants` output.
    ListGrants,
    /// `aws kms describe-key` output.
    DescribeKey,
    /// `aws kms list-aliases` output.
    ListAliases,
    /// `aws kms list-resource-tags` output.
    ListResourceTags,
    /// `aws kms create-grant --cli-input-json` input.
    CreateGrantInput,
    /// `aws iam get-account-authorization-details` output.
    AuthorizationDetails,
    /// An AWS Organizations tree with its policies.
    OrganizationsTree,
    /// `terraform show -json` of a plan.
    TerraformPlan,
    /// `terraform show -json` of state.
    TerraformState,
    /// A CloudFormation template.
    CloudFormation,
    /// A single statement without the `Statement` wrapper.
    BareStatement,
    /// None of the above.
    Unknown,
}

impl InputKind {
    /// Every kind a user may name with `--input-kind`, with its name.
    pub const NAMES: [(InputKind, &'static str); 15] = [
        (InputKind::Policy, "policy"),
        (InputKind::EncodedPolicy, "encoded-policy"),
        (InputKind::GetKeyPolicy, "get-key-policy"),
        (InputKind::PutKeyPolicyInput, "put-key-policy"),
        (InputKind::ListKeyPolicies, "list-key-policies"),
        (InputKind::ListGrants, "list-grants"),
        (InputKind::DescribeKey, "describe-key"),
        (InputKind::ListAliases, "list-aliases"),
        (InputKind::ListResourceTags, "list-resource-tags"),
        (InputKind::CreateGrantInput, "create-grant"),
        (InputKind::AuthorizationDetails, "authorization-details"),
        (InputKind::OrganizationsTree, "organizations"),
        (InputKind::TerraformPlan, "terraform-plan"),
        (InputKind::TerraformState, "terraform-state"),
        (InputKind::CloudFormation, "cloudformation"),
    ];

    /// Parses a `--input-kind` name.
    pub fn from_name(name: &str) -> Option<InputKind> {
        InputKind::NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(k, _)| *k)
    }

    /// The accepted kinds, for help text.
    pub fn accepted() -> &'static str {
        "IAM policy documents (an object with `Statement`, or a JSON string holding one), `aws kms` output (get-key-policy, list-key-policies, list-grants, list-retirable-grants, describe-key, list-aliases, list-resource-tags) and input (put-key-policy, create-grant), `aws iam get-account-authorization-details` output and AWS Organizations trees"
    }

    /// What it is, in words.
    pub fn describe(self) -> &'static str {
        match self {
            InputKind::Policy => "a policy document",
            InputKind::EncodedPolicy => "a policy encoded as a string",
            InputKind::GetKeyPolicy => "`aws kms get-key-policy` output",
            InputKind::PutKeyPolicyInput => "`aws kms put-key-policy` input",
            InputKind::ListKeyPolicies => "`aws kms list-key-policies` output",
            InputKind::ListGrants => "`aws kms list-grants` output",
            InputKind::DescribeKey => "`aws kms describe-key` output",
            InputKind::ListAliases => "`aws kms list-aliases` output",
            InputKind::ListResourceTags => "`aws kms list-resource-tags` output",
            InputKind::CreateGrantInput => "`aws kms create-grant` input",
            InputKind::AuthorizationDetails => "`aws iam get-account-authorization-details` output",
            InputKind::OrganizationsTree => "an AWS Organizations tree",
            InputKind::TerraformPlan => "a Terraform plan (`terraform show -json`)",
            InputKind::TerraformState => "Terraform state (`terraform show -json`)",
            InputKind::CloudFormation => "a CloudFormation template",
            InputKind::BareStatement => "a single policy statement",
            InputKind::Unknown => "something else",
        }
    }
}

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
pub fn detect(j: &Json<'_>) -> InputKind {
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
