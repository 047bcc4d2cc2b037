//! Tolerant readers for fields of the servers' answers, used with `#[serde(default,
//! deserialize_with = …)]` on the wire structs. A field of an unexpected type reads as absent
//! instead of failing the whole answer: one odd row must not hide a page of invitations, and a
//! hostile server gets no further than a missing field. Unknown fields are ignored (serde's
//! default) and missing ones take their default.

use serde::de::{DeserializeOwned, Deserializer, Error as _, IgnoredAny};
use serde::Deserialize;
use serde_json::Value;

/// `T` when the field holds one, else `None` (absent, `null`, or another type).
pub fn opt<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(Option::<Value>::deserialize(d)?.and_then(|v| T::deserialize(v).ok()))
}

/// A non-empty string, or a number written out (`"7"` for `7`); else `None`.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// A non-empty string; else `None` (numbers too).
pub fn words<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    })
}

/// True when the field is there at all, whatever it holds (`null` too).
pub fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(d).map(|_| true)
}

/// `T` read from a JSON object only: derived structs would also take an array, by position.
pub fn object<T: DeserializeOwned>(v: Value) -> Option<T> {
    match v {
        Value::Object(_) => T::deserialize(v).ok(),
        _ => None,
    }
}

/// `T` read from a JSON object, an error for anything else (see [`object`]).
pub fn strict_object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(d)? {
        v @ Value::Object(_) => T::deserialize(v).map_err(D::Error::custom),
        _ => Err(D::Error::custom("expected an object")),
    }
}

/// An object field as `T`, else `None` (absent, `null`, an array, or an object `T` can't read).
pub fn opt_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(Option::<Value>::deserialize(d)?.and_then(object))
}

/// A list field: `None` unless it is an array; the items that are objects `T` can read, the
/// others skipped.
pub fn rows<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Array(items)) => Some(items.into_iter().filter_map(object).collect()),
        _ => None,
    })
}

/// Parses a body that should be a JSON object into `T`; `None` for anything else.
pub fn parse_object<T: DeserializeOwned>(body: &str) -> Option<T> {
    serde_json::from_str::<Value>(body).ok().and_then(object)
}

/// Parses a body that must be JSON into `T`: not JSON is [`crate::error::Error::BadResponse`];
/// JSON that is not an object reads as `T::default()` (every field absent).
pub fn json_object<T: DeserializeOwned + Default>(body: &str) -> crate::error::Result<T> {
    let v: Value = crate::http::parse_json(body)?;
    Ok(object(v).unwrap_or_default())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Row {
        #[serde(deserialize_with = "text")]
        id: Option<String>,
        #[serde(deserialize_with = "words")]
        name: Option<String>,
        #[serde(deserialize_with = "opt")]
        total: Option<u64>,
        #[serde(deserialize_with = "present")]
        flag: bool,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Page {
        #[serde(deserialize_with = "rows")]
        rows: Option<Vec<Row>>,
    }

    #[test]
    fn odd_fields_read_as_absent() {
        let r: Row =
            parse_object(r#"{"id":7,"name":3,"total":"x","flag":null,"more":[1]}"#).unwrap();
        assert_eq!(
            (r.id.as_deref(), r.name, r.total, r.flag),
            (Some("7"), None, None, true)
        );
        let r: Row = parse_object(r#"{"id":"","name":"n","total":12}"#).unwrap();
        assert_eq!(
            (r.id, r.name.as_deref(), r.total, r.flag),
            (None, Some("n"), Some(12), false)
        );
        // An array is not an object, even though a derived struct would read it by position.
        assert!(parse_object::<Row>(r#"["7","n",1,true]"#).is_none());
        assert!(parse_object::<Row>("<html>").is_none());
    }

    #[test]
    fn rows_skip_what_is_not_an_object() {
        let p: Page = parse_object(r#"{"rows":[{"id":"a"},1,null,["b"],{"id":"c"}]}"#).unwrap();
        let ids: Vec<_> = p.rows.unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, [Some("a".into()), Some("c".into())]);
        let p: Page = parse_object(r#"{"rows":{"id":"a"}}"#).unwrap();
        assert!(p.rows.is_none());
    }
}
