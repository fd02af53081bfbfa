//! The benchmark floor: read a file and parse it with serde_json, nothing else.
//! `cargo run --release --example parse_floor -- FILE`
#![allow(clippy::print_stdout, reason = "prints the one number it measures")]

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        return std::process::ExitCode::from(2);
    };
    let Ok(text) = std::fs::read(&path) else {
        return std::process::ExitCode::from(2);
    };
    match serde_json::from_slice::<serde_json::Value>(&text) {
        Ok(v) => {
            println!("{}", v.is_object());
            std::process::ExitCode::SUCCESS
        }
        Err(_) => std::process::ExitCode::from(1),
    }
}
