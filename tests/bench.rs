//! `make bench`: REST calls per operation (issue 14's table) and the scale
//! runs, against vmax-sim with 200 ms jobs and injected latency. Targets are
//! request counts from `/sim/metrics`, which do not depend on machine load;
//! wall times are printed, never asserted. Runs only with `VMAX_BENCH=1`
//! (and TF_ACC=1); `BENCH_*` variables scale it.

mod support;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Instant;
use support::{Sim, Tf};

fn env_num(k: &str, d: f64) -> f64 {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

/// Requests per route between two `/sim/metrics` snapshots.
fn delta(before: &Value, after: &Value) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    if let Some(m) = after["requests"].as_object() {
        for (k, v) in m {
            let d = v.as_u64().unwrap_or(0) - before["requests"][k].as_u64().unwrap_or(0);
            if d > 0 {
                out.insert(k.clone(), d);
            }
        }
    }
    out
}

/// The reads a provider process makes when it is configured (and checks
/// policies at plan time): counted apart from the operations.
fn is_configure(route: &str) -> bool {
    [
        "GET /version",
        "GET /{ver}/system/version",
        "GET /{ver}/system/symmetrix",
        "GET /{ver}/system/symmetrix/{array}",
        "GET /{ver}/sloprovisioning/symmetrix/{array}",
        "GET /{ver}/sloprovisioning/symmetrix/{array}/slo",
        "GET /{ver}/sloprovisioning/symmetrix/{array}/workloadtype",
        "GET /{ver}/sloprovisioning/symmetrix/{array}/srp",
        // the port group and its ports (target IQNs and portals): read once
        // per process, like the service levels (issue 14: configuration)
        "GET /{ver}/sloprovisioning/symmetrix/{array}/portgroup/{pg}",
        "GET /{ver}/system/symmetrix/{array}/director/{dir}/port/{port}",
    ]
    .contains(&route)
}

struct Bench {
    sim: Sim,
    rows: Vec<(String, f64, f64, String)>,
    configure: (u64, u64),
}

impl Bench {
    /// Runs `f` and returns (operation requests, the routes), configure reads apart.
    fn count(&mut self, f: impl FnOnce()) -> (u64, BTreeMap<String, u64>) {
        let before = self.sim.metrics();
        let seen = self
            .sim
            .hook_get("/sim/requests")
            .as_array()
            .map_or(0, Vec::len);
        f();
        let after = self.sim.metrics();
        if std::env::var("BENCH_TRACE").is_ok() {
            // the requests in order (the log keeps the last 2,000)
            let log = self.sim.hook_get("/sim/requests");
            for r in log.as_array().into_iter().flatten().skip(seen) {
                println!(
                    "    {} {} {} {}",
                    r["at_ms"], r["method"], r["path"], r["status"]
                );
            }
        }
        let d = delta(&before, &after);
        let conf: u64 = d
            .iter()
            .filter(|(k, _)| is_configure(k))
            .map(|(_, v)| v)
            .sum();
        let processes = d.get("GET /version").copied().unwrap_or(0);
        self.configure.0 += conf;
        self.configure.1 += processes;
        let ops = d
            .iter()
            .filter(|(k, _)| !is_configure(k))
            .map(|(_, v)| v)
            .sum();
        (ops, d)
    }

    fn row(&mut self, name: &str, got: f64, target: f64, detail: &BTreeMap<String, u64>) {
        let detail = detail
            .iter()
            .filter(|(k, _)| !is_configure(k))
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mark = if got <= target { "ok  " } else { "FAIL" };
        println!("bench: {mark} {name:<46} {got:>7.2} (target <= {target})");
        self.rows.push((name.into(), got, target, detail));
    }

    fn measure(&mut self, name: &str, target: f64, f: impl FnOnce()) {
        let (n, d) = self.count(f);
        self.row(name, n as f64, target, &d);
    }
}

fn volume(res: &str, name: &str, size: u32, slo: &str, extra: &str) -> String {
    format!(
        "resource \"vmax_volume\" \"{res}\" {{\n  name = \"{name}\"\n  size_gb = {size}\n  service_level = \"{slo}\"\n{extra}}}\n"
    )
}

fn export(res: &str, vol: &str, host: &str) -> String {
    format!(
        "resource \"vmax_iscsi_export\" \"{res}\" {{\n  volume_id = vmax_volume.{vol}.id\n  host = \"{host}\"\n  initiator = \"iqn.1993-08.org.debian:01:{host}\"\n}}\n"
    )
}

fn snapshot(res: &str, vol: &str, name: &str) -> String {
    format!(
        "resource \"vmax_snapshot\" \"{res}\" {{\n  volume_id = vmax_volume.{vol}.id\n  name = \"{name}\"\n}}\n"
    )
}

/// Milliseconds from starting the provider to its go-plugin handshake
/// line (median of `runs`).
fn start_to_handshake_ms(runs: usize) -> f64 {
    use std::io::BufRead;
    use terraform_provider_vmax::tfplugin::plugin::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("key");
    let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t0 = Instant::now();
            let mut child =
                std::process::Command::new(env!("CARGO_BIN_EXE_terraform-provider-vmax"))
                    .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
                    .env("PLUGIN_PROTOCOL_VERSIONS", "6")
                    .env("PLUGIN_CLIENT_CERT", cert.pem())
                    .env_remove("RUST_BACKTRACE")
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("start provider");
            let mut line = String::new();
            std::io::BufReader::new(child.stdout.take().expect("stdout"))
                .read_line(&mut line)
                .expect("handshake");
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            let _ = child.kill();
            let _ = child.wait();
            assert!(line.starts_with("1|6|"), "handshake line {line:?}");
            ms
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    times[times.len() / 2]
}

#[test]
fn bench() {
    if !support::acc() || std::env::var("VMAX_BENCH").is_err() {
        return;
    }
    println!(
        "bench: provider start to handshake {:.1} ms (median of 15; release build when run by make bench)",
        start_to_handshake_ms(15)
    );
    let latency = env_num("BENCH_LATENCY_MS", 50.0);
    let job = env_num("BENCH_JOB_MS", 200.0);
    let par = env_num("BENCH_PARALLELISM", 10.0);
    let (lat_s, job_s) = (format!("{latency}"), format!("{job}"));
    let sim = Sim::start_with(&[
        "--job-ms",
        &job_s,
        "--latency-ms",
        &lat_s,
        "--copy-ms",
        "400",
    ]);
    let mut b = Bench {
        sim,
        rows: vec![],
        configure: (0, 0),
    };
    let block = b
        .sim
        .provider_block()
        .replace("job_poll_interval = 0.05", "");
    let parallel = format!("-parallelism={par}");
    let apply_args = [
        "apply",
        "-auto-approve",
        "-no-color",
        "-input=false",
        &parallel,
    ];
    // one operation: without the refresh of the other resources in state
    let op_args = [
        "apply",
        "-auto-approve",
        "-no-color",
        "-input=false",
        "-refresh=false",
    ];

    // ---- one operation at a time ------------------------------------------
    let tf = Tf::new();
    let mut parts: BTreeMap<&str, String> = BTreeMap::new();
    let write = |tf: &Tf, parts: &BTreeMap<&str, String>| {
        tf.write(&format!(
            "{block}{}",
            parts.values().cloned().collect::<String>()
        ))
    };
    let step = |b: &mut Bench,
                parts: &mut BTreeMap<&'static str, String>,
                name: &str,
                target: f64,
                change: &dyn Fn(&mut BTreeMap<&'static str, String>)| {
        change(parts);
        write(&tf, parts);
        b.measure(name, target, || {
            tf.ok(&op_args);
        });
    };
    step(
        &mut b,
        &mut parts,
        "create volume, first in its pool",
        5.0,
        &|p| {
            p.insert("a", volume("a", "a", 1, "Diamond", ""));
        },
    );
    step(
        &mut b,
        &mut parts,
        "create volume, group exists",
        4.0,
        &|p| {
            p.insert("b", volume("b", "b", 1, "Diamond", ""));
        },
    );
    step(&mut b, &mut parts, "extend", 3.0, &|p| {
        p.insert("b", volume("b", "b", 2, "Diamond", ""));
    });
    step(&mut b, &mut parts, "retype, detached", 6.0, &|p| {
        p.insert("b", volume("b", "b", 2, "Gold", ""));
    });
    step(&mut b, &mut parts, "create snapshot", 4.0, &|p| {
        p.insert("s1", snapshot("s1", "a", "s1"));
    });
    step(&mut b, &mut parts, "volume from snapshot", 7.0, &|p| {
        p.insert(
            "fs",
            volume(
                "fs",
                "fs",
                1,
                "Diamond",
                "  source {\n    snapshot_id = vmax_snapshot.s1.id\n  }\n",
            ),
        );
    });
    step(&mut b, &mut parts, "clone", 9.0, &|p| {
        p.insert(
            "c",
            volume(
                "c",
                "c",
                1,
                "Diamond",
                "  source {\n    volume_id = vmax_volume.a.id\n  }\n",
            ),
        );
    });
    step(&mut b, &mut parts, "delete volume (clone)", 6.0, &|p| {
        p.remove("c");
    });
    step(
        &mut b,
        &mut parts,
        "delete volume (from snapshot)",
        6.0,
        &|p| {
            p.remove("fs");
        },
    );
    step(&mut b, &mut parts, "delete snapshot (no link)", 2.0, &|p| {
        p.remove("s1");
    });
    step(&mut b, &mut parts, "export, first for a host", 14.0, &|p| {
        p.insert("ea", export("ea", "a", "bench-host"));
    });
    // a second volume of the first export's service level (not measured)
    parts.insert("e", volume("e", "e", 1, "Diamond", ""));
    write(&tf, &parts);
    tf.ok(&op_args);
    step(&mut b, &mut parts, "export, view exists", 8.0, &|p| {
        p.insert("ee", export("ee", "e", "bench-host"));
    });
    // a service level the host has no child group for yet: the view-exists
    // target plus making the child and nesting it
    step(
        &mut b,
        &mut parts,
        "export, view exists, new service level",
        10.0,
        &|p| {
            p.insert("eb", export("eb", "b", "bench-host"));
        },
    );
    step(&mut b, &mut parts, "retype, exported", 8.0, &|p| {
        p.insert("b", volume("b", "b", 2, "Silver", ""));
    });
    step(&mut b, &mut parts, "unexport, not last", 6.0, &|p| {
        p.remove("eb");
    });
    parts.remove("ee");
    parts.remove("e");
    write(&tf, &parts);
    tf.ok(&op_args);
    step(&mut b, &mut parts, "unexport, last", 12.0, &|p| {
        p.remove("ea");
    });
    step(&mut b, &mut parts, "delete volume", 6.0, &|p| {
        p.remove("b");
    });

    // import = manage: a volume made outside Terraform
    let dev = b
        .sim
        .make_foreign_volume("legacy-sg", "Diamond", 3, "legacy-db");
    parts.insert("imp", volume("imp", "imported", 3, "Diamond", ""));
    write(&tf, &parts);
    let (n1, d1) = b.count(|| {
        tf.ok(&[
            "import",
            "-no-color",
            "-input=false",
            "vmax_volume.imp",
            &dev,
        ]);
    });
    let (n2, d2) = b.count(|| {
        tf.ok(&op_args);
    });
    let mut d = d1;
    for (k, v) in d2 {
        *d.entry(k).or_default() += v;
    }
    // 6 since import reads the volume's group for its host I/O limits and
    // compression (issue 15): the private volume detail does not carry them
    b.row("import + first apply", (n1 + n2) as f64, 6.0, &d);

    // vmax_pool: one pool, then the list of pools
    parts.insert(
        "pool",
        "data \"vmax_pool\" \"p\" {\n  service_level = \"Diamond\"\n}\n".into(),
    );
    write(&tf, &parts);
    b.measure(
        "vmax_pool read (one pool), with a refresh",
        2.0 + 2.0,
        || {
            tf.ok(&apply_args);
        },
    );
    tf.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
    let (s, body) = b.sim.rest(
        "DELETE",
        &format!(
            "/100/sloprovisioning/symmetrix/{}/storagegroup/legacy-sg",
            support::ARRAY
        ),
        None,
    );
    assert_eq!(s, 204, "{body}");
    let conf_per = b.configure.0 as f64 / b.configure.1.max(1) as f64;
    b.row(
        "provider configure, per process",
        conf_per,
        4.0,
        &BTreeMap::new(),
    );

    // ---- scale ------------------------------------------------------------
    let n = env_num("BENCH_VOLUMES", 500.0) as usize;
    let target_calls = 2.0;
    let scale = Tf::new();
    let many = |count: usize, exports: usize| {
        let mut s = format!(
            "{block}resource \"vmax_volume\" \"v\" {{\n  count = {count}\n  name = \"bench-${{count.index}}\"\n  size_gb = 1\n  service_level = \"Diamond\"\n}}\n"
        );
        if exports > 0 {
            s.push_str(&format!("resource \"vmax_iscsi_export\" \"e\" {{\n  count = {exports}\n  volume_id = vmax_volume.v[count.index].id\n  host = \"scale-host\"\n  initiator = \"iqn.1993-08.org.debian:01:scale-host\"\n}}\n"));
        }
        s
    };
    scale.write(&many(n, 0));
    let t0 = Instant::now();
    let (calls, d) = b.count(|| {
        scale.ok(&apply_args);
    });
    let wall = t0.elapsed().as_secs_f64();
    b.row(
        &format!("{n} creates into one pool, per volume"),
        calls as f64 / n as f64,
        target_calls,
        &d,
    );
    let bound = n as f64 * (target_calls * latency + job) / 1000.0 / par;
    println!(
        "bench: (a) {n} volumes in one pool: {wall:.1} s, lower bound {bound:.1} s, ratio {:.2} (target <= 1.5)",
        wall / bound
    );

    // plan (refresh) of many volumes
    let plan_n = env_num("BENCH_PLAN_VOLUMES", 1000.0) as usize;
    scale.write(&many(plan_n.max(n), 0));
    scale.ok(&apply_args);
    let t0 = Instant::now();
    let (calls, d) = b.count(|| {
        let (code, out) = scale.plan();
        assert_eq!(code, 0, "plan after apply is not empty:\n{out}");
    });
    let wall = t0.elapsed().as_secs_f64();
    let n_plan = plan_n.max(n);
    b.row(
        &format!("plan (refresh) of {n_plan} volumes, requests"),
        calls as f64,
        (n_plan / 100) as f64 + 5.0,
        &d,
    );
    println!("bench: (c) plan of {n_plan} volumes: {wall:.1} s");
    scale.ok(&[
        "destroy",
        "-auto-approve",
        "-no-color",
        "-input=false",
        &parallel,
    ]);

    // 100 volumes + 100 exports to one host
    let m = env_num("BENCH_EXPORTS", 100.0) as usize;
    scale.write(&many(m, m));
    let t0 = Instant::now();
    let (calls, d) = b.count(|| {
        scale.ok(&apply_args);
    });
    let wall = t0.elapsed().as_secs_f64();
    let per_pair = 2.0 + 8.0;
    let bound = m as f64 * (per_pair * latency + 2.0 * job) / 1000.0 / par;
    b.row(
        &format!("{m} volumes + {m} exports to one host, per pair"),
        calls as f64 / m as f64,
        per_pair,
        &d,
    );
    println!(
        "bench: (b) {m} volumes + {m} exports: {wall:.1} s, lower bound {bound:.1} s, ratio {:.2} (target <= 2)",
        wall / bound
    );
    scale.ok(&[
        "destroy",
        "-auto-approve",
        "-no-color",
        "-input=false",
        &parallel,
    ]);
    b.sim.assert_clean();
    let peak = std::fs::read_to_string(format!("/proc/{}/status", b.sim.pid()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.to_string())
        })
        .unwrap_or_default();
    println!("bench: vmax-sim {peak}");

    println!("\nbench: where the calls went");
    for (name, got, target, detail) in &b.rows {
        println!("  {name} ({got:.2}, target {target}): {detail}");
    }
    let failed: Vec<&str> = b
        .rows
        .iter()
        .filter(|r| r.1 > r.2)
        .map(|r| r.0.as_str())
        .collect();
    assert!(failed.is_empty(), "over target: {failed:?}");
}
