//! The KMS authorization engine (spec §1, §4–§7: R1–R9, R46–R108).
//!
//! Owns the request model ([`Request`], [`Caller`], [`KeyFacts`]), the request context the
//! engine derives from it (`context`), statement matching with three-valued results
//! (`matcher`, `condition`) and the decision algorithm of R46 (`decide`) with its trace and the
//! explanation of why each allow path failed. [`evaluate`] never returns an error for policy
//! content: whatever it cannot judge makes the answer [`Decision::Undetermined`] with the reason
//! and location. It reads no files (`input`) and prints nothing (`report`).

mod classes;
mod condition;
mod context;
mod decide;
mod explain;
mod grants;
mod matcher;
mod paths;
mod reason;

use crate::grant::Grant;
use crate::policy::{PolicyDocument, PolicyKind};
use crate::source::{SourceId, Span};
use compact_str::CompactString;
use std::sync::Arc;

pub use crate::model::{KeyFacts, KeyManager};
pub(crate) use classes::{
    ActionClasses, CallerSignature, PrincipalIndex, callers_shareable, concerning_statements,
};
pub(crate) use context::iso8601;
pub(crate) use context::{CALLED_VIA_SERVICES, has_vpc_keys};
pub use decide::evaluate;
pub(crate) use matcher::BAD_VERSION;
pub use matcher::key_policy_may_allow;
// The access graph's questions (IAM and STS moves, pre-filters).
pub(crate) use matcher::{
    OtherApplies, OtherRequest, action_may_cover_service, kms_actions_covered,
    other_statement_applies, resource_pattern_may_match, trust_principal_names,
};
pub use reason::{
    GrantMiss, IdentitySays, Input, KeyUnknown, MoveOpen, Note, Open, Path, Reason, Skip, StepName,
    StepOutcome, TrustOpen, Unknown,
};

/// A three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tri {
    /// Holds.
    Yes,
    /// Does not hold.
    No,
    /// Cannot be judged from the inputs.
    Unknown,
}

impl Tri {
    /// From a boolean.
    pub(crate) fn from_bool(b: bool) -> Tri {
        if b { Tri::Yes } else { Tri::No }
    }

    /// Three-valued AND.
    pub(crate) fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Yes, Tri::Yes) => Tri::Yes,
            _ => Tri::Unknown,
        }
    }

    /// Three-valued OR.
    pub(crate) fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
            (Tri::No, Tri::No) => Tri::No,
            _ => Tri::Unknown,
        }
    }

    /// Three-valued NOT.
    pub(crate) fn negate(self) -> Tri {
        match self {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            Tri::Unknown => Tri::Unknown,
        }
    }

    /// Word for traces.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Tri::Yes => "yes",
            Tri::No => "no",
            Tri::Unknown => "unknown",
        }
    }
}

/// The four answers (spec R9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Decision {
    /// Allowed.
    Allow,
    /// A Deny statement applies.
    ExplicitDeny,
    /// Nothing allows it (or a gate has no Allow).
    ImplicitDeny,
    /// Depends on something the inputs do not settle.
    Undetermined,
}

impl Decision {
    /// The command-line word.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::ExplicitDeny => "explicit-deny",
            Decision::ImplicitDeny => "implicit-deny",
            Decision::Undetermined => "undetermined",
        }
    }
}

/// What kind of caller (spec R1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallerKind {
    /// The account's root user.
    Root,
    /// An IAM user.
    User,
    /// A session of a role (web-identity and SAML sessions too).
    AssumedRole,
    /// A `GetFederationToken` session.
    FederatedUser,
    /// A service principal calling directly.
    Service,
    /// An unauthenticated caller.
    Anonymous,
}

/// The caller of a request with its identity chain (spec R1, R2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Kind.
    pub kind: CallerKind,
    /// The caller ARN (for a service principal, its name; for anonymous, `*`).
    pub arn: String,
    /// Account id (empty for service principals and anonymous callers). Held inline, as
    /// the partition and the name most often are: callers are parsed for every request of a
    /// batch and every principal a key policy names.
    pub(crate) account: CompactString,
    /// Partition.
    pub(crate) partition: CompactString,
    /// For role sessions: the role ARN with its path.
    pub role_arn: Option<String>,
    /// The role path was not known and `/` was assumed (R1).
    pub role_path_assumed: bool,
    /// For role sessions given as "the role" (any session): the session name is open.
    pub session_open: bool,
    /// For federated users: the federating IAM user's ARN, when known.
    pub federating_user: Option<String>,
    /// User, role or federated-user name.
    pub(crate) name: CompactString,
    /// Principal and session tags.
    pub tags: Vec<(String, String)>,
}

impl Caller {
    /// Parses `--principal`: a user, role (any session), assumed-role session, federated user,
    /// root (`arn:aws:iam::A:root` or the bare account id), service principal, or `*` /
    /// `anonymous`. `role_arn` gives a session's role ARN with its path.
    pub fn parse(s: &str, role_arn: Option<&str>) -> Result<Caller, String> {
        let base = |kind, arn: &str, account: &str, partition: &str, name: &str| Caller {
            kind,
            arn: arn.to_owned(),
            account: account.into(),
            partition: partition.into(),
            role_arn: None,
            role_path_assumed: false,
            session_open: false,
            federating_user: None,
            name: name.into(),
            tags: Vec::new(),
        };
        // R1 (v2): KMS accepts only signed requests; an anonymous caller is no principal.
        if s == "*" || s.eq_ignore_ascii_case("anonymous") {
            return Err(format!(
                "`{s}`: KMS accepts only requests signed with AWS credentials, so an anonymous caller is not a principal; give an IAM user or role ARN, a session ARN, an account id or a service principal"
            ));
        }
        if crate::arn::is_account_id(s) {
            return Ok(base(
                CallerKind::Root,
                &["arn:aws:iam::", s, ":root"].concat(),
                s,
                "aws",
                "",
            ));
        }
        if !s.starts_with("arn:") {
            if s.contains('.') && !s.contains('/') && !s.contains(':') {
                return Ok(base(CallerKind::Service, s, "", "aws", s));
            }
            return Err(format!(
                "`{s}` is not a principal: give an IAM user or role ARN, an assumed-role session ARN, a federated-user ARN, an account id or a service principal such as `cloudtrail.amazonaws.com`"
            ));
        }
        let p = crate::arn::split_arn(s).ok_or_else(|| format!("`{s}` is not a valid ARN"))?;
        if !crate::arn::is_account_id(p.account) {
            return Err(format!(
                "`{s}`: the account part must be a 12-digit account id"
            ));
        }
        match (p.service, crate::arn::split_once_byte(p.resource, b'/')) {
            ("iam", None) if p.resource == "root" => {
                Ok(base(CallerKind::Root, s, p.account, p.partition, ""))
            }
            ("iam", Some(("user", rest))) if !rest.is_empty() => {
                let name = crate::arn::after_last_byte(rest, b'/');
                Ok(base(CallerKind::User, s, p.account, p.partition, name))
            }
            ("iam", Some(("role", rest))) if !rest.is_empty() => {
                // A role stands for any of its sessions.
                let name = crate::arn::after_last_byte(rest, b'/');
                let arn = [
                    "arn:",
                    p.partition,
                    ":sts::",
                    p.account,
                    ":assumed-role/",
                    name,
                    "/*",
                ]
                .concat();
                let mut c = base(CallerKind::AssumedRole, &arn, p.account, p.partition, name);
                c.role_arn = Some(s.to_owned());
                c.session_open = true;
                Ok(c)
            }
            ("sts", Some(("assumed-role", rest))) => {
                let (role, session) = crate::arn::split_once_byte(rest, b'/')
                    .filter(|(r, s)| !r.is_empty() && !s.is_empty() && !s.contains('/'))
                    .ok_or_else(|| format!("`{s}`: expected `assumed-role/<role>/<session>`"))?;
                let mut c = base(CallerKind::AssumedRole, s, p.account, p.partition, role);
                match role_arn {
                    Some(r) => {
                        // R1 (v2): the role ARN gives the session's path; it may not name
                        // another role.
                        let agrees = crate::arn::split_arn(r).is_some_and(|q| {
                            q.partition == p.partition
                                && q.service == "iam"
                                && q.account == p.account
                                && q.resource
                                    .strip_prefix("role/")
                                    .is_some_and(|rest| rest.rsplit('/').next() == Some(role))
                        });
                        if !agrees {
                            return Err(format!(
                                "`{r}` is not the role of session `{s}`: `aws:PrincipalArn` of a session is its role's ARN, `arn:{}:iam::{}:role/<path>/{role}`",
                                p.partition, p.account
                            ));
                        }
                        c.role_arn = Some(r.to_owned());
                    }
                    None => {
                        c.role_arn = Some(
                            ["arn:", p.partition, ":iam::", p.account, ":role/", role].concat(),
                        );
                        c.role_path_assumed = true;
                    }
                }
                let _ = session;
                Ok(c)
            }
            ("sts", Some(("federated-user", name))) if !name.is_empty() => Ok(base(
                CallerKind::FederatedUser,
                s,
                p.account,
                p.partition,
                name,
            )),
            _ => Err(format!(
                "`{s}` is not a caller: expected `iam::<account>:root|user/…|role/…` or `sts::<account>:assumed-role/…|federated-user/…`"
            )),
        }
    }

    /// The value of `aws:PrincipalArn` (R2, R101).
    pub fn principal_arn(&self) -> Option<&str> {
        match self.kind {
            CallerKind::AssumedRole => self.role_arn.as_deref(),
            CallerKind::Root | CallerKind::User | CallerKind::FederatedUser => Some(&self.arn),
            CallerKind::Service | CallerKind::Anonymous => None,
        }
    }
}

/// A policy with the name traces use for it (`key-policy`, a file name…).
#[derive(Debug, Clone)]
pub struct NamedPolicy {
    /// Name for traces.
    pub name: String,
    /// The document, shared: a batch completes each request's inputs from the inventory
    /// without copying policies.
    pub doc: Arc<PolicyDocument>,
}

/// A key with its policies and grants.
#[derive(Debug, Clone)]
pub struct KeyInputs {
    /// What is known about the key.
    pub facts: KeyFacts,
    /// The key policies (`default`, and `AWS_RAM` if any); `None` when not supplied.
    pub policies: Option<Vec<NamedPolicy>>,
    /// The key's grants; `None` when not supplied.
    pub grants: Option<Vec<Grant>>,
    /// Why the key policy is unknown when `policies` is `None` for a reason other than not being
    /// supplied (a Terraform value known only after apply).
    pub policy_unknown: Option<String>,
}

/// SCP or RCP levels, root first, each level's policies; shared between requests.
pub(crate) type Levels = Arc<[Vec<NamedPolicy>]>;

/// Everything the engine may consult for one caller.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Keys by ARN.
    /// Shared: a batch or a graph search hands the same key to many requests.
    pub keys: Vec<Arc<KeyInputs>>,
    /// The caller's identity policies; `None` when unknown. Shared between the requests of
    /// one caller.
    pub identity: Option<Arc<[NamedPolicy]>>,
    /// The caller's permissions boundary.
    pub boundary: Option<NamedPolicy>,
    /// Session policies.
    pub session: Vec<NamedPolicy>,
    /// SCPs per organisational level, root first; `None`: the gate is skipped.
    pub scp: Option<Levels>,
    /// RCPs per organisational level, root first; `None`: the gate is skipped.
    pub rcp: Option<Levels>,
    /// The VPC endpoint policy of the endpoint the request used.
    pub vpce: Option<NamedPolicy>,
}

impl Inputs {
    /// The inputs for a key ARN.
    pub(crate) fn key(&self, arn: &str) -> Option<&KeyInputs> {
        self.keys
            .iter()
            .find(|k| k.facts.arn == arn)
            .map(Arc::as_ref)
    }
}

/// One request (spec R1–R6).
#[derive(Debug, Clone)]
pub struct Request {
    /// The caller.
    pub caller: Caller,
    /// The action: `kms:Decrypt`, or an API call that expands into several checks
    /// (`kms:ReEncrypt`, `kms:CreateAlias`…).
    pub action: String,
    /// The key ARN.
    pub(crate) key: String,
    /// For `ReEncrypt`: the destination key; for `UpdateAlias`: the new target key.
    pub destination_key: Option<String>,
    /// For alias operations: the alias ARN.
    pub alias: Option<String>,
    /// How the request named the key when it used an alias (`alias/x` or an alias ARN).
    pub request_alias: Option<String>,
    /// The encryption context (for ReEncrypt: the source context).
    pub encryption_context: Option<Vec<(String, String)>>,
    /// For ReEncrypt: the destination encryption context.
    pub destination_encryption_context: Option<Vec<(String, String)>>,
    /// `kms:ViaService` when an integrated service calls on the caller's behalf.
    pub via_service: Option<String>,
    /// Explicit context keys (`--context K=V`, repeatable for several values).
    pub context: Vec<(String, String)>,
    /// For CreateGrant: the requested grant.
    pub grant_request: Option<Grant>,
    /// For RetireGrant/RevokeGrant: the target grant id.
    pub grant_id: Option<String>,
}

impl Request {
    /// A request with no context.
    pub fn new(caller: Caller, action: &str, key: &str) -> Request {
        Request {
            caller,
            action: action.to_owned(),
            key: key.to_owned(),
            destination_key: None,
            alias: None,
            request_alias: None,
            encryption_context: None,
            destination_encryption_context: None,
            via_service: None,
            context: Vec::new(),
            grant_request: None,
            grant_id: None,
        }
    }
}

/// Defaults the spec leaves open (§12), each switchable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpenDefaults {
    /// Q1 (R34): how a plain operator compares a present multivalued key: `Some(true)` as
    /// `ForAnyValue:`, `Some(false)` never matching, `None` not chosen (an Allow reads it
    /// as false, a Deny that a value would match is undetermined).
    pub(crate) plain_op_on_multivalued: Option<bool>,
    /// Q2 (R57): a session policy's implicit deny also blocks an exact session-ARN principal.
    pub(crate) session_policy_blocks_exact_session: bool,
    /// Q3 (R26): `NotPrincipal` excludes a caller on any single listed match (account alone
    /// suffices) instead of account AND identity.
    pub(crate) not_principal_any_match: bool,
    /// Q5 (R57): boundaries and session policies also limit access that comes from a grant.
    pub(crate) boundary_limits_grants: bool,
    /// Q6 (R56): a cross-account grantee also needs an IAM allow in its own account.
    pub(crate) cross_account_grant_needs_iam: bool,
    /// Q7 (R71): an account grantee (`arn:aws:iam::X:root`) means only X's root user.
    pub(crate) account_grantee_root_only: bool,
    /// Q8 (R45): `kms:ResourceAliases` is never present when tested in a key policy.
    pub(crate) resource_aliases_absent_in_key_policy: bool,
    /// Q9 (R7): with colliding encryption-context keys a positive test needs only one entry.
    pub(crate) ec_collision_any: bool,
    /// Q10 (R89): `kms:GrantIsForAWSResource` is absent (not `false`) on direct calls.
    pub(crate) grant_for_aws_resource_absent: bool,
    /// Q14 (R32): a negated numeric/date test whose values do not parse is true.
    pub(crate) unparsable_negated_true: bool,
    /// Q16 (R38): `*` and `?` in substituted variable values are wildcards.
    pub(crate) substituted_wildcards: bool,
    /// Q23 (R24): `"*"` does not match direct calls by service principals.
    pub(crate) star_excludes_services: bool,
    /// Q4 (R48): RCPs apply to service-linked roles (role path `/aws-service-role/`) too
    /// (default, v2: they do not).
    pub(crate) rcp_applies_to_service_linked_roles: bool,
    /// Q11 (R21): a `Resource` pattern with fewer than six ARN parts matches nothing.
    pub(crate) short_resource_patterns_match_nothing: bool,
    /// Q18 (R73): a grant's `SourceArn` constraint is an ARN pattern (`ArnLike`), not exact.
    pub(crate) grant_source_arn_pattern: bool,
    /// Q20 (R87, R88): `ReEncryptTo` sees the source encryption context, and `CreateGrant`
    /// has no encryption-context keys.
    pub(crate) ec_from_source_only: bool,
    /// Q24 (R26): a legacy `Allow` with `NotPrincipal` matches nobody.
    pub(crate) allow_not_principal_matches_nobody: bool,
    /// Q25 (R55): an external account's root user is not allowed by an account principal alone.
    pub(crate) external_root_denied: bool,
    /// Q10, second part (R98): an omitted `BypassPolicyLockoutSafetyCheck` is present as `false`.
    pub(crate) bypass_present_when_omitted: bool,
}

impl OpenDefaults {
    /// Switches the open question `id` (`Q1`, `q10b`…, any case) to its other reading.
    /// Returns false for an id that is not an engine switch (Q12 and Q13 are parse
    /// options; the other §12 questions are facts, not switches).
    pub fn switch(&mut self, id: &str) -> bool {
        let upper = id.to_ascii_uppercase();
        if upper == "Q1" {
            self.plain_op_on_multivalued = Some(true);
            return true;
        }
        let flag = match upper.as_str() {
            "Q2" => &mut self.session_policy_blocks_exact_session,
            "Q3" => &mut self.not_principal_any_match,
            "Q4" => &mut self.rcp_applies_to_service_linked_roles,
            "Q5" => &mut self.boundary_limits_grants,
            "Q6" => &mut self.cross_account_grant_needs_iam,
            "Q7" => &mut self.account_grantee_root_only,
            "Q8" => &mut self.resource_aliases_absent_in_key_policy,
            "Q9" => &mut self.ec_collision_any,
            "Q10" => &mut self.grant_for_aws_resource_absent,
            "Q10B" => &mut self.bypass_present_when_omitted,
            "Q11" => &mut self.short_resource_patterns_match_nothing,
            "Q14" => &mut self.unparsable_negated_true,
            "Q16" => &mut self.substituted_wildcards,
            "Q18" => &mut self.grant_source_arn_pattern,
            "Q20" => &mut self.ec_from_source_only,
            "Q23" => &mut self.star_excludes_services,
            "Q24" => &mut self.allow_not_principal_matches_nobody,
            "Q25" => &mut self.external_root_denied,
            _ => return false,
        };
        *flag = true;
        true
    }
}

/// How to evaluate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Open defaults.
    pub open: OpenDefaults,
    /// Request keys not given are unknown (residual evaluation) instead of absent.
    pub residual: bool,
    /// Condition keys the engine does not know are absent instead of undetermined (R108).
    pub assume_absent: bool,
    /// Record the full trace (off for batch decisions).
    pub trace: bool,
    /// `aws:CurrentTime` (ISO 8601), which also gives `aws:EpochTime`; `None`: unknown. `can`
    /// sets it to the time of the run (R107); `--context aws:CurrentTime=…` pins it.
    pub now: Option<String>,
}

/// A location in a policy for traces: which policy, which statement, which span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatementRef {
    /// The policy's name.
    pub(crate) policy: String,
    /// The policy kind.
    pub(crate) kind: PolicyKind,
    /// The statement's Sid or `#n`.
    pub(crate) statement: String,
    /// The source.
    pub(crate) source: SourceId,
    /// The statement's span.
    pub(crate) span: Span,
}

impl StatementRef {
    /// `key-policy#Root`.
    pub(crate) fn id(&self) -> String {
        if self.statement.starts_with('#') {
            format!("{}{}", self.policy, self.statement)
        } else {
            format!("{}#{}", self.policy, self.statement)
        }
    }
}

/// The outcome of one element of a statement in a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ElementTrace {
    /// `Principal`, `Action`, `Resource`, or `Condition StringEquals kms:ViaService`.
    pub(crate) element: String,
    /// Result.
    pub(crate) outcome: Tri,
    /// Why.
    pub(crate) detail: String,
    /// Where.
    pub(crate) span: Span,
}

/// One statement considered, in a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatementTrace {
    /// Which statement.
    pub(crate) at: StatementRef,
    /// `Allow` / `Deny`.
    pub(crate) effect: &'static str,
    /// Whether it applies.
    pub(crate) applies: Tri,
    /// Each element.
    pub(crate) elements: Vec<ElementTrace>,
}

/// One step of the algorithm (R46), in a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    /// Which step.
    pub(crate) name: StepName,
    /// What it concluded.
    pub(crate) outcome: StepOutcome,
    /// Statements considered.
    pub(crate) statements: Vec<StatementTrace>,
}

/// A condition left open in residual evaluation, linked to its statement.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Requirement {
    /// The text: "`kms:ViaService` is `s3.us-east-1.amazonaws.com`".
    pub text: String,
    /// The condition key it is about, lower case (`kms:viaservice`).
    pub(crate) key: String,
    /// The statement it comes from (`key-policy#Use`).
    pub statement: String,
}

/// The evaluation of one authorization check.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// The action checked (`kms:ReEncryptFrom`).
    pub(crate) action: String,
    /// The resource (key or alias ARN).
    pub(crate) resource: String,
    /// The decision.
    pub(crate) decision: Decision,
    /// The path that allowed, or the gate that denied.
    pub path: Option<Path>,
    /// The statements (or grants) that decided.
    pub deciding: Vec<String>,
    /// Why the answer is what it is (for a deny: why each path failed).
    pub reasons: Vec<Reason>,
    /// What is unknown and why (for undetermined answers).
    pub unknowns: Vec<Unknown>,
    /// Residual: alternatives (OR) of requirements (AND) under which it would be allowed.
    pub residual: Vec<Vec<Requirement>>,
    /// Notes that never change the decision (R61) and assumptions made (R1, R107).
    pub notes: Vec<Note>,
    /// The steps, when tracing.
    pub(crate) steps: Vec<Step>,
}

/// The evaluation of a request: one or more checks combined (R62).
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The combined decision.
    pub decision: Decision,
    /// Each check.
    pub checks: Vec<CheckResult>,
}
