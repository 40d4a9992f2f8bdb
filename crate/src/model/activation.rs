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
            Activation::Tanh => values.iter_mut().for_each(|v| *v = v.tanh()),
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
    1.0 / (1.0 + (-z).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

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
