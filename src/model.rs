//! The world's things, as the inputs state them and the inventory ties them together: keys
//! and their facts, IAM principals with their policies and attachments, organisation trees,
//! keys a Terraform plan or CloudFormation template declares, grants, and the policies an input
//! holds with what each is for. `input` produces these, `inventory` assembles them, `eval`
//! judges requests against them; nothing here reads a file or decides a request.

use crate::diag::Finding;
use crate::policy::{PolicyDocument, Problem};
use crate::source::{SourceId, Span};

/// Who manages a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyManager {
    /// An AWS managed key (`alias/aws/…`).
    Aws,
    /// A customer managed key.
    Customer,
}

/// What is known about a key (spec R4). Facts that are `None` are unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFacts {
    /// Key ARN.
    pub(crate) arn: String,
    /// Partition.
    pub(crate) partition: String,
    /// Region.
    pub(crate) region: String,
    /// Account id.
    pub account: String,
    /// Key id (UUID or `mrk-…`).
    pub(crate) key_id: String,
    /// `KeyManager`.
    pub key_manager: Option<KeyManager>,
    /// `KeySpec`.
    pub key_spec: Option<String>,
    /// `KeyUsage`.
    pub(crate) key_usage: Option<String>,
    /// `Origin`.
    pub(crate) origin: Option<String>,
    /// `MultiRegionKeyType`.
    pub multi_region_type: Option<String>,
    /// `KeyState`.
    pub key_state: Option<String>,
    /// Tags, when known.
    pub tags: Option<Vec<(String, String)>>,
    /// Alias names (`alias/x`), when known.
    pub aliases: Option<Vec<String>>,
}

impl KeyFacts {
    /// Parses a key ARN; multi-Region is inferred from the `mrk-` prefix (R4).
    pub fn from_arn(arn: &str) -> Result<KeyFacts, String> {
        let p = crate::arn::split_arn(arn).ok_or_else(|| {
            format!("`{arn}` is not a key ARN (`arn:aws:kms:<region>:<account>:key/<key-id>`)")
        })?;
        let key_id = p
            .resource
            .strip_prefix("key/")
            .filter(|k| !k.is_empty() && !k.contains('/'));
        let Some(key_id) = key_id.filter(|_| p.service == "kms") else {
            return Err(format!(
                "`{arn}` is not a key ARN (`arn:aws:kms:<region>:<account>:key/<key-id>`)"
            ));
        };
        if !crate::arn::is_account_id(p.account) || p.region.is_empty() {
            return Err(format!(
                "`{arn}`: a key ARN has a Region and a 12-digit account id"
            ));
        }
        Ok(KeyFacts {
            arn: arn.to_owned(),
            partition: p.partition.to_owned(),
            region: p.region.to_owned(),
            account: p.account.to_owned(),
            key_id: key_id.to_owned(),
            key_manager: None,
            key_spec: None,
            key_usage: None,
            origin: None,
            multi_region_type: None,
            key_state: None,
            tags: None,
            aliases: None,
        })
    }

    /// True for a multi-Region key.
    pub(crate) fn is_multi_region(&self) -> bool {
        self.key_id.starts_with("mrk-")
    }
}

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
    pub(crate) const NAMES: [(InputKind, &'static str); 15] = [
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
    pub(crate) fn from_name(name: &str) -> Option<InputKind> {
        InputKind::NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(k, _)| *k)
    }

    /// The accepted kinds, for help text.
    pub(crate) fn accepted() -> &'static str {
        "IAM policy documents (an object with `Statement`, or a JSON string holding one), `aws kms` output (get-key-policy, list-key-policies, list-grants, list-retirable-grants, describe-key, list-aliases, list-resource-tags) and input (put-key-policy, create-grant), `aws iam get-account-authorization-details` output and AWS Organizations trees"
    }

    /// What it is, in words.
    pub(crate) fn describe(self) -> &'static str {
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
/// What a policy is for, as the input says (spec R14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyRole {
    /// A policy document on its own: its role is not known beyond its kind.
    Standalone,
    /// A key policy; `key` is the key identifier the input names, if any; `name` is `default`
    /// or `AWS_RAM`.
    KeyPolicy {
        /// The key (ARN or id), when the input names it.
        key: Option<String>,
        /// The policy name.
        name: String,
    },
    /// An inline policy of an IAM user (ARN).
    UserInline(String),
    /// An inline policy of an IAM group (name).
    GroupInline(String),
    /// An inline policy of an IAM role (ARN).
    RoleInline(String),
    /// A role's trust policy (role ARN).
    Trust(String),
    /// A version of a managed policy (ARN); only the default version is effective (R15).
    Managed {
        /// The policy ARN.
        arn: String,
        /// The default version.
        default: bool,
    },
    /// An SCP attached to an organisation target (id).
    Scp(String),
    /// An RCP attached to an organisation target (id).
    Rcp(String),
}

/// One parsed policy document with the grammar problems found in it.
#[derive(Debug, Clone)]
pub struct LoadedPolicy {
    /// The document.
    pub doc: PolicyDocument,
    /// Its grammar problems.
    pub problems: Vec<Problem>,
    /// What it is for.
    pub(crate) role: PolicyRole,
    /// A readable name for traces (`role/App › kms`); empty for standalone documents.
    pub(crate) label: String,
}

/// Facts an input states besides policies.
#[derive(Debug, Clone)]
pub enum Fact {
    /// `describe-key` metadata.
    Key(KeyFacts),
    /// An alias (`list-aliases`): name, ARN, target key id.
    Alias {
        /// `alias/name`.
        name: String,
        /// The alias ARN, if given.
        arn: Option<String>,
        /// The target key id, if associated.
        target: Option<String>,
    },
    /// `list-resource-tags`: the key's tags.
    Tags(Vec<(String, String)>),
    /// `list-key-policies`: the names of the key's policies.
    KeyPolicyNames(Vec<String>),
    /// A grant (`list-grants`, `create-grant` input).
    Grant(crate::grant::Grant),
    /// An IAM user from authorization details.
    User(User),
    /// An IAM group.
    Group(Group),
    /// An IAM role.
    Role(Role),
    /// An AWS Organizations tree: each target with its parent and policies.
    Org(Vec<OrgNode>),
    /// The principals a plan or template creates or names, with their addresses.
    PlanPrincipals(PlanPrincipals),
    /// Keys a Terraform plan or state defines, by address, with the account and Region the
    /// plan reveals.
    TerraformKeys {
        /// The keys.
        keys: Vec<PlannedKey>,
        /// The account (from `data.aws_caller_identity`).
        account: Option<String>,
        /// The provider's Region.
        region: Option<String>,
        /// The ARN of the principal that ran the plan (`data.aws_caller_identity`).
        caller: Option<String>,
        /// Key policies known only after apply whose key is none of `keys` (an existing key,
        /// or one known only after apply): not checked (R133).
        late_policies: usize,
    },
}

/// The principals of a plan or template (spec R135 v2): like authorization details, but
/// never the whole account — a principal it does not hold is not known not to exist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanPrincipals {
    /// Roles.
    pub(crate) roles: Vec<Role>,
    /// Users.
    pub(crate) users: Vec<User>,
    /// Groups.
    pub(crate) groups: Vec<Group>,
    /// Address (or logical id) → the ARN the principal will have.
    pub(crate) addresses: Vec<(String, String)>,
    /// ARN → why its IAM side is not fully known.
    pub(crate) unknown: Vec<(String, Vec<String>)>,
}

/// Which kind of IAM principal a plan or template creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PrincipalKind {
    /// A role.
    Role,
    /// A user.
    User,
    /// A group.
    Group,
}

impl PrincipalKind {
    /// The word for it in IAM ARNs and resource types (`role`, `user`, `group`).
    pub(crate) fn word(self) -> &'static str {
        match self {
            PrincipalKind::Role => "role",
            PrincipalKind::User => "user",
            PrincipalKind::Group => "group",
        }
    }
}

impl PlanPrincipals {
    /// Adds a principal the plan or template creates, which has no unique id or tags yet.
    /// `boundary` counts for roles and users, `groups` for users only.
    pub(crate) fn add(
        &mut self,
        kind: PrincipalKind,
        arn: String,
        name: String,
        attached: Vec<String>,
        boundary: Option<String>,
        groups: Vec<String>,
    ) {
        match kind {
            PrincipalKind::Role => self.roles.push(Role {
                arn,
                name,
                id: None,
                attached,
                boundary,
                tags: Vec::new(),
            }),
            PrincipalKind::User => self.users.push(User {
                arn,
                name,
                id: None,
                groups,
                attached,
                boundary,
                tags: Vec::new(),
            }),
            PrincipalKind::Group => self.groups.push(Group {
                arn,
                name,
                attached,
            }),
        }
    }
}

/// What loading one input produced.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The policies found.
    pub policies: Vec<LoadedPolicy>,
    /// Other facts found.
    pub(crate) facts: Vec<Fact>,
    /// Input findings (unreadable, invalid JSON, encoding notes…).
    pub findings: Vec<Finding>,
    /// The input was JSON but not something kmsaudit reads (skipped in directory walks).
    pub(crate) unrecognised: bool,
    /// What kind of input it was.
    pub(crate) kind: Option<InputKind>,
}

impl Loaded {
    /// The findings that make the input unreadable (those of rules marked as input errors),
    /// for a command that must stop on them.
    pub(crate) fn input_errors(&self) -> Vec<Finding> {
        self.findings
            .iter()
            .filter(|f| f.rule.input_error)
            .cloned()
            .collect()
    }
}

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// ARN.
    pub(crate) arn: String,
    /// Name.
    pub(crate) name: String,
    /// Unique id (`AIDA…`).
    pub(crate) id: Option<String>,
    /// Group names.
    pub(crate) groups: Vec<String>,
    /// Attached managed policy ARNs.
    pub(crate) attached: Vec<String>,
    /// Permissions boundary ARN.
    pub(crate) boundary: Option<String>,
    /// Tags.
    pub(crate) tags: Vec<(String, String)>,
}

/// An IAM group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// ARN.
    pub(crate) arn: String,
    /// Name.
    pub(crate) name: String,
    /// Attached managed policy ARNs.
    pub(crate) attached: Vec<String>,
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// ARN, with its path.
    pub(crate) arn: String,
    /// Name.
    pub(crate) name: String,
    /// Unique id (`AROA…`).
    pub(crate) id: Option<String>,
    /// Attached managed policy ARNs.
    pub(crate) attached: Vec<String>,
    /// Permissions boundary ARN.
    pub(crate) boundary: Option<String>,
    /// Tags.
    pub(crate) tags: Vec<(String, String)>,
}

/// One target of the tree (root, OU or account) with its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgNode {
    /// `r-…`, `ou-…` or a 12-digit account id.
    pub(crate) id: String,
    /// The parent's id (none for the root).
    pub(crate) parent: Option<String>,
    /// The organisation's management account, when the root's ARN names it.
    pub(crate) management_account: Option<String>,
    /// The organisation's id (`o-…`), when the root's ARN names it.
    pub(crate) org_id: Option<String>,
}

/// What a plan says about a key's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannedPolicy {
    /// A policy string (read as a key policy with role `KeyPolicy { key: address }`).
    Given,
    /// No `policy` in the configuration: the default key policy (R117).
    Default,
    /// Configured, but known only after apply.
    Unknown,
}

/// A key planned (or in state), by Terraform address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedKey {
    /// `aws_kms_key.main`, `module.kms.aws_kms_key.this[0]`.
    pub(crate) address: String,
    /// The ARN when known (state, or an existing key).
    pub(crate) arn: Option<String>,
    /// The key id when known.
    pub(crate) key_id: Option<String>,
    /// Its policy.
    pub(crate) policy: PlannedPolicy,
    /// The settings the key is declared with, where they are written.
    pub(crate) settings: KeySettings,
    /// The Region of its provider configuration, when the plan says.
    pub(crate) region: Option<String>,
    /// A multi-Region key (`multi_region`, or a replica).
    pub(crate) multi_region: bool,
    /// A replica's primary key, by address.
    pub(crate) primary: Option<String>,
    /// Its partition.
    pub(crate) partition: String,
}

/// A value of a key's declaration, with where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    /// The value.
    pub(crate) value: T,
    /// The file.
    pub(crate) source: SourceId,
    /// Where.
    pub(crate) span: Span,
}

/// How a Terraform or CloudFormation key is declared (spec R113, and the hygiene rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySettings {
    /// The resource type (`aws_kms_key`, `AWS::KMS::Key`).
    pub(crate) resource_type: String,
    /// Where the resource is declared.
    pub(crate) source: SourceId,
    /// See `source`.
    pub(crate) span: Span,
    /// `bypass_policy_lockout_safety_check` / `BypassPolicyLockoutSafetyCheck`, when true.
    pub(crate) bypass: Option<Setting<bool>>,
    /// `enable_key_rotation` / `EnableKeyRotation`.
    pub(crate) rotation: Option<Setting<bool>>,
    /// `deletion_window_in_days` / `PendingWindowInDays`.
    pub(crate) deletion_window: Option<Setting<u64>>,
    /// `customer_master_key_spec` / `key_spec` / `KeySpec` (default `SYMMETRIC_DEFAULT`).
    pub(crate) key_spec: Option<String>,
    /// `key_usage` / `KeyUsage` (default `ENCRYPT_DECRYPT`).
    pub(crate) key_usage: Option<String>,
    /// `EXTERNAL` for imported key material (`aws_kms_external_key`, `Origin: EXTERNAL`),
    /// `AWS_CLOUDHSM`/`EXTERNAL_KEY_STORE` for custom key stores.
    pub(crate) origin: Option<String>,
    /// A replica key (rotation is managed on the primary).
    pub(crate) replica: bool,
}

impl PlannedKey {}
