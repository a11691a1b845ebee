//! Logging in the JSON line format go-plugin reads from a plugin's stderr
//! (`@level`, `@message`, `@timestamp`, `@module`, plus fields), so that
//! `TF_LOG`, `TF_LOG_PROVIDER` and `TF_LOG_PATH` work as for any provider.
//! Secrets must never be passed to a log macro; the client logs no headers.

use std::fmt::Write as _;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

struct Fields {
    message: String,
    rest: serde_json::Map<String, serde_json::Value>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut s = String::new();
        let _ = write!(s, "{value:?}");
        if field.name() == "message" {
            self.message = s;
        } else {
            self.rest
                .insert(field.name().to_string(), serde_json::Value::String(s));
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.rest.insert(field.name().to_string(), value.into());
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.rest.insert(field.name().to_string(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.rest.insert(field.name().to_string(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.rest.insert(field.name().to_string(), value.into());
    }
}

struct HclogJson;

impl<S: tracing::Subscriber> Layer<S> for HclogJson {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut f = Fields {
            message: String::new(),
            rest: Default::default(),
        };
        event.record(&mut f);
        let level = match *meta.level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warn",
            tracing::Level::INFO => "info",
            tracing::Level::DEBUG => "debug",
            tracing::Level::TRACE => "trace",
        };
        let mut m = f.rest;
        m.insert("@level".into(), level.into());
        m.insert("@message".into(), f.message.into());
        m.insert("@module".into(), "provider.vmax".into());
        m.insert(
            "@timestamp".into(),
            chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.6f%:z")
                .to_string()
                .into(),
        );
        m.insert(
            "@caller".into(),
            format!(
                "{}:{}",
                meta.file().unwrap_or("?"),
                meta.line().unwrap_or(0)
            )
            .into(),
        );
        // never panic on a closed stderr (Terraform gone): drop the line
        use std::io::Write;
        let _ = writeln!(std::io::stderr().lock(), "{}", serde_json::Value::Object(m));
    }
}

/// Level from `TF_LOG_PROVIDER`, else `TF_LOG`, else warnings only.
pub fn level_from_env(get: impl Fn(&str) -> Option<String>) -> tracing::level_filters::LevelFilter {
    use tracing::level_filters::LevelFilter;
    let v = get("TF_LOG_PROVIDER")
        .or_else(|| get("TF_LOG"))
        .unwrap_or_default();
    match v.to_ascii_lowercase().as_str() {
        "trace" | "json" => LevelFilter::TRACE,
        "debug" => LevelFilter::DEBUG,
        "info" => LevelFilter::INFO,
        "error" => LevelFilter::ERROR,
        "off" => LevelFilter::OFF,
        _ => LevelFilter::WARN,
    }
}

/// Installs the logger; call once at start.
pub fn init() {
    let level = level_from_env(|k| std::env::var(k).ok());
    let noisy = tracing_subscriber::filter::filter_fn(|m| {
        let t = m.target();
        !(t.starts_with("h2")
            || t.starts_with("hyper")
            || t.starts_with("tower")
            || t.starts_with("rustls"))
    });
    let _ = tracing_subscriber::registry()
        .with(HclogJson.with_filter(level).with_filter(noisy))
        .try_init();
}
