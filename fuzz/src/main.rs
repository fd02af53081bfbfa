//! The coverage-guided fuzzer: `examples/fuzz/`'s targets, generators, budgets and
//! supervisor, with edge counters as feedback (an input that reaches a new edge, or an edge a
//! new number of times, joins the corpus in `fuzz/corpus/<target>/` and is mutated further).
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    dead_code,
    reason = "a development tool that shares the plain fuzzer's modules"
)]

#[path = "../../examples/fuzz/app_targets.rs"]
mod app_targets;
mod counters;
#[path = "../../examples/fuzz/driver.rs"]
mod driver;
#[path = "../../examples/fuzz/formats.rs"]
mod formats;
#[path = "../../examples/fuzz/generate.rs"]
mod generate;
#[path = "../../examples/fuzz/lib_targets.rs"]
mod lib_targets;
#[path = "../../tests/support/soundness.rs"]
mod soundness;

fn main() -> std::process::ExitCode {
    let corpus = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let cov = counters::Counters;
    driver::main(Some(&cov), Some(corpus))
}
