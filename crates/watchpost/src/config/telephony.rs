//! `[telephony]`: who makes the center's phone calls — agents by hand (`manual`), simulated
//! people (`sim`, demos and training) or the center itself over SIP (`sip`) — and where the
//! calls' recordings are kept, for how long. README, "Telephony" and "Configuration".

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use watchpost_server::RecordingsConfig;
use watchpost_telephony::config::parse_port_range;
use watchpost_telephony::tts::Voice;
use watchpost_telephony::{Credentials, SipConfig, Trunk};

/// The table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelephonyTable {
    pub adapter: Option<String>,
    pub listen: Option<SocketAddr>,
    pub trunk: Option<String>,
    pub username: Option<String>,
    /// The name of the environment variable that holds the trunk password.
    pub password_env: Option<String>,
    pub register: Option<bool>,
    pub rtp_ports: Option<String>,
    pub tts: Option<String>,
    pub ring_timeout: Option<super::values::Span>,
    /// Where callers' national numbers are from (ISO 3166 alpha-2, like `US`).
    pub region: Option<String>,
    /// The folder call recordings are kept in.
    pub recordings: Option<PathBuf>,
    /// How long call recordings are kept (of closed alarms; an open alarm's never go).
    pub recordings_keep: Option<super::values::Span>,
}

/// The shortest retention accepted: the sweep runs daily.
const SHORTEST_KEEP_SECS: u64 = 24 * 3600;

/// The adapter chosen, checked.
pub enum Choice {
    Manual,
    Sim,
    Sip(Box<SipConfig>),
}

impl TelephonyTable {
    /// Where recordings go for the store `db`: `recordings` (default `recordings/` beside a
    /// SQLite file) and `recordings_keep` (default 400 days, at least 1 day). A PostgreSQL
    /// center with `adapter = "sip"` must name the folder: its nodes each save and serve
    /// recordings, so it must be one they share. Errors name `telephony.<key>` and the reason.
    pub fn recordings(&self, db: &str) -> Result<RecordingsConfig, String> {
        let mut config = RecordingsConfig::beside(db);
        match &self.recordings {
            Some(dir) if dir.as_os_str().is_empty() => {
                return Err("telephony.recordings: is empty".into());
            }
            Some(dir) => config.dir = dir.clone(),
            None if watchpost_store::is_shared(db) && self.adapter.as_deref() == Some("sip") => {
                return Err(
                    "telephony.recordings: required with a PostgreSQL database and adapter = \
                     \"sip\" (a folder every node shares, like /srv/watchpost/recordings)"
                        .into(),
                );
            }
            None => {}
        }
        if let Some(keep) = self.recordings_keep {
            if keep.0.as_secs() < SHORTEST_KEEP_SECS {
                return Err(format!(
                    "telephony.recordings_keep: {:?} is shorter than 1 day (dispatch records \
                     are usually kept a year or more)",
                    keep.0
                ));
            }
            config.keep = keep.0;
        }
        Ok(config)
    }

    /// Checks every key; `caller_id` is the center's callback number (E.164), `demo` makes
    /// `sim` the default. `env` reads an environment variable (the password). Errors are one
    /// line naming `telephony.<key>` and the reason.
    pub fn choose(
        self,
        caller_id: &str,
        demo: bool,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Choice, String> {
        let adapter = self
            .adapter
            .clone()
            .unwrap_or_else(|| if demo { "sim" } else { "manual" }.into());
        let sip_only = [
            ("listen", self.listen.is_some()),
            ("trunk", self.trunk.is_some()),
            ("username", self.username.is_some()),
            ("password_env", self.password_env.is_some()),
            ("register", self.register.is_some()),
            ("rtp_ports", self.rtp_ports.is_some()),
            ("tts", self.tts.is_some()),
            ("ring_timeout", self.ring_timeout.is_some()),
            ("region", self.region.is_some()),
        ];
        match adapter.as_str() {
            "manual" | "sim" => {
                if let Some((key, _)) = sip_only.iter().find(|(_, set)| *set) {
                    return Err(format!(
                        "telephony.{key}: only used with adapter = \"sip\" (adapter is \
                         {adapter:?})"
                    ));
                }
                Ok(if adapter == "sim" {
                    Choice::Sim
                } else {
                    Choice::Manual
                })
            }
            "sip" => self.sip(caller_id, env).map(|c| Choice::Sip(Box::new(c))),
            other => Err(format!(
                "telephony.adapter: {other:?} is not one of manual, sim, sip"
            )),
        }
    }

    fn sip(
        self,
        caller_id: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<SipConfig, String> {
        let listen = self
            .listen
            .ok_or("telephony.listen: required with adapter = \"sip\" (our SIP address, like 127.0.0.1:5070)")?;
        let trunk: Trunk = self
            .trunk
            .as_deref()
            .ok_or("telephony.trunk: required with adapter = \"sip\" (where calls go, like sip:trunk.example.net:5060)")?
            .parse()
            .map_err(|e| format!("telephony.trunk: {e}"))?;
        let mut config = SipConfig::new(listen, trunk, caller_id.to_string());
        config.credentials = match (self.username, self.password_env) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(
                    "telephony.password_env: required with telephony.username (the \
                            name of the environment variable that holds the password)"
                        .into(),
                );
            }
            (None, Some(_)) => {
                return Err("telephony.username: required with telephony.password_env".into());
            }
            (Some(username), Some(variable)) => {
                if username.trim().is_empty() {
                    return Err("telephony.username: is empty".into());
                }
                let password = env(&variable).filter(|p| !p.is_empty()).ok_or_else(|| {
                    format!(
                        "telephony.password_env: the environment variable {variable} is not set"
                    )
                })?;
                Some(Credentials { username, password })
            }
        };
        config.register = self.register.unwrap_or(false);
        if config.register && config.credentials.is_none() {
            return Err(
                "telephony.register: registering needs telephony.username and \
                        telephony.password_env"
                    .into(),
            );
        }
        if let Some(ports) = self.rtp_ports {
            config.rtp_ports =
                parse_port_range(&ports).map_err(|e| format!("telephony.rtp_ports: {e}"))?;
        }
        if let Some(tts) = self.tts {
            config.voice = tts
                .parse::<Voice>()
                .map_err(|e| format!("telephony.tts: {e}"))?;
        }
        if let Some(ring) = self.ring_timeout {
            if !(5..=120).contains(&ring.0.as_secs()) {
                return Err(format!(
                    "telephony.ring_timeout: {:?} is outside 5s to 120s",
                    ring.0
                ));
            }
            config.ring_timeout = ring.0;
        }
        if let Some(region) = self.region {
            config.region = region.to_ascii_uppercase().parse().map_err(|_| {
                format!(
                    "telephony.region: {region:?} is not an ISO 3166 country code (like US or GB)"
                )
            })?;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choose(text: &str, env: &[(&str, &str)]) -> Result<Choice, String> {
        let table: TelephonyTable = toml::from_str(text).map_err(|e| e.to_string())?;
        table.choose("+15555550100", false, |k| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn a_sip_table_is_read() {
        let Choice::Sip(config) = choose(
            r#"adapter = "sip"
               listen = "127.0.0.1:5070"
               trunk = "sip:127.0.0.1:5080"
               username = "center"
               password_env = "SIP_PW"
               register = true
               rtp_ports = "30000-30099"
               tts = "flite"
               ring_timeout = "25s"
               region = "gb""#,
            &[("SIP_PW", "pw")],
        )
        .unwrap() else {
            panic!("not sip")
        };
        assert_eq!(config.trunk.port, 5080);
        assert_eq!(config.credentials.unwrap().password, "pw");
        assert_eq!(config.rtp_ports, 30000..=30099);
        assert_eq!(config.ring_timeout.as_secs(), 25);
        assert_eq!(config.caller_id, "+15555550100");
        assert_eq!(config.region, phonenumber::country::Id::GB);
    }

    fn recordings(text: &str, db: &str) -> Result<RecordingsConfig, String> {
        let table: TelephonyTable = toml::from_str(text).map_err(|e| e.to_string())?;
        table.recordings(db)
    }

    #[test]
    fn recordings_are_kept_beside_the_database_for_400_days_unless_told() {
        let default = recordings("", "/var/lib/watchpost/center.db").unwrap();
        assert_eq!(default.dir, PathBuf::from("/var/lib/watchpost/recordings"));
        assert_eq!(default.keep.as_secs(), 400 * 86_400);
        let set = recordings(
            "recordings = \"/srv/rec\"\nrecordings_keep = \"2years\"",
            "center.db",
        )
        .unwrap();
        assert_eq!(set.dir, PathBuf::from("/srv/rec"));
        assert!(set.keep.as_secs() > 700 * 86_400, "{:?}", set.keep);
        let days = recordings("recordings_keep = \"400d\"", "center.db").unwrap();
        assert_eq!(days.keep.as_secs(), 400 * 86_400);
        // Manual and sim telephony record nothing: no folder needs naming.
        assert!(recordings("", "postgres://db/center").is_ok());
        assert!(
            recordings(
                "adapter = \"sip\"\nrecordings = \"/srv/rec\"",
                "postgres://db/c"
            )
            .is_ok()
        );
    }

    #[test]
    fn each_bad_recordings_value_names_its_key() {
        let cases = [
            (
                "recordings = \"\"",
                "center.db",
                "telephony.recordings: is empty",
            ),
            (
                "adapter = \"sip\"",
                "postgres://db/center",
                "telephony.recordings: required with a PostgreSQL database",
            ),
            (
                "recordings_keep = \"12h\"",
                "center.db",
                "telephony.recordings_keep: 43200s is shorter than 1 day",
            ),
            ("recordings_keep = \"soon\"", "center.db", "not a duration"),
        ];
        for (text, db, says) in cases {
            let e = recordings(text, db).err().unwrap_or_default();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn each_bad_value_names_its_key() {
        let sip = "adapter = \"sip\"\nlisten = \"127.0.0.1:5070\"\ntrunk = \"sip:h\"\n";
        let cases = [
            (
                "adapter = \"pbx\"",
                "telephony.adapter: \"pbx\" is not one of",
            ),
            (
                "trunk = \"sip:h\"",
                "telephony.trunk: only used with adapter = \"sip\"",
            ),
            ("adapter = \"sip\"", "telephony.listen: required"),
            (
                &format!("{sip}username = \"c\""),
                "telephony.password_env: required",
            ),
            (
                &format!("{sip}username = \"c\"\npassword_env = \"NOPE\""),
                "NOPE is not set",
            ),
            (
                &format!("{sip}register = true"),
                "telephony.register: registering needs",
            ),
            (&format!("{sip}rtp_ports = \"9-1\""), "telephony.rtp_ports:"),
            (&format!("{sip}tts = \"say\""), "telephony.tts:"),
            (
                &format!("{sip}ring_timeout = \"1s\""),
                "telephony.ring_timeout:",
            ),
        ];
        for (text, says) in cases {
            let e = choose(text, &[]).err().unwrap_or_default();
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}
