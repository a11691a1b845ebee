//! Terraform values and types, and their wire encodings.
//!
//! Terraform sends values as msgpack (`DynamicValue.msgpack`): null is nil,
//! an unknown value is msgpack extension type 0, numbers are integers,
//! floats, or decimal strings when neither is exact. Raw state in upgrades
//! is JSON. Both need the schema's type to decode, because msgpack does not
//! tell a list from a set, or a map from an object.

use rmpv::Value as Mp;
use std::collections::BTreeMap;
use std::fmt;

/// A Terraform type constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    String,
    Number,
    Bool,
    List(Box<Ty>),
    Set(Box<Ty>),
    Map(Box<Ty>),
    Object(BTreeMap<String, Ty>),
    /// Any type; on the wire `[type-json, value]`.
    Dynamic,
}

impl Ty {
    pub fn list(t: Ty) -> Ty {
        Ty::List(Box::new(t))
    }
    pub fn set(t: Ty) -> Ty {
        Ty::Set(Box::new(t))
    }
    pub fn map(t: Ty) -> Ty {
        Ty::Map(Box::new(t))
    }

    /// The JSON type constraint Terraform expects in schemas.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Ty::String => json!("string"),
            Ty::Number => json!("number"),
            Ty::Bool => json!("bool"),
            Ty::List(t) => json!(["list", t.to_json()]),
            Ty::Set(t) => json!(["set", t.to_json()]),
            Ty::Map(t) => json!(["map", t.to_json()]),
            Ty::Object(a) => {
                let m: serde_json::Map<String, serde_json::Value> =
                    a.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
                json!(["object", m])
            }
            Ty::Dynamic => json!("dynamic"),
        }
    }

    pub fn from_json(v: &serde_json::Value) -> Result<Ty, CodecError> {
        use serde_json::Value as J;
        match v {
            J::String(s) => match s.as_str() {
                "string" => Ok(Ty::String),
                "number" => Ok(Ty::Number),
                "bool" => Ok(Ty::Bool),
                "dynamic" => Ok(Ty::Dynamic),
                o => Err(CodecError(format!("unknown primitive type {o}"))),
            },
            J::Array(a) if a.len() == 2 => {
                let kind = a[0].as_str().unwrap_or("");
                match kind {
                    "list" => Ok(Ty::list(Ty::from_json(&a[1])?)),
                    "set" => Ok(Ty::set(Ty::from_json(&a[1])?)),
                    "map" => Ok(Ty::map(Ty::from_json(&a[1])?)),
                    "object" => {
                        let obj = a[1]
                            .as_object()
                            .ok_or_else(|| CodecError("object type needs attributes".into()))?;
                        let mut m = BTreeMap::new();
                        for (k, t) in obj {
                            m.insert(k.clone(), Ty::from_json(t)?);
                        }
                        Ok(Ty::Object(m))
                    }
                    o => Err(CodecError(format!("unsupported type kind {o}"))),
                }
            }
            o => Err(CodecError(format!("not a type: {o}"))),
        }
    }
}

/// An exact number, kept as its decimal text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Number(String);

impl Number {
    pub fn from_i64(i: i64) -> Self {
        Number(i.to_string())
    }
    pub fn from_f64(f: f64) -> Self {
        if f.fract() == 0.0 && f.abs() < 9.0e15 {
            Number((f as i64).to_string())
        } else {
            Number(format!("{f}"))
        }
    }
    /// Parses decimal text such as `12`, `-3.5`, `1e3`; `None` if not a number.
    pub fn parse(s: &str) -> Option<Self> {
        let t = s.trim();
        if t.parse::<f64>().is_ok_and(|f| f.is_finite()) {
            Some(Number(t.to_string()))
        } else {
            None
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok().or_else(|| {
            let f: f64 = self.0.parse().ok()?;
            (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
        })
    }
    pub fn as_f64(&self) -> Option<f64> {
        self.0.parse().ok()
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Terraform value: known, null, or unknown (not yet known at plan time).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Unknown,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError(pub String);

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CodecError {}

fn err<T>(m: impl Into<String>) -> Result<T, CodecError> {
    Err(CodecError(m.into()))
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// Whether this value or anything inside it is unknown.
    pub fn has_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(v) | Value::Set(v) => v.iter().any(Value::has_unknown),
            Value::Map(m) | Value::Object(m) => m.values().any(Value::has_unknown),
            _ => false,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }
    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(v) | Value::Set(v) => v.iter().all(Value::is_wholly_known),
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }
    /// An attribute of an object value (null for anything else).
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Object(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }
    pub fn set_attr(&mut self, name: &str, v: Value) {
        if let Value::Object(m) = self {
            m.insert(name.to_string(), v);
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    pub fn int(i: i64) -> Value {
        Value::Number(Number::from_i64(i))
    }

    // ---- msgpack ----------------------------------------------------------

    pub fn from_msgpack(bytes: &[u8], ty: &Ty) -> Result<Value, CodecError> {
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        let mut rd = bytes;
        let mp =
            rmpv::decode::read_value(&mut rd).map_err(|e| CodecError(format!("msgpack: {e}")))?;
        Value::from_mp(&mp, ty)
    }

    fn from_mp(mp: &Mp, ty: &Ty) -> Result<Value, CodecError> {
        if mp.is_nil() {
            return Ok(Value::Null);
        }
        // extension 0 is an unknown value; 12 an unknown value with
        // refinements (e.g. a known string prefix), which we treat as unknown
        if let Mp::Ext(0 | 12, _) = mp {
            return Ok(Value::Unknown);
        }
        match ty {
            Ty::String => match mp {
                Mp::String(s) => Ok(Value::String(s.as_str().unwrap_or_default().to_string())),
                o => err(format!("expected a string, got {o}")),
            },
            Ty::Bool => match mp {
                Mp::Boolean(b) => Ok(Value::Bool(*b)),
                o => err(format!("expected a bool, got {o}")),
            },
            Ty::Number => match mp {
                Mp::Integer(i) => Ok(Value::Number(Number(i.to_string()))),
                Mp::F64(f) => Ok(Value::Number(Number::from_f64(*f))),
                Mp::F32(f) => Ok(Value::Number(Number::from_f64(*f as f64))),
                Mp::String(s) => Number::parse(s.as_str().unwrap_or(""))
                    .map(Value::Number)
                    .ok_or_else(|| CodecError(format!("not a number: {s}"))),
                o => err(format!("expected a number, got {o}")),
            },
            Ty::List(t) | Ty::Set(t) => match mp {
                Mp::Array(a) => {
                    let items = a
                        .iter()
                        .map(|x| Value::from_mp(x, t))
                        .collect::<Result<_, _>>()?;
                    Ok(if matches!(ty, Ty::List(_)) {
                        Value::List(items)
                    } else {
                        Value::Set(items)
                    })
                }
                o => err(format!("expected a collection, got {o}")),
            },
            Ty::Map(t) => match mp {
                Mp::Map(m) => {
                    let mut out = BTreeMap::new();
                    for (k, v) in m {
                        let k = k
                            .as_str()
                            .ok_or_else(|| CodecError("map key must be a string".into()))?;
                        out.insert(k.to_string(), Value::from_mp(v, t)?);
                    }
                    Ok(Value::Map(out))
                }
                o => err(format!("expected a map, got {o}")),
            },
            Ty::Object(attrs) => match mp {
                Mp::Map(m) => {
                    let mut out: BTreeMap<String, Value> =
                        attrs.keys().map(|k| (k.clone(), Value::Null)).collect();
                    for (k, v) in m {
                        let k = k
                            .as_str()
                            .ok_or_else(|| CodecError("attribute name must be a string".into()))?;
                        let t = attrs
                            .get(k)
                            .ok_or_else(|| CodecError(format!("unexpected attribute {k}")))?;
                        out.insert(k.to_string(), Value::from_mp(v, t)?);
                    }
                    Ok(Value::Object(out))
                }
                o => err(format!("expected an object, got {o}")),
            },
            Ty::Dynamic => match mp {
                Mp::Array(a) if a.len() == 2 => {
                    let tj = match &a[0] {
                        Mp::Binary(b) => b.clone(),
                        Mp::String(s) => s.as_bytes().to_vec(),
                        _ => return err("dynamic value needs a type"),
                    };
                    let tj: serde_json::Value = serde_json::from_slice(&tj)
                        .map_err(|e| CodecError(format!("dynamic type: {e}")))?;
                    Value::from_mp(&a[1], &Ty::from_json(&tj)?)
                }
                o => err(format!("expected a dynamic value, got {o}")),
            },
        }
    }

    pub fn to_msgpack(&self, ty: &Ty) -> Result<Vec<u8>, CodecError> {
        let mp = self.to_mp(ty)?;
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &mp).map_err(|e| CodecError(e.to_string()))?;
        Ok(out)
    }

    fn to_mp(&self, ty: &Ty) -> Result<Mp, CodecError> {
        match (self, ty) {
            (Value::Null, _) => Ok(Mp::Nil),
            (Value::Unknown, _) => Ok(Mp::Ext(0, vec![0])),
            (Value::Bool(b), Ty::Bool) => Ok(Mp::Boolean(*b)),
            (Value::String(s), Ty::String) => Ok(Mp::String(s.clone().into())),
            (Value::Number(n), Ty::Number) => {
                if let Ok(i) = n.0.parse::<i64>() {
                    Ok(Mp::Integer(i.into()))
                } else if let Some(f) = n.as_f64().filter(|f| Number::from_f64(*f).0 == n.0) {
                    Ok(Mp::F64(f))
                } else {
                    Ok(Mp::String(n.0.clone().into()))
                }
            }
            (Value::List(v), Ty::List(t)) | (Value::Set(v), Ty::Set(t)) => Ok(Mp::Array(
                v.iter().map(|x| x.to_mp(t)).collect::<Result<_, _>>()?,
            )),
            (Value::Map(m), Ty::Map(t)) => Ok(Mp::Map(
                m.iter()
                    .map(|(k, v)| Ok((Mp::String(k.clone().into()), v.to_mp(t)?)))
                    .collect::<Result<_, CodecError>>()?,
            )),
            (Value::Object(m), Ty::Object(attrs)) => {
                let mut out = Vec::with_capacity(attrs.len());
                for (k, t) in attrs {
                    let v = m.get(k).unwrap_or(&Value::Null);
                    out.push((Mp::String(k.clone().into()), v.to_mp(t)?));
                }
                Ok(Mp::Map(out))
            }
            (v, Ty::Dynamic) => {
                let t = v.infer_type();
                let tj = serde_json::to_vec(&t.to_json()).map_err(|e| CodecError(e.to_string()))?;
                Ok(Mp::Array(vec![Mp::Binary(tj), v.to_mp(&t)?]))
            }
            (v, t) => err(format!("value {v:?} does not fit type {t:?}")),
        }
    }

    fn infer_type(&self) -> Ty {
        match self {
            Value::Bool(_) => Ty::Bool,
            Value::Number(_) => Ty::Number,
            Value::List(v) => Ty::list(v.first().map(Value::infer_type).unwrap_or(Ty::String)),
            Value::Set(v) => Ty::set(v.first().map(Value::infer_type).unwrap_or(Ty::String)),
            Value::Map(m) => Ty::map(
                m.values()
                    .next()
                    .map(Value::infer_type)
                    .unwrap_or(Ty::String),
            ),
            Value::Object(m) => {
                Ty::Object(m.iter().map(|(k, v)| (k.clone(), v.infer_type())).collect())
            }
            _ => Ty::String,
        }
    }

    // ---- JSON ---------------------------------------------------------------

    /// Decodes JSON (raw state) with the given type; missing attributes are null.
    pub fn from_json(j: &serde_json::Value, ty: &Ty) -> Result<Value, CodecError> {
        use serde_json::Value as J;
        if j.is_null() {
            return Ok(Value::Null);
        }
        match (ty, j) {
            (Ty::String, J::String(s)) => Ok(Value::String(s.clone())),
            (Ty::String, J::Number(n)) => Ok(Value::String(n.to_string())),
            (Ty::String, J::Bool(b)) => Ok(Value::String(b.to_string())),
            (Ty::Bool, J::Bool(b)) => Ok(Value::Bool(*b)),
            (Ty::Bool, J::String(s)) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            (Ty::Number, J::Number(n)) => Ok(Value::Number(Number(n.to_string()))),
            (Ty::Number, J::String(s)) => Number::parse(s)
                .map(Value::Number)
                .ok_or_else(|| CodecError(format!("not a number: {s}"))),
            (Ty::List(t), J::Array(a)) => Ok(Value::List(
                a.iter()
                    .map(|x| Value::from_json(x, t))
                    .collect::<Result<_, _>>()?,
            )),
            (Ty::Set(t), J::Array(a)) => Ok(Value::Set(
                a.iter()
                    .map(|x| Value::from_json(x, t))
                    .collect::<Result<_, _>>()?,
            )),
            (Ty::Map(t), J::Object(o)) => Ok(Value::Map(
                o.iter()
                    .map(|(k, v)| Ok((k.clone(), Value::from_json(v, t)?)))
                    .collect::<Result<_, CodecError>>()?,
            )),
            (Ty::Object(attrs), J::Object(o)) => {
                let mut out = BTreeMap::new();
                for (k, t) in attrs {
                    out.insert(
                        k.clone(),
                        Value::from_json(o.get(k).unwrap_or(&J::Null), t)?,
                    );
                }
                Ok(Value::Object(out))
            }
            (Ty::Dynamic, v) => Ok(Value::from_json_untyped(v)),
            (t, v) => err(format!("JSON {v} does not fit type {t:?}")),
        }
    }

    fn from_json_untyped(j: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match j {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::Number(Number(n.to_string())),
            J::String(s) => Value::String(s.clone()),
            J::Array(a) => Value::List(a.iter().map(Value::from_json_untyped).collect()),
            J::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json_untyped(v)))
                    .collect(),
            ),
        }
    }

    /// Converts a wholly known value to JSON (for typed state via serde).
    pub fn to_json(&self) -> Result<serde_json::Value, CodecError> {
        use serde_json::Value as J;
        Ok(match self {
            Value::Null => J::Null,
            Value::Unknown => return err("value is not yet known"),
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => {
                serde_json::from_str(&n.0).map_err(|e| CodecError(e.to_string()))?
            }
            Value::String(s) => J::String(s.clone()),
            Value::List(v) | Value::Set(v) => {
                J::Array(v.iter().map(Value::to_json).collect::<Result<_, _>>()?)
            }
            Value::Map(m) | Value::Object(m) => J::Object(
                m.iter()
                    .map(|(k, v)| Ok((k.clone(), v.to_json()?)))
                    .collect::<Result<_, CodecError>>()?,
            ),
        })
    }

    /// Typed state: decodes an object into a serde type. Unknown values
    /// (computed attributes at apply time) read as null.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, CodecError> {
        serde_json::from_value(self.unknown_as_null().to_json()?)
            .map_err(|e| CodecError(e.to_string()))
    }

    /// A copy with every unknown value replaced by null.
    pub fn unknown_as_null(&self) -> Value {
        match self {
            Value::Unknown => Value::Null,
            Value::List(v) => Value::List(v.iter().map(Value::unknown_as_null).collect()),
            Value::Set(v) => Value::Set(v.iter().map(Value::unknown_as_null).collect()),
            Value::Map(m) => Value::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.unknown_as_null()))
                    .collect(),
            ),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.unknown_as_null()))
                    .collect(),
            ),
            v => v.clone(),
        }
    }

    /// Typed state: encodes a serde type as a value of type `ty`.
    pub fn encode<T: serde::Serialize>(v: &T, ty: &Ty) -> Result<Value, CodecError> {
        let j = serde_json::to_value(v).map_err(|e| CodecError(e.to_string()))?;
        Value::from_json(&j, ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj_ty() -> Ty {
        Ty::Object(BTreeMap::from([
            ("name".into(), Ty::String),
            ("size".into(), Ty::Number),
            ("tags".into(), Ty::set(Ty::String)),
            ("meta".into(), Ty::map(Ty::Number)),
            ("flag".into(), Ty::Bool),
            (
                "nested".into(),
                Ty::list(Ty::Object(BTreeMap::from([("x".into(), Ty::Number)]))),
            ),
        ]))
    }

    #[test]
    fn msgpack_round_trips_nested_null_unknown_and_numbers() {
        let v = Value::Object(BTreeMap::from([
            ("name".into(), Value::string("vol")),
            (
                "size".into(),
                Value::Number(Number::parse("123456789012345678901234567890").unwrap()),
            ),
            (
                "tags".into(),
                Value::Set(vec![Value::string("a"), Value::Unknown]),
            ),
            (
                "meta".into(),
                Value::Map(BTreeMap::from([
                    ("pi".into(), Value::Number(Number::parse("3.25").unwrap())),
                    (
                        "big".into(),
                        Value::Number(Number::parse("0.1000000000000000000001").unwrap()),
                    ),
                ])),
            ),
            ("flag".into(), Value::Null),
            (
                "nested".into(),
                Value::List(vec![Value::Object(BTreeMap::from([(
                    "x".into(),
                    Value::int(-7),
                )]))]),
            ),
        ]));
        let ty = obj_ty();
        let bytes = v.to_msgpack(&ty).unwrap();
        assert_eq!(Value::from_msgpack(&bytes, &ty).unwrap(), v);
        assert!(!v.is_wholly_known());
    }

    #[test]
    fn unknown_is_extension_zero_and_numbers_pick_exact_encodings() {
        let b = Value::Unknown.to_msgpack(&Ty::String).unwrap();
        assert_eq!(b[0], 0xd4, "fixext1");
        assert_eq!(b[1], 0, "extension type 0");
        let i = Value::int(42).to_msgpack(&Ty::Number).unwrap();
        assert_eq!(i, vec![42]);
        let f = Value::Number(Number::parse("2.5").unwrap())
            .to_msgpack(&Ty::Number)
            .unwrap();
        assert_eq!(f[0], 0xcb, "float64");
        let s = Value::Number(Number::parse("1e400").unwrap_or(Number("1e400".into())));
        assert!(
            s.to_msgpack(&Ty::Number).unwrap()[0] & 0xe0 == 0xa0
                || s.to_msgpack(&Ty::Number).unwrap()[0] == 0xd9
        );
    }

    #[test]
    fn refined_unknowns_decode_as_unknown() {
        // what Terraform sends for "bench-${count.index}" during validation:
        // extension 12 carrying the refinement (a known prefix)
        let mut b = Vec::new();
        rmp::encode::write_ext_meta(&mut b, 11, 12).unwrap();
        b.extend([130, 1, 194, 2, 166, 98, 101, 110, 99, 104, 45]);
        assert_eq!(
            Value::from_msgpack(&b, &Ty::String).unwrap(),
            Value::Unknown
        );
    }

    #[test]
    fn json_state_decodes_with_missing_attributes_as_null() {
        let j = serde_json::json!({"name": "v", "size": 10});
        let v = Value::from_json(&j, &obj_ty()).unwrap();
        assert_eq!(v.get("name").as_str(), Some("v"));
        assert_eq!(v.get("size").as_i64(), Some(10));
        assert!(v.get("flag").is_null());
        assert!(Value::from_json(&serde_json::json!({"size": true}), &obj_ty()).is_err());
    }

    #[test]
    fn type_json_round_trips() {
        let t = obj_ty();
        assert_eq!(Ty::from_json(&t.to_json()).unwrap(), t);
        assert_eq!(
            Ty::list(Ty::String).to_json(),
            serde_json::json!(["list", "string"])
        );
    }

    #[test]
    fn dynamic_values_carry_their_type() {
        let v = Value::List(vec![Value::string("a")]);
        let b = v.to_msgpack(&Ty::Dynamic).unwrap();
        assert_eq!(Value::from_msgpack(&b, &Ty::Dynamic).unwrap(), v);
    }
}

/// A resource's state read into its typed form; a failure is a diagnostic
/// naming the resource type (`what`).
pub fn read_state<T: serde::de::DeserializeOwned>(
    v: &Value,
    what: &str,
    diags: &mut super::Diags,
) -> Option<T> {
    v.decode()
        .map_err(|e| diags.error(format!("Cannot read {what} state"), e.to_string()))
        .ok()
}

/// A typed state written back in the schema's type `ty`; a failure is a
/// provider bug, reported as such.
pub fn write_state<T: serde::Serialize>(
    s: &T,
    ty: &Ty,
    what: &str,
    diags: &mut super::Diags,
) -> Value {
    Value::encode(s, ty).unwrap_or_else(|e| {
        diags.error(
            format!("Cannot encode {what} state"),
            format!("provider bug: {e}"),
        );
        Value::Null
    })
}

/// Serde for a block of at most one element (`Nesting::List`, max 1)
/// held as an `Option`: written as `[]` or `[x]`, read from a list, an
/// object or null.
pub mod at_most_one {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(x) => [x].serialize(s),
            None => <[T; 0]>::default().serialize(s),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrList<T> {
            List(Vec<T>),
            One(T),
        }
        Ok(match Option::<OneOrList<T>>::deserialize(d)? {
            None => None,
            Some(OneOrList::List(v)) => v.into_iter().next(),
            Some(OneOrList::One(x)) => Some(x),
        })
    }
}
