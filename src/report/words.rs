//! The words for the engine's answers: every sentence and every command-line hint about a
//! decision, a path, a step, a reason, an unknown or a note, written once. The engine returns
//! values ([`crate::eval::Reason`], [`crate::eval::Unknown`]…); `can`, the graph commands and
//! the key rules all show them through the `Display` impls here. No sentence cites a spec rule.

use std::fmt::{self, Display, Formatter};

use crate::eval::{
    BAD_VERSION, GrantMiss, IdentitySays, Input, KeyUnknown, MoveOpen, Note, Open, Path, Reason,
    Requirement, Skip, StepName, StepOutcome, TrustOpen, Unknown,
};

/// `{`k`=`v`, …}`.
fn map(pairs: &[(String, String)]) -> String {
    let parts: Vec<String> = pairs.iter().map(|(k, v)| format!("`{k}`=`{v}`")).collect();
    format!("{{{}}}", parts.join(", "))
}

fn ticked(list: &[String]) -> String {
    list.iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Display for Path {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl Display for StepName {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            StepName::ExplicitDeny => f.write_str("explicit deny"),
            StepName::RcpGate => f.write_str("RCP gate"),
            StepName::ScpGate(None) => f.write_str("SCP gate"),
            StepName::ScpGate(Some(l)) => write!(f, "SCP gate, organisation level {l}"),
            StepName::VpcEndpoint => f.write_str("VPC endpoint gate"),
            StepName::CrossAccount => f.write_str("cross-account"),
            StepName::RetireGrant => f.write_str("RetireGrant by the grant's terms"),
            StepName::IdentityPath => f.write_str("identity path"),
            StepName::KeyPolicyAllow => f.write_str("key policy (Allow)"),
            StepName::IdentityAllow => f.write_str("identity policies (Allow)"),
            StepName::Boundary => f.write_str("permissions boundary"),
            StepName::SessionPolicies => f.write_str("session policies"),
            StepName::Grants => f.write_str("grants"),
        }
    }
}

impl Display for StepOutcome {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            StepOutcome::DeniedBy(by) => write!(f, "explicit deny by {}", by.join(", ")),
            StepOutcome::DenyMayApply => f.write_str("a Deny may apply"),
            StepOutcome::NoDeny => f.write_str("no Deny applies"),
            StepOutcome::RcpPassed => f.write_str(
                "passed: `RCPFullAWSAccess` allows at every level; RCPs act only through Deny",
            ),
            StepOutcome::Skipped(why) => f.write_str(match why {
                Skip::NoRcps => "skipped: no RCPs given",
                Skip::NoScps => "skipped: no SCPs given",
                Skip::ServiceLinkedRole => {
                    "skipped: organisation policies do not apply to service-linked roles"
                }
                Skip::AwsManagedKey => "skipped: RCPs do not apply to AWS managed keys",
                Skip::NotAKey => "skipped: not a key resource",
                Skip::ServicePrincipal => "skipped: SCPs do not apply to service principals",
            }),
            StepOutcome::AllowedBy(by) => write!(f, "allowed by {}", by.join(", ")),
            StepOutcome::NoScpAllows => f.write_str("no SCP at this level allows it"),
            StepOutcome::EndpointDenies => f.write_str("the endpoint policy does not allow it"),
            StepOutcome::NeverCrossAccount(a) => {
                write!(f, "`{a}` cannot be used on a key in another account")
            }
            StepOutcome::ReservedAlias => f.write_str("reserved alias"),
            StepOutcome::Tri(t) => f.write_str(t.as_str()),
            StepOutcome::StatementsConsidered(n) => {
                write!(f, "{n} Allow statement(s) considered")
            }
            StepOutcome::KeyPolicyNotGiven => f.write_str("the key policy was not given"),
            StepOutcome::GrantsConsidered(None) => f.write_str("no grants given"),
            StepOutcome::GrantsConsidered(Some(n)) => write!(f, "{n} grant(s) considered"),
        }
    }
}

/// "the key policy of `K`", with the hint that gives it.
fn input_missing(input: &Input) -> String {
    match input {
        Input::KeyPolicy { why: Some(why), .. } => why.clone(),
        Input::KeyPolicy { key, why: None } => {
            format!("the key policy of `{key}` was not given (give `--key-policy`)")
        }
        Input::IdentityPolicies => "the caller's identity policies are not known".into(),
        Input::Alias => {
            "the alias was not given (`--alias arn:aws:kms:<region>:<account>:alias/<name>`)".into()
        }
        Input::DestinationKey => "the destination key was not given (`--destination-key`)".into(),
        Input::NewTargetKey => {
            "the alias's new target key was not given (`--destination-key`)".into()
        }
        Input::GrantId => "the target grant's id was not given (`--grant-id`)".into(),
        Input::KeyAliases => "the key's aliases are not known (give `--key-alias`)".into(),
        Input::KeyManager => "the key manager was not given".into(),
    }
}

impl Display for Unknown {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Unknown::NotAnAction(a) => write!(f, "`{a}` is not a KMS action"),
            Unknown::NotAKeyArn(k) => write!(
                f,
                "`{k}` is not a key ARN with a Region and a 12-digit account id (`arn:aws:kms:<region>:<account>:key/<key-id>`)"
            ),
            Unknown::CheckNeeds { action, input } => write!(
                f,
                "{}: whether `{action}` is allowed cannot be judged",
                input_missing(input)
            ),
            Unknown::DenyIn(input) => {
                let it = if *input == Input::IdentityPolicies {
                    "them"
                } else {
                    "it"
                };
                write!(
                    f,
                    "{}: a Deny in {it} could refuse the request",
                    input_missing(input)
                )
            }
            Unknown::AllowIn(Input::IdentityPolicies) => {
                f.write_str("the caller's identity policies are not known")
            }
            Unknown::AllowIn(input) => write!(
                f,
                "{}: whether it allows the request cannot be judged",
                input_missing(input)
            ),
            Unknown::RcpDenyNeedsKeyManager => f.write_str(
                "an RCP Deny applies unless the key is AWS managed; the key manager was not given (give `--key-manager`)",
            ),
            Unknown::GrantKeyAlias { grant } => write!(
                f,
                "grant {grant} names its key by an alias, and {}",
                input_missing(&Input::KeyAliases)
            ),
            Unknown::GrantOpen { grant } => write!(
                f,
                "grant {grant}: whether it applies cannot be judged (an account grantee's IAM, a session name, the requested grant, or a part known only after apply is not known)"
            ),
            Unknown::DenyOrGateOpen => {
                f.write_str("an allow path holds, but a Deny or a gate cannot be judged")
            }
            Unknown::Open(open) => open.fmt(f),
            Unknown::StatementBroken {
                statement,
                policy,
                why,
            } => write!(
                f,
                "statement {statement} of `{policy}` cannot be judged: {}",
                why.as_deref().unwrap_or(BAD_VERSION)
            ),
            Unknown::ElementOpen { element, statement } => {
                write!(f, "`{element}` of statement {statement} cannot be judged")
            }
            Unknown::PrincipalOpen {
                statement,
                policy,
                not_principal,
            } => {
                write!(f, "statement {statement} of `{policy}`: ")?;
                f.write_str(if *not_principal {
                    "whether `NotPrincipal` excludes the caller cannot be judged"
                } else {
                    "whether it names the caller cannot be judged (an invalid principal in a Deny, a session name, role path or federating user that was not given)"
                })
            }
            Unknown::PlannedRegion { key } => write!(
                f,
                "the Region of `{key}` is not in the inputs, and the answer depends on it: give `--region`"
            ),
            Unknown::PlannedAccount {
                key,
                caller_account,
            } => write!(
                f,
                "the account of `{key}` is not in the inputs, and the answer depends on whether it is `{caller_account}`: give `--account`"
            ),
        }
    }
}

/// Why the value of `key` is unknown, and the flag that gives it.
fn key_unknown(f: &mut Formatter<'_>, key: &str, why: &KeyUnknown) -> fmt::Result {
    match why {
        KeyUnknown::KeyFact(what) => {
            write!(
                f,
                "`{key}` depends on the key's {what}, which was not given"
            )
        }
        KeyUnknown::CallerFact(what) => {
            write!(
                f,
                "`{key}` depends on the caller's {what}, which was not given"
            )
        }
        KeyUnknown::CallerUniqueId => write!(
            f,
            "`{key}` depends on the caller's unique id (give `--context aws:userid=…`), which was not given"
        ),
        KeyUnknown::Residual => write!(f, "`{key}` was left open"),
        KeyUnknown::NotInCatalogue => write!(
            f,
            "`{key}` is not a condition key kmsaudit knows; give its value with `--context` or pass `--assume-absent`"
        ),
        KeyUnknown::AlwaysSet(what) => write!(
            f,
            "`{key}` is always in such a request ({what}) but its value was not given; give it with `--context {key}=…`"
        ),
        KeyUnknown::MaybeSet(what) => write!(
            f,
            "whether `{key}` is in the request is not known ({what}); give it with `--context {key}=…`"
        ),
        KeyUnknown::DestinationKeyOpen => write!(
            f,
            "`{key}`: whether the destination key is the source key is not known (give `--destination-key`)"
        ),
        KeyUnknown::TimeNotFixed => write!(
            f,
            "`{key}`: the current time is not fixed; give `--context aws:CurrentTime=…`"
        ),
        KeyUnknown::NotATime(now) => write!(
            f,
            "`{key}`: `{now}` is not a time; give `--context aws:CurrentTime=<ISO 8601>`"
        ),
        KeyUnknown::GrantRequestNotGiven => write!(
            f,
            "`{key}`: the requested grant was not given (pass `--grant-request FILE`)"
        ),
    }
}

impl Display for Open {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Open::Key { key, why } => key_unknown(f, key, why),
            Open::Variable { key, why } => {
                write!(f, "policy variable `${{{key}}}`: ")?;
                key_unknown(f, key, why)
            }
            Open::MultivaluedVariable(key) => write!(
                f,
                "`${{{key}}}` names a multivalued key, which cannot be a policy variable"
            ),
            Open::Operator(op) => {
                write!(f, "`{op}` is not a condition operator kmsaudit can judge")
            }
            Open::CannotJudge(key) => write!(f, "`{key}` cannot be judged"),
            Open::PlainOperatorOnMultivalued(key) => write!(
                f,
                "a Deny tests the multivalued key `{key}` without `ForAnyValue:` or `ForAllValues:` and a request value matches: AWS does not document how it compares them (give `--plain-op-on-multivalued any` or `false`)"
            ),
            Open::RoleElsewhere(value) => write!(
                f,
                "`{value}` could name the caller's role under another path, and the role's path is not known (give `--context aws:PrincipalArn=<role ARN>`)"
            ),
            Open::RoleOnlyRootPath(value) => write!(
                f,
                "`{value}` names the caller's role only if its path is `/`, and the role's path is not known (give `--context aws:PrincipalArn=<role ARN>`)"
            ),
        }
    }
}

impl Display for TrustOpen {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            TrustOpen::NotPrincipal => {
                f.write_str("`NotPrincipal` in a trust policy is not judged for role assumption")
            }
            TrustOpen::Entry { entry, caller } => {
                write!(f, "whether `{entry}` names `{caller}` cannot be judged")
            }
        }
    }
}

impl Display for MoveOpen {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            MoveOpen::Broken { statement, why } => write!(
                f,
                "{statement} cannot be judged: {}",
                why.as_deref().unwrap_or(BAD_VERSION)
            ),
            MoveOpen::ResourceVariable { statement, pattern } => write!(
                f,
                "{statement}: `{}` has a policy variable, which is not substituted for IAM moves",
                pattern.as_deref().unwrap_or("Resource")
            ),
            MoveOpen::Principal { statement, why } => write!(f, "{statement}: {why}"),
        }
    }
}

/// "`p#s` allows `A`, but its condition `C` fails; …".
fn condition_fails(action: &str, fails: &[(String, String)]) -> String {
    fails
        .iter()
        .map(|(st, c)| format!("`{st}` allows `{action}`, but its condition `{c}` fails"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the identity policies say about `action` on `on`, or `None` when nothing allows.
fn identity_says(says: &IdentitySays, action: &str, on: &str) -> Option<String> {
    match says {
        IdentitySays::Open => Some(format!(
            "whether an identity policy of the caller allows `{action}` on `{on}` is open: it depends on what the answer lists as unknown or required"
        )),
        IdentitySays::ConditionFails(fails) => Some(format!(
            "identity policy {}",
            condition_fails(action, fails)
        )),
        IdentitySays::NothingAllows => None,
    }
}

fn grant_miss(f: &mut Formatter<'_>, grant: &str, miss: &GrantMiss) -> fmt::Result {
    match miss {
        GrantMiss::Operation { operations, action } => write!(
            f,
            "grant {grant} names the caller but its operations ({}) do not include `{action}`",
            operations.join(", ")
        ),
        GrantMiss::ContextEquals(m) => write!(
            f,
            "grant {grant} requires the encryption context to equal {} exactly (keys in any case, values case-sensitive), and the request's does not",
            map(m)
        ),
        GrantMiss::ContextSubset(m) => write!(
            f,
            "grant {grant} requires the encryption context to include {} (keys in any case, values case-sensitive), and the request's does not",
            map(m)
        ),
        GrantMiss::SourceArn(src) => {
            write!(f, "grant {grant} requires `aws:SourceArn` to be `{src}`")
        }
        GrantMiss::ChildGrantBroader => write!(
            f,
            "grant {grant} allows CreateGrant only for child grants with a subset of its operations and constraints at least as strict"
        ),
        GrantMiss::KeyAlias => write!(
            f,
            "grant {grant} names its key by an alias, and {}",
            input_missing(&Input::KeyAliases)
        ),
        GrantMiss::Open => write!(
            f,
            "grant {grant}: whether it applies cannot be judged (an account grantee's IAM, a session name, the requested grant, or a part known only after apply is not known)"
        ),
    }
}

fn root_statement(root: &str) -> String {
    format!(
        "{{\"Effect\": \"Allow\", \"Principal\": {{\"AWS\": \"{root}\"}}, \"Action\": \"kms:*\", \"Resource\": \"*\"}}"
    )
}

impl Display for Reason {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Allowed(p) => write!(f, "allowed by {p}"),
            Reason::ExplicitDeny { action, statements } => write!(
                f,
                "an explicit Deny applies to `{action}`: {}",
                statements.join(", ")
            ),
            Reason::OtherPartition { caller, key } => write!(
                f,
                "the caller is in partition `{caller}` and the key in `{key}`: a principal of another partition can never use the key"
            ),
            Reason::ScpGate { level, action } => write!(
                f,
                "no SCP at organisation level {level} allows `{action}` (an SCP gate without an Allow denies, even when every other policy allows)"
            ),
            Reason::VpcEndpoint { policy, action } => write!(
                f,
                "the VPC endpoint policy `{policy}` does not allow `{action}` for this caller"
            ),
            Reason::CrossAccountAction {
                action,
                caller_account,
                key_account,
            } => write!(
                f,
                "`{action}` never works on a key in another account (caller account {caller_account}, key account {key_account})"
            ),
            Reason::ReservedAlias => {
                f.write_str("aliases beginning `alias/aws/` are reserved for AWS managed keys")
            }
            Reason::IamOnly {
                action,
                resource,
                condition_fails: fails,
            } if !fails.is_empty() => write!(
                f,
                "`{action}` on `{resource}` is authorized only by IAM policies: {}",
                condition_fails(action, fails)
            ),
            Reason::IamOnly {
                action, resource, ..
            } => write!(
                f,
                "`{action}` on `{resource}` is authorized only by IAM policies, and no identity policy of the caller allows it"
            ),
            Reason::Boundary { policy, action } => write!(
                f,
                "the permissions boundary `{policy}` does not allow `{action}`: it limits the IAM path and key-policy statements that name the role"
            ),
            Reason::SessionPolicies { action } => write!(
                f,
                "no session policy allows `{action}`: session policies limit the session's permissions"
            ),
            Reason::KeyPolicyNotGiven => f.write_str(
                "the key policy was not given, so no key-policy path can be judged (give `--key-policy`)",
            ),
            Reason::ServiceNotAllowed { caller, action } => write!(
                f,
                "no key-policy statement allows the service principal `{caller}` to call `{action}` under this request's conditions, and no grant does"
            ),
            Reason::IamWithoutDelegation { .. }
            | Reason::NoDelegation { .. }
            | Reason::DelegationWithoutIam { .. }
            | Reason::CallerNotNamed { .. }
            | Reason::NamedButNotApplying { .. }
            | Reason::RootNeedsKeyPolicy { .. }
            | Reason::CrossAccountNotNamed { .. }
            | Reason::CrossAccountNeedsIam { .. } => key_policy_reason(f, self),
            Reason::Grant { grant, miss } => grant_miss(f, grant, miss),
            Reason::RetireNeedsGrantId => write!(
                f,
                "`kms:RetireGrant` is decided by the target grant: {}",
                input_missing(&Input::GrantId)
            ),
            Reason::RetireGrantNotGiven { grant_id } => write!(
                f,
                "grant `{grant_id}` is not among the grants given for this key (give `--grants`)"
            ),
            Reason::RetireNotAllowed {
                grant,
                retiring,
                operations,
                open,
            } => write!(
                f,
                "grant {grant} may be retired by its retiring principal ({}), by its grantee only if its operations include `RetireGrant` ({}), or by the issuing account's principals allowed by IAM — {}; `kms:RetireGrant` in a key policy has no effect",
                retiring.as_deref().unwrap_or("none"),
                operations.join(", "),
                if *open {
                    "whether the caller is one of these depends on its IAM policies, which cannot be judged"
                } else {
                    "the caller is none of these"
                }
            ),
            Reason::NoPathHolds { caller, action } => write!(
                f,
                "no allow path holds for `{caller}` and `{action}`: the trace shows which element of each statement failed"
            ),
        }
    }
}

/// Why the key-policy paths (naming the caller, root delegation + IAM, cross-account) failed.
fn key_policy_reason(f: &mut Formatter<'_>, r: &Reason) -> fmt::Result {
    match r {
        Reason::IamWithoutDelegation {
            action,
            root,
            iam,
            open: true,
        } => write!(
            f,
            "IAM policy {} allows `{action}`, but no key-policy statement allows `{root}` (the account) `{action}` for certain, so whether IAM policies apply to this key cannot be judged",
            iam.join(", ")
        ),
        Reason::IamWithoutDelegation {
            action, root, iam, ..
        } => write!(
            f,
            "IAM policy {} allows `{action}`, but the key policy has no statement that allows `{root}` (the account) `{action}` for this request, so IAM policies do not apply to this key — add the root delegation statement `{}` or name the caller in the key policy",
            iam.join(", "),
            root_statement(root)
        ),
        Reason::NoDelegation {
            action,
            root,
            identity: None,
        } => write!(
            f,
            "the key policy does not delegate `{action}` to the account (`{root}`), so no identity policy of the caller can allow it, whatever they say"
        ),
        Reason::NoDelegation {
            action,
            root,
            identity: Some(says),
        } => match identity_says(says, action, "the key") {
            Some(t) => write!(
                f,
                "the key policy does not delegate `{action}` to the account (`{root}`), and {t}"
            ),
            None => write!(
                f,
                "the key policy does not delegate `{action}` to the account (`{root}`), and no identity policy of the caller allows it either"
            ),
        },
        Reason::DelegationWithoutIam {
            action,
            root,
            key,
            identity,
            fix,
        } => match identity_says(identity, action, key) {
            Some(t) => write!(
                f,
                "the key policy delegates `{action}` to the account (`{root}`); {t}"
            ),
            None if *fix => write!(
                f,
                "the key policy delegates `{action}` to the account (`{root}`), but no identity policy of the caller allows `{action}` on `{key}` — attach an IAM policy that allows it on the key ARN"
            ),
            None => write!(
                f,
                "the key policy delegates `{action}` to the account (`{root}`), but no identity policy of the caller allows `{action}` on `{key}`"
            ),
        },
        Reason::CallerNotNamed { caller, action } => write!(
            f,
            "no key-policy statement names `{caller}` (or its role) for `{action}` under this request's conditions"
        ),
        Reason::NamedButNotApplying { caller, statements } if statements.is_empty() => {
            write!(
                f,
                "a key-policy statement names `{caller}` (or its role), but it does not apply to this request (see its conditions in the trace)"
            )
        }
        Reason::NamedButNotApplying { caller, statements } => write!(
            f,
            "key-policy statement {} names `{caller}` (or its role), but does not apply to this request: its action or conditions do not match (the trace shows which)",
            ticked(statements)
        ),
        Reason::RootNeedsKeyPolicy { root, action } => write!(
            f,
            "the root user has no identity policies: only a key-policy statement naming the account `{root}` (or `*`) could allow `{action}`, and none applies"
        ),
        Reason::CrossAccountNotNamed {
            key_account,
            action,
        } => write!(
            f,
            "the key policy (account {key_account}) allows neither the caller's account nor the caller for `{action}`: a principal in another account needs a key-policy statement naming its account or itself"
        ),
        Reason::CrossAccountNeedsIam {
            action,
            key,
            identity,
        } => match identity_says(identity, action, key) {
            Some(t) => write!(
                f,
                "the key policy allows the caller's account, and cross-account use needs an identity policy too; {t}"
            ),
            None => write!(
                f,
                "the key policy allows the caller's account, but no identity policy of the caller allows `{action}` on `{key}`: cross-account use needs both"
            ),
        },
        _ => Ok(()),
    }
}

/// "A (statement) and B (statement)".
pub(crate) fn requirements(alt: &[Requirement]) -> String {
    alt.iter()
        .map(|r| format!("{} ({})", r.text, r.statement))
        .collect::<Vec<_>>()
        .join(" and ")
}

impl Display for Note {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Note::RolePathAssumed(r) => write!(
                f,
                "the role's path is not known: assumed `{r}` (give `--context aws:PrincipalArn=<role ARN>` if it has a path)"
            ),
            Note::KeyState(state) => {
                write!(f, "authorized, but KeyState={state}; the call would fail")
            }
            Note::DenyMayAlsoApply(why) => write!(
                f,
                "a Deny may also apply, which would make this an explicit deny: {}",
                why.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Note::DeniedIf(alt) => write!(f, "denied if {}", requirements(alt)),
            Note::Input(s) => f.write_str(s),
        }
    }
}
