//! kmsaudit: who can use an AWS KMS key, for what, under which conditions — and why.
//!
//! Data flow: `input` reads files into sources (`source`) and strict JSON (`json`) and produces
//! the world's things (`model`); `policy` models IAM policy documents; `diag` holds findings
//! and rule metadata; `inventory` ties every input together; `eval` decides requests; `lint`
//! holds the rules; `report` renders; `app` wires the commands that `cli` describes. The KMS
//! service reference is compiled in (`catalog`); IAM wildcards and variables live in `pattern`,
//! ARNs in `arn`. `parallel` spreads work over the cores and hands the results back in input
//! order. The layers and their order are drawn in `docs/ARCHITECTURE.md`.

pub mod app;
pub(crate) mod arn;
pub mod catalog;
pub mod cli;
pub(crate) mod config;
pub(crate) mod diag;
pub mod diff;
pub mod eval;
pub mod grant;
pub mod graph;
pub(crate) mod hash;
pub mod input;
pub mod inventory;
pub mod json;
pub mod lint;
pub mod managed;
pub(crate) mod model;
pub(crate) mod parallel;
pub mod pattern;
pub mod policy;
pub mod report;
pub mod source;
