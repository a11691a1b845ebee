//! The provider block, resolved: an explicit attribute wins, a `VMAX_*`
//! variable fills what is unset, then the default. Pure: the environment
//! comes in through a getter, so every rule is unit-tested.
//!
//! Every setting is checked: numbers against their ranges (a value that is
//! not a number, or out of range, is an error naming the attribute or the
//! variable, never silently ignored), the endpoint against clear-text
//! transport and embedded credentials, `insecure` against `ca_cert_file`.

use crate::tfplugin::{AttrPath, Diags, Value};
use std::time::Duration;

/// The settings that need checking, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub endpoint: String,
    pub username: String,
    pub password: String,
    pub array: String,
    pub srp: String,
    pub ca_cert_file: Option<String>,
    pub api_version: Option<String>,
    pub insecure: bool,
    pub port_groups: Vec<String>,
    pub job_poll_interval: Duration,
    pub job_timeout: Duration,
    pub max_over_subscription_ratio: f64,
    pub reserved_percentage: f64,
    pub replication: Option<crate::driver::replication::Replication>,
}

/// The provider settings whose value is unknown (at plan time), by path.
pub fn unknown_settings(config: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Value::Object(m) = config {
        for (k, v) in m {
            match v {
                Value::Object(inner) => {
                    for (ik, iv) in inner {
                        if iv.has_unknown() {
                            out.push(format!("{k}.{ik}"));
                        }
                    }
                }
                v if v.has_unknown() => out.push(k.clone()),
                _ => {}
            }
        }
    }
    out
}

/// The `replication` block, checked (attribute paths under `replication`).
fn replication(
    config: &Value,
    srp: &str,
    diags: &mut Diags,
) -> Option<crate::driver::replication::Replication> {
    let Value::Object(r) = config.get("replication") else {
        return None;
    };
    let at = |k: &str| AttrPath::attr("replication").then_attr(k);
    let text = |k: &str| r.get(k).and_then(|v| v.as_str()).map(String::from);
    let remote_array = text("remote_array").unwrap_or_default();
    if !(remote_array.len() == 12 && remote_array.chars().all(|c| c.is_ascii_digit())) {
        diags.error_at(
            at("remote_array"),
            "Invalid remote array serial",
            format!("remote_array {remote_array:?} must be the remote array's 12-digit serial, e.g. \"000197800124\""),
        );
    }
    let label = text("rdf_group_label").unwrap_or_default();
    if label.is_empty() {
        diags.error_at(
            at("rdf_group_label"),
            "Missing RDF group label",
            "rdf_group_label must name the RDF group (its label on the array) that pairs the two arrays",
        );
    }
    let remote_port_groups: Vec<String> = match r.get("remote_port_groups") {
        Some(Value::List(l)) => l
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => vec![],
    };
    for pg in &remote_port_groups {
        if let Err(e) = crate::driver::naming::check_object_name("port group", pg) {
            diags.error_at(at("remote_port_groups"), "Invalid port group name", e);
        }
    }
    Some(crate::driver::replication::Replication {
        remote_array,
        remote_srp: text("remote_srp").unwrap_or_else(|| srp.to_string()),
        remote_port_groups,
        rdf_group_label: label,
        allow_extend: r
            .get("allow_extend")
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
    })
}

/// A number setting: attribute, variable, default, allowed range, unit.
struct Num {
    name: &'static str,
    env: &'static str,
    default: f64,
    min: f64,
    max: f64,
    unit: &'static str,
}

const NUMBERS: &[Num] = &[
    Num {
        name: "job_poll_interval",
        env: "VMAX_JOB_POLL_INTERVAL",
        default: 3.0,
        min: 0.01,
        max: 300.0,
        unit: "seconds",
    },
    Num {
        name: "job_timeout",
        env: "VMAX_JOB_TIMEOUT",
        default: 600.0,
        min: 1.0,
        max: 86_400.0,
        unit: "seconds",
    },
    Num {
        name: "max_over_subscription_ratio",
        env: "VMAX_MAX_OVER_SUBSCRIPTION_RATIO",
        default: 20.0,
        min: 0.01,
        max: 1_000_000.0,
        unit: "",
    },
    Num {
        name: "reserved_percentage",
        env: "VMAX_RESERVED_PERCENTAGE",
        default: 0.0,
        min: 0.0,
        max: 100.0,
        unit: "percent",
    },
];

/// Resolves and checks the provider block; errors carry their attribute.
pub fn resolve(
    config: &Value,
    env: impl Fn(&str) -> Option<String>,
    diags: &mut Diags,
) -> Option<Resolved> {
    let env = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let text = |name: &str, var: &str| -> Option<String> {
        config
            .get(name)
            .as_str()
            .map(String::from)
            .or_else(|| env(var))
    };
    let mut missing = Vec::new();
    let mut required = |name: &str, var: &str| {
        let v = text(name, var);
        if v.is_none() {
            missing.push(format!("{name} (or {var})"));
        }
        v.unwrap_or_default()
    };
    let endpoint = required("endpoint", "VMAX_ENDPOINT");
    let username = required("username", "VMAX_USERNAME");
    let password = required("password", "VMAX_PASSWORD");
    let array = required("array", "VMAX_ARRAY");
    if !missing.is_empty() {
        diags.error(
            "Missing provider configuration",
            format!(
                "Set {} in the provider block or the environment.",
                missing.join(", ")
            ),
        );
        return None;
    }
    let before = diags.0.len();
    let insecure = match config.get("insecure").as_bool() {
        Some(b) => b,
        None => match env("VMAX_INSECURE").map(|v| v.trim().to_ascii_lowercase()) {
            None => false,
            Some(v) if v == "true" || v == "1" => true,
            Some(v) if v == "false" || v == "0" => false,
            Some(v) => {
                diags.error_at(
                    AttrPath::attr("insecure"),
                    "Invalid VMAX_INSECURE",
                    format!("VMAX_INSECURE is {v:?}; use true or false"),
                );
                false
            }
        },
    };
    let mut numbers = Vec::new();
    for n in NUMBERS {
        let (raw, from) = match config.get(n.name) {
            Value::Number(x) => (x.as_f64(), n.name.to_string()),
            _ => match env(n.env) {
                Some(v) => match v.trim().parse::<f64>() {
                    Ok(f) => (Some(f), n.env.to_string()),
                    Err(_) => {
                        diags.error_at(
                            AttrPath::attr(n.name),
                            "Invalid setting",
                            format!("{} is {v:?}, which is not a number", n.env),
                        );
                        (None, n.env.to_string())
                    }
                },
                None => (Some(n.default), n.name.to_string()),
            },
        };
        match raw {
            Some(f) if f.is_finite() && f >= n.min && f <= n.max => numbers.push(f),
            Some(f) => {
                diags.error_at(
                    AttrPath::attr(n.name),
                    "Setting out of range",
                    format!(
                        "{from} is {f}; it must be between {} and {}{}",
                        n.min,
                        n.max,
                        if n.unit.is_empty() {
                            String::new()
                        } else {
                            format!(" {}", n.unit)
                        }
                    ),
                );
                numbers.push(n.default);
            }
            None => numbers.push(n.default),
        }
    }
    // the endpoint: https, no credentials in it
    match reqwest::Url::parse(&endpoint) {
        Err(e) => diags.error_at(
            AttrPath::attr("endpoint"),
            "Invalid endpoint",
            format!("the endpoint is not a URL ({e}); use https://<unisphere>:8443"),
        ),
        Ok(u) => {
            if !u.username().is_empty() || u.password().is_some() {
                diags.error_at(
                    AttrPath::attr("endpoint"),
                    "Credentials in the endpoint",
                    "the endpoint URL carries a user name or password; remove them from the URL and set username and password (or VMAX_USERNAME and VMAX_PASSWORD)",
                );
            }
            match u.scheme() {
                "https" => {}
                "http" if insecure => {}
                "http" => diags.error_at(
                    AttrPath::attr("endpoint"),
                    "Clear-text endpoint",
                    format!(
                        "the endpoint {} uses http://, which would send the Unisphere password in clear text; use https://, or set insecure = true for a simulator started with --http",
                        redact(&endpoint)
                    ),
                ),
                other => diags.error_at(
                    AttrPath::attr("endpoint"),
                    "Invalid endpoint",
                    format!("the endpoint's scheme is {other:?}; use https://"),
                ),
            }
        }
    }
    let ca_cert_file = text("ca_cert_file", "VMAX_CA_CERT_FILE");
    if insecure && ca_cert_file.is_some() {
        diags.error_at(
            AttrPath::attr("ca_cert_file"),
            "insecure and ca_cert_file together",
            "insecure = true turns certificate checks off, so ca_cert_file would be ignored; set one of them",
        );
    }
    if !(array.len() == 12 && array.chars().all(|c| c.is_ascii_digit())) {
        diags.error_at(
            AttrPath::attr("array"),
            "Invalid array serial",
            format!("array {array:?} must be the array's 12-digit serial, e.g. \"000197800123\""),
        );
    }
    let api_version = text("api_version", "VMAX_API_VERSION");
    if let Some(v) = &api_version
        && !(v.len() >= 2 && v.len() <= 3 && v.chars().all(|c| c.is_ascii_digit()))
    {
        diags.error_at(
            AttrPath::attr("api_version"),
            "Invalid api_version",
            format!("api_version {v:?} must be a REST version such as \"92\" or \"100\""),
        );
    }
    let port_groups: Vec<String> = match config.get("port_groups") {
        Value::List(l) => l
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => env("VMAX_PORT_GROUPS")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
    };
    for pg in &port_groups {
        if let Err(e) = crate::driver::naming::check_object_name("port group", pg) {
            diags.error_at(AttrPath::attr("port_groups"), "Invalid port group name", e);
        }
    }
    let srp = text("srp", "VMAX_SRP").unwrap_or_else(|| "SRP_1".into());
    let replication = replication(config, &srp, diags);
    if replication
        .as_ref()
        .is_some_and(|r| r.remote_array == array)
    {
        diags.error_at(
            AttrPath::attr("replication").then_attr("remote_array"),
            "Remote array is the local one",
            format!("remote_array {array} is the provider's own array; name the other array of the RDF group"),
        );
    }
    if diags.0[before..]
        .iter()
        .any(|d| d.severity == crate::tfplugin::Severity::Error)
    {
        return None;
    }
    if insecure {
        diags.warning(
            "Unisphere's certificate is not verified",
            "insecure = true: anyone on the network path can pose as Unisphere and receive the password. Use ca_cert_file with Unisphere's CA instead, except on a test system.",
        );
    }
    Some(Resolved {
        endpoint,
        username,
        password,
        array,
        srp,
        ca_cert_file,
        api_version,
        insecure,
        port_groups,
        job_poll_interval: Duration::from_secs_f64(numbers[0]),
        job_timeout: Duration::from_secs_f64(numbers[1]),
        max_over_subscription_ratio: numbers[2],
        reserved_percentage: numbers[3],
        replication,
    })
}

/// An endpoint fit for a log line or a message: scheme, host and port only.
pub fn redact(endpoint: &str) -> String {
    match reqwest::Url::parse(endpoint) {
        Ok(u) => format!(
            "{}://{}{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port().map(|p| format!(":{p}")).unwrap_or_default()
        ),
        Err(_) => "(unparsable endpoint)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, Value)]) -> Value {
        let mut m: std::collections::BTreeMap<String, Value> = [
            ("endpoint", Value::string("https://u4p.example.com:8443")),
            ("username", Value::string("smc")),
            ("password", Value::string("s3cret")),
            ("array", Value::string("000197800123")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (k, v) in pairs {
            m.insert(k.to_string(), v.clone());
        }
        Value::Object(m)
    }

    fn run(c: &Value, env: &[(&str, &str)]) -> (Option<Resolved>, Diags) {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let mut d = Diags::default();
        let r = resolve(
            c,
            |k| env.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone()),
            &mut d,
        );
        (r, d)
    }

    fn detail(d: &Diags) -> String {
        d.0.iter()
            .map(|x| x.detail.clone())
            .collect::<Vec<_>>()
            .join(" | ")
    }

    #[test]
    fn numbers_are_range_checked_from_either_source() {
        let (r, d) = run(&cfg(&[]), &[("VMAX_JOB_TIMEOUT", "1e400")]);
        assert!(r.is_none());
        assert!(
            detail(&d).contains("VMAX_JOB_TIMEOUT is inf"),
            "{}",
            detail(&d)
        );
        let (r, d) = run(&cfg(&[]), &[("VMAX_JOB_POLL_INTERVAL", "1e-9")]);
        assert!(r.is_none() && detail(&d).contains("between 0.01 and 300 seconds"));
        let (r, d) = run(&cfg(&[]), &[("VMAX_JOB_TIMEOUT", "ten")]);
        assert!(r.is_none() && detail(&d).contains("not a number"));
        let (r, _) = run(&cfg(&[]), &[("VMAX_JOB_TIMEOUT", "60")]);
        assert_eq!(r.unwrap().job_timeout, Duration::from_secs(60));
        // explicit configuration wins over the environment
        let (r, _) = run(
            &cfg(&[("job_timeout", Value::int(30))]),
            &[("VMAX_JOB_TIMEOUT", "60")],
        );
        assert_eq!(r.unwrap().job_timeout, Duration::from_secs(30));
        let (r, d) = run(&cfg(&[]), &[("VMAX_INSECURE", "yes")]);
        assert!(r.is_none() && detail(&d).contains("true or false"));
    }

    #[test]
    fn transport_rules() {
        let http = cfg(&[("endpoint", Value::string("http://u4p.example.com:8443"))]);
        let (r, d) = run(&http, &[]);
        assert!(r.is_none() && detail(&d).contains("clear text"));
        let (r, d) = run(
            &cfg(&[
                ("endpoint", Value::string("http://127.0.0.1:1")),
                ("insecure", Value::Bool(true)),
            ]),
            &[],
        );
        assert!(r.is_some());
        assert!(
            d.0.iter()
                .any(|x| x.severity == crate::tfplugin::Severity::Warning)
        );
        let (r, d) = run(
            &cfg(&[("endpoint", Value::string("https://smc:s3cret@u4p:8443"))]),
            &[],
        );
        assert!(r.is_none() && detail(&d).contains("carries a user name or password"));
        assert!(
            !detail(&d).contains("s3cret"),
            "the password is never repeated"
        );
        let (r, d) = run(
            &cfg(&[
                ("insecure", Value::Bool(true)),
                ("ca_cert_file", Value::string("/ca.pem")),
            ]),
            &[],
        );
        assert!(r.is_none() && detail(&d).contains("set one of them"));
        assert_eq!(redact("https://a:b@h:8443/x"), "https://h:8443");
    }

    #[test]
    fn names_and_serials() {
        let (r, d) = run(
            &cfg(&[(
                "port_groups",
                Value::List(vec![Value::string("../../../sim/state")]),
            )]),
            &[],
        );
        assert!(
            r.is_none() && detail(&d).contains("port group"),
            "{}",
            detail(&d)
        );
        let (r, _) = run(&cfg(&[("array", Value::string("12"))]), &[]);
        assert!(r.is_none());
        let (r, _) = run(&cfg(&[("api_version", Value::string("v10"))]), &[]);
        assert!(r.is_none());
    }
}
