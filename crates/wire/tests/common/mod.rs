//! Shared helpers for the integration tests: the WIRE.md vectors and a clock.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};

pub const VALID: &[u8] = b"\nF4D20029\"SIA-DCS\"0001RF3L77#1234[#1234|NRR|Atest]\r";
pub const NO_EVENT: &[u8] = b"\n96ED0016\"SIA-DCS\"0001L0#1234[]\r";
pub const NAK: &[u8] = b"\nE4410025\"NAK\"0000R0L0A0[]_16:20:01,09-24-2025\r";
pub const BURGLARY: &[u8] = b"\n68AF0025\"SIA-DCS\"0001L0#1234[#1234|Nri1/BA12]\r";
pub const CONTACT_ID: &[u8] = b"\nA18D0027\"ADM-CID\"0001L0#7099[#7099|1131 01 003]\r";
pub const EMPTY_L: &[u8] =
    b"\n78FC003B\"SIA-DCS\"0001L#22334455[#22334455|NCQ1]_14:33:53,02-09-2020\r\0";
pub const NO_HEADER_ACCOUNT: &[u8] = b"\n9F0D001A\"SIA-DCS\"0001L[#9999|NBA2]\r\0";
pub const ENCRYPTED: &[u8] = b"\nAEAE0137\"*SIA-DCS\"0018L0#12345[4cea0b8eb4752a51724c2c55f3801a6e35cb21d25e014290c29995e7cdbbb4659747c1e185c3627db922513d6d5cbb33440d09eefa204e96d62c9c9fc6ffaa5abeccfce859dd540f74cba79c04a048a9b597c12b027f6366a3817d1dd6e26e2019d33075a67ab4a74221f57450070a7f0de890d087c64e76db6893c192ef5e16762ef9934bbfc516d041ad71c47d4dd0\r";
pub const ENCRYPTED_KEY: &str = "0123456789ABCDEF";
pub const ENCRYPTED_PLAINTEXT: &str = "|#12345|Nri0000pi0006da10-26-18ti09:50:24UT0000^$PR,SCOMPARSA          ,Centrale,Zona1,ROtTe.6MyLittlPoint^]_07:50:26,10-26-2018";

pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

/// A receiver clock for frames without a timestamp.
pub fn any_now() -> DateTime<Utc> {
    at(2025, 9, 24, 16, 20, 1)
}

/// Wraps a body the way DC-09 does (hex CRC), computed independently of the crate.
pub fn wrap(body: &str) -> Vec<u8> {
    format!(
        "\n{:04X}{:04X}{body}\r",
        watchpost_wire::crc16(body.as_bytes()),
        body.len()
    )
    .into_bytes()
}
