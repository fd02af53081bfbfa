//! `KMS069` key-unusable-for-crypto (spec R53, R54, R59, R63).
//!
//! ## What it does
//! Asks the engine, for every cryptographic action (`kms:Encrypt`, `kms:Decrypt`,
//! `kms:ReEncrypt*`, `kms:GenerateDataKey*`, `kms:Sign`, `kms:Verify`, `kms:GenerateMac`,
//! `kms:VerifyMac`, `kms:DeriveSharedSecret`), whether anyone can be allowed: a role of the
//! key's account whose IAM policies allow everything (the delegation), every user, role and
//! account the policy names (with IAM allowing everything), every service principal it names,
//! and a stranger when it names `"*"`; a statement that gives cryptography under conditions
//! counts as usable, since it may hold for callers no probe stands for. When none can — the key
//! policy gives no one cryptography and its delegation to the account leaves it out — the key
//! can never encrypt or decrypt anything.
//!
//! ## Why is this bad?
//! Every identity policy in the account that allows `kms:Decrypt` on this key is dead: callers
//! get `AccessDenied` with an IAM policy that seems to allow them ("I added kms:Decrypt and still
//! get AccessDenied"). The trap is in the key policy: a root statement limited to
//! administration actions, or key users left out.
//!
//! ## Example
//! ```json
//! {"Sid": "BadAdminOnlyRoot", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"], "Resource": "*"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodFullRoot", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Default key policy" (Allows access to the AWS account and enables IAM policies)
//! - AWS KMS Developer Guide: "Troubleshooting key access"

use super::keys::{KeyLintContext, Reach, key_actions};
use super::{Finding, Rule, Severity};
use crate::arn::PrincipalClass;
use crate::catalog::is_cryptographic;
use crate::eval::{Caller, NamedPolicy};
use crate::source::Span;
use std::rc::Rc;

pub(crate) static RULE: Rule = Rule {
    code: "KMS069",
    name: "key-unusable-for-crypto",
    severity: Severity::Warning,
    spec: "R53, R54, R59, R63",
    summary: "no one can ever use the key for cryptography: every IAM kms:Decrypt on it is dead",
    input_error: false,
};

/// Whether `caller` (with `identity`) may be allowed any of the key actions `actions` picks.
fn may(
    cx: &KeyLintContext<'_>,
    caller: &Caller,
    identity: Option<&[NamedPolicy]>,
    actions: impl Fn(&str) -> bool,
) -> bool {
    key_actions().filter(|a| actions(a.name)).any(|a| {
        // Every key action is in the catalogue; one that were not could be allowed.
        let Some(action) = super::keys::prefixed_name(a.name) else {
            return true;
        };
        !matches!(
            cx.allow_reach(caller, action, identity),
            Reach::No | Reach::Denied(_)
        )
    })
}

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    if cx.aws_managed() || cx.doc().statements.is_empty() {
        return; // R114; an empty policy is reported by the grammar rules
    }
    // Grants given with the inputs may already let someone use the key.
    if cx.organisation.is_some_and(|all| {
        all.grants().iter().any(|g| {
            g.key_id
                .as_deref()
                .is_some_and(|k| k == cx.facts.arn || cx.facts.arn.ends_with(&format!("/{k}")))
        })
    }) {
        return;
    }
    // A statement that gives cryptography under conditions may hold for callers no probe
    // stands for (an account its `kms:CallerAccount` names, a role its `aws:PrincipalArn`
    // names), and so may one with `NotPrincipal`: the key may be usable, so the rule says
    // nothing.
    let crypto = key_actions()
        .filter(|a| is_cryptographic(a.name))
        .filter_map(|a| crate::catalog::action_index(a.name))
        .fold(0u128, |m, i| m | 1u128 << i);
    if cx.doc().statements.iter().any(|st| {
        let mask = match st.action.as_ref().filter(|_| st.is_allow()) {
            Some(a) if a.negated => !a.kms_mask & crate::catalog::all_actions_mask(),
            Some(a) => a.kms_mask,
            None => 0,
        };
        mask & crypto != 0
            && (!st.conditions.is_empty()
                || st.broken.is_some()
                || st.principal.as_ref().is_none_or(|p| p.negated))
    }) {
        return;
    }
    let iam = cx.allow_all_identity();
    // The delegation path first: most policies answer here, on the first action, before any
    // other caller is worked out.
    let probe = cx.account_probe();
    if probe
        .as_ref()
        .is_some_and(|p| may(cx, p, Some(&iam), is_cryptographic))
    {
        return;
    }
    let mut callers: Vec<(Rc<Caller>, bool)> = probe.into_iter().map(|c| (c, true)).collect();
    let mut root: Option<(Span, &crate::policy::Statement)> = None;
    for st in cx.doc().statements.iter().filter(|s| s.is_allow()) {
        for e in st.named_principals() {
            let caller = match &e.class {
                PrincipalClass::Any => cx.stranger().map(|c| (c, true)),
                PrincipalClass::Service(name) => cx.caller(name).map(|c| (c, false)),
                PrincipalClass::Account { account, .. } => {
                    if *account == cx.facts.account {
                        root.get_or_insert((e.span, st));
                        None
                    } else {
                        cx.caller(&format!(
                            "arn:{}:iam::{account}:role/kmsaudit-probe",
                            cx.facts.partition
                        ))
                        .map(|c| (c, true))
                    }
                }
                PrincipalClass::User { arn, .. }
                | PrincipalClass::Role { arn, .. }
                | PrincipalClass::AssumedRole { arn, .. } => cx.caller(arn).map(|c| (c, true)),
                // Federated and other principals: cannot be probed, so the key may be usable.
                _ => return,
            };
            if let Some(c) = caller {
                if !callers.iter().any(|(k, _)| k.arn == c.0.arn) {
                    callers.push(c);
                }
            }
        }
    }
    for (caller, with_iam) in &callers {
        let identity = with_iam.then_some(iam.as_slice());
        if may(cx, caller, identity, is_cryptographic) {
            return;
        }
    }
    // A grant can still give the operations: then only the policy's own paths are dead.
    let by_grant = callers.iter().any(|(caller, with_iam)| {
        may(cx, caller, with_iam.then_some(iam.as_slice()), |a| {
            a == "CreateGrant"
        })
    });
    let (span, st) = match root {
        Some((span, st)) => (span, Some(st)),
        None => match cx.doc().statements.first() {
            Some(st) => (
                Span::new(st.span.start as usize, st.span.start as usize + 1),
                None,
            ),
            None => return,
        },
    };
    let why = if root.is_some() {
        "no statement allows encryption, decryption or data keys to anyone, and the delegation to the account leaves them out"
    } else {
        "no statement allows encryption, decryption or data keys to anyone, and the policy does not delegate them to the account"
    };
    let head = if by_grant {
        "only a grant can let anyone use this key for cryptography"
    } else {
        "no principal can ever use this key for cryptography"
    };
    let f = Finding::new(
        &RULE,
        cx.doc().source,
        span,
        format!("{head}: {why}, so every IAM policy allowing `kms:Decrypt` on it has no effect"),
        "no one can encrypt or decrypt",
    )
    .help(format!(
        "allow the key's users in the key policy (`kms:Encrypt`, `kms:Decrypt`, `kms:ReEncrypt*`, `kms:GenerateDataKey*`, `kms:DescribeKey`), or delegate them to the account with `\"Principal\": {{\"AWS\": \"arn:{}:iam::{}:root\"}}, \"Action\": \"kms:*\"`",
        cx.facts.partition, cx.facts.account
    ))
    .in_statement_if_any(st);
    out.push(f);
}
