//! The benchmark floor: read files and parse each with serde_json, nothing else. Every file
//! argument is parsed (`.jsonl`: each line); a directory is read file by file (`*.json`, sorted), as `check` would.
//! `cargo run --release --example parse_floor -- FILE|DIR…`
#![allow(clippy::print_stdout, reason = "prints the one number it measures")]

fn parse(path: &std::path::Path, count: &mut usize) -> bool {
    if path.is_dir() {
        let Ok(rd) = std::fs::read_dir(path) else {
            return false;
        };
        let mut entries: Vec<std::path::PathBuf> =
            rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        return entries
            .iter()
            .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "json"))
            .all(|p| parse(p, count));
    }
    let Ok(text) = std::fs::read(path) else {
        return false;
    };
    if path.extension().is_some_and(|e| e == "jsonl") {
        // One JSON value per line (`can --requests`).
        return text
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .all(|l| serde_json::from_slice::<serde_json::Value>(l).is_ok());
    }
    match serde_json::from_slice::<serde_json::Value>(&text) {
        Ok(v) => {
            *count += usize::from(v.is_object());
            true
        }
        Err(_) => false,
    }
}

fn main() -> std::process::ExitCode {
    let paths: Vec<std::path::PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    if paths.is_empty() {
        return std::process::ExitCode::from(2);
    }
    let mut count = 0;
    for p in &paths {
        if !parse(p, &mut count) {
            return std::process::ExitCode::from(1);
        }
    }
    println!("{count}");
    std::process::ExitCode::SUCCESS
}
