//! Grants (R56, R69–R75): whether a grant belongs to the key, names the caller, covers the
//! operation and holds under its constraints; who may retire a grant.

use super::decide::{Run, Scope};
use super::paths::Iam;
use super::{CallerKind, GrantMiss, Inputs, KeyFacts, Reason, Request, Tri};
use crate::arn::{PrincipalClass, classify_aws_principal};
use crate::grant::Grant;
use std::collections::BTreeMap;

/// R79: does a grant belong to this key? A grant belongs to the key its `KeyId` names by full
/// ARN — partition, Region, account and key id — so a grant on the us-east-1 copy of a
/// multi-Region key gives nothing on its eu-west-1 replica, and a grant on another account's key
/// with the same id gives nothing. A bare key id (or no `KeyId`) names the key the grant list was
/// read for, which the readers resolve to that key's ARN; an alias names the key it points to,
/// unknown unless the key's aliases are known.
pub(super) fn grant_on_key(g: &Grant, facts: &KeyFacts) -> Tri {
    let Some(id) = g.key_id.as_deref() else {
        return Tri::Yes;
    };
    // The common case, without taking the ARN apart: list-grants names the key by its ARN.
    if id == facts.arn {
        return Tri::Yes;
    }
    let Some(p) = crate::arn::split_arn(id) else {
        if let Some(alias) = id.strip_prefix("alias/").map(|_| id) {
            return match &facts.aliases {
                Some(list) => Tri::from_bool(list.iter().any(|a| a == alias)),
                None => Tri::Unknown,
            };
        }
        return Tri::from_bool(id == facts.key_id);
    };
    if p.service != "kms"
        || p.partition != facts.partition
        || p.region != facts.region
        || p.account != facts.account
    {
        return Tri::No;
    }
    if let Some(k) = p.resource.strip_prefix("key/") {
        return Tri::from_bool(k == facts.key_id);
    }
    if p.resource.starts_with("alias/") {
        return match &facts.aliases {
            Some(list) => Tri::from_bool(list.iter().any(|a| a == p.resource)),
            None => Tri::Unknown,
        };
    }
    Tri::No
}

/// R71–R74: does a grant allow this check for this caller?
/// Returns the result, whether the grant names the caller at all, and why it does not apply.
pub(super) fn grant_path(
    g: &Grant,
    run: &Run<'_>,
    scope: &Scope<'_>,
    iam: &Iam,
) -> (Tri, bool, Option<Reason>) {
    let grantee = grantee(g, run, iam);
    if grantee == Tri::No {
        return (Tri::No, false, None);
    }
    let miss = |miss: GrantMiss| {
        (
            Tri::No,
            true,
            Some(Reason::Grant {
                grant: g.label(),
                miss,
            }),
        )
    };
    let action = scope.action;
    // Operation (R72); only grantable operations can be granted (R70).
    if !action.grantable || !(g.late.operations || g.operations.iter().any(|o| o == action.name)) {
        return miss(GrantMiss::Operation {
            operations: g.operations.clone(),
            action: action.name.to_owned(),
        });
    }
    // Constraints (R73).
    let t = match grant_constraints(g, run) {
        Ok(t) => grantee.and(t),
        Err(m) => return miss(m),
    };
    // R133: operations or constraints known only after apply: whether it applies is not known.
    let t = if g.late.operations || g.late.constraints {
        t.and(Tri::Unknown)
    } else {
        t
    };
    // R74: CreateGrant through a grant: the child must be no broader than the parent.
    let t = if action.name != "CreateGrant" {
        t
    } else {
        match &run.ctx.req.grant_request {
            None => t.and(Tri::Unknown),
            Some(child) if child_within(g, child) => t,
            Some(_) => return miss(GrantMiss::ChildGrantBroader),
        }
    };
    // Q5: boundaries and session policies do not limit grants by default.
    let t = if run.opts.open.boundary_limits_grants {
        t.and(iam.limits())
    } else {
        t
    };
    // Q6: a cross-account grantee needs no IAM allow by default.
    let c = run.ctx.caller;
    let t = if run.opts.open.cross_account_grant_needs_iam
        && !scope.same_account
        && c.kind != CallerKind::Root
    {
        t.and(iam.id.tri())
    } else {
        t
    };
    (t, true, None)
}

/// R71: does the grant's grantee name the caller?
fn grantee(g: &Grant, run: &Run<'_>, iam: &Iam) -> Tri {
    let c = run.ctx.caller;
    // R133: a grantee known only after apply may be any principal.
    if g.late.grantee {
        return Tri::Unknown;
    }
    if g.grantee_is_service {
        Tri::from_bool(c.kind == CallerKind::Service && c.arn == g.grantee)
    } else {
        match &g.grantee_class {
            PrincipalClass::User { arn, .. } => Tri::from_bool(
                (c.kind == CallerKind::User && c.arn == *arn)
                    || (c.kind == CallerKind::FederatedUser
                        && c.federating_user.as_deref() == Some(arn.as_str())),
            ),
            PrincipalClass::Role { arn, .. } => Tri::from_bool(
                c.kind == CallerKind::AssumedRole && c.role_arn.as_deref() == Some(arn.as_str()),
            ),
            PrincipalClass::AssumedRole { arn, .. } => {
                if c.kind == CallerKind::AssumedRole && c.arn == *arn {
                    Tri::Yes
                } else if c.session_open
                    && c.role_arn.is_some()
                    && arn.rsplit_once('/').map(|(h, _)| h)
                        == c.arn.rsplit_once('/').map(|(h, _)| h)
                {
                    Tri::Unknown
                } else {
                    Tri::No
                }
            }
            PrincipalClass::FederatedUser { arn, .. } => {
                Tri::from_bool(c.kind == CallerKind::FederatedUser && c.arn == *arn)
            }
            PrincipalClass::Account { account, .. } => {
                if *account != c.account
                    || matches!(c.kind, CallerKind::Service | CallerKind::Anonymous)
                {
                    Tri::No
                } else if c.kind == CallerKind::Root {
                    Tri::Yes
                } else if run.opts.open.account_grantee_root_only {
                    Tri::No
                } else {
                    // Q7: principals of the account whose IAM allows the action on the key;
                    // R71 (v2): that is R54's IAM side in full, so the permissions boundary
                    // and session policies limit it too.
                    iam.id.tri().and(iam.limits())
                }
            }
            _ => Tri::No,
        }
    }
}

/// R73: the grant's constraints on the request's encryption context and `aws:SourceArn`.
/// `Err` names the constraint that fails.
fn grant_constraints(g: &Grant, run: &Run<'_>) -> Result<Tri, GrantMiss> {
    let mut t = Tri::Yes;
    let name = run.ctx.action.name;
    let ignore_ec = matches!(name, "DescribeKey" | "RetireGrant");
    let residual_ec = run.opts.residual && run.ctx.req.encryption_context.is_none();
    let ec = run.ctx.ec.as_deref().unwrap_or(&[]);
    let pairs = |m: &BTreeMap<String, String>| -> Vec<(String, String)> {
        m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    if !ignore_ec {
        if let Some(eq) = &g.constraints.equals {
            let ok = if residual_ec {
                Tri::Unknown
            } else {
                ec_constraint(eq, ec, true)
            };
            if ok == Tri::No {
                return Err(GrantMiss::ContextEquals(pairs(eq)));
            }
            t = t.and(ok);
        }
        if let Some(sub) = &g.constraints.subset {
            let ok = if residual_ec {
                Tri::Unknown
            } else {
                ec_constraint(sub, ec, false)
            };
            if ok == Tri::No {
                return Err(GrantMiss::ContextSubset(pairs(sub)));
            }
            t = t.and(ok);
        }
    }
    if let Some(src) = &g.constraints.source_arn {
        if name != "RetireGrant" {
            let given = run
                .ctx
                .req
                .context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("aws:SourceArn"))
                .map(|(_, v)| v.as_str());
            let ok = match given {
                Some(v) if run.opts.open.grant_source_arn_pattern => Tri::from_bool(
                    crate::pattern::Pattern::parse(src, true, false)
                        .0
                        .matches(v),
                ),
                Some(v) => Tri::from_bool(v == src),
                None if run.opts.residual => Tri::Unknown,
                None => Tri::No,
            };
            if ok == Tri::No {
                return Err(GrantMiss::SourceArn(src.clone()));
            }
            t = t.and(ok);
        }
    }
    Ok(t)
}

/// R74: a child grant made through a grant has a subset of its operations and constraints at
/// least as strict; R73 (v2): constraint keys compare in any case, values exactly.
fn child_within(g: &Grant, child: &Grant) -> bool {
    let covers = |a: &BTreeMap<String, String>, b: &BTreeMap<String, String>| {
        a.iter().all(|(k, v)| {
            b.iter()
                .any(|(bk, bv)| bk.eq_ignore_ascii_case(k) && bv == v)
        })
    };
    let ops_ok = child.operations.iter().all(|o| g.operations.contains(o));
    let strict_ok = match (&g.constraints.subset, &g.constraints.equals) {
        (Some(ps), _) => {
            child
                .constraints
                .subset
                .as_ref()
                .is_some_and(|m| covers(ps, m))
                || child
                    .constraints
                    .equals
                    .as_ref()
                    .is_some_and(|m| covers(ps, m))
        }
        (None, Some(pe)) => child
            .constraints
            .equals
            .as_ref()
            .is_some_and(|ce| covers(pe, ce) && covers(ce, pe)),
        (None, None) => true,
    };
    ops_ok && strict_ok
}

/// R73 (v2): does an encryption-context constraint hold for the request's context? A pair's key
/// compares case-insensitively, its value case-sensitively; the request's context is a set of
/// distinct pairs (a pair given twice is one pair). `equals` also needs every request pair in
/// the constraint. A request holding two entries whose keys differ only by case, where the
/// constraint names that key, is unknown: AWS documents only "do not do this".
fn ec_constraint(constraint: &BTreeMap<String, String>, req: &[(&str, &str)], equals: bool) -> Tri {
    let mut t = Tri::Yes;
    for (ck, cv) in constraint {
        let mut found: Option<(&str, &str)> = None;
        let mut twins = false;
        for &(rk, rv) in req {
            if rk.eq_ignore_ascii_case(ck) {
                match found {
                    // The same pair again is one pair; another case or value is a twin.
                    Some(f) if f != (rk, rv) => twins = true,
                    _ => found = Some((rk, rv)),
                }
            }
        }
        t = t.and(match found {
            None => Tri::No,
            Some(_) if twins => Tri::Unknown,
            Some((_, v)) => Tri::from_bool(v == cv),
        });
        if t == Tri::No {
            return t;
        }
    }
    if equals {
        for (rk, rv) in req {
            let listed = constraint
                .iter()
                .any(|(ck, cv)| ck.eq_ignore_ascii_case(rk) && cv == rv);
            if !listed {
                let key_named = constraint.keys().any(|ck| ck.eq_ignore_ascii_case(rk));
                // A twin of a named key whose value differs: the twin rule above decides.
                t = t.and(if key_named && t == Tri::Unknown {
                    Tri::Unknown
                } else {
                    Tri::No
                });
                if t == Tri::No {
                    return t;
                }
            }
        }
    }
    t
}

/// R75: RetireGrant is authorized by the target grant, not by the key policy.
pub(super) fn retire_path(
    inputs: &Inputs,
    req: &Request,
    run: &Run<'_>,
    facts: Option<&KeyFacts>,
    iam_side: Tri,
) -> (Tri, Vec<String>, Vec<Reason>) {
    let c = run.ctx.caller;
    let Some(gid) = &req.grant_id else {
        return (Tri::Unknown, Vec::new(), vec![Reason::RetireNeedsGrantId]);
    };
    let grants = facts
        .and_then(|f| inputs.key(&f.arn))
        .and_then(|k| k.grants.as_deref())
        .unwrap_or(&[]);
    let Some(g) = grants.iter().find(|g| {
        g.grant_id.as_deref() == Some(gid.as_str())
            && facts.is_none_or(|f| grant_on_key(g, f) != Tri::No)
    }) else {
        return (
            Tri::Unknown,
            Vec::new(),
            vec![Reason::RetireGrantNotGiven {
                grant_id: gid.clone(),
            }],
        );
    };
    let matches = |who: &str| -> Tri {
        if !who.starts_with("arn:") {
            return Tri::from_bool(c.kind == CallerKind::Service && c.arn == who);
        }
        match classify_aws_principal(who) {
            PrincipalClass::User { arn, .. } => {
                Tri::from_bool(c.kind == CallerKind::User && c.arn == arn)
            }
            PrincipalClass::Role { arn, .. } => {
                Tri::from_bool(c.role_arn.as_deref() == Some(arn.as_str()))
            }
            PrincipalClass::AssumedRole { arn, .. } | PrincipalClass::FederatedUser { arn, .. } => {
                Tri::from_bool(c.arn == arn)
            }
            PrincipalClass::Account { account, .. } => {
                if account != c.account {
                    Tri::No
                } else if c.kind == CallerKind::Root {
                    Tri::Yes
                } else {
                    iam_side
                }
            }
            _ => Tri::No,
        }
    };
    let label = g.label();
    let by_retiring = g.retiring.as_deref().map_or(Tri::No, matches);
    let by_grantee = if g.operations.iter().any(|o| o == "RetireGrant") {
        matches(&g.grantee)
    } else {
        Tri::No
    };
    let issuing = g
        .issuing_account
        .as_deref()
        .and_then(|a| crate::arn::split_arn(a).map(|p| p.account.to_owned()));
    let by_issuer = match issuing {
        Some(acct) if acct == c.account => {
            if c.kind == CallerKind::Root {
                Tri::Yes
            } else {
                iam_side
            }
        }
        _ => Tri::No,
    };
    let on_key = facts.map_or(Tri::Yes, |f| grant_on_key(g, f));
    let t = by_retiring.or(by_grantee).or(by_issuer).and(on_key);
    let mut why = Vec::new();
    if t != Tri::Yes {
        why.push(Reason::RetireNotAllowed {
            grant: label.clone(),
            retiring: g.retiring.clone(),
            operations: g.operations.clone(),
            open: t == Tri::Unknown,
        });
    }
    (t, vec![format!("grant {label}")], why)
}
