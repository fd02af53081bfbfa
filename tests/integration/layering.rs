//! The layers run one way: no module under `src/` names a module of a layer above its own.
//! The order is the one `docs/ARCHITECTURE.md` draws; a module may use its own layer and any
//! layer below. Paths are read from the text (`crate::x`, `use crate::{x, …}`), comments
//! skipped, so a new upward import fails here whatever file it is in.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Bottom first. Modules in one layer may use each other.
const LAYERS: &[&[&str]] = &[
    &[
        "source", "json", "arn", "pattern", "catalog", "parallel", "hash",
    ],
    &["policy", "grant"],
    &["diag"],
    &["model"],
    &["eval"],
    &["input"],
    &["managed"],
    &["inventory"],
    &["graph"],
    &["lint", "diff"],
    &["config"],
    &["report"],
    &["cli"],
    &["app"],
];

/// Known upward imports, each with the reason it is tolerated: (file, module it names).
const ALLOWED: &[(&str, &str, &str)] = &[(
    "src/graph/export.rs",
    "report",
    "DOT and Mermaid escaping is pure text handling that lives in `report::escape`; it should \
     move below `graph` with the export split",
)];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file under `src/` belongs to (`src/lint/keys.rs` → `lint`).
fn owner(rel: &Path) -> Option<String> {
    let first = rel.components().nth(1)?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_owned())
}

/// The text without `//` comments (doc comments name modules in prose).
fn code_only(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            // Keep `//` inside string literals such as URLs: only a comment at the start of
            // the trimmed line, or after code ending in whitespace, is cut.
            Some(i) if l.get(..i).is_some_and(|h| h.matches('"').count() % 2 == 0) => {
                l.get(..i).unwrap_or("")
            }
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every top-level module the text names through `crate::`.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in text.match_indices("crate::") {
        let rest = text.get(i + "crate::".len()..).unwrap_or("");
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::c, d::{e, f}}`: the first segment of each top-level item.
            let mut depth = 0usize;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        start = false;
                        let name = ident(group.get(j..).unwrap_or(""));
                        if !name.is_empty() {
                            out.insert(name);
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

#[test]
fn no_module_imports_a_layer_above_its_own() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    assert!(files.len() > 50, "src/ not found under {}", root.display());
    let mut unknown = Vec::new();
    let mut upward = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(root).unwrap_or(f);
        let rel_s = rel.to_string_lossy().replace('\\', "/");
        let Some(module) = owner(rel) else { continue };
        // The crate root and the binary sit above every layer.
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(own) = layer_of(&module) else {
            unknown.push(rel_s.clone());
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for named in named_modules(&code_only(&text)) {
            let Some(theirs) = layer_of(&named) else {
                continue;
            };
            let allowed = ALLOWED
                .iter()
                .any(|(file, m, _)| *file == rel_s && *m == named);
            if theirs > own && !allowed {
                upward.push(format!("{rel_s} ({module}) imports {named}"));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "modules missing from the layer list (add them to LAYERS and docs/ARCHITECTURE.md): {unknown:?}"
    );
    assert!(
        upward.is_empty(),
        "imports of a layer above (see docs/ARCHITECTURE.md):\n{}",
        upward.join("\n")
    );
}

#[test]
fn every_allowed_exception_is_still_needed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, module, why) in ALLOWED {
        let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
        assert!(
            named_modules(&code_only(&text)).contains(*module),
            "{file} no longer imports {module}: remove its exception ({why})"
        );
    }
}

#[test]
fn the_reader_finds_grouped_and_nested_paths() {
    let text = "use crate::{diag::Finding, lint::{self, X}, source};\nlet x = crate::eval::run();\n// crate::app in a comment\n";
    let got = named_modules(&code_only(text));
    let want: BTreeSet<String> = ["diag", "lint", "source", "eval"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(got, want);
}

/// Every `--flag` named in the code (not the comments) of the files of `dir`, with the file.
fn flags_in_code(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    let single = dir.with_extension("rs");
    if single.is_file() {
        files.push(single);
    }
    files.sort();
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for line in code_only(&text).lines() {
            for (i, _) in line.match_indices("--") {
                let after = line.get(i + 2..).unwrap_or("");
                if after.starts_with(|c: char| c.is_ascii_lowercase()) {
                    found.push(format!("{}: {}", f.display(), line.trim()));
                    break;
                }
            }
        }
    }
    found
}

#[test]
fn the_engine_suggests_no_command_line_flag() {
    // The engine returns reasons and unknowns as data; `report::words` writes every sentence
    // and every flag hint, once. A `--flag` in a string under `src/eval` is a sentence that
    // escaped the engine's data.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = flags_in_code(&root.join("src/eval"));
    assert!(
        found.is_empty(),
        "flag hints in the engine (move them to src/report/words.rs):\n{}",
        found.join("\n")
    );
    // The check itself sees the hints where they belong.
    assert!(!flags_in_code(&root.join("src/report")).is_empty());
}
