//! JSON documents kept as their text. A credential's `metadata` and `config` (with the JWT
//! payload) can be 64 KiB each; parsed into `serde_json::Value` trees they take up to 16 times
//! that, so a list page of 500 would need gigabytes. Rows carry the checked text instead, and
//! responses embed it as it is; whoever needs the contents parses just what it needs.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

/// Valid JSON text. Serialises as the JSON it holds (not as a string).
#[derive(Clone)]
pub struct JsonText(Box<RawValue>);

impl JsonText {
    /// The JSON text of `value` (a `Value`, or anything else serde writes as JSON).
    pub fn of(value: &impl Serialize) -> JsonText {
        JsonText(serde_json::value::to_raw_value(value).expect("JSON values always serialise"))
    }

    /// Checks that `text` is JSON, without building it.
    pub fn from_text(text: String) -> Result<JsonText, serde_json::Error> {
        RawValue::from_string(text).map(JsonText)
    }

    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    pub fn as_raw(&self) -> &RawValue {
        &self.0
    }

    /// The document, or the part of it that `T` describes.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }

    pub fn to_value(&self) -> Value {
        self.parse()
            .expect("JsonText holds valid JSON within the parser's limits")
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &JsonText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for JsonText {}

impl fmt::Debug for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Value> for JsonText {
    fn from(value: Value) -> JsonText {
        JsonText::of(&value)
    }
}

impl Serialize for JsonText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<JsonText, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(JsonText)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_the_text_and_serialises_as_json() {
        let text = JsonText::from_text(r#"{"b": 1, "a": [true]}"#.into()).unwrap();
        assert_eq!(text.as_str(), r#"{"b": 1, "a": [true]}"#);
        assert_eq!(
            serde_json::to_string(&json!({ "m": text })).unwrap(),
            r#"{"m":{"b":1,"a":[true]}}"#
        );
        assert_eq!(text.to_value(), json!({"b": 1, "a": [true]}));
        assert!(JsonText::from_text("{".into()).is_err());
        let read: JsonText = serde_json::from_str(r#" {"x":null} "#).unwrap();
        assert_eq!(read.as_str(), r#"{"x":null}"#);
        assert_eq!(JsonText::from(json!({"k": 1})).as_str(), r#"{"k":1}"#);
    }
}
