//! Lenient scalar readers: the same field is a string in one export, a number
//! or a boolean in another (`durationMs` is `"78"` in raw logs and `78` in
//! Managed HSM logs; `az` prints `"True"` and `"None"`). These accept every
//! spelling and borrow from the input when they can.

use std::fmt;

use serde::Deserializer;
use serde::de::{self, IgnoredAny, Visitor};

use super::schema::Cow;

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, number, boolean or null")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(if v { "true" } else { "false" })))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    // Arrays and objects where a scalar was expected carry nothing kvaudit reads.
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// [`text`] for the fields of a record: an empty array or object still
/// means no value, but one that holds something is a field of a type
/// kvaudit cannot read, and an error (the record is rejected, not read
/// with the field missing).
pub fn field<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    let value = d.deserialize_any(StrictScalarVisitor)?;
    Ok(value.filter(|v| !is_null_text(v)))
}

struct StrictScalarVisitor;

impl<'de> Visitor<'de> for StrictScalarVisitor {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, number, boolean or null")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        ScalarVisitor.visit_borrowed_str(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        ScalarVisitor.visit_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        ScalarVisitor.visit_string(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        ScalarVisitor.visit_u64(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        ScalarVisitor.visit_i64(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        ScalarVisitor.visit_f64(v)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        ScalarVisitor.visit_bool(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        match seq.next_element::<IgnoredAny>()? {
            None => Ok(None),
            Some(_) => Err(de::Error::invalid_type(de::Unexpected::Seq, &self)),
        }
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        match map.next_key::<IgnoredAny>()? {
            None => Ok(None),
            Some(_) => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
        }
    }
}

/// Any JSON scalar as text; `null`, `""` and `"None"` as `None`.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    let value = d.deserialize_any(ScalarVisitor)?;
    Ok(value.filter(|v| !is_null_text(v)))
}

/// Whether a textual value means "no value" (`az` prints null as `None`).
pub fn is_null_text(value: &str) -> bool {
    let v = value.trim();
    v.is_empty() || v == "None" || v == "null"
}

/// An integer written as a number, a string, or a float string (`"200.0"`).
pub fn parse_integer(value: &str) -> Option<u64> {
    let v = value.trim();
    v.parse::<u64>().ok().or_else(|| {
        v.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f >= 0.0 && f.fract() == 0.0)
            .map(|f| f as u64)
    })
}

/// A boolean written as `true`, `"True"`, `"false"`, `1`, `0`.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim() {
        v if v.eq_ignore_ascii_case("true") || v == "1" => Some(true),
        v if v.eq_ignore_ascii_case("false") || v == "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow, deserialize_with = "text", default)]
        v: Option<Cow<'a, str>>,
    }

    fn probe(json: &str) -> Option<String> {
        serde_json::from_str::<Probe>(json)
            .unwrap()
            .v
            .map(|c| c.into_owned())
    }

    #[test]
    fn accepts_every_scalar_spelling() {
        assert_eq!(probe(r#"{"v":"78"}"#).as_deref(), Some("78"));
        assert_eq!(probe(r#"{"v":78}"#).as_deref(), Some("78"));
        assert_eq!(probe(r#"{"v":true}"#).as_deref(), Some("true"));
        assert_eq!(probe(r#"{"v":null}"#), None);
        assert_eq!(probe(r#"{"v":"None"}"#), None);
        assert_eq!(probe(r#"{"v":[]}"#), None);
        assert_eq!(probe(r#"{}"#), None);
    }

    #[derive(serde::Deserialize)]
    struct Strict<'a> {
        #[serde(borrow, deserialize_with = "field", default)]
        v: Option<Cow<'a, str>>,
    }

    #[test]
    fn record_fields_refuse_arrays_and_objects_that_hold_something() {
        let strict =
            |json: &str| serde_json::from_str::<Strict>(json).map(|s| s.v.map(|c| c.into_owned()));
        assert_eq!(strict(r#"{"v":78}"#).unwrap().as_deref(), Some("78"));
        assert_eq!(strict(r#"{"v":[]}"#).unwrap(), None);
        assert_eq!(strict(r#"{"v":{}}"#).unwrap(), None);
        assert!(strict(r#"{"v":[1]}"#).is_err());
        assert!(strict(r#"{"v":{"a":1}}"#).is_err());
    }

    #[test]
    fn borrows_unescaped_strings() {
        let json = r#"{"v":"plain"}"#;
        let parsed: Probe = serde_json::from_str(json).unwrap();
        assert!(matches!(parsed.v, Some(Cow::Borrowed("plain"))));
    }

    #[test]
    fn integers_and_booleans_in_their_export_spellings() {
        assert_eq!(parse_integer("200"), Some(200));
        assert_eq!(parse_integer("200.0"), Some(200));
        assert_eq!(parse_integer("2.5"), None);
        assert_eq!(parse_integer("-1"), None);
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("false"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }
}
