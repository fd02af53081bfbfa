//! kmsaudit: who can use an AWS KMS key, for what, under which conditions — and why.
//!
//! Data flow: `input` reads files into sources (`source`) and strict JSON (`json`); `policy`
//! models IAM policy documents; `lint` holds the rules and findings; `report` renders them;
//! `app` wires the commands that `cli` describes. The KMS service reference is compiled in
//! (`catalog`); IAM wildcards and variables live in `pattern`, ARNs in `arn`. `parallel` spreads
//! work over the cores and hands the results back in input order.

pub mod app;
pub mod arn;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod eval;
pub mod grant;
pub mod graph;
pub mod input;
pub mod inventory;
pub mod json;
pub mod lint;
pub mod managed;
pub mod parallel;
pub mod pattern;
pub mod policy;
pub mod report;
pub mod source;
