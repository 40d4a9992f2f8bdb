//! A snapshot's arrays of numbers as they are written: base64 of the f32s' little-endian bytes
//! in four planes (every number's first byte, then every second byte, and so on: the planes of
//! sign and exponent bytes repeat, so a gzipped file shrinks by a further tenth or more), which
//! is version 2: about 5.3 characters a number, bit for bit, against about 12 as decimal text.
//! Read back from that or from a JSON array of numbers (version 1). What the numbers mean, and
//! whether they are finite, is `Snapshot::restore`'s to check; here only the encoding.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};

/// The bytes of `values`, little-endian, in four planes, in base64.
pub fn encode(values: &[f32]) -> String {
    let n = values.len();
    let mut bytes = vec![0u8; 4 * n];
    for (i, v) in values.iter().enumerate() {
        for (plane, b) in v.to_le_bytes().into_iter().enumerate() {
            bytes[plane * n + i] = b;
        }
    }
    STANDARD.encode(bytes)
}

/// The numbers base64 `text` holds; refused when it is not base64 or not whole f32s.
pub fn decode(text: &str) -> Result<Vec<f32>, String> {
    let bytes = STANDARD.decode(text).map_err(|e| format!("an array of numbers is not valid base64 ({e})"))?;
    if bytes.len() % 4 != 0 {
        return Err(format!("an array of numbers holds {} bytes, not a whole number of 4-byte floats", bytes.len()));
    }
    let n = bytes.len() / 4;
    Ok((0..n).map(|i| f32::from_le_bytes([bytes[i], bytes[n + i], bytes[2 * n + i], bytes[3 * n + i]])).collect())
}

/// Numbers as base64 text, or as a JSON array of numbers (version 1).
struct Floats;

impl<'de> Visitor<'de> for Floats {
    type Value = Vec<f32>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("numbers: base64 of little-endian f32s, or an array of numbers")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Vec<f32>, E> {
        decode(text).map_err(E::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f32>, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<f32>()? {
            out.push(v);
        }
        Ok(out)
    }
}

/// `#[serde(with = "floats::array")]` on a `Vec<f32>`.
pub mod array {
    use super::*;

    pub fn serialize<S: Serializer>(values: &[f32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(values))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
        d.deserialize_any(Floats)
    }
}

/// `#[serde(with = "floats::nested")]` on the optimiser's slots: per parameter, its arrays.
pub mod nested {
    use super::*;

    pub fn serialize<S: Serializer>(slots: &[Vec<Vec<f32>>], s: S) -> Result<S::Ok, S::Error> {
        let mut outer = s.serialize_seq(Some(slots.len()))?;
        for arrays in slots {
            outer.serialize_element(&arrays.iter().map(|a| encode(a)).collect::<Vec<String>>())?;
        }
        outer.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<Vec<f32>>>, D::Error> {
        struct Slots;
        impl<'de> Visitor<'de> for Slots {
            type Value = Vec<Vec<Vec<f32>>>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("per parameter, a list of arrays of numbers")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(arrays) = seq.next_element::<Vec<Wrapped>>()? {
                    out.push(arrays.into_iter().map(|w| w.0).collect());
                }
                Ok(out)
            }
        }
        d.deserialize_seq(Slots)
    }

    /// One array, either encoding.
    struct Wrapped(Vec<f32>);
    impl<'de> serde::Deserialize<'de> for Wrapped {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(Floats).map(Wrapped)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every bit comes back, the awkward values included, and version 1's arrays still read.
    #[test]
    fn base64_keeps_every_bit_and_arrays_still_read() {
        let values = [0.0f32, -0.0, 1.0, -1.5e-38, f32::MIN_POSITIVE / 3.0, 3.4e38, 0.1, -123.456, f32::EPSILON];
        let text = encode(&values);
        let back = decode(&text).unwrap();
        assert_eq!(back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), values.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        assert!(text.len() * 10 < values.len() * 4 * 10 * 4 / 3 + 40, "about 4/3 of the bytes");
        #[derive(serde::Deserialize, serde::Serialize)]
        struct Holder {
            #[serde(with = "array")]
            data: Vec<f32>,
            #[serde(with = "nested")]
            slots: Vec<Vec<Vec<f32>>>,
        }
        let old: Holder = serde_json::from_str(r#"{"data": [1.5, -2, 0.25], "slots": [[[1, 2], [3]], []]}"#).unwrap();
        assert_eq!(old.data, vec![1.5, -2.0, 0.25]);
        assert_eq!(old.slots, vec![vec![vec![1.0, 2.0], vec![3.0]], vec![]]);
        let written = serde_json::to_string(&old).unwrap();
        assert!(written.contains(&format!("\"data\":\"{}\"", encode(&[1.5, -2.0, 0.25]))), "{written}");
        let again: Holder = serde_json::from_str(&written).unwrap();
        assert_eq!((again.data, again.slots), (old.data, old.slots));
        for bad in [r#"{"data": "not base64!", "slots": []}"#, r#"{"data": "AAA=", "slots": []}"#, r#"{"data": {"a": 1}, "slots": []}"#] {
            assert!(serde_json::from_str::<Holder>(bad).is_err(), "{bad}");
        }
        assert!(decode("AAA=").unwrap_err().contains("not a whole number of 4-byte floats"));
        // The planes, byte by byte: 1.0 and 2.0 are 00 00 80 3f and 00 00 00 40.
        assert_eq!(STANDARD.decode(encode(&[1.0, 2.0])).unwrap(), vec![0, 0, 0, 0, 0x80, 0, 0x3f, 0x40]);
    }
}
