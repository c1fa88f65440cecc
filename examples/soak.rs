//! Long fault soak: a simulator, a bot on the core, humans posting steadily into a channel,
//! a private group, a DM and a thread, and random faults (dropped and half-open sockets,
//! refused connections, revoked and expired tokens, 429 and 5xx bursts, slow responses,
//! malformed frames, server restarts) for N minutes. Then it checks that every message reached
//! the bot exactly once and in order per room, that every reply landed exactly once, that
//! nothing panicked and that the core's memory reached a steady state, prints the figures and
//! exits non-zero on any failure.
//!
//! The simulator runs in a child process (this program again, with `--simulator-child`), so
//! the memory judged is the core's alone; both processes' RSS is printed.
//!
//! ```text
//! cargo run --release --example soak -- --minutes 10 --seed 42 [--verbose] [--leak] [--in-process]
//! ```

#[path = "../tests/soak_support/mod.rs"]
mod soak_support;

use soak_support::{run, serve_child, SoakConfig, CHILD_FLAG};

const USAGE: &str = "usage: soak [--minutes N] [--seed S] [--verbose] [--leak]

  --minutes N  minutes of faults (default 5)
  --seed S     fault seed (default 1)
  --verbose    print each fault
  --leak       keep 64 KiB per event received: a deliberate leak the memory check must catch
  --in-process run the simulator in this process (as the CI test does; memory not judged)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut minutes = 5.0f64;
    let mut seed = 1u64;
    let mut verbose = false;
    let mut leak = false;
    let mut in_process = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            CHILD_FLAG => return serve_child(),
            "--minutes" => minutes = args.next().ok_or("--minutes needs a value")?.parse()?,
            "--seed" => seed = args.next().ok_or("--seed needs a value")?.parse()?,
            "--verbose" | "-v" => verbose = true,
            "--leak" => leak = true,
            "--in-process" => in_process = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}").into()),
        }
    }
    if !(minutes > 0.0 && minutes <= 24.0 * 60.0) {
        return Err("--minutes must be in (0, 1440]".into());
    }
    let mut config = SoakConfig::long(seed, minutes);
    config.verbose = verbose;
    config.leak = leak;
    if !in_process {
        let me = std::env::current_exe()?.to_string_lossy().into_owned();
        config.simulator_process = Some((me, vec![CHILD_FLAG.to_owned()]));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = runtime.block_on(run(config));
    report.print();
    let failures = report.failures();
    if failures.is_empty() {
        println!("soak OK");
        Ok(())
    } else {
        for f in &failures {
            eprintln!("FAIL {f}");
        }
        std::process::exit(1)
    }
}
