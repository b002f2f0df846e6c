//! The center configuration file that `watchpost serve --config FILE` reads (TOML): one table
//! per concern, every key optional, unknown keys and secrets refused. README, Configuration.
//!
//! A later table is one more field of `ConfigFile` and one struct like the ones here.

pub mod console;
pub mod listen;
pub mod login;
pub mod ops;
pub mod receiver;
pub mod retention;
pub mod secrets;
pub mod telephony;
pub mod values;

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;
use values::{CenterName, Limit, PhoneNumber, Runaway, Span, TimeZone};

/// The whole file. Every table and key may be left out.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigFile {
    pub center: CenterTable,
    pub database: DatabaseTable,
    pub receiver: ReceiverTable,
    pub http: HttpTable,
    pub alarms: AlarmsTable,
    pub cluster: ClusterTable,
    pub telephony: telephony::TelephonyTable,
    pub console: console::ConsoleTable,
    pub secrets: secrets::SecretsTable,
    pub login: login::LoginTable,
    pub retention: retention::RetentionTable,
    pub metrics: ops::MetricsTable,
    pub log: ops::LogTable,
}

/// `[center]`: who the center is to the people it calls.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CenterTable {
    pub name: Option<CenterName>,
    pub callback_number: Option<PhoneNumber>,
    pub timezone: Option<TimeZone>,
}

/// `[database]`: where the center keeps its record.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseTable {
    /// A SQLite file or a `postgres://` URL without its password.
    pub url: Option<String>,
    /// Whether `serve` may make a new, empty center when `url` holds none.
    pub create: Option<bool>,
}

/// `[receiver]`: the SIA DC-09 receivers (TCP and UDP on one address).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReceiverTable {
    pub listen: Option<SocketAddr>,
    pub window_past: Option<Span>,
    pub window_future: Option<Span>,
    /// Beyond this rate an account's joining signals are counted, not listed.
    pub runaway: Option<Runaway>,
    /// Panel networks (CIDR) or addresses the receivers hear; absent or empty: every one.
    pub allow: Option<Vec<String>>,
    /// UDP datagrams one source address may send (`300/10s`, or `off`).
    pub udp_per_source: Option<Limit>,
    /// UDP datagrams handled at once, every source together.
    pub udp_in_flight: Option<usize>,
    /// Frames one account number that is not enrolled may have stored (`50/1h`, or `off`).
    pub unknown_per_account: Option<Limit>,
    /// Frames all account numbers that are not enrolled may have stored together.
    pub unknown_total: Option<Limit>,
    /// Open unknown-account items beyond which a further unknown number is not acknowledged.
    pub unknown_open_items: Option<usize>,
    /// TCP connections open at once, in all and from one source address.
    pub max_connections: Option<usize>,
    pub max_per_source: Option<usize>,
    /// A first accepted frame, each frame begun, and each reply's write must be complete
    /// within this.
    pub frame_timeout: Option<Span>,
    /// Silence allowed beyond the supervision interval of the panel last heard.
    pub idle_timeout: Option<Span>,
}

/// `[http]`: the HTTP API and the console.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpTable {
    pub listen: Option<SocketAddr>,
    /// Connections open at once, in all and from one source address.
    pub max_connections: Option<usize>,
    pub max_per_source: Option<usize>,
    /// The TLS handshake and each request's headers must be in within this.
    pub header_timeout: Option<Span>,
    /// A request's body must be in, and its answer begun, within this; a write the client
    /// takes nothing of for this long closes the connection.
    pub request_timeout: Option<Span>,
    /// PEM certificate chain and private key: HTTP speaks TLS (both or neither).
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    /// The names the center is served under; requests naming another get 421.
    pub hosts: Option<Vec<String>>,
}

/// `[alarms]`: center-wide rules of the response protocols.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlarmsTable {
    pub follow_up: Option<Span>,
    /// What the handler may close an alarm with, in the order the console offers them.
    pub resolution_codes: Option<watchpost_server::resolution::ResolutionCodes>,
    /// The center's plan file (docs/plans.md).
    pub plans: Option<String>,
}

/// `[cluster]`: this node among the nodes sharing a PostgreSQL database.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterTable {
    pub node: Option<String>,
    pub lease: Option<Span>,
}

/// Reads and checks the file at `path`. The error is one line: the path, then the key as
/// `table.key` (or the line of a syntax error) and the reason.
pub fn load(path: &Path) -> Result<ConfigFile, String> {
    let at = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{at}: {e}"))?;
    // Secrets first: a password must be refused as one, not as an unknown key.
    if let Ok(table) = text.parse::<toml::Table>() {
        refuse_secrets("", &table).map_err(|e| format!("{at}: {e}"))?;
    }
    let (file, _) = watchpost_core::toml_file::read::<ConfigFile>(&text)
        .map_err(|e| format!("{at}: {}", one_line(&e)))?;
    Ok(file)
}

/// The TOML parser's messages span lines; a refusal at start is one.
fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join(": ")
}

/// Words that make a key a secret; a secret comes from the environment, where it is not
/// copied with the file into backups, tickets and version control.
const SECRET_WORDS: [&str; 7] = [
    "password",
    "passwd",
    "secret",
    "token",
    "credential",
    "api_key",
    "private_key",
];

fn refuse_secrets(prefix: &str, table: &toml::Table) -> Result<(), String> {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let lower = key.to_ascii_lowercase();
        // `password_env` names the variable that holds the secret, not the secret.
        let names_a_variable = lower.ends_with("_env")
            && value
                .as_str()
                .is_some_and(|v| v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        // The `[secrets]` table says where secrets are, and holds none itself.
        let where_secrets_are = path == "secrets" && value.is_table();
        if !names_a_variable && !where_secrets_are && SECRET_WORDS.iter().any(|w| lower.contains(w))
        {
            return Err(format!(
                "{path}: secrets are never read from the configuration file; \
                 give them in the environment (README, Configuration)"
            ));
        }
        match value {
            toml::Value::Table(inner) => refuse_secrets(&path, inner)?,
            toml::Value::String(text) if url_has_password(text) => {
                return Err(format!(
                    "{path}: the URL holds a password, and secrets are never read from the \
                     configuration file; give the password in PGPASSWORD, or the whole URL in \
                     WATCHPOST_DB"
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn url_has_password(text: &str) -> bool {
    text.contains("://")
        && url::Url::parse(text).is_ok_and(|u| u.password().is_some_and(|p| !p.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<ConfigFile, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("center.toml");
        std::fs::write(&path, text).unwrap();
        load(&path).map_err(|e| e.replace(&format!("{}: ", path.display()), ""))
    }

    #[test]
    fn a_full_file_is_read() {
        let file = load_text(
            r#"
            [center]
            name = "Acme Monitoring"
            callback_number = "+15555550142"
            timezone = "America/Chicago"
            [database]
            url = "center.db"
            create = true
            [receiver]
            listen = "0.0.0.0:7100"
            window_past = "2m"
            window_future = 30
            runaway = "50/2m"
            [http]
            listen = "127.0.0.1:9090"
            [alarms]
            follow_up = "90m"
            resolution_codes = [
                { code = "false_user", text = "False alarm – user error" },
                { code = "wind", text = "Wind shook the doors" },
            ]
            [cluster]
            node = "site-a-1"
            lease = "10s"
            [console]
            waiting_p2 = "45s"
            idle = "10m"
            [secrets]
            master_key_file = "/etc/watchpost/master.key"
            "#,
        )
        .unwrap();
        assert_eq!(file.center.name.unwrap().0, "Acme Monitoring");
        assert_eq!(file.receiver.window_past, Some(Span::seconds(120)));
        assert_eq!(file.receiver.window_future, Some(Span::seconds(30)));
        let runaway = file.receiver.runaway.unwrap().0.unwrap();
        assert_eq!((runaway.signals, runaway.window_ms), (50, 120_000));
        assert_eq!(file.alarms.follow_up, Some(Span::seconds(5400)));
        let codes = file.alarms.resolution_codes.unwrap();
        assert_eq!(codes.text("wind"), Some("Wind shook the doors"));
        assert_eq!(codes.all().len(), 2);
        assert_eq!(file.cluster.lease, Some(Span::seconds(10)));
        assert_eq!(file.database.create, Some(true));
        assert_eq!(file.console.config().unwrap().idle_ms, 600_000);
        assert_eq!(
            file.secrets.master_key_file.as_deref(),
            Some(Path::new("/etc/watchpost/master.key"))
        );
    }

    #[test]
    fn each_bad_value_names_its_key() {
        let cases = [
            (
                "[center]\ncallback_number = \"555-0199\"",
                "center.callback_number: \"555-0199\" is not an E.164 number (like +15555550199)",
            ),
            (
                "[center]\ntimezone = \"Mars/Olympus\"",
                "center.timezone: \"Mars/Olympus\" is not an IANA time zone",
            ),
            ("[center]\nname = \"\"", "center.name: is empty"),
            ("[receiver]\nlisten = \"localhost\"", "receiver.listen: "),
            (
                "[receiver]\nwindow_past = \"soon\"",
                "receiver.window_past: \"soon\" is not a duration",
            ),
            (
                "[alarms]\nfollow_up = -5",
                "alarms.follow_up: -5 is negative",
            ),
            (
                "[alarms]\nresolution_codes = [{ code = \"a\", text = \"A\" }, { code = \"a\", text = \"B\" }]",
                "alarms.resolution_codes: entry 2: code \"a\" is listed twice",
            ),
            ("[database]\ncreate = \"yes\"", "database.create: "),
            (
                "[receiver]\nrunaway = \"often\"",
                "receiver.runaway: \"often\": expected SIGNALS/WINDOW",
            ),
            (
                "[receiver]\nunknown_total = \"lots\"",
                "receiver.unknown_total: \"lots\": expected COUNT/WINDOW",
            ),
            (
                "[center]\nnmae = \"Acme\"",
                "center.nmae: unknown field `nmae`",
            ),
            (
                "[telephony]\nsip = \"x\"",
                "telephony.sip: unknown field `sip`",
            ),
            (
                "[telephony]\npassword_env = \"hunter2 is my password\"",
                "telephony.password_env: secrets are never read",
            ),
            (
                "[console]\nidle = \"later\"",
                "console.idle: \"later\" is not a duration",
            ),
            (
                "[secrets]\nmaster_key = \"00\"",
                "secrets.master_key: unknown field `master_key`",
            ),
            ("[center\nname = 1", "line 1"),
        ];
        for (text, expected) in cases {
            let error = load_text(text).unwrap_err();
            assert!(error.starts_with(expected), "{text:?}: {error}");
            assert!(!error.contains('\n'), "one line: {error}");
        }
    }

    #[test]
    fn secrets_are_refused() {
        let error = load_text("[database]\npassword = \"hunter2\"").unwrap_err();
        assert!(
            error.starts_with("database.password: secrets are never read"),
            "{error}"
        );
        let error =
            load_text("[database]\nurl = \"postgres://watchpost:hunter2@db/center\"").unwrap_err();
        assert!(
            error.starts_with("database.url: the URL holds a password"),
            "{error}"
        );
        assert!(!error.contains("hunter2"));
        assert!(load_text("[database]\nurl = \"postgres://watchpost@db/center\"").is_ok());
    }

    #[test]
    fn the_sample_file_is_valid() {
        let sample = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/center.toml"
        ));
        let file = load(sample).unwrap();
        assert_eq!(file.center.callback_number.unwrap().0, "+15555550199");
        assert_eq!(file.database.url.as_deref(), Some("center.db"));
        assert_eq!(
            file.receiver.limits().unwrap(),
            watchpost_server::ReceiverLimits::default(),
            "the sample spells out the receivers' default limits"
        );
    }

    #[test]
    fn the_service_sample_is_valid() {
        let sample = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../ops/center.toml"
        ));
        let file = load(sample).unwrap();
        assert_eq!(
            file.database.url.as_deref(),
            Some("/var/lib/watchpost/center.db"),
            "the unit's state directory"
        );
        assert!(file.http.tls_cert.is_some() && file.http.tls_key.is_some());
    }

    #[test]
    fn a_missing_file_names_its_path_and_cause() {
        let error = load(Path::new("/nowhere/center.toml")).unwrap_err();
        assert!(
            error.starts_with("/nowhere/center.toml: No such file"),
            "{error}"
        );
    }
}
