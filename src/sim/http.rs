//! The Unisphere REST surface: one dispatcher over path segments, so that
//! every API version prefix, the `private/` forms and metrics by path
//! template are handled in one place. Requests become calls on the model;
//! answers are rendered by `render` in the shape of the path's version.

use super::Sim;
use super::filters::{self, Field};
use super::model::{Array, HostIoLimit, NewStorageGroup, PortKey, SimError, SimResult, SnapSel};
use super::render;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// API versions served under `/univmax/restapi/{ver}/`.
pub const VERSIONS: &[u32] = &[83, 84, 90, 91, 92, 100, 101, 102, 103, 104, 110];

pub type Query = BTreeMap<String, String>;

/// What one route produced: status and body, or a refusal.
pub(crate) type Answer = SimResult<(StatusCode, Value)>;

fn ok(v: Value) -> Answer {
    Ok((StatusCode::OK, v))
}

pub fn error_response(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, axum::Json(json!({ "message": message }))).into_response()
}

/// A response whose body fails at once: the client sees the connection
/// close before an answer arrives.
fn dropped_connection() -> Response {
    let stream = tokio_stream::once(Err::<Bytes, std::io::Error>(std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "simulated: connection dropped after the change was made",
    )));
    Response::builder()
        .status(StatusCode::OK)
        .body(axum::body::Body::from_stream(stream))
        .unwrap_or_else(|_| error_response(500, "cannot build the dropped answer"))
}

fn parse_query(uri: &Uri) -> Query {
    let mut q = Query::new();
    if let Some(s) = uri.query() {
        for (k, v) in form_urlencoded::parse(s.as_bytes()) {
            q.insert(k.into_owned(), v.into_owned());
        }
    }
    q
}

/// Entry point for everything under `/univmax/restapi/`.
pub async fn handle(
    sim: Arc<Sim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    if !sim.authorized(&headers) {
        sim.metrics.record(method.as_str(), "(unauthorized)", 401);
        return error_response(
            401,
            "Unauthorized: the user name or password is wrong (HTTP Basic authentication is required)",
        );
    }
    let lose_answer = match sim.inject_faults(&method, &path, &body).await {
        Err(resp) => return resp,
        Ok(lost) => lost,
    };
    let query = parse_query(&uri);
    let raw_body = body.clone();
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                sim.metrics.record(method.as_str(), "(bad json)", 400);
                return error_response(400, &format!("The request body is not valid JSON: {e}"));
            }
        }
    };
    // PyU4V 10.4 sends the enhanced API to /univmax/rest/v1/...; the
    // versioned API lives under /univmax/restapi
    let rest = match path.strip_prefix("/univmax/rest/") {
        Some(r) if r.starts_with("v1/") => r,
        _ => path.trim_start_matches("/univmax/restapi"),
    }
    .trim_matches('/');
    // a segment is split first, then percent-decoded, as a web server does:
    // an encoded '/' stays inside its segment
    let decoded: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segs: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let (template, mut answer) = route(&sim, &method, &segs, &query, &body).await;
    // routes know only the segments after the version: name the whole path
    if let Err(e) = &mut answer
        && e.status == 404
        && e.message.starts_with("No such resource: ")
    {
        e.message = format!("No such resource: {method} {path}");
    }
    let status = match &answer {
        Ok((s, _)) => s.as_u16(),
        Err(e) => e.status,
    };
    sim.metrics.record(method.as_str(), &template, status);
    let agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    sim.metrics
        .log(method.as_str(), &path, status, &raw_body, agent);
    // the change is made (and persisted); only its answer is lost
    match lose_answer.as_deref() {
        Some("close") => return dropped_connection(),
        Some(_) => {
            return error_response(
                503,
                "Service Unavailable (simulated: the change was made, the answer lost)",
            );
        }
        None => {}
    }
    match answer {
        Ok((s, _)) if s == StatusCode::NO_CONTENT => (s, ()).into_response(),
        Ok((s, v)) => (s, axum::Json(v)).into_response(),
        Err(e) => {
            tracing::debug!(status = e.status, message = %e.message, %method, %path, "refused");
            error_response(e.status, &e.message)
        }
    }
}

fn not_found_route(method: &Method, segs: &[&str]) -> SimError {
    SimError::not_found(format!(
        "No such resource: {method} /univmax/restapi/{}",
        segs.join("/")
    ))
}

fn method_not_allowed(method: &Method) -> SimError {
    SimError {
        status: 405,
        message: format!("Method {method} is not allowed on this resource"),
    }
}

async fn route(
    sim: &Arc<Sim>,
    method: &Method,
    segs: &[&str],
    q: &Query,
    body: &Value,
) -> (String, Answer) {
    // unversioned paths
    match segs {
        ["version"] if method == Method::GET => {
            return ("/version".into(), ok(sim.version_body()));
        }
        ["common", "Iterator", id, "page"] => {
            return (
                "/common/Iterator/{id}/page".into(),
                sim.iterator_page(id, q),
            );
        }
        ["common", "Iterator", id] if method == Method::DELETE => {
            return ("/common/Iterator/{id}".into(), sim.iterator_delete(id));
        }
        _ => {}
    }
    // the enhanced API (Unisphere 10.x): /univmax/restapi/v1/systems/{array}/...
    if let ["v1", "systems", a, kind @ ("volumes" | "storage-groups")] = segs {
        let template = format!("/v1/systems/{{array}}/{kind}");
        if method != Method::GET {
            return (template, Err(method_not_allowed(method)));
        }
        if !sim.serves_enhanced_api() {
            return (
                template,
                Err(SimError::not_found(format!(
                    "No such resource: GET /univmax/restapi/v1/systems/{a}/{kind} (the enhanced API needs Unisphere 10.0 or later; this one reports {})",
                    sim.cfg.unisphere_version
                ))),
            );
        }
        let w = sim.world.lock().await;
        let ans = w.array(a).and_then(|arr| {
            super::enhanced::list(arr, kind, q.get("select"), q.get("filter"))
                .map(|v| (StatusCode::OK, v))
        });
        return (template, ans);
    }
    let (private, segs) = match segs {
        ["private", rest @ ..] => (true, rest),
        _ => (false, segs),
    };
    let Some((ver_s, rest)) = segs.split_first() else {
        return ("(unknown)".into(), Err(not_found_route(method, segs)));
    };
    let ver: u32 = match ver_s.parse() {
        Ok(v) if VERSIONS.contains(&v) => v,
        _ => {
            return (
                "(unknown)".into(),
                Err(SimError::not_found(format!(
                    "API version '{ver_s}' is not supported; supported versions are {}",
                    VERSIONS
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            );
        }
    };
    let mut t = String::from(if private { "/private/{ver}" } else { "/{ver}" });
    let ans = route_versioned(sim, method, ver, private, rest, q, body, &mut t).await;
    (t, ans)
}

#[allow(clippy::too_many_arguments)]
async fn route_versioned(
    sim: &Arc<Sim>,
    m: &Method,
    ver: u32,
    private: bool,
    segs: &[&str],
    q: &Query,
    body: &Value,
    t: &mut String,
) -> Answer {
    let get = *m == Method::GET;
    match segs {
        ["version"] | ["system", "version"] => {
            t.push_str("/system/version");
            ok(sim.version_body())
        }
        ["common", "Iterator", id, "page"] => {
            t.push_str("/common/Iterator/{id}/page");
            sim.iterator_page(id, q)
        }
        ["common", "Iterator", id] if *m == Method::DELETE => {
            t.push_str("/common/Iterator/{id}");
            sim.iterator_delete(id)
        }
        ["system", "symmetrix"] if get => {
            t.push_str("/system/symmetrix");
            let w = sim.world.lock().await;
            ok(json!({"symmetrixId": w.arrays.keys().collect::<Vec<_>>()}))
        }
        ["system", "symmetrix", a] if get => {
            t.push_str("/system/symmetrix/{array}");
            let w = sim.world.lock().await;
            let a = w.array(a)?;
            ok(json!({
                "symmetrixId": a.symmetrix_id, "model": a.model, "ucode": a.ucode,
                "local": a.local, "device_count": a.volumes.len(),
                "disk_count": 64, "cache_size_mb": 262144,
            }))
        }
        ["system", "job", id] if get => {
            t.push_str("/system/job/{id}");
            sim.job_body(id, None).await
        }
        ["system", "symmetrix", a, "job", id] if get => {
            t.push_str("/system/symmetrix/{array}/job/{id}");
            sim.job_body(id, Some(a)).await
        }
        ["system", "symmetrix", a, "health"] if get => {
            t.push_str("/system/symmetrix/{array}/health");
            let w = sim.world.lock().await;
            w.array(a)?;
            let now = super::now_ms();
            let metric = |name: &str| json!({"cached_date": now, "expired": false, "metric": name, "instance_metrics": [{}], "health_score": 100, "data_date": now});
            ok(json!({
                "num_failed_disks": 0,
                "health_score_metric": [metric("SERVICE_LEVEL_COMPLIANCE"), metric("OVERALL"), metric("CAPACITY"), metric("CONFIGURATION"), metric("SYSTEM_UTILIZATION")],
            }))
        }
        ["system", "tag"] if get => {
            t.push_str("/system/tag");
            ok(json!({"tag_name": []}))
        }
        ["system", "symmetrix", a, "director"] if get => {
            t.push_str("/system/symmetrix/{array}/director");
            let w = sim.world.lock().await;
            let a = w.array(a)?;
            let dirs: std::collections::BTreeSet<&str> =
                a.ports.values().map(|p| p.key.director.as_str()).collect();
            ok(json!({"directorId": dirs}))
        }
        ["system", "symmetrix", a, "director", dir, "port"] if get => {
            t.push_str("/system/symmetrix/{array}/director/{dir}/port");
            let w = sim.world.lock().await;
            let a = w.array(a)?;
            let ip = q.get("ip_list");
            let keys: Vec<Value> = a
                .ports
                .values()
                .filter(|p| p.key.director == *dir)
                .filter(|p| ip.is_none_or(|ip| p.ip_addresses.iter().any(|x| x == ip)))
                .map(|p| json!({"directorId": p.key.director, "portId": p.key.port}))
                .collect();
            ok(json!({"symmetrixPortKey": keys}))
        }
        ["system", "symmetrix", a, "director", dir, "port", port] if get => {
            t.push_str("/system/symmetrix/{array}/director/{dir}/port/{port}");
            let w = sim.world.lock().await;
            let a = w.array(a)?;
            render::director_port(a, dir, port, true)
                .map(|v| (StatusCode::OK, v))
                .ok_or_else(|| SimError::not_found(format!("Cannot find port {dir}:{port}")))
        }
        ["replication", "capabilities", "symmetrix"] if get => {
            t.push_str("/replication/capabilities/symmetrix");
            let w = sim.world.lock().await;
            let caps: Vec<Value> = w
                .arrays
                .keys()
                .map(|s| json!({"symmetrixId": s, "snapVxCapable": true, "rdfCapable": true}))
                .collect();
            ok(json!({"symmetrixCapability": caps}))
        }
        ["wlp", "symmetrix", a, "headroom"] if get => {
            t.push_str("/wlp/symmetrix/{array}/headroom");
            let w = sim.world.lock().await;
            let a = w.array(a)?;
            let srp = q.get("srp").cloned().unwrap_or_default();
            if !a.srps.contains_key(&srp) {
                return Err(SimError::not_found(format!("Cannot find SRP {srp}")));
            }
            let slo = q.get("slo").map(String::as_str).unwrap_or("None");
            let wl = q.get("workloadtype").map(String::as_str).unwrap_or("None");
            match a.headroom(&srp, slo, wl) {
                Some(h) => ok(
                    json!({"headroom": [{"headroomCapacity": h, "srp": srp, "sloName": slo, "workloadType": wl}]}),
                ),
                // no workload-planner data: a 4xx, never an empty list
                None => Err(SimError::not_found(format!(
                    "Workload planner data is not available for array {} (service level {slo}, workload {wl})",
                    a.symmetrix_id
                ))),
            }
        }
        ["sloprovisioning", "symmetrix"] if get => {
            t.push_str("/sloprovisioning/symmetrix");
            let w = sim.world.lock().await;
            let want = q
                .get("compressionCapable")
                .map(|v| v.eq_ignore_ascii_case("true"));
            let ids: Vec<&String> = w
                .arrays
                .values()
                .filter(|a| want.is_none_or(|c| a.compression_capable == c))
                .map(|a| &a.symmetrix_id)
                .collect();
            ok(json!({"symmetrixId": ids}))
        }
        ["sloprovisioning", "symmetrix", a, rest @ ..] => {
            t.push_str("/sloprovisioning/symmetrix/{array}");
            sloprovisioning(sim, m, ver, private, a, rest, q, body, t).await
        }
        ["replication", "symmetrix", a, rest @ ..] => {
            t.push_str("/replication/symmetrix/{array}");
            replication(sim, m, a, rest, q, body, t).await
        }
        _ => Err(not_found_route(m, segs)),
    }
}

fn s(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn truthy(v: &Value, k: &str) -> bool {
    match v.get(k) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

pub(crate) fn is_async(body: &Value) -> bool {
    s(body, "executionOption").is_some_and(|e| e.eq_ignore_ascii_case("ASYNCHRONOUS"))
}

/// Size in MB from `volume_size` and `capacityUnit`.
fn size_mb(attrs: &Value) -> SimResult<u64> {
    let raw = s(attrs, "volume_size")
        .ok_or_else(|| SimError::bad_request("volumeAttribute needs volume_size"))?;
    let n: f64 = raw
        .parse()
        .map_err(|_| SimError::bad_request(format!("volume_size '{raw}' is not a number")))?;
    if !(n.is_finite() && n > 0.0) {
        return Err(SimError::bad_request(format!(
            "volume_size must be greater than 0, not {raw}"
        )));
    }
    let unit = s(attrs, "capacityUnit").unwrap_or_else(|| "GB".into());
    let mb = match unit.to_ascii_uppercase().as_str() {
        "MB" => n,
        "GB" => n * 1024.0,
        "TB" => n * 1024.0 * 1024.0,
        "CYL" => n * 1.875,
        other => {
            return Err(SimError::bad_request(format!(
                "capacityUnit '{other}' is not one of MB, GB, TB, CYL"
            )));
        }
    };
    if mb > 64.0 * 1024.0 * 1024.0 {
        return Err(SimError::bad_request(
            "A volume can be at most 64 TB (65536 GB)",
        ));
    }
    Ok(mb.ceil() as u64)
}

/// New volumes requested in an `addVolumeParam` or `sloBasedStorageGroupParam`,
/// in either the 8.4 form (`volumeAttribute` object) or 9.0+ (`volumeAttributes` list).
fn new_volume_requests(p: &Value) -> SimResult<Vec<(u32, u64, Option<String>)>> {
    let ident = |v: &Value| -> Option<String> {
        v.get("volumeIdentifier")
            .and_then(|i| s(i, "identifier_name"))
    };
    let count = |v: &Value| -> u32 {
        v.get("num_of_vols")
            .and_then(|n| {
                n.as_u64()
                    .or_else(|| n.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(0) as u32
    };
    let mut out = Vec::new();
    if let Some(list) = p.get("volumeAttributes").and_then(Value::as_array) {
        for a in list {
            let n = count(a);
            if n > 0 {
                out.push((n, size_mb(a)?, ident(a)));
            }
        }
    } else if let Some(a) = p.get("volumeAttribute") {
        let n = count(p);
        if n > 0 && s(a, "volume_size").as_deref() != Some("0") {
            out.push((n, size_mb(a)?, ident(p)));
        }
    }
    Ok(out)
}

fn id_list(v: &Value, k: &str) -> Vec<String> {
    match v.get(k) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => vec![],
    }
}

#[allow(clippy::too_many_arguments)]
async fn sloprovisioning(
    sim: &Arc<Sim>,
    m: &Method,
    ver: u32,
    private: bool,
    array: &str,
    segs: &[&str],
    q: &Query,
    body: &Value,
    t: &mut String,
) -> Answer {
    let get = *m == Method::GET;
    let link = |kind: &str, id: &str| {
        format!("/univmax/restapi/{ver}/sloprovisioning/symmetrix/{array}/{kind}/{id}")
    };
    match segs {
        [] if get => {
            t.push_str("");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            // 10.0 names the microcode `microcode` here (the spec's example); earlier `ucode`
            let mut v = json!({"symmetrixId": a.symmetrix_id, "model": a.model, "local": a.local,
                "device_count": a.volumes.len(), "default_fba_srp": a.default_srp()});
            v[if ver >= 100 { "microcode" } else { "ucode" }] = json!(a.ucode);
            ok(v)
        }
        ["slo"] if get => {
            t.push_str("/slo");
            let w = sim.world.lock().await;
            ok(json!({"sloId": w.array(array)?.slos}))
        }
        ["slo", id] if get => {
            t.push_str("/slo/{slo}");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            if !a.slos.iter().any(|s| s == id) {
                return Err(SimError::not_found(format!(
                    "Cannot find Service Level {id}"
                )));
            }
            ok(
                json!({"sloId": id, "sloBaseId": id, "num_of_storage_groups": a.storage_groups.values().filter(|g| g.slo.as_deref() == Some(id)).count()}),
            )
        }
        ["workloadtype"] if get => {
            t.push_str("/workloadtype");
            let w = sim.world.lock().await;
            ok(json!({"workloadId": w.array(array)?.workloads}))
        }
        ["srp"] if get => {
            t.push_str("/srp");
            let w = sim.world.lock().await;
            ok(json!({"srpId": w.array(array)?.srps.keys().collect::<Vec<_>>()}))
        }
        ["srp", id] if get => {
            t.push_str("/srp/{srp}");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            render::srp(a, id, ver)
                .map(|v| (StatusCode::OK, v))
                .ok_or_else(|| SimError::not_found(format!("Cannot find SRP {id}")))
        }
        ["storagegroup"] if get => {
            t.push_str("/storagegroup");
            filters::check(q, "storage group", SG_FILTERS)?;
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            let ids: Vec<&String> = a
                .storage_groups
                .keys()
                .filter(|k| {
                    q.get("storageGroupId").is_none_or(|f| like(f, k))
                        && q.get("volumeId")
                            .is_none_or(|d| a.storage_groups[*k].volumes.contains(d))
                        && (q.keys().all(|f| f == "storageGroupId" || f == "volumeId")
                            || render::storage_group(a, k, ver)
                                .is_some_and(|g| filters::matches(q, SG_FILTERS, &g)))
                })
                .collect();
            ok(json!({"storageGroupId": ids}))
        }
        ["storagegroup"] if *m == Method::POST => {
            t.push_str("/storagegroup");
            let id = s(body, "storageGroupId")
                .ok_or_else(|| SimError::bad_request("storageGroupId is required"))?;
            let srp = s(body, "srpId");
            let params = body
                .get("sloBasedStorageGroupParam")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let first = params.first().cloned().unwrap_or(Value::Null);
            let slo = s(&first, "sloId");
            let workload = s(&first, "workloadSelection");
            let no_compression = truthy(&first, "noCompression");
            let vols = if first.is_null() {
                vec![]
            } else {
                new_volume_requests(&first)?
            };
            let host_limit = first.get("setHostIOLimitsParam").cloned();
            let id2 = id.clone();
            let link = link("storagegroup", &id);
            let ans = sim
                .mutate(array, body, "Create Storage Group", &link, move |a| {
                    a.create_storage_group(NewStorageGroup {
                        id: id2.clone(),
                        srp,
                        slo,
                        workload,
                        no_compression,
                    })?;
                    let mut made = Vec::new();
                    for (n, mb, ident) in vols {
                        made.extend(a.create_volumes_at(&id2, n, mb, ident, super::now_ms())?);
                    }
                    if let Some(h) = host_limit {
                        a.set_host_io_limit(&id2, host_io_limit(&h))?;
                    }
                    Ok(task_text(&format!("Create Storage Group [{id2}]"), &made))
                })
                .await?;
            Ok(sim
                .sync_or_job(ans, StatusCode::CREATED, |a| {
                    render::storage_group(a, &id, ver)
                })
                .await)
        }
        ["storagegroup", sg] if get => {
            t.push_str("/storagegroup/{sg}");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            render::storage_group(a, sg, ver)
                .map(|v| (StatusCode::OK, v))
                .ok_or_else(|| SimError::not_found(format!("Cannot find Storage Group {sg}")))
        }
        ["storagegroup", sg] if *m == Method::PUT => {
            t.push_str("/storagegroup/{sg}");
            let edit = one_action(body, "editStorageGroupActionParam")?;
            if edit.0 == "addExistingStorageGroupParam" && ver != 83 {
                return Err(SimError::bad_request(format!(
                    "Unsupported editStorageGroupActionParam action addExistingStorageGroupParam on API {ver}: it goes inside expandStorageGroupParam (the bare form is API 8.3's)"
                )));
            }
            let sg = sg.to_string();
            let sg2 = sg.clone();
            let link = link("storagegroup", &sg);
            // a renamed group is answered under its new name
            let answered = match edit.0.as_str() {
                "renameStorageGroupParam" => {
                    s(&edit.1, "new_storage_Group_name").unwrap_or_else(|| sg.clone())
                }
                _ => sg.clone(),
            };
            let ans = sim
                .mutate(array, body, "Modify Storage Group", &link, move |a| {
                    edit_storage_group(a, &sg2, edit)
                })
                .await?;
            Ok(sim
                .sync_or_job(ans, StatusCode::OK, |a| {
                    render::storage_group(a, &answered, ver)
                })
                .await)
        }
        ["storagegroup", sg] if *m == Method::DELETE => {
            t.push_str("/storagegroup/{sg}");
            let sg = sg.to_string();
            sim.mutate(array, body, "Delete Storage Group", "", move |a| {
                a.delete_storage_group(&sg, ver <= 92)?;
                Ok(format!("Delete Storage Group [{sg}]"))
            })
            .await?;
            Ok((StatusCode::NO_CONTENT, Value::Null))
        }
        ["volume"] if get && private => {
            t.push_str("/volume");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            let vols: Vec<Value> = a
                .volumes
                .values()
                .filter(|v| q.get("wwn").is_none_or(|w| v.wwn.eq_ignore_ascii_case(w)))
                .filter(|v| q.get("volumeId").is_none_or(|d| v.volume_id == *d))
                .filter(|v| {
                    q.get("volume_identifier")
                        .is_none_or(|f| like(f, v.identifier.as_deref().unwrap_or("")))
                })
                .map(|v| render::private_volume(a, v, super::now_ms(), sim.cfg.copy_ms))
                .collect();
            drop(w);
            Ok((StatusCode::OK, sim.make_iterator(vols)))
        }
        ["volume"] if get => {
            t.push_str("/volume");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            filters::check(q, "volume", VOLUME_FILTERS)?;
            let ids = filter_volumes(a, q, ver, sim.lookup_lag_ms(), super::now_ms())?;
            drop(w);
            let results = ids.into_iter().map(|d| json!({"volumeId": d})).collect();
            Ok((StatusCode::OK, sim.make_iterator(results)))
        }
        ["volume", dev] if get => {
            t.push_str("/volume/{dev}");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            let v = a.volume(dev)?;
            ok(render::volume(a, v, ver))
        }
        ["volume", dev] if *m == Method::PUT => {
            t.push_str("/volume/{dev}");
            let edit = one_action(body, "editVolumeActionParam")?;
            let dev = dev.to_string();
            let d2 = dev.clone();
            let link = link("volume", &dev);
            let ans = sim
                .mutate(array, body, "Modify Volume", &link, move |a| {
                    edit_volume(a, &d2, edit)
                })
                .await?;
            Ok(sim
                .sync_or_job(ans, StatusCode::OK, |a| {
                    a.volumes.get(&dev).map(|v| render::volume(a, v, ver))
                })
                .await)
        }
        ["volume", dev] if *m == Method::DELETE => {
            t.push_str("/volume/{dev}");
            let dev = dev.to_string();
            sim.mutate(array, body, "Delete Volume", "", move |a| {
                a.delete_volume(&dev)?;
                Ok(format!("Delete Volume [{dev}]"))
            })
            .await?;
            Ok((StatusCode::NO_CONTENT, Value::Null))
        }
        ["host"] if get => {
            t.push_str("/host");
            filters::check(q, "host", HOST_FILTERS)?;
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            let ids: Vec<&String> = a
                .hosts
                .keys()
                .filter(|k| q.get("host_name").is_none_or(|f| like(f, k)))
                .filter(|k| {
                    render::host(a, k).is_some_and(|h| filters::matches(q, HOST_FILTERS, &h))
                })
                .collect();
            ok(json!({"hostId": ids}))
        }
        ["host"] if *m == Method::POST => {
            t.push_str("/host");
            let id =
                s(body, "hostId").ok_or_else(|| SimError::bad_request("hostId is required"))?;
            let inits = id_list(body, "initiatorId");
            let id2 = id.clone();
            let link = link("host", &id);
            let ans = sim
                .mutate(array, body, "Create Host", &link, move |a| {
                    a.create_host(&id2, &inits)?;
                    Ok(format!("Create Host [{id2}]"))
                })
                .await?;
            Ok(sim
                .sync_or_job(ans, StatusCode::CREATED, |a| render::host(a, &id))
                .await)
        }
        ["host", h] if get => {
            t.push_str("/host/{host}");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            render::host(a, h)
                .map(|v| (StatusCode::OK, v))
                .ok_or_else(|| SimError::not_found(format!("Cannot find Host {h}")))
        }
        ["host", h] if *m == Method::DELETE => {
            t.push_str("/host/{host}");
            let h = h.to_string();
            sim.mutate(array, body, "Delete Host", "", move |a| {
                a.delete_host(&h)?;
                Ok(format!("Delete Host [{h}]"))
            })
            .await?;
            Ok((StatusCode::NO_CONTENT, Value::Null))
        }
        ["initiator"] if get => {
            t.push_str("/initiator");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            let in_host = q.get("in_a_host").map(|s| s == "true");
            let hba = q.get("initiator_hba");
            let mut ids = Vec::new();
            for h in a.hosts.values() {
                for i in &h.initiators {
                    if hba.is_some_and(|x| !x.eq_ignore_ascii_case(i)) {
                        continue;
                    }
                    if in_host == Some(false) {
                        continue;
                    }
                    // the array's full ids carry the front-end port
                    for pk in a.ports.keys() {
                        ids.push(format!("{pk}:{i}"));
                    }
                }
            }
            ok(json!({"initiatorId": ids}))
        }
        ["initiator", id] if get => {
            t.push_str("/initiator/{id}");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            render::initiator(a, id)
                .map(|v| (StatusCode::OK, v))
                .ok_or_else(|| SimError::not_found(format!("Cannot find Initiator {id}")))
        }
        ["portgroup"] if get => {
            t.push_str("/portgroup");
            let w = sim.world.lock().await;
            ok(json!({"portGroupId": w.array(array)?.port_groups.keys().collect::<Vec<_>>()}))
        }
        ["portgroup"] if *m == Method::POST => {
            t.push_str("/portgroup");
            let id = s(body, "portGroupId")
                .ok_or_else(|| SimError::bad_request("portGroupId is required"))?;
            let ports: Vec<PortKey> = body
                .get("symmetrixPortKey")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|k| PortKey {
                            director: s(k, "directorId").unwrap_or_default(),
                            port: s(k, "portId").unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let id2 = id.clone();
            let link = link("portgroup", &id);
            let ans = sim
                .mutate(array, body, "Create Port Group", &link, move |a| {
                    a.create_port_group(&id2, ports)?;
                    Ok(format!("Create Port Group [{id2}]"))
                })
                .await?;
            Ok(sim
                .sync_or_job(ans, StatusCode::CREATED, |a| {
                    render::port_group(a, &id, ver)
                })
                .await)
        }
        ["portgroup", pg] if *m == Method::DELETE => {
            t.push_str("/portgroup/{pg}");
            let pg = pg.to_string();
            sim.mutate(array, body, "Delete Port Group", "", move |a| {
                a.delete_port_group(&pg)?;
                Ok(format!("Delete Port Group [{pg}]"))
            })
            .await?;
            Ok((StatusCode::NO_CONTENT, Value::Null))
        }
        ["port"] if get => {
            t.push_str("/port");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            let keys: Vec<Value> = a
                .ports
                .values()
                .map(|p| json!({"directorId": p.key.director, "portId": p.key.port}))
                .collect();
            ok(json!({"symmetrixPortKey": keys}))
        }
        ["portgroup", pg] if get => {
            t.push_str("/portgroup/{pg}");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            render::port_group(a, pg, ver)
                .map(|v| (StatusCode::OK, v))
                .ok_or_else(|| SimError::not_found(format!("Cannot find Port Group {pg}")))
        }
        ["director", dir, "port", port] if get => {
            t.push_str("/director/{dir}/port/{port}");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            render::director_port(a, dir, port, false)
                .map(|v| (StatusCode::OK, v))
                .ok_or_else(|| SimError::not_found(format!("Cannot find port {dir}:{port}")))
        }
        ["maskingview"] if get => {
            t.push_str("/maskingview");
            filters::check(q, "masking view", MV_FILTERS)?;
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            let ids: Vec<&String> = a
                .masking_views
                .values()
                .filter(|v| q.get("port_group_name").is_none_or(|p| *p == v.port_group))
                .filter(|v| {
                    q.get("host_or_host_group_name")
                        .is_none_or(|h| *h == v.host)
                })
                .filter(|v| {
                    q.get("storage_group_name")
                        .is_none_or(|g| *g == v.storage_group)
                })
                .map(|v| &v.id)
                .collect();
            ok(json!({"maskingViewId": ids}))
        }
        ["maskingview"] if *m == Method::POST => {
            t.push_str("/maskingview");
            let id = s(body, "maskingViewId")
                .ok_or_else(|| SimError::bad_request("maskingViewId is required"))?;
            let pick = |outer: &str, inner: &str, key: &str| {
                body.get(outer)
                    .and_then(|o| o.get(inner))
                    .and_then(|i| s(i, key))
            };
            let pg = pick("portGroupSelection", "useExistingPortGroupParam", "portGroupId")
                .ok_or_else(|| SimError::bad_request("portGroupSelection.useExistingPortGroupParam.portGroupId is required; port groups are never created with a view"))?;
            let host = pick("hostOrHostGroupSelection", "useExistingHostParam", "hostId")
                .ok_or_else(|| {
                    SimError::bad_request(
                        "hostOrHostGroupSelection.useExistingHostParam.hostId is required",
                    )
                })?;
            let sg = pick(
                "storageGroupSelection",
                "useExistingStorageGroupParam",
                "storageGroupId",
            )
            .ok_or_else(|| {
                SimError::bad_request(
                    "storageGroupSelection.useExistingStorageGroupParam.storageGroupId is required",
                )
            })?;
            let id2 = id.clone();
            let link = link("maskingview", &id);
            let ans = sim
                .mutate(array, body, "Create Masking View", &link, move |a| {
                    a.create_masking_view(&id2, &host, &pg, &sg)?;
                    Ok(format!("Create Masking View [{id2}]"))
                })
                .await?;
            Ok(sim
                .sync_or_job(ans, StatusCode::CREATED, |a| render::masking_view(a, &id))
                .await)
        }
        ["maskingview", mv] if get => {
            t.push_str("/maskingview/{mv}");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            render::masking_view(a, mv)
                .map(|v| (StatusCode::OK, v))
                .ok_or_else(|| SimError::not_found(format!("Cannot find Masking View {mv}")))
        }
        ["maskingview", mv] if *m == Method::DELETE => {
            t.push_str("/maskingview/{mv}");
            let mv = mv.to_string();
            sim.mutate(array, body, "Delete Masking View", "", move |a| {
                a.delete_masking_view(&mv)?;
                Ok(format!("Delete Masking View [{mv}]"))
            })
            .await?;
            Ok((StatusCode::NO_CONTENT, Value::Null))
        }
        ["maskingview", mv, "connections"] if get => {
            t.push_str("/maskingview/{mv}/connections");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            render::connections(a, mv, q.get("volume_id").map(String::as_str))
                .map(|v| (StatusCode::OK, v))
                .ok_or_else(|| SimError::not_found(format!("Cannot find Masking View {mv}")))
        }
        _ if !get && segs.len() <= 2 => Err(method_not_allowed(m)),
        _ => Err(not_found_route(m, segs)),
    }
}

/// Unisphere's `<like>` filters: `<like>abc` matches a substring.
fn like(filter: &str, value: &str) -> bool {
    match filter.strip_prefix("<like>") {
        Some(sub) => value.contains(sub),
        None => filter == value,
    }
}

/// The volume list's filters (OpenAPI `GET .../volume`) that vmax-sim implements.
const VOLUME_FILTERS: &[(&str, Field)] = &[
    ("storageGroupId", Field::Custom),
    ("volume_identifier", Field::Custom),
    ("wwn", Field::Custom),
    ("effective_wwn", Field::Str("effective_wwn")),
    ("has_effective_wwn", Field::Flag("has_effective_wwn")),
    ("status", Field::Str("status")),
    ("allocated_percent", Field::Num("allocated_percent")),
    ("cap_gb", Field::Num("cap_gb")),
    ("cap_mb", Field::Num("cap_mb")),
    ("cap_cyl", Field::Num("cap_cyl")),
    ("cap_tb", Field::Num("cap_tb")),
    ("num_of_storage_groups", Field::Num("num_of_storage_groups")),
    ("num_of_masking_views", Field::Num("num_of_masking_views")),
    (
        "num_of_front_end_paths",
        Field::Num("num_of_front_end_paths"),
    ),
    ("mapped", Field::NonZero("num_of_masking_views")),
    ("tdev", Field::Is("type", "TDEV")),
    ("reserved", Field::Flag("reserved")),
    ("pinned", Field::Flag("pinned")),
    ("encapsulated", Field::Flag("encapsulated")),
    ("emulation", Field::Str("emulation")),
    ("type", Field::Str("type")),
];

/// The storage-group list's filters that vmax-sim implements.
const SG_FILTERS: &[(&str, Field)] = &[
    ("storageGroupId", Field::Custom),
    ("volumeId", Field::Custom),
    ("cap_gb", Field::Num("cap_gb")),
    ("num_of_vols", Field::Num("num_of_vols")),
    ("num_of_child_sgs", Field::Num("num_of_child_sgs")),
    ("num_of_parent_sgs", Field::Num("num_of_parent_sgs")),
    ("num_of_masking_views", Field::Num("num_of_masking_views")),
    ("num_of_snapshots", Field::Num("num_of_snapshots")),
    ("parent", Field::Is("type", "Parent")),
    ("child", Field::Is("type", "Child")),
    ("srp_name", Field::Str("srp")),
    ("slo_name", Field::Str("slo")),
    ("base_slo_name", Field::Str("base_slo_name")),
    ("child_sg_name", Field::Str("child_storage_group")),
    ("parent_sg_name", Field::Str("parent_storage_group")),
    ("compression", Field::Flag("compression")),
    ("fba", Field::Is("device_emulation", "FBA")),
    ("ckd", Field::Is("device_emulation", "CKD")),
];

/// The host list's filters that vmax-sim implements (`host_name` is what
/// older clients send).
const HOST_FILTERS: &[(&str, Field)] = &[
    ("host_name", Field::Custom),
    ("host_group_name", Field::Str("hostGroup")),
    ("num_of_masking_views", Field::Num("num_of_masking_views")),
    ("num_of_host_groups", Field::Num("num_of_host_groups")),
    ("num_of_initiators", Field::Num("num_of_initiators")),
    (
        "num_of_powerpath_hosts",
        Field::Num("num_of_powerpath_hosts"),
    ),
    ("initiator_name", Field::Str("initiator")),
];

/// The masking-view list's filters (applied in the route).
const MV_FILTERS: &[(&str, Field)] = &[
    ("host_or_host_group_name", Field::Custom),
    ("port_group_name", Field::Custom),
    ("storage_group_name", Field::Custom),
];

/// Volume list filters. A lookup by identifier does not yet see volumes
/// made within the last `lag_ms` (simulated read-after-write lag). The
/// volume is rendered only when a filter needs more than the model holds.
fn filter_volumes(
    a: &Array,
    q: &Query,
    ver: u32,
    lag_ms: u64,
    now_ms: u64,
) -> SimResult<Vec<String>> {
    let sg_members = match q.get("storageGroupId") {
        Some(sg) => Some(a.volumes_in_sg_deep(&a.sg(sg)?.id)),
        None => None,
    };
    let rendered = q
        .keys()
        .any(|k| !matches!(k.as_str(), "storageGroupId" | "volume_identifier" | "wwn"));
    Ok(a.volumes
        .values()
        .filter(|v| {
            q.get("volume_identifier")
                .is_none_or(|f| like(f, v.identifier.as_deref().unwrap_or("")))
        })
        .filter(|v| {
            q.get("volume_identifier").is_none() || lag_ms == 0 || v.created_ms + lag_ms <= now_ms
        })
        .filter(|v| q.get("wwn").is_none_or(|w| v.wwn.eq_ignore_ascii_case(w)))
        .filter(|v| sg_members.as_ref().is_none_or(|m| m.contains(&v.volume_id)))
        .filter(|v| {
            !rendered || {
                let mut r = render::volume(a, v, ver);
                let views: std::collections::BTreeSet<String> = a
                    .groups_of_volume(&v.volume_id)
                    .iter()
                    .flat_map(|g| a.views_of_sg(g))
                    .collect();
                r["num_of_masking_views"] = json!(views.len());
                r["cap_tb"] = json!(v.cap_gb() / 1024.0);
                filters::matches(q, VOLUME_FILTERS, &r)
            }
        })
        .map(|v| v.volume_id.clone())
        .collect())
}

/// The single action of an edit body; several or none is a 400, as on arrays.
fn one_action(body: &Value, key: &str) -> SimResult<(String, Value)> {
    let p = body
        .get(key)
        .and_then(Value::as_object)
        .ok_or_else(|| SimError::bad_request(format!("{key} is required")))?;
    let mut actions: Vec<(&String, &Value)> = p.iter().collect();
    if actions.len() != 1 {
        return Err(SimError::bad_request(
            "Choose one edit operation only per request",
        ));
    }
    let (k, v) = actions.remove(0);
    Ok((k.clone(), v.clone()))
}

fn host_io_limit(h: &Value) -> HostIoLimit {
    // stored as the array shows it: "100", also when sent as 100.0
    let whole = |k: &str| {
        s(h, k).map(|v| match v.parse::<f64>() {
            Ok(f) if f.fract() == 0.0 => format!("{}", f as u64),
            _ => v,
        })
    };
    HostIoLimit {
        host_io_limit_mb_sec: whole("host_io_limit_mb_sec"),
        host_io_limit_io_sec: whole("host_io_limit_io_sec"),
        dynamic_distribution: s(h, "dynamicDistribution").unwrap_or_else(|| "Never".into()),
    }
}

fn task_text(prefix: &str, made: &[String]) -> String {
    if made.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix} - Creating new Volumes : [{}]", made.join(", "))
    }
}

fn edit_storage_group(a: &mut Array, sg: &str, (action, p): (String, Value)) -> SimResult<String> {
    match action.as_str() {
        // the 8.3 form (Unisphere 8.4 still serves /83/): not under expandStorageGroupParam
        "addExistingStorageGroupParam" => edit_storage_group(
            a,
            sg,
            (
                "expandStorageGroupParam".into(),
                json!({"addExistingStorageGroupParam": p}),
            ),
        ),
        "expandStorageGroupParam" => {
            let (sub, sp) = {
                let o = p.as_object().ok_or_else(|| {
                    SimError::bad_request("expandStorageGroupParam must be an object")
                })?;
                let mut it: Vec<(&String, &Value)> = o.iter().collect();
                if it.len() != 1 {
                    return Err(SimError::bad_request(
                        "Choose one edit operation only per request",
                    ));
                }
                let (k, v) = it.remove(0);
                (k.clone(), v.clone())
            };
            match sub.as_str() {
                "addVolumeParam" => {
                    let reqs = new_volume_requests(&sp)?;
                    if reqs.is_empty() {
                        return Err(SimError::bad_request(
                            "addVolumeParam must ask for at least one volume (num_of_vols and volume_size)",
                        ));
                    }
                    let mut made = Vec::new();
                    let mut idents = Vec::new();
                    for (n, mb, ident) in reqs {
                        made.extend(a.create_volumes_at(
                            sg,
                            n,
                            mb,
                            ident.clone(),
                            super::now_ms(),
                        )?);
                        idents.extend(ident);
                    }
                    Ok(format!(
                        "Creating new Volumes for {} : [{}]",
                        if idents.is_empty() {
                            sg.to_string()
                        } else {
                            idents.join(", ")
                        },
                        made.join(", ")
                    ))
                }
                "addSpecificVolumeParam" => {
                    let ids = id_list(&sp, "volumeId");
                    a.add_volumes(sg, &ids)?;
                    Ok(format!(
                        "Adding Volumes [{}] to Storage Group [{sg}]",
                        ids.join(", ")
                    ))
                }
                "addExistingStorageGroupParam" => {
                    let ids = id_list(&sp, "storageGroupId");
                    if ids.is_empty() {
                        return Err(SimError::bad_request("storageGroupId is required"));
                    }
                    for c in &ids {
                        a.add_child(sg, c)?;
                    }
                    Ok(format!(
                        "Adding Storage Groups [{}] to [{sg}]",
                        ids.join(", ")
                    ))
                }
                other => Err(SimError::bad_request(format!(
                    "Unsupported expandStorageGroupParam action {other}"
                ))),
            }
        }
        "removeVolumeParam" => {
            let ids = id_list(&p, "volumeId");
            if ids.is_empty() {
                return Err(SimError::bad_request("removeVolumeParam needs volumeId"));
            }
            a.remove_volumes(sg, &ids)?;
            Ok(format!("Removing Volumes [{}] from [{sg}]", ids.join(", ")))
        }
        "removeStorageGroupParam" => {
            let ids = id_list(&p, "storageGroupId");
            for c in &ids {
                a.remove_child(sg, c)?;
            }
            Ok(format!(
                "Removing Storage Groups [{}] from [{sg}]",
                ids.join(", ")
            ))
        }
        "moveVolumeToStorageGroupParam" => {
            let ids = id_list(&p, "volumeId");
            let target = s(&p, "storageGroupId").ok_or_else(|| {
                SimError::bad_request("moveVolumeToStorageGroupParam needs storageGroupId")
            })?;
            a.move_volumes(sg, &ids, &target)?;
            Ok(format!(
                "Moving Volumes [{}] from [{sg}] to [{target}]",
                ids.join(", ")
            ))
        }
        "renameStorageGroupParam" => {
            let new = s(&p, "new_storage_Group_name").ok_or_else(|| {
                SimError::bad_request("renameStorageGroupParam needs new_storage_Group_name")
            })?;
            a.rename_storage_group(sg, &new)?;
            Ok(format!("Rename Storage Group [{sg}] to [{new}]"))
        }
        "editStorageGroupSLOParam" => {
            a.set_slo(sg, s(&p, "sloId"))?;
            Ok(format!("Set service level of [{sg}]"))
        }
        "editStorageGroupWorkloadParam" => {
            a.set_workload(sg, s(&p, "workloadSelection"))?;
            Ok(format!("Set workload of [{sg}]"))
        }
        "setHostIOLimitsParam" => {
            a.set_host_io_limit(sg, host_io_limit(&p))?;
            Ok(format!("Set host I/O limits of [{sg}]"))
        }
        "editCompressionParam" => {
            a.set_compression(sg, truthy(&p, "compression"))?;
            Ok(format!("Set compression of [{sg}]"))
        }
        other => Err(SimError::bad_request(format!(
            "Unsupported editStorageGroupActionParam action {other}"
        ))),
    }
}

fn edit_volume(a: &mut Array, dev: &str, (action, p): (String, Value)) -> SimResult<String> {
    match action.as_str() {
        "expandVolumeParam" => {
            let attrs = p
                .get("volumeAttribute")
                .ok_or_else(|| SimError::bad_request("expandVolumeParam needs volumeAttribute"))?;
            a.expand_volume(dev, size_mb(attrs)?)?;
            Ok(format!("Expand Volume [{dev}]"))
        }
        "modifyVolumeIdentifierParam" => {
            let name = p
                .get("volumeIdentifier")
                .and_then(|i| s(i, "identifier_name"));
            a.rename_volume(dev, name)?;
            Ok(format!("Rename Volume [{dev}]"))
        }
        "freeVolumeParam" => {
            a.free_volume(dev)?;
            Ok(format!("Free Volume [{dev}]"))
        }
        other => Err(SimError::bad_request(format!(
            "Unsupported editVolumeActionParam action {other}"
        ))),
    }
}

/// A request's `snap_id` (PowerMax names snapshots by it instead of generation).
fn snap_id_of(body: &Value) -> Option<u64> {
    body.get("snap_id")
        .or_else(|| body.get("snapid"))
        .and_then(|g| {
            g.as_u64()
                .or_else(|| g.as_str().and_then(|s| s.parse().ok()))
        })
}

/// The device of an `rdf_group/{n}/volume/{dev}` path.
fn dev_of(segs: &[&str]) -> String {
    segs.get(3).map(|d| d.to_string()).unwrap_or_default()
}

fn device_list(v: &Value, k: &str) -> Vec<String> {
    v.get(k)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.get("name").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

async fn replication(
    sim: &Arc<Sim>,
    m: &Method,
    array: &str,
    segs: &[&str],
    _q: &Query,
    body: &Value,
    t: &mut String,
) -> Answer {
    let now = super::now_ms();
    let copy_ms = sim.cfg.copy_ms;
    let rdf_number = |n: &str| {
        n.parse::<u32>()
            .map_err(|_| SimError::bad_request(format!("RDF group number {n:?} is not a number")))
    };
    match segs {
        ["rdf_group"] if *m == Method::GET => {
            t.push_str("/rdf_group");
            let w = sim.world.lock().await;
            ok(super::rdf::group_list(w.array(array)?))
        }
        ["rdf_group", n] if *m == Method::GET => {
            t.push_str("/rdf_group/{n}");
            let n = rdf_number(n)?;
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            ok(super::rdf::group_detail(a, super::rdf::group(a, n)?))
        }
        ["rdf_group", n, "volume"] if *m == Method::GET => {
            t.push_str("/rdf_group/{n}/volume");
            let n = rdf_number(n)?;
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            super::rdf::group(a, n)?;
            ok(super::rdf::group_volumes(a, n))
        }
        ["rdf_group", n, "volume", dev] if *m == Method::GET => {
            t.push_str("/rdf_group/{n}/volume/{dev}");
            let n = rdf_number(n)?;
            let w = sim.world.lock().await;
            ok(super::rdf::pair(&w, array, n, dev, now, copy_ms)?)
        }
        ["rdf_group", n, "volume"] if *m == Method::POST => {
            t.push_str("/rdf_group/{n}/volume");
            let n = rdf_number(n)?;
            let src = device_list(body, "deviceNameListSource");
            let tgt = device_list(body, "deviceNameListTarget");
            let ([local], [remote]) = (src.as_slice(), tgt.as_slice()) else {
                return Err(SimError::bad_request(
                    "deviceNameListSource and deviceNameListTarget must each name one device",
                ));
            };
            if s(body, "rdfType").is_some_and(|r| r != "RDF1") {
                return Err(SimError::bad_request(
                    "rdfType must be RDF1 (the source side)",
                ));
            }
            let mode = s(body, "replicationMode").unwrap_or_else(|| "Synchronous".into());
            let establish = truthy(body, "establish");
            let remote_array = {
                let w = sim.world.lock().await;
                super::rdf::group(w.array(array)?, n)?.remote_array.clone()
            };
            let (local, remote, arr) = (local.clone(), remote.clone(), array.to_string());
            let link = format!("/replication/symmetrix/{array}/rdf_group/{n}/volume/{local}");
            let ans = sim
                .mutate_world(
                    array,
                    &[array, &remote_array],
                    body,
                    "Create RDF pair",
                    &link,
                    move |w| {
                        super::rdf::create_pair(
                            w, &arr, n, &local, &remote, &mode, establish, now,
                        )?;
                        Ok(format!(
                            "Create RDF pair [{local}] -> [{remote}] in RDF group {n}"
                        ))
                    },
                )
                .await?;
            let dev = src[0].clone();
            let (code, v) = sim
                .sync_or_job(ans, StatusCode::CREATED, |_| Some(json!({})))
                .await;
            if code == StatusCode::CREATED {
                let w = sim.world.lock().await;
                let p = super::rdf::pair(&w, array, n, &dev, now, copy_ms)?;
                return Ok((code, json!({"devicePair": [p]})));
            }
            Ok((code, v))
        }
        ["rdf_group", n, "volume", dev] if *m == Method::PUT || *m == Method::DELETE => {
            t.push_str("/rdf_group/{n}/volume/{dev}");
            let n = rdf_number(n)?;
            let remote_array = {
                let w = sim.world.lock().await;
                super::rdf::group(w.array(array)?, n)?.remote_array.clone()
            };
            let (dev, arr) = (dev.to_string(), array.to_string());
            if *m == Method::DELETE {
                let ans = sim
                    .mutate_world(
                        array,
                        &[array, &remote_array],
                        body,
                        "Delete RDF pair",
                        "",
                        move |w| {
                            super::rdf::delete_pair(w, &arr, n, &dev, now, copy_ms)?;
                            Ok(format!("Delete RDF pair of [{dev}] in RDF group {n}"))
                        },
                    )
                    .await?;
                return Ok(sim.sync_or_job(ans, StatusCode::NO_CONTENT, |_| None).await);
            }
            let action = s(body, "action").unwrap_or_default();
            let ans = sim
                .mutate_world(
                    array,
                    &[array, &remote_array],
                    body,
                    &format!("{action} RDF pair"),
                    "",
                    move |w| super::rdf::pair_action(w, &arr, n, &dev, &action, now, copy_ms),
                )
                .await?;
            let dev = dev_of(segs);
            let (code, v) = sim
                .sync_or_job(ans, StatusCode::OK, |_| Some(json!({})))
                .await;
            if code == StatusCode::OK {
                let w = sim.world.lock().await;
                return Ok((code, super::rdf::pair(&w, array, n, &dev, now, copy_ms)?));
            }
            Ok((code, v))
        }
        ["snapshot"] if *m == Method::GET => {
            t.push_str("/snapshot");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            let names: std::collections::BTreeSet<&str> =
                a.snapshots.iter().map(|s| s.name.as_str()).collect();
            ok(json!({"name": names}))
        }
        ["snapshot", name] if *m == Method::POST => {
            t.push_str("/snapshot/{name}");
            let devs = device_list(body, "deviceNameListSource");
            let name = name.to_string();
            let ans = sim
                .mutate(array, body, "Create Snapshot", "", move |a| {
                    a.create_snapshot(&name, &devs, now)?;
                    Ok(format!(
                        "Establish SnapVX snapshot [{name}] of [{}]",
                        devs.join(", ")
                    ))
                })
                .await?;
            Ok(sim
                .sync_or_job(ans, StatusCode::CREATED, |_| Some(json!({"success": true})))
                .await)
        }
        ["snapshot", name] if *m == Method::PUT => {
            t.push_str("/snapshot/{name}");
            let src = device_list(body, "deviceNameListSource");
            let tgt = device_list(body, "deviceNameListTarget");
            let action = s(body, "action").unwrap_or_default();
            let gen_no = body
                .get("generation")
                .and_then(|g| {
                    g.as_u64()
                        .or_else(|| g.as_str().and_then(|s| s.parse().ok()))
                })
                .unwrap_or(0) as u32;
            // "copy" decides; else "nocopy"; a link without either is no-copy
            let copy = match (body.get("copy"), body.get("nocopy")) {
                (Some(_), _) => truthy(body, "copy"),
                (None, Some(_)) => !truthy(body, "nocopy"),
                (None, None) => false,
            };
            let snap_id = snap_id_of(body);
            if src.len() != tgt.len() || src.is_empty() {
                return Err(SimError::bad_request(
                    "deviceNameListSource and deviceNameListTarget must name the same number of devices",
                ));
            }
            let name = name.to_string();
            let ans = sim
                .mutate(array, body, "Modify Snapshot", "", move |a| {
                    for (s, t) in src.iter().zip(&tgt) {
                        let gen_no = match snap_id {
                            Some(id) => a.generation_of_snap_id(&name, s, id)?,
                            None => gen_no,
                        };
                        match action.as_str() {
                            "Link" => a.link_snapshot(&name, s, t, gen_no, copy, now)?,
                            "Unlink" => a.unlink_snapshot(&name, s, t, gen_no)?,
                            other => {
                                return Err(SimError::bad_request(format!(
                                    "Snapshot action '{other}' is not supported; use Link or Unlink"
                                )));
                            }
                        }
                    }
                    Ok(format!("{action} SnapVX snapshot [{name}]"))
                })
                .await?;
            Ok(sim
                .sync_or_job(ans, StatusCode::OK, |_| Some(json!({"success": true})))
                .await)
        }
        ["snapshot", name] if *m == Method::DELETE => {
            t.push_str("/snapshot/{name}");
            let devs = device_list(body, "deviceNameListSource");
            if devs.is_empty() {
                return Err(SimError::bad_request(
                    "deviceNameListSource must name the source volume",
                ));
            }
            let gen_no = body
                .get("generation")
                .and_then(|g| {
                    g.as_u64()
                        .or_else(|| g.as_str().and_then(|s| s.parse().ok()))
                })
                .unwrap_or(0) as u32;
            let name = name.to_string();
            let snap_id = snap_id_of(body);
            let ans = sim
                .mutate(array, body, "Terminate Snapshot", "", move |a| {
                    for d in &devs {
                        let gen_no = match snap_id {
                            Some(id) => a.generation_of_snap_id(&name, d, id)?,
                            None => gen_no,
                        };
                        a.terminate_snapshot(&name, d, gen_no)?;
                    }
                    Ok(format!("Terminate SnapVX snapshot [{name}]"))
                })
                .await?;
            Ok(sim
                .sync_or_job(ans, StatusCode::NO_CONTENT, |_| Some(Value::Null))
                .await)
        }
        // storage-group SnapVX (consistent snapshots of every member)
        ["storagegroup"] if *m == Method::GET => {
            t.push_str("/storagegroup");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            let names: Vec<&String> = a
                .storage_groups
                .keys()
                .filter(|g| a.sg_snapshot_names(g).is_ok_and(|n| !n.is_empty()))
                .collect();
            ok(json!({"name": names}))
        }
        ["storagegroup", sg] if *m == Method::GET => {
            t.push_str("/storagegroup/{sg}");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            let g = a.sg(sg)?;
            let members = a.sg_snapshot_members(sg)?;
            let cap: f64 = members
                .iter()
                .filter_map(|d| a.volumes.get(d))
                .map(|v| v.cap_gb())
                .sum();
            let snaps = a.sg_snapshot_names(sg)?;
            let is_target = members.iter().any(|d| a.is_snapvx_target(d));
            ok(json!({
                "name": g.id, "symmetrixId": a.symmetrix_id, "childNames": g.children,
                "numDevicesNonGk": members.len(), "capacityGB": (cap * 100.0).round() / 100.0,
                "numSnapVXSnapshots": snaps.len(), "snapVXSnapshots": snaps,
                "num_cloud_snapshots": 0, "num_clone_target_storage_groups": 0,
                "rdf": false, "isLinkTarget": is_target,
            }))
        }
        ["storagegroup", sg, "snapshot"] if *m == Method::GET => {
            t.push_str("/storagegroup/{sg}/snapshot");
            let w = sim.world.lock().await;
            ok(json!({"name": w.array(array)?.sg_snapshot_names(sg)?}))
        }
        ["storagegroup", sg, "snapshot"] if *m == Method::POST => {
            t.push_str("/storagegroup/{sg}/snapshot");
            let name = s(body, "snapshotName")
                .ok_or_else(|| SimError::bad_request("snapshotName is required"))?;
            let (sg, n2) = (sg.to_string(), name.clone());
            let ans = sim
                .mutate(array, body, "Create Storage Group Snapshot", "", move |a| {
                    a.create_sg_snapshot(&sg, &n2, now)?;
                    Ok(format!(
                        "Establish SnapVX snapshot [{n2}] of storage group [{sg}]"
                    ))
                })
                .await?;
            let sg = segs[1].to_string();
            Ok(sim
                .sync_or_job(ans, StatusCode::CREATED, |a| {
                    render::sg_snapshot(a, &sg, &name, SnapSel::Generation(0), now)
                })
                .await)
        }
        ["storagegroup", sg, "snapshot", name] if *m == Method::GET => {
            t.push_str("/storagegroup/{sg}/snapshot/{name}");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            let members = a.sg_snapshot_members(sg)?;
            let first = members
                .iter()
                .find(|d| a.snapshots_of(d).any(|x| x.name == *name))
                .ok_or_else(|| {
                    SimError::not_found(format!(
                        "Cannot find snapshot {name} of storage group {sg}"
                    ))
                })?;
            let count = a.snapshots_of(first).filter(|x| x.name == *name).count();
            ok(json!({"name": name, "generationCount": count}))
        }
        [
            "storagegroup",
            sg,
            "snapshot",
            name,
            kind @ ("generation" | "snapid"),
        ] if *m == Method::GET => {
            t.push_str(&format!("/storagegroup/{{sg}}/snapshot/{{name}}/{kind}"));
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            let members = a.sg_snapshot_members(sg)?;
            let mut gens: Vec<&super::model::Snapshot> = members
                .first()
                .map(|d| a.snapshots_of(d).filter(|x| x.name == *name).collect())
                .unwrap_or_default();
            if gens.is_empty() {
                return Err(SimError::not_found(format!(
                    "Cannot find snapshot {name} of storage group {sg}"
                )));
            }
            gens.sort_by_key(|x| a.generation(x));
            if *kind == "generation" {
                ok(json!({"generations": gens.iter().map(|x| a.generation(x)).collect::<Vec<_>>()}))
            } else if !a.has_snap_ids() {
                Err(SimError::bad_request(format!(
                    "snap ids need PowerMax microcode 5978.669 or later; array {} runs {}: list generations instead",
                    a.symmetrix_id, a.ucode
                )))
            } else {
                let ids: Vec<u64> = gens.iter().filter_map(|x| x.snap_id).collect();
                // PyU4V reads "snapids"; the spec's example says "snap_ids"
                ok(json!({"snapids": ids, "snap_ids": ids}))
            }
        }
        [
            "storagegroup",
            sg,
            "snapshot",
            name,
            kind @ ("generation" | "snapid"),
            id,
        ] => {
            t.push_str(&format!(
                "/storagegroup/{{sg}}/snapshot/{{name}}/{kind}/{{id}}"
            ));
            let sel = match (*kind, id.parse::<u64>()) {
                ("generation", Ok(g)) => SnapSel::Generation(g as u32),
                ("snapid", Ok(i)) => SnapSel::SnapId(i),
                _ => return Err(SimError::bad_request(format!("'{id}' is not a {kind}"))),
            };
            let (sg, name) = (sg.to_string(), name.to_string());
            match *m {
                Method::GET => {
                    let w = sim.world.lock().await;
                    let a = w.array(array)?;
                    render::sg_snapshot(a, &sg, &name, sel, now)
                        .map(|v| (StatusCode::OK, v))
                        .ok_or_else(|| {
                            SimError::not_found(format!(
                                "Cannot find snapshot {name} of storage group {sg}"
                            ))
                        })
                }
                Method::PUT => {
                    let action = s(body, "action").unwrap_or_default();
                    let sub = |k: &str| body.get(k).cloned().unwrap_or(Value::Null);
                    let (sg2, n2) = (sg.clone(), name.clone());
                    let new_name = sub("rename")
                        .get("new_snapshot_name")
                        .and_then(Value::as_str)
                        .map(String::from);
                    let link = match action.as_str() {
                        "Link" => sub("link"),
                        "Unlink" => sub("unlink"),
                        _ => Value::Null,
                    };
                    let target = s(&link, "storage_group_name")
                        .or_else(|| s(&link, "linkStorageGroupName"))
                        .or_else(|| s(&link, "unlinkStorageGroupName"));
                    let copy = truthy(&link, "copy");
                    let ans = sim
                        .mutate(array, body, "Modify Storage Group Snapshot", "", move |a| {
                            match action.as_str() {
                                "Link" | "Unlink" => {
                                    let target = target.ok_or_else(|| SimError::bad_request(format!("{action} needs the target storage group name")))?;
                                    a.link_sg_snapshot(&sg2, &n2, sel, &target, copy, action == "Unlink", now)?;
                                }
                                "Restore" => {
                                    a.sg_snapshot(&sg2, &n2, sel)?;
                                }
                                "Rename" => {
                                    let new = new_name.ok_or_else(|| SimError::bad_request("Rename needs rename.new_snapshot_name"))?;
                                    a.rename_sg_snapshot(&sg2, &n2, sel, &new)?;
                                }
                                other => {
                                    return Err(SimError::bad_request(format!(
                                        "Snapshot action '{other}' is not supported; use Link, Unlink, Restore or Rename"
                                    )));
                                }
                            }
                            Ok(format!("Modify SnapVX snapshot [{n2}] of storage group [{sg2}]"))
                        })
                        .await?;
                    Ok(sim
                        .sync_or_job(ans, StatusCode::OK, |a| {
                            render::sg_snapshot(a, &sg, &name, sel, now)
                        })
                        .await)
                }
                Method::DELETE => {
                    sim.mutate(
                        array,
                        body,
                        "Terminate Storage Group Snapshot",
                        "",
                        move |a| {
                            a.terminate_sg_snapshot(&sg, &name, sel)?;
                            Ok(format!(
                                "Terminate SnapVX snapshot [{name}] of storage group [{sg}]"
                            ))
                        },
                    )
                    .await?;
                    Ok((StatusCode::NO_CONTENT, Value::Null))
                }
                _ => Err(method_not_allowed(m)),
            }
        }
        ["volume", dev, "snapshot"] if *m == Method::GET => {
            t.push_str("/volume/{dev}/snapshot");
            let w = sim.world.lock().await;
            let a = w.array(array)?;
            a.volume(dev)?;
            ok(render::volume_snapshots(a, dev, now, sim.cfg.copy_ms))
        }
        _ => Err(not_found_route(m, segs)),
    }
}

/// What a mutation did: synchronously, or as a job.
pub(crate) enum Applied {
    Sync,
    Job(super::model::Job),
}

impl Sim {
    /// Renders the answer to a mutation: the job when asynchronous, else
    /// the resource as it is now.
    async fn sync_or_job(
        &self,
        applied: (Applied, String),
        code: StatusCode,
        render: impl FnOnce(&Array) -> Option<Value>,
    ) -> (StatusCode, Value) {
        match applied.0 {
            Applied::Job(j) => (
                StatusCode::ACCEPTED,
                json!({
                    "jobId": j.job_id, "name": j.name, "status": j.status(super::now_ms()),
                    "username": j.username, "resourceLink": j.resource_link,
                }),
            ),
            Applied::Sync => {
                if code == StatusCode::NO_CONTENT {
                    return (code, Value::Null);
                }
                let w = self.world.lock().await;
                let v = w
                    .arrays
                    .get(&applied.1)
                    .and_then(render)
                    .unwrap_or(json!({}));
                (code, v)
            }
        }
    }
}
