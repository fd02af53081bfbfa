//! The key context: each key policy waiting for the key-level rules, with what its input says
//! about its key, and the shared context that places it (account, Region, facts) before the
//! rules judge it.

use super::runner::check_key;
use super::{Config, keys};
use crate::diag::{Finding, stamp};
use crate::policy::PolicyDocument;

/// The account a key policy most likely belongs to, and whether the guess is strong: the first
/// account an `Allow` names as a whole (the root delegation) is; the first account any other
/// principal belongs to is not.
fn infer_account(doc: &PolicyDocument) -> Option<(String, bool)> {
    use crate::arn::PrincipalClass;
    let entries = || {
        doc.statements
            .iter()
            .filter(|s| s.is_allow())
            .filter_map(|s| s.principal.as_ref())
            .filter(|p| !p.negated)
            .flat_map(|p| p.entries.iter())
    };
    entries()
        .find_map(|e| match &e.class {
            PrincipalClass::Account { account, .. } => Some((account.clone(), true)),
            _ => None,
        })
        .or_else(|| entries().find_map(|e| e.class.account().map(|a| (a.to_owned(), false))))
}

/// The Region (and account) a key policy's own `Resource` ARNs name, when one names a key.
/// A `NotResource` ARN names a key the statement is *not* about, so it says nothing of this
/// key's account or Region.
fn resource_key_region(doc: &PolicyDocument) -> Option<(String, String)> {
    doc.statements
        .iter()
        .filter_map(|s| s.resource.as_ref().filter(|r| !r.negated))
        .flat_map(|r| r.items.iter())
        .find_map(|i| {
            let p = crate::arn::split_arn(&i.raw)?;
            (p.service == "kms"
                && !p.region.is_empty()
                && !p.region.contains(['*', '?', '$'])
                && crate::arn::is_account_id(p.account))
            .then(|| (p.region.to_owned(), p.account.to_owned()))
        })
}

/// A key policy waiting for the key-level rules, with what its own input says about the key.
#[derive(Debug, Clone)]
pub struct KeyToCheck {
    /// The policy.
    pub(crate) policy: crate::eval::NamedPolicy,
    /// The key identity the input gives (ARN, key id, Terraform address, logical id), if any.
    pub(crate) key: Option<String>,
    /// The key's facts, when its input makes them known.
    pub(crate) facts: Option<crate::eval::KeyFacts>,
    /// The account and Region the input reveals (a plan's caller identity and provider).
    pub(crate) input_account: Option<String>,
    /// See `input_account`.
    pub(crate) input_region: Option<String>,
    /// The policy is created or replaced by its input (a plan or template), not read from AWS.
    pub(crate) declared: bool,
    /// The principal that ran the plan, when it says.
    pub(crate) plan_caller: Option<String>,
}

/// The key policies of one input, each with its key as far as that input tells. Taking them
/// per input keeps one plan's account from being applied to another file's policies.
pub fn keys_to_check(input: &crate::inventory::Inventory) -> Vec<KeyToCheck> {
    let (account, region) = input.account_region();
    let declares = !input.planned_keys().is_empty();
    input
        .key_policies_for_lint()
        .into_iter()
        .map(|kp| KeyToCheck {
            policy: kp.policy.clone(),
            declared: declares && kp.key.is_some(),
            key: kp.key.map(str::to_owned),
            facts: kp.facts,
            input_account: account.map(str::to_owned),
            input_region: region.map(str::to_owned),
            plan_caller: input.plan_caller().map(str::to_owned),
        })
        .collect()
}

/// The shared, read-only context every key of `check_keys` is judged against.
pub(super) struct KeyJudge<'a> {
    /// How many key policies came without their key.
    pub(super) keyless: usize,
    pub(super) described: &'a [crate::eval::KeyFacts],
    pub(super) all: &'a crate::inventory::Inventory,
    pub(super) sources: &'a crate::source::SourceMap,
    pub(super) account: Option<&'a str>,
    pub(super) region: Option<&'a str>,
    pub(super) config: &'a Config,
}

impl KeyJudge<'_> {
    /// The key-level rules for one key policy; returns the identity its findings take.
    pub(super) fn check(&self, kp: KeyToCheck, findings: &mut Vec<Finding>) -> Option<String> {
        let KeyJudge {
            keyless,
            described,
            all,
            sources,
            account,
            region,
            config,
        } = *self;
        let source = sources.get(kp.policy.doc.source)?;
        let facts = kp.facts.or_else(|| match described {
            [only] if keyless == 1 && kp.key.is_none() => {
                all.key_inputs(&only.arn).ok().map(|k| k.facts)
            }
            _ => None,
        });
        let identity = facts
            .as_ref()
            .map(|f| f.arn.clone())
            .or(kp.key.clone())
            .unwrap_or_else(|| source.name.trim_start_matches("./").to_owned());
        let (facts, account_known, region_known) = match facts {
            Some(f) => (f, true, true),
            None => {
                let (account, region) = (
                    account.or(kp.input_account.as_deref()),
                    region.or(kp.input_region.as_deref()),
                );
                let named = resource_key_region(&kp.policy.doc);
                let (acct, known) = match account {
                    Some(a) => (a.to_owned(), true),
                    None => match named
                        .as_ref()
                        .map(|(_, a)| (a.clone(), true))
                        .or_else(|| infer_account(&kp.policy.doc))
                    {
                        Some(a) => a,
                        None => (keys::UNKNOWN_ACCOUNT.to_owned(), false),
                    },
                };
                let region_known = region.is_some() || named.is_some();
                let region = region
                    .map(str::to_owned)
                    .or(named.map(|(r, _)| r))
                    .unwrap_or_else(|| "us-east-1".to_owned());
                let arn =
                    format!("arn:aws:kms:{region}:{acct}:key/00000000-0000-0000-0000-000000000000");
                match crate::eval::KeyFacts::from_arn(&arn) {
                    Ok(f) => (f, known, region_known),
                    Err(_) => return None,
                }
            }
        };
        // No key-level rule runs (`--select` of document rules): nothing to set up or ask.
        if !config.run.any_key_rule() {
            return Some(identity);
        }
        let mut cx = keys::KeyLintContext::new(&kp.policy, facts, identity, Some(all));
        cx.account_known = account_known;
        cx.region_known = region_known;
        cx.config = config;
        cx.organisation = Some(all);
        if kp.declared {
            cx.deployer = config.deployer.clone().or(kp.plan_caller);
        }
        check_key(&cx, findings);
        stamp(findings, &kp.policy.doc, source, &cx.identity);
        Some(cx.identity)
    }
}
