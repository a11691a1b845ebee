//! Acceptance-test harness: a `vmax-sim` per test and the real `terraform`
//! binary driving the provider cargo built, through `dev_overrides`.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const ARRAY: &str = "000197800123";

/// Processes whose environment carries `VMAX_TEST_MARK=<mark>` and whose
/// command is the provider.
pub fn provider_pids(mark: &str) -> Vec<u32> {
    let want = format!("VMAX_TEST_MARK={mark}");
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        // an exited process waiting to be reaped is gone for our purpose
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        if stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        {
            continue;
        }
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if !String::from_utf8_lossy(&cmd).contains("terraform-provider-vmax") {
            continue;
        }
        let env = std::fs::read(e.path().join("environ")).unwrap_or_default();
        if env.split(|b| *b == 0).any(|kv| kv == want.as_bytes()) {
            out.push(pid);
        }
    }
    out
}

/// The seed file of this run (`VMAX_TEST_SEED`, e.g. `seeds/powermax-8000.json`)
/// with its first array renamed to [`ARRAY`], or `None` for the default array.
pub fn test_seed() -> Option<Value> {
    let path = std::env::var("VMAX_TEST_SEED")
        .ok()
        .filter(|p| !p.is_empty())?;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("VMAX_TEST_SEED {}: {e}", path.display()));
    let mut v: Value = serde_json::from_str(&text).expect("seed json");
    v["arrays"][0]["symmetrix_id"] = Value::String(ARRAY.into());
    Some(v)
}

/// The workload the tests use: `DSS` on the default VMAX250F, none on
/// arrays without workloads (PowerMax).
pub fn workload() -> Option<&'static str> {
    match test_seed() {
        Some(s)
            if s["arrays"][0]["workloads"]
                .as_array()
                .is_none_or(|w| w.is_empty()) =>
        {
            None
        }
        _ => Some("DSS"),
    }
}

/// `  workload = "DSS"` for HCL, or nothing.
pub fn workload_line() -> String {
    workload()
        .map(|w| format!("  workload = \"{w}\"\n"))
        .unwrap_or_default()
}

/// The default group of a service level with the test workload.
pub fn group_with_workload(slo: &str) -> String {
    match workload() {
        Some(w) => format!("OS-SRP_1-{slo}-{w}-SG"),
        None => format!("OS-SRP_1-{slo}-SG"),
    }
}

/// The portals of port group OS-iscsi-PG on the test array.
pub fn portals() -> Vec<String> {
    match test_seed() {
        None => vec!["192.0.2.10:3260".into(), "192.0.2.11:3260".into()],
        Some(s) => {
            let a = &s["arrays"][0];
            a["port_groups"]["OS-iscsi-PG"]["ports"]
                .as_array()
                .expect("OS-iscsi-PG")
                .iter()
                .map(|k| {
                    let key = format!(
                        "{}:{}",
                        k["director"].as_str().unwrap_or(""),
                        k["port"].as_str().unwrap_or("")
                    );
                    format!(
                        "{}:3260",
                        a["ports"][&key]["ip_addresses"][0].as_str().unwrap_or("")
                    )
                })
                .collect()
        }
    }
}

/// The target IQNs of port group OS-iscsi-PG on the test array, one per portal.
pub fn target_iqns() -> Vec<String> {
    match test_seed() {
        None => vec![
            "iqn.1992-04.com.emc:600009700bca30c01e3e012e00000001".into(),
            "iqn.1992-04.com.emc:600009700bca30c02e3e012e00000001".into(),
        ],
        Some(s) => {
            let a = &s["arrays"][0];
            a["port_groups"]["OS-iscsi-PG"]["ports"]
                .as_array()
                .expect("OS-iscsi-PG")
                .iter()
                .map(|k| {
                    let key = format!(
                        "{}:{}",
                        k["director"].as_str().unwrap_or(""),
                        k["port"].as_str().unwrap_or("")
                    );
                    a["ports"][&key]["iqn"].as_str().unwrap_or("").to_string()
                })
                .collect()
        }
    }
}

/// True when acceptance tests should run (`TF_ACC=1`). With `TF_ACC=1` and
/// no `terraform` on PATH, fails loudly instead of skipping.
pub fn acc() -> bool {
    if std::env::var("TF_ACC").as_deref() != Ok("1") {
        eprintln!("skipping acceptance test: set TF_ACC=1 to run it");
        return false;
    }
    let ok = Command::new(terraform_bin())
        .arg("version")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "TF_ACC=1 but no working `terraform` binary was found (set TERRAFORM or put terraform on PATH)"
    );
    true
}

fn terraform_bin() -> String {
    std::env::var("TERRAFORM").unwrap_or_else(|_| "terraform".into())
}

/// A running simulator with its own state directory.
pub struct Sim {
    child: Child,
    pub url: String,
    pub dir: tempfile::TempDir,
    http: reqwest::blocking::Client,
}

impl Sim {
    pub fn start() -> Sim {
        Sim::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Sim {
        let dir = tempfile::tempdir().expect("tempdir");
        Sim::start_in(dir, extra)
    }

    /// Starts (or restarts) a simulator on the state in `dir`.
    pub fn start_in(dir: tempfile::TempDir, extra: &[&str]) -> Sim {
        let state = dir.path().join("state.json");
        // the array of this run (VMAX_TEST_SEED), served under the test serial
        let mut seeded: Vec<String> = vec![];
        if let Some(seed) = test_seed()
            && !extra.contains(&"--seed-file")
        {
            let path = dir.path().join("test-seed.json");
            std::fs::write(&path, seed.to_string()).expect("write seed");
            seeded = vec!["--seed-file".into(), path.display().to_string()];
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_vmax-sim"))
            .args(["--listen", "127.0.0.1:0", "--state"])
            .arg(&state)
            .args(
                [("--job-ms", "50"), ("--copy-ms", "300")]
                    .into_iter()
                    .filter(|(flag, _)| !extra.contains(flag))
                    .flat_map(|(flag, v)| [flag, v]),
            )
            .args(extra)
            .args(&seeded)
            .env("VMAX_SIM_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start vmax-sim");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read sim banner");
        let url = line
            .trim()
            .strip_prefix("vmax-sim listening on ")
            .unwrap_or_else(|| panic!("unexpected banner {line:?}"))
            .to_string();
        let http = reqwest::blocking::Client::builder()
            .tls_danger_accept_invalid_certs(true)
            .build()
            .expect("client");
        Sim {
            child,
            url,
            dir,
            http,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the process abruptly (SIGKILL) and returns its state directory.
    pub fn kill(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = tempfile::tempdir().expect("tempdir");
        let old = std::mem::replace(&mut self.dir, dir);
        std::mem::forget(self);
        old
    }

    /// A test hook (`/sim/...`), which needs the simulator's credentials.
    pub fn hook_get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.url))
            .basic_auth("smc", Some("smc"))
            .send()
            .expect("sim hook")
            .json()
            .expect("json")
    }

    /// PUT to a test hook; returns the status.
    pub fn hook_put(&self, path: &str, body: &Value) -> u16 {
        self.http
            .put(format!("{}{path}", self.url))
            .basic_auth("smc", Some("smc"))
            .json(body)
            .send()
            .expect("sim hook")
            .status()
            .as_u16()
    }

    pub fn state(&self) -> Value {
        self.hook_get("/sim/state")
    }

    pub fn array(&self) -> Value {
        self.state()["arrays"][ARRAY].clone()
    }

    pub fn metrics(&self) -> Value {
        self.hook_get("/sim/metrics")
    }

    pub fn set_faults(&self, faults: Value) {
        let status = self.hook_put("/sim/faults", &faults);
        assert!((200..300).contains(&status), "faults refused: {status}");
    }

    /// A Unisphere REST call as user smc; returns status and JSON body.
    pub fn rest(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}/univmax/restapi{}", self.url, path);
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut rb = self.http.request(m, url).basic_auth("smc", Some("smc"));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().expect("rest call");
        let status = r.status().as_u16();
        let text = r.text().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Volumes on the array: device id → identifier.
    pub fn volumes(&self) -> Vec<(String, String)> {
        self.array()["volumes"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v["identifier"].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn storage_groups(&self) -> Vec<String> {
        self.array()["storage_groups"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Makes a volume on the array the way another tool would: a storage
    /// group `sg` with service level `slo` holding one volume. Returns its device id.
    pub fn make_foreign_volume(
        &self,
        sg: &str,
        slo: &str,
        size_gb: u32,
        identifier: &str,
    ) -> String {
        let before: Vec<String> = self.volumes().into_iter().map(|(d, _)| d).collect();
        let (s, b) = self.rest(
            "POST",
            &format!("/100/sloprovisioning/symmetrix/{ARRAY}/storagegroup"),
            Some(serde_json::json!({
                "srpId": "SRP_1", "storageGroupId": sg, "emulation": "FBA",
                "sloBasedStorageGroupParam": [{"sloId": slo, "volumeAttributes": [{"num_of_vols": 1, "volume_size": size_gb.to_string(), "capacityUnit": "GB",
                    "volumeIdentifier": {"identifier_name": identifier, "volumeIdentifierChoice": "identifier_name"}}]}]
            })),
        );
        assert_eq!(s, 201, "{b}");
        self.volumes()
            .into_iter()
            .map(|(d, _)| d)
            .find(|d| !before.contains(d))
            .expect("new volume")
    }

    /// What the array holds (volumes, groups, hosts, views, snapshots),
    /// without job history and counters: compare it before and after.
    pub fn objects(&self) -> Value {
        let a = self.array();
        serde_json::json!({
            "volumes": a["volumes"], "storage_groups": a["storage_groups"], "hosts": a["hosts"],
            "masking_views": a["masking_views"], "snapshots": a["snapshots"],
        })
    }

    /// Asserts no volume, storage group, host or masking view is left.
    pub fn assert_clean(&self) {
        let a = self.array();
        for k in ["volumes", "storage_groups", "hosts", "masking_views"] {
            assert!(
                a[k].as_object().is_none_or(|m| m.is_empty()),
                "{k} left behind: {}",
                a[k]
            );
        }
    }

    /// The provider block for this simulator.
    pub fn provider_block(&self) -> String {
        format!(
            r#"terraform {{
  required_providers {{
    vmax = {{ source = "local/vmax" }}
  }}
}}

provider "vmax" {{
  endpoint    = "{}"
  username    = "smc"
  password    = "smc"
  array       = "{ARRAY}"
  insecure    = true
  port_groups = ["OS-iscsi-PG"]
  job_poll_interval = 0.05
}}
"#,
            self.url
        )
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Terraform working directory using the cargo-built provider.
pub struct Tf {
    pub dir: tempfile::TempDir,
    rc: PathBuf,
    env: Vec<(String, String)>,
}

pub fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_terraform-provider-vmax"))
        .parent()
        .expect("bin dir")
        .to_path_buf()
}

impl Tf {
    pub fn new() -> Tf {
        let dir = tempfile::tempdir().expect("tempdir");
        let rc = dir.path().join("terraformrc");
        std::fs::write(
            &rc,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"local/vmax\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                provider_dir().display()
            ),
        )
        .expect("write rc");
        Tf {
            dir,
            rc,
            env: vec![],
        }
    }

    pub fn env(mut self, k: &str, v: &str) -> Tf {
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn write(&self, hcl: &str) {
        std::fs::write(self.dir.path().join("main.tf"), hcl).expect("write main.tf");
    }

    /// The terraform command for this workspace: its CLI config, no
    /// backtraces, no logs, and the workspace's extra environment.
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(terraform_bin());
        c.args(args)
            .current_dir(self.dir.path())
            .env("TF_CLI_CONFIG_FILE", &self.rc)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env_remove("RUST_BACKTRACE")
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PATH");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run terraform")
    }

    /// Runs `args` until it succeeds, at most `tries` times; returns how many it took.
    pub fn until_ok(&self, args: &[&str], tries: usize) -> usize {
        let mut last = String::new();
        for n in 1..=tries {
            let o = self.run(args);
            if o.status.success() {
                return n;
            }
            last = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        panic!("terraform {args:?} did not succeed in {tries} runs; last output:\n{last}");
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.status.success(), "terraform {args:?} failed:\n{text}");
        text
    }

    /// Runs and expects failure; returns the combined output with white
    /// space collapsed (Terraform wraps long messages).
    pub fn fails(&self, args: &[&str]) -> String {
        let o = self.run(args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            !o.status.success(),
            "terraform {args:?} should have failed:\n{text}"
        );
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    pub fn apply(&self) -> String {
        self.ok(&["apply", "-auto-approve", "-no-color", "-input=false"])
    }

    pub fn destroy(&self) -> String {
        self.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"])
    }

    /// `plan -detailed-exitcode`: 0 no changes, 2 changes; returns (code, output).
    pub fn plan(&self) -> (i32, String) {
        let o = self.run(&["plan", "-detailed-exitcode", "-no-color", "-input=false"]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        (o.status.code().unwrap_or(-1), text)
    }

    pub fn assert_empty_plan(&self) {
        let (code, text) = self.plan();
        assert_eq!(code, 0, "expected an empty plan:\n{text}");
    }

    /// Runs terraform and sends it SIGINT (as Ctrl-C does) `after` the
    /// first output line containing `needle`; returns whether it succeeded
    /// and its whole output. Terraform then asks the provider to stop.
    pub fn interrupt(
        &self,
        args: &[&str],
        needle: &str,
        after: std::time::Duration,
    ) -> (bool, String) {
        let mut c = self.command(args);
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("start terraform");
        let pid = child.id();
        let stderr = child.stderr.take().expect("stderr");
        let err_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut s);
            s
        });
        let mut out = String::new();
        let mut sent = false;
        let reader = BufReader::new(child.stdout.take().expect("stdout"));
        for line in reader.lines() {
            let Ok(line) = line else { break };
            out.push_str(&line);
            out.push('\n');
            if !sent && line.contains(needle) {
                sent = true;
                let pid = pid.to_string();
                std::thread::spawn(move || {
                    std::thread::sleep(after);
                    let _ = Command::new("kill").args(["-INT", &pid]).status();
                });
            }
        }
        let status = child.wait().expect("wait terraform");
        out.push_str(&err_reader.join().unwrap_or_default());
        assert!(sent, "terraform never printed {needle:?}:\n{out}");
        (
            status.success(),
            out.split_whitespace().collect::<Vec<_>>().join(" "),
        )
    }

    /// Runs terraform and SIGKILLs `victim` (`"terraform"`, or `"provider"`
    /// found by this workspace's marker) `after` the first output line
    /// containing `needle`. Returns the output.
    pub fn kill(
        &self,
        args: &[&str],
        needle: &str,
        after: std::time::Duration,
        victim: &str,
    ) -> String {
        let mark = self.dir.path().display().to_string();
        let mut c = self.command(args);
        c.env("VMAX_TEST_MARK", &mark)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = c.spawn().expect("start terraform");
        let pid = child.id();
        let mut out = String::new();
        let reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut sent = false;
        for line in reader.lines() {
            let Ok(line) = line else { break };
            out.push_str(&line);
            out.push('\n');
            if !sent && line.contains(needle) {
                sent = true;
                std::thread::sleep(after);
                let target = if victim == "terraform" {
                    vec![pid]
                } else {
                    provider_pids(&mark)
                };
                for p in target {
                    let _ = Command::new("kill")
                        .args(["-KILL", &p.to_string()])
                        .status();
                }
                if victim == "terraform" {
                    break;
                }
            }
        }
        let _ = child.wait();
        assert!(sent, "terraform never printed {needle:?}:\n{out}");
        out
    }

    /// The provider processes started for this workspace (found by the
    /// marker `kill` puts in their environment).
    pub fn providers(&self) -> Vec<u32> {
        provider_pids(&self.dir.path().display().to_string())
    }

    /// `terraform show -json`.
    pub fn show(&self) -> Value {
        let o = self.ok(&["show", "-json"]);
        let start = o.find('{').unwrap_or(0);
        serde_json::from_str(&o[start..]).expect("show json")
    }

    /// Attribute values of a resource address in `show -json`.
    pub fn resource(&self, address: &str) -> Value {
        let s = self.show();
        s["values"]["root_module"]["resources"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["address"] == address))
            .map(|r| r["values"].clone())
            .unwrap_or_else(|| panic!("{address} not in state: {s}"))
    }
}
