//! How domain values are kept in text columns, the same for every backend: enums by their serde
//! names, signal events and log bodies as JSON.

use crate::{Result, StoreError};

/// Values stored as text are the serde names of the domain enums.
pub(crate) fn to_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => unreachable!("domain enums serialise: {e}"),
    }
}

pub(crate) fn from_text<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|e| StoreError::Corrupt(format!("{column} = {text:?}: {e}")))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("log entries serialise")
}
