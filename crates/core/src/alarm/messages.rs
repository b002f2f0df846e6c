//! The words the center leaves on a voicemail or plays in an automated call.

use super::types::AlarmSpec;
use crate::kind::Mode;

/// A voicemail drop says (1) where and what, (2) please call back, (3) the number; or the
/// plan's own words (`Plan::messages`).
pub fn voicemail(spec: &AlarmSpec) -> String {
    let s = &spec.settings;
    if let Some(template) = plan_words(spec, |m| &m.voicemail) {
        return fill(template, spec);
    }
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

fn plan_words(
    spec: &AlarmSpec,
    which: impl Fn(&crate::plan::Messages) -> &Option<String>,
) -> Option<&str> {
    spec.plan
        .as_ref()
        .and_then(|p| which(&p.messages).as_deref())
}

/// A template with its placeholders (`crate::plan::PLACEHOLDERS`) replaced.
fn fill(template: &str, spec: &AlarmSpec) -> String {
    template
        .replace("{center_name}", &spec.settings.center_name)
        .replace("{center_phone}", &spec.settings.center_phone)
        .replace("{alarm_type}", spec.kind.spoken())
        .replace("{premises}", &spec.address)
}

/// The recorded message of an automated call.
pub fn automated(spec: &AlarmSpec, offers_agent: bool) -> String {
    let s = &spec.settings;
    if let Some(template) = plan_words(spec, |m| &m.automated) {
        let mut text = fill(template, spec);
        if offers_agent {
            text.push_str(" Press 1 to speak with an agent.");
        }
        return text;
    }
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
