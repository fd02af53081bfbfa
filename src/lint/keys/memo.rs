//! The probe layer's memory: the engine's answers by probe ([`Asked`]), and, for the callers
//! the key context owns (its parsed principals and probes), their answers as a [`Reach`] by
//! address.
//!
//! The key rules ask a few hundred probes of a key policy that names twenty principals, most
//! of them asked before by another rule or answered by another caller of the same class. A
//! probe of an owned caller finds its representative and engine inputs, and its answer, by
//! small integer keys: no caller is hashed, compared or cloned.

use std::cell::RefCell;
use std::hash::{BuildHasher, Hash, Hasher};
use std::rc::Rc;

use super::{Built, FastMap, IdentityNames, KeyLintContext, Narrowed, Reach};
use crate::catalog;
use crate::eval::{self, Caller, NamedPolicy};

/// One probe of a key policy: the identity policies (by name), the caller (all of it: a role
/// asked as "any session" and a session whose role path is assumed share an ARN and a role
/// ARN, yet the engine answers them apart), the action and whether a trace was asked for.
pub(super) struct Asked {
    identity: IdentityNames,
    /// Shared with the context when it holds the caller: most probes are of its callers.
    pub(super) caller: Rc<Caller>,
    action: String,
    trace: bool,
}

impl Asked {
    pub(super) fn new(
        identity: Option<&[NamedPolicy]>,
        caller: Rc<Caller>,
        action: &str,
        trace: bool,
    ) -> Asked {
        Asked {
            identity: identity.map(|l| l.iter().map(|p| p.name.clone()).collect()),
            caller,
            action: action.to_owned(),
            trace,
        }
    }

    /// Whether this is the probe of `action` by `caller` with `identity`.
    pub(super) fn is(
        &self,
        identity: Option<&[NamedPolicy]>,
        caller: &Caller,
        action: &str,
        trace: bool,
    ) -> bool {
        self.trace == trace
            && self.action == action
            && *self.caller == *caller
            && KeyLintContext::same_identity(self.identity.as_deref(), identity)
    }

    /// The hash of a probe, from fields [`Asked::is`] compares.
    pub(super) fn hash(
        state: &foldhash::fast::RandomState,
        identity: Option<&[NamedPolicy]>,
        caller: &Caller,
        action: &str,
        trace: bool,
    ) -> u64 {
        let mut h = state.build_hasher();
        match identity {
            None => h.write_u8(0),
            Some(list) => {
                h.write_u8(1);
                h.write_usize(list.len());
                for p in list {
                    p.name.hash(&mut h);
                }
            }
        }
        caller.kind.hash(&mut h);
        caller.arn.hash(&mut h);
        caller.role_arn.hash(&mut h);
        caller.role_path_assumed.hash(&mut h);
        caller.session_open.hash(&mut h);
        caller.tags.hash(&mut h);
        action.hash(&mut h);
        trace.hash(&mut h);
        h.finish()
    }
}

/// The name of the identity policy that allows everything
/// ([`KeyLintContext::allow_all_identity`]).
pub(super) const ALLOW_ALL_NAME: &str = "identity policy allowing everything";

/// Which identity-policy set a probe is asked with, when it is one the key rules use: not
/// known (0), none (1), or the policy that allows everything (2). The memo tells sets apart
/// by their names, and so does this.
fn identity_tag(identity: Option<&[NamedPolicy]>) -> Option<u8> {
    match identity {
        None => Some(0),
        Some([]) => Some(1),
        Some([p]) if p.name == ALLOW_ALL_NAME => Some(2),
        Some(_) => None,
    }
}

/// An owned caller's probes with one identity set.
#[derive(Debug, Clone)]
struct OwnedProbe {
    /// The caller whose answers it takes (`None`: its own).
    rep: Option<Rc<Caller>>,
    /// The key policy narrowed for it.
    narrowed: Rc<Narrowed>,
    /// The classes of the actions of the caller whose answers it takes.
    classes: Rc<eval::ActionClasses>,
}

/// Statement positions (`Statement::index`), sorted.
type Positions = Rc<[usize]>;

/// The answers of owned callers, by address.
#[derive(Debug, Default)]
pub(super) struct OwnedMemo {
    /// By (caller address, identity tag).
    callers: RefCell<FastMap<(usize, u8), OwnedProbe>>,
    /// By (the representative's address, identity tag, the representative action's index).
    reaches: RefCell<FastMap<(usize, u8, usize), Reach>>,
    /// The statements that can concern a representative, by (its address, the narrowed
    /// policy's address).
    concerning: RefCell<FastMap<(usize, usize), Positions>>,
    /// The classes of a representative's actions, by (its address, the engine inputs'
    /// address).
    classes: RefCell<FastMap<(usize, usize), Rc<eval::ActionClasses>>>,
    /// Whether the key policy names enough principals for these maps to pay for themselves
    /// (see [`OwnedMemo::pays`]).
    pays: bool,
    /// Every probe of an owned caller takes this path, however few principals the policy
    /// names: for the tests that hold it against the general path.
    pub(super) always: std::cell::Cell<bool>,
    /// Alias probes ([`KeyLintContext::alias_allowed`]) by (the representative's address,
    /// `CreateAlias` or `UpdateAlias`).
    aliases: RefCell<FastMap<(usize, bool), bool>>,
}

/// How many principal entries a key policy's statements hold before its owned callers'
/// probes are kept by address: below it the rules ask each caller a handful of probes, and
/// setting up and dropping these maps cost more than they save (5,000 one-statement key
/// policies: 449 M instructions through the general path, 473 M through this one).
const OWNED_FROM: usize = 6;

/// The most entries a key context's maps are made ready for before they are filled: a policy
/// naming thousands of principals grows them as it is asked.
const ROOM_AT_MOST: usize = 1024;

/// How many entries the maps of a key context that keeps answers by caller are made ready for,
/// given the principal entries of its policy: one an entry (callers, their probes, their
/// answers), and none below [`OWNED_FROM`], where they stay small. Grown one doubling at a
/// time, these maps were rebuilt about seventy times for every key policy naming twenty
/// principals (3% of such a run).
pub(super) fn room_for(named: usize) -> usize {
    if named < OWNED_FROM {
        0
    } else {
        named.min(ROOM_AT_MOST)
    }
}

/// The principal entries of `policy`'s statements.
pub(super) fn named_entries(policy: &crate::policy::PolicyDocument) -> usize {
    policy
        .statements
        .iter()
        .filter_map(|st| st.principal.as_ref())
        .map(|pc| pc.entries.len())
        .sum()
}

impl OwnedMemo {
    /// The memo of a key policy with `named` principal entries ([`named_entries`]): whether
    /// it pays, and its maps made ready ([`room_for`]).
    pub(super) fn for_named(named: usize) -> OwnedMemo {
        let room = room_for(named);
        OwnedMemo {
            callers: RefCell::new(crate::hash::map_with(room.saturating_mul(2))),
            reaches: RefCell::new(crate::hash::map_with(room.saturating_mul(2))),
            pays: named >= OWNED_FROM,
            ..OwnedMemo::default()
        }
    }

    /// Whether the policy names enough principals for the owned callers' maps to pay.
    fn pays(&self) -> bool {
        self.always.get() || self.pays
    }
}

impl KeyLintContext<'_> {
    /// Whether probes take the general path whoever asks them: a test switch turns a class or
    /// the pre-check off, or the caller is a service (whose answers are kept one service at a
    /// time).
    fn general_only(&self, caller: &Caller) -> bool {
        self.classes_off.get()
            || self.caller_classes_off.get()
            || self.skip_off.get()
            || caller.kind == eval::CallerKind::Service
            || !self.owned_memo.pays()
    }

    /// The representative, narrowed policy and action classes of `caller` asked with the
    /// identity set `tag` names, when this context owns it: worked out once each.
    fn owned_probe(
        &self,
        caller: &Caller,
        identity: Option<&[NamedPolicy]>,
        tag: u8,
    ) -> Option<OwnedProbe> {
        let address = std::ptr::from_ref(caller) as usize;
        if let Some(known) = self.owned_memo.callers.borrow().get(&(address, tag)) {
            return Some(known.clone());
        }
        if !self.owns(caller) {
            return None;
        }
        let narrowed = self.own.for_caller(caller);
        let built = self.built(&narrowed, identity);
        let rep = self.shared_caller_in(&narrowed, &built, caller);
        let classes = self.caller_classes(&narrowed, &built, rep.as_deref().unwrap_or(caller));
        let probe = OwnedProbe {
            rep,
            narrowed,
            classes,
        };
        self.owned_memo
            .callers
            .borrow_mut()
            .insert((address, tag), probe.clone());
        Some(probe)
    }

    /// The classes of `caller`'s actions on `built` (made from `narrowed`): cut only by the
    /// key-policy statements that can concern it ([`eval::ActionClasses::of_kept`]). Asked of
    /// representatives, which this context holds: worked out once per representative and
    /// identity set, and the classes once per set of statements.
    fn caller_classes(
        &self,
        narrowed: &Rc<Narrowed>,
        built: &Rc<Built>,
        caller: &Caller,
    ) -> Rc<eval::ActionClasses> {
        let address = std::ptr::from_ref(caller) as usize;
        let key = (address, Rc::as_ptr(built) as usize);
        if let Some(c) = self.owned_memo.classes.borrow().get(&key) {
            return Rc::clone(c);
        }
        let at = (address, Rc::as_ptr(narrowed) as usize);
        let known = self.owned_memo.concerning.borrow().get(&at).map(Rc::clone);
        let keep = known.unwrap_or_else(|| {
            let keep: Positions =
                eval::concerning_statements(&built.inputs, caller, &Self::options(false).open)
                    .into();
            self.owned_memo
                .concerning
                .borrow_mut()
                .insert(at, Rc::clone(&keep));
            keep
        });
        // Every statement can concern it (a short policy, or statements for anyone): the
        // inputs' own classes, worked out once.
        let all = built
            .inputs
            .keys
            .iter()
            .flat_map(|k| k.policies.iter().flatten())
            .map(|p| p.doc.statements.len())
            .sum::<usize>();
        let found = if keep.len() == all {
            Some(Rc::clone(built.classes.get_or_init(|| {
                Rc::new(eval::ActionClasses::of(&built.inputs))
            })))
        } else {
            built.kept_classes.borrow().get(&*keep).map(Rc::clone)
        };
        let classes = found.unwrap_or_else(|| {
            let classes = Rc::new(eval::ActionClasses::of_kept(&built.inputs, Some(&keep)));
            built
                .kept_classes
                .borrow_mut()
                .insert(keep.to_vec(), Rc::clone(&classes));
            classes
        });
        self.owned_memo
            .classes
            .borrow_mut()
            .insert(key, Rc::clone(&classes));
        classes
    }

    /// [`Self::reach`] (or, with `allow_only`, [`Self::allow_reach`]) for a caller this
    /// context owns, asked with an identity set the rules use; `None` for any other probe,
    /// which takes the general path. The answer is the general path's: the same
    /// representative, action class and memo, looked up by address.
    pub(super) fn owned_reach(
        &self,
        caller: &Caller,
        action: &str,
        identity: Option<&[NamedPolicy]>,
        allow_only: bool,
    ) -> Option<Reach> {
        if self.general_only(caller) {
            return None;
        }
        let tag = identity_tag(identity)?;
        let index = catalog::action_index(action.strip_prefix("kms:")?)?;
        let OwnedProbe { rep, classes, .. } = self.owned_probe(caller, identity, tag)?;
        // The representative answers every action as the caller does (its class), and each
        // action as its class's first (its own action classes): the answer is the
        // representative's to the representative action.
        let rep_index = classes.representative(index);
        let rep_action = catalog::prefixed(rep_index)?;
        let rep_caller = rep.as_deref().unwrap_or(caller);
        // The representative lives as long as this context (in its narrowed policy's map, and
        // in `callers` above): its address names it.
        let key = (std::ptr::from_ref(rep_caller) as usize, tag, rep_index);
        if let Some(r) = self.owned_memo.reaches.borrow().get(&key) {
            return Some(r.clone());
        }
        let reach = match allow_only.then(|| self.remembered(rep_caller, rep_action, identity)) {
            Some(Some(ev)) => Reach::from_evaluation(&ev),
            Some(None) if !self.may_allow_to(rep_caller, rep_action, identity) => {
                return Some(Reach::No);
            }
            _ => Reach::from_evaluation(&self.probe(rep_caller, rep_action, identity)),
        };
        self.owned_memo
            .reaches
            .borrow_mut()
            .insert(key, reach.clone());
        Some(reach)
    }

    /// The action whose answer an owned caller asking `action` with `identity` takes: the
    /// representative action of its own classes (for the tests).
    #[cfg(test)]
    pub(super) fn owned_action(
        &self,
        caller: &Caller,
        action: &str,
        identity: Option<&[NamedPolicy]>,
    ) -> Option<&'static str> {
        let classes = self
            .owned_probe(caller, identity, identity_tag(identity)?)?
            .classes;
        catalog::prefixed(
            classes.representative(catalog::action_index(action.strip_prefix("kms:")?)?),
        )
    }

    /// [`Self::alias_allowed`] for a caller this context owns: asked once per class of
    /// callers. The alias probe's inputs are the key policy narrowed for the caller with an
    /// identity policy that names nobody, so callers the key policy cannot tell apart
    /// ([`eval::CallerSignature`]) answer alike when [`eval::callers_shareable`] holds on those
    /// inputs too; otherwise each caller answers for itself.
    pub(super) fn owned_alias(&self, caller: &Caller, action: &str) -> Option<bool> {
        if self.general_only(caller) {
            return None;
        }
        let create = match action {
            "kms:CreateAlias" => true,
            "kms:UpdateAlias" => false,
            _ => return None,
        };
        let OwnedProbe { rep, narrowed, .. } = self.owned_probe(caller, Some(&[]), 1)?;
        let shareable = || {
            *narrowed
                .alias_shareable
                .get_or_init(|| eval::callers_shareable(&self.alias_inputs(&narrowed)))
        };
        let answerer = match rep.as_deref() {
            Some(r) if shareable() => r,
            _ => caller,
        };
        let key = (std::ptr::from_ref(answerer) as usize, create);
        if let Some(&a) = self.owned_memo.aliases.borrow().get(&key) {
            return Some(a);
        }
        let allowed = self.alias_allowed_by(answerer, action);
        self.owned_memo.aliases.borrow_mut().insert(key, allowed);
        Some(allowed)
    }
}
