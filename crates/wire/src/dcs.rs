//! SIA DCS (DC-03) event data: `N` then blocks separated by `/`, each with lower-case
//! modifiers (`ri` area, `id` user, `pi`, `ti`, `da`), an upper-case two-letter code and its
//! zone or user number, `^text^`, and `|A` ASCII text. Panels bend this grammar freely, so
//! the reader is lenient: it picks out what it recognises and skips the rest.

/// One event from a SIA DCS data block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DcsEvent {
    /// Two upper-case letters, e.g. `BA`.
    pub code: String,
    /// The zone or user number after the code.
    pub number: Option<u32>,
    /// `ri`: area / partition.
    pub area: Option<u32>,
    /// `id`: user.
    pub user: Option<u32>,
    /// `pi`: peripheral.
    pub peripheral: Option<u32>,
    /// `ti`: panel time as sent, e.g. `09:50:24`.
    pub time: Option<String>,
    /// `da`: panel date as sent, e.g. `10-26-18`.
    pub date: Option<String>,
    /// `^...^` or `|A...` text.
    pub text: Option<String>,
}

/// The lower-case modifiers the reader knows; any other lower-case pair is read as a code.
const MODIFIERS: [&str; 5] = ["ri", "id", "pi", "ti", "da"];

/// Modifiers seen so far; they apply to the codes that follow them in the message.
#[derive(Debug, Default)]
struct Modifiers {
    area: Option<u32>,
    user: Option<u32>,
    peripheral: Option<u32>,
    time: Option<String>,
    date: Option<String>,
}

impl Modifiers {
    fn set(&mut self, name: &str, value: &str) {
        match name {
            "ri" => self.area = number(value),
            "id" => self.user = number(value),
            "pi" => self.peripheral = number(value),
            "ti" => self.time = Some(value.to_owned()),
            "da" => self.date = Some(value.to_owned()),
            _ => {}
        }
    }
}

/// Reads the events of the part after `#acct|` (e.g. `Nri1/BA12`).
pub fn parse_dcs(events: &str) -> Vec<DcsEvent> {
    Reader::new(events).run()
}

struct Reader {
    chars: Vec<char>,
    at: usize,
    modifiers: Modifiers,
    events: Vec<DcsEvent>,
    /// Text seen before any event; given to the first event.
    early_text: Option<String>,
}

impl Reader {
    fn new(text: &str) -> Self {
        Reader {
            chars: text.chars().collect(),
            at: 0,
            modifiers: Modifiers::default(),
            events: Vec::new(),
            early_text: None,
        }
    }

    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    fn run(mut self) -> Vec<DcsEvent> {
        // `N` marks a new event at the start of the block and after each `|`.
        if self.peek(0) == Some('N') {
            self.at += 1;
        }
        while let Some(c) = self.peek(0) {
            let next = self.peek(1);
            match c {
                '|' => self.separator(),
                '^' => {
                    self.at += 1;
                    let text = self.take_until('^');
                    self.at += 1;
                    self.attach_text(text);
                }
                c if c.is_ascii_lowercase() && next.is_some_and(|n| n.is_ascii_lowercase()) => {
                    let name: String = [c, next.unwrap_or_default()].iter().collect();
                    self.at += 2;
                    if MODIFIERS.contains(&name.as_str()) {
                        let value = self.take_while(|c| c.is_ascii_digit() || c == ':' || c == '-');
                        self.modifiers.set(&name, &value);
                    } else {
                        // Some panels send their codes in lower case (`Nba12`): an event read
                        // as a code is stored, where skipped as an unknown modifier it would be
                        // ACKed and lost.
                        let digits = self.take_while(|c| c.is_ascii_digit());
                        self.push_event(name.to_ascii_uppercase(), number(&digits));
                    }
                }
                c if c.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_uppercase()) => {
                    let code: String = [c, next.unwrap_or_default()].iter().collect();
                    self.at += 2;
                    let digits = self.take_while(|c| c.is_ascii_digit());
                    self.push_event(code, number(&digits));
                }
                _ => self.at += 1,
            }
        }
        self.events
    }

    fn separator(&mut self) {
        self.at += 1;
        match self.peek(0) {
            Some('A') => {
                self.at += 1;
                let text = self.take_until('|');
                self.attach_text(text);
            }
            Some('N') => self.at += 1,
            _ => {}
        }
    }

    fn take_while(&mut self, pred: impl Fn(char) -> bool) -> String {
        let mut taken = String::new();
        while let Some(c) = self.peek(0).filter(|c| pred(*c)) {
            taken.push(c);
            self.at += 1;
        }
        taken
    }

    fn take_until(&mut self, end: char) -> String {
        self.take_while(|c| c != end)
    }

    fn push_event(&mut self, code: String, number: Option<u32>) {
        let m = &self.modifiers;
        self.events.push(DcsEvent {
            code,
            number,
            area: m.area,
            user: m.user,
            peripheral: m.peripheral,
            time: m.time.clone(),
            date: m.date.clone(),
            text: self.early_text.take(),
        });
    }

    fn attach_text(&mut self, text: String) {
        let slot = match self.events.last_mut() {
            Some(event) => &mut event.text,
            None => &mut self.early_text,
        };
        match slot {
            Some(existing) => {
                existing.push(' ');
                existing.push_str(&text);
            }
            None => *slot = Some(text),
        }
    }
}

/// Decimal digits as a number; `None` when empty or too large.
fn number(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_and_zone() {
        let events = parse_dcs("Nri1/BA12");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].code, "BA");
        assert_eq!(events[0].number, Some(12));
        assert_eq!(events[0].area, Some(1));
    }

    #[test]
    fn codes_in_lower_case_are_codes_not_unknown_modifiers() {
        let events = parse_dcs("Nri1/ba12/id3/fa3");
        let read: Vec<_> = events.iter().map(|e| (e.code.as_str(), e.number)).collect();
        assert_eq!(read, [("BA", Some(12)), ("FA", Some(3))]);
        assert_eq!(events[0].area, Some(1));
        assert_eq!(events[1].user, Some(3));
    }

    #[test]
    fn user_modifier() {
        let events = parse_dcs("Nri1/id0007/CL001");
        assert_eq!(events[0].code, "CL");
        assert_eq!(events[0].number, Some(1));
        assert_eq!(events[0].user, Some(7));
    }

    #[test]
    fn ascii_text_block() {
        let events = parse_dcs("NRR|Atest");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].code, "RR");
        assert_eq!(events[0].number, None);
        assert_eq!(events[0].text.as_deref(), Some("test"));
    }

    #[test]
    fn modifiers_time_date_and_caret_text() {
        let events = parse_dcs("Nri0000pi0006da10-26-18ti09:50:24UT0000^$PR,SCOMPARSA ,Centrale^");
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.code, "UT");
        assert_eq!(e.number, Some(0));
        assert_eq!(e.area, Some(0));
        assert_eq!(e.peripheral, Some(6));
        assert_eq!(e.date.as_deref(), Some("10-26-18"));
        assert_eq!(e.time.as_deref(), Some("09:50:24"));
        assert_eq!(e.text.as_deref(), Some("$PR,SCOMPARSA ,Centrale"));
    }

    #[test]
    fn several_events() {
        let events = parse_dcs("Nri1/BA12/BA13|Nri2/FA3");
        let got: Vec<_> = events
            .iter()
            .map(|e| (e.code.as_str(), e.number, e.area))
            .collect();
        assert_eq!(
            got,
            [
                ("BA", Some(12), Some(1)),
                ("BA", Some(13), Some(1)),
                ("FA", Some(3), Some(2))
            ]
        );
    }

    #[test]
    fn oversized_number_is_none() {
        assert_eq!(parse_dcs("NBA99999999999999")[0].number, None);
    }
}
