//! Decoding a JSON object keeping some of its top-level keys: the values of
//! the others are parsed over (validated, never built), which is most of
//! the work of reading a stored message whose properties no reader keeps.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

/// The object's kept entries.
pub(crate) struct Keeping<'k>(pub(crate) &'k dyn Fn(&str) -> bool);

impl<'de> DeserializeSeed<'de> for Keeping<'_> {
    type Value = Map<String, Value>;

    fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<Self::Value, D::Error> {
        input.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Keeping<'_> {
    type Value = Map<String, Value>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a json object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Self::Value, A::Error> {
        let mut kept = Map::new();
        while let Some(Key(key)) = entries.next_key()? {
            if (self.0)(&key) {
                // A repeated key keeps its last value, as a whole decode does.
                kept.insert(key.into_owned(), entries.next_value::<Value>()?);
            } else {
                entries.next_value::<IgnoredAny>()?;
            }
        }
        Ok(kept)
    }
}

/// A key borrowed from the text unless it holds escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(input: D) -> Result<Self, D::Error> {
        input.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a key")
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(Key(Cow::Borrowed(key)))
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(Key(Cow::Owned(key.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{object_from_text, object_keeping};
    use serde_json::json;

    #[test]
    fn only_the_kept_keys_are_decoded_and_the_rest_still_checked() {
        let text =
            r#"{"plan":"pro","big":{"deep":[1,2,{"x":null}]},"a\"b":1,"seats":3,"plan":"team"}"#;
        let keep = |key: &str| key == "plan" || key == "a\"b";
        let kept = object_keeping(text, "events.properties", Some(&keep)).expect("valid");
        assert_eq!(
            serde_json::Value::Object(kept),
            json!({"plan": "team", "a\"b": 1}),
            "the last of a repeated key, an escaped key"
        );
        let whole = object_keeping(text, "events.properties", None).expect("valid");
        assert_eq!(
            whole,
            object_from_text(text, "events.properties").expect("valid")
        );
        let nothing = |_: &str| false;
        assert!(object_keeping(text, "c", Some(&nothing))
            .expect("valid")
            .is_empty());
        for bad in [r#"{"a":1,"b":[}"#, r#"[1]"#, r#"{"a":1} x"#, "null"] {
            let error = object_keeping(bad, "events.context", Some(&nothing))
                .expect_err("not a json object");
            assert!(
                error.to_string().contains("events.context"),
                "{bad}: {error}"
            );
        }
    }
}
