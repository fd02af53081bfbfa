//! A key policy narrowed to the statements that can concern one caller: the engine's answer
//! for the narrowed policy is its answer for the whole policy (every other statement fails on
//! `Principal` for that caller and adds nothing), and a policy naming thousands of principals
//! costs each probe only its own statements.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::arn::PrincipalClass;
use crate::eval::{self, Caller, NamedPolicy};
use crate::policy::{PolicyDocument, PolicyKind};
use crate::source::SourceId;

/// A policy's statements by the callers they can concern (R24: a principal entry naming a
/// user, role, session or federated user by its ARN matches only the caller with that ARN,
/// the sessions of that role, or the federated users of that user; an account entry only the
/// principals of that account; a service entry only that service). Statements any caller may
/// match — `*`, a partial wildcard or malformed principal, `NotPrincipal`, no principal, an
/// unreadable statement — concern every caller. A probe then runs against the
/// statements that can concern its caller, which gives the engine's answer for the whole
/// policy: every other statement fails on `Principal` for it and adds nothing.
#[derive(Debug, Default)]
pub(crate) struct StatementIndex {
    /// Positions of the statements that may concern any caller.
    general: Vec<usize>,
    /// Positions of the statements naming an ARN (or, under `session:`, a session of a role),
    /// by that ARN.
    by_arn: HashMap<String, Vec<usize>>,
}

/// The prefix of the keys under which assumed-role session entries are also indexed: the
/// engine cannot judge a named session against a probe of "any session of the role".
const SESSION_OF: &str = "session:";
/// Policies of at most this many statements are not narrowed.
const NARROW_FROM: usize = 16;
/// The prefix of the keys of service principal entries.
const SERVICE: &str = "service:";
/// The prefix of the keys of account entries (`arn:aws:iam::A:root`, `A`).
const ACCOUNT: &str = "account:";

impl StatementIndex {
    pub(crate) fn new(doc: &PolicyDocument) -> StatementIndex {
        let mut out = StatementIndex::default();
        for (pos, st) in doc.statements.iter().enumerate() {
            let mut keys: Vec<String> = Vec::new();
            let mut general = st.broken.is_some();
            match st.principal.as_ref() {
                Some(pc) if !pc.negated => {
                    for e in &pc.entries {
                        match &e.class {
                            PrincipalClass::User { arn, .. }
                            | PrincipalClass::Role { arn, .. }
                            | PrincipalClass::FederatedUser { arn, .. } => keys.push(arn.clone()),
                            PrincipalClass::AssumedRole { arn, .. } => {
                                keys.push(arn.clone());
                                if let Some((head, _)) = arn.rsplit_once('/') {
                                    keys.push(format!("{SESSION_OF}{head}"));
                                }
                            }
                            PrincipalClass::Service(name) => keys.push(format!("{SERVICE}{name}")),
                            PrincipalClass::Account { account, .. } => {
                                keys.push(format!("{ACCOUNT}{account}"));
                            }
                            // Never any caller's principal (see `entry_kind`).
                            PrincipalClass::OtherIam { .. }
                            | PrincipalClass::UniqueId
                            | PrincipalClass::Federated
                            | PrincipalClass::CanonicalUser => {}
                            _ => general = true,
                        }
                    }
                }
                _ => general = true,
            }
            if general {
                out.general.push(pos);
                continue;
            }
            keys.sort_unstable();
            keys.dedup();
            for k in keys {
                out.by_arn.entry(k).or_default().push(pos);
            }
        }
        out
    }

    /// Whether a policy of `all` statements is ever narrowed: a short policy costs less to
    /// run whole than to copy in part.
    pub(crate) fn narrows(all: usize) -> bool {
        all > NARROW_FROM
    }

    /// The positions of the statements that can concern `caller`, in order; `None` when that
    /// is every statement, or when the caller is one whose match the index cannot tell (a
    /// federated user whose federating user is not known is matched by name).
    pub(crate) fn positions(&self, caller: &Caller, all: usize) -> Option<Vec<usize>> {
        if self.general.len() == all || !Self::narrows(all) {
            return None;
        }
        let out = self.concerning(caller)?;
        (out.len() < all).then_some(out)
    }

    /// The positions of the statements that can concern `caller`, in order, however short
    /// the policy; `None` when the index cannot tell (as in `positions`).
    pub(crate) fn concerning(&self, caller: &Caller) -> Option<Vec<usize>> {
        if caller.kind == eval::CallerKind::FederatedUser && caller.federating_user.is_none() {
            return None;
        }
        let mut out = self.general.clone();
        let mut add = |k: &str| {
            if let Some(v) = self.by_arn.get(k) {
                out.extend_from_slice(v);
            }
        };
        match caller.kind {
            eval::CallerKind::Service => add(&format!("{SERVICE}{}", caller.arn)),
            eval::CallerKind::Anonymous => {}
            _ => add(&format!("{ACCOUNT}{}", caller.account)),
        }
        add(&caller.arn);
        if let Some(r) = &caller.role_arn {
            add(r);
        }
        if let Some(u) = &caller.federating_user {
            add(u);
        }
        if caller.session_open {
            if let Some((head, _)) = caller.arn.rsplit_once('/') {
                add(&format!("{SESSION_OF}{head}"));
            }
        }
        out.sort_unstable();
        out.dedup();
        Some(out)
    }
}

/// `policy` with only the statements at `keep` (in order; each keeps its position for the
/// names answers give it).
pub(crate) fn narrowed_policy(policy: &NamedPolicy, keep: &[usize]) -> NamedPolicy {
    let doc = &policy.doc;
    let statements = keep
        .iter()
        .filter_map(|&i| doc.statements.get(i).cloned())
        .collect();
    NamedPolicy {
        name: policy.name.clone(),
        doc: Arc::new(PolicyDocument {
            source: doc.source,
            span: doc.span,
            kind: doc.kind,
            version: doc.version,
            version_span: doc.version_span,
            id: doc.id.clone(),
            statement_span: doc.statement_span,
            statements,
            duplicate_keys: Vec::new(),
            casing: Vec::new(),
        }),
    }
}

/// An identity policy allowing every action on every resource, parsed once.
pub(crate) fn allow_all() -> Option<Arc<PolicyDocument>> {
    static DOC: OnceLock<Option<Arc<PolicyDocument>>> = OnceLock::new();
    DOC.get_or_init(|| {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let j = crate::json::parse(text).ok()?;
        let (doc, _) = crate::policy::parse_policy(&j, SourceId::NONE, PolicyKind::Identity);
        Some(Arc::new(doc))
    })
    .clone()
}
