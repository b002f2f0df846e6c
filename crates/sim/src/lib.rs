//! watchpost-sim: virtual time, simulated people, agents and telephony, and the scenario
//! runner that plays response plans through the real center.

pub mod scenario;
pub mod simulate;
