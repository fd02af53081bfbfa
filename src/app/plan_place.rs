//! A planned key whose Region or account nothing gives (spec R133, R135): the answer is
//! the one every possible value gives, or undetermined naming the flag that settles it.

use std::sync::Arc;

use crate::eval::{self, Decision, Evaluation, Inputs, Request};

/// `arn:p:kms:<region>:<account>:key/id` with one part replaced.
fn with_part(arn: &str, index: usize, value: &str) -> String {
    arn.split(':')
        .enumerate()
        .map(|(i, p)| if i == index { value } else { p })
        .collect::<Vec<_>>()
        .join(":")
}

/// The inputs and request with the key moved to `region`.
fn in_region(inputs: &Inputs, req: &Request, region: &str) -> (Inputs, Request) {
    let mut inputs = inputs.clone();
    let mut req = req.clone();
    let to = with_part(&req.key, 3, region);
    for k in &mut inputs.keys {
        if k.facts.arn == req.key {
            let mut moved = (**k).clone();
            moved.facts.arn.clone_from(&to);
            moved.facts.region = region.to_owned();
            for g in moved.grants.iter_mut().flatten() {
                if g.key_id.as_deref() == Some(req.key.as_str()) {
                    g.key_id = Some(to.clone());
                }
            }
            *k = Arc::new(moved);
        }
    }
    req.key = to;
    (inputs, req)
}

/// Settles or opens an answer about a planned key whose Region or account is a stand-in.
pub(super) fn settle(
    ev: &mut Evaluation,
    inputs: &Inputs,
    req: &Request,
    opts: &eval::Options,
    key_name: &str,
) {
    let mut parts = req.key.split(':');
    let (region, account) = (parts.nth(3), parts.next());
    let mut open = Vec::new();
    if region == Some(crate::arn::UNKNOWN_REGION) {
        // Every Region AWS has announced, in every partition (`arn::PARTITIONS`).
        let mut regions = crate::arn::PARTITIONS.iter().flat_map(|(_, rs)| rs.iter());
        let differs = regions.any(|r| {
            let (i, q) = in_region(inputs, req, r);
            eval::evaluate(&i, &q, opts).decision != ev.decision
        });
        if differs {
            open.push(eval::Unknown::PlannedRegion {
                key: key_name.to_owned(),
            });
        }
    }
    // The caller in the key's own account, whose number nothing gives.
    if account == Some(crate::arn::UNKNOWN_ACCOUNT)
        && req.caller.account != crate::arn::UNKNOWN_ACCOUNT
        && crate::arn::is_account_id(&req.caller.account)
    {
        let mut q = req.clone();
        let from = format!(":{}:", req.caller.account);
        let to = format!(":{}:", crate::arn::UNKNOWN_ACCOUNT);
        q.caller.arn = q.caller.arn.replace(&from, &to);
        q.caller.role_arn = q.caller.role_arn.map(|a| a.replace(&from, &to));
        q.caller.account = crate::arn::UNKNOWN_ACCOUNT.into();
        if eval::evaluate(inputs, &q, opts).decision != ev.decision {
            open.push(eval::Unknown::PlannedAccount {
                key: key_name.to_owned(),
                caller_account: req.caller.account.to_string(),
            });
        }
    }
    if open.is_empty() {
        return;
    }
    ev.decision = Decision::Undetermined;
    for c in &mut ev.checks {
        c.decision = Decision::Undetermined;
        c.path = None;
        c.deciding.clear();
        c.unknowns.extend(open.iter().cloned());
    }
}
