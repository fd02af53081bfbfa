//! What the probes conclude: the answer for one request ([`Reach`]) and who can manage the
//! key ([`AdminAnalysis`]); and whom they are asked of: the users, roles and sessions the key
//! policy names ([`NamedCaller`]).

use std::rc::Rc;

use super::KeyLintContext;
use crate::eval::{Caller, Decision, Evaluation, Requirement};
use crate::hash::FastSet;
use crate::policy::Statement;
use crate::source::Span;

/// What a probe concluded for one request. The key rules ask the same answer of many callers
/// and actions (one per class): its parts are shared, so handing it out copies no list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Allowed; the statements that allowed.
    Yes(Rc<[String]>),
    /// Allowed only under these alternatives (OR) of requirements (AND).
    Conditional(Rc<[Vec<Requirement>]>),
    /// Explicitly denied; the statements that denied.
    Denied(Rc<[String]>),
    /// Not allowed.
    No,
    /// Cannot be judged; why (the engine's values: words only when shown).
    Unknown(Rc<[crate::eval::Unknown]>),
}

impl Reach {
    pub(crate) fn from_evaluation(ev: &Evaluation) -> Reach {
        let deciding = || {
            let mut v: Vec<String> = ev.checks.iter().flat_map(|c| c.deciding.clone()).collect();
            v.dedup();
            v
        };
        match ev.decision {
            Decision::Allow => Reach::Yes(deciding().into()),
            Decision::ExplicitDeny => Reach::Denied(deciding().into()),
            Decision::ImplicitDeny => Reach::No,
            Decision::Undetermined => {
                let unknowns: Vec<crate::eval::Unknown> = ev
                    .checks
                    .iter()
                    .flat_map(|c| c.unknowns.iter().cloned())
                    .collect();
                let residual: Vec<Vec<Requirement>> = ev
                    .checks
                    .iter()
                    .flat_map(|c| c.residual.clone())
                    .filter(|a| !a.is_empty())
                    .collect();
                if unknowns.is_empty() && !residual.is_empty() {
                    Reach::Conditional(residual.into())
                } else {
                    Reach::Unknown(unknowns.into())
                }
            }
        }
    }
}

/// A principal the key policy names in an `Allow`, probed for `kms:PutKeyPolicy` (R110).
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// The principal as written.
    pub(crate) principal: String,
    /// The caller probed for it.
    pub(crate) caller: Rc<Caller>,
    /// Where it is written.
    pub(crate) span: Span,
    /// The statement it is in.
    pub(crate) statement: usize,
    /// The probe's answer for `kms:PutKeyPolicy`.
    pub(crate) reach: Reach,
    /// Whether it exists (IAM data), `None` when unknown.
    pub(crate) exists: Option<bool>,
    /// Whether an administrator's own request keeps its path, once settled from the owner's
    /// side (`lint::owner`), and the work the settling counted against the model's budget:
    /// kept here so that the rules asking it (lockout, the Deny trap) settle each candidate
    /// once per key policy.
    pub(crate) owner_keeps: std::cell::Cell<Option<(bool, u64)>>,
}

impl Candidate {
    /// The answer holds only when an AWS service calls on the principal's behalf (R116).
    pub(crate) fn service_only(&self) -> bool {
        match &self.reach {
            Reach::Conditional(alts) => alts
                .iter()
                .all(|a| a.iter().any(|r| r.key == "kms:viaservice")),
            _ => false,
        }
    }

    /// A human administrator path: allowed (or conditionally, not only via a service).
    pub(crate) fn usable(&self) -> bool {
        match &self.reach {
            Reach::Yes(_) | Reach::Unknown(_) => true,
            Reach::Conditional(_) => !self.service_only(),
            Reach::Denied(_) | Reach::No => false,
        }
    }
}

/// A user, role or session a key policy names, with where.
#[derive(Debug)]
pub(crate) struct NamedCaller<'a> {
    /// The first statement naming it.
    pub(crate) statement: &'a Statement,
    /// The principal entry.
    pub(crate) entry: &'a crate::policy::PrincipalEntry,
    /// Its ARN as written.
    pub(crate) arn: &'a str,
    /// The caller to probe.
    pub(crate) caller: Rc<Caller>,
}

/// Who can manage the key (R110).
#[derive(Debug, Clone, Default)]
pub(crate) struct AdminAnalysis {
    /// Every principal an `Allow` names, with its probe.
    pub(crate) candidates: Vec<Candidate>,
}

impl AdminAnalysis {
    /// Candidates that can call `kms:PutKeyPolicy` and exist (or may exist).
    pub(crate) fn admins(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates
            .iter()
            .filter(|c| c.usable() && c.exists != Some(false))
    }
}

impl KeyLintContext<'_> {
    /// Every user, role and session an `Allow` names, once each (the first statement naming it),
    /// as a caller the engine can be asked about.
    pub(crate) fn named_callers(&self) -> Vec<NamedCaller<'_>> {
        let statements = &self.doc().statements;
        self.named
            .get_or_init(|| self.find_named_callers())
            .iter()
            .filter_map(|(s, e, caller)| {
                let statement: &Statement = statements.get(*s)?;
                let entry = statement.principal.as_ref()?.entries.get(*e)?;
                Some(NamedCaller {
                    statement,
                    entry,
                    arn: entry.class.identity_arn()?,
                    caller: Rc::clone(caller),
                })
            })
            .collect()
    }

    /// The positions (statement, entry) and callers [`Self::named_callers`] gives.
    fn find_named_callers(&self) -> Vec<(usize, usize, Rc<Caller>)> {
        let mut out = Vec::new();
        let mut seen: FastSet<&str> = FastSet::default();
        for (s, st) in self.doc().statements.iter().enumerate() {
            if !st.is_allow() {
                continue;
            }
            let Some(pc) = st.principal.as_ref().filter(|p| !p.negated) else {
                continue;
            };
            for (e, entry) in pc.entries.iter().enumerate() {
                let Some(arn) = entry.class.identity_arn() else {
                    continue;
                };
                if !seen.insert(arn) {
                    continue;
                }
                if let Some(caller) = self.caller(arn) {
                    out.push((s, e, caller));
                }
            }
        }
        out
    }
}
