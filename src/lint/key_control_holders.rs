//! `KMS063` key-control-holders (spec R115).
//!
//! ## What it does
//! Lists, for each user, role or session the key policy names, the actions it can take through
//! the key policy alone that change who has access to the key or destroy it:
//! `kms:PutKeyPolicy`, `kms:CreateGrant` (directly, not only through an AWS service),
//! `kms:TagResource`/`kms:UntagResource` (tags can drive access through `aws:ResourceTag`),
//! `kms:CreateAlias`/`kms:UpdateAlias` (aliases can drive access through `kms:RequestAlias`) and
//! `kms:ScheduleKeyDeletion`. Each is asked of the engine.
//!
//! ## Why is this bad?
//! It is not: every key needs administrators. But AWS's lockout safety check only makes sure
//! the caller of `PutKeyPolicy` keeps `PutKeyPolicy`; reviewers need the full list of who
//! controls the key.
//!
//! ## Example
//! ```json
//! {"Sid": "BadUnreviewedAdmin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/KMSAdmin"}, "Action": ["kms:Create*", "kms:Put*", "kms:TagResource", "kms:ScheduleKeyDeletion"], "Resource": "*"}
//! ```
//! Use instead: the same, reviewed — or fewer actions for principals that do not administer
//! the key:
//! ```json
//! {"Sid": "GoodUserOnly", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Default key policy" (Allows key administrators to administer the KMS key; warnings about tags and aliases)
//! - AWS KMS Developer Guide: "ABAC for AWS KMS"

use super::keys::{KeyLintContext, Reach};
use super::{Finding, Rule, Severity};

pub(crate) static RULE: Rule = Rule {
    code: "KMS063",
    name: "key-control-holders",
    severity: Severity::Info,
    spec: "R115",
    summary: "who can change access to the key or destroy it: PutKeyPolicy, CreateGrant, tags, aliases, ScheduleKeyDeletion",
    input_error: false,
};

const CONTROL: &[&str] = &[
    "kms:PutKeyPolicy",
    "kms:CreateGrant",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
];

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    if cx.aws_managed() {
        return;
    }
    for n in cx.named_callers() {
        let (st, e, arn, caller) = (n.statement, n.entry, n.arn, n.caller);
        {
            let mut can: Vec<&str> = CONTROL
                .iter()
                .copied()
                .filter(|a| match cx.allow_reach(&caller, a, Some(&[])) {
                    Reach::Yes(_) => true,
                    Reach::Conditional(alts) => alts.iter().any(|alt| {
                        !alt.iter().any(|r| {
                            r.key == "kms:grantisforawsresource" || r.key == "kms:viaservice"
                        })
                    }),
                    _ => false,
                })
                .collect();
            for a in ["kms:CreateAlias", "kms:UpdateAlias"] {
                if cx.alias_allowed(&caller, a) {
                    can.push(a);
                }
            }
            if can.is_empty() {
                continue;
            }
            out.push(
                Finding::new(
                    &RULE,
                    cx.doc().source,
                    e.span,
                    format!("`{arn}` controls this key: it can call {}", can.join(", ")),
                    "key controller",
                )
                .in_statement(st)
                .help("make sure each of these principals is meant to administer the key"),
            );
        }
    }
}
