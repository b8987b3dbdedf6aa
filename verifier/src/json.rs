//! Reading JSON strictly (`docs/record-format.md` §Encoding, rule J1): an object that repeats a
//! key is refused, at any depth.
//!
//! `serde_json::Value` keeps the last of two equal keys, JavaScript's `JSON.parse` too, while the
//! workspace's typed decoders refuse them: one hashed board line, package or transcript could
//! otherwise be read two ways by two tools (review 19-stations-ballot-v2 L2). Every JSON text this
//! verifier reads goes through [`parse`].

use std::collections::BTreeSet;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses JSON text into a value, refusing any object that repeats a key.
pub fn parse(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut d = serde_json::Deserializer::from_slice(bytes);
    let v = Strict.deserialize(&mut d)?;
    d.end()?;
    Ok(v)
}

/// [`parse`] for a string.
pub fn parse_str(text: &str) -> Result<Value, serde_json::Error> {
    parse(text.as_bytes())
}

/// Deserialises one JSON value, refusing repeated keys.
#[derive(Clone, Copy)]
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Value, E> {
        Number::from_f64(x).map(Value::Number).ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = a.next_element_seed(Strict)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut seen = BTreeSet::new();
        let mut out = Map::new();
        while let Some(k) = a.next_key::<String>()? {
            if !seen.insert(k.clone()) {
                return Err(de::Error::custom(format!("the key {k:?} repeats in an object")));
            }
            let v = a.next_value_seed(Strict)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_serde_json_reads() {
        let text = r#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}],"c":"\u00e9\n","d":18446744073709551615}"#;
        assert_eq!(parse_str(text).unwrap(), serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn a_repeated_key_is_refused_at_any_depth() {
        for text in [
            r#"{"a":1,"a":1}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"x":{"a":1,"b":2,"a":3}}"#,
            r#"[0,{"type":"ballot","type":"challenged"}]"#,
            // The same key written with an escape is the same key.
            r#"{"type":"a","t\u0079pe":"b"}"#,
        ] {
            let e = parse_str(text).unwrap_err().to_string();
            assert!(e.contains("repeats"), "{text}: {e}");
            // What serde_json::Value would have done: keep one silently.
            assert!(serde_json::from_str::<Value>(text).is_ok());
        }
    }

    #[test]
    fn trailing_data_is_refused() {
        assert!(parse_str(r#"{"a":1} {"a":2}"#).is_err());
        assert!(parse_str(r#"{"a":1}x"#).is_err());
        assert!(parse_str("{\"a\":1}\n").is_ok());
    }
}
