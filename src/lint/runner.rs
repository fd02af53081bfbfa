//! The runner: what each rule sees, and the loops that run the registry's rules on every
//! document, declared key, grant and key policy.

use super::key_context::{KeyJudge, KeyToCheck};
use super::{Check, REGISTRY, grammar, keys};
use crate::diag::{About, Finding, fingerprint, spans_ordered, stamp_one};
use crate::policy::{PolicyDocument, Problem};
use crate::source::SourceFile;
use std::collections::BTreeMap;
use std::sync::Arc;

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

/// A grant, with what is known of its key's account.
#[derive(Debug)]
pub struct GrantContext<'a> {
    /// The grant.
    pub(crate) grant: &'a crate::grant::Grant,
    /// The key's account: from the grant's key ARN, else its issuing account.
    pub(crate) key_account: Option<String>,
    /// The settings the rules read.
    pub(crate) config: &'a Config,
}

impl GrantContext<'_> {
    /// AWS services create grants for the resources they encrypt (EBS volumes, RDS
    /// instances…): a service grantee or retiring principal, or an encryption-context
    /// constraint on the service's own `aws:` keys.
    pub(crate) fn made_by_service(&self) -> bool {
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
    pub(crate) min_deletion_window: u64,
    /// The principal that deploys key policies (`--deployer`); a plan's own caller otherwise.
    pub(crate) deployer: Option<String>,
    /// Accounts the exposure rules treat as the owner's (besides the key's own).
    pub(crate) trusted_accounts: Vec<String>,
    /// The owner's organisation id (`o-…`).
    pub(crate) organisation: Option<String>,
    /// Principals that are key administrators by design.
    pub(crate) admins: Vec<String>,
    /// The rules that run (`--select`/`--ignore`): a rule that does not run asks the engine
    /// nothing.
    pub(crate) run: RuleSet,
}

/// Which of the registry's rules run: every one, or those a `--select`/`--ignore` leaves.
/// Rules reported by the input readers and the parser are not in it: they always run, and
/// their findings are filtered afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleSet {
    /// Bit `i`: the registry's `i`-th rule does not run.
    off: u128,
}

// One bit per rule.
const _: () = assert!(REGISTRY.len() <= 128);

impl RuleSet {
    /// Every rule.
    pub(crate) const ALL: RuleSet = RuleSet { off: 0 };

    /// The rules `keep` says yes to.
    pub(crate) fn only(keep: impl Fn(&'static super::Rule) -> bool) -> RuleSet {
        let off = REGISTRY
            .iter()
            .enumerate()
            .filter(|(_, (rule, _))| !keep(rule))
            .fold(0u128, |off, (i, _)| off | (1u128 << i));
        RuleSet { off }
    }

    /// Whether the registry's `i`-th rule runs.
    fn runs(self, i: usize) -> bool {
        i >= 128 || self.off & (1u128 << i) == 0
    }

    /// The checks that run, with their registry entry.
    fn checks(self) -> impl Iterator<Item = &'static Check> {
        REGISTRY
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.runs(*i))
            .map(|(_, (_, check))| check)
    }

    /// Whether any key-level rule runs: else a key policy's probes are not even set up.
    pub(crate) fn any_key_rule(self) -> bool {
        self.checks()
            .any(|c| matches!(c, Check::Key(_) | Check::Both(_, _)))
    }
}

impl Default for RuleSet {
    fn default() -> Self {
        RuleSet::ALL
    }
}

impl Config {
    /// The settings without a configuration file.
    pub(crate) const DEFAULT: Config = Config {
        // AWS's own default; the API allows 7 to 30 days.
        min_deletion_window: 30,
        deployer: None,
        trusted_accounts: Vec::new(),
        organisation: None,
        admins: Vec::new(),
        run: RuleSet::ALL,
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
    pub(crate) key: &'a crate::model::PlannedKey,
    /// The settings the rules read.
    pub(crate) config: &'a Config,
}

/// Runs grammar reporting and every structural rule on one document.
pub fn check_document(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    check_document_with(cx, RuleSet::ALL, out);
}

/// Runs grammar reporting and the structural rules of `run` on one document.
pub fn check_document_with(cx: &LintContext<'_>, run: RuleSet, out: &mut Vec<Finding>) {
    grammar::report(cx, out);
    for check in run.checks() {
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
        for check in config.run.checks() {
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
        for check in config.run.checks() {
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

/// Runs the key-level rules the context's settings leave (every one by default) on one key
/// policy (spec R109–R116 and the semantic catalogue). The probes are asked lazily by the
/// rules, so a rule that does not run costs no evaluation.
pub fn check_key(cx: &keys::KeyLintContext<'_>, out: &mut Vec<Finding>) {
    for check in cx.config.run.checks() {
        if let Check::Key(check) | Check::Both(_, check) = check {
            check(cx, out);
        }
    }
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
        // Indexed here, on the cores, rather than one by one as the report is written.
        for f in &found {
            judge.sources.prepare_locations(f.source);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{KeyFacts, NamedPolicy};
    use crate::policy::PolicyKind;
    use crate::source::SourceId;

    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    /// A key policy several key-level rules speak about: anyone may decrypt, and a role
    /// rather than the account holds `kms:*`.
    const POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
        {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Admin"},
         "Action": "kms:*", "Resource": "*"}]}"#;

    /// The codes the key-level rules of `run` report on `POLICY`, sorted.
    fn key_codes(run: RuleSet) -> Vec<&'static str> {
        let Ok(j) = crate::json::parse(POLICY) else {
            return vec!["unparsed"];
        };
        let (doc, _) = crate::policy::parse_policy(&j, SourceId::NONE, PolicyKind::Key);
        let policy = NamedPolicy {
            name: "kp".into(),
            doc: Arc::new(doc),
        };
        let Ok(facts) = KeyFacts::from_arn(KEY) else {
            return vec!["no key"];
        };
        let config = Config {
            run,
            ..Config::DEFAULT
        };
        let mut cx = keys::KeyLintContext::new(&policy, facts, "k".into(), None);
        cx.config = &config;
        let mut out = Vec::new();
        check_key(&cx, &mut out);
        let mut codes: Vec<_> = out.iter().map(|f| f.rule.code).collect();
        codes.sort_unstable();
        codes.dedup();
        codes
    }

    /// `--select` of one key-level rule runs that rule alone (the others ask the engine
    /// nothing), and a selection of document rules only runs no key-level rule at all.
    #[test]
    fn only_the_selected_key_rules_run() {
        let all = key_codes(RuleSet::ALL);
        assert!(all.contains(&"KMS005"), "{all:?}");
        assert!(all.len() >= 2, "{all:?}");
        let public = RuleSet::only(|r| r.code == "KMS005");
        assert!(public.any_key_rule());
        assert_eq!(key_codes(public), vec!["KMS005"]);
        let document_only = RuleSet::only(|r| r.code == "KMS014");
        assert!(!document_only.any_key_rule());
        assert!(key_codes(document_only).is_empty());
        assert_eq!(key_codes(RuleSet::only(|_| true)), all);
    }
}
