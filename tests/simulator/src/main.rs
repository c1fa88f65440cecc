//! `rocketchat-sim`: run the simulator. Prints `ROCKETCHAT_SIM_URL=http://HOST:PORT` on stdout
//! once it accepts connections; logs go to stderr.

use std::time::Duration;

use rocketchat_sim::{SimConfig, Simulator};

const USAGE: &str =
    "usage: rocketchat-sim [--host ADDR] [--port N] [--profile 6|7|8|9] [--seed FILE]
                     [--greeting | --no-greeting] [--heartbeat SECONDS] [--no-rate-limit]
                     [--print-seed]

A Rocket.Chat server simulator: DDP at /websocket, REST at /api, control API at /_sim.
Binds 127.0.0.1 on a free port by default. State lives in memory only.";

fn parse_args() -> Result<SimConfig, String> {
    let mut cfg = SimConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--host" => {
                cfg.host = value("--host")?
                    .parse()
                    .map_err(|e| format!("--host: {e}"))?
            }
            "--port" => {
                cfg.port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?
            }
            "--profile" => cfg.profile = value("--profile")?.parse()?,
            "--seed" => {
                let path = value("--seed")?;
                let text =
                    std::fs::read_to_string(&path).map_err(|e| format!("--seed {path}: {e}"))?;
                cfg.seed =
                    Some(serde_json::from_str(&text).map_err(|e| format!("--seed {path}: {e}"))?);
            }
            "--greeting" => cfg.greeting = Some(true),
            "--no-greeting" => cfg.greeting = Some(false),
            "--heartbeat" => {
                let s: f64 = value("--heartbeat")?
                    .parse()
                    .map_err(|e| format!("--heartbeat: {e}"))?;
                cfg.heartbeat_interval = Duration::from_secs_f64(s);
                cfg.heartbeat_timeout = Duration::from_secs_f64(s);
            }
            "--no-rate-limit" => {
                cfg.settings.rest_rate_limiter = false;
                cfg.settings.ddp_rate_limiter = false;
            }
            "--print-seed" => {
                print!("{}", rocketchat_sim::seed::DEFAULT_SEED);
                std::process::exit(0);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(cfg)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let cfg = match parse_args() {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("rocketchat-sim: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let profile = cfg.profile;
    let sim = match Simulator::start(cfg).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("rocketchat-sim: cannot listen: {e}");
            std::process::exit(1);
        }
    };
    println!("ROCKETCHAT_SIM_URL={}", sim.url());
    eprintln!(
        "rocketchat-sim: Rocket.Chat {} profile at {} (DDP {}; control API {}/_sim)",
        profile.label(),
        sim.url(),
        sim.ws_url(),
        sim.url()
    );
    let _ = tokio::signal::ctrl_c().await;
}
