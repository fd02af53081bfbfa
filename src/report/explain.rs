//! `kmsaudit explain`: what each path of a decision means, in words, with what usually makes it
//! fail and what to change. The names are the ones `can`, `who-can` and the graph print
//! (`Path::name`); every path the engine can return has a topic here (the match in
//! [`topic_of`] is exhaustive, so a new path cannot ship without one).

use std::io::{self, Write};

/// One topic: a path (or gate) of the decision.
#[derive(Debug)]
pub(crate) struct Topic {
    /// A short name to type (`root-delegation`).
    pub(crate) slug: &'static str,
    /// The name decisions print (`root delegation + IAM`); for the SCP gate, without its level.
    pub(crate) title: &'static str,
    /// Whether it opens access (an allow path) or closes it (a gate or a deny).
    pub(crate) allows: bool,
    /// What it means and when it holds.
    pub(crate) means: &'static str,
    /// Why it usually does not hold, and what to change.
    pub(crate) fails: &'static str,
}

/// Every topic, in the order the decision takes its steps: the gates and denies first, then
/// the allow paths.
pub(crate) static TOPICS: &[Topic] = &[
    Topic {
        slug: "explicit-deny",
        title: "explicit deny",
        allows: false,
        means: "A Deny statement that applies to the request, in any policy that is in scope (the key policy, the caller's identity policies, its permissions boundary, session policies, SCPs, RCPs, a VPC endpoint policy), refuses it. Nothing overrides an explicit deny: no Allow, no grant, no root delegation. A Deny that cannot be judged (a condition on a value nobody gave) keeps every allow from being certain, so the answer is undetermined rather than allow.",
        fails: "To lift it, find the Deny the answer names and narrow it: its conditions (a `kms:ViaService`, `aws:PrincipalOrgID` or encryption-context test the request does not meet), its `NotPrincipal`/`NotAction`, or the policy it sits in. When the Deny's conditions depend on the request, give those values (`can --context KEY=VALUE`) to see whether it applies.",
    },
    Topic {
        slug: "other-partition",
        title: "caller in another partition",
        allows: false,
        means: "The caller and the key are in different partitions (`aws`, `aws-cn`, `aws-us-gov`…). Principals of another partition match no statement, grant or delegation, so the request is refused before any policy is read.",
        fails: "Nothing in a policy changes it: use a principal of the key's partition.",
    },
    Topic {
        slug: "scp-gate",
        title: "SCP gate",
        allows: false,
        means: "In an AWS Organization, every level from the root down to the caller's account needs a service control policy that allows the action; the first level without one refuses the request, however much the key policy, IAM or a grant allow. SCPs apply to every user and role of a member account, its root user included; not to the management account, and not to service-linked roles. The level is counted from the organisation's root (level 1).",
        fails: "Add the action to an SCP at the level the answer names (or attach `FullAWSAccess` there), or narrow the SCP condition that did not hold.",
    },
    Topic {
        slug: "vpc-endpoint",
        title: "VPC endpoint policy",
        allows: false,
        means: "A request sent through a VPC endpoint (`aws:SourceVpce` given) also needs the endpoint's policy to allow it. Calls an integrated AWS service makes on the caller's behalf do not pass through the caller's endpoint.",
        fails: "Allow the action, key and principal in the endpoint policy, or send the request another way.",
    },
    Topic {
        slug: "cross-account-action",
        title: "action never works across accounts",
        allows: false,
        means: "Some KMS operations never work on a key of another account, whatever the policies say: the key's administration (`PutKeyPolicy`, `ScheduleKeyDeletion`, `EnableKeyRotation`, `TagResource`…) and the alias operations among them. Only the cryptographic operations, `DescribeKey`, `GetPublicKey`, `GetKeyRotationStatus` and the grant operations (`CreateGrant`, `ListGrants`, `RetireGrant`, `RevokeGrant`) work across accounts.",
        fails: "Run the operation from a principal of the key's own account.",
    },
    Topic {
        slug: "no-allow",
        title: "no statement allows",
        allows: false,
        means: "Nothing allows the request, and nothing that could allow it is left open: an implicit deny. This is the usual answer to \"I added `kms:Decrypt` to my IAM policy and still get AccessDenied\": an identity policy counts only when the key policy lets IAM decide (a statement whose principal is the account, `arn:aws:iam::ACCOUNT:root`, allowing the action), or when the key policy names the caller itself.",
        fails: "Read the reasons the answer lists for each path: a key policy that does not delegate to the account (add the root delegation, or a statement naming the role), an identity policy whose `Resource` or conditions do not cover the key, a grant for another principal or operation, for a key of another account, a key policy that names the caller's account while the caller's own IAM does not allow the action.",
    },
    Topic {
        slug: "key-policy",
        title: "key policy names the caller",
        allows: true,
        means: "A key-policy Allow names the caller itself (the user, the role, the session, or `*`) for the action, and its conditions hold. No identity policy is needed. A permissions boundary or session policy still limits a statement that names the caller's role.",
        fails: "The statement must name the principal that signs the request (for a role, the role ARN, not the user who assumed it), list the action (or a wildcard covering it), and its conditions must hold: `kms:ViaService`, `kms:CallerAccount`, encryption context, `aws:PrincipalOrgID`.",
    },
    Topic {
        slug: "root-delegation",
        title: "root delegation + IAM",
        allows: true,
        means: "The key policy allows the key's own account (`arn:aws:iam::ACCOUNT:root`) the action, which lets IAM decide; an identity policy of the caller then allows it too, within the caller's permissions boundary and session policies. The default key policy does exactly this for `kms:*`.",
        fails: "Both halves must hold: the key-policy statement naming the account must cover the action and its conditions must hold, and an identity policy attached to the caller (or its groups) must allow the action on this key's ARN (a `Resource` of `*` or the key ARN, not an alias ARN).",
    },
    Topic {
        slug: "cross-account",
        title: "cross-account: key policy + caller's IAM",
        allows: true,
        means: "A key of another account needs both accounts to agree: the key's policy allows the caller's account (or the caller), and the caller's own identity policies allow the action on the key's ARN. That account's root user needs no identity policy: a statement naming its account is enough.",
        fails: "Check each half: the key policy in the key's account must name the caller's account or the caller; the caller's IAM policy must name the key by its full ARN (aliases do not work across accounts).",
    },
    Topic {
        slug: "service-principal",
        title: "key policy names the service",
        allows: true,
        means: "An AWS service calling with its own service principal (`cloudtrail.amazonaws.com`, `logs.us-east-1.amazonaws.com`…) is allowed only by a key-policy statement that names it (or `*`); identity policies do not apply to it.",
        fails: "Name the service principal in the key policy, with the conditions AWS documents for that service (`aws:SourceArn`, `aws:SourceAccount`, encryption context).",
    },
    Topic {
        slug: "grant",
        title: "grant",
        allows: true,
        means: "A grant on the key gives its grantee the grant's operations, without any policy. It must be on this key (by full ARN: a grant on one Region's copy of a multi-Region key gives nothing on a replica), name the caller, list the operation, and its encryption-context constraints must hold for the request. A grant that names the caller (or its role) needs no identity policy, in the key's account or another, and a permissions boundary does not limit it; a grant whose grantee is a whole account counts for the principals of that account whose IAM allows the operation.",
        fails: "Check the grantee (a grant to a role covers its sessions; one to a session covers only that session), the operations, and the constraints (`EncryptionContextEquals` needs the exact context; `EncryptionContextSubset` needs those pairs among the request's).",
    },
    Topic {
        slug: "retire-grant",
        title: "the grant's own retire terms",
        allows: true,
        means: "Retiring a grant is decided by the grant itself: its retiring principal, its grantee when its operations include `RetireGrant`, or principals of the account that created it whose IAM allows `kms:RetireGrant`. A key policy's `kms:RetireGrant` has no effect.",
        fails: "Retire with the grant's retiring principal or grantee, or give the grant a retiring principal when it is created.",
    },
    Topic {
        slug: "root-user",
        title: "root user of the account (no key resource)",
        allows: true,
        means: "For a check that has no key resource (creating a key, listing keys, an alias half), an account's root user has every permission in its own account.",
        fails: "Only the root user of that same account takes this path.",
    },
    Topic {
        slug: "identity-only",
        title: "identity policies (no key resource)",
        allows: true,
        means: "A check that has no key resource (`kms:CreateKey`, `kms:ListKeys`, the alias half of an alias operation) is decided by the caller's identity policies alone, within its boundary, session policies and SCPs. Aliases under `alias/aws/` are reserved for AWS.",
        fails: "Allow the action in an identity policy of the caller; for an alias, on the alias ARN (`arn:aws:kms:REGION:ACCOUNT:alias/NAME`).",
    },
];

/// The topic of a path the engine returned. Compiled for the tests, which hold that every
/// path has a page: a new `Path` variant fails to compile here until it has one.
#[cfg(test)]
fn topic_of(path: &crate::eval::Path) -> &'static Topic {
    use crate::eval::Path;
    let slug = match path {
        Path::ExplicitDeny => "explicit-deny",
        Path::OtherPartition => "other-partition",
        Path::ScpGate(_) => "scp-gate",
        Path::VpcEndpoint => "vpc-endpoint",
        Path::CrossAccountAction => "cross-account-action",
        Path::NoAllow => "no-allow",
        Path::KeyPolicyNamesCaller => "key-policy",
        Path::RootDelegationIam => "root-delegation",
        Path::CrossAccountKeyPolicyIam => "cross-account",
        Path::ServicePrincipal => "service-principal",
        Path::Grant => "grant",
        Path::RetireByGrant => "retire-grant",
        Path::RootUser => "root-user",
        Path::IdentityOnly => "identity-only",
    };
    TOPICS.iter().find(|t| t.slug == slug).unwrap_or(&FALLBACK)
}

/// Never reached: every slug of [`topic_of`] is in [`TOPICS`] (a test holds it).
#[cfg(test)]
static FALLBACK: Topic = Topic {
    slug: "no-allow",
    title: "no statement allows",
    allows: false,
    means: "",
    fails: "",
};

/// The topic a user typed: a slug (`root-delegation`), or a path's name as decisions print
/// it (`root delegation + IAM`, `SCP gate at organisation level 2`), in any case.
pub(crate) fn find(query: &str) -> Option<&'static Topic> {
    let q = query.trim().to_ascii_lowercase();
    let q = q.strip_prefix("path:").map(str::trim).unwrap_or(&q);
    TOPICS.iter().find(|t| {
        t.slug == q
            || t.title.eq_ignore_ascii_case(q)
            || (t.slug == "scp-gate" && q.starts_with("scp gate"))
    })
}

/// Prints one topic.
pub(crate) fn render_topic(t: &Topic, out: &mut dyn Write) -> io::Result<()> {
    let kind = if t.allows {
        "a path that allows"
    } else {
        "a step that refuses"
    };
    writeln!(out, "{} ({kind}; `kmsaudit explain {}`)", t.title, t.slug)?;
    writeln!(out)?;
    wrap(t.means, out)?;
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        if t.allows {
            "When it does not hold:"
        } else {
            "What to change:"
        }
    )?;
    wrap(t.fails, out)
}

/// Prints the list of topics.
pub(crate) fn render_list(out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "The steps that refuse a request, in the order they are taken:"
    )?;
    for t in TOPICS.iter().filter(|t| !t.allows) {
        writeln!(out, "  {:<22} {}", t.slug, t.title)?;
    }
    writeln!(out, "The paths that allow one:")?;
    for t in TOPICS.iter().filter(|t| t.allows) {
        writeln!(out, "  {:<22} {}", t.slug, t.title)?;
    }
    writeln!(
        out,
        "`kmsaudit explain NAME` prints one (a name above, or the path a decision printed)."
    )
}

/// Writes `text` in lines of at most 96 columns.
fn wrap(text: &str, out: &mut dyn Write) -> io::Result<()> {
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.len() + 1 + word.len() > 96 {
            writeln!(out, "{line}")?;
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{TOPICS, find, topic_of};
    use crate::eval::Path;

    /// Every path the engine returns has its own topic, found by the name decisions print.
    #[test]
    fn every_path_has_a_topic_found_by_its_printed_name() {
        let paths = [
            Path::ExplicitDeny,
            Path::OtherPartition,
            Path::ScpGate(3),
            Path::VpcEndpoint,
            Path::CrossAccountAction,
            Path::NoAllow,
            Path::KeyPolicyNamesCaller,
            Path::RootDelegationIam,
            Path::CrossAccountKeyPolicyIam,
            Path::ServicePrincipal,
            Path::Grant,
            Path::RetireByGrant,
            Path::RootUser,
            Path::IdentityOnly,
        ];
        let mut slugs: Vec<&str> = Vec::new();
        for p in &paths {
            let t = topic_of(p);
            assert!(!t.means.is_empty(), "{p:?} has no topic");
            let found = find(&p.name()).map(|f| f.slug);
            assert_eq!(
                found,
                Some(t.slug),
                "`{}` does not find its topic",
                p.name()
            );
            slugs.push(t.slug);
        }
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), TOPICS.len(), "a topic no path reaches");
    }
}
