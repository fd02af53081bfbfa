//! `KMS066` unknown-global-key (spec R108).
//!
//! ## What it does
//! Flags an `aws:` condition key that is not one of AWS's global condition keys, such as the
//! misspelt `aws:PrincipleOrgID` or `aws:SourceIpAddress` (names are case-insensitive:
//! `aws:SourceIP` is `aws:SourceIp`). Such a key is never in a request. In a `Deny` it is an
//! error: the Deny was written to guard access and does not do what it says — a positive
//! test on the key is always false (the Deny never applies), a negated one always true (it
//! applies to everyone, administrators included).
//!
//! ## Why is this bad?
//! AWS accepts any `aws:` name in a policy without complaint. A misspelt organisation guard
//! in a Deny leaves the key open to every account the Allows admit; in an Allow it makes the
//! statement dead or unconditioned, depending on the operator.
//!
//! ## Example
//! ```json
//! {"Sid": "BadMisspeltOrgGuard", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringNotEqualsIfExists": {"aws:PrincipleOrgID": "o-a1b2c3d4e5"}}}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodOrgGuard", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}
//! ```
//!
//! ## References
//! - IAM User Guide: "AWS global condition context keys"

use super::{Finding, LintContext, Rule, Severity};

pub(crate) static RULE: Rule = Rule {
    code: "KMS066",
    name: "unknown-global-key",
    severity: Severity::Warning,
    spec: "R108",
    summary: "an `aws:` condition key that is not a global condition key is never in a request (an error in a Deny, which then does not guard what it names)",
    input_error: false,
};

/// AWS's global condition keys (IAM User Guide, "AWS global condition context keys"), as
/// AWS spells them; tag keys end with `/`. `aws:PrincipalOrgMasterAccountId` is not in that
/// list but AWS's own managed policies use it (`AWSSSOMasterAccountAdministrator`).
const GLOBAL_KEYS: &[&str] = &[
    "aws:AssumedRoot",
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:ChatbotSourceArn",
    "aws:CurrentTime",
    "aws:Ec2InstanceSourcePrivateIPv4",
    "aws:Ec2InstanceSourceVpc",
    "aws:EpochTime",
    "aws:FederatedProvider",
    "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgMasterAccountId",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:PrincipalTag/",
    "aws:PrincipalType",
    "aws:Referer",
    "aws:RequestedRegion",
    "aws:RequestTag/",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    "aws:ResourceTag/",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceIdentity",
    "aws:SourceIp",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:SourceVpc",
    "aws:SourceVpcArn",
    "aws:SourceVpce",
    "aws:TagKeys",
    "aws:TokenIssueTime",
    "aws:UserAgent",
    "aws:userid",
    "aws:username",
    "aws:ViaAWSService",
    "aws:VpceAccount",
    "aws:VpceOrgID",
    "aws:VpceOrgPaths",
    "aws:VpcSourceIp",
];

/// Whether `lower` (a lower-case `aws:` key) is a global condition key.
pub(crate) fn is_global(lower: &str) -> bool {
    GLOBAL_KEYS.iter().any(|k| match k.strip_suffix('/') {
        Some(prefix) => {
            lower
                .get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
                && lower
                    .get(prefix.len()..)
                    .and_then(|r| r.strip_prefix('/'))
                    .is_some_and(|tag| !tag.is_empty())
        }
        None => k.eq_ignore_ascii_case(lower),
    }) || crate::catalog::condition_key(lower).is_some_and(|k| k.global)
}

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for st in &cx.doc.statements {
        for c in &st.conditions {
            if !c.key_lower.starts_with("aws:") || is_global(&c.key_lower) {
                continue;
            }
            let guard = st.is_deny();
            let effect = match (c.when_absent(), guard) {
                (Some(true), true) => {
                    "the test is always true, so this Deny applies to every caller it names"
                }
                (Some(false), true) => "the test is always false, so this Deny never applies",
                (Some(true), false) => "the test is always true and restricts nothing",
                (Some(false), false) => {
                    "the test is always false, so the statement never allows anything"
                }
                (None, _) => "the test cannot do what it says",
            };
            let mut f = Finding::new(
                &RULE,
                cx.doc.source,
                c.key_span,
                format!(
                    "`{}` is not an AWS global condition key and is never in a request: {effect}",
                    c.key
                ),
                "not a global condition key",
            )
            .in_statement(st);
            f = match suggest(&c.key_lower) {
                Some(s) => f.help(format!("did you mean `{s}`?")),
                None => f.help("see the IAM User Guide's list of AWS global condition keys"),
            };
            if guard {
                f.severity = Severity::Error;
            }
            out.push(f);
        }
    }
}

/// The global key nearest to `lower` by edit distance, when it is near.
fn suggest(lower: &str) -> Option<String> {
    // A known key the name starts with (`aws:SourceIpAddress` → `aws:SourceIp`), the longest.
    let prefix = GLOBAL_KEYS
        .iter()
        .map(|k| k.trim_end_matches('/'))
        .filter(|k| lower.starts_with(&k.to_ascii_lowercase()))
        .max_by_key(|k| k.len());
    if let Some(k) = prefix {
        return Some(k.to_owned());
    }
    let mut best: Option<(usize, &str)> = None;
    for k in GLOBAL_KEYS {
        let k = k.trim_end_matches('/');
        let d = distance(lower, &k.to_ascii_lowercase());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
    }
    let (d, k) = best?;
    (d <= 4).then(|| k.to_owned())
}

/// Levenshtein distance over bytes (keys are ASCII).
fn distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.bytes().enumerate() {
        if let Some(c0) = cur.first_mut() {
            *c0 = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(c) = cur.get_mut(j + 1) {
                *c = sub.min(del).min(ins);
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r108_global_keys_are_case_insensitive_and_tags_need_a_name() {
        assert!(is_global("aws:sourceip"));
        assert!(is_global("aws:principaltag/team"));
        assert!(!is_global("aws:principaltag/"));
        assert!(!is_global("aws:principleorgid"));
        assert!(!is_global("aws:sourceipaddress"));
        assert_eq!(
            suggest("aws:principleorgid").as_deref(),
            Some("aws:PrincipalOrgID")
        );
        assert_eq!(
            suggest("aws:sourceipaddress").as_deref(),
            Some("aws:SourceIp")
        );
    }
}
