//! Questions for the access graph: IAM and STS moves, and its pre-filters.
//!
//! The KMS engine decides KMS requests; the access graph also asks whether a principal may
//! call an IAM or STS action (`sts:AssumeRole` on a role, `iam:PutRolePolicy` on a role…) and
//! which KMS actions an identity policy could allow on which key. These functions answer
//! those questions statement by statement with the matchers above, under the same switches
//! (`Options::open`), so that the graph holds no matcher of its own.

use super::{ActionRef, Target, action_covers, entry_kind, kind, resource_covers_unsubstituted};
use crate::arn::PrincipalClass;
use crate::eval::NamedPolicy;
use crate::eval::{MoveOpen, Tri, TrustOpen};
use crate::policy::{ActionClause, PolicyKind, Statement};

/// A request for an action of another service than KMS, as an access-graph move puts it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OtherRequest<'a> {
    /// Who calls.
    pub(crate) caller: &'a crate::eval::Caller,
    /// The caller's IAM unique id (`AIDA…`, `AROA…`), when known: a trust policy may name
    /// the caller by it.
    pub(crate) unique_id: Option<&'a str>,
    /// `iam`, `sts`… (lower case).
    pub(crate) service: &'a str,
    /// `assumerole`, `putrolepolicy`… (lower case).
    pub(crate) name: &'a str,
    /// The resource ARN (the role, user, group or managed policy).
    pub(crate) resource: &'a str,
}

/// How one statement applies to an [`OtherRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OtherApplies {
    /// It does not apply.
    No,
    /// It applies.
    Yes,
    /// It applies when its `Condition` block holds. Condition keys of IAM and STS requests
    /// are not in the catalogue, so the block is never judged here: it stays a condition of
    /// the answer, neither true nor false.
    Conditional,
    /// It cannot be judged: why.
    Unknown(MoveOpen),
}

/// `policy#Sid` or `policy#n`, as the graph's moves name statements.
fn move_statement_id(p: &NamedPolicy, st: &Statement) -> String {
    super::statement_id(p, st)
}

/// How a trust policy's `Principal` names the caller of `req` (R24): `Some(true)` by its own
/// ARN (or its role's ARN, or its unique id), `Some(false)` only through its account or
/// `"*"`, `None` not at all; `Err` when some entry's match cannot be judged. Each entry is
/// matched by [`entry_kind`] under `open`. `NotPrincipal` in a trust policy is not judged.
pub(crate) fn trust_principal_names(
    st: &Statement,
    req: &OtherRequest<'_>,
    open: &crate::eval::OpenDefaults,
) -> Result<Option<bool>, TrustOpen> {
    let Some(pc) = &st.principal else {
        return Ok(None);
    };
    if pc.negated {
        return Err(TrustOpen::NotPrincipal);
    }
    let mut best = None;
    for e in &pc.entries {
        let (kinds, unknown) = entry_kind(&e.class, st.is_deny(), req.caller, open);
        if unknown {
            return Err(TrustOpen::Entry {
                entry: e.value.clone(),
                caller: req.caller.arn.clone(),
            });
        }
        let direct = kinds & !(kind::WILDCARD | kind::ACCOUNT) != 0
            // The graph knows unique ids (`AROA…`), which KMS requests do not carry.
            || (matches!(e.class, PrincipalClass::UniqueId)
                && req.unique_id == Some(e.value.as_str()));
        let hit = if direct {
            Some(true)
        } else if kinds != 0 {
            Some(false)
        } else {
            None
        };
        best = match (best, hit) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), _) | (_, Some(false)) => Some(false),
            _ => None,
        };
    }
    Ok(best)
}

/// Whether statement `st` of policy `p` applies to `req`, matched element by element as
/// [`eval_statement`] matches a KMS request: a broken statement, or one in a document whose
/// `Version` AWS rejects, cannot be judged (R11); a `Principal` outside a resource policy makes
/// the statement ignored (R13); no `Action`, or no `Resource` outside a trust policy or SCP,
/// means no effect (R12); then `Action` (R17, R18), `Resource` (R19–R21, a policy variable
/// left unsubstituted, so a part holding one may match) and, in a trust policy, `Principal`
/// (R24). An element that does not match makes the statement inapplicable even when another
/// cannot be judged.
pub(crate) fn other_statement_applies(
    p: &NamedPolicy,
    st: &Statement,
    req: &OtherRequest<'_>,
    opts: &crate::eval::Options,
) -> OtherApplies {
    if st.broken.is_some() || p.doc.version == crate::policy::Version::Invalid {
        return OtherApplies::Unknown(MoveOpen::Broken {
            statement: move_statement_id(p, st),
            why: st.broken.clone(),
        });
    }
    let trust = p.doc.kind == PolicyKind::Trust;
    if !p.doc.kind.has_principals() && st.principal.is_some() {
        return OtherApplies::No;
    }
    let Some(action) = &st.action else {
        return OtherApplies::No;
    };
    let act = ActionRef::Other {
        service: req.service,
        name: req.name,
    };
    if !action_covers(action, act) {
        return OtherApplies::No;
    }
    let resource_open = match &st.resource {
        Some(r) => {
            let target = Target {
                arn: req.resource,
                none: false,
            };
            let short = opts.open.short_resource_patterns_match_nothing;
            match resource_covers_unsubstituted(r, p.doc.kind, target, short) {
                Tri::Yes => None,
                Tri::No => return OtherApplies::No,
                Tri::Unknown => Some(MoveOpen::ResourceVariable {
                    statement: move_statement_id(p, st),
                    pattern: r
                        .items
                        .iter()
                        .find(|i| i.raw.contains("${"))
                        .map(|i| i.raw.clone()),
                }),
            }
        }
        None if trust || p.doc.kind == PolicyKind::Scp => None,
        None => return OtherApplies::No,
    };
    let principal_open = if trust {
        match trust_principal_names(st, req, &opts.open) {
            Ok(Some(_)) => None,
            Ok(None) => return OtherApplies::No,
            Err(why) => Some(MoveOpen::Principal {
                statement: move_statement_id(p, st),
                why,
            }),
        }
    } else {
        None
    };
    if let Some(open) = resource_open.or(principal_open) {
        return OtherApplies::Unknown(open);
    }
    if st.conditions.is_empty() {
        OtherApplies::Yes
    } else {
        OtherApplies::Conditional
    }
}

/// Whether `Action`/`NotAction` may cover some action of `service` (`iam`…): a sound
/// pre-filter for [`other_statement_applies`] over many actions of one service.
pub(crate) fn action_may_cover_service(a: &ActionClause, service: &str) -> bool {
    a.negated
        || a.items
            .iter()
            .any(|i| i.service == "*" || i.service.eq_ignore_ascii_case(service))
}

/// The KMS actions `Action`/`NotAction` covers, as a bit set by catalogue index: the bits
/// for which [`action_covers`] with [`ActionRef::Kms`] answers yes (bits past the catalogue
/// are set for `NotAction`, which a multi-check action's all-ones mask then meets).
pub(crate) fn kms_actions_covered(a: &ActionClause) -> u128 {
    if a.negated { !a.kms_mask } else { a.kms_mask }
}

/// Whether an identity policy's `Resource` pattern (split into ARN parts) may match
/// `arn`, as [`resource_covers`] judges it in an identity policy (R21, Q11 under `opts`),
/// with a part holding a policy variable counted as possibly matching.
pub(crate) fn resource_pattern_may_match(
    parts: &[crate::pattern::Pattern],
    arn: &str,
    opts: &crate::eval::Options,
) -> bool {
    crate::eval::condition::resource_match_with(
        parts,
        arn,
        opts.open.short_resource_patterns_match_nothing,
        |_, _| Tri::Unknown,
    ) != Tri::No
}
