//! The fuzzing loop, shared by the plain fuzzer (`cargo run --example fuzz`) and the
//! coverage-guided one (`fuzz/`, the same loop fed by compiler-inserted edge counters).
//!
//! A supervisor runs each target in a worker process (this program again, `--worker`) under
//! an address-space limit (`ulimit -v`), and watches it:
//! - a panic, an input over its time budget, or an input whose peak resident memory grew
//!   past its memory budget (the worker resets the kernel's high-water mark through
//!   `/proc/self/clear_refs` before each input and reads `VmHWM` after it) is a failure the
//!   worker records itself;
//! - a worker that dies (an allocation refused under the address-space limit aborts it) or
//!   stops making progress (an input past twice its time budget) is killed and restarted;
//!   the input it was on (written to a scratch file before each run) is the failure.
//!
//! Every failure's input goes to `fixtures/regressions/`, and the run exits 1.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use crate::{app_targets, lib_targets};

/// Edge counters the compiler inserted, where the build has them.
pub trait Coverage {
    /// Clears the counters before an input.
    fn reset(&self);
    /// Folds the counters of the input just run into `seen` (one bit per edge and hit-count
    /// bucket); returns how many of those bits are new.
    fn merge(&self, seen: &mut Vec<u8>) -> usize;
    /// How many edges the build has counters for.
    fn edges(&self) -> usize;
}

#[derive(Debug, Clone, Copy)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

impl crate::soundness::Tape for Rng {
    fn pick(&mut self, n: usize) -> usize {
        self.below(n)
    }
}

pub fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The last panic message, from any thread (the commands run work on threads of their own).
static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

fn all_targets() -> Vec<&'static str> {
    let mut v = lib_targets::TARGETS.to_vec();
    v.extend(app_targets::TARGETS);
    v
}

struct Args {
    which: String,
    seconds: Option<f64>,
    execs: Option<u64>,
    seed: u64,
    budget: Duration,
    memory_mb: u64,
    address_space_mb: u64,
    corpus: Option<PathBuf>,
    state: Option<PathBuf>,
    worker: bool,
    rest: Vec<String>,
}

fn parse_args(default_corpus: Option<PathBuf>) -> Args {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let num = |name: &str| value(name).and_then(|v| v.parse::<f64>().ok());
    // Positional arguments: those that are neither a flag nor a flag's value.
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--worker" {
        } else if a.starts_with("--") {
            it.next();
        } else {
            rest.push(a.clone());
        }
    }
    Args {
        which: rest.first().cloned().unwrap_or_else(|| "all".into()),
        seconds: num("--seconds"),
        execs: num("--execs").map(|v| v as u64),
        seed: num("--seed").map_or(0x9E37_79B9_7F4A_7C15, |v| v as u64),
        // An input that takes longer than this is a failure, as a panic is: cost must grow
        // with the input, and a 512 KiB input has no business taking seconds.
        budget: Duration::from_millis(num("--budget-ms").map_or(2_000, |v| v as u64)),
        // Growth of the peak resident memory during one input; the targets are
        // 100-200 MiB for the largest shapes.
        memory_mb: num("--memory-mb").map_or(512, |v| v as u64),
        // The worker's address space: a blow-up dies here instead of taking the machine.
        address_space_mb: num("--address-space-mb").map_or(4096, |v| v as u64),
        corpus: value("--corpus").map(PathBuf::from).or(default_corpus),
        state: value("--state").map(PathBuf::from),
        worker: args.iter().any(|a| a == "--worker"),
        rest,
    }
}

/// The entry point of both fuzzers; `corpus` is where the coverage-guided one keeps the
/// inputs that reached new edges.
pub fn main(cov: Option<&dyn Coverage>, corpus: Option<PathBuf>) -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut p) = LAST_PANIC.lock() {
            *p = info.to_string();
        }
    }));
    let args = parse_args(corpus);
    let targets = all_targets();
    if args.which == "replay" {
        return replay(&args);
    }
    if args.which != "all" && !targets.contains(&args.which.as_str()) {
        eprintln!(
            "usage: fuzz [all|{}] [--seconds N | --execs N] [--seed N] [--budget-ms N] \
             [--memory-mb N] [--address-space-mb N] [--corpus DIR]\n       fuzz replay TARGET FILE...",
            targets.join("|")
        );
        return ExitCode::from(2);
    }
    if args.worker {
        return worker(&args, cov);
    }
    supervise(&args, cov.is_some())
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `fixtures/`, found from the crate that is building (the plain fuzzer is the project's
/// example, the coverage-guided one lives in `fuzz/`).
fn fixtures() -> PathBuf {
    let r = root();
    if r.join("fixtures").is_dir() {
        r.join("fixtures")
    } else {
        r.join("../fixtures")
    }
}

fn extension(target: &str) -> &'static str {
    match target {
        "cfn-yaml" => "yaml",
        "config" => "toml",
        "baseline" => "baseline",
        t if app_targets::structured(t) => "tape",
        _ => "json",
    }
}

fn save_failure(target: &str, data: &[u8], msg: &str) {
    let dir = fixtures().join("regressions");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{target}-{:016x}.{}", fnv(data), extension(target)));
    let _ = std::fs::write(&path, data);
    eprintln!("{target}: {msg}\n  input written to {}", path.display());
}

fn status_field(name: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(name))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The worker's resident memory (KiB) before its first input.
fn base_rss() -> u64 {
    static BASE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| status_field("VmRSS:").unwrap_or(0))
}

/// Resets the peak resident set to the current one; false where the kernel does not allow
/// it (the peak then only grows, and a blow-up is still seen on the input that makes it).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn run_target(target: &str, data: &[u8], rng: &mut Rng, scratch: &Path) {
    if app_targets::TARGETS.contains(&target) {
        app_targets::run_one(target, data, scratch);
    } else {
        lib_targets::run_one(target, data, rng);
    }
}

/// A tape mutation: bytes of a structure-aware input are choices, so any byte change is a
/// change of structure.
fn mutate_tape(rng: &mut Rng, data: &mut Vec<u8>, others: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(6) {
        let len = data.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next() as u8;
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            2 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(32);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                data.splice(at..at, bytes);
            }
            3 if len > 2 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(32)).min(len);
                data.drain(a..b);
            }
            4 if !others.is_empty() => {
                let o = &others[rng.below(others.len())];
                if !o.is_empty() {
                    let a = rng.below(o.len());
                    let b = (a + 1 + rng.below(128)).min(o.len());
                    let at = rng.below(len + 1);
                    data.splice(at..at, o[a..b].iter().copied());
                }
            }
            _ => data.extend((0..2 + rng.below(64)).map(|_| rng.next() as u8)),
        }
    }
    data.truncate(16 * 1024);
}

struct Outcome {
    failure: Option<String>,
}

fn run_measured(
    target: &str,
    data: &[u8],
    rng: &mut Rng,
    scratch: &Path,
    args: &Args,
    cov: Option<&dyn Coverage>,
) -> Outcome {
    if let Ok(mut p) = LAST_PANIC.lock() {
        p.clear();
    }
    if let Some(c) = cov {
        c.reset();
    }
    let measured = reset_peak();
    let peak_before = status_field("VmHWM:").unwrap_or(0);
    let one = Instant::now();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_target(target, data, rng, scratch)
    }));
    let took = one.elapsed();
    let peak = status_field("VmHWM:").unwrap_or(0);
    // Against the worker's resident memory at start: the allocator keeps freed pages, so the
    // growth over the memory before one input would miss a blow-up that reuses them.
    let grew_mb = peak.saturating_sub(base_rss()) / 1024;
    let panicked = LAST_PANIC.lock().map(|p| p.clone()).unwrap_or_default();
    let failure = if result.is_err() || !panicked.is_empty() {
        Some(format!("panic: {panicked}"))
    } else if took > args.budget {
        Some(format!(
            "{:.1} s on a {}-byte input, over the budget of {:.1} s",
            took.as_secs_f64(),
            data.len(),
            args.budget.as_secs_f64()
        ))
    } else if grew_mb > args.memory_mb && (measured || peak > peak_before) {
        Some(format!(
            "the peak resident memory grew to {grew_mb} MiB over the worker's start on a {}-byte input, over the budget of {} MiB",
            data.len(),
            args.memory_mb
        ))
    } else {
        None
    };
    Outcome { failure }
}

/// What a worker tells its supervisor, through a file (a worker may die mid-run).
#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    execs: u64,
    failures: u64,
    edges: u64,
    features: u64,
    corpus: u64,
    map: u64,
}

impl Stats {
    fn write(&self, state: &Path, extra: &str) {
        let text = format!(
            "{} {} {} {} {} {}\n{extra}",
            self.execs, self.failures, self.edges, self.features, self.corpus, self.map
        );
        let tmp = state.join("stats.tmp");
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(tmp, state.join("stats"));
        }
    }
    fn read(state: &Path) -> (Stats, String) {
        let text = std::fs::read_to_string(state.join("stats")).unwrap_or_default();
        let (first, extra) = text.split_once('\n').unwrap_or((&text, ""));
        let v: Vec<u64> = first
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        let g = |i: usize| v.get(i).copied().unwrap_or(0);
        (
            Stats {
                execs: g(0),
                failures: g(1),
                edges: g(2),
                features: g(3),
                corpus: g(4),
                map: g(5),
            },
            extra.to_owned(),
        )
    }
}

fn seeds(target: &str, scratch: &Path, rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut all = Vec::new();
    if !app_targets::structured(target) && target != "baseline" {
        lib_targets::walk(&fixtures(), &mut all);
    }
    match target {
        "baseline" => {
            let files: Vec<PathBuf> = ["rules/KMS005.json", "can/tenant-key-policy.json"]
                .iter()
                .map(|f| fixtures().join(f))
                .collect();
            let mut s = app_targets::baseline_seeds(scratch, &files);
            s.push(b"{}".to_vec());
            s
        }
        t if app_targets::structured(t) => (0..32)
            .map(|i| (0..8 << (i % 8)).map(|_| rng.next() as u8).collect())
            .collect(),
        t => lib_targets::seeds_for(t, &all),
    }
}

fn worker(args: &Args, cov: Option<&dyn Coverage>) -> ExitCode {
    let target = args.which.as_str();
    let Some(state) = args.state.clone() else {
        eprintln!("a worker needs --state");
        return ExitCode::from(2);
    };
    let scratch = state.join("scratch");
    let _ = std::fs::create_dir_all(&scratch);
    let mut rng = Rng(args.seed ^ fnv(target.as_bytes()) | 1);
    let seeds = seeds(target, &scratch, &mut rng);
    base_rss();
    let mut seen = Vec::new();
    let mut queue: Vec<Vec<u8>> = Vec::new();
    let mut stats = Stats {
        map: cov.map_or(0, |c| c.edges() as u64),
        ..Stats::default()
    };
    let corpus_dir = args.corpus.as_ref().map(|c| c.join(target));
    let current = state.join("current");
    // The coverage of what earlier runs kept, before any mutation.
    if let (Some(c), Some(dir)) = (cov, &corpus_dir) {
        let _ = std::fs::create_dir_all(dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        for f in files {
            let Ok(data) = std::fs::read(&f) else {
                continue;
            };
            let _ = std::fs::write(&current, &data);
            let mut inner = Rng(rng.next() | 1);
            let o = run_measured(target, &data, &mut inner, &scratch, args, Some(c));
            stats.execs += 1;
            if o.failure.is_none() && c.merge(&mut seen) > 0 {
                queue.push(data);
            }
        }
    }
    let started = Instant::now();
    let deadline = args.seconds.map(Duration::from_secs_f64);
    let mut last_stats = Instant::now();
    let mut n = 0u64;
    loop {
        let done = match (args.execs, deadline) {
            (Some(e), _) => n >= e,
            (None, Some(d)) => started.elapsed() >= d,
            (None, None) => n >= 100_000,
        };
        if done {
            break;
        }
        let from_queue = !queue.is_empty() && rng.below(4) != 0;
        let mut data = if from_queue {
            queue[rng.below(queue.len())].clone()
        } else {
            seeds[rng.below(seeds.len())].clone()
        };
        if app_targets::structured(target) {
            let others = if queue.is_empty() { &seeds } else { &queue };
            mutate_tape(&mut rng, &mut data, others);
        } else {
            lib_targets::mutate(&mut rng, &mut data, &seeds);
        }
        let _ = std::fs::write(&current, &data);
        let mut inner = Rng(rng.next() | 1);
        let o = run_measured(target, &data, &mut inner, &scratch, args, cov);
        n += 1;
        stats.execs += 1;
        if let Some(msg) = o.failure {
            save_failure(target, &data, &msg);
            stats.failures += 1;
            if stats.failures >= 5 {
                break;
            }
        } else if let Some(c) = cov {
            let new = c.merge(&mut seen);
            if new > 0 {
                if let Some(dir) = &corpus_dir {
                    let _ = std::fs::write(dir.join(format!("{:016x}", fnv(&data))), &data);
                }
                queue.push(data);
            }
        }
        if last_stats.elapsed() > Duration::from_millis(500) {
            stats.edges = seen.iter().filter(|&&b| b != 0).count() as u64;
            stats.features = seen.iter().map(|b| u64::from(b.count_ones())).sum();
            stats.corpus = queue.len() as u64;
            stats.write(&state, "");
            last_stats = Instant::now();
        }
    }
    stats.edges = seen.iter().filter(|&&b| b != 0).count() as u64;
    stats.features = seen.iter().map(|b| u64::from(b.count_ones())).sum();
    stats.corpus = queue.len() as u64;
    let mut extra = String::new();
    if target == "eval" {
        let (t, violations, examples) = lib_targets::SOUNDNESS.with(|c| c.borrow().clone());
        extra = format!(
            "soundness  {:>11} questions, {} decided, {} assignments, {violations} counterexample(s)\n",
            t.questions, t.decided, t.assignments
        );
        for e in &examples {
            eprintln!("eval: soundness counterexample: {e}");
        }
        if violations > 0 {
            stats.failures += 1;
        }
    }
    stats.write(&state, &extra);
    if stats.failures > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn supervise(args: &Args, coverage: bool) -> ExitCode {
    let targets: Vec<&str> = if args.which == "all" {
        all_targets()
    } else {
        vec![args.which.as_str()]
    };
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("cannot find this program's path");
        return ExitCode::from(2);
    };
    let state_root = std::env::temp_dir().join(format!("kmsaudit-fuzz-{}", std::process::id()));
    let per_target = args.seconds.map(|s| s / targets.len() as f64);
    // A worker that has been on one input for this long is hung; it is killed.
    let hang = args.budget * 2 + Duration::from_secs(1);
    let mut failed = false;
    let mut total = 0u64;
    for target in targets {
        let state = state_root.join(target);
        let _ = std::fs::create_dir_all(&state);
        let started = Instant::now();
        let mut sum = Stats::default();
        let mut extra = String::new();
        let mut restarts = 0u64;
        let mut deaths = 0u32;
        loop {
            let left = per_target.map(|s| s - started.elapsed().as_secs_f64());
            if left.is_some_and(|l| l <= 0.05) {
                break;
            }
            let execs_left = args.execs.map(|e| e.saturating_sub(sum.execs));
            if execs_left == Some(0) {
                break;
            }
            let _ = std::fs::remove_file(state.join("stats"));
            let _ = std::fs::remove_file(state.join("current"));
            let mut cmd = Command::new("sh");
            cmd.arg("-c")
                .arg("ulimit -v \"$1\" && shift && exec \"$@\"")
                .arg("sh")
                .arg((args.address_space_mb * 1024).to_string())
                .arg(&exe)
                .arg(target)
                .arg("--worker")
                .arg("--state")
                .arg(&state)
                .arg("--seed")
                .arg((args.seed.wrapping_add(restarts)).to_string())
                .arg("--budget-ms")
                .arg(args.budget.as_millis().to_string())
                .arg("--memory-mb")
                .arg(args.memory_mb.to_string());
            if let Some(l) = left {
                cmd.arg("--seconds").arg(format!("{l:.3}"));
            }
            if let Some(e) = execs_left {
                cmd.arg("--execs").arg(e.to_string());
            }
            if let Some(c) = &args.corpus {
                cmd.arg("--corpus").arg(c);
            }
            cmd.env("NO_COLOR", "1").stdout(Stdio::null());
            let mut child = match cmd.spawn() {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("cannot start a worker: {e}");
                    return ExitCode::from(2);
                }
            };
            let mut killed = false;
            let status = loop {
                match child.try_wait() {
                    Ok(Some(s)) => break Some(s),
                    Ok(None) => {}
                    Err(_) => break None,
                }
                let stuck = std::fs::metadata(state.join("current"))
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok())
                    .is_some_and(|d| d > hang);
                if stuck && !killed {
                    let _ = child.kill();
                    killed = true;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            restarts += 1;
            let (s, e) = Stats::read(&state);
            sum.execs += s.execs;
            sum.failures += s.failures;
            sum.edges = sum.edges.max(s.edges);
            sum.features = sum.features.max(s.features);
            sum.corpus = sum.corpus.max(s.corpus);
            sum.map = sum.map.max(s.map);
            extra.push_str(&e);
            match status.and_then(|s| s.code()) {
                Some(0) => break,
                Some(1) => {
                    failed = true;
                    break;
                }
                other => {
                    // The worker died or hung: the input it was on is the failure.
                    let data = std::fs::read(state.join("current")).unwrap_or_default();
                    let why = if killed {
                        format!(
                            "no progress for {:.1} s (a hang or a blow-up)",
                            hang.as_secs_f64()
                        )
                    } else {
                        format!(
                            "the worker died ({}), under an address space of {} MiB",
                            other.map_or("killed by a signal".to_owned(), |c| format!(
                                "exit status {c}"
                            )),
                            args.address_space_mb
                        )
                    };
                    save_failure(target, &data, &why);
                    sum.failures += 1;
                    failed = true;
                    deaths += 1;
                    if deaths >= 5 {
                        break;
                    }
                }
            }
        }
        let secs = started.elapsed().as_secs_f64();
        print!(
            "{target:<10} {:>11} executions in {secs:>7.1} s ({:>9.0}/s), {} failure(s) (panics, over budget or dead workers)",
            sum.execs,
            sum.execs as f64 / secs.max(1e-9),
            sum.failures
        );
        if coverage {
            print!(
                ", {} of {} edges, {} features, corpus {}",
                sum.edges, sum.map, sum.features, sum.corpus
            );
        }
        println!();
        print!("{extra}");
        if extra.contains("counterexample") && !extra.contains(" 0 counterexample") {
            failed = true;
        }
        total += sum.execs;
    }
    let _ = std::fs::remove_dir_all(&state_root);
    println!("total      {total:>11} executions");
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs saved inputs once each, in this process, and prints what a structure-aware one
/// stands for (its files and command line).
fn replay(args: &Args) -> ExitCode {
    let (Some(target), files) = (args.rest.get(1), args.rest.get(2..).unwrap_or_default()) else {
        eprintln!("usage: fuzz replay TARGET FILE...");
        return ExitCode::from(2);
    };
    let scratch = std::env::temp_dir().join(format!("kmsaudit-replay-{}", std::process::id()));
    let mut failed = false;
    for f in files {
        let Ok(data) = std::fs::read(f) else {
            eprintln!("cannot read {f}");
            return ExitCode::from(2);
        };
        if let Some(case) = app_targets::case_of(target, &data) {
            let argv = app_targets::materialise(&case, &scratch);
            println!("{f}: {}", argv.join(" "));
            for (name, bytes) in &case.files {
                println!("--- {name}\n{}", String::from_utf8_lossy(bytes));
            }
        }
        let mut rng = Rng(fnv(&data) | 1);
        let o = run_measured(target, &data, &mut rng, &scratch, args, None);
        match o.failure {
            Some(m) => {
                println!("{f}: FAILS: {m}");
                failed = true;
            }
            None => println!("{f}: passes"),
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
