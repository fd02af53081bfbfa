//! Work spread over the cores with its results taken in input order.
//!
//! `check` reads and judges its input files on every core but must merge them in the order
//! given: source ids, the inventory and the first key to claim a shared policy all follow it.
//! [`ordered`] hands the items out a chunk at a time to whichever worker is free (files differ
//! a lot in size), lets the workers run at most a window ahead of the merge (so a walk of many large files never holds
//! all of them at once), and gives each result to the caller's merge step in order.

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, mpsc};

/// How many threads to work on: the cores, at most eight.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(8)
}

/// How far the merge has got, and whether the workers must stop.
#[derive(Default)]
struct Progress {
    merged: usize,
    stop: bool,
    waiting: usize,
}

#[derive(Default)]
struct Gate {
    progress: Mutex<Progress>,
    moved: Condvar,
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, Progress> {
        // A poisoned lock only means a thread panicked; the counters are still whole.
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until chunk `i` is within `ahead` of the merge; false when the workers must stop.
    fn wait_for(&self, i: usize, ahead: usize) -> bool {
        let mut p = self.lock();
        while !p.stop && i >= p.merged.saturating_add(ahead) {
            p.waiting += 1;
            p = self.moved.wait(p).unwrap_or_else(PoisonError::into_inner);
            p.waiting -= 1;
        }
        !p.stop
    }

    fn merged(&self, n: usize) {
        let mut p = self.lock();
        p.merged = n;
        // Waking costs a system call: only when a worker waits.
        if p.waiting > 0 {
            self.moved.notify_all();
        }
    }

    fn stop(&self) {
        self.lock().stop = true;
        self.moved.notify_all();
    }
}

/// Stops the workers when the merge ends, however it ends (a panic in `merge` included), so
/// none is left waiting for a merge that will not come.
struct StopOnDrop<'a>(&'a Gate);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Runs `work` on every item on up to `workers` threads and calls `merge` with each result in
/// item order, on the calling thread, which works too. The items are handed out `chunk` at a time (one
/// hand-over per chunk, not per item: small items would cost more to pass than to do), and
/// workers run at most `ahead` chunks past the merge. With one worker or one chunk everything
/// runs on the calling thread.
///
/// A panic in `work` is a bug: it is raised again on the calling thread once the other
/// workers have stopped, so the run fails as it would have without threads.
pub(crate) fn ordered<T, R, W, M>(
    items: &[T],
    workers: usize,
    chunk: usize,
    ahead: usize,
    work: W,
    mut merge: M,
) where
    T: Sync,
    R: Send,
    W: Fn(usize, &T) -> R + Sync,
    M: FnMut(usize, R),
{
    let chunk = chunk.max(1);
    let chunks = items.len().div_ceil(chunk);
    if workers <= 1 || chunks < 2 {
        for (i, item) in items.iter().enumerate() {
            merge(i, work(i, item));
        }
        return;
    }
    let ahead = ahead.max(workers);
    let gate = Gate::default();
    let next = AtomicUsize::new(0);
    let take = |c: usize| {
        let start = c.saturating_mul(chunk);
        items
            .get(start..items.len().min(start.saturating_add(chunk)))
            .filter(|part| !part.is_empty())
            .map(|part| (start, part))
    };
    let run = |start: usize, part: &[T]| {
        part.iter()
            .enumerate()
            .map(|(k, item)| work(start + k, item))
            .collect::<Vec<R>>()
    };
    let (tx, rx) = mpsc::channel::<(usize, std::thread::Result<Vec<R>>)>();
    let failure = std::thread::scope(|scope| {
        // The calling thread is one of the workers: one thread fewer to start, and what it
        // allocates comes from the main heap.
        for _ in 1..workers.min(chunks) {
            let tx = tx.clone();
            let (gate, next, take, run) = (&gate, &next, &take, &run);
            scope.spawn(move || {
                loop {
                    let c = next.fetch_add(1, Ordering::Relaxed);
                    let Some((start, part)) = take(c) else {
                        break;
                    };
                    if !gate.wait_for(c, ahead) {
                        break;
                    }
                    let result = panic::catch_unwind(AssertUnwindSafe(|| run(start, part)));
                    let failed = result.is_err();
                    if tx.send((c, result)).is_err() || failed {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let _stop = StopOnDrop(&gate);
        let mut early: BTreeMap<usize, Vec<R>> = BTreeMap::new();
        let mut want = 0;
        // Puts a chunk's results in place and merges what is now in order.
        let mut arrive =
            |early: &mut BTreeMap<usize, Vec<R>>, c: usize, results: Vec<R>, want: &mut usize| {
                early.insert(c, results);
                while let Some(results) = early.remove(want) {
                    for (k, r) in results.into_iter().enumerate() {
                        merge(*want * chunk + k, r);
                    }
                    *want += 1;
                }
                gate.merged(*want);
            };
        while want < chunks {
            // Merge what the other workers have finished, then do a chunk here.
            while let Ok((c, result)) = rx.try_recv() {
                match result {
                    Ok(r) => arrive(&mut early, c, r, &mut want),
                    Err(payload) => return Some(payload),
                }
            }
            let c = next.fetch_add(1, Ordering::Relaxed);
            let mine = take(c);
            // Past the window, or nothing left to do here: wait for the others.
            while want < chunks && (mine.is_none() || c >= want.saturating_add(ahead)) {
                let Ok((c2, result)) = rx.recv() else {
                    break;
                };
                match result {
                    Ok(r) => arrive(&mut early, c2, r, &mut want),
                    Err(payload) => return Some(payload),
                }
            }
            match mine {
                Some((start, part)) => arrive(&mut early, c, run(start, part), &mut want),
                None if want < chunks => {
                    // Every other worker has stopped and some chunks never came. That cannot
                    // happen (a worker sends each chunk it takes, its panic included), but if it
                    // did, they are done here rather than lost.
                    let from = want;
                    for c in from..chunks {
                        if !early.contains_key(&c) {
                            if let Some((start, part)) = take(c) {
                                arrive(&mut early, c, run(start, part), &mut want);
                            }
                        }
                    }
                    break;
                }
                None => {}
            }
        }
        None
    });
    if let Some(payload) = failure {
        panic::resume_unwind(payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_merged_in_item_order_whatever_finishes_first() {
        let items: Vec<u64> = (0..500).collect();
        let mut seen = Vec::new();
        ordered(
            &items,
            4,
            3,
            8,
            |i, n| {
                // Early items take longest, so later ones finish first.
                if i % 7 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                n * 2
            },
            |i, r| seen.push((i, r)),
        );
        let expected: Vec<(usize, u64)> = (0..500).map(|i| (i as usize, i * 2)).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn a_panicking_worker_fails_the_call_instead_of_losing_items() {
        let items: Vec<u32> = (0..100).collect();
        let outcome = panic::catch_unwind(|| {
            ordered(
                &items,
                3,
                2,
                4,
                |i, _| {
                    assert!(i != 37, "item 37 is broken");
                    i
                },
                |_, _| {},
            );
        });
        assert!(outcome.is_err());
    }

    #[test]
    fn a_panicking_merge_does_not_leave_workers_waiting() {
        let items: Vec<u32> = (0..100).collect();
        let outcome = panic::catch_unwind(|| {
            ordered(
                &items,
                3,
                1,
                2,
                |i, _| i,
                |i, _| assert!(i != 5, "merge of item 5 fails"),
            );
        });
        assert!(outcome.is_err());
    }
}
