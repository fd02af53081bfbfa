//! The edge counters of LLVM's SanitizerCoverage (`-sanitizer-coverage-inline-8bit-counters`):
//! every instrumented module registers its array of one-byte counters at start-up through
//! `__sanitizer_cov_8bit_counters_init`; the compiler increments them inline, so nothing here
//! runs per edge.

use std::sync::Mutex;

/// The registered counter arrays, as (address, length).
static REGIONS: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

/// Called by each instrumented module's constructor, before `main`.
///
/// # Safety
/// `start..stop` is an array of counters that lives as long as the program (the compiler's
/// own section).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __sanitizer_cov_8bit_counters_init(start: *mut u8, stop: *mut u8) {
    let (s, e) = (start as usize, stop as usize);
    if e > s {
        if let Ok(mut r) = REGIONS.lock() {
            if !r.iter().any(|&(a, n)| a == s && n == e - s) {
                r.push((s, e - s));
            }
        }
    }
}

/// Called with the table of program counters (`-sanitizer-coverage-pc-table`); not used.
#[unsafe(no_mangle)]
pub extern "C" fn __sanitizer_cov_pcs_init(_start: *const usize, _stop: *const usize) {}

fn regions() -> Vec<(usize, usize)> {
    REGIONS.lock().map(|r| r.clone()).unwrap_or_default()
}

/// AFL's hit-count buckets: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+.
fn bucket(n: u8) -> u8 {
    match n {
        0 => 0,
        1 => 1,
        2 => 2,
        3 => 4,
        4..=7 => 8,
        8..=15 => 16,
        16..=31 => 32,
        32..=127 => 64,
        _ => 128,
    }
}

#[derive(Debug)]
pub struct Counters;

impl crate::driver::Coverage for Counters {
    fn reset(&self) {
        for (addr, len) in regions() {
            // SAFETY: the region is the compiler's counter array, registered by its
            // constructor and alive for the whole program; zeroing it races only with the
            // compiler's own non-atomic increments, which is how every SanitizerCoverage
            // runtime treats them.
            unsafe { std::ptr::write_bytes(addr as *mut u8, 0, len) };
        }
    }
    fn merge(&self, seen: &mut Vec<u8>) -> usize {
        let mut new = 0;
        let mut base = 0;
        for (addr, len) in regions() {
            // SAFETY: as in `reset`; read only.
            let counters = unsafe { std::slice::from_raw_parts(addr as *const u8, len) };
            if seen.len() < base + len {
                seen.resize(base + len, 0);
            }
            // Most counters are zero: skip them eight at a time.
            for (w, chunk) in counters.chunks(8).enumerate() {
                if chunk.iter().all(|&b| b == 0) {
                    continue;
                }
                for (j, &v) in chunk.iter().enumerate() {
                    if v != 0 {
                        let i = base + w * 8 + j;
                        let b = bucket(v);
                        if seen[i] & b == 0 {
                            seen[i] |= b;
                            new += 1;
                        }
                    }
                }
            }
            base += len;
        }
        new
    }
    fn edges(&self) -> usize {
        regions().iter().map(|&(_, n)| n).sum()
    }
}
