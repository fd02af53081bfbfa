//! Why no allow path holds (the AccessDenied question), as [`Reason`]s: for the caller's own
//! account, root delegation (R54) and the key policy naming the caller (R53); for another
//! account's key, R55's two halves; for a service principal, R59; then the grants (R56).
//! The reasons agree with the decision: an open answer (`open`) suggests no fix, and what the
//! identity policies say is open when it is, never "nothing allows".

use super::decide::Scope;
use super::paths::{GrantsSeen, Iam, Named};
use super::{Caller, CheckResult, IdentitySays, Reason, Tri};

/// Adds why each allow path failed to `result`; `allow` is the paths' combined result (No or
/// Unknown).
pub(super) fn explain_deny(
    result: &mut CheckResult,
    scope: &Scope<'_>,
    caller: &Caller,
    iam: &Iam,
    named: &Named,
    allow: Tri,
    grants: GrantsSeen,
) {
    let action = scope.action_name.to_owned();
    if scope.kp.is_none() {
        result.reasons.push(Reason::KeyPolicyNotGiven);
    } else if !scope.identity_side {
        result.reasons.push(Reason::ServiceNotAllowed {
            caller: caller.arn.clone(),
            action,
        });
    } else if scope.same_account && !scope.is_root {
        same_account(result, scope, caller, iam, named, allow == Tri::Unknown);
    } else if scope.same_account {
        result.reasons.push(Reason::RootNeedsKeyPolicy {
            root: root_of(scope),
            action,
        });
    } else if named.delegation == Tri::No && !named.names_caller {
        result.reasons.push(Reason::CrossAccountNotNamed {
            key_account: key_account(scope).to_owned(),
            action,
        });
    } else if iam.id.tri() != Tri::Yes && !scope.is_root {
        result.reasons.push(Reason::CrossAccountNeedsIam {
            action,
            key: scope.spec.resource.to_owned(),
            identity: iam.says().unwrap_or(IdentitySays::NothingAllows),
        });
    }
    if grants.for_caller {
        result.reasons.extend(grants.reasons);
    }
    if result.reasons.is_empty() {
        result.reasons.push(Reason::NoPathHolds {
            caller: caller.arn.clone(),
            action: scope.action_name.to_owned(),
        });
    }
}

fn key_account<'s>(scope: &Scope<'s>) -> &'s str {
    scope.facts.map_or("", |f| f.account.as_str())
}

fn root_of(scope: &Scope<'_>) -> String {
    format!("arn:aws:iam::{}:root", key_account(scope))
}

/// The caller's own account, not its root user: delegation + IAM (R54), then whether a
/// statement names the caller (R53).
fn same_account(
    result: &mut CheckResult,
    scope: &Scope<'_>,
    caller: &Caller,
    iam: &Iam,
    named: &Named,
    open: bool,
) {
    let action = scope.action_name.to_owned();
    let root = root_of(scope);
    let id = iam.id.tri();
    let says = iam.says();
    let reason = match (named.delegation, id == Tri::Yes) {
        (Tri::No, true) => Some(Reason::IamWithoutDelegation {
            action,
            root,
            iam: iam.id.by.clone(),
            open,
        }),
        (Tri::No, false) => Some(Reason::NoDelegation {
            action,
            root,
            // Unknown identity policies cannot matter without delegation.
            identity: if id == Tri::Unknown {
                None
            } else {
                Some(says.unwrap_or(IdentitySays::NothingAllows))
            },
        }),
        (_, false) => Some(Reason::DelegationWithoutIam {
            action,
            root,
            key: scope.spec.resource.to_owned(),
            fix: !open && says.is_none(),
            identity: says.unwrap_or(IdentitySays::NothingAllows),
        }),
        (_, true) => None,
    };
    result.reasons.extend(reason);
    result.reasons.push(if !named.names_caller {
        Reason::CallerNotNamed {
            caller: caller.arn.clone(),
            action: scope.action_name.to_owned(),
        }
    } else {
        Reason::NamedButNotApplying {
            caller: caller.arn.clone(),
            statements: named.not_applying.clone(),
        }
    });
}
