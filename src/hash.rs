//! Maps for in-process lookups on hot paths, keyed by ARNs, action names and addresses.
//!
//! The standard library's SipHash resists hash flooding from untrusted keys, at several
//! times foldhash's cost on the short strings these maps hold; it was a tenth of a wide key
//! policy's cost and 4% of a 100,000-request batch. foldhash (already built as `hashbrown`'s
//! hasher) is not cryptographic: its `RandomState` seeds each map at random (a per-process seed
//! and one per map), which its authors call minimal resistance: colliding keys cannot be
//! written into an input without knowing the seeds of the run that reads it. A map made with
//! it is never iterated where output depends on the order.

pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub(crate) type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// A [`FastMap`] with room for `n` entries before it grows.
pub(crate) fn map_with<K, V>(n: usize) -> FastMap<K, V> {
    FastMap::with_capacity_and_hasher(n, foldhash::fast::RandomState::default())
}
