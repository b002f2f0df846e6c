//! `[metrics]` and `[log]`: who may read `/metrics`, and how the log is written. README,
//! "Operating the center".

use serde::Deserialize;
use watchpost_server::api::MetricsToken;

/// `[metrics]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsTable {
    /// The environment variable holding the bearer token `/metrics` asks for.
    pub token_env: Option<String>,
}

impl MetricsTable {
    /// The token, read from the variable `token_env` names through `env`; an error names the
    /// key and the variable when it is unset or empty.
    pub fn token(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<MetricsToken>, String> {
        let Some(variable) = &self.token_env else {
            return Ok(None);
        };
        match env(variable) {
            Some(token) if !token.trim().is_empty() => Ok(Some(MetricsToken(token))),
            _ => Err(format!(
                "metrics.token_env: the environment variable {variable} is not set (or is empty)"
            )),
        }
    }
}

/// How log lines are written: `text` for people, `json` (one object a line) for collectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

/// `[log]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogTable {
    /// Default: `text` when stderr is a terminal, `json` otherwise.
    pub format: Option<LogFormat>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_from_the_named_variable() {
        let table = MetricsTable {
            token_env: Some("METRICS_TOKEN".into()),
        };
        let token = table
            .token(|name| (name == "METRICS_TOKEN").then(|| "s3cret".to_string()))
            .unwrap();
        assert_eq!(token.map(|t| t.0), Some("s3cret".to_string()));
        let unset = table.token(|_| None).unwrap_err();
        assert!(unset.contains("metrics.token_env") && unset.contains("METRICS_TOKEN"));
        assert!(MetricsTable::default().token(|_| None).unwrap().is_none());
    }
}
