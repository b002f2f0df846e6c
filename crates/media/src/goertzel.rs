//! The Goertzel algorithm: the power of one frequency in a block of 8 kHz samples, shared by
//! the in-band DTMF and beep detectors.

use crate::SAMPLE_RATE;

/// Power of frequency `hz` in `samples` (8 kHz): |X(f)|², which is (a·n/2)² for a sine of
/// amplitude `a` at exactly `hz` over `n` samples.
pub fn power(samples: &[i16], hz: f64) -> f64 {
    let coefficient = 2.0 * (2.0 * std::f64::consts::PI * hz / f64::from(SAMPLE_RATE)).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coefficient * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - coefficient * s1 * s2).max(0.0)
}

/// Energy of the samples: the sum of their squares.
pub fn energy(samples: &[i16]) -> f64 {
    samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sine_at_the_frequency_has_the_expected_power() {
        let n = 160;
        let samples: Vec<i16> = (0..n)
            .map(|i| {
                (1000.0 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 8000.0).sin()) as i16
            })
            .collect();
        let expected = (1000.0 * n as f64 / 2.0).powi(2);
        let p = power(&samples, 1000.0);
        assert!((p / expected - 1.0).abs() < 0.02, "{p} vs {expected}");
        assert!(power(&samples, 1500.0) < expected / 100.0);
        let share = 2.0 * p / n as f64 / energy(&samples);
        assert!((share - 1.0).abs() < 0.03);
    }
}
