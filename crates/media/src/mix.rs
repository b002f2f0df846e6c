//! Mixing two 8 kHz signals, for the recorder and three-way calls.

/// The sample-wise sum of `a` and `b`, saturating at the i16 limits instead of wrapping (a wrap
/// would be a loud click). The result is as long as the longer input; the shorter one is taken
/// as silence past its end.
pub fn mix(a: &[i16], b: &[i16]) -> Vec<i16> {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    long.iter()
        .enumerate()
        .map(|(i, &x)| x.saturating_add(short.get(i).copied().unwrap_or(0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_saturates_and_pads() {
        assert_eq!(mix(&[1, 30000, -30000], &[2, 10000]), [3, i16::MAX, -30000]);
        assert_eq!(mix(&[-20000], &[-20000, 5]), [i16::MIN, 5]);
        assert!(mix(&[], &[]).is_empty());
    }
}
