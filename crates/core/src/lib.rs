//! watchpost-core: the domain of a monitoring center and its sans-IO alarm engine.
//! Nothing here reads a clock, a socket or a database.

pub mod account;
pub mod account_file;
pub mod account_number;
pub mod alarm;
pub mod codes;
pub mod dealer;
pub mod details;
pub mod kind;
pub mod password;
pub mod pepper;
pub mod period_report;
pub mod plan;
pub mod plan_book;
pub mod plan_file;
pub mod plan_rules;
pub mod report;
pub mod router;
pub mod runaway;
pub mod toml_file;

pub use account::{Account, EnrolmentError, Millis};
pub use alarm::{Action, Alarm, AlarmSpec, Input, Rejected, Settings};
pub use codes::{SignalClass, classify_cid, classify_sia};
pub use kind::{Agency, AlarmKind, Disposition, Mode};
pub use router::{Event, Route, open_spec, route};
pub use runaway::{RunawayLimit, parse_runaway};
