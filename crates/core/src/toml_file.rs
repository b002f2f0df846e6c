//! Reading the TOML files people write (scenarios, accounts): errors name the field (or the
//! line and column of a syntax error) and the reason; unknown keys are reported as warnings.

use serde::de::DeserializeOwned;

/// Parses `text`; returns the value and one warning per unknown key.
pub fn read<T: DeserializeOwned>(text: &str) -> Result<(T, Vec<String>), String> {
    let mut warnings = Vec::new();
    let mut ignored = |path: serde_ignored::Path| {
        warnings.push(format!("{path}: unknown key, ignored"));
    };
    let deserializer = toml::Deserializer::new(text);
    let value = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(
        deserializer,
        &mut ignored,
    ))
    .map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.message().trim().to_string();
        let place = inner.span().map(|span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            (line, column)
        });
        match (path.as_str(), place) {
            ("." | "", Some((line, column))) => format!("line {line}, column {column}: {message}"),
            ("." | "", None) => message,
            (_, Some((line, _))) => format!("{path}: {message} (line {line})"),
            (_, None) => format!("{path}: {message}"),
        }
    })?;
    Ok((value, warnings))
}
