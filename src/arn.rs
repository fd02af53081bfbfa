//! ARNs, account ids and the principal forms of IAM (spec R1, R4, R24).
//!
//! Owns splitting ARNs into their six parts and classifying a `Principal` value. Knows nothing
//! of policy documents (`policy`) or of requests (`eval`).

/// The six parts of an ARN: `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ArnParts<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`…
    pub(crate) partition: &'a str,
    /// `iam`, `sts`, `kms`…
    pub(crate) service: &'a str,
    /// Region, empty for global services.
    pub(crate) region: &'a str,
    /// Account id, empty for some resources.
    pub(crate) account: &'a str,
    /// Everything after the fifth colon.
    pub(crate) resource: &'a str,
}

/// `s.split_once(c)` for an ASCII byte `c`, by a plain scan of the bytes. On the short
/// strings of ARNs and action names the standard library's character search costs several
/// times the scan in setting itself up (150 instructions to split `App/session` at its
/// slash), and the engine and a `can` batch split them by the hundred thousand. An ASCII
/// byte never occurs inside a multi-byte character, so both halves are whole text.
pub(crate) fn split_once_byte(s: &str, c: u8) -> Option<(&str, &str)> {
    debug_assert!(c.is_ascii());
    let i = s.bytes().position(|b| b == c)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// What follows the last `c` (an ASCII byte) in `s`, or all of `s`: `rsplit(c).next()` by
/// a plain scan (see [`split_once_byte`]).
pub(crate) fn after_last_byte(s: &str, c: u8) -> &str {
    debug_assert!(c.is_ascii());
    s.bytes()
        .rposition(|b| b == c)
        .and_then(|i| s.get(i + 1..))
        .unwrap_or(s)
}

/// Whether `s` holds any of the ASCII bytes of `set`, by a plain scan (see
/// [`split_once_byte`]).
pub(crate) fn has_any_byte(s: &str, set: &[u8]) -> bool {
    s.bytes().any(|b| set.contains(&b))
}

/// Splits an ARN at its first five colons; `None` unless it starts with `arn:` and has them.
pub(crate) fn split_arn(s: &str) -> Option<ArnParts<'_>> {
    // As `splitn(5, ':')`, by bytes: the engine and a batch split ARNs by the hundred
    // thousand, and the general pattern search cost five times this.
    let field = |s| split_once_byte(s, b':');
    let rest = s.strip_prefix("arn:")?;
    let (partition, rest) = field(rest)?;
    let (service, rest) = field(rest)?;
    let (region, rest) = field(rest)?;
    let (account, resource) = field(rest)?;
    Some(ArnParts {
        partition,
        service,
        region,
        account,
        resource,
    })
}

/// True for a 12-digit account id.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// What a `Principal` value names (spec R24).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalClass {
    /// `"*"` or `{"AWS": "*"}`: every caller.
    Any,
    /// An account: 12 digits or `arn:<p>:iam::<A>:root`.
    Account {
        /// Partition.
        partition: String,
        /// Account id.
        account: String,
    },
    /// `arn:<p>:iam::<A>:user/<path>/<name>`.
    User {
        /// The ARN.
        arn: String,
        /// Account id.
        account: String,
    },
    /// `arn:<p>:iam::<A>:role/<path>/<name>`: every session of the role.
    Role {
        /// The ARN.
        arn: String,
        /// Account id.
        account: String,
    },
    /// `arn:<p>:sts::<A>:assumed-role/<name>/<session>`: exactly that session.
    AssumedRole {
        /// The ARN.
        arn: String,
        /// Account id.
        account: String,
    },
    /// `arn:<p>:sts::<A>:federated-user/<name>`.
    FederatedUser {
        /// The ARN.
        arn: String,
        /// Account id.
        account: String,
    },
    /// Another IAM resource (group, instance profile…): never a caller.
    OtherIam {
        /// The resource type (`group`).
        resource_type: String,
    },
    /// `{"Service": "<svc>.amazonaws.com"}`.
    Service(String),
    /// A unique id (`AIDA…`, `AROA…`): AWS shows these for deleted principals.
    UniqueId,
    /// `{"Federated": …}`: never matches a KMS caller.
    Federated,
    /// `{"CanonicalUser": …}`: never matches a KMS caller.
    CanonicalUser,
    /// A wildcard inside an ARN or id (`arn:aws:iam::*:root`): matches nothing.
    PartialWildcard,
    /// Not a principal AWS understands.
    Malformed(&'static str),
}

impl PrincipalClass {
    /// The account the principal belongs to, when it names one.
    pub(crate) fn account(&self) -> Option<&str> {
        match self {
            PrincipalClass::Account { account, .. }
            | PrincipalClass::User { account, .. }
            | PrincipalClass::Role { account, .. }
            | PrincipalClass::AssumedRole { account, .. }
            | PrincipalClass::FederatedUser { account, .. } => Some(account),
            PrincipalClass::Any
            | PrincipalClass::OtherIam { .. }
            | PrincipalClass::Service(_)
            | PrincipalClass::UniqueId
            | PrincipalClass::Federated
            | PrincipalClass::CanonicalUser
            | PrincipalClass::PartialWildcard
            | PrincipalClass::Malformed(_) => None,
        }
    }

    /// The ARN of a user, role or role session, the principals that are one IAM identity
    /// the engine can be asked about by ARN.
    pub(crate) fn identity_arn(&self) -> Option<&str> {
        match self {
            PrincipalClass::User { arn, .. }
            | PrincipalClass::Role { arn, .. }
            | PrincipalClass::AssumedRole { arn, .. } => Some(arn),
            _ => None,
        }
    }
}

/// Unique-id prefixes of IAM entities (users, roles, groups, policies, instance profiles, keys).
const UNIQUE_ID_PREFIXES: &[&str] = &[
    "AIDA", "AROA", "AGPA", "ANPA", "ANVA", "AIPA", "ASIA", "AKIA",
];

/// Classifies a value under `Principal.AWS`.
pub(crate) fn classify_aws_principal(value: &str) -> PrincipalClass {
    if value == "*" {
        return PrincipalClass::Any;
    }
    if is_account_id(value) {
        return PrincipalClass::Account {
            partition: "aws".into(),
            account: value.into(),
        };
    }
    if has_any_byte(value, b"*?") {
        return PrincipalClass::PartialWildcard;
    }
    if let Some(p) = split_arn(value) {
        return classify_principal_arn(value, &p);
    }
    if UNIQUE_ID_PREFIXES.iter().any(|pre| value.starts_with(pre))
        && value.len() >= 16
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return PrincipalClass::UniqueId;
    }
    PrincipalClass::Malformed("expected `*`, a 12-digit account id, an IAM or STS principal ARN")
}

fn classify_principal_arn(value: &str, p: &ArnParts<'_>) -> PrincipalClass {
    if p.service != "iam" && p.service != "sts" {
        return PrincipalClass::Malformed("principal ARNs are IAM (`iam`) or STS (`sts`) ARNs");
    }
    if p.partition.is_empty() || !p.region.is_empty() {
        return PrincipalClass::Malformed(
            "IAM and STS principal ARNs have a partition and no Region",
        );
    }
    if !is_account_id(p.account) {
        return PrincipalClass::Malformed("the account part must be a 12-digit account id");
    }
    let arn = value.to_owned();
    let account = p.account.to_owned();
    match p.service {
        "iam" => {
            if p.resource == "root" {
                return PrincipalClass::Account {
                    partition: p.partition.into(),
                    account,
                };
            }
            let Some((ty, rest)) = split_once_byte(p.resource, b'/') else {
                return PrincipalClass::Malformed(
                    "expected `root`, `user/…` or `role/…` after the account",
                );
            };
            if rest.is_empty() || rest.ends_with('/') {
                return PrincipalClass::Malformed("the principal name is missing");
            }
            match ty {
                "user" => PrincipalClass::User { arn, account },
                "role" => PrincipalClass::Role { arn, account },
                _ => PrincipalClass::OtherIam {
                    resource_type: ty.into(),
                },
            }
        }
        "sts" => {
            let mut parts = p.resource.split('/');
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some("assumed-role"), Some(r), Some(s), None)
                    if !r.is_empty() && !s.is_empty() =>
                {
                    PrincipalClass::AssumedRole { arn, account }
                }
                (Some("federated-user"), Some(n), None, None) if !n.is_empty() => {
                    PrincipalClass::FederatedUser { arn, account }
                }
                _ => PrincipalClass::Malformed(
                    "expected `assumed-role/<role>/<session>` or `federated-user/<name>`",
                ),
            }
        }
        _ => PrincipalClass::Malformed("principal ARNs are IAM (`iam`) or STS (`sts`) ARNs"),
    }
}

/// Classifies a value under `Principal.Service`.
pub(crate) fn classify_service_principal(value: &str) -> PrincipalClass {
    if has_any_byte(value, b"*?") {
        return PrincipalClass::PartialWildcard;
    }
    let ok = value.ends_with(".amazonaws.com")
        || value.ends_with(".amazonaws.com.cn")
        || value.ends_with(".amazon.com");
    if ok && value.split('.').count() >= 3 {
        PrincipalClass::Service(value.to_owned())
    } else {
        PrincipalClass::Malformed("a service principal looks like `cloudtrail.amazonaws.com`")
    }
}

/// The account a bare key policy's key is assumed to be in when nothing names one (a stand-in
/// that inputs and the key rules share, so that input never reaches up into lint for it).
pub(crate) const UNKNOWN_ACCOUNT: &str = "000000000000";

/// The Region of a planned key when nothing gives one: a stand-in that no real Region
/// equals, so an answer that depends on the Region can be told from one that does not.
pub(crate) const UNKNOWN_REGION: &str = "region-unknown";

/// The partitions AWS has announced, with their Regions (the public `partitions.json` of the
/// AWS SDKs). A Region missing here may be newer than this build: see [`check_region`].
pub(crate) const PARTITIONS: &[(&str, &[&str])] = &[
    (
        "aws",
        &[
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-6",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "mx-central-1",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ],
    ),
    ("aws-cn", &["cn-north-1", "cn-northwest-1"]),
    ("aws-eusc", &["eusc-de-east-1"]),
    ("aws-iso", &["us-iso-east-1", "us-iso-west-1"]),
    ("aws-iso-b", &["us-isob-east-1", "us-isob-west-1"]),
    ("aws-iso-e", &["eu-isoe-west-1"]),
    ("aws-iso-f", &["us-isof-east-1", "us-isof-south-1"]),
    ("aws-us-gov", &["us-gov-east-1", "us-gov-west-1"]),
];

/// What a check of a Region or partition name found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameCheck {
    /// A known name (or one left to a wildcard or variable: nothing to judge).
    Known,
    /// Not a known Region, but shaped like one (`eu-south-9`): taken as a Region newer than
    /// this build, with a note.
    Newer,
    /// Not a name AWS uses, with the nearest known one when one is close.
    Unknown {
        /// The known name it is probably a typo of.
        suggestion: Option<&'static str>,
    },
    /// A known Region in another partition than the ARN's.
    OtherPartition {
        /// The Region's partition.
        partition: &'static str,
    },
}

/// A value a policy leaves to matching or substitution: not a name to judge.
fn is_pattern(s: &str) -> bool {
    s.contains(['*', '?', '$'])
}

fn nearest(
    name: &str,
    known: impl Iterator<Item = &'static str>,
    max: usize,
) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    known
        .map(|k| (crate::catalog::edit_distance(&lower, k), k))
        .filter(|(d, _)| *d <= max)
        .min_by_key(|(d, k)| (*d, *k))
        .map(|(_, k)| k)
}

/// Checks a partition (`aws`, `aws-cn`…). Partitions are few and announced long before use,
/// so an unknown one is a mistake, never taken as newer.
pub(crate) fn check_partition(partition: &str) -> NameCheck {
    if partition.is_empty()
        || is_pattern(partition)
        || PARTITIONS.iter().any(|(p, _)| *p == partition)
    {
        return NameCheck::Known;
    }
    NameCheck::Unknown {
        suggestion: nearest(partition, PARTITIONS.iter().map(|(p, _)| *p), 1),
    }
}

/// The compass words of Region names (`eu-west-1`, `ap-southeast-2`).
const DIRECTIONS: &[&str] = &[
    "central",
    "east",
    "north",
    "northeast",
    "northwest",
    "south",
    "southeast",
    "southwest",
    "west",
];

/// Shaped like a Region: an area of 2 to 4 letters, an optional qualifier (`gov`, `isob`,
/// `de`), a compass word and a number (`us-gov-west-1`, `eusc-de-east-1`).
fn is_region_shaped(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let letters = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase())
    };
    let tail = |area: &str, dir: &str, n: &str| {
        letters(area, 2, 4)
            && DIRECTIONS.contains(&dir)
            && (1..=2).contains(&n.len())
            && n.bytes().all(|b| b.is_ascii_digit())
    };
    match parts.as_slice() {
        [area, dir, n] => tail(area, dir, n),
        [area, qualifier, dir, n] => letters(qualifier, 2, 5) && tail(area, dir, n),
        _ => false,
    }
}

/// Checks a Region, and that it belongs to `partition` when one is given: a known Region is
/// `Known` (or `OtherPartition`), an unknown one shaped like a Region is `Newer`, anything else
/// `Unknown` with the nearest known Region. An empty Region (global services) is `Known`.
pub(crate) fn check_region(region: &str, partition: Option<&str>) -> NameCheck {
    if region.is_empty() || is_pattern(region) {
        return NameCheck::Known;
    }
    let home = PARTITIONS
        .iter()
        .find(|(_, regions)| regions.contains(&region))
        .map(|(p, _)| *p);
    match (home, partition) {
        (Some(home), Some(p))
            if home != p && check_partition(p) == NameCheck::Known && !is_pattern(p) =>
        {
            NameCheck::OtherPartition { partition: home }
        }
        (Some(_), _) => NameCheck::Known,
        (None, _) => {
            let all = || PARTITIONS.iter().flat_map(|(_, r)| r.iter().copied());
            if !is_region_shaped(region) {
                return NameCheck::Unknown {
                    suggestion: nearest(region, all(), 2),
                };
            }
            // Shaped like a Region: new Regions come in known areas (`eu-south-3`) or new
            // ones (`nz-north-1`); only one letter off a known Region in an unknown area
            // (`ue-west-1`) is taken for a typo.
            let area = region.split('-').next().unwrap_or_default();
            let known_area = all().any(|r| r.split('-').next() == Some(area));
            match nearest(region, all(), 1) {
                Some(s) if !known_area => NameCheck::Unknown {
                    suggestion: Some(s),
                },
                _ => NameCheck::Newer,
            }
        }
    }
}

/// One line about a Region or partition name in a flag or an ARN, for a warning or note:
/// `` `eu-wset-1` is not an AWS Region: did you mean `eu-west-1`?``. `None` when nothing is
/// wrong. The second value is true for a warning, false for a note.
pub(crate) fn describe_region_check(region: &str, check: &NameCheck) -> Option<(String, bool)> {
    match check {
        NameCheck::Known => None,
        NameCheck::Newer => Some((
            format!(
                "`{region}` is not a Region this build of kmsaudit knows: taken as a newer Region"
            ),
            false,
        )),
        NameCheck::Unknown {
            suggestion: Some(s),
        } => Some((
            format!("`{region}` is not an AWS Region: did you mean `{s}`?"),
            true,
        )),
        NameCheck::Unknown { suggestion: None } => Some((
            format!("`{region}` is not an AWS Region (Regions look like `eu-west-1`)"),
            true,
        )),
        NameCheck::OtherPartition { partition } => Some((
            format!("Region `{region}` is in partition `{partition}`, not this ARN's"),
            true,
        )),
    }
}

/// Like [`describe_region_check`], for a partition.
pub(crate) fn describe_partition_check(
    partition: &str,
    check: &NameCheck,
) -> Option<(String, bool)> {
    match check {
        NameCheck::Unknown {
            suggestion: Some(s),
        } => Some((
            format!("`{partition}` is not an AWS partition: did you mean `{s}`?"),
            true,
        )),
        NameCheck::Unknown { suggestion: None } => Some((
            format!(
                "`{partition}` is not an AWS partition (known: {})",
                PARTITIONS
                    .iter()
                    .map(|(p, _)| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            true,
        )),
        NameCheck::Known | NameCheck::Newer | NameCheck::OtherPartition { .. } => None,
    }
}

/// Every warning or note about the partition and Region of an ARN, in that order (nothing for
/// a value that is not an ARN). The second value is true for a warning, false for a note.
pub(crate) fn check_arn_names(value: &str) -> Vec<(String, bool)> {
    let Some(p) = split_arn(value) else {
        return Vec::new();
    };
    let partition = check_partition(p.partition);
    let mut out: Vec<(String, bool)> = describe_partition_check(p.partition, &partition)
        .into_iter()
        .collect();
    let known_partition = (partition == NameCheck::Known).then_some(p.partition);
    out.extend(describe_region_check(
        p.region,
        &check_region(p.region, known_partition),
    ));
    out
}

/// The warnings and notes about the Region, partition and ARN flags of a command line
/// (`--region eu-wset-1`), as lines for standard error. They change no answer: an unknown name
/// is judged as written, as AWS would.
pub(crate) fn check_flags(flags: &[(&str, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    for (flag, value) in flags {
        let found = match *flag {
            "--region" => describe_region_check(value, &check_region(value, None))
                .into_iter()
                .collect(),
            "--partition" => describe_partition_check(value, &check_partition(value))
                .into_iter()
                .collect(),
            _ => check_arn_names(value),
        };
        for (text, warning) in found {
            let level = if warning { "warning" } else { "note" };
            out.push(format!("{level}: `{flag} {value}`: {text}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Users, roles and sessions are asked about by their ARN; accounts, `*`, services and
    /// federated principals are not one IAM identity.
    #[test]
    fn identity_arns_are_those_of_users_roles_and_sessions() {
        let arn = |v: &str| classify_aws_principal(v).identity_arn().map(str::to_owned);
        for v in [
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::111122223333:role/path/KeyAdmin",
            "arn:aws:sts::111122223333:assumed-role/KeyAdmin/session",
        ] {
            assert_eq!(arn(v).as_deref(), Some(v));
        }
        for v in ["111122223333", "arn:aws:iam::111122223333:root", "*"] {
            assert_eq!(arn(v), None, "{v}");
        }
        assert_eq!(
            classify_service_principal("logs.amazonaws.com").identity_arn(),
            None
        );
    }

    #[test]
    fn split_arn_splits_as_splitn_did() {
        for s in [
            "arn:aws:kms:us-east-1:111122223333:key/k",
            "arn:aws:iam::111122223333:role/a:b/c",
            "arn:aws:s3:::bucket",
            "arn:aws:sts::1:",
            "arn:aws:kms:r:1",
            "arn:",
            "arn::::",
            "arn:::::",
            "nope:aws:kms:r:1:k",
        ] {
            let old = s.strip_prefix("arn:").and_then(|rest| {
                let mut it = rest.splitn(5, ':');
                Some((it.next()?, it.next()?, it.next()?, it.next()?, it.next()?))
            });
            let new =
                split_arn(s).map(|p| (p.partition, p.service, p.region, p.account, p.resource));
            assert_eq!(new, old, "{s}");
        }
    }

    #[test]
    fn principal_forms_r24() {
        assert_eq!(classify_aws_principal("*"), PrincipalClass::Any);
        assert!(matches!(
            classify_aws_principal("111122223333"),
            PrincipalClass::Account { .. }
        ));
        assert!(matches!(
            classify_aws_principal("arn:aws:iam::111122223333:root"),
            PrincipalClass::Account { .. }
        ));
        assert!(matches!(
            classify_aws_principal("arn:aws:iam::111122223333:role/team/App"),
            PrincipalClass::Role { .. }
        ));
        assert!(matches!(
            classify_aws_principal("arn:aws:sts::111122223333:assumed-role/App/s1"),
            PrincipalClass::AssumedRole { .. }
        ));
        assert_eq!(
            classify_aws_principal("arn:aws:iam::*:root"),
            PrincipalClass::PartialWildcard
        );
        assert_eq!(
            classify_aws_principal("AROAEXAMPLEID1234567"),
            PrincipalClass::UniqueId
        );
        assert!(matches!(
            classify_aws_principal("arn:aws:iam::account-id:root"),
            PrincipalClass::Malformed(_)
        ));
        assert!(matches!(
            classify_service_principal("cloudtrail.amazonaws.com"),
            PrincipalClass::Service(_)
        ));
    }

    #[test]
    fn regions_and_partitions_are_checked_against_the_known_lists() {
        assert_eq!(check_region("eu-west-1", None), NameCheck::Known);
        assert_eq!(
            check_region("eu-wset-1", None),
            NameCheck::Unknown {
                suggestion: Some("eu-west-1")
            }
        );
        // A Region shaped like the others but newer than this build is taken, with a note.
        assert_eq!(check_region("eu-south-3", None), NameCheck::Newer);
        assert_eq!(check_region("nz-north-1", None), NameCheck::Newer);
        assert_eq!(
            check_region("cn-north-1", Some("aws")),
            NameCheck::OtherPartition {
                partition: "aws-cn"
            }
        );
        assert_eq!(check_region("*", None), NameCheck::Known);
        assert_eq!(check_partition("aws-us-gov"), NameCheck::Known);
        assert_eq!(
            check_partition("aws-foo"),
            NameCheck::Unknown { suggestion: None }
        );
        assert_eq!(
            check_partition("aws-cm"),
            NameCheck::Unknown {
                suggestion: Some("aws-cn")
            }
        );
        assert_eq!(
            check_flags(&[("--region", "eu-wset-1")]),
            [
                "warning: `--region eu-wset-1`: `eu-wset-1` is not an AWS Region: did you mean `eu-west-1`?"
            ]
        );
        assert!(check_arn_names("arn:aws:kms:us-east-1:111122223333:key/k").is_empty());
    }

    #[test]
    fn arn_split_keeps_colons_in_resource() {
        let p = split_arn("arn:aws:kms:us-east-1:111122223333:key/a:b").unwrap();
        assert_eq!(p.resource, "key/a:b");
        assert!(split_arn("arn:aws:kms").is_none());
    }

    /// The byte scans answer as the standard library's character searches do, on ARNs,
    /// strings without the byte, the byte at either end, and text with multi-byte characters
    /// on both sides of it.
    #[test]
    fn byte_scans_agree_with_the_standard_searches() {
        let texts = [
            "",
            "/",
            "//",
            "App/session",
            "/lead",
            "trail/",
            "path/to/Role",
            "arn:aws:sts::111122223333:assumed-role/App/s",
            "kms:Decrypt",
            "no separator at all",
            "é/ü/日本",
            "日本:語*",
            "ŊŊ?",
        ];
        for t in texts {
            for c in [b'/', b':'] {
                let ch = char::from(c);
                assert_eq!(split_once_byte(t, c), t.split_once(ch), "{t:?} {ch}");
                assert_eq!(
                    Some(after_last_byte(t, c)),
                    t.rsplit(ch).next(),
                    "{t:?} {ch}"
                );
            }
            assert_eq!(has_any_byte(t, b"*?"), t.contains(['*', '?']), "{t:?}");
        }
    }
}
