//! A key policy narrowed for each caller to the statements that can concern it (R24), and the
//! engine's inputs built from each narrowed policy, once per identity-policy set.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use super::{FastMap, IdentityNames};
use crate::eval::{self, Caller, Inputs, NamedPolicy};
use crate::inventory::{StatementIndex, narrowed_policy};

/// A caller asked about, with the caller whose answers it takes (`None`: its own).
pub(super) type Represented = (Caller, Option<Rc<Caller>>);

/// A policy and what probes against it are built from: its statement index, and for each
/// caller the policy narrowed to the statements that can concern it.
#[derive(Debug)]
pub(super) struct Narrowing {
    pub(super) policy: NamedPolicy,
    pub(super) index: OnceCell<StatementIndex>,
    /// Narrowed policies by the statement positions they keep (`None`: the whole policy).
    pub(super) narrowed: RefCell<FastMap<Option<Vec<usize>>, Rc<Narrowed>>>,
    /// The last caller asked about, with its narrowed policy: rules ask one caller several
    /// actions in a row.
    pub(super) last: RefCell<Option<(Caller, Rc<Narrowed>)>>,
    /// The whole policy, for a policy too short to narrow.
    pub(super) whole: OnceCell<Rc<Narrowed>>,
}

/// A policy narrowed for some callers, with the engine's inputs built from it.
#[derive(Debug)]
pub(super) struct Narrowed {
    pub(super) policy: NamedPolicy,
    /// The engine's inputs, by identity: built once each.
    pub(super) inputs: RefCell<Vec<Rc<Built>>>,
    /// The engine's inputs for alias probes, built once.
    pub(super) alias_inputs: OnceCell<Rc<Inputs>>,
    /// Whether callers may share answers on `alias_inputs` ([`eval::callers_shareable`]).
    pub(super) alias_shareable: OnceCell<bool>,
    /// The first caller asked with each signature ([`eval::CallerSignature`], which reads
    /// the key policy alone): the one whose answers others with that signature take.
    pub(super) representatives: RefCell<FastMap<eval::CallerSignature, Rc<Caller>>>,
    /// Each caller asked, by ARN, with its representative (`None`: itself).
    pub(super) asked: RefCell<FastMap<String, Vec<Represented>>>,
    /// The same for the callers the key context owns (its parsed principals and probes), by
    /// address: they live as long as the context, so no other caller can take their address,
    /// and the rules ask each of them about action after action.
    pub(super) by_address: RefCell<FastMap<usize, Option<Rc<Caller>>>>,
}

/// The engine's inputs for one narrowed policy and one identity-policy set, with the actions
/// the engine cannot tell apart on them (worked out when first asked).
#[derive(Debug)]
pub(super) struct Built {
    pub(super) names: IdentityNames,
    pub(super) inputs: Rc<Inputs>,
    pub(super) classes: OnceCell<Rc<eval::ActionClasses>>,
    /// The action classes of each set of statements that can concern a caller
    /// ([`eval::ActionClasses::of_kept`]).
    pub(super) kept_classes: RefCell<FastMap<Vec<usize>, Rc<eval::ActionClasses>>>,
    /// Whether callers may share answers here ([`eval::callers_shareable`]).
    pub(super) callers_shareable: OnceCell<bool>,
    /// The key policy's named entries by name, for the callers' signatures.
    pub(super) principals: OnceCell<eval::PrincipalIndex>,
}

impl Narrowing {
    pub(super) fn new(policy: NamedPolicy) -> Narrowing {
        Narrowing {
            policy,
            index: OnceCell::new(),
            narrowed: RefCell::new(FastMap::default()),
            last: RefCell::new(None),
            whole: OnceCell::new(),
        }
    }

    /// The policy narrowed to the statements that can concern `caller`.
    pub(super) fn for_caller(&self, caller: &Caller) -> Rc<Narrowed> {
        // A policy too short to narrow is the same for every caller: no caller is compared
        // or kept.
        if !StatementIndex::narrows(self.policy.doc.statements.len()) {
            return Rc::clone(self.whole.get_or_init(|| self.narrow_for(caller)));
        }
        if let Some((c, n)) = self.last.borrow().as_ref() {
            if c == caller {
                return Rc::clone(n);
            }
        }
        let n = self.narrow_for(caller);
        *self.last.borrow_mut() = Some((caller.clone(), Rc::clone(&n)));
        n
    }

    pub(super) fn narrow_for(&self, caller: &Caller) -> Rc<Narrowed> {
        let all = self.policy.doc.statements.len();
        let positions = StatementIndex::narrows(all)
            .then(|| {
                self.index
                    .get_or_init(|| StatementIndex::new(&self.policy.doc))
                    .positions(caller, all)
            })
            .flatten()
            // A narrowing that keeps most of the policy saves little and copies much: when
            // many statements can concern every caller, each caller would hold its own copy of
            // them. Such callers share the whole policy instead.
            .filter(|keep| keep.len().saturating_mul(2) <= all);
        if let Some(n) = self.narrowed.borrow().get(&positions) {
            return Rc::clone(n);
        }
        let policy = match &positions {
            None => self.policy.clone(),
            Some(keep) => narrowed_policy(&self.policy, keep),
        };
        let n = Rc::new(Narrowed {
            policy,
            inputs: RefCell::new(Vec::new()),
            alias_inputs: OnceCell::new(),
            alias_shareable: OnceCell::new(),
            representatives: RefCell::new(FastMap::default()),
            asked: RefCell::new(FastMap::default()),
            by_address: RefCell::new(FastMap::default()),
        });
        self.narrowed.borrow_mut().insert(positions, Rc::clone(&n));
        n
    }
}
