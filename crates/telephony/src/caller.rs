//! Who is calling the center: the caller's number from an inbound INVITE, normalised to E.164,
//! and the open alarms whose contacts have that number. Pure, so the rules are tested without
//! a call.

use std::sync::Arc;
use watchpost_core::Alarm;
use watchpost_store::AlarmId;

/// The caller's number in E.164, or `None` when withheld or not a phone number.
///
/// P-Asserted-Identity (RFC 3325) is believed only from the trunk (the top Via's host is the
/// trunk's host): anyone else could write it. Otherwise the From URI's user part. National
/// numbers are read as numbers of `region` (an ISO 3166 code like `US`), with the
/// `phonenumber` crate (libphonenumber's metadata).
pub fn caller_number(
    headers: &[(&str, &str)],
    trunk_host: &str,
    region: phonenumber::country::Id,
) -> Option<String> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    };
    let via_host = header("Via").and_then(|via| {
        let sent_by = via.split_whitespace().nth(1)?;
        let host = sent_by.split([';', ',']).next()?;
        Some(host.rsplit_once(':').map_or(host, |(h, _)| h).to_string())
    });
    let from_trunk = via_host.as_deref() == Some(trunk_host);
    let asserted = header("P-Asserted-Identity").filter(|_| from_trunk);
    let identity = asserted.or_else(|| header("From"))?;
    watchpost_server::phone::normalise(user_part(identity)?, region)
}

/// The user part of a name-addr or addr-spec: `"Jane" <sip:+1555@host>;tag=x` → `+1555`,
/// `<tel:+15550100001>` → `+15550100001`.
fn user_part(value: &str) -> Option<&str> {
    let uri = match (value.find('<'), value.find('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value.split(';').next()?,
    };
    let rest = uri
        .trim()
        .strip_prefix("sips:")
        .or_else(|| uri.trim().strip_prefix("sip:"))
        .or_else(|| uri.trim().strip_prefix("tel:"))?;
    let user = rest.split(['@', ';']).next()?;
    (!user.is_empty()).then_some(user)
}

/// The open alarms with a contact at `number` (E.164), as (alarm, contact index). A silent
/// alarm (duress) is never offered to a caller (PROTOCOLS.md: a silent alarm is never
/// discussed), nor is a closed one.
pub fn matches(alarms: &[(AlarmId, Arc<Alarm>)], number: &str) -> Vec<(AlarmId, usize)> {
    alarms
        .iter()
        .filter(|(_, alarm)| alarm.is_open() && !alarm.is_silent())
        .flat_map(|(id, alarm)| {
            alarm
                .spec()
                .contacts
                .iter()
                .enumerate()
                .filter(|(_, c)| c.phone == number)
                .map(move |(i, _)| (*id, i))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::country::Id::{GB, US};

    const VIA_TRUNK: (&str, &str) = ("Via", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1");
    const VIA_OTHER: (&str, &str) = ("Via", "SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bK1");

    #[test]
    fn the_trunk_asserts_the_identity() {
        let headers = [
            VIA_TRUNK,
            ("From", "\"Jane Doe\" <sip:anonymous@10.0.0.5>;tag=1"),
            ("P-Asserted-Identity", "<sip:+15550100001@10.0.0.5>"),
        ];
        assert_eq!(
            caller_number(&headers, "10.0.0.5", US).as_deref(),
            Some("+15550100001")
        );
    }

    #[test]
    fn an_assertion_from_anyone_else_is_ignored() {
        let headers = [
            VIA_OTHER,
            ("From", "<sip:+15550100002@203.0.113.9>;tag=1"),
            ("P-Asserted-Identity", "<sip:+15550100001@203.0.113.9>"),
        ];
        assert_eq!(
            caller_number(&headers, "10.0.0.5", US).as_deref(),
            Some("+15550100002")
        );
    }

    #[test]
    fn national_numbers_and_tel_uris_become_e164() {
        let from = |v| [VIA_TRUNK, ("From", v)];
        assert_eq!(
            caller_number(&from("<sip:(555) 010-0003@x>"), "10.0.0.5", US).as_deref(),
            Some("+15550100003")
        );
        assert_eq!(
            caller_number(&from("<tel:+15550100004>"), "10.0.0.5", US).as_deref(),
            Some("+15550100004")
        );
        assert_eq!(
            caller_number(&from("<sip:02079460000@x>;tag=9"), "10.0.0.5", GB).as_deref(),
            Some("+442079460000")
        );
        assert_eq!(
            caller_number(&from("<sip:anonymous@x>"), "10.0.0.5", US),
            None
        );
        assert_eq!(caller_number(&[VIA_TRUNK], "10.0.0.5", US), None);
    }
}
