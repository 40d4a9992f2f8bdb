//! Corruption H(x) for denoising autoencoders: the network sees H(x) and is trained to output
//! the clean x. Every draw comes from the caller's seeded generator.

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Noise {
    #[default]
    None,
    /// Each pixel is set to 0 with probability `fraction`.
    Masking {
        #[serde(serialize_with = "crate::decimal::f32")]
        fraction: f32,
    },
    /// Each pixel gets N(0, σ²) added, then is clipped to [0, 1].
    Gaussian {
        #[serde(serialize_with = "crate::decimal::f32")]
        sigma: f32,
    },
    /// Each pixel with probability `fraction` is set to 0 or 1 (equally likely).
    SaltPepper {
        #[serde(serialize_with = "crate::decimal::f32")]
        fraction: f32,
    },
}

impl Noise {
    /// Every kind of noise at the level it starts from when a user picks it.
    pub fn defaults() -> [Noise; 4] {
        [Noise::None, Noise::Masking { fraction: 0.3 }, Noise::Gaussian { sigma: 0.2 }, Noise::SaltPepper { fraction: 0.3 }]
    }

    pub fn is_none(&self) -> bool {
        *self == Noise::None
    }

    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Noise::None => Ok(()),
            Noise::Masking { fraction } | Noise::SaltPepper { fraction } if (0.0..=1.0).contains(&fraction) => Ok(()),
            Noise::Gaussian { sigma } if sigma.is_finite() && sigma >= 0.0 => Ok(()),
            Noise::Gaussian { sigma } => Err(format!("gaussian noise: sigma must be a number of at least 0, got {sigma}")),
            Noise::Masking { fraction } | Noise::SaltPepper { fraction } => Err(format!("noise: the fraction of pixels must be between 0 and 1, got {fraction}")),
        }
    }

    /// Corrupt `pixels` in place.
    pub fn apply(&self, pixels: &mut [f32], rng: &mut Rng) {
        match *self {
            Noise::None => {}
            Noise::Masking { fraction } => {
                for p in pixels {
                    if rng.uniform() < fraction {
                        *p = 0.0;
                    }
                }
            }
            Noise::Gaussian { sigma } => {
                for p in pixels {
                    *p = (*p + sigma * rng.normal()).clamp(0.0, 1.0);
                }
            }
            Noise::SaltPepper { fraction } => {
                for p in pixels {
                    if rng.uniform() < fraction {
                        *p = if rng.uniform() < 0.5 { 0.0 } else { 1.0 };
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One corruption case: apply `noise` to 100,000 pixels of value `start`; `stat` summarises
    /// the result and must land within `tol` of `want`.
    fn check(noise: Noise, start: f32, stat: fn(&[f32]) -> f64, want: f64, tol: f64) {
        let mut pixels = vec![start; 100_000];
        noise.apply(&mut pixels, &mut Rng::from_seed(11));
        let got = stat(&pixels);
        assert!((got - want).abs() <= tol, "{noise:?}: got {got}, want {want}");
        // The same seed corrupts identically.
        let mut again = vec![start; 100_000];
        noise.apply(&mut again, &mut Rng::from_seed(11));
        assert_eq!(pixels, again);
    }

    fn share_zero(p: &[f32]) -> f64 {
        p.iter().filter(|&&v| v == 0.0).count() as f64 / p.len() as f64
    }
    fn share_one(p: &[f32]) -> f64 {
        p.iter().filter(|&&v| v == 1.0).count() as f64 / p.len() as f64
    }
    fn std_dev(p: &[f32]) -> f64 {
        let mean = p.iter().map(|&v| v as f64).sum::<f64>() / p.len() as f64;
        (p.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / p.len() as f64).sqrt()
    }
    fn in_range(p: &[f32]) -> f64 {
        p.iter().all(|v| (0.0..=1.0).contains(v)) as u8 as f64
    }

    #[test]
    fn corruption_cases() {
        check(Noise::None, 0.5, share_zero, 0.0, 0.0);
        check(Noise::Masking { fraction: 0.3 }, 0.5, share_zero, 0.3, 0.01);
        check(Noise::Masking { fraction: 0.0 }, 0.5, share_zero, 0.0, 0.0);
        check(Noise::SaltPepper { fraction: 0.2 }, 0.5, share_zero, 0.1, 0.01);
        check(Noise::SaltPepper { fraction: 0.2 }, 0.5, share_one, 0.1, 0.01);
        // σ = 0.1 around 0.5 is rarely clipped, so the spread is σ.
        check(Noise::Gaussian { sigma: 0.1 }, 0.5, std_dev, 0.1, 0.005);
        check(Noise::Gaussian { sigma: 2.0 }, 0.5, in_range, 1.0, 0.0);
        assert!(Noise::Masking { fraction: 1.5 }.validate().is_err());
        assert!(Noise::Gaussian { sigma: -1.0 }.validate().is_err());
    }
}
