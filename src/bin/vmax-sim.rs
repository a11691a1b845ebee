//! `vmax-sim`: a persistent Unisphere for VMAX/PowerMax REST simulator.

use clap::Parser;
use std::path::PathBuf;
use terraform_provider_vmax::sim::{Faults, Sim, SimConfig, serve};

/// A stand-in for Unisphere for VMAX/PowerMax: the REST API under
/// /univmax/restapi, a persistent simulated array, and test hooks under /sim
/// (GET /sim/metrics, GET /sim/state, GET|PUT /sim/faults, PUT /sim/write).
#[derive(Parser, Debug)]
#[command(name = "vmax-sim", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: String,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    http: bool,
    /// HTTP Basic user name clients must send.
    #[arg(long, default_value = "smc", env = "VMAX_SIM_USERNAME")]
    username: String,
    /// HTTP Basic password clients must send.
    #[arg(
        long,
        default_value = "smc",
        env = "VMAX_SIM_PASSWORD",
        hide_env_values = true
    )]
    password: String,
    /// State file, written atomically after every change.
    #[arg(long, default_value = "./vmax-sim-state.json")]
    state: PathBuf,
    /// Keep state in memory only (nothing is written).
    #[arg(long)]
    ephemeral: bool,
    /// Directory for the TLS certificate and key (default: beside the state file).
    #[arg(long)]
    cert_dir: Option<PathBuf>,
    /// JSON file describing the arrays to serve, used when there is no state yet.
    #[arg(long)]
    seed_file: Option<PathBuf>,
    /// Unisphere version to report, e.g. V10.4.0.0 or V9.2.1.4.
    #[arg(long, default_value = "V10.4.0.0")]
    unisphere_version: String,
    /// How long an asynchronous job takes to finish, in milliseconds.
    #[arg(long, default_value_t = 200)]
    job_ms: u64,
    /// How long a copy-mode SnapVX link takes to copy fully, and an SRDF pair to synchronize, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    copy_ms: u64,
    /// How long a connection may wait for the client's next bytes, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    read_timeout_ms: u64,
    /// Largest accepted request body, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    max_body_bytes: usize,
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Up to this much more latency, at random, in milliseconds.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    /// Share (0 to 1) of requests answered with 503.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Share (0 to 1) of asynchronous jobs that end FAILED.
    #[arg(long, default_value_t = 0.0)]
    job_failure_rate: f64,
    /// For this long after a volume is made, lookups by its identifier miss it.
    #[arg(long, default_value_t = 0)]
    lookup_lag_ms: u64,
    /// Share (0 to 1) of changes that are made and then answered 503 (a lost answer).
    #[arg(long, default_value_t = 0.0)]
    lost_answer_rate: f64,
    /// Seed for latency, error and job-failure choices (repeatable runs).
    #[arg(long)]
    seed: Option<u64>,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VMAX_SIM_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let a = Args::parse();
    for (name, v) in [
        ("--error-rate", a.error_rate),
        ("--job-failure-rate", a.job_failure_rate),
        ("--lost-answer-rate", a.lost_answer_rate),
    ] {
        if !(0.0..=1.0).contains(&v) {
            eprintln!("vmax-sim: {name} must be between 0 and 1, not {v}");
            std::process::exit(2);
        }
    }
    let cfg = SimConfig {
        username: a.username,
        password: a.password,
        state: if a.ephemeral { None } else { Some(a.state) },
        cert_dir: a.cert_dir,
        seed_file: a.seed_file,
        unisphere_version: a.unisphere_version,
        job_ms: a.job_ms,
        copy_ms: a.copy_ms,
        max_body_bytes: a.max_body_bytes,
        read_timeout: std::time::Duration::from_millis(a.read_timeout_ms.max(1)),
        faults: Faults {
            latency_ms: a.latency_ms,
            jitter_ms: a.jitter_ms,
            error_rate: a.error_rate,
            job_failure_rate: a.job_failure_rate,
            seed: a.seed,
            rules: vec![],
            lookup_lag_ms: a.lookup_lag_ms,
            lost_answer_rate: a.lost_answer_rate,
        },
    };
    let sim = match Sim::open(cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("vmax-sim: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = serve(sim, &a.listen, a.http).await {
        eprintln!("vmax-sim: {e}");
        std::process::exit(1);
    }
}
