//! What the engine concluded, as data: the path that decided, why the other paths failed, what
//! is unknown and which input is missing, the steps of the trace. The engine writes no
//! sentence here and suggests no flag: `report` turns these values into words, once.

pub use super::context::KeyUnknown;
use super::{Requirement, Tri};

/// The path that decided a check (an allow path, or the gate or step that denied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Path {
    /// An explicit Deny applies (R49).
    ExplicitDeny,
    /// The caller and the key are in different partitions (R8, R24).
    OtherPartition,
    /// No SCP at this organisation level (1 = root) allows the action (R50).
    ScpGate(usize),
    /// The VPC endpoint policy does not allow the request (R51).
    VpcEndpoint,
    /// The action never works on a key in another account (R52).
    CrossAccountAction,
    /// No statement and no grant allows the request (R46, last step).
    NoAllow,
    /// A key-policy statement names the caller (R53).
    KeyPolicyNamesCaller,
    /// The key policy delegates to the account and an identity policy allows (R54).
    RootDelegationIam,
    /// Another account's key: the key policy allows the caller's account or the caller, and
    /// the caller's identity policies allow too (R55).
    CrossAccountKeyPolicyIam,
    /// A key-policy statement names the calling service principal (R59).
    ServicePrincipal,
    /// A grant (R56, R69–R74).
    Grant,
    /// The target grant's own terms allow retiring it (R75).
    RetireByGrant,
    /// The root user in its own account, for a check without a key resource (R58).
    RootUser,
    /// Identity policies alone, for a check without a key resource (R47).
    IdentityOnly,
}

impl Path {
    /// The path's name as users read it: words, never a step number or a rule id. (A name
    /// like a decision's word, not a sentence; the graph shows it as a step's "how".)
    pub fn name(&self) -> String {
        match self {
            Path::ExplicitDeny => "explicit deny".into(),
            Path::OtherPartition => "caller in another partition".into(),
            Path::ScpGate(level) => format!("SCP gate at organisation level {level}"),
            Path::VpcEndpoint => "VPC endpoint policy".into(),
            Path::CrossAccountAction => "action never works across accounts".into(),
            Path::NoAllow => "no statement allows".into(),
            Path::KeyPolicyNamesCaller => "key policy names the caller".into(),
            Path::RootDelegationIam => "root delegation + IAM".into(),
            Path::CrossAccountKeyPolicyIam => "cross-account: key policy + caller's IAM".into(),
            Path::ServicePrincipal => "key policy names the service".into(),
            Path::Grant => "grant".into(),
            Path::RetireByGrant => "the grant's own retire terms".into(),
            Path::RootUser => "root user of the account (no key resource)".into(),
            Path::IdentityOnly => "identity policies (no key resource)".into(),
        }
    }
}

/// An input the engine needed and was not given.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    /// The key policy of this key. `why` says why it is unknown when it was supplied but its
    /// value is not known (a Terraform value known only after apply).
    KeyPolicy {
        /// The key ARN.
        key: String,
        /// Why it is unknown, from the input reader; `None`: simply not given.
        why: Option<String>,
    },
    /// The caller's identity policies.
    IdentityPolicies,
    /// The alias of an alias operation.
    Alias,
    /// The destination key of `ReEncrypt`.
    DestinationKey,
    /// The new target key of `UpdateAlias`.
    NewTargetKey,
    /// The grant id of `RetireGrant`/`RevokeGrant`.
    GrantId,
    /// The key's aliases (a grant names its key by alias).
    KeyAliases,
    /// Whether the key is AWS or customer managed.
    KeyManager,
}

/// What is unknown, and why the answer is undetermined.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unknown {
    /// The request names an action that is not a KMS action.
    NotAnAction(String),
    /// The request's key is not a key ARN.
    NotAKeyArn(String),
    /// A check needs an input that was not given (the alias, the destination key…).
    CheckNeeds {
        /// The action of that check (`kms:ReEncryptTo`).
        action: String,
        /// What is missing.
        input: Input,
    },
    /// A Deny in an input that was not given could refuse the request.
    DenyIn(Input),
    /// Whether an input that was not given allows the request cannot be judged.
    AllowIn(Input),
    /// An RCP Deny applies unless the key is AWS managed, and the key manager is not known.
    RcpDenyNeedsKeyManager,
    /// A grant names its key by an alias, and the key's aliases are not known.
    GrantKeyAlias {
        /// The grant's label.
        grant: String,
    },
    /// Whether a grant applies cannot be judged (an account grantee's IAM, a session name, or
    /// the requested grant is not known).
    GrantOpen {
        /// The grant's label.
        grant: String,
    },
    /// An allow path holds, but a Deny or a gate cannot be judged.
    DenyOrGateOpen,
    /// A value inside a statement cannot be judged (a condition key, a variable, a role path).
    Open(Open),
    /// A statement cannot be judged at all.
    StatementBroken {
        /// The statement's label (`#2`, or its Sid).
        statement: String,
        /// The policy's name.
        policy: String,
        /// Why, from the parser; `None`: the policy's `Version` is not one AWS accepts (R11).
        why: Option<String>,
    },
    /// A statement's `Resource` or `NotResource` cannot be judged.
    ElementOpen {
        /// `Resource` or `NotResource`.
        element: &'static str,
        /// The statement's label.
        statement: String,
    },
    /// Whether a statement's principal names the caller cannot be judged.
    PrincipalOpen {
        /// The statement's label.
        statement: String,
        /// The policy's name.
        policy: String,
        /// The statement uses `NotPrincipal`.
        not_principal: bool,
    },
    /// A planned key's Region is not in the inputs, and the answer depends on it.
    PlannedRegion {
        /// The key as the user named it.
        key: String,
    },
    /// A planned key's account is not in the inputs, and the answer depends on whether it is
    /// the caller's.
    PlannedAccount {
        /// The key as the user named it.
        key: String,
        /// The caller's account.
        caller_account: String,
    },
}

/// Why a value inside a statement cannot be judged.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Open {
    /// A condition key whose value is unknown.
    Key {
        /// The key as the policy writes it.
        key: String,
        /// Why its value is unknown.
        why: KeyUnknown,
    },
    /// A policy variable whose value is unknown (R37).
    Variable {
        /// The variable's key.
        key: String,
        /// Why its value is unknown.
        why: KeyUnknown,
    },
    /// A policy variable naming a multivalued key, which cannot be one (R37).
    MultivaluedVariable(String),
    /// An operator the engine cannot judge.
    Operator(String),
    /// The condition on this key cannot be judged.
    CannotJudge(String),
    /// A `Deny` tests a multivalued key with a plain operator (no `ForAnyValue:` or
    /// `ForAllValues:`) and some request value matches: how AWS compares them is not
    /// documented (R34, Q1).
    PlainOperatorOnMultivalued(String),
    /// This policy value could name the caller's role under another path, and the role's
    /// path is not known (R1).
    RoleElsewhere(String),
    /// This policy value names the caller's role only if its path is `/` (R1).
    RoleOnlyRootPath(String),
}

/// Why a statement cannot be judged for an IAM or STS move of the access graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveOpen {
    /// The statement is broken, or its policy's `Version` is not one AWS accepts (R11).
    Broken {
        /// `policy#Sid` or `policy#n`.
        statement: String,
        /// Why, from the parser; `None`: the `Version`.
        why: Option<String>,
    },
    /// The `Resource` pattern holds a policy variable, not substituted for moves.
    ResourceVariable {
        /// `policy#Sid` or `policy#n`.
        statement: String,
        /// The pattern, or `None` when no single item shows the variable.
        pattern: Option<String>,
    },
    /// The trust policy's `Principal` cannot be judged for this caller.
    Principal {
        /// `policy#Sid` or `policy#n`.
        statement: String,
        /// Why.
        why: TrustOpen,
    },
}

/// Why a trust policy's `Principal` cannot be judged for a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustOpen {
    /// `NotPrincipal` in a trust policy is not judged.
    NotPrincipal,
    /// Whether this entry names this caller cannot be judged.
    Entry {
        /// The entry as written.
        entry: String,
        /// The caller's ARN.
        caller: String,
    },
}

/// How a set of identity policies stands on a request, for the explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySays {
    /// Whether an identity policy allows is open.
    Open,
    /// Statements that would allow but for a failing condition (`policy#sid`, condition).
    ConditionFails(Vec<(String, String)>),
    /// No identity policy allows.
    NothingAllows,
}

/// Why a grant does not give the caller this check (R71–R74).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantMiss {
    /// The grant names the caller but not this operation.
    Operation {
        /// The grant's operations.
        operations: Vec<String>,
        /// The operation checked (`Decrypt`).
        action: String,
    },
    /// The encryption context must equal this map exactly.
    ContextEquals(Vec<(String, String)>),
    /// The encryption context must include this map.
    ContextSubset(Vec<(String, String)>),
    /// `aws:SourceArn` must be this value.
    SourceArn(String),
    /// A child grant must have a subset of the operations and constraints as strict.
    ChildGrantBroader,
    /// The grant names its key by an alias, and the key's aliases are not known.
    KeyAlias,
    /// Whether it applies cannot be judged.
    Open,
}

/// Why the answer is what it is; for a deny, why each allow path failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Allowed by this path.
    Allowed(Path),
    /// Explicit Deny statements apply.
    ExplicitDeny {
        /// The action.
        action: String,
        /// The denying statements.
        statements: Vec<String>,
    },
    /// Caller and key in different partitions.
    OtherPartition {
        /// The caller's partition.
        caller: String,
        /// The key's partition.
        key: String,
    },
    /// No SCP at an organisation level allows the action.
    ScpGate {
        /// Level, 1 = root.
        level: usize,
        /// The action.
        action: String,
    },
    /// The VPC endpoint policy does not allow the action.
    VpcEndpoint {
        /// The endpoint policy's name.
        policy: String,
        /// The action.
        action: String,
    },
    /// The action never works on another account's key.
    CrossAccountAction {
        /// The action.
        action: String,
        /// The caller's account.
        caller_account: String,
        /// The key's account.
        key_account: String,
    },
    /// Aliases under `alias/aws/` are reserved.
    ReservedAlias,
    /// A check without a key resource is authorized only by IAM, and IAM does not allow it.
    IamOnly {
        /// The action.
        action: String,
        /// The resource.
        resource: String,
        /// Statements that would allow but for a failing condition.
        condition_fails: Vec<(String, String)>,
    },
    /// The permissions boundary does not allow the action.
    Boundary {
        /// The boundary's name.
        policy: String,
        /// The action.
        action: String,
    },
    /// No session policy allows the action.
    SessionPolicies {
        /// The action.
        action: String,
    },
    /// The key policy was not given, so no key-policy path can be judged.
    KeyPolicyNotGiven,
    /// No key-policy statement or grant allows the service principal.
    ServiceNotAllowed {
        /// The service principal.
        caller: String,
        /// The action.
        action: String,
    },
    /// Same account: an identity policy allows, but the key policy does not delegate to the
    /// account. `open`: the delegation may hold, it is not certain.
    IamWithoutDelegation {
        /// The action.
        action: String,
        /// The account's root ARN.
        root: String,
        /// The allowing identity statements.
        iam: Vec<String>,
        /// Whether the answer is undetermined (no fix is suggested).
        open: bool,
    },
    /// Same account: the key policy does not delegate to the account; what identity says.
    NoDelegation {
        /// The action.
        action: String,
        /// The account's root ARN.
        root: String,
        /// `None`: the identity policies are not known and cannot matter.
        identity: Option<IdentitySays>,
    },
    /// Same account: the key policy delegates, but identity does not allow.
    DelegationWithoutIam {
        /// The action.
        action: String,
        /// The account's root ARN.
        root: String,
        /// The key.
        key: String,
        /// What identity says.
        identity: IdentitySays,
        /// Whether to suggest attaching an IAM policy.
        fix: bool,
    },
    /// No key-policy statement names the caller.
    CallerNotNamed {
        /// The caller.
        caller: String,
        /// The action.
        action: String,
    },
    /// Key-policy statements name the caller but do not apply (empty: not said which).
    NamedButNotApplying {
        /// The caller.
        caller: String,
        /// The statements' labels.
        statements: Vec<String>,
    },
    /// The root user has no identity policies and no key-policy statement applies.
    RootNeedsKeyPolicy {
        /// The account's root ARN.
        root: String,
        /// The action.
        action: String,
    },
    /// Another account's key: the key policy names neither the caller's account nor the caller.
    CrossAccountNotNamed {
        /// The key's account.
        key_account: String,
        /// The action.
        action: String,
    },
    /// Another account's key: the key policy allows the caller's account, identity does not.
    CrossAccountNeedsIam {
        /// The action.
        action: String,
        /// The key.
        key: String,
        /// What identity says.
        identity: IdentitySays,
    },
    /// A grant that names the caller does not give this check.
    Grant {
        /// The grant's label.
        grant: String,
        /// Why.
        miss: GrantMiss,
    },
    /// `RetireGrant` needs the target grant's id.
    RetireNeedsGrantId,
    /// The target grant is not among the grants given.
    RetireGrantNotGiven {
        /// The grant id.
        grant_id: String,
    },
    /// The caller is none of those the grant's terms let retire it.
    RetireNotAllowed {
        /// The grant's label.
        grant: String,
        /// The retiring principal, if any.
        retiring: Option<String>,
        /// The grant's operations.
        operations: Vec<String>,
        /// Whether the caller is one of them cannot be judged (its IAM policies are open).
        open: bool,
    },
    /// No allow path holds; the trace shows which element failed.
    NoPathHolds {
        /// The caller.
        caller: String,
        /// The action.
        action: String,
    },
}

/// Notes that never change the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The role's path was not known; the engine assumed this role ARN (R1).
    RolePathAssumed(String),
    /// Authorized, but the key's state makes the call fail (R61).
    KeyState(String),
    /// A Deny may also apply, which would make the deny explicit.
    DenyMayAlsoApply(Vec<Unknown>),
    /// Denied if these requirements hold (residual Deny statements).
    DeniedIf(Vec<Requirement>),
    /// A note from the input side (what the inventory could not resolve).
    Input(String),
}

/// The steps of the algorithm (R46), as the trace names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepName {
    /// Explicit Deny anywhere (R49).
    ExplicitDeny,
    /// RCP gate (R50).
    RcpGate,
    /// SCP gate, at a level (1 = root) or skipped (`None`) (R50).
    ScpGate(Option<usize>),
    /// VPC endpoint gate (R51).
    VpcEndpoint,
    /// Actions that never work across accounts (R52).
    CrossAccount,
    /// RetireGrant by the grant's terms (R75).
    RetireGrant,
    /// The identity path of a check without a key resource (R47).
    IdentityPath,
    /// Key policy Allow statements (R53–R55, R59).
    KeyPolicyAllow,
    /// Identity policy Allow statements.
    IdentityAllow,
    /// Permissions boundary (R57).
    Boundary,
    /// Session policies (R57).
    SessionPolicies,
    /// Grants (R56).
    Grants,
}

/// Why a step was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// No RCPs were given.
    NoRcps,
    /// No SCPs were given.
    NoScps,
    /// Service-linked roles are outside SCPs and RCPs.
    ServiceLinkedRole,
    /// RCPs do not reach AWS managed keys.
    AwsManagedKey,
    /// Not a key resource.
    NotAKey,
    /// SCPs do not apply to service principals.
    ServicePrincipal,
}

/// What a step concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// Explicit Deny by these statements.
    DeniedBy(Vec<String>),
    /// A Deny may apply.
    DenyMayApply,
    /// No Deny applies.
    NoDeny,
    /// The RCP gate passes (`RCPFullAWSAccess` at every level; only Denies act).
    RcpPassed,
    /// Skipped.
    Skipped(Skip),
    /// Allowed by these statements.
    AllowedBy(Vec<String>),
    /// No SCP at this level allows it.
    NoScpAllows,
    /// The endpoint policy does not allow it.
    EndpointDenies,
    /// The action never works across accounts.
    NeverCrossAccount(String),
    /// Reserved alias.
    ReservedAlias,
    /// Three-valued result.
    Tri(Tri),
    /// Number of key-policy Allow statements considered.
    StatementsConsidered(usize),
    /// The key policy was not given.
    KeyPolicyNotGiven,
    /// Number of grants considered; `None`: no grants given.
    GrantsConsidered(Option<usize>),
}
