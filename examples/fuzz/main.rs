//! A fuzzer for every parser, loader, the lint pipeline, the evaluator and the commands, on
//! the stable toolchain: mutation of fixture bytes for the readers, structure-aware
//! generators for the commands, and a time and memory budget per input (see `driver.rs`).
//! This build has no coverage feedback; `fuzz/` builds the same loop with it (see
//! SECURITY.md).
//!
//! ```sh
//! cargo run --release --example fuzz -- all --seconds 60       # every target, a minute in all
//! cargo run --release --example fuzz -- eval --execs 2000000   # one target, a number of runs
//! cargo run --release --example fuzz -- replay can fixtures/regressions/can-….tape
//! ```
//!
//! Library targets (mutated bytes): `json`, `policy`, `raw`, `aws-cli`, `authz`,
//! `terraform`, `cfn-json`, `cfn-yaml`, `check`, `eval` (`lib_targets.rs`). Command targets,
//! through `kmsaudit::app::run` with their output checked (`app_targets.rs`): `can`, `graph`,
//! `report` (structure-aware), `config`, `baseline` (mutated bytes). A panic, an input over
//! its time or memory budget, a report that does not parse and a soundness counterexample
//! are failures: the input is written to `fixtures/regressions/` and the run exits 1.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    reason = "a development tool: its modules are shared with `fuzz/`; it reports on the terminal, \
              indexes its own buffers and \
              fails a broken property by panicking"
)]

mod app_targets;
mod driver;
mod formats;
mod generate;
mod lib_targets;
#[path = "../../tests/support/soundness.rs"]
mod soundness;

fn main() -> std::process::ExitCode {
    driver::main(None, None)
}
