//! Resolution codes: how the handler classifies an alarm when closing it (issue 12: "false
//! alarm – user error", "actual fire", …). The center's list comes from `[alarms]
//! resolution_codes` in the configuration file, else `ResolutionCodes::default`.

use serde::{Deserialize, Serialize};

/// One code: the identifier stored in the alarm's log and used by the API (`false_user`), and
/// its words as agents read them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolutionCode {
    pub code: String,
    pub text: String,
}

/// The center's list, in the order the console offers it. Read from a list of `{code, text}`
/// and checked as `ResolutionCodes::new` does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<ResolutionCode>")]
pub struct ResolutionCodes(Vec<ResolutionCode>);

impl TryFrom<Vec<ResolutionCode>> for ResolutionCodes {
    type Error = String;

    fn try_from(codes: Vec<ResolutionCode>) -> Result<Self, String> {
        ResolutionCodes::new(codes)
    }
}

const DEFAULTS: [(&str, &str); 11] = [
    ("false_user", "False alarm – user error"),
    ("false_equipment", "False alarm – equipment fault"),
    ("false_weather", "False alarm – weather"),
    ("false_unknown", "False alarm – cause unknown"),
    ("actual_burglary", "Actual burglary"),
    ("actual_fire", "Actual fire"),
    ("actual_medical", "Actual medical emergency"),
    ("actual_other", "Actual emergency – other"),
    ("test", "Test"),
    ("duplicate", "Duplicate of another alarm"),
    ("canceled_by_agency", "The agency canceled its response"),
];

impl Default for ResolutionCodes {
    fn default() -> Self {
        ResolutionCodes(
            DEFAULTS
                .iter()
                .map(|(code, text)| ResolutionCode {
                    code: code.to_string(),
                    text: text.to_string(),
                })
                .collect(),
        )
    }
}

impl ResolutionCodes {
    /// A list of the center's own. Errors, naming the entry: none at all, an empty or
    /// repeated code, a code that is not lower-case letters, digits and `_`, empty words.
    pub fn new(codes: Vec<ResolutionCode>) -> Result<Self, String> {
        if codes.is_empty() {
            return Err("the list is empty: an agent could never close an alarm".into());
        }
        for (i, c) in codes.iter().enumerate() {
            let valid = !c.code.is_empty()
                && c.code
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
            if !valid {
                return Err(format!(
                    "entry {}: code {:?} must be lower-case letters, digits and _",
                    i + 1,
                    c.code
                ));
            }
            if c.text.trim().is_empty() {
                return Err(format!("entry {}: code {:?} has no text", i + 1, c.code));
            }
            if codes[..i].iter().any(|other| other.code == c.code) {
                return Err(format!(
                    "entry {}: code {:?} is listed twice",
                    i + 1,
                    c.code
                ));
            }
        }
        Ok(ResolutionCodes(codes))
    }

    pub fn all(&self) -> &[ResolutionCode] {
        &self.0
    }

    /// The words of `code`, if it is on the list.
    pub fn text(&self, code: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|c| c.code == code)
            .map(|c| c.text.as_str())
    }

    /// `false_user, false_equipment, …`: for error messages.
    pub fn listed(&self) -> String {
        self.0
            .iter()
            .map(|c| c.code.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(code: &str, text: &str) -> ResolutionCode {
        ResolutionCode {
            code: code.into(),
            text: text.into(),
        }
    }

    #[test]
    fn a_list_of_the_centers_own_is_checked() {
        assert!(ResolutionCodes::new(vec![]).is_err());
        let twice = ResolutionCodes::new(vec![code("a", "A"), code("a", "B")]);
        assert!(twice.unwrap_err().contains("entry 2"));
        assert!(ResolutionCodes::new(vec![code("False", "x")]).is_err());
        assert!(ResolutionCodes::new(vec![code("x", " ")]).is_err());
        let ok = ResolutionCodes::new(vec![code("wind", "Wind")]).unwrap();
        assert_eq!(ok.text("wind"), Some("Wind"));
        assert_eq!(ok.text("false_user"), None);
    }

    #[test]
    fn the_defaults_are_a_valid_list() {
        let defaults = ResolutionCodes::default();
        assert_eq!(
            ResolutionCodes::new(defaults.all().to_vec()).unwrap(),
            defaults
        );
        assert_eq!(
            defaults.text("false_user"),
            Some("False alarm – user error")
        );
    }
}
