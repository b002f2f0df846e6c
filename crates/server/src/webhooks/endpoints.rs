//! Webhook endpoints as an administrator adds them: the URL (http or https only), the event
//! types wanted (`signal.received` only by opting in), the dealer whose accounts it gets (none:
//! every account), and a generated secret, sealed with the master key before it is stored
//! (associated data `webhook:<id>`, so a sealed secret copied to another endpoint does not
//! open). Errors name the field and the reason.

use crate::secrets::{MASTER_KEY_ENV, MasterKey, SealError};
use watchpost_core::Millis;
use watchpost_store::{EVENT_TYPES, Endpoint, SIGNAL_EVENT};

/// What `webhooks add` asks for.
#[derive(Debug, Clone, Default)]
pub struct NewEndpoint {
    pub url: String,
    /// `None`: the center's own endpoint, for every account.
    pub dealer: Option<String>,
    /// The event types wanted; `None`: every type but `signal.received`.
    pub events: Option<Vec<String>>,
    /// Opt in to `signal.received` (one event per received signal: many).
    pub signals: bool,
}

/// The longest URL taken, in bytes.
const URL_MAX: usize = 2048;

/// Checks that `url` is an absolute `http://` or `https://` URL with a host.
pub fn check_url(url: &str) -> Result<(), String> {
    if url.len() > URL_MAX {
        return Err(format!("url: longer than {URL_MAX} bytes"));
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("url: {url:?} is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "url: {url:?} is a {}: URL; webhooks are posted only over http:// or https://",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("url: {url:?} names no host"));
    }
    // The URL is in every listing, to a dealer's viewers too; the signature is what proves
    // the center to the receiver (docs/webhooks.md).
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(
            "url: carries a user name or password; give the receiver's address only and \
             check each delivery's signature with the endpoint's secret"
                .into(),
        );
    }
    Ok(())
}

/// The event types an endpoint wants, checked.
fn event_types(events: Option<&[String]>, signals: bool) -> Result<Vec<String>, String> {
    let alarm_types = &EVENT_TYPES[..EVENT_TYPES.len() - 1];
    let mut wanted: Vec<String> = match events {
        None => alarm_types.iter().map(|t| t.to_string()).collect(),
        Some(list) => {
            let mut wanted = Vec::new();
            for t in list.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
                if t == SIGNAL_EVENT {
                    return Err(format!(
                        "events: {SIGNAL_EVENT} is opted in with \"signals\": true (the \
                         CLI's --signals)"
                    ));
                }
                if !alarm_types.contains(&t) {
                    return Err(format!(
                        "events: unknown event type {t:?}; the types are {}",
                        alarm_types.join(", ")
                    ));
                }
                if !wanted.iter().any(|w| w == t) {
                    wanted.push(t.to_string());
                }
            }
            wanted
        }
    };
    if signals {
        wanted.push(SIGNAL_EVENT.to_string());
    }
    if wanted.is_empty() {
        return Err("events: no event type given".into());
    }
    Ok(wanted)
}

/// The associated data an endpoint's secret is sealed with.
fn sealed_for(id: &str) -> String {
    format!("webhook:{id}")
}

/// A new endpoint, with its secret sealed under `master`, and the secret in clear (to be
/// shown once). Refused without a master key: the secret must never be stored in clear.
pub fn new_endpoint(
    master: Option<&MasterKey>,
    new: &NewEndpoint,
    now: Millis,
) -> Result<(Endpoint, String), String> {
    check_url(&new.url)?;
    let events = event_types(new.events.as_deref(), new.signals)?;
    let dealer = match new.dealer.as_deref().map(str::trim) {
        Some("") => return Err("dealer: is empty".into()),
        Some(d) if d.len() > 64 || d.chars().any(char::is_control) => {
            return Err("dealer: at most 64 characters, one line".into());
        }
        other => other.map(str::to_string),
    };
    let Some(master) = master else {
        return Err(format!(
            "secrets.master_key_file: this center has no master key to seal webhook secrets \
             with; set [secrets] master_key_file or {MASTER_KEY_ENV} (README, \"Secrets\")"
        ));
    };
    let id = format!("wh_{:012x}", rand::random::<u64>() >> 16);
    let secret = format!("whsec_{}", hex::encode(rand::random::<[u8; 32]>()));
    let endpoint = Endpoint {
        secret: master.seal(&sealed_for(&id), &secret),
        id,
        url: new.url.clone(),
        events,
        dealer,
        created_at: now,
    };
    Ok((endpoint, secret))
}

/// Each endpoint's secret sealed again under `new` (`watchpost secrets rotate`): opened with
/// `old`, or with `new` when a rotation already sealed it so. `(id, sealed)` for
/// `Webhooks::set_endpoint_secrets`; an error names the endpoint whose secret does not open.
pub fn resealed(
    endpoints: &[Endpoint],
    old: Option<&MasterKey>,
    new: &MasterKey,
) -> Result<Vec<(String, String)>, String> {
    endpoints
        .iter()
        .map(|e| {
            let under_new =
                e.secret
                    .starts_with(&format!("{}{}:", crate::secrets::PREFIX, new.id()));
            let opened = match old {
                _ if under_new => secret_of(new, e),
                Some(old) => secret_of(old, e),
                None => {
                    return Err(format!(
                        "webhook {}: its secret is sealed under the current master key; give \
                         it with --master-key-file",
                        e.id
                    ));
                }
            };
            let clear = opened.map_err(|err| {
                let why = err.to_string().replace("DC-09 key", "secret");
                format!("webhook {}: {why}", e.id)
            })?;
            Ok((e.id.clone(), new.seal(&sealed_for(&e.id), &clear)))
        })
        .collect()
}

/// An endpoint's secret in clear.
pub fn secret_of(master: &MasterKey, endpoint: &Endpoint) -> Result<String, SealError> {
    master.unseal(&sealed_for(&endpoint.id), &endpoint.secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(url: &str, events: Option<&[&str]>, signals: bool) -> Result<Endpoint, String> {
        let master = MasterKey::from_bytes([3; 32]);
        let new = NewEndpoint {
            url: url.into(),
            dealer: None,
            events: events.map(|e| e.iter().map(|s| s.to_string()).collect()),
            signals,
        };
        let (endpoint, secret) = new_endpoint(Some(&master), &new, 0)?;
        assert!(!endpoint.secret.contains(&secret[6..]));
        assert_eq!(secret_of(&master, &endpoint).unwrap(), secret);
        Ok(endpoint)
    }

    #[test]
    fn only_http_and_https_urls_are_taken_and_the_error_names_url() {
        assert!(add("https://dealer.example/hooks", None, false).is_ok());
        assert!(add("http://127.0.0.1:9000/", None, false).is_ok());
        for bad in [
            "ftp://x.example/",
            "file:///etc/passwd",
            "dealer.example",
            "http://",
        ] {
            let e = add(bad, None, false).unwrap_err();
            assert!(e.starts_with("url: "), "{bad}: {e}");
        }
    }

    #[test]
    fn a_url_carrying_credentials_is_refused() {
        // The URL is in every answer that lists the endpoint, to a dealer's viewers too: a
        // password in it would be a secret shown outside the answer that creates it.
        for bad in [
            "https://acme:hunter2@dealer.example/hooks",
            "https://token@dealer.example/hooks",
        ] {
            let e = add(bad, None, false).unwrap_err();
            assert!(
                e.starts_with("url: ") && e.contains("user name or password"),
                "{e}"
            );
            assert!(!e.contains("hunter2"), "the error repeats no password: {e}");
        }
    }

    #[test]
    fn opting_in_to_signals_by_name_says_how_for_the_api_and_the_cli() {
        let e = add("https://x.example/", Some(&[SIGNAL_EVENT]), false).unwrap_err();
        assert!(
            e.starts_with("events: ") && e.contains("\"signals\": true"),
            "{e}"
        );
        assert!(e.contains("--signals"), "{e}");
    }

    #[test]
    fn signals_are_opt_in_and_unknown_types_are_refused() {
        let all = add("https://x.example/", None, false).unwrap();
        assert_eq!(all.events.len(), 5);
        assert!(!all.events.iter().any(|e| e == SIGNAL_EVENT));
        let some = add("https://x.example/", Some(&["alarm.closed"]), true).unwrap();
        assert_eq!(some.events, ["alarm.closed", SIGNAL_EVENT]);
        let e = add("https://x.example/", Some(&["alarm.exploded"]), false).unwrap_err();
        assert!(e.starts_with("events: unknown"), "{e}");
        let e = add("https://x.example/", Some(&[SIGNAL_EVENT]), false).unwrap_err();
        assert!(e.contains("--signals"), "{e}");
    }

    #[test]
    fn a_rotation_reseals_secrets_that_open_under_the_old_key_only() {
        let (old, new) = (
            MasterKey::from_bytes([3; 32]),
            MasterKey::from_bytes([4; 32]),
        );
        let made = NewEndpoint {
            url: "https://x.example/".into(),
            ..NewEndpoint::default()
        };
        let (mut endpoint, secret) = new_endpoint(Some(&old), &made, 0).unwrap();
        let e = resealed(std::slice::from_ref(&endpoint), None, &new).unwrap_err();
        assert!(e.contains("--master-key-file"), "{e}");
        let e = resealed(std::slice::from_ref(&endpoint), Some(&new), &new).unwrap_err();
        assert!(e.starts_with(&format!("webhook {}: ", endpoint.id)), "{e}");
        let sealed = resealed(std::slice::from_ref(&endpoint), Some(&old), &new).unwrap();
        endpoint.secret = sealed[0].1.clone();
        assert_eq!(secret_of(&new, &endpoint).unwrap(), secret);
        // Run twice: already under the new key, it is sealed again.
        assert!(resealed(std::slice::from_ref(&endpoint), Some(&old), &new).is_ok());
    }

    #[test]
    fn without_a_master_key_no_endpoint_is_made() {
        let new = NewEndpoint {
            url: "https://x.example/".into(),
            ..NewEndpoint::default()
        };
        let e = new_endpoint(None, &new, 0).unwrap_err();
        assert!(e.contains("master key"), "{e}");
    }
}
