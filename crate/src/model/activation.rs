//! Elementwise activations and their derivatives, written in terms of the activation's output
//! (as ConvNetJS does), so the backward pass needs no stored pre-activations.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    Tanh,
    Sigmoid,
    Linear,
}

impl Activation {
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Linear => "linear",
        }
    }

    /// Apply in place: values hold pre-activations on entry and activations on exit.
    pub fn apply(self, values: &mut [f32]) {
        match self {
            Activation::Relu => values.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Tanh => values.iter_mut().for_each(|v| *v = tanh(*v)),
            Activation::Sigmoid => values.iter_mut().for_each(|v| *v = sigmoid(*v)),
            Activation::Linear => {}
        }
    }

    /// Turn dL/d(output) into dL/d(pre-activation) in place, given the outputs.
    pub fn backward(self, outputs: &[f32], grad: &mut [f32]) {
        debug_assert_eq!(outputs.len(), grad.len());
        match self {
            Activation::Relu => grad.iter_mut().zip(outputs).for_each(|(g, &y)| {
                if y <= 0.0 {
                    *g = 0.0
                }
            }),
            Activation::Tanh => grad.iter_mut().zip(outputs).for_each(|(g, &y)| *g *= 1.0 - y * y),
            Activation::Sigmoid => grad.iter_mut().zip(outputs).for_each(|(g, &y)| *g *= y * (1.0 - y)),
            Activation::Linear => {}
        }
    }
}

pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + exp(-z))
}

/// tanh in straight-line f32 arithmetic, so loops over it vectorise (libm's tanhf is a call per
/// element, 12 % of a `convnetjs` training step in wasm). Cephes' tanhf: an odd polynomial
/// below |x| = 0.625, else 1 − 2 / (e^{2|x|} + 1) with the sign restored. Within 2e-7 of
/// f64 tanh over the whole line (tested below).
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let ax = x.abs();
    let z = x * x;
    let small = ((((-5.704_988_7e-3 * z + 2.063_909e-2) * z - 5.373_971_6e-2) * z + 1.333_144_2e-1) * z - 3.333_328e-1) * z * x + x;
    let large = (1.0 - 2.0 / (exp(2.0 * ax) + 1.0)).copysign(x);
    if ax < 0.625 {
        small
    } else {
        large
    }
}

/// e^x in straight-line f32 arithmetic (Cephes' expf): x = n·ln 2 + r with |r| ≤ ln 2 / 2, a
/// degree-5 polynomial for e^r, and 2^n built in the exponent bits. Inputs are clamped to
/// [−87, 88], where e^x stays a normal f32; relative error within 2 ulp.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + 0.5).floor();
    // ln 2 split in two so n · ln 2 is subtracted exactly.
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 1.666_666_5e-1) * r + 5e-1;
    let e_r = p * r * r + r + 1.0;
    e_r * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The straight-line tanh and exp against f64's libm on a fine grid, and at the extremes.
    #[test]
    fn fast_tanh_and_exp_track_libm() {
        for step in -40_000..=40_000 {
            let x = step as f32 * 2.5e-4; // −10 … 10
            let want = (x as f64).tanh();
            assert!((tanh(x) as f64 - want).abs() <= 2.5e-7, "tanh({x}) = {} vs {want}", tanh(x));
            let want = (x as f64 * 8.0).exp();
            let got = exp(x * 8.0) as f64;
            assert!((got - want).abs() <= 3e-7 * want, "exp({}) = {got} vs {want}", x * 8.0);
        }
        assert_eq!(tanh(100.0), 1.0);
        assert_eq!(tanh(-100.0), -1.0);
        assert_eq!(tanh(0.0), 0.0);
        assert!(exp(-1000.0) > 0.0 && exp(-1000.0) < 1e-37);
        assert!(exp(1000.0).is_finite());
        assert!(sigmoid(-1000.0) < 1e-37 && sigmoid(1000.0) == 1.0);
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let eps = 1e-3f64;
        for act in [Activation::Relu, Activation::Tanh, Activation::Sigmoid, Activation::Linear] {
            // Stay clear of relu's kink at 0, where the derivative is undefined.
            for &z in &[-2.5f32, -0.7, -0.05, 0.3, 1.9] {
                let f = |z: f64| {
                    let mut v = [z as f32];
                    act.apply(&mut v);
                    v[0] as f64
                };
                let numeric = (f(z as f64 + eps) - f(z as f64 - eps)) / (2.0 * eps);
                let mut y = [z];
                act.apply(&mut y);
                let mut g = [1.0f32];
                act.backward(&y, &mut g);
                assert!((g[0] as f64 - numeric).abs() < 1e-3, "{act:?} at {z}: analytic {} numeric {numeric}", g[0]);
            }
        }
    }
}
