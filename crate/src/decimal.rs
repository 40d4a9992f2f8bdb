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
}
