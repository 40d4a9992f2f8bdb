//! Strict JSON for files people hand us (snapshots, ConvNetJS networks, network definitions):
//! like `serde_json::from_str` into a `Value`, except that a key given twice in one object is
//! an error instead of the last one silently winning. Errors are plain sentences.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Parse `text` as one JSON value, refusing duplicate keys. `what` names the text in errors.
pub fn parse(text: &str, what: &str) -> Result<Value, String> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = Strict.deserialize(&mut deserializer).map_err(|e| describe(what, e))?;
    deserializer.end().map_err(|e| describe(what, e))?;
    Ok(value)
}

/// The keys of the object `text` holds, read without building any of its values (a quick look
/// at what kind of file it is); a key given twice is an error here too.
pub fn top_level_keys(text: &str, what: &str) -> Result<Vec<String>, String> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys: Vec<String> = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                if keys.contains(&key) {
                    return Err(de::Error::custom(format!("the key {key:?} appears twice in one object")));
                }
                map.next_value::<de::IgnoredAny>()?;
                keys.push(key);
            }
            Ok(keys)
        }
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let keys = deserializer.deserialize_map(Keys).map_err(|e| describe(what, e))?;
    deserializer.end().map_err(|e| describe(what, e))?;
    Ok(keys)
}

fn describe(what: &str, e: serde_json::Error) -> String {
    if e.is_data() {
        // Our own refusal (a duplicate key), with serde_json's position.
        return format!("{what} is not valid: {e}");
    }
    format!("{what} is not valid JSON (line {}, column {}: {})", e.line(), e.column(), plain(&e))
}

/// serde_json's syntax messages, without the position it appends (we give it separately).
fn plain(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.find(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Strict)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("the key {key:?} appears twice in one object")));
            }
            let value = map.next_value_seed(Strict)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_json_refuses_duplicate_keys_and_says_where() {
        assert_eq!(parse(r#"{"a": [1, 2.5, "x", null, true, {"b": -3}]}"#, "the file").unwrap(), serde_json::json!({"a": [1, 2.5, "x", null, true, {"b": -3}]}));
        let err = parse(r#"{"a": 1, "b": {"c": 2, "c": 3}}"#, "the file").unwrap_err();
        assert!(err.starts_with("the file is not valid: the key \"c\" appears twice in one object at line 1"), "{err}");
        let err = parse(r#"{"a": 1,"#, "the file").unwrap_err();
        assert!(err.starts_with("the file is not valid JSON (line 1, column 8: EOF while parsing a value)"), "{err}");
        assert!(parse("{} x", "the file").unwrap_err().contains("trailing characters"));
        // Big integers stay exact, as serde_json keeps them.
        assert_eq!(parse("18446744073709551615", "n").unwrap(), serde_json::json!(u64::MAX));
    }
}
