//! Reading WAV files into 8 kHz mono (TTS output, test fixtures, our own recordings) and
//! cutting signals into 20 ms frames. PCM goes through `hound`; G.711 WAVs (which `hound`
//! does not read) through a small chunk walker; resampling through `audio-codec`.

use std::io::Cursor;

use crate::FRAME_SAMPLES;
use crate::g711::Law;

/// Why a WAV file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("WAV file: {0}")]
    Wav(#[from] hound::Error),
    #[error("WAV file: {field} {reason}")]
    Format { field: &'static str, reason: String },
}

/// WAVE_FORMAT_ALAW and WAVE_FORMAT_MULAW (RFC 2361 appendix A).
const FORMAT_ALAW: u16 = 6;
const FORMAT_MULAW: u16 = 7;

/// Reads a WAV file of any sample rate, mono or multi-channel (channels averaged), 8/16/24/32-
/// bit integer PCM, 32-bit float, µ-law or A-law, into 8 kHz mono 16-bit samples. A data chunk
/// whose declared length runs past the end of the file (what `espeak-ng --stdout` writes) is
/// read up to the end. Errors name the field when the header is malformed or the format is
/// one of the others (ADPCM, …).
pub fn read_8k_mono(bytes: &[u8]) -> Result<Vec<i16>, WavError> {
    let (rate, mono) = match read_pcm(bytes) {
        Ok(read) => read,
        Err(error) => match read_g711(bytes)? {
            Some(read) => read,
            None => return Err(error),
        },
    };
    Ok(resample_to_8k(&mono, rate))
}

/// Resamples mono 16-bit audio at `rate` Hz to 8 kHz (a polyphase windowed-sinc filter from
/// `audio-codec`, which also low-passes under 4 kHz). 8000 returns the input; a `rate` of 0
/// returns no samples.
pub fn resample_to_8k(samples: &[i16], rate: u32) -> Vec<i16> {
    if rate == 0 {
        return Vec::new();
    }
    audio_codec::resample(samples, rate, crate::SAMPLE_RATE)
}

/// The samples cut into 20 ms frames of 160; the last frame is padded with zeros.
pub fn frames(samples: &[i16]) -> impl Iterator<Item = [i16; FRAME_SAMPLES]> + '_ {
    samples.chunks(FRAME_SAMPLES).map(|chunk| {
        let mut frame = [0; FRAME_SAMPLES];
        frame[..chunk.len()].copy_from_slice(chunk);
        frame
    })
}

fn read_pcm(bytes: &[u8]) -> Result<(u32, Vec<i16>), WavError> {
    let bytes = fix_streamed_length(bytes);
    let mut reader = hound::WavReader::new(Cursor::new(&bytes[..]))?;
    let spec = reader.spec();
    let samples: Vec<f64> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, _) => collect(
            reader
                .samples::<f32>()
                .map(|s| s.map(|x| f64::from(x) * 32767.0)),
        )?,
        (hound::SampleFormat::Int, bits @ 1..=16) => collect(
            reader
                .samples::<i16>()
                .map(|s| s.map(|x| f64::from(x) * f64::from(1u32 << (16 - bits)))),
        )?,
        (hound::SampleFormat::Int, bits) => collect(
            reader
                .samples::<i32>()
                .map(|s| s.map(|x| f64::from(x) / f64::from(1u32 << (bits.clamp(16, 32) - 16)))),
        )?,
    };
    Ok((
        spec.sample_rate,
        downmix(&samples, usize::from(spec.channels)),
    ))
}

fn collect(samples: impl Iterator<Item = hound::Result<f64>>) -> Result<Vec<f64>, WavError> {
    Ok(samples.collect::<hound::Result<Vec<f64>>>()?)
}

/// A program writing WAV to a pipe cannot seek back to fill in the lengths, so it writes a
/// placeholder (`espeak-ng --stdout`: 0x7FFFF000). When the data chunk claims more than the file
/// holds, a copy with the true length (whole blocks only) is returned for `hound` to read.
fn fix_streamed_length(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let le32 =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" {
        return bytes.into();
    }
    let mut block = 1;
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let size = le32(at + 4) as usize;
        if &bytes[at..at + 4] == b"fmt " && at + 22 <= bytes.len() {
            block = usize::from(u16::from_le_bytes([bytes[at + 20], bytes[at + 21]])).max(1);
        }
        if &bytes[at..at + 4] == b"data" {
            let available = bytes.len() - at - 8;
            if size <= available {
                return bytes.into();
            }
            let mut fixed = bytes.to_vec();
            let true_size = (available / block * block) as u32;
            fixed[at + 4..at + 8].copy_from_slice(&true_size.to_le_bytes());
            fixed.truncate(at + 8 + true_size as usize);
            let riff = (fixed.len() - 8) as u32;
            fixed[4..8].copy_from_slice(&riff.to_le_bytes());
            return fixed.into();
        }
        at = at.saturating_add(8 + size + (size & 1));
    }
    bytes.into()
}

fn downmix(samples: &[f64], channels: usize) -> Vec<i16> {
    samples
        .chunks(channels.max(1))
        .map(|frame| {
            let mean = frame.iter().sum::<f64>() / frame.len() as f64;
            mean.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
        })
        .collect()
}

/// A RIFF/WAVE file whose fmt chunk is µ-law or A-law: `Ok(None)` when it is not a RIFF file
/// or another format (so the PCM reader's error stands).
fn read_g711(bytes: &[u8]) -> Result<Option<(u32, Vec<i16>)>, WavError> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Ok(None);
    }
    let mut format = None;
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
            as usize;
        let body = &bytes[at + 8..(at + 8).saturating_add(size).min(bytes.len())];
        if id == b"fmt " {
            if body.len() < 16 {
                return Err(WavError::Format {
                    field: "fmt chunk",
                    reason: format!("is {} bytes, needs 16", body.len()),
                });
            }
            let tag = u16::from_le_bytes([body[0], body[1]]);
            let law = match tag {
                FORMAT_MULAW => Law::Mu,
                FORMAT_ALAW => Law::A,
                _ => return Ok(None),
            };
            let channels = u16::from_le_bytes([body[2], body[3]]);
            let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
            if channels == 0 || rate == 0 {
                return Err(WavError::Format {
                    field: "fmt chunk",
                    reason: format!("has {channels} channels at {rate} Hz"),
                });
            }
            format = Some((law, channels, rate));
        } else if id == b"data" {
            let Some((law, channels, rate)) = format else {
                return Err(WavError::Format {
                    field: "data chunk",
                    reason: "comes before the fmt chunk".into(),
                });
            };
            let mut pcm = Vec::with_capacity(body.len());
            law.decode(body, &mut pcm);
            let wide: Vec<f64> = pcm.iter().map(|&s| f64::from(s)).collect();
            return Ok(Some((rate, downmix(&wide, usize::from(channels)))));
        }
        at = at + 8 + size + (size & 1); // chunks are padded to even sizes
    }
    if format.is_some() {
        return Err(WavError::Format {
            field: "data chunk",
            reason: "is missing".into(),
        });
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcm_wav(rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = Cursor::new(Vec::new());
        let mut writer = hound::WavWriter::new(&mut out, spec).unwrap();
        for &s in samples {
            writer.write_sample(s).unwrap();
        }
        writer.finalize().unwrap();
        out.into_inner()
    }

    fn sine(rate: u32, hz: f64, seconds: f64) -> Vec<i16> {
        (0..(f64::from(rate) * seconds) as usize)
            .map(|i| {
                (10000.0 * (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate)).sin())
                    as i16
            })
            .collect()
    }

    #[test]
    fn reads_22050_hz_mono_into_8k() {
        let wav = pcm_wav(22_050, 1, &sine(22_050, 1000.0, 1.0));
        let out = read_8k_mono(&wav).unwrap();
        assert!((7990..=8010).contains(&out.len()), "{}", out.len());
        // Still a 1000 Hz tone of about the same level.
        let share = 2.0 * crate::goertzel::power(&out[4000..4160], 1000.0)
            / 160.0
            / crate::goertzel::energy(&out[4000..4160]);
        assert!(share > 0.9, "{share}");
        let peak = out[1000..7000]
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap();
        assert!((9000..=11000).contains(&peak), "{peak}");
    }

    #[test]
    fn averages_stereo_and_reads_a_streamed_header() {
        let wav = pcm_wav(8000, 2, &[1000, 3000, -200, -400]);
        assert_eq!(read_8k_mono(&wav).unwrap(), [2000, -300]);
        // espeak-ng --stdout writes 0x7FFFF000 as the data length, larger than the file.
        let mut streamed = pcm_wav(8000, 1, &[5, 6, 7]);
        let data = streamed.windows(4).position(|w| w == b"data").unwrap();
        streamed[data + 4..data + 8].copy_from_slice(&0x7FFF_F000u32.to_le_bytes());
        assert_eq!(read_8k_mono(&streamed).unwrap(), [5, 6, 7]);
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        let err = read_8k_mono(b"RIFF\0\0\0\0WAVEjunk").unwrap_err();
        assert!(!err.to_string().is_empty());
        assert!(read_8k_mono(b"not a wav").is_err());
    }

    #[test]
    fn frames_pad_the_last_one() {
        let samples: Vec<i16> = (1..=170).collect();
        let all: Vec<[i16; FRAME_SAMPLES]> = frames(&samples).collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1][9], 170);
        assert_eq!(all[1][10], 0);
        assert_eq!(resample_to_8k(&[1, 2, 3], 8000), [1, 2, 3]);
        assert!(resample_to_8k(&[1, 2, 3], 0).is_empty());
    }

    /// espeak-ng output, as the TTS renderer will read it.
    #[test]
    #[ignore = "needs espeak-ng"]
    fn reads_espeak_output() {
        let out = std::process::Command::new("espeak-ng")
            .args(["--stdout", "-v", "en-us", "This is the monitoring center."])
            .output()
            .expect("espeak-ng runs");
        let samples = read_8k_mono(&out.stdout).unwrap();
        assert!(samples.len() > 8000, "{}", samples.len());
        assert!(crate::mean_abs(&samples) > 200);
    }
}
