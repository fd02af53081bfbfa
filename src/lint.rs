//! Findings and the rule registry.
//!
//! Owns [`Finding`] (what every check reports), [`Severity`], the registry of rules with their
//! `KMSnnn` codes ([`RULES`], sorted by code; a code is never reused) and the structural rules
//! that need no evaluation, one file per rule under `lint/`. Codes `KMS001`–`KMS030` are the
//! spec's lint catalogue (`L001` → `KMS001`); `KMS031` upward are kmsaudit's own. Reading files
//! is `input`'s job, rendering is `report`'s; a rule that needs a decision will call `eval`.

pub mod adversary;
mod alias_in_identity_resource;
mod broad_key_admin;
mod confused_deputy;
mod create_grant_unscoped;
mod cross_account_unconditioned;
mod cross_account_unusable_action;
mod dead_actions;
mod deny_defeats_service_allows;
mod deny_trap;
mod duplicate_key;
mod enum_value_invalid;
pub mod expired_suppression;
mod for_all_values_trap;
mod grammar;
mod grant_too_broad;
mod grant_without_context;
mod iam_only_action_in_key_policy;
mod iam_only_condition_key;
mod identity_create_grant_all_keys;
mod identity_decrypt_all_keys;
mod identity_key_admin_all_keys;
mod inert_key_policy_statement;
pub mod invalid_config;
mod key_control_holders;
mod key_policy_limits;
mod key_policy_resource_not_star;
mod key_policy_resource_other_service;
mod key_unusable_for_crypto;
mod key_without_policy;
pub mod keys;
mod lockout;
mod lockout_check_bypassed;
mod malformed_principal;
mod multivalued_without_set_operator;
mod network_deny_without_carve_out;
mod no_separation_of_duties;
mod non_canonical_case;
mod not_principal_allow;
mod not_principal_without_account;
mod org_denies_put_key_policy;
mod owner;
mod partial_wildcard_principal;
mod permissive_allow_construct;
mod public_key;
mod root_delegation_missing;
mod root_delegation_partial;
mod rotation_disabled;
mod safety_check_would_reject;
pub use crate::policy::shapes;
mod short_deletion_window;
mod unique_id_principal;
mod unknown_action_or_key;
mod unknown_global_key;
mod unknown_region_or_partition;
mod variables_without_version;
mod via_service_value;
mod wildcard_admin_actions;

use crate::policy::{PolicyDocument, Problem};
use crate::source::SourceFile;
use std::collections::BTreeMap;
use std::sync::Arc;

pub use crate::diag::{
    About, Finding, Label, Rule, Severity, fingerprint, input_rules, stamp, stamp_rest,
};
use crate::diag::{spans_ordered, stamp_one};

/// What a rule sees: one parsed document and its source.
#[derive(Debug)]
pub struct LintContext<'a> {
    /// The document.
    pub doc: &'a PolicyDocument,
    /// Its source text.
    pub source: &'a SourceFile,
    /// Grammar problems found while parsing it.
    pub problems: &'a [Problem],
}

type CheckFn = fn(&LintContext<'_>, &mut Vec<Finding>);
type KeyCheckFn = fn(&keys::KeyLintContext<'_>, &mut Vec<Finding>);
type DeclaredCheckFn = fn(&DeclaredKey<'_>, &mut Vec<Finding>);
type GrantCheckFn = fn(&GrantContext<'_>, &mut Vec<Finding>);

/// A grant, with what is known of its key's account.
#[derive(Debug)]
pub struct GrantContext<'a> {
    /// The grant.
    pub grant: &'a crate::grant::Grant,
    /// The key's account: from the grant's key ARN, else its issuing account.
    pub key_account: Option<String>,
    /// The settings the rules read.
    pub config: &'a Config,
}

impl GrantContext<'_> {
    /// AWS services create grants for the resources they encrypt (EBS volumes, RDS
    /// instances…): a service grantee or retiring principal, or an encryption-context
    /// constraint on the service's own `aws:` keys.
    pub fn made_by_service(&self) -> bool {
        let g = self.grant;
        let service = |p: &str| p.ends_with(".amazonaws.com") && !p.contains(':');
        g.grantee_is_service
            || service(&g.grantee)
            || g.retiring.as_deref().is_some_and(service)
            || [&g.constraints.equals, &g.constraints.subset]
                .into_iter()
                .flatten()
                .any(|m| m.keys().any(|k| k.starts_with("aws:")))
    }
}

/// Settings the rules read: from `kmsaudit.toml` and flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The shortest key deletion window (days) that draws no finding (KMS058).
    pub min_deletion_window: u64,
    /// The principal that deploys key policies (`--deployer`); a plan's own caller otherwise.
    pub deployer: Option<String>,
    /// Accounts the exposure rules treat as the owner's (besides the key's own).
    pub trusted_accounts: Vec<String>,
    /// The owner's organisation id (`o-…`).
    pub organisation: Option<String>,
    /// Principals that are key administrators by design.
    pub admins: Vec<String>,
}

impl Config {
    /// The settings without a configuration file.
    pub const DEFAULT: Config = Config {
        // AWS's own default; the API allows 7 to 30 days.
        min_deletion_window: 30,
        deployer: None,
        trusted_accounts: Vec::new(),
        organisation: None,
        admins: Vec::new(),
    };
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}

/// A key as a Terraform plan or CloudFormation template declares it.
#[derive(Debug)]
pub struct DeclaredKey<'a> {
    /// The key.
    pub key: &'a crate::model::PlannedKey,
    /// The settings the rules read.
    pub config: &'a Config,
}

/// How a rule runs.
#[derive(Clone, Copy)]
enum Check {
    /// Reported by the input readers or the parser.
    None,
    /// On each document by itself.
    Doc(CheckFn),
    /// On each key policy with its key, asking the engine (`keys`).
    Key(KeyCheckFn),
    /// Both: what a document shows alone, and what needs its key.
    Both(CheckFn, KeyCheckFn),
    /// On each key a plan or template declares (its settings, not its policy).
    Declared(DeclaredCheckFn),
    /// On each grant.
    Grant(GrantCheckFn),
}

/// Every rule, sorted by code, with its check (input rules have none).
static REGISTRY: &[(&Rule, Check)] = &[
    (
        &root_delegation_missing::RULE,
        Check::Key(root_delegation_missing::check),
    ),
    (
        &root_delegation_partial::RULE,
        Check::Key(root_delegation_partial::check),
    ),
    (&lockout::RULE, Check::Key(lockout::check)),
    (&deny_trap::RULE, Check::Key(deny_trap::check)),
    (&public_key::RULE, Check::Key(public_key::check)),
    (
        &not_principal_allow::RULE,
        Check::Doc(not_principal_allow::check),
    ),
    (
        &for_all_values_trap::RULE,
        Check::Doc(for_all_values_trap::check),
    ),
    (
        &multivalued_without_set_operator::RULE,
        Check::Doc(multivalued_without_set_operator::check),
    ),
    (
        &via_service_value::RULE,
        Check::Both(via_service_value::check, via_service_value::check_key),
    ),
    (
        &unknown_action_or_key::RULE,
        Check::Doc(unknown_action_or_key::check),
    ),
    (
        &inert_key_policy_statement::RULE,
        Check::Doc(inert_key_policy_statement::check),
    ),
    (
        &iam_only_action_in_key_policy::RULE,
        Check::Doc(iam_only_action_in_key_policy::check),
    ),
    (
        &unique_id_principal::RULE,
        Check::Doc(unique_id_principal::check),
    ),
    (
        &partial_wildcard_principal::RULE,
        Check::Doc(partial_wildcard_principal::check),
    ),
    (
        &cross_account_unusable_action::RULE,
        Check::Key(cross_account_unusable_action::check),
    ),
    (
        &grant_without_context::RULE,
        Check::Grant(grant_without_context::check),
    ),
    (
        &lockout_check_bypassed::RULE,
        Check::Declared(lockout_check_bypassed::check),
    ),
    (
        &variables_without_version::RULE,
        Check::Doc(variables_without_version::check),
    ),
    (
        &iam_only_condition_key::RULE,
        Check::Doc(iam_only_condition_key::check),
    ),
    (
        &permissive_allow_construct::RULE,
        Check::Doc(permissive_allow_construct::check),
    ),
    (
        &network_deny_without_carve_out::RULE,
        Check::Doc(network_deny_without_carve_out::check),
    ),
    (
        &create_grant_unscoped::RULE,
        Check::Key(create_grant_unscoped::check),
    ),
    (
        &enum_value_invalid::RULE,
        Check::Doc(enum_value_invalid::check),
    ),
    (
        &wildcard_admin_actions::RULE,
        Check::Doc(wildcard_admin_actions::check),
    ),
    (&duplicate_key::RULE, Check::Doc(duplicate_key::check)),
    (
        &alias_in_identity_resource::RULE,
        Check::Doc(alias_in_identity_resource::check),
    ),
    (
        &not_principal_without_account::RULE,
        Check::Doc(not_principal_without_account::check),
    ),
    (
        &key_policy_resource_not_star::RULE,
        Check::Doc(key_policy_resource_not_star::check),
    ),
    (
        &non_canonical_case::RULE,
        Check::Doc(non_canonical_case::check),
    ),
    (&confused_deputy::RULE, Check::Key(confused_deputy::check)),
    (&input_rules::INVALID_JSON, Check::None),
    (&input_rules::INVALID_ENCODING, Check::None),
    (&input_rules::INPUT_LIMIT, Check::None),
    (&input_rules::ENCODING_NOTE, Check::None),
    (&grammar::UNKNOWN_ELEMENT, Check::None),
    (&grammar::MISSING_ELEMENT, Check::None),
    (&grammar::WRONG_TYPE, Check::None),
    (&grammar::INVALID_VALUE, Check::None),
    (&grammar::CONFLICTING_ELEMENTS, Check::None),
    (&grammar::UNKNOWN_OPERATOR, Check::None),
    (&grammar::EMPTY_ELEMENT, Check::None),
    (&grammar::PRINCIPAL_NOT_ALLOWED, Check::None),
    (
        &key_policy_limits::RULE,
        Check::Doc(key_policy_limits::check),
    ),
    (&grammar::POLICY_VARIABLE, Check::None),
    (
        &malformed_principal::RULE,
        Check::Doc(malformed_principal::check),
    ),
    (&input_rules::NOT_A_POLICY, Check::None),
    (&input_rules::UNREADABLE, Check::None),
    (&input_rules::INCOMPLETE, Check::None),
    (&input_rules::MALFORMED_INPUT, Check::None),
    (&input_rules::UNKNOWN_VALUE, Check::None),
    (
        &safety_check_would_reject::RULE,
        Check::Key(safety_check_would_reject::check),
    ),
    (&broad_key_admin::RULE, Check::Key(broad_key_admin::check)),
    (
        &no_separation_of_duties::RULE,
        Check::Key(no_separation_of_duties::check),
    ),
    (
        &identity_decrypt_all_keys::RULE,
        Check::Doc(identity_decrypt_all_keys::check),
    ),
    (
        &cross_account_unconditioned::RULE,
        Check::Key(cross_account_unconditioned::check),
    ),
    (
        &rotation_disabled::RULE,
        Check::Declared(rotation_disabled::check),
    ),
    (
        &short_deletion_window::RULE,
        Check::Declared(short_deletion_window::check),
    ),
    (
        &key_without_policy::RULE,
        Check::Declared(key_without_policy::check),
    ),
    (&invalid_config::INVALID_CONFIG, Check::None),
    (&expired_suppression::EXPIRED_SUPPRESSION, Check::None),
    (&grant_too_broad::RULE, Check::Grant(grant_too_broad::check)),
    (
        &key_control_holders::RULE,
        Check::Key(key_control_holders::check),
    ),
    (
        &org_denies_put_key_policy::RULE,
        Check::Key(org_denies_put_key_policy::check),
    ),
    (
        &unknown_global_key::RULE,
        Check::Doc(unknown_global_key::check),
    ),
    (
        &identity_create_grant_all_keys::RULE,
        Check::Doc(identity_create_grant_all_keys::check),
    ),
    (
        &identity_key_admin_all_keys::RULE,
        Check::Doc(identity_key_admin_all_keys::check),
    ),
    (
        &key_unusable_for_crypto::RULE,
        Check::Key(key_unusable_for_crypto::check),
    ),
    (&dead_actions::RULE, Check::Doc(dead_actions::check)),
    (
        &deny_defeats_service_allows::RULE,
        Check::Key(deny_defeats_service_allows::check),
    ),
    (
        &key_policy_resource_other_service::RULE,
        Check::Doc(key_policy_resource_other_service::check),
    ),
    (
        &unknown_region_or_partition::RULE,
        Check::Doc(unknown_region_or_partition::check),
    ),
];

include!(concat!(env!("OUT_DIR"), "/rule_docs.rs"));

/// A rule's documentation (Markdown: what it does, why it is bad, an example, what to use
/// instead, references), from its source file.
pub fn rule_doc(rule: &Rule) -> &'static str {
    RULE_DOCS
        .binary_search_by(|(c, _)| (*c).cmp(rule.code))
        .ok()
        .and_then(|i| RULE_DOCS.get(i))
        .map_or("", |(_, d)| d)
}

/// Every rule, sorted by code.
pub fn rules() -> impl Iterator<Item = &'static Rule> {
    REGISTRY.iter().map(|(r, _)| *r)
}

/// Finds a rule by code (`KMS014`) or name (`partial-wildcard-principal`), ignoring case.
pub fn rule(code_or_name: &str) -> Option<&'static Rule> {
    rules().find(|r| {
        r.code.eq_ignore_ascii_case(code_or_name) || r.name.eq_ignore_ascii_case(code_or_name)
    })
}

/// Runs grammar reporting and every structural rule on one document.
pub fn check_document(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    grammar::report(cx, out);
    for (_, check) in REGISTRY {
        if let Check::Doc(check) | Check::Both(check, _) = check {
            check(cx, out);
        }
    }
}

/// Runs the rules about declared key settings on every key of one input.
pub fn check_declared(
    input: &crate::inventory::Inventory,
    config: &Config,
    out: &mut Vec<Finding>,
) {
    for key in input.planned_keys() {
        let cx = DeclaredKey { key, config };
        let before = out.len();
        for (_, check) in REGISTRY {
            if let Check::Declared(check) = check {
                check(&cx, out);
            }
        }
        // One finding per rule and key: the address is the identity.
        for f in out.iter_mut().skip(before) {
            f.fingerprint = Some(fingerprint(f.rule.code, &key.address, "", ""));
            f.about = Some(About {
                identity: key.address.clone(),
                statement: String::new(),
            });
        }
    }
}

/// Runs the grant rules on every grant of one input.
pub fn check_grants(input: &crate::inventory::Inventory, config: &Config, out: &mut Vec<Finding>) {
    for grant in input.grants() {
        let key_account = grant
            .key_id
            .as_deref()
            .and_then(crate::arn::split_arn)
            .map(|p| p.account.to_owned())
            .or_else(|| {
                grant
                    .issuing_account
                    .as_deref()
                    .and_then(|a| a.split(':').nth(4))
                    .map(str::to_owned)
            })
            .filter(|a| crate::arn::is_account_id(a));
        let cx = GrantContext {
            grant,
            key_account,
            config,
        };
        let before = out.len();
        for (_, check) in REGISTRY {
            if let Check::Grant(check) = check {
                check(&cx, out);
            }
        }
        let identity = grant.key_id.clone().unwrap_or_default();
        let statement = format!("grant {}", grant.label());
        for f in out.iter_mut().skip(before) {
            f.fingerprint = Some(fingerprint(f.rule.code, &identity, &statement, ""));
            f.about = Some(About {
                identity: identity.clone(),
                statement: statement.clone(),
            });
        }
    }
}

/// Runs every key-level rule on one key policy (spec R109–R116 and the semantic catalogue).
pub fn check_key(cx: &keys::KeyLintContext<'_>, out: &mut Vec<Finding>) {
    for (_, check) in REGISTRY {
        if let Check::Key(check) | Check::Both(_, check) = check {
            check(cx, out);
        }
    }
}

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
    pub policy: crate::eval::NamedPolicy,
    /// The key identity the input gives (ARN, key id, Terraform address, logical id), if any.
    pub key: Option<String>,
    /// The key's facts, when its input makes them known.
    pub facts: Option<crate::eval::KeyFacts>,
    /// The account and Region the input reveals (a plan's caller identity and provider).
    pub input_account: Option<String>,
    /// See `input_account`.
    pub input_region: Option<String>,
    /// The policy is created or replaced by its input (a plan or template), not read from AWS.
    pub declared: bool,
    /// The principal that ran the plan, when it says.
    pub plan_caller: Option<String>,
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

/// Runs the key-level rules on every key policy (spec R109–R116, §8).
///
/// `all` holds what every input defined (principals for existence checks; keys described in
/// another file). `account` and `region` (`--account`, `--region`) place key policies whose
/// key is not known; otherwise a policy from a plan takes the account and Region its plan
/// reveals, and a bare policy its own `Resource` ARNs' or principals'.
pub fn check_keys(
    pending: Vec<KeyToCheck>,
    all: &crate::inventory::Inventory,
    sources: &crate::source::SourceMap,
    account: Option<&str>,
    region: Option<&str>,
    config: &Config,
    findings: &mut Vec<Finding>,
) {
    // A lone policy without a key (`get-key-policy` output) and a lone described key, given in
    // separate files, belong together.
    let keyless = pending
        .iter()
        .filter(|k| k.key.is_none() && k.facts.is_none())
        .count();
    let judge = KeyJudge {
        keyless,
        described: all.described_keys(),
        all,
        sources,
        account,
        region,
        config,
    };
    // Each key is judged on its own against the shared inventory. The cores take the keys one
    // at a time (key policies differ a lot in cost), and the answers are merged in input order.
    let workers = if pending.len() >= 64 {
        crate::parallel::cores()
    } else {
        1
    };
    let queue: Vec<std::sync::Mutex<Option<KeyToCheck>>> = pending
        .into_iter()
        .map(|k| std::sync::Mutex::new(Some(k)))
        .collect();
    let judge_one = |_: usize, slot: &std::sync::Mutex<Option<KeyToCheck>>| -> KeyOut {
        // A poisoned slot only means another worker failed: its key is still whole.
        let taken = slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let mut found = Vec::new();
        let stamped = taken.and_then(|kp| {
            let doc = Arc::clone(&kp.policy.doc);
            judge.check(kp, &mut found).map(|id| (doc, id))
        });
        (found, stamped)
    };
    // The key policy's document-level findings, found before the key-level rules ran, are
    // about its key too: stamped in input order, so the first key of a shared policy wins
    // (each key's own findings were stamped as it was judged). They are looked up by source
    // rather than by scanning every finding for every key.
    let mut unstamped: BTreeMap<crate::source::SourceId, Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if f.fingerprint.is_none() {
            unstamped.entry(f.source).or_default().push(i);
        }
    }
    let merge = |_: usize, (found, stamped): KeyOut| {
        if let Some((doc, identity)) = stamped {
            if let (Some(source), Some(at)) = (sources.get(doc.source), unstamped.get(&doc.source))
            {
                let ordered = spans_ordered(&doc);
                for &i in at {
                    if let Some(f) = findings.get_mut(i) {
                        stamp_one(f, &doc, source, &identity, ordered);
                    }
                }
            }
        }
        findings.extend(found);
    };
    crate::parallel::ordered(&queue, workers, 1, queue.len(), judge_one, merge);
}

/// What `check_keys` found for one key, and the key's policy with the identity its findings
/// take.
type KeyOut = (Vec<Finding>, Option<(Arc<PolicyDocument>, String)>);

/// The shared, read-only context every key of `check_keys` is judged against.
struct KeyJudge<'a> {
    /// How many key policies came without their key.
    keyless: usize,
    described: &'a [crate::eval::KeyFacts],
    all: &'a crate::inventory::Inventory,
    sources: &'a crate::source::SourceMap,
    account: Option<&'a str>,
    region: Option<&'a str>,
    config: &'a Config,
}

impl KeyJudge<'_> {
    /// The key-level rules for one key policy; returns the identity its findings take.
    fn check(&self, kp: KeyToCheck, findings: &mut Vec<Finding>) -> Option<String> {
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
        let mut cx = keys::KeyLintContext::new(&kp.policy, source, facts, identity, Some(all));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_and_unique() {
        let codes: Vec<_> = rules().map(|r| r.code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(codes, sorted);
        for r in rules() {
            assert!(r.code.starts_with("KMS") && r.code.len() == 6, "{}", r.code);
            assert!(
                r.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                r.name
            );
        }
    }
}
