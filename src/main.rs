//! The `kmsaudit` binary: parse arguments, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = kmsaudit::cli::Cli::parse();
    let mut stdout = std::io::stdout().lock();
    // Standard error is not locked for the whole run: a worker thread that panics writes its
    // message there before the panic reaches the main thread, and would wait for the lock
    // forever while the main thread waits for it.
    let mut stderr = std::io::stderr();
    match kmsaudit::app::run(cli, &mut stdout, &mut stderr) {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`kmsaudit check … | head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            use std::io::Write as _;
            let _ = writeln!(stderr, "kmsaudit: error: {e}");
            ExitCode::from(2)
        }
    }
}
