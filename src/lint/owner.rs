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

use std::cell::OnceCell;

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

/// The key administrators of [`KeyLintContext::admin_analysis`] that keep a path under a
/// request they can make (an answer the engine cannot settle keeps them).
/// The model is built only when an answer needs settling: an admin the engine allows outright
/// (the usual root delegation) needs none.
///
/// Worked out one candidate at a time, in the policy's order: a rule that needs only the
/// first (or the first known to exist) stops there. Each candidate's answer is kept on it, so
/// the next rule to ask (lockout, then the Deny trap) builds no model for candidates already
/// settled. Each model has its own work budget: a candidate settled by another rule's model
/// no longer counts against this one's, which can only leave it more budget for the rest.
pub(crate) fn admins<'c, 'a, 'm>(
    cx: &'c KeyLintContext<'a>,
    model: &'m OnceCell<Model<'c, 'a>>,
) -> impl Iterator<Item = &'c Candidate> + 'm
where
    'c: 'm,
{
    cx.admin_analysis().admins().filter(move |c| {
        if matches!(c.reach, Reach::Yes(_)) {
            return true;
        }
        if let Some(keeps) = c.owner_keeps.get() {
            return keeps;
        }
        let keeps = model.get_or_init(|| Model::new(cx)).owner_can(
            &c.caller,
            PUT_KEY_POLICY,
            Some(Vec::new()),
        ) != Tri::No;
        c.owner_keeps.set(Some(keeps));
        keeps
    })
}

/// The users and roles named (exactly) in `aws:PrincipalArn` conditions that can call
/// `kms:PutKeyPolicy` when their IAM policies allow it, once each.
pub(crate) fn named_in_conditions<'c, 'a>(
    cx: &'c KeyLintContext<'a>,
    model: &OnceCell<Model<'c, 'a>>,
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
                let model = model.get_or_init(|| Model::new(cx));
                if model.owner_can(&caller, PUT_KEY_POLICY, Some(cx.allow_all_identity()))
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
