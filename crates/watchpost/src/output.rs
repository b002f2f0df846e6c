//! Writing the commands' output so that a closed pipe never ends in a panic. Rust ignores
//! SIGPIPE, so `println!` panics once the reader went away (`watchpost alarms --json | head
//! -1`). A command ends quietly instead, as Unix commands do; `serve` goes on, since a center
//! never stops because a terminal or a log pipe closed. Sockets keep SIGPIPE ignored.

use std::io::{self, Write};

/// The status of a command that stopped because its reader went away: what a shell reports
/// for a command ended by SIGPIPE (128 + 13).
pub const CLOSED_OUTPUT: i32 = 141;

/// Writes one line to `to`; a closed pipe ends the process quietly, any other failure is a
/// panic as with `println!`.
pub fn line(mut to: impl Write, text: std::fmt::Arguments) {
    if let Err(e) = writeln!(to, "{text}").and_then(|()| to.flush()) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(CLOSED_OUTPUT);
        }
        panic!("cannot write the output: {e}");
    }
}

/// `println!` for the commands: ends the command quietly once its output is closed.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::line(std::io::stdout().lock(), format_args!($($arg)*))
    };
}

/// `eprintln!` for the commands: ends the command quietly once its error output is closed.
#[macro_export]
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::output::line(std::io::stderr().lock(), format_args!($($arg)*))
    };
}

/// `println!` for `serve`: a line that cannot be written is dropped, and the center goes on.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = std::io::Write::write_fmt(
            &mut std::io::stdout().lock(),
            format_args!("{}\n", format_args!($($arg)*)),
        );
    }};
}
