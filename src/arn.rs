//! ARNs, account ids and the principal forms of IAM (spec R1, R4, R24).
//!
//! Owns splitting ARNs into their six parts and classifying a `Principal` value. Knows nothing
//! of policy documents (`policy`) or of requests (`eval`).

/// The six parts of an ARN: `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArnParts<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`…
    pub partition: &'a str,
    /// `iam`, `sts`, `kms`…
    pub service: &'a str,
    /// Region, empty for global services.
    pub region: &'a str,
    /// Account id, empty for some resources.
    pub account: &'a str,
    /// Everything after the fifth colon.
    pub resource: &'a str,
}

/// Splits an ARN at its first five colons; `None` unless it starts with `arn:` and has them.
pub fn split_arn(s: &str) -> Option<ArnParts<'_>> {
    let rest = s.strip_prefix("arn:")?;
    let mut it = rest.splitn(5, ':');
    Some(ArnParts {
        partition: it.next()?,
        service: it.next()?,
        region: it.next()?,
        account: it.next()?,
        resource: it.next()?,
    })
}

/// True for a 12-digit account id.
pub fn is_account_id(s: &str) -> bool {
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
    pub fn account(&self) -> Option<&str> {
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
}

/// Unique-id prefixes of IAM entities (users, roles, groups, policies, instance profiles, keys).
const UNIQUE_ID_PREFIXES: &[&str] = &[
    "AIDA", "AROA", "AGPA", "ANPA", "ANVA", "AIPA", "ASIA", "AKIA",
];

/// Classifies a value under `Principal.AWS`.
pub fn classify_aws_principal(value: &str) -> PrincipalClass {
    if value == "*" {
        return PrincipalClass::Any;
    }
    if is_account_id(value) {
        return PrincipalClass::Account {
            partition: "aws".into(),
            account: value.into(),
        };
    }
    if value.contains('*') || value.contains('?') {
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
            let Some((ty, rest)) = p.resource.split_once('/') else {
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
pub fn classify_service_principal(value: &str) -> PrincipalClass {
    if value.contains('*') || value.contains('?') {
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
pub const UNKNOWN_ACCOUNT: &str = "000000000000";

/// The Region of a planned key when nothing gives one: a stand-in that no real Region
/// equals, so an answer that depends on the Region can be told from one that does not.
pub const UNKNOWN_REGION: &str = "region-unknown";

#[cfg(test)]
mod tests {
    use super::*;

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
    fn arn_split_keeps_colons_in_resource() {
        let p = split_arn("arn:aws:kms:us-east-1:111122223333:key/a:b").unwrap();
        assert_eq!(p.resource, "key/a:b");
        assert!(split_arn("arn:aws:kms").is_none());
    }
}
