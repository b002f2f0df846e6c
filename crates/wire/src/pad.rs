//! Where the random pad in front of encrypted plaintext comes from: a caller's RNG in
//! production, a fixed byte or a closure when output must be reproducible.

/// Pad bytes may not be `|`, `[` or `]`, since a receiver finds the data by the first `|`.
pub(crate) fn is_forbidden(byte: u8) -> bool {
    matches!(byte, b'|' | b'[' | b']')
}

/// A source of pad bytes.
pub trait PadSource {
    fn next_byte(&mut self) -> u8;
}

/// Every pad byte is the same; for tests and reproducible `inspect` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedPad(pub u8);

impl PadSource for FixedPad {
    fn next_byte(&mut self) -> u8 {
        self.0
    }
}

/// Random ASCII letters and digits from the caller's RNG; printable pad keeps receivers that
/// decode the whole plaintext as text happy.
#[derive(Debug, Clone)]
pub struct RngPad<R>(pub R);

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl<R: rand::RngCore> PadSource for RngPad<R> {
    fn next_byte(&mut self) -> u8 {
        let pick = (self.0.next_u32() % 62) as usize;
        ALPHANUMERIC.get(pick).copied().unwrap_or(b'0')
    }
}

impl<F: FnMut() -> u8> PadSource for F {
    fn next_byte(&mut self) -> u8 {
        self()
    }
}

/// Draws `len` pad bytes, replacing any forbidden byte so a careless source cannot corrupt
/// the frame.
pub(crate) fn draw(source: &mut dyn PadSource, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| match source.next_byte() {
            b if is_forbidden(b) => b'0',
            b => b,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn forbidden_bytes_are_replaced() {
        assert_eq!(draw(&mut FixedPad(b'|'), 3), b"000");
        let mut bytes = [b'[', b']', b'a'].into_iter().cycle();
        let mut source = move || bytes.next().unwrap_or(b'a');
        assert_eq!(draw(&mut source, 3), b"00a");
    }

    #[test]
    fn rng_pad_is_alphanumeric() {
        let mut pad = RngPad(rand::rngs::StdRng::seed_from_u64(7));
        let bytes = draw(&mut pad, 200);
        assert!(bytes.iter().all(u8::is_ascii_alphanumeric));
    }
}
