//! `[secrets]`: where the master key that seals DC-09 keys at rest is read from — a file
//! (`master_key_file`) or the environment (`WATCHPOST_MASTER_KEY`), never the configuration
//! file itself. README, "Secrets".

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use watchpost_server::SecretsConfig;
use watchpost_server::secrets::{MASTER_KEY_ENV, MasterKey};

/// The table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretsTable {
    /// A file holding the master key: 32 bytes as 64 hex digits or base64, alone.
    pub master_key_file: Option<PathBuf>,
}

impl SecretsTable {
    /// The master key from `master_key_file` (`file` overrides it, e.g. a command's
    /// `--master-key-file`) or from `WATCHPOST_MASTER_KEY` (read through `env`); none if
    /// neither is set. An error names the key or the variable and the reason; giving both is
    /// one.
    pub fn config(
        &self,
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<SecretsConfig, String> {
        let (file, what) = match file {
            Some(f) => (Some(f), "--master-key-file"),
            None => (self.master_key_file.as_deref(), "secrets.master_key_file"),
        };
        let from_env = env(MASTER_KEY_ENV).filter(|v| !v.trim().is_empty());
        let key = match (file, from_env) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "{what} and {MASTER_KEY_ENV} are both set: give the master key one way"
                ));
            }
            (Some(path), None) => Some(MasterKey::from_file(path, what)?),
            (None, Some(text)) => {
                Some(MasterKey::parse(&text).map_err(|e| format!("{MASTER_KEY_ENV}: {e}"))?)
            }
            (None, None) => None,
        };
        Ok(SecretsConfig {
            master_key: key.map(Arc::new),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn the_key_comes_from_the_file_or_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        std::fs::write(&path, format!("{}\n", "ab".repeat(32))).unwrap();
        let table = SecretsTable {
            master_key_file: Some(path.clone()),
        };
        let from_file = table.config(None, no_env).unwrap().master_key.unwrap();
        let hex = "ab".repeat(32);
        let env = |name: &str| (name == MASTER_KEY_ENV).then(|| hex.clone());
        let from_env = SecretsTable::default()
            .config(None, env)
            .unwrap()
            .master_key
            .unwrap();
        assert_eq!(from_file.id(), from_env.id());
        assert!(
            SecretsTable::default()
                .config(None, no_env)
                .unwrap()
                .master_key
                .is_none()
        );
        let both = table.config(None, env).unwrap_err();
        assert!(both.contains("both set"), "{both}");
    }

    #[test]
    fn a_bad_key_names_its_setting_and_never_shows_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        std::fs::write(&path, "s3cr3t-but-short").unwrap();
        let table = SecretsTable {
            master_key_file: Some(path),
        };
        let error = table.config(None, no_env).unwrap_err();
        assert!(
            error.starts_with("secrets.master_key_file: the key in"),
            "{error}"
        );
        assert!(!error.contains("s3cr3t"), "{error}");
        let env = |_: &str| Some("0011".to_string());
        let error = SecretsTable::default().config(None, env).unwrap_err();
        assert!(
            error.starts_with("WATCHPOST_MASTER_KEY: is 2 bytes"),
            "{error}"
        );
        let missing = SecretsTable::default()
            .config(Some(Path::new("/nowhere/master.key")), no_env)
            .unwrap_err();
        assert!(
            missing.starts_with("--master-key-file: cannot read /nowhere/master.key"),
            "{missing}"
        );
    }
}
