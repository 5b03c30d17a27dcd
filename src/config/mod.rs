//! Configuration files: TOML loading with `--set key=value` overrides and errors that name
//! the offending key ([`load_value`]), the configuration of `dmfe run` ([`RunConfig`]), of
//! `dmfe flow` ([`FlowConfig`]) and of `dmfe static` ([`StaticConfig`]).

mod flow;
mod run;
mod statics;

pub use flow::*;
pub use run::*;
pub use statics::*;

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Reads `path` as TOML and applies `overrides` of the form `section.key=value` (the value
/// is parsed as a TOML value, falling back to a string).
pub fn load_value(path: &Path, overrides: &[String]) -> Result<toml::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::config(
            path.display().to_string(),
            format!("cannot read config file: {e}"),
        )
    })?;
    let mut value: toml::Value = text
        .parse::<toml::Table>()
        .map(toml::Value::Table)
        .map_err(|e| {
            let msg = e.message().to_string();
            let line = e
                .span()
                .map(|s| format!(" (line {})", text[..s.start].lines().count().max(1)))
                .unwrap_or_default();
            Error::config(
                path.display().to_string(),
                format!("TOML syntax error{line}: {msg}"),
            )
        })?;
    for o in overrides {
        apply_override(&mut value, o)?;
    }
    Ok(value)
}

/// Reads `path` with `overrides` applied ([`load_value`]) and deserialises it into `T`
/// ([`from_value`]); each config type validates the result itself.
pub fn load_as<T: DeserializeOwned>(path: &Path, overrides: &[String]) -> Result<T> {
    from_value(load_value(path, overrides)?)
}

/// Applies one `section.key=value` override to a TOML document.
pub fn apply_override(doc: &mut toml::Value, assignment: &str) -> Result<()> {
    let (key, raw) = assignment
        .split_once('=')
        .ok_or_else(|| Error::config(assignment, "an override must look like section.key=value"))?;
    let key = key.trim();
    let raw = raw.trim();
    let parsed: toml::Value = format!("x = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("x"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts
        .pop()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| Error::config(key, "empty key in override"))?;
    let mut cur = doc;
    for p in parts {
        let table = cur
            .as_table_mut()
            .ok_or_else(|| Error::config(key, format!("'{p}' is not a table")))?;
        cur = table
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    }
    let table = cur
        .as_table_mut()
        .ok_or_else(|| Error::config(key, "the parent of this key is not a table"))?;
    table.insert(last.to_string(), parsed);
    Ok(())
}

/// Deserialises a TOML document into `T`, turning serde's message into an error that names
/// the dotted key (unknown keys and wrong types included).
pub fn from_value<T: DeserializeOwned>(value: toml::Value) -> Result<T> {
    let text = toml::to_string(&value).map_err(|e| Error::config("config", e.to_string()))?;
    toml::from_str::<T>(&text).map_err(|e| {
        let msg = e.message().replace('\n', " ");
        let mut key = locate_key(&text, e.span());
        // An unknown key is named by the message itself: append it to its table.
        if let Some(field) = msg
            .strip_prefix("unknown field `")
            .and_then(|r| r.split('`').next())
        {
            if !key.ends_with(field) {
                let table = key.rsplit_once('.').map(|(t, _)| t).unwrap_or(&key);
                key = format!("{table}.{field}");
            }
        }
        // A missing field is named by the message: the span is its enclosing table's header
        // (empty for a missing top-level table).
        if let Some(field) = msg
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
        {
            let top = e.span().is_none_or(|s| s.is_empty());
            key = if top {
                field.to_string()
            } else {
                format!("{key}.{field}")
            };
        }
        Error::config(key, msg.trim().to_string())
    })
}

/// Finds the dotted key of the TOML text at `span` (the table headers before it and the key
/// on its line).
fn locate_key(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return "config".into();
    };
    // Include the line the span starts on (it may be the table header itself).
    let start = span.start.min(text.len());
    let line_end_at_start = text[start..]
        .find('\n')
        .map(|i| start + i)
        .unwrap_or(text.len());
    let mut section = String::new();
    for line in text[..line_end_at_start].lines() {
        let l = line.trim();
        if l.starts_with('[') && l.ends_with(']') {
            section = l.trim_matches(|c| c == '[' || c == ']').trim().to_string();
        }
    }
    let upto = &text[..start];
    let line_start = upto.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = text[line_start..]
        .find('\n')
        .map(|i| line_start + i)
        .unwrap_or(text.len());
    let line = text[line_start..line_end].trim();
    let key = if line.starts_with('[') {
        String::new()
    } else {
        line.split('=')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"')
            .to_string()
    };
    match (section.is_empty(), key.is_empty()) {
        (true, true) => "config".into(),
        (true, false) => key,
        (false, true) => section,
        (false, false) => format!("{section}.{key}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[allow(dead_code)]
        b: f64,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        #[allow(dead_code)]
        a: Inner,
    }

    #[test]
    fn overrides_create_and_replace_keys() {
        let mut v: toml::Value = toml::Value::Table("[a]\nb = 1.0\n".parse().unwrap());
        apply_override(&mut v, "a.b=2.5").unwrap();
        apply_override(&mut v, "c.d=hello").unwrap();
        assert_eq!(v["a"]["b"].as_float(), Some(2.5));
        assert_eq!(v["c"]["d"].as_str(), Some("hello"));
    }

    #[test]
    fn errors_name_the_key() {
        let v: toml::Value = toml::Value::Table("[a]\nb = \"x\"\n".parse().unwrap());
        let e = from_value::<Outer>(v).unwrap_err().to_string();
        assert!(e.contains("a.b"), "{e}");
        let v: toml::Value = toml::Value::Table("[a]\nb = 1.0\nzz = 2\n".parse().unwrap());
        let e = from_value::<Outer>(v).unwrap_err().to_string();
        assert!(e.contains("a.zz") && e.contains("unknown field"), "{e}");
        // Missing fields: a key of a table, and a whole top-level table.
        let v: toml::Value = toml::Value::Table("[a]\n".parse().unwrap());
        let e = from_value::<Outer>(v).unwrap_err().to_string();
        assert!(e.contains("a.b: missing field"), "{e}");
        let v: toml::Value = toml::Value::Table(toml::Table::new());
        let e = from_value::<Outer>(v).unwrap_err().to_string();
        assert!(e.contains(" a: missing field `a`"), "{e}");
    }
}
