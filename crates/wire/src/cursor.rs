//! A forward-only reader over untrusted bytes; every access is checked so that the parsers
//! built on it cannot panic, whatever a panel (or an attacker) sends.

pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, pos: 0 }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Consumes `byte` if it is next.
    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes the longest run of bytes matching `pred`.
    pub(crate) fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a [u8] {
        let rest = self.rest();
        let len = rest.iter().take_while(|b| pred(**b)).count();
        self.pos += len;
        rest.get(..len).unwrap_or_default()
    }

    /// Consumes exactly `n` bytes, or nothing if fewer remain.
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let taken = self.rest().get(..n)?;
        self.pos += n;
        Some(taken)
    }

    /// Consumes up to and including the next `byte`, returning what came before it.
    pub(crate) fn take_until(&mut self, byte: u8) -> Option<&'a [u8]> {
        let rest = self.rest();
        let at = rest.iter().position(|b| *b == byte)?;
        self.pos += at + 1;
        rest.get(..at)
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }
}
