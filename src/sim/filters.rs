//! The documented query filters of Unisphere's list endpoints, applied to
//! the rendered objects. A filter the simulator does not implement is
//! refused with a 400 that names it, never silently ignored (a client
//! would then act on a wrong list).
//!
//! Syntax, as Unisphere takes it: numbers compare with a leading `>`, `<`
//! or `=` (`num_of_vols=>0`, `cap_gb=<10`; no sign is equality); strings
//! match exactly, or as a substring with `<like>`; flags are `true` or
//! `false`.

use super::http::Query;
use super::model::{SimError, SimResult};
use serde_json::Value;

/// How a filter reads the rendered object.
#[derive(Clone, Copy)]
pub enum Field {
    /// A number field.
    Num(&'static str),
    /// A string field (or a list of strings: any element matches).
    Str(&'static str),
    /// A boolean field.
    Flag(&'static str),
    /// A boolean: whether a number field is above zero.
    NonZero(&'static str),
    /// A boolean: whether a string field equals this value.
    Is(&'static str, &'static str),
    /// Handled by the caller (e.g. deep group membership).
    Custom,
}

/// Checks that every query parameter is a filter this list implements.
pub fn check(q: &Query, list: &str, spec: &[(&str, Field)]) -> SimResult<()> {
    for k in q.keys() {
        if !spec.iter().any(|(n, _)| n == k) {
            let known: Vec<&str> = spec.iter().map(|(n, _)| *n).collect();
            return Err(SimError::bad_request(format!(
                "The {list} list filter '{k}' is not supported by vmax-sim; supported filters: {}",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

/// Whether `item` passes every filter of `q` (Custom ones are skipped).
pub fn matches(q: &Query, spec: &[(&str, Field)], item: &Value) -> bool {
    spec.iter().all(|(name, field)| match q.get(*name) {
        None => true,
        Some(want) => field_matches(*field, want, item),
    })
}

fn field_matches(field: Field, want: &str, item: &Value) -> bool {
    match field {
        Field::Custom => true,
        Field::Num(k) => item
            .get(k)
            .and_then(Value::as_f64)
            .is_some_and(|v| num_matches(want, v)),
        Field::Str(k) => match item.get(k) {
            Some(Value::String(s)) => str_matches(want, s),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .any(|s| str_matches(want, s)),
            _ => false,
        },
        Field::Flag(k) => flag_matches(want, item.get(k).and_then(Value::as_bool).unwrap_or(false)),
        Field::NonZero(k) => flag_matches(
            want,
            item.get(k).and_then(Value::as_f64).is_some_and(|v| v > 0.0),
        ),
        Field::Is(k, v) => flag_matches(want, item.get(k).and_then(Value::as_str) == Some(v)),
    }
}

/// `>5`, `<5`, `=5` or `5`.
pub fn num_matches(want: &str, v: f64) -> bool {
    let (op, n) = match want.chars().next() {
        Some(c @ ('>' | '<' | '=')) => (c, &want[1..]),
        _ => ('=', want),
    };
    let Ok(n) = n.trim().parse::<f64>() else {
        return false;
    };
    match op {
        '>' => v > n,
        '<' => v < n,
        _ => (v - n).abs() < 0.005,
    }
}

/// `<like>part` is a substring match; anything else is exact.
pub fn str_matches(want: &str, v: &str) -> bool {
    match want.strip_prefix("<like>") {
        Some(sub) => v.contains(sub),
        None => want == v,
    }
}

fn flag_matches(want: &str, v: bool) -> bool {
    want.eq_ignore_ascii_case("true") == v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_strings_and_flags() {
        assert!(num_matches(">0", 1.0) && !num_matches(">0", 0.0));
        assert!(num_matches("<10", 9.5) && num_matches("=2", 2.0) && num_matches("2", 2.0));
        assert!(str_matches("<like>web", "OS-web1-I-IG") && !str_matches("web", "OS-web1"));
        let item = json!({"num_of_vols": 0, "type": "Parent", "compression": true, "maskingview": ["a", "b"]});
        let spec = [
            ("num_of_vols", Field::Num("num_of_vols")),
            ("parent", Field::Is("type", "Parent")),
            ("compression", Field::Flag("compression")),
            ("mv", Field::Str("maskingview")),
        ];
        let q =
            |k: &str, v: &str| -> Query { [(k.to_string(), v.to_string())].into_iter().collect() };
        assert!(matches(&q("num_of_vols", "0"), &spec, &item));
        assert!(!matches(&q("num_of_vols", ">0"), &spec, &item));
        assert!(matches(&q("parent", "true"), &spec, &item));
        assert!(matches(&q("mv", "b"), &spec, &item));
        assert!(check(&q("bogus", "1"), "storage group", &spec).is_err());
    }
}
