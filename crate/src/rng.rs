//! The one seeded random generator behind every random choice: initial weights, shuffles,
//! corruption noise and synthetic data. Its state is saved in snapshots so a run resumes exactly.
//! Sampling helpers live here too; nothing else in the crate touches randomness.

use rand_core::{RngCore, SeedableRng};
use rand_pcg::Pcg32;
use serde::{Deserialize, Serialize};

/// PCG-XSH-RR 64/32 (O'Neill 2014) from the `rand_pcg` crate, with the sampling we need.
#[derive(Clone, Debug, PartialEq)]
pub struct Rng {
    inner: Pcg32,
}

/// The generator's full state as it appears in a snapshot: two 64-bit words as hex strings,
/// because JSON numbers above 2^53 do not survive JavaScript.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RngState {
    pub state: String,
    pub increment: String,
}

/// The field layout `rand_pcg` serializes `Pcg32` with.
#[derive(Serialize, Deserialize)]
struct PcgFields {
    state: u64,
    increment: u64,
}

impl Rng {
    pub fn from_seed(seed: u64) -> Rng {
        Rng { inner: Pcg32::seed_from_u64(seed) }
    }

    pub fn next_u32(&mut self) -> u32 {
        self.inner.next_u32()
    }

    /// Uniform in [0, 1) with 24 random bits, exactly representable in f32.
    pub fn uniform(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform_f64(&mut self) -> f64 {
        let hi = (self.next_u32() >> 5) as u64; // 27 bits
        let lo = (self.next_u32() >> 6) as u64; // 26 bits
        ((hi << 26) | lo) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal sample by the Box-Muller transform (one of the pair is discarded,
    /// so the generator's state is the whole story).
    pub fn normal(&mut self) -> f32 {
        let u1 = 1.0 - self.uniform_f64(); // in (0, 1], so the log is finite
        let u2 = self.uniform_f64();
        ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
    }

    /// Uniform integer in [0, n) without modulo bias (Lemire's multiply-and-reject).
    pub fn below(&mut self, n: u32) -> u32 {
        assert!(n > 0, "below(0)");
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = self.next_u32() as u64 * n as u64;
            if (m as u32) >= threshold {
                return (m >> 32) as u32;
            }
        }
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for idx in (1..items.len()).rev() {
            let other = self.below(idx as u32 + 1) as usize;
            items.swap(idx, other);
        }
    }

    pub fn state(&self) -> RngState {
        let value = serde_json::to_value(&self.inner).expect("Pcg32 serializes");
        let fields: PcgFields = serde_json::from_value(value).expect("Pcg32 has state and increment");
        RngState { state: format!("{:016x}", fields.state), increment: format!("{:016x}", fields.increment) }
    }

    pub fn from_state(saved: &RngState) -> Result<Rng, String> {
        // Exactly sixteen hex digits, as `state` writes them: a shorter word is a damaged file.
        let word = |name: &str, text: &str| match text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            true => u64::from_str_radix(text, 16).map_err(|_| format!("rng.{name}: expected 16 hex digits, got {text:?}")),
            false => Err(format!("rng.{name}: expected 16 hex digits, got {text:?}")),
        };
        let fields = PcgFields { state: word("state", &saved.state)?, increment: word("increment", &saved.increment)? };
        if fields.increment.is_multiple_of(2) {
            return Err("rng.increment: must be odd".into());
        }
        let value = serde_json::to_value(&fields).expect("plain struct serializes");
        let inner: Pcg32 = serde_json::from_value(value).map_err(|e| format!("rng: {e}"))?;
        Ok(Rng { inner })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_state_round_trips() {
        let mut a = Rng::from_seed(7);
        let mut b = Rng::from_seed(7);
        for _ in 0..100 {
            assert_eq!(a.next_u32(), b.next_u32());
        }
        let mut c = Rng::from_state(&a.state()).unwrap();
        for _ in 0..100 {
            assert_eq!(a.next_u32(), c.next_u32());
        }
        assert_ne!(Rng::from_seed(8).next_u32(), Rng::from_seed(7).next_u32());
    }

    #[test]
    fn samples_have_the_right_moments() {
        let mut rng = Rng::from_seed(1);
        let n = 200_000;
        let (mut sum, mut sum_sq, mut usum) = (0.0f64, 0.0f64, 0.0f64);
        for _ in 0..n {
            let z = rng.normal() as f64;
            sum += z;
            sum_sq += z * z;
            usum += rng.uniform() as f64;
        }
        let mean = sum / n as f64;
        let var = sum_sq / n as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "normal mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "normal variance {var}");
        assert!((usum / n as f64 - 0.5).abs() < 0.005);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[rng.below(3) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (9_500..10_500).contains(&c)), "{counts:?}");
    }

    #[test]
    fn bad_saved_state_is_an_error() {
        let bad = RngState { state: "xyz".into(), increment: "1".into() };
        assert!(Rng::from_state(&bad).unwrap_err().contains("rng.state"));
        let even = RngState { state: "1".into(), increment: "2".into() };
        assert!(Rng::from_state(&even).is_err());
    }
}
