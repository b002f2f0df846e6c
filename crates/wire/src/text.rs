//! Turning panel text into Rust strings: DC-09 allows Windows-1252 in x-data and event text,
//! while newer panels send UTF-8, so valid UTF-8 is kept and anything else is read as 1252.

/// Characters of Windows-1252 bytes 0x80..=0x9F; the five undefined bytes map to the
/// C1 control of the same value, as most decoders do.
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{2C6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}', '\u{8F}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}', '\u{17E}', '\u{178}',
];

/// Decodes panel text: UTF-8 when it is valid, Windows-1252 otherwise.
pub fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|b| cp1252_char(*b)).collect(),
    }
}

fn cp1252_char(byte: u8) -> char {
    match byte {
        0x80..=0x9F => CP1252_HIGH
            .get(usize::from(byte - 0x80))
            .copied()
            .unwrap_or(char::REPLACEMENT_CHARACTER),
        // Below 0x80 and from 0xA0 up, Windows-1252 agrees with Latin-1, i.e. Unicode.
        _ => char::from(byte),
    }
}

/// Shows bytes one character per byte (Latin-1), so a reply with a binary CRC can be printed
/// and still reads back to the exact bytes.
pub fn bytes_as_latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(*b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_kept_and_1252_decoded() {
        assert_eq!(decode("Zoné".as_bytes()), "Zoné");
        assert_eq!(decode(&[b'Z', 0xE9, 0x80]), "Zé€");
    }
}
