//! How f32 settings serialize: as the f64 with the same shortest decimal, so a learning rate
//! typed as 0.0005 reaches JavaScript as 0.0005 and not as 0.0005000000237487257 (the f32's
//! exact value). JSON text is unchanged: both print "0.0005". Reading is serde's usual f32.

use serde::Serializer;

/// The f64 whose shortest decimal is the f32's.
pub fn widen(value: f32) -> f64 {
    if !value.is_finite() {
        return value as f64;
    }
    format!("{value}").parse().unwrap_or(value as f64)
}

/// `#[serde(serialize_with = "crate::decimal::f32")]`
pub fn f32<S: Serializer>(value: &f32, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(widen(*value))
}

/// `#[serde(serialize_with = "crate::decimal::option_f32")]` (with `skip_serializing_if`
/// leaving None out).
pub fn option_f32<S: Serializer>(value: &Option<f32>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serializer.serialize_some(&widen(*v)),
        None => serializer.serialize_none(),
    }
}

/// The shortest text that reads back as exactly `value`: plain decimals up to 8 characters,
/// past that whichever of plain and exponent form (`1e-8`) is shorter.
pub fn f32_text(value: f32) -> String {
    shortest(format!("{value}"), format!("{value:e}"))
}

pub fn f64_text(value: f64) -> String {
    shortest(format!("{value}"), format!("{value:e}"))
}

fn shortest(plain: String, exponent: String) -> String {
    if plain.len() <= 8 || plain.len() <= exponent.len() {
        plain
    } else {
        exponent
    }
}

/// 1234567 as "1,234,567".
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (idx, ch) in digits.chars().enumerate() {
        if idx > 0 && (digits.len() - idx).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widened_values_keep_their_shortest_decimal() {
        for (value, text) in [(0.0005f32, "0.0005"), (1e-8, "0.00000001"), (0.95, "0.95"), (3.0, "3"), (-0.1, "-0.1")] {
            let wide = widen(value);
            assert_eq!(wide.to_string(), text);
            assert_eq!(wide as f32, value, "the f32 comes back exactly");
        }
        assert!(widen(f32::NAN).is_nan());
        assert_eq!(serde_json::to_string(&serde_json::json!(widen(0.0005))).unwrap(), "0.0005");
    }

    #[test]
    fn numbers_are_written_in_their_shortest_exact_form() {
        for (value, text) in [(0.001f32, "0.001"), (1e-8, "1e-8"), (0.95, "0.95"), (3.0, "3"), (1.5e-7, "1.5e-7"), (0.0003, "0.0003"), (1e30, "1e30"), (123456.7, "123456.7"), (0.1 + 0.2, "0.3")] {
            assert_eq!(f32_text(value), text);
            assert_eq!(text.parse::<f32>().unwrap().to_bits(), value.to_bits(), "{text} reads back exactly");
            assert_eq!(f64_text(widen(value)), text, "the widened value writes the same text");
        }
        for value in [f32::MIN_POSITIVE, 1.0 / 3.0, f32::from_bits(0.3f32.to_bits() + 1), 7e-45, f32::MAX] {
            assert_eq!(f32_text(value).parse::<f32>().unwrap().to_bits(), value.to_bits(), "{value}");
        }
        for (value, text) in [(2.5f64, "2.5"), (0.1, "0.1"), (1e-9, "1e-9"), (1000.0, "1000")] {
            assert_eq!(f64_text(value), text);
            assert_eq!(text.parse::<f64>().unwrap().to_bits(), value.to_bits());
        }
    }
}
