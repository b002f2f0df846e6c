//! The words the center leaves on a voicemail or plays in an automated call.

use super::types::AlarmSpec;
use crate::kind::Mode;

/// A voicemail drop says (1) where and what, (2) please call back, (3) the number.
pub fn voicemail(spec: &AlarmSpec) -> String {
    let s = &spec.settings;
    format!(
        "This is {} with an urgent message about {} at {}. Please call us back as soon as \
         possible at {}. Again, our number is {}.",
        s.center_name,
        spec.kind.spoken(),
        spec.address,
        s.center_phone,
        s.center_phone
    )
}

/// The recorded message of an automated call.
pub fn automated(spec: &AlarmSpec, offers_agent: bool) -> String {
    let s = &spec.settings;
    let mut text = format!(
        "This is {}. Your alarm reported {} at {}.",
        s.center_name,
        spec.kind.spoken(),
        spec.address
    );
    if spec.mode == Mode::Practice && offers_agent {
        text.push_str(" During your practice period emergency services are not dispatched.");
    }
    if offers_agent {
        text.push_str(" Press 1 to speak with an agent.");
    }
    text.push_str(&format!(" To reach us, call {}.", s.center_phone));
    text
}
