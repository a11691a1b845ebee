//! An async client for the Unisphere for VMAX/PowerMax REST API.
//!
//! It holds no policy: it knows paths, shapes, authentication, TLS, jobs,
//! iterators, retries and errors. Retries are bounded, with backoff, and only
//! where repeating is safe: reads, requests that never reached the server,
//! 503s, and the array's "device lock" contention (which changed nothing).
//! Nothing here logs a header or a password.

pub mod api;
pub mod poll;
pub mod types;

pub use api::{Array, Limits, NewVolume, SloParam};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
pub use types::*;

/// Connection settings.
#[derive(Clone)]
pub struct Config {
    /// `https://host:8443` (or `http://` for a simulator started with `--http`).
    pub endpoint: String,
    pub username: String,
    pub password: String,
    pub insecure: bool,
    /// PEM bundle of CAs to trust instead of the system's.
    pub ca_cert_pem: Option<String>,
    /// API version path, e.g. `100`; discovered when `None`.
    pub api_version: Option<String>,
    pub request_timeout: Duration,
    pub job_poll_interval: Duration,
    pub job_timeout: Duration,
    pub max_retries: u32,
    /// The Terraform version ConfigureProvider reported, for the User-Agent.
    pub terraform_version: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("endpoint", &self.endpoint)
            .field("username", &self.username)
            .field("password", &"(sensitive)")
            .field("insecure", &self.insecure)
            .field("api_version", &self.api_version)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: String::new(),
            username: String::new(),
            password: String::new(),
            insecure: false,
            ca_cert_pem: None,
            api_version: None,
            request_timeout: Duration::from_secs(120),
            job_poll_interval: Duration::from_secs(3),
            job_timeout: Duration::from_secs(600),
            max_retries: 4,
            terraform_version: None,
        }
    }
}

/// A failed call, with the operation, HTTP status and the array's message.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("{op}: Unisphere answered HTTP {status}: {message}")]
    Api {
        op: String,
        status: u16,
        message: String,
    },
    #[error("{op}: cannot reach Unisphere at {endpoint}: {detail}")]
    Unreachable {
        op: String,
        endpoint: String,
        detail: String,
        /// The request may have reached the array (the connection broke
        /// after it was sent, or no answer came in time).
        sent: bool,
    },
    #[error("{op}: job {job_id} failed: {result}")]
    JobFailed {
        op: String,
        job_id: String,
        result: String,
    },
    #[error(
        "{op}: job {job_id} did not finish within {secs} s; it may still complete on the array (check job {job_id} in Unisphere)"
    )]
    JobTimeout {
        op: String,
        job_id: String,
        secs: u64,
    },
    #[error("{op}: {detail}")]
    Other { op: String, detail: String },
}

impl Error {
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
    /// Whether a change may have happened although the call failed: a 503,
    /// a connection lost after the request was sent, or a job that did not
    /// finish in time. Such a change is reconciled by reading the array.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            Error::Api { status, .. } => *status == 503,
            Error::Unreachable { sent, .. } => *sent,
            Error::JobTimeout { .. } => true,
            _ => false,
        }
    }
    /// The array's own message, when there is one.
    pub fn message(&self) -> String {
        match self {
            Error::Api { message, .. } => message.clone(),
            Error::JobFailed { result, .. } => result.clone(),
            other => other.to_string(),
        }
    }
    /// The same failure, told as part of operation `op`.
    pub fn for_op(mut self, new_op: String) -> Self {
        match &mut self {
            Error::Api { op, .. }
            | Error::Unreachable { op, .. }
            | Error::JobFailed { op, .. }
            | Error::JobTimeout { op, .. }
            | Error::Other { op, .. } => *op = new_op,
        }
        self
    }
    fn other(op: &str, detail: impl Into<String>) -> Self {
        Error::Other {
            op: op.into(),
            detail: detail.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// What an asynchronous change produced.
#[derive(Debug, Clone, Default)]
pub struct Done {
    /// The finished job, if the array ran the change as a job.
    pub job: Option<Job>,
    /// The body of a synchronous answer.
    pub body: Value,
}

impl Done {
    /// Device ids named in brackets in the job's task text ("... : [0001A]").
    pub fn new_device_ids(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(j) = &self.job {
            for t in &j.task {
                out.extend(device_ids_in(&t.description));
            }
        }
        out
    }
}

/// Five-hex-digit device ids inside the last bracketed list of a text.
pub fn device_ids_in(text: &str) -> Vec<String> {
    let Some(open) = text.rfind('[') else {
        return vec![];
    };
    let Some(close) = text[open..].find(']') else {
        return vec![];
    };
    text[open + 1..open + close]
        .split(',')
        .map(str::trim)
        .filter(|s| s.len() == 5 && s.chars().all(|c| c.is_ascii_hexdigit()))
        .map(|s| s.to_ascii_uppercase())
        .collect()
}

/// The client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    cfg: Arc<Config>,
    base: String,
    version: String,
    /// How long the array's jobs take, as its own clock says (a moving
    /// average, 0 until one is seen): the first look at a job is aimed there.
    job_ms: Arc<std::sync::atomic::AtomicU64>,
    /// The shortest round trip of any request so far (ms; `u64::MAX`
    /// until one is seen): what a request spends on the way, at least.
    min_rtt_ms: Arc<std::sync::atomic::AtomicU64>,
}

/// `terraform-provider-vmax/<version>`, with `Terraform/<version>` in front
/// when Terraform said which it is (the convention of HashiCorp's SDKs).
pub fn user_agent(terraform: Option<&str>) -> String {
    let ours = concat!("terraform-provider-vmax/", env!("CARGO_PKG_VERSION"));
    match terraform.filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_graphic())) {
        Some(v) => format!("Terraform/{v} (+https://www.terraform.io) {ours}"),
        None => ours.to_string(),
    }
}

impl Client {
    /// Builds the HTTP client and settles the API version (asking
    /// `GET /univmax/restapi/version` when it is not configured).
    pub async fn connect(cfg: Config) -> Result<Client> {
        let op = "connect to Unisphere";
        let mut b = reqwest::Client::builder()
            .timeout(cfg.request_timeout)
            .connect_timeout(Duration::from_secs(15))
            .user_agent(user_agent(cfg.terraform_version.as_deref()));
        if cfg.insecure {
            b = b.tls_danger_accept_invalid_certs(true);
        } else if let Some(pem) = &cfg.ca_cert_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
                Error::other(
                    op,
                    format!("ca_cert_file is not a PEM certificate bundle: {e}"),
                )
            })?;
            if certs.is_empty() {
                return Err(Error::other(op, "ca_cert_file holds no certificate"));
            }
            b = b.tls_certs_only(certs);
        }
        let http = b.build().map_err(|e| Error::other(op, e.to_string()))?;
        let endpoint = cfg.endpoint.trim_end_matches('/').to_string();
        if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
            return Err(Error::other(
                op,
                format!(
                    "endpoint {endpoint:?} must start with https:// (or http:// for a simulator)"
                ),
            ));
        }
        let base = if endpoint.ends_with("/univmax/restapi") {
            endpoint.clone()
        } else {
            format!("{endpoint}/univmax/restapi")
        };
        let mut c = Client {
            http,
            cfg: Arc::new(cfg),
            base,
            version: String::new(),
            job_ms: Arc::default(),
            min_rtt_ms: Arc::new(std::sync::atomic::AtomicU64::new(u64::MAX)),
        };
        let v: VersionInfo = c.get_raw(op, "/version", &[]).await?;
        if let Some(want) = &c.cfg.api_version
            && !v.supported_api_versions.is_empty()
            && !v.supported_api_versions.iter().any(|s| s == want)
        {
            return Err(Error::other(
                op,
                format!(
                    "api_version {want} is not served by this Unisphere ({}); it serves {}",
                    v.version,
                    v.supported_api_versions.join(", ")
                ),
            ));
        }
        c.version = match &c.cfg.api_version {
            Some(v) => v.clone(),
            None => v
                .api_version
                .clone()
                .unwrap_or_else(|| derive_api_version(&v.version)),
        };
        tracing::debug!(unisphere = %v.version, api = %c.version, "connected to Unisphere");
        Ok(c)
    }

    /// The API version used in paths (`100`, `84`...).
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn version_number(&self) -> u32 {
        self.version.parse().unwrap_or(100)
    }

    /// How long one job may take (the provider's `job_timeout`).
    pub fn job_timeout(&self) -> Duration {
        self.cfg.job_timeout
    }

    pub fn endpoint(&self) -> &str {
        &self.cfg.endpoint
    }

    /// `/{ver}/...` path for a resource.
    pub(crate) fn path(&self, rest: &str) -> String {
        format!("/{}/{}", self.version, rest.trim_start_matches('/'))
    }

    async fn get_raw<T: DeserializeOwned>(
        &self,
        op: &str,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T> {
        let v = self.request(op, Method::GET, path, query, None).await?;
        serde_json::from_value(v.1)
            .map_err(|e| Error::other(op, format!("unexpected answer shape: {e}")))
    }

    /// GET and decode.
    pub async fn get<T: DeserializeOwned>(
        &self,
        op: &str,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T> {
        self.get_raw(op, path, query).await
    }

    /// GET, `None` on 404.
    pub async fn get_opt<T: DeserializeOwned>(&self, op: &str, path: &str) -> Result<Option<T>> {
        match self.get_raw(op, path, &[]).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends a change for synchronous execution: one request, answered when
    /// the array has made it (an array that still answers with a job, 202,
    /// is waited for). Cheap edits go this way: no job to poll.
    pub async fn change(&self, op: &str, method: Method, path: &str, body: Value) -> Result<Done> {
        let (status, v) = self.request(op, method, path, &[], Some(&body)).await?;
        self.settle(op, status, v, &|_| {}).await
    }

    /// A change sent with `executionOption: ASYNCHRONOUS`, whose job id is
    /// handed to `accepted` as soon as the array accepts it, before the
    /// wait (the create journal records it).
    pub async fn change_noting(
        &self,
        op: &str,
        method: Method,
        path: &str,
        mut body: Value,
        accepted: &(dyn Fn(&str) + Sync),
    ) -> Result<Done> {
        if let Value::Object(m) = &mut body {
            m.insert("executionOption".into(), json!("ASYNCHRONOUS"));
        }
        let (status, v) = self.request(op, method, path, &[], Some(&body)).await?;
        self.settle(op, status, v, accepted).await
    }

    /// A change's answer: a job (202) is waited for, anything else is done.
    async fn settle(
        &self,
        op: &str,
        status: u16,
        v: Value,
        accepted: &(dyn Fn(&str) + Sync),
    ) -> Result<Done> {
        if status == 202 {
            let id = v
                .get("jobId")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::other(op, "job accepted without a jobId"))?
                .to_string();
            accepted(&id);
            let job = self.wait_job(op, &id).await?;
            Ok(Done {
                job: Some(job),
                body: Value::Null,
            })
        } else {
            Ok(Done { job: None, body: v })
        }
    }

    /// DELETE, optionally with a body; 404 is an error for the caller to judge.
    pub async fn delete(&self, op: &str, path: &str, body: Option<Value>) -> Result<()> {
        self.request(op, Method::DELETE, path, &[], body.as_ref())
            .await
            .map(|_| ())
    }

    /// How job and copy waits pace their polls.
    pub fn pace(&self) -> poll::Pace {
        let max = self.cfg.job_poll_interval;
        poll::Pace::new(
            max.min(Duration::from_millis(250))
                .max(Duration::from_millis(20)),
            max,
        )
    }

    /// A job as the array reports it now; `None` when it does not know it.
    pub async fn job(&self, id: &str) -> Result<Option<Job>> {
        self.get_opt(
            "read job",
            &self.path(&format!("system/job/{}", api::seg(id))),
        )
        .await
    }

    /// Polls a job until it ends or the job timeout passes.
    pub async fn wait_job(&self, op: &str, id: &str) -> Result<Job> {
        let deadline = tokio::time::Instant::now() + self.cfg.job_timeout;
        let path = self.path(&format!("system/job/{}", api::seg(id)));
        let learnt = self.job_ms.load(std::sync::atomic::Ordering::Relaxed);
        // the look is aimed to reach the array when the job is done: the
        // job's duration less the shortest round trip seen (the accept's
        // way back and the look's way there), so it is never early
        let rtt = match self.min_rtt_ms.load(std::sync::atomic::Ordering::Relaxed) {
            u64::MAX => 0,
            r => r,
        };
        let pace = match learnt.saturating_sub(rtt) {
            _ if learnt == 0 => self.pace(),
            ms => {
                let max = self.cfg.job_poll_interval.max(Duration::from_millis(20));
                poll::Pace::new(
                    Duration::from_millis(ms)
                        .max(Duration::from_millis(20))
                        .min(max),
                    max,
                )
            }
        };
        let done = poll::poll(pace, deadline, || async {
            let j: Job = self.get_raw(op, &path, &[]).await?;
            match j.status.as_str() {
                "SUCCEEDED" => {
                    if let Some(d) = j.duration_ms() {
                        let old = self.job_ms.load(std::sync::atomic::Ordering::Relaxed);
                        let new = if old == 0 { d } else { (old * 3 + d) / 4 };
                        self.job_ms
                            .store(new.max(1), std::sync::atomic::Ordering::Relaxed);
                    }
                    Ok(poll::Step::Done(j))
                }
                "FAILED" => Err(Error::JobFailed {
                    op: op.into(),
                    job_id: id.into(),
                    result: j.result.clone().unwrap_or_else(|| "no reason given".into()),
                }),
                _ => Ok(poll::Step::Wait(None)),
            }
        })
        .await?;
        done.ok_or_else(|| Error::JobTimeout {
            op: op.into(),
            job_id: id.into(),
            secs: self.cfg.job_timeout.as_secs(),
        })
    }

    /// Follows an iterator to the end and releases it.
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        op: &str,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<T>> {
        let first: IteratorPage<T> = self.get_raw(op, path, query).await?;
        let mut out = first.result_list.map(|r| r.result).unwrap_or_default();
        let count = first.count.unwrap_or(out.len());
        if let Some(id) = first.id.as_deref() {
            let page = first.max_page_size.unwrap_or(1000).max(1);
            while out.len() < count {
                let from = out.len() + 1;
                let to = (from + page - 1).min(count);
                let (f, t) = (from.to_string(), to.to_string());
                let p: PageResult<T> = self
                    .get_raw(
                        op,
                        &format!("/common/Iterator/{id}/page"),
                        &[("from", &f), ("to", &t)],
                    )
                    .await?;
                if p.result.is_empty() {
                    break;
                }
                out.extend(p.result);
            }
            // release iterators that held more than one page
            if count > page {
                let _ = self
                    .request(
                        op,
                        Method::DELETE,
                        &format!("/common/Iterator/{id}"),
                        &[],
                        None,
                    )
                    .await;
            }
        }
        Ok(out)
    }

    /// One HTTP exchange with bounded, safe retries. Returns status and JSON.
    pub async fn request(
        &self,
        op: &str,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<(u16, Value)> {
        let url = format!("{}{}", self.base, path);
        let idempotent = method == Method::GET;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut rb = self
                .http
                .request(method.clone(), &url)
                .basic_auth(&self.cfg.username, Some(&self.cfg.password))
                .header("Accept", "application/json");
            if !query.is_empty() {
                rb = rb.query(query);
            }
            if let Some(b) = body {
                rb = rb.json(b);
            }
            tracing::debug!(%method, path, attempt, "unisphere request");
            let sent = std::time::Instant::now();
            let retry_after = match rb.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let text = resp.text().await.unwrap_or_default();
                    self.min_rtt_ms.fetch_min(
                        sent.elapsed().as_millis() as u64,
                        std::sync::atomic::Ordering::Relaxed,
                    );
                    let v: Value = if text.trim().is_empty() {
                        Value::Null
                    } else {
                        serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
                    };
                    if (200..300).contains(&status) {
                        return Ok((status, v));
                    }
                    let message = v
                        .get("message")
                        .and_then(Value::as_str)
                        .map(String::from)
                        .unwrap_or_else(|| {
                            if text.is_empty() {
                                format!("HTTP {status}")
                            } else {
                                text.chars().take(500).collect()
                            }
                        });
                    let lock = status == 500
                        && message.contains("Unable to acquire the Symmetrix device lock");
                    let err = Error::Api {
                        op: op.into(),
                        status,
                        message: explain(status, &message),
                    };
                    // a 503 to a change may come after the change was made:
                    // only reads are repeated; the caller reconciles a change
                    if ((status == 503 && idempotent) || lock) && attempt <= self.cfg.max_retries {
                        tracing::debug!(status, attempt, "transient Unisphere error; retrying");
                        err
                    } else {
                        return Err(err);
                    }
                }
                Err(e) => {
                    // a request that never connected cannot have changed anything
                    let safe = idempotent || e.is_connect();
                    let err = Error::Unreachable {
                        op: op.into(),
                        endpoint: self.cfg.endpoint.clone(),
                        detail: describe(&e),
                        sent: !e.is_connect(),
                    };
                    if safe && attempt <= self.cfg.max_retries && !e.is_builder() {
                        err
                    } else {
                        return Err(err);
                    }
                }
            };
            let _ = retry_after;
            let backoff = Duration::from_millis(100u64 << attempt.min(6));
            tokio::time::sleep(backoff).await;
        }
    }
}

fn explain(status: u16, message: &str) -> String {
    match status {
        401 => format!("{message} (check the provider's username and password)"),
        403 => format!("{message} (the user lacks the role this operation needs)"),
        _ => message.to_string(),
    }
}

/// A readable cause chain for a transport error (certificate, refusal...).
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    if s.contains("NotValidForName") || s.contains("not valid for name") {
        s.push_str(" (hostname mismatch: the certificate does not name the host in the endpoint; connect by a name the certificate holds)");
    } else if s.contains("certificate") || s.contains("UnknownIssuer") {
        s.push_str(" (the server's certificate is not trusted: set ca_cert_file to the CA that signed it, or, on a test system only, insecure = true)");
    } else if s.contains("invalid HTTP version") {
        s.push_str(" (the endpoint speaks TLS: use https://)");
    }
    s
}

/// `V10.4.0.0` → `104`, `V8.4.0.6` → `84`.
pub fn derive_api_version(v: &str) -> String {
    let mut p = v.trim_start_matches(['V', 'v']).split('.');
    format!("{}{}", p.next().unwrap_or("10"), p.next().unwrap_or("0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_names_terraform_when_known() {
        let ours = concat!("terraform-provider-vmax/", env!("CARGO_PKG_VERSION"));
        assert_eq!(user_agent(None), ours);
        assert_eq!(user_agent(Some("")), ours);
        assert_eq!(
            user_agent(Some("1.11.4")),
            format!("Terraform/1.11.4 (+https://www.terraform.io) {ours}")
        );
        // nothing that could break the header
        assert_eq!(user_agent(Some("1.11\r\nX: y")), ours);
    }

    #[test]
    fn device_ids_come_from_the_last_bracket() {
        assert_eq!(
            device_ids_in("Creating new Volumes for OS-vol1 : [0001A]"),
            vec!["0001A"]
        );
        assert_eq!(
            device_ids_in("Create [sg] - Creating new Volumes : [0001A, 0001b]"),
            vec!["0001A", "0001B"]
        );
        assert!(device_ids_in("no ids").is_empty());
        assert!(device_ids_in("Create Storage Group [OS-SRP_1-Diamond-SG]").is_empty());
    }

    #[test]
    fn api_version_is_derived_from_the_version_string() {
        assert_eq!(derive_api_version("V10.4.0.0"), "104");
        assert_eq!(derive_api_version("V8.4.0.6"), "84");
        assert_eq!(derive_api_version("V9.2.1.4"), "92");
    }

    #[test]
    fn config_debug_hides_the_password() {
        let c = Config {
            password: "s3cret".into(),
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
