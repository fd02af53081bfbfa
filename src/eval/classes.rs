//! Actions the engine cannot tell apart on given inputs.
//!
//! The engine reads a request's action in few places: whether a statement's `Action` or
//! `NotAction` covers it (R17, R18: a bit of the statement's action mask), whether a `kms:`
//! condition key or policy variable is present for it (R44: a bit of the key's action mask),
//! and the catalogue's flags of the action (on a key or not, cross-account use, decided by
//! the grant). Two actions that agree on all of these for every statement of the
//! inputs get the same answer — decision, deciding statements, residual conditions and
//! unknowns — apart from the action's name in the explanations.
//!
//! The key rules ask one caller about every key action in turn (41 probes for the delegation
//! to the account, 7 for each principal a key policy names); with [`ActionClasses`] they ask
//! one action of each class. Actions the engine handles by name are never shared: alias
//! operations (two or three checks), `ReEncryptFrom`/`ReEncryptTo` (the other key), and
//! `CreateGrant` (the requested grant's context) when a statement reads the encryption
//! context. Inputs with grants share nothing: a grant names its operations. Neither does a
//! statement the parser could not read.

use super::{Caller, CallerKind, Inputs, OpenDefaults};
use crate::catalog::{self, ActionMask, CrossAccount};
use crate::policy::{PolicyDocument, Statement};

/// For each catalogue action, the action whose answer it shares on one set of inputs.
#[derive(Debug, Clone)]
pub(crate) struct ActionClasses {
    /// The representative's catalogue index, by action index (an action that shares nothing
    /// is its own representative).
    representative: [u8; 128],
}

/// The actions that may share answers: on a key and handled by no rule of their own.
fn shareable() -> ActionMask {
    static MASK: std::sync::OnceLock<ActionMask> = std::sync::OnceLock::new();
    *MASK.get_or_init(|| {
        catalog::actions()
            .iter()
            .enumerate()
            .filter(|(i, a)| {
                *i < 128
                    && a.on_key
                    && !a.on_alias
                    && !a.grant_only
                    && !matches!(
                        a.name,
                        "CreateGrant"
                            | "ReEncryptFrom"
                            | "ReEncryptTo"
                            | "CreateAlias"
                            | "DeleteAlias"
                            | "UpdateAlias"
                    )
            })
            .fold(0, |m, (i, _)| m | 1u128 << i)
    })
}

/// The catalogue flags the engine reads, as masks that split the shareable actions.
fn flag_masks() -> &'static [ActionMask] {
    static MASKS: std::sync::OnceLock<Vec<ActionMask>> = std::sync::OnceLock::new();
    MASKS.get_or_init(|| {
        let mask = |f: &dyn Fn(&catalog::ActionInfo) -> bool| {
            catalog::actions()
                .iter()
                .enumerate()
                .filter(|(i, a)| *i < 128 && f(a))
                .fold(0u128, |m, (i, _)| m | 1u128 << i)
        };
        // Whether an action is grantable matters only with grants, which share nothing.
        vec![
            mask(&|a| a.cross_account == CrossAccount::Yes),
            mask(&|a| a.cross_account == CrossAccount::No),
            mask(&|a| a.cross_account == CrossAccount::Special),
        ]
    })
}

impl ActionClasses {
    /// No action shares another's answer.
    fn none() -> ActionClasses {
        let mut representative = [0u8; 128];
        for (i, r) in (0u8..).zip(representative.iter_mut()) {
            *r = i;
        }
        ActionClasses { representative }
    }

    /// The classes of the catalogue's actions on `inputs`.
    pub(crate) fn of(inputs: &Inputs) -> ActionClasses {
        Self::of_kept(inputs, None)
    }

    /// [`Self::of`] for one caller: `keep` holds the positions (`Statement::index`, sorted) of
    /// the key-policy statements that can concern it ([`concerning_statements`]). Every other
    /// statement fails on `Principal` for that caller whatever the action, and adds nothing
    /// to its answer, so its masks tell no two of the caller's actions apart: a role the key
    /// policy does not name asks the delegation's 41 actions in a class or two, not in as
    /// many as the statements for other principals would cut.
    pub(crate) fn of_kept(inputs: &Inputs, keep: Option<&[usize]>) -> ActionClasses {
        // Positions name the statements of one key policy: with several, every statement counts.
        let keep = keep.filter(|_| {
            inputs.keys.len() == 1
                && inputs
                    .keys
                    .iter()
                    .all(|k| k.policies.iter().flatten().count() == 1)
        });
        let mut masks: Vec<ActionMask> = Vec::with_capacity(32);
        masks.extend_from_slice(flag_masks());
        let mut readable = true;
        let mut reads_ec = false;
        let mut scan = |doc: &PolicyDocument, kept: Option<&[usize]>| {
            for st in &doc.statements {
                if kept.is_some_and(|k| k.binary_search(&st.index).is_err()) {
                    continue;
                }
                readable &= statement_masks(st, &mut masks, &mut reads_ec);
            }
        };
        for k in &inputs.keys {
            if k.grants.as_ref().is_some_and(|g| !g.is_empty()) {
                return ActionClasses::none();
            }
            for p in k.policies.iter().flatten() {
                scan(&p.doc, keep);
            }
        }
        let levels = |l: &Option<super::Levels>| {
            l.iter()
                .flat_map(|l| l.iter())
                .flatten()
                .map(|p| std::sync::Arc::clone(&p.doc))
                .collect::<Vec<_>>()
        };
        for doc in levels(&inputs.scp).iter().chain(&levels(&inputs.rcp)) {
            scan(doc, None);
        }
        let others = inputs
            .identity
            .iter()
            .flat_map(|l| l.iter())
            .chain(inputs.boundary.iter())
            .chain(inputs.session.iter())
            .chain(inputs.vpce.iter());
        for p in others {
            scan(&p.doc, None);
        }
        if !readable {
            return ActionClasses::none();
        }
        // `CreateGrant` reads its encryption context from the requested grant (R87): it is
        // told apart from the others only by a statement that reads the context.
        let create_grant = (!reads_ec)
            .then(|| catalog::action_index("CreateGrant"))
            .flatten()
            .filter(|&i| i < 128)
            .map_or(0, |i| 1u128 << i);
        ActionClasses::split(shareable() | create_grant, &mut masks)
    }

    /// The partition of `all` that no mask of `masks` cuts across.
    fn split(all: ActionMask, masks: &mut Vec<ActionMask>) -> ActionClasses {
        masks.sort_unstable();
        masks.dedup();
        // Two buffers, swapped mask after mask: each mask at most doubles the groups.
        let mut groups: Vec<ActionMask> = Vec::with_capacity(16);
        groups.push(all);
        let mut next: Vec<ActionMask> = Vec::with_capacity(16);
        for &m in masks.iter() {
            next.clear();
            for &g in &groups {
                for part in [g & m, g & !m] {
                    if part != 0 {
                        next.push(part);
                    }
                }
            }
            std::mem::swap(&mut groups, &mut next);
        }
        let mut out = ActionClasses::none();
        for g in groups {
            let first = g.trailing_zeros();
            let mut rest = g;
            while rest != 0 {
                let i = rest.trailing_zeros();
                rest &= rest - 1;
                if let (Some(r), Ok(f)) =
                    (out.representative.get_mut(i as usize), u8::try_from(first))
                {
                    *r = f;
                }
            }
        }
        out
    }

    /// The catalogue index of the action whose answer `index` shares.
    pub(crate) fn representative(&self, index: usize) -> usize {
        self.representative
            .get(index)
            .map_or(index, |&r| usize::from(r))
    }
}

/// Adds the masks by which `st` tells actions apart: its `Action`/`NotAction` and the
/// `kms:` keys its conditions and policy variables read. False for a statement the engine
/// cannot read.
fn statement_masks(st: &Statement, masks: &mut Vec<ActionMask>, reads_ec: &mut bool) -> bool {
    if st.broken.is_some() {
        return false;
    }
    if let Some(a) = &st.action {
        masks.push(a.kms_mask);
    }
    let mut key = |name: &str, info: Option<&catalog::ConditionKeyInfo>| {
        if let Some(info) = info.filter(|i| !i.global) {
            masks.push(info.actions);
        }
        *reads_ec |= name
            .get(..21)
            .is_some_and(|p| p.eq_ignore_ascii_case("kms:encryptioncontext"));
    };
    for c in &st.conditions {
        key(
            &c.key_lower,
            c.key_info.or_else(|| catalog::condition_key(&c.key_lower)),
        );
        for v in c.values.iter().flat_map(|v| v.pattern.variables()) {
            key(&v.key, catalog::condition_key(&v.key));
        }
    }
    for item in st.resource.iter().flat_map(|r| r.items.iter()) {
        for v in item.parts.iter().flat_map(|p| p.variables()) {
            key(&v.key, catalog::condition_key(&v.key));
        }
    }
    true
}

/// Condition keys whose value the engine takes from the caller's name or ARN, not from its
/// kind, account or tags: a statement that reads one tells two callers apart by name.
const CALLER_NAME_KEYS: &[&str] = &[
    "aws:principalarn",
    "aws:userid",
    "aws:username",
    "aws:principalservicename",
    "aws:principalservicenameslist",
    "aws:sourceidentity",
    "aws:federatedprovider",
    "aws:rolesessionname",
    "sts:rolesessionname",
];

/// Whether a condition key may read the caller's name: one of [`CALLER_NAME_KEYS`], or an
/// `aws:Principal…` key other than the account, organisation, type, service flag and tags.
fn reads_caller_name(key_lower: &str) -> bool {
    CALLER_NAME_KEYS.contains(&key_lower)
        || (key_lower.starts_with("aws:principal")
            && !matches!(
                key_lower,
                "aws:principalaccount"
                    | "aws:principalorgid"
                    | "aws:principalorgpaths"
                    | "aws:principaltype"
                    | "aws:principalisawsservice"
            )
            && !key_lower.starts_with("aws:principaltag/"))
}

/// Whether the engine reads callers on `inputs` only through what a [`CallerSignature`]
/// holds, so that two callers with one signature get the same answer to every request —
/// decision, deciding statements, residual conditions and unknowns — apart from the caller's
/// name in the explanations.
///
/// The engine reads a caller's name or ARN in few places: its `Principal` entries (R24), the
/// condition keys that name the caller (`aws:PrincipalArn`, `aws:username`…), policy
/// variables, `NotPrincipal` (R26) and grants (a grant names its grantee). Inputs with grants,
/// SCPs, RCPs, a boundary, session or endpoint policies, a `NotPrincipal`, a policy variable,
/// a key of [`reads_caller_name`] or a statement the parser could not read share nothing.
pub(crate) fn callers_shareable(inputs: &Inputs) -> bool {
    if inputs.boundary.is_some()
        || !inputs.session.is_empty()
        || inputs.vpce.is_some()
        || inputs
            .scp
            .as_ref()
            .is_some_and(|l| l.iter().any(|v| !v.is_empty()))
        || inputs
            .rcp
            .as_ref()
            .is_some_and(|l| l.iter().any(|v| !v.is_empty()))
    {
        return false;
    }
    let blind = |doc: &PolicyDocument| {
        doc.statements.iter().all(|st| {
            st.broken.is_none()
                && st.principal.as_ref().is_none_or(|p| !p.negated)
                && st.conditions.iter().all(|c| {
                    !reads_caller_name(&c.key_lower)
                        && c.values.iter().all(|v| !v.pattern.has_variables())
                })
                && st
                    .resource
                    .iter()
                    .flat_map(|r| r.items.iter())
                    .flat_map(|i| i.parts.iter())
                    .all(|p| !p.has_variables())
        })
    };
    inputs.keys.iter().all(|k| {
        k.grants.as_ref().is_none_or(|g| g.is_empty())
            && k.policies.iter().flatten().all(|p| blind(&p.doc))
    }) && inputs
        .identity
        .iter()
        .flat_map(|l| l.iter())
        .all(|p| blind(&p.doc))
}

/// The positions (`Statement::index`, sorted) of the statements of the key policy on `inputs`
/// that can concern `caller`: all but those whose `Principal` the engine's matcher
/// ([`super::matcher::entry_kind`]) rules out, entry by entry (R24). A statement it rules out
/// applies to no request of the caller and opens no path for it, whatever the action; a
/// `NotPrincipal`, a statement the parser could not read, one without a `Principal` and every
/// statement of a policy whose `Version` is not valid are kept.
pub(crate) fn concerning_statements(
    inputs: &Inputs,
    caller: &Caller,
    open: &OpenDefaults,
) -> Vec<usize> {
    let mut out = Vec::new();
    for p in inputs.keys.iter().flat_map(|k| k.policies.iter().flatten()) {
        let judged = p.doc.version != crate::policy::Version::Invalid;
        for st in &p.doc.statements {
            let ruled_out = judged
                && st.broken.is_none()
                && st.principal.as_ref().is_some_and(|pc| {
                    !pc.negated
                        && pc.entries.iter().all(|e| {
                            super::matcher::entry_kind(&e.class, st.is_deny(), caller, open)
                                == (0, false)
                        })
                });
            if !ruled_out {
                out.push(st.index);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// What the engine reads of a caller on inputs where [`callers_shareable`] holds: its kind,
/// account, partition, tags and session facts, and for each statement of the key policies
/// how its `Principal` names the caller (R24, [`super::matcher::entry_kind`]).
///
/// Entries that read no name (`*`, an account, a value that is no principal) match by the
/// caller's kind and account alone, which the signature holds; only the entries that name a
/// user, role, session, federated user or service are asked, and only the statements where
/// one of them names the caller are kept. A policy naming thousands of roles keeps a few
/// statements per caller, not every statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CallerSignature {
    kind: CallerKind,
    account: compact_str::CompactString,
    partition: compact_str::CompactString,
    role_path_assumed: bool,
    session_open: bool,
    federating_user: bool,
    tags: Vec<(String, String)>,
    /// The statements (by position among those of the key policies) whose named entries name
    /// the caller: the kinds of match and whether one is unknown.
    named_by: Vec<(usize, u8, bool)>,
}

impl CallerSignature {
    /// The signature of `caller` on `inputs`, under the engine's `open` defaults.
    pub(crate) fn of(inputs: &Inputs, caller: &Caller, open: &OpenDefaults) -> CallerSignature {
        let mut named_by = Vec::new();
        for (at, st) in key_statements(inputs).enumerate() {
            let Some(pc) = &st.principal else { continue };
            let mut kinds = 0u8;
            let mut unknown = false;
            for e in pc.entries.iter().filter(|e| names_one(&e.class)) {
                let (k, u) = super::matcher::entry_kind(&e.class, st.is_deny(), caller, open);
                kinds |= k;
                unknown |= u;
            }
            if kinds != 0 || unknown {
                named_by.push((at, kinds, unknown));
            }
        }
        Self::with(caller, named_by)
    }

    /// [`Self::of`] through `index`, made from the same `inputs`: only the entries that name
    /// one of the caller's names are asked, not every named entry of the policy.
    pub(crate) fn of_indexed(
        inputs: &Inputs,
        index: &PrincipalIndex,
        caller: &Caller,
        open: &OpenDefaults,
    ) -> CallerSignature {
        if !PrincipalIndex::serves(caller) {
            return Self::of(inputs, caller, open);
        }
        let mut hits: Vec<Named> = Vec::new();
        let names = [
            Some(&caller.arn),
            caller.role_arn.as_ref(),
            caller.federating_user.as_ref(),
        ];
        for name in names.into_iter().flatten() {
            hits.extend(index.find(&index.names, name));
        }
        if caller.kind == CallerKind::AssumedRole && caller.session_open {
            if let Some((head, _)) = caller.arn.rsplit_once('/') {
                hits.extend(index.find(&index.heads, head));
            }
        }
        // An entry found under two names (a session's ARN and its head) is asked once.
        hits.sort_unstable_by_key(|n| (n.at, n.entry));
        hits.dedup_by_key(|n| (n.at, n.entry));
        let mut named_by: Vec<(usize, u8, bool)> = Vec::new();
        for n in hits {
            let Some((st, class)) = index.entry(inputs, n) else {
                // The index was made from other inputs: ask every entry instead.
                return Self::of(inputs, caller, open);
            };
            let (k, u) = super::matcher::entry_kind(class, st.is_deny(), caller, open);
            if k == 0 && !u {
                continue;
            }
            match named_by.last_mut() {
                Some(last) if last.0 == n.at => {
                    last.1 |= k;
                    last.2 |= u;
                }
                _ => named_by.push((n.at, k, u)),
            }
        }
        Self::with(caller, named_by)
    }

    fn with(caller: &Caller, named_by: Vec<(usize, u8, bool)>) -> CallerSignature {
        CallerSignature {
            kind: caller.kind,
            account: caller.account.clone(),
            partition: caller.partition.clone(),
            role_path_assumed: caller.role_path_assumed,
            session_open: caller.session_open,
            federating_user: caller.federating_user.is_some(),
            tags: caller.tags.clone(),
            named_by,
        }
    }

    /// How many statements name the caller (for the tests that bound the signature's size).
    #[cfg(test)]
    pub(crate) fn named_statements(&self) -> usize {
        self.named_by.len()
    }
}

/// The statements of the key policies in the order a [`CallerSignature`] numbers them.
fn key_statements(inputs: &Inputs) -> impl Iterator<Item = &Statement> {
    inputs
        .keys
        .iter()
        .flat_map(|k| k.policies.iter().flatten())
        .flat_map(|p| p.doc.statements.iter().map(|st| &**st))
}

/// Whether a `Principal` entry names one principal (a user, role, session, federated user or
/// service): the entries a [`CallerSignature`] asks. The others match by the caller's kind and
/// account alone, which the signature holds.
fn names_one(class: &crate::arn::PrincipalClass) -> bool {
    use crate::arn::PrincipalClass as C;
    matches!(
        class,
        C::User { .. }
            | C::Role { .. }
            | C::AssumedRole { .. }
            | C::FederatedUser { .. }
            | C::Service(_)
    )
}

/// Where one named entry is: the statement's position among the key policies' statements
/// (the signature's number for it), and the entry's coordinates in the inputs.
#[derive(Debug, Clone, Copy)]
struct Named {
    at: usize,
    key: u32,
    policy: u32,
    statement: u32,
    entry: u32,
}

/// The named entries of the key policies, by the hash of the name each carries, for
/// [`CallerSignature::of_indexed`]. A caller's signature then asks the entries carrying one
/// of its names instead of every named entry: a key policy naming forty roles was forty
/// matcher calls per caller.
///
/// The matcher ([`super::matcher::entry_kind`]) gives a named entry a kind or an unknown only
/// when the entry's ARN is the caller's ARN, its role's ARN or its federating user's ARN, or
/// (an assumed-role entry, for a caller standing for any session of its role) when the two
/// ARNs share the part before the session name. Two cases depend on more than equal names,
/// and [`PrincipalIndex::serves`] sends them to the full scan: a role session whose role path
/// was assumed (R1: the same role under another path may be the caller's) and a federated user
/// whose federating user is not known (R24: a user entry may be it). A hash is only a way in:
/// every entry found is asked the matcher, so two names with one hash cost a call, never an
/// answer. The hash has a fixed seed (the index is sorted, never iterated by seed): a policy
/// written so that every name shares one hash costs what the scan of every entry did.
#[derive(Debug, Default)]
pub(crate) struct PrincipalIndex {
    /// Every named entry by the hash of its ARN (a service entry: its name), sorted.
    names: Vec<(u64, Named)>,
    /// The assumed-role entries by the hash of their ARN up to the session name, sorted.
    heads: Vec<(u64, Named)>,
    hasher: foldhash::fast::FixedState,
}

impl PrincipalIndex {
    pub(crate) fn of(inputs: &Inputs) -> PrincipalIndex {
        use crate::arn::PrincipalClass as C;
        let mut ix = PrincipalIndex::default();
        let mut at = 0usize;
        for (key, k) in inputs.keys.iter().enumerate() {
            for (policy, p) in k.policies.iter().flatten().enumerate() {
                for (statement, st) in p.doc.statements.iter().enumerate() {
                    for (entry, e) in st
                        .principal
                        .iter()
                        .flat_map(|pc| pc.entries.iter())
                        .enumerate()
                    {
                        let name = match &e.class {
                            C::User { arn, .. }
                            | C::Role { arn, .. }
                            | C::AssumedRole { arn, .. }
                            | C::FederatedUser { arn, .. } => arn.as_str(),
                            C::Service(name) => name.as_str(),
                            _ => continue,
                        };
                        let named = Named {
                            at,
                            key: u32::try_from(key).unwrap_or(u32::MAX),
                            policy: u32::try_from(policy).unwrap_or(u32::MAX),
                            statement: u32::try_from(statement).unwrap_or(u32::MAX),
                            entry: u32::try_from(entry).unwrap_or(u32::MAX),
                        };
                        ix.names.push((ix.hash(name), named));
                        if let C::AssumedRole { arn, .. } = &e.class {
                            if let Some((head, _)) = arn.rsplit_once('/') {
                                ix.heads.push((ix.hash(head), named));
                            }
                        }
                    }
                    at += 1;
                }
            }
        }
        ix.names.sort_unstable_by_key(|(h, _)| *h);
        ix.heads.sort_unstable_by_key(|(h, _)| *h);
        ix
    }

    /// Whether the entries carrying the caller's names are all that can name it.
    fn serves(caller: &Caller) -> bool {
        !(caller.kind == CallerKind::AssumedRole && caller.role_path_assumed
            || caller.kind == CallerKind::FederatedUser && caller.federating_user.is_none())
    }

    fn hash(&self, name: &str) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(name)
    }

    /// The entries of `list` filed under `name`'s hash.
    fn find<'a>(&self, list: &'a [(u64, Named)], name: &str) -> impl Iterator<Item = Named> + 'a {
        let h = self.hash(name);
        let from = list.partition_point(|(x, _)| *x < h);
        list.get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(move |(x, _)| *x == h)
            .map(|(_, n)| *n)
    }

    /// The statement and the entry's class at `n`.
    fn entry<'a>(
        &self,
        inputs: &'a Inputs,
        n: Named,
    ) -> Option<(&'a Statement, &'a crate::arn::PrincipalClass)> {
        let at = |i: u32| usize::try_from(i).ok();
        let k = inputs.keys.get(at(n.key)?)?;
        let st = k
            .policies
            .as_ref()?
            .get(at(n.policy)?)?
            .doc
            .statements
            .get(at(n.statement)?)?;
        let e = st.principal.as_ref()?.entries.get(at(n.entry)?)?;
        Some((st, &e.class))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_actions_together_only_when_no_mask_cuts_them() {
        let mut masks = vec![0b0110, 0b0110, 0b1000];
        let c = ActionClasses::split(0b1111, &mut masks);
        assert_eq!(c.representative(0), 0);
        assert_eq!(c.representative(1), 1);
        assert_eq!(c.representative(2), 1);
        assert_eq!(c.representative(3), 3);
        // Outside the shareable set each action is its own.
        assert_eq!(c.representative(7), 7);
    }
}
