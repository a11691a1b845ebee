//! `vmax-sim`: a persistent stand-in for Unisphere for VMAX/PowerMax.
//!
//! Layers: [`model`] is the pure state and its rules; [`http`] maps REST
//! requests onto it and [`render`] shapes answers per API version; this
//! module holds the running simulator: locking, atomic persistence, faults,
//! metrics, iterators, authentication and the HTTPS/HTTP listener.
//!
//! Invariant: a change is acknowledged only after the state file holding
//! it has been written and fsynced, so a restart (even after SIGKILL)
//! resumes with every acknowledged change.

pub mod enhanced;
pub mod filters;
pub mod http;
pub mod model;
pub mod rdf;
pub mod render;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use base64::Engine;
use model::{Array, JobOutcome, SimError, SimResult, World};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// How the simulator runs; built from the command line.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub username: String,
    pub password: String,
    /// State file; `None` keeps state in memory only.
    pub state: Option<PathBuf>,
    /// Where the TLS certificate and key live (default: beside the state file).
    pub cert_dir: Option<PathBuf>,
    pub seed_file: Option<PathBuf>,
    /// Reported Unisphere version, e.g. `V10.4.0.0`.
    pub unisphere_version: String,
    pub job_ms: u64,
    /// How long a copy-mode SnapVX link takes to copy fully, and an SRDF pair to synchronize.
    pub copy_ms: u64,
    pub max_body_bytes: usize,
    /// How long a connection may wait for the client's next bytes.
    pub read_timeout: Duration,
    pub faults: Faults,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            username: "smc".into(),
            password: "smc".into(),
            state: None,
            cert_dir: None,
            seed_file: None,
            unisphere_version: "V10.4.0.0".into(),
            job_ms: 200,
            copy_ms: 1000,
            max_body_bytes: 1 << 20,
            read_timeout: Duration::from_secs(30),
            faults: Faults::default(),
        }
    }
}

/// Injected faults, settable by flags and by `PUT /sim/faults`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Added to every request.
    #[serde(default)]
    pub latency_ms: u64,
    /// Up to this much more, at random.
    #[serde(default)]
    pub jitter_ms: u64,
    /// Share (0..1) of requests answered 503.
    #[serde(default)]
    pub error_rate: f64,
    /// Share (0..1) of asynchronous jobs that end FAILED, changing nothing.
    #[serde(default)]
    pub job_failure_rate: f64,
    /// Seed for the random choices, for repeatable runs.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Targeted faults, checked in order.
    #[serde(default)]
    pub rules: Vec<FaultRule>,
    /// For this long after a volume is made, a lookup by its identifier
    /// does not find it (some Unisphere releases lag like this).
    #[serde(default)]
    pub lookup_lag_ms: u64,
    /// Share (0..1) of changes (non-GET requests) that are made and then
    /// answered 503, as if the answer were lost.
    #[serde(default)]
    pub lost_answer_rate: f64,
}

/// One targeted fault: requests matching every given field fail.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    pub method: Option<String>,
    pub path_contains: Option<String>,
    pub body_contains: Option<String>,
    /// Status to answer with (default 500).
    #[serde(default = "default_fault_status")]
    pub status: u16,
    pub message: Option<String>,
    /// How many requests it hits; 0 = every one.
    #[serde(default)]
    pub times: u32,
    /// Instead of an error answer, accept the request as a job that fails.
    #[serde(default)]
    pub fail_job: bool,
    /// Hold the request this long before answering (a slow step).
    #[serde(default)]
    pub delay_ms: u64,
    /// After the delay, handle the request normally instead of failing it.
    #[serde(default)]
    pub pass: bool,
    /// Make the change, then lose the answer: `"503"` answers 503 after
    /// the change is committed, `"close"` drops the connection instead of
    /// answering (real arrays: "timed-out, but may have been successful").
    #[serde(default)]
    pub after_commit: Option<String>,
}

fn default_fault_status() -> u16 {
    500
}

impl FaultRule {
    /// Whether a request matches every field the rule sets.
    fn matches(&self, method: &Method, path: &str, body: &str) -> bool {
        self.method
            .as_ref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
            && self
                .path_contains
                .as_ref()
                .is_none_or(|p| path.contains(p.as_str()))
            && self
                .body_contains
                .as_ref()
                .is_none_or(|b| body.contains(b.as_str()))
    }
}

struct FaultState {
    faults: Faults,
    rng: ChaCha8Rng,
}

impl FaultState {
    fn new(faults: Faults) -> Self {
        let seed = faults.seed.unwrap_or_else(|| now_ms() ^ 0x5eed);
        FaultState {
            rng: ChaCha8Rng::seed_from_u64(seed),
            faults,
        }
    }
}

/// Request counts by method and path template, and by status, plus the
/// most recent requests (method, path, status, body) for tests that check
/// the order of operations.
#[derive(Default)]
pub struct Metrics {
    inner: std::sync::Mutex<(BTreeMap<String, u64>, BTreeMap<u16, u64>)>,
    log: std::sync::Mutex<VecDeque<Value>>,
}

/// How many requests `GET /sim/requests` keeps.
const REQUEST_LOG: usize = 2000;

impl Metrics {
    pub fn record(&self, method: &str, template: &str, status: u16) {
        if let Ok(mut g) = self.inner.lock() {
            *g.0.entry(format!("{method} {template}")).or_default() += 1;
            *g.1.entry(status).or_default() += 1;
        }
    }

    /// Adds a request to the log (bodies hold no credentials: those travel in headers).
    pub fn log(&self, method: &str, path: &str, status: u16, body: &[u8], user_agent: &str) {
        if let Ok(mut l) = self.log.lock() {
            if l.len() >= REQUEST_LOG {
                l.pop_front();
            }
            let text: String = String::from_utf8_lossy(body).chars().take(2000).collect();
            l.push_back(json!({"method": method, "path": path, "status": status, "body": text, "at_ms": now_ms(), "user_agent": user_agent}));
        }
    }

    fn requests(&self) -> Value {
        self.log
            .lock()
            .map(|l| Value::Array(l.iter().cloned().collect()))
            .unwrap_or(Value::Null)
    }

    fn snapshot(&self) -> Value {
        match self.inner.lock() {
            Ok(g) => json!({"requests": g.0, "status": g.1, "total": g.1.values().sum::<u64>()}),
            Err(_) => json!({}),
        }
    }
}

struct Iterator {
    results: Vec<Value>,
    expires_ms: u64,
}

const PAGE: usize = 1000;
const ITERATOR_TTL_MS: u64 = 10 * 60 * 1000;
const MAX_ITERATORS: usize = 256;
/// Results all live iterators may hold together; older ones expire first.
const MAX_ITERATOR_RESULTS: usize = 200_000;

tokio::task_local! {
    /// Set for a request that a fault rule turns into a failing job.
    static FAIL_JOB: Option<String>;
}

/// The running simulator.
pub struct Sim {
    pub cfg: SimConfig,
    pub world: tokio::sync::Mutex<World>,
    version: AtomicU64,
    persisted: tokio::sync::Mutex<u64>,
    faults: std::sync::Mutex<FaultState>,
    pub metrics: Metrics,
    iterators: std::sync::Mutex<(BTreeMap<String, Iterator>, VecDeque<String>)>,
    next_iterator: AtomicU64,
}

/// A seed file: the arrays to serve instead of the default one.
#[derive(Deserialize)]
struct SeedFile {
    arrays: Vec<Array>,
}

fn load_seed(path: &Path) -> Result<World, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read seed file {}: {e}", path.display()))?;
    let seed: SeedFile = serde_json::from_str(&text)
        .map_err(|e| format!("seed file {} is not valid: {e}", path.display()))?;
    let mut w = World::default();
    for a in seed.arrays {
        w.arrays.insert(a.symmetrix_id.clone(), a);
    }
    if w.arrays.is_empty() {
        return Err(format!("seed file {} describes no array", path.display()));
    }
    Ok(w)
}

impl Sim {
    /// Loads the state file if there is one, else the seed (or the default array).
    pub fn open(cfg: SimConfig) -> Result<Arc<Sim>, String> {
        let world = match &cfg.state {
            Some(p) if p.exists() => {
                let text = std::fs::read(p)
                    .map_err(|e| format!("cannot read state file {}: {e}", p.display()))?;
                serde_json::from_slice(&text).map_err(|e| {
                    format!(
                        "state file {} is not valid ({e}); move it away to start afresh",
                        p.display()
                    )
                })?
            }
            _ => match &cfg.seed_file {
                Some(s) => load_seed(s)?,
                None => model::default_world(),
            },
        };
        let sim = Arc::new(Sim {
            faults: std::sync::Mutex::new(FaultState::new(cfg.faults.clone())),
            cfg,
            world: tokio::sync::Mutex::new(world),
            version: AtomicU64::new(0),
            persisted: tokio::sync::Mutex::new(0),
            metrics: Metrics::default(),
            iterators: std::sync::Mutex::new((BTreeMap::new(), VecDeque::new())),
            next_iterator: AtomicU64::new(1),
        });
        if let Some(p) = &sim.cfg.state
            && !p.exists()
        {
            let w = sim.world.try_lock().map_err(|e| e.to_string())?;
            let data = serde_json::to_vec_pretty(&*w).map_err(|e| e.to_string())?;
            write_atomic(p, &data)
                .map_err(|e| format!("cannot write state file {}: {e}", p.display()))?;
        }
        Ok(sim)
    }

    pub fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(h) = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Some(b64) = h.strip_prefix("Basic ") else {
            return false;
        };
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
            return false;
        };
        let expected = format!("{}:{}", self.cfg.username, self.cfg.password);
        raw == expected.as_bytes()
    }

    /// Whether the simulated Unisphere is 10.0 or later (the enhanced API).
    pub fn serves_enhanced_api(&self) -> bool {
        self.cfg
            .unisphere_version
            .trim_start_matches(['V', 'v'])
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok())
            .is_some_and(|m| m >= 10)
    }

    pub fn version_body(&self) -> Value {
        let v = &self.cfg.unisphere_version;
        let api = api_version_of(v);
        let supported: Vec<String> = http::VERSIONS
            .iter()
            .rev()
            .filter(|x| api.parse::<u32>().map(|a| **x <= a).unwrap_or(true))
            .map(u32::to_string)
            .collect();
        if api == "84" {
            json!({ "version": v })
        } else {
            json!({ "version": v, "api_version": api, "supported_api_versions": supported })
        }
    }

    /// Latency, random 503s and targeted rules. `Err` answers the request
    /// now; `Ok(Some(kind))` lets it make its change and then loses the
    /// answer (`"503"` or `"close"`).
    async fn inject_faults(
        &self,
        method: &Method,
        path: &str,
        body: &Bytes,
    ) -> Result<Option<String>, Response> {
        let (delay, verdict, lost) = {
            let Ok(mut st) = self.faults.lock() else {
                return Ok(None);
            };
            let f = st.faults.clone();
            let jitter = if f.jitter_ms > 0 {
                st.rng.random::<u64>() % (f.jitter_ms + 1)
            } else {
                0
            };
            let mut verdict = None;
            let mut rule_delay = 0;
            let body_text = String::from_utf8_lossy(body);
            for (i, r) in f.rules.iter().enumerate() {
                let hit = r.matches(method, path, &body_text);
                if hit {
                    rule_delay = r.delay_ms;
                    verdict = (!r.pass).then(|| r.clone());
                    if r.times > 0 {
                        let rule = &mut st.faults.rules[i];
                        rule.times -= 1;
                        if rule.times == 0 {
                            st.faults.rules.remove(i);
                        }
                    }
                    break;
                }
            }
            if verdict.is_none() && f.error_rate > 0.0 && st.rng.random::<f64>() < f.error_rate {
                verdict = Some(FaultRule {
                    method: None,
                    path_contains: None,
                    body_contains: None,
                    status: 503,
                    message: Some("Service Unavailable (simulated by --error-rate)".into()),
                    times: 0,
                    fail_job: false,
                    delay_ms: 0,
                    pass: false,
                    after_commit: None,
                });
            }
            let lost = *method != Method::GET
                && verdict.is_none()
                && f.lost_answer_rate > 0.0
                && st.rng.random::<f64>() < f.lost_answer_rate;
            (f.latency_ms + jitter + rule_delay, verdict, lost)
        };
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if lost {
            return Ok(Some("503".into()));
        }
        let Some(rule) = verdict else {
            return Ok(None);
        };
        if let Some(kind) = rule.after_commit {
            return Ok(Some(kind));
        }
        if rule.fail_job {
            return Ok(None); // handled in `mutate` through FAIL_JOB
        }
        self.metrics.record(method.as_str(), "(fault)", rule.status);
        Err(http::error_response(
            rule.status,
            rule.message.as_deref().unwrap_or("Simulated failure"),
        ))
    }

    fn job_fail_rule(&self, method: &Method, path: &str, body: &Bytes) -> Option<String> {
        let st = self.faults.lock().ok()?;
        let text = String::from_utf8_lossy(body);
        st.faults
            .rules
            .iter()
            .find(|r| r.fail_job && r.matches(method, path, &text))
            .map(|r| {
                r.message
                    .clone()
                    .unwrap_or_else(|| "Simulated job failure".into())
            })
    }

    /// Applies a change to one array atomically (all or nothing), records a
    /// job when the request asked for asynchronous execution, and persists
    /// before returning.
    pub(crate) async fn mutate<F>(
        &self,
        array: &str,
        body: &Value,
        job_name: &str,
        link: &str,
        f: F,
    ) -> SimResult<(http::Applied, String)>
    where
        F: FnOnce(&mut Array) -> SimResult<String>,
    {
        let name = array.to_string();
        self.mutate_world(array, &[array], body, job_name, link, move |w| {
            f(w.array_mut(&name)?)
        })
        .await
    }

    /// [`Sim::mutate`] for a change that spans arrays (an SRDF pair): `f`
    /// works on a copy of the arrays in `touch`, committed only when it
    /// succeeds.
    pub(crate) async fn mutate_world<F>(
        &self,
        array: &str,
        touch: &[&str],
        body: &Value,
        job_name: &str,
        link: &str,
        f: F,
    ) -> SimResult<(http::Applied, String)>
    where
        F: FnOnce(&mut World) -> SimResult<String>,
    {
        let asynchronous = http::is_async(body);
        let mut fail = FAIL_JOB.try_with(|f| f.clone()).ok().flatten();
        // a synchronous request runs the same job inside the request: it
        // fails as often, and answers when the job would have finished
        if fail.is_none() {
            let rate = self
                .faults
                .lock()
                .map(|f| f.faults.job_failure_rate)
                .unwrap_or(0.0);
            if rate > 0.0
                && let Ok(mut st) = self.faults.lock()
                && st.rng.random::<f64>() < rate
            {
                fail = Some("Simulated job failure (--job-failure-rate)".into());
            }
        }
        let now = now_ms();
        let mut w = self.world.lock().await;
        w.array(array)?;
        let applied = match fail {
            Some(msg) if asynchronous => {
                let j = w.add_job(
                    job_name,
                    JobOutcome::Failed,
                    &format!("Failed: {msg}"),
                    job_name,
                    link,
                    now,
                    self.cfg.job_ms,
                );
                http::Applied::Job(j)
            }
            Some(msg) => {
                return Err(SimError {
                    status: 500,
                    message: msg,
                });
            }
            None => {
                let mut scratch = World::default();
                for a in touch {
                    if let Ok(x) = w.array(a) {
                        scratch.arrays.insert(a.to_string(), x.clone());
                    }
                }
                let task = f(&mut scratch)?;
                w.arrays.extend(scratch.arrays);
                if asynchronous {
                    http::Applied::Job(w.add_job(
                        job_name,
                        JobOutcome::Succeeded,
                        "Job completed successfully",
                        &task,
                        link,
                        now,
                        self.cfg.job_ms,
                    ))
                } else {
                    http::Applied::Sync
                }
            }
        };
        self.persist_locked(&w).await?;
        drop(w);
        if !asynchronous {
            tokio::time::sleep(std::time::Duration::from_millis(self.cfg.job_ms)).await;
        }
        Ok((applied, array.to_string()))
    }

    /// Writes the state while the caller holds the world lock, so that what
    /// is acknowledged is on disk, in order.
    async fn persist_locked(&self, w: &World) -> SimResult<()> {
        let Some(path) = self.cfg.state.clone() else {
            return Ok(());
        };
        let version = self.version.fetch_add(1, Ordering::SeqCst) + 1;
        let data = serde_json::to_vec(w).map_err(|e| SimError {
            status: 500,
            message: format!("cannot serialize state: {e}"),
        })?;
        let mut last = self.persisted.lock().await;
        if *last >= version {
            return Ok(());
        }
        tokio::task::spawn_blocking(move || write_atomic(&path, &data))
            .await
            .map_err(|e| SimError {
                status: 500,
                message: e.to_string(),
            })?
            .map_err(|e| SimError {
                status: 500,
                message: format!("cannot write state file: {e}"),
            })?;
        *last = version;
        Ok(())
    }

    async fn job_body(&self, id: &str, array: Option<&str>) -> http::Answer {
        let w = self.world.lock().await;
        let j = w
            .jobs
            .get(id)
            .ok_or_else(|| SimError::not_found(format!("Cannot find job {id}")))?;
        let sym = array
            .map(String::from)
            .or_else(|| w.arrays.keys().next().cloned());
        Ok((StatusCode::OK, render::job(j, sym.as_deref(), now_ms())))
    }

    /// Wraps a result list in Unisphere's iterator shape, keeping the rest
    /// for `/common/Iterator/{id}/page`.
    pub fn make_iterator(&self, results: Vec<Value>) -> Value {
        let count = results.len();
        let n = self.next_iterator.fetch_add(1, Ordering::SeqCst);
        let id = format!("{:08x}-sim-iterator_{n}", now_ms() & 0xffff_ffff);
        let expires = now_ms() + ITERATOR_TTL_MS;
        let first: Vec<Value> = results.iter().take(PAGE).cloned().collect();
        if let Ok(mut its) = self.iterators.lock() {
            let now = now_ms();
            its.0.retain(|_, it| it.expires_ms > now);
            let (table, order) = &mut *its;
            order.retain(|x| table.contains_key(x));
            let mut held: usize = its.0.values().map(|it| it.results.len()).sum();
            while its.0.len() >= MAX_ITERATORS || held + count > MAX_ITERATOR_RESULTS {
                match its.1.pop_front() {
                    Some(old) => {
                        if let Some(it) = its.0.remove(&old) {
                            held -= it.results.len();
                        }
                    }
                    None => break,
                }
            }
            its.0.insert(
                id.clone(),
                Iterator {
                    results,
                    expires_ms: expires,
                },
            );
            its.1.push_back(id.clone());
        }
        json!({
            "resultList": {"result": first, "from": 1, "to": count.min(PAGE)},
            "count": count,
            "id": id,
            "maxPageSize": PAGE,
            "expirationTime": expires,
        })
    }

    fn iterator_page(&self, id: &str, q: &BTreeMap<String, String>) -> http::Answer {
        let from: usize = q.get("from").and_then(|s| s.parse().ok()).unwrap_or(1);
        let to: usize = q
            .get("to")
            .and_then(|s| s.parse().ok())
            .unwrap_or(from + PAGE - 1);
        if from == 0 || to < from || to - from + 1 > PAGE {
            return Err(SimError::bad_request(format!(
                "from and to must satisfy 1 <= from <= to and ask for at most {PAGE} results"
            )));
        }
        let its = self.iterators.lock().map_err(|_| SimError {
            status: 500,
            message: "iterator table poisoned".into(),
        })?;
        let it = its
            .0
            .get(id)
            .filter(|it| it.expires_ms > now_ms())
            .ok_or_else(|| {
                SimError::not_found(format!("Cannot find iterator {id}; it may have expired"))
            })?;
        let end = to.min(it.results.len());
        let page: Vec<Value> = if from <= end {
            it.results[from - 1..end].to_vec()
        } else {
            vec![]
        };
        Ok((
            StatusCode::OK,
            json!({"result": page, "from": from, "to": end}),
        ))
    }

    fn iterator_delete(&self, id: &str) -> http::Answer {
        let mut its = self.iterators.lock().map_err(|_| SimError {
            status: 500,
            message: "iterator table poisoned".into(),
        })?;
        its.0
            .remove(id)
            .ok_or_else(|| SimError::not_found(format!("Cannot find iterator {id}")))?;
        its.1.retain(|x| x != id);
        Ok((StatusCode::NO_CONTENT, Value::Null))
    }

    /// The simulated read-after-write lag of identifier lookups.
    pub fn lookup_lag_ms(&self) -> u64 {
        self.faults
            .lock()
            .map(|f| f.faults.lookup_lag_ms)
            .unwrap_or(0)
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, f: Faults) {
        if let Ok(mut st) = self.faults.lock() {
            *st = FaultState::new(f);
        }
    }
}

/// `V10.4.0.0` → `104`; `V9.2.1.4` → `92`; `V8.4.0.6` → `84`.
pub fn api_version_of(v: &str) -> String {
    let mut parts = v.trim_start_matches(['V', 'v']).split('.');
    let major = parts.next().unwrap_or("10");
    let minor = parts.next().unwrap_or("0");
    format!("{major}{minor}")
}

/// Writes a file so that a crash leaves either the old or the new content:
/// temporary file, fsync, rename, fsync of the directory.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("state")
    ));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

// ---- the router ------------------------------------------------------------

async fn unisphere(
    State(sim): State<Arc<Sim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fail = if method == Method::GET {
        None
    } else {
        sim.job_fail_rule(&method, uri.path(), &body)
    };
    FAIL_JOB
        .scope(fail, http::handle(sim.clone(), method, uri, headers, body))
        .await
}

async fn sim_metrics(State(sim): State<Arc<Sim>>) -> Response {
    let mut m = sim.metrics.snapshot();
    if let Ok(its) = sim.iterators.lock() {
        m["iterators"] = json!(its.0.len());
        m["iterator_results"] = json!(its.0.values().map(|it| it.results.len()).sum::<usize>());
    }
    axum::Json(m).into_response()
}

async fn sim_requests(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(sim.metrics.requests()).into_response()
}

async fn sim_state(State(sim): State<Arc<Sim>>) -> Response {
    let w = sim.world.lock().await;
    axum::Json(&*w).into_response()
}

async fn sim_get_faults(State(sim): State<Arc<Sim>>) -> Response {
    match sim.faults.lock() {
        Ok(st) => axum::Json(st.faults.clone()).into_response(),
        Err(_) => http::error_response(500, "fault table poisoned"),
    }
}

async fn sim_put_faults(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            sim.set_faults(f.clone());
            axum::Json(f).into_response()
        }
        Err(e) => http::error_response(400, &format!("invalid faults: {e}")),
    }
}

/// Test hook: simulates host writes by setting a volume's allocation.
async fn sim_write(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    #[derive(Deserialize)]
    struct W {
        array: String,
        volume: String,
        percent: u32,
    }
    let w: W = match serde_json::from_slice(&body) {
        Ok(w) => w,
        Err(e) => return http::error_response(400, &format!("invalid body: {e}")),
    };
    let (array, vol, pct) = (w.array.clone(), w.volume.clone(), w.percent);
    match sim
        .mutate(&array, &Value::Null, "write", "", move |a| {
            a.write_volume(&vol, pct)?;
            Ok(String::new())
        })
        .await
    {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => http::error_response(e.status, &e.message),
    }
}

/// The whole HTTP surface: Unisphere under `/univmax/restapi`, hooks under `/sim`.
/// The test hooks need the same credentials as the API: they show and
/// change everything.
async fn require_auth(
    State(sim): State<Arc<Sim>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if sim.authorized(req.headers()) {
        next.run(req).await
    } else {
        http::error_response(
            401,
            "Unauthorized: the /sim test hooks need the simulator's user name and password (HTTP Basic authentication)",
        )
    }
}

pub fn router(sim: Arc<Sim>) -> Router {
    let limit = sim.cfg.max_body_bytes;
    let hooks = Router::new()
        .route("/sim/metrics", get(sim_metrics))
        .route("/sim/state", get(sim_state))
        .route("/sim/requests", get(sim_requests))
        .route("/sim/faults", get(sim_get_faults).put(sim_put_faults))
        .route("/sim/write", axum::routing::put(sim_write))
        .route_layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            require_auth,
        ));
    Router::new()
        .route("/univmax/restapi/{*rest}", any(unisphere))
        .route("/univmax/rest/{*rest}", any(unisphere))
        .merge(hooks)
        .fallback(|| async {
            http::error_response(404, "Not found: Unisphere lives under /univmax/restapi")
        })
        .layer(DefaultBodyLimit::max(limit))
        .with_state(sim)
}

// ---- TLS ---------------------------------------------------------------------

/// Loads the simulator's certificate chain and key from `dir`, making
/// them on first start: a small CA (`vmax-sim-ca.pem`, what clients pin)
/// and a server certificate it signs for localhost and 127.0.0.1
/// (`vmax-sim-cert.pem`, with the CA appended) and its key.
pub fn load_or_make_cert(dir: &Path) -> Result<(String, String), String> {
    let ca_path = dir.join("vmax-sim-ca.pem");
    let cert_path = dir.join("vmax-sim-cert.pem");
    let key_path = dir.join("vmax-sim-key.pem");
    if ca_path.exists() && cert_path.exists() && key_path.exists() {
        let c = std::fs::read_to_string(&cert_path).map_err(|e| e.to_string())?;
        let k = std::fs::read_to_string(&key_path).map_err(|e| e.to_string())?;
        return Ok((c, k));
    }
    let (ca, chain, key) = make_cert()?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    write_atomic(&key_path, key.as_bytes()).map_err(|e| e.to_string())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600));
    }
    write_atomic(&ca_path, ca.as_bytes()).map_err(|e| e.to_string())?;
    write_atomic(&cert_path, chain.as_bytes()).map_err(|e| e.to_string())?;
    Ok((chain, key))
}

/// Makes (CA PEM, server chain PEM, server key PEM).
pub fn make_cert() -> Result<(String, String, String), String> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let e = |e: rcgen::Error| e.to_string();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "vmax-sim CA");
    let ca_key = KeyPair::generate().map_err(e)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(e)?;
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let mut p = CertificateParams::new(names).map_err(e)?;
    p.distinguished_name.push(DnType::CommonName, "vmax-sim");
    let key = KeyPair::generate().map_err(e)?;
    let cert = p.signed_by(&key, &issuer).map_err(e)?;
    Ok((
        ca_cert.pem(),
        format!("{}{}", cert.pem(), ca_cert.pem()),
        key.serialize_pem(),
    ))
}

/// A TLS listener for `axum::serve`: handshakes run in their own tasks so a
/// slow client cannot stall others.
pub struct TlsListener {
    rx: tokio::sync::mpsc::Receiver<(
        IdleIo<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>,
        std::net::SocketAddr,
    )>,
    addr: std::net::SocketAddr,
}

impl TlsListener {
    pub fn new(
        tcp: tokio::net::TcpListener,
        cert_pem: &str,
        key_pem: &str,
        idle: Duration,
    ) -> Result<Self, String> {
        use rustls::pki_types::pem::PemObject;
        let certs = rustls::pki_types::CertificateDer::pem_slice_iter(cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("bad certificate: {e}"))?;
        let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|e| format!("bad key: {e}"))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| e.to_string())?;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
        let addr = tcp.local_addr().map_err(|e| e.to_string())?;
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let Ok((sock, peer)) = tcp.accept().await else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(sock)).await
                    {
                        Ok(Ok(s)) => {
                            let _ = tx.send((IdleIo::new(s, idle), peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { rx, addr })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = IdleIo<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(x) => x,
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}

/// A connection whose reads fail with `TimedOut` after `idle` without a
/// byte (`--read-timeout-ms`, 30 s by default), so a request sent
/// half-way (or an idle keep-alive connection) cannot hold a task forever.
pub struct IdleIo<S> {
    inner: S,
    idle: Duration,
    sleep: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl<S> IdleIo<S> {
    pub fn new(inner: S, idle: Duration) -> Self {
        IdleIo {
            inner,
            idle,
            sleep: None,
        }
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for IdleIo<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        match std::pin::Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                self.sleep = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let idle = self.idle;
                let sleep = self
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the client sent nothing in time",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for IdleIo<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Plain HTTP (`--http`) with the same idle timeout.
struct PlainListener {
    tcp: tokio::net::TcpListener,
    idle: Duration,
}

impl axum::serve::Listener for PlainListener {
    type Io = IdleIo<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.tcp.accept().await {
                Ok((s, a)) => return (IdleIo::new(s, self.idle), a),
                // out of descriptors and the like: do not spin
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Binds, prints `vmax-sim listening on <url>` and serves until killed.
/// `http` selects plain HTTP; otherwise HTTPS with the kept certificate.
pub async fn serve(sim: Arc<Sim>, listen: &str, plain_http: bool) -> Result<(), String> {
    let tcp = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = tcp.local_addr().map_err(|e| e.to_string())?;
    let app = router(sim.clone());
    // the address it really listens on (0.0.0.0 means every interface)
    let host = match addr.ip() {
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    if plain_http {
        println!("vmax-sim listening on http://{host}:{}", addr.port());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let idle = sim.cfg.read_timeout;
        axum::serve(PlainListener { tcp, idle }, app)
            .await
            .map_err(|e| e.to_string())
    } else {
        let dir = sim
            .cfg
            .cert_dir
            .clone()
            .or_else(|| {
                sim.cfg
                    .state
                    .as_ref()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
            })
            .filter(|p| !p.as_os_str().is_empty());
        let (cert, key) = match &dir {
            Some(d) => load_or_make_cert(d)?,
            None if sim.cfg.state.is_some() => load_or_make_cert(Path::new("."))?,
            None => {
                let (_, chain, key) = make_cert()?;
                (chain, key)
            }
        };
        let listener = TlsListener::new(tcp, &cert, &key, sim.cfg.read_timeout)?;
        println!("vmax-sim listening on https://{host}:{}", addr.port());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        axum::serve(listener, app).await.map_err(|e| e.to_string())
    }
}
