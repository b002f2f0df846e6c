//! watchpost-core: the domain of a monitoring center and its sans-IO alarm engine.
//! Nothing here reads a clock, a socket or a database.

pub mod codes;
pub mod kind;

pub use codes::{SignalClass, classify_cid, classify_sia};
pub use kind::{Agency, AlarmKind, Disposition, Mode};
