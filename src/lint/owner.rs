//! Lockout from the owner's side (spec R109, R110, R116; `docs/semantics.md`, "Lockout from
//! the owner's side"): who of the key's account, or named in the policy, can still call
//! `kms:PutKeyPolicy` under some request it can make.
//!
//! The key rules' admin probes leave request keys open. Here each candidate's answer is
//! settled with the values one of the owner's principals can give when it calls
//! `PutKeyPolicy` itself ([`Model::owner_can`]): never through a service, over TLS, from now
//! on, from its own addresses and endpoints. A statement that holds only under something an
//! administrator never has (`kms:ViaService`, a private `aws:SourceIp` without an endpoint, a
//! past `aws:CurrentTime`, `aws:SecureTransport` false, `aws:SourceArn` on a direct call) is
//! no admin path, and a Deny that applies unless one of those holds takes the path away.
//!
//! A principal the policy names in an `aws:PrincipalArn` condition ("Deny `PutKeyPolicy`
//! unless the caller is role X", or `Principal: "*"` scoped to X) keeps control when the
//! engine lets it in with IAM permission: manageability then depends on X existing with that
//! permission, which authorization details can confirm.

use std::cell::{Cell, OnceCell};

use super::adversary::Model;
use super::keys::{Candidate, KeyLintContext, Reach};
use crate::eval::{Caller, Tri};
use crate::source::Span;

/// The action that keeps a key manageable.
const PUT_KEY_POLICY: &str = "kms:PutKeyPolicy";

/// A principal named in an `aws:PrincipalArn` condition that can call `kms:PutKeyPolicy` when
/// its IAM policies allow it.
#[derive(Debug, Clone)]
pub(crate) struct Named {
    /// The ARN as written.
    pub(crate) arn: String,
    /// Where it is written.
    pub(crate) span: Span,
    /// The statement it is in.
    pub(crate) statement: usize,
    /// Whether it exists, from authorization details; `None` when not known.
    pub(crate) exists: Option<bool>,
}

/// One rule's owner-side model of the key policy, built when an answer first needs it.
///
/// Each rule that settles administrators from the owner's side (lockout, the Deny trap) has
/// its own model and work budget ([`Model`]); the candidates' answers are shared through the
/// candidates ([`admins`]). A rule that reads an answer another rule's model worked out is
/// charged the work it cost, so its own budget runs out exactly where it would have had it
/// worked the answer out itself: the same candidates in the same order from a fresh model
/// give the same answers and the same spending, and what the rule asks next (the principals
/// `aws:PrincipalArn` conditions name) is settled with the budget it always had.
#[derive(Debug)]
pub(crate) struct OwnerModel<'c, 'a> {
    cx: &'c KeyLintContext<'a>,
    model: OnceCell<Model<'c, 'a>>,
    /// Work read from other rules' answers before this model was built.
    owed: Cell<u64>,
}

impl<'c, 'a> OwnerModel<'c, 'a> {
    pub(crate) fn new(cx: &'c KeyLintContext<'a>) -> Self {
        OwnerModel {
            cx,
            model: OnceCell::new(),
            owed: Cell::new(0),
        }
    }

    /// The model, built (and charged what it owes) on first use.
    fn get(&self) -> &Model<'c, 'a> {
        self.model.get_or_init(|| {
            let m = Model::new(self.cx);
            m.spend(self.owed.take());
            m
        })
    }

    /// Counts `work` another rule's model did for an answer this rule reads.
    fn charge(&self, work: u64) {
        match self.model.get() {
            Some(m) => m.spend(work),
            None => self.owed.set(self.owed.get().saturating_add(work)),
        }
    }
}

/// The key administrators of [`KeyLintContext::admin_analysis`] that keep a path under a
/// request they can make (an answer the engine cannot settle keeps them).
/// The model is built only when an answer needs settling: an admin the engine allows outright
/// (the usual root delegation) needs none.
///
/// Worked out one candidate at a time, in the policy's order: a rule that needs only the
/// first (or the first known to exist) stops there. Each candidate's answer is kept on it with
/// the work it cost, so the next rule to ask builds no model for the candidates already
/// settled and is charged that work instead ([`OwnerModel`]).
pub(crate) fn admins<'c, 'a, 'm>(
    cx: &'c KeyLintContext<'a>,
    model: &'m OwnerModel<'c, 'a>,
) -> impl Iterator<Item = &'c Candidate> + 'm
where
    'c: 'm,
{
    cx.admin_analysis().admins().filter(move |c| {
        if matches!(c.reach, Reach::Yes(_)) {
            return true;
        }
        if let Some((keeps, work)) = c.owner_keeps.get() {
            model.charge(work);
            return keeps;
        }
        let m = model.get();
        let before = m.spent();
        let keeps = m.owner_can(&c.caller, PUT_KEY_POLICY, Some(Vec::new())) != Tri::No;
        c.owner_keeps
            .set(Some((keeps, m.spent().saturating_sub(before))));
        keeps
    })
}

/// The users and roles named (exactly) in `aws:PrincipalArn` conditions that can call
/// `kms:PutKeyPolicy` when their IAM policies allow it, once each.
pub(crate) fn named_in_conditions<'c, 'a>(
    cx: &'c KeyLintContext<'a>,
    model: &OwnerModel<'c, 'a>,
) -> Vec<Named> {
    let mut out: Vec<Named> = Vec::new();
    for st in &cx.doc().statements {
        for c in st
            .conditions
            .iter()
            .filter(|c| c.key_lower == "aws:principalarn")
        {
            for v in &c.values {
                let arn = v.text.as_str();
                if arn.contains(['*', '?', '$']) || out.iter().any(|n| n.arn == arn) {
                    continue;
                }
                let class = crate::arn::classify_aws_principal(arn);
                if !matches!(
                    class,
                    crate::arn::PrincipalClass::User { .. }
                        | crate::arn::PrincipalClass::Role { .. }
                ) {
                    continue;
                }
                let Ok(caller) = Caller::parse(arn, None) else {
                    continue;
                };
                if model
                    .get()
                    .owner_can(&caller, PUT_KEY_POLICY, Some(cx.allow_all_identity()))
                    == Tri::No
                {
                    continue;
                }
                // R110 step 2: existence decides. A principal of the key's account that
                // exists can be given IAM permission by the account's IAM administrators (the
                // root delegation lets IAM decide); one that does not can be created again,
                // since `aws:PrincipalArn` compares ARNs, not unique ids.
                let exists = cx.directory.and_then(|d| d.exists(&class));
                out.push(Named {
                    arn: arn.to_owned(),
                    span: v.span,
                    statement: st.index,
                    exists,
                });
            }
        }
    }
    out
}
