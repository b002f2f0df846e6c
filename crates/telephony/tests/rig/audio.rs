//! Analysis of what a peer recorded: WAV reading, tone finding (the beep), locating our message
//! inside a recording, and how much of it was speech.

use std::path::Path;

/// Samples per 10 ms at 8 kHz: the envelope frame.
const FRAME: usize = 80;
/// 10 ms RMS above this (of 32767, about -40 dBFS) counts as speech-level audio; G.711 silence
/// decodes to a few units, espeak-ng speech to thousands.
const VOICE_FLOOR: f64 = 300.0;

/// Reads a WAV as 8 kHz mono 16-bit samples. Files already in that shape are read with hound;
/// anything else (µ-law, stereo, other rates) is converted by sox first. Panics naming the
/// file when it cannot be read or converted.
pub fn read_wav(path: &Path) -> Vec<i16> {
    if let Ok(reader) = hound::WavReader::open(path) {
        let spec = reader.spec();
        if spec.sample_rate == 8000
            && spec.channels == 1
            && spec.bits_per_sample == 16
            && spec.sample_format == hound::SampleFormat::Int
        {
            return reader
                .into_samples::<i16>()
                .collect::<Result<_, _>>()
                .unwrap_or_else(|error| panic!("rig: read {}: {error}", path.display()));
        }
    }
    let tmp = tempfile::Builder::new()
        .suffix(".wav")
        .tempfile()
        .expect("rig: temp file");
    let (input, output) = (
        path.to_str().expect("UTF-8 path"),
        tmp.path().to_str().expect("UTF-8 path"),
    );
    super::run_tool(
        "sox",
        &[
            input,
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            output,
        ],
    );
    hound::WavReader::open(tmp.path())
        .and_then(|reader| reader.into_samples::<i16>().collect())
        .unwrap_or_else(|error| panic!("rig: read {} after sox: {error}", path.display()))
}

/// The start and end, in ms from the first sample, of the first tone of `hz` (±30 Hz) that
/// lasts at least 80 ms, in 8 kHz samples. `None` when there is none.
///
/// 20 ms windows every 5 ms; a window holds the tone when the Goertzel power at one of
/// `hz`-30, -15, 0, +15, +30 Hz carries at least half the window's energy and the window is
/// louder than -50 dBFS. A window half over the tone's edge passes that test, so the edges are
/// the centres of the first and last passing windows (about ±5 ms).
pub fn find_tone(samples: &[i16], hz: u32) -> Option<(u32, u32)> {
    const WINDOW: usize = 160;
    const HOP: usize = 40;
    let probes: Vec<f64> = [-30.0, -15.0, 0.0, 15.0, 30.0]
        .iter()
        .map(|d| f64::from(hz) + d)
        .collect();
    let mut run: Option<(usize, usize)> = None;
    let mut start = 0;
    while start + WINDOW <= samples.len() {
        let window = &samples[start..start + WINDOW];
        let energy: f64 = window.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        let loud = (energy / WINDOW as f64).sqrt() > 100.0;
        let tonal = loud
            && probes
                .iter()
                .any(|&f| goertzel(window, f) >= 0.5 * energy * WINDOW as f64 / 2.0);
        match (tonal, run) {
            (true, None) => run = Some((start, start)),
            (true, Some((first, _))) => run = Some((first, start)),
            (false, Some((first, last))) => {
                if let Some(found) = tone_span(first, last, WINDOW) {
                    return Some(found);
                }
                run = None;
            }
            (false, None) => {}
        }
        start += HOP;
    }
    run.and_then(|(first, last)| tone_span(first, last, WINDOW))
}

fn tone_span(first: usize, last: usize, window: usize) -> Option<(u32, u32)> {
    let begin = (first + window / 2) as u32 / 8;
    let end = (last + window / 2) as u32 / 8;
    (end - begin >= 80).then_some((begin, end))
}

/// Squared magnitude of the DFT of `window` at `hz` (8 kHz), by the Goertzel recurrence. A
/// full-scale-relative pure tone gives energy × len / 2.
fn goertzel(window: &[i16], hz: f64) -> f64 {
    let coeff = 2.0 * (2.0 * std::f64::consts::PI * hz / 8000.0).cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &sample in window {
        let s0 = f64::from(sample) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// Where `needle` (e.g. our message) starts inside `haystack` (what a peer recorded), both
/// 8 kHz: the offset in ms (10 ms steps) and the Pearson correlation (0..1, negative clamped to
/// 0) of their 10 ms RMS envelopes there. The envelopes make it blind to G.711 round trips and
/// to the phase of 20 ms packets. The needle may run past the end of the haystack by up to 10 %
/// (a call closed just before the last packet). `None` when the needle is silent or the
/// haystack too short.
pub fn locate(haystack: &[i16], needle: &[i16]) -> Option<(u32, f64)> {
    let hay = envelope(haystack);
    let pin = envelope(needle);
    let min_overlap = pin.len() - pin.len() / 10;
    if pin.is_empty() || hay.len() < min_overlap || min_overlap < 2 {
        return None;
    }
    let mut best: Option<(usize, f64)> = None;
    for offset in 0..=hay.len() - min_overlap {
        let overlap = pin.len().min(hay.len() - offset);
        let Some(r) = pearson(&hay[offset..offset + overlap], &pin[..overlap]) else {
            continue;
        };
        if best.is_none_or(|(_, b)| r > b) {
            best = Some((offset, r));
        }
    }
    best.map(|(offset, r)| (offset as u32 * 10, r.max(0.0)))
}

/// Milliseconds of speech-level audio: 10 ms frames whose RMS is over about -40 dBFS.
pub fn voiced_ms(samples: &[i16]) -> u32 {
    envelope(samples)
        .iter()
        .filter(|&&rms| rms > VOICE_FLOOR)
        .count() as u32
        * 10
}

/// RMS of each whole 10 ms frame.
fn envelope(samples: &[i16]) -> Vec<f64> {
    samples
        .chunks_exact(FRAME)
        .map(|frame| {
            let sum: f64 = frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
            (sum / FRAME as f64).sqrt()
        })
        .collect()
}

fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len() as f64;
    let (mean_a, mean_b) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut cov, mut var_a, mut var_b) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - mean_a, y - mean_b);
        cov += dx * dy;
        var_a += dx * dx;
        var_b += dy * dy;
    }
    (var_a > 0.0 && var_b > 0.0).then(|| cov / (var_a * var_b).sqrt())
}
