//! Reconstruction losses: the objective each example is trained on, its gradient at the output
//! layer, and the per-pixel figures reported to people.
//!
//! Units. The training objective is summed over output units and averaged over the batch:
//! `mse` is 0.5 · Σ_px (y − t)² per example (ConvNetJS's regression loss, gradient y − t) and
//! `bce` is −Σ_px [t ln y + (1 − t) ln(1 − y)] per example on a sigmoid output (gradient with
//! respect to the pre-activation: y − t). The reported figures are per pixel: MSE/px is
//! Σ (y − t)² / (examples · pixels); BCE/px likewise. ConvNetJS's loss is 0.5 · 784 · MSE/px.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    Mse,
    Bce,
}

impl Loss {
    pub fn name(self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::Bce => "bce",
        }
    }
}

/// Sums over a batch; divide by examples (and pixels) to report.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossSums {
    /// Σ (y − t)² over every example and unit.
    pub sse: f64,
    /// Σ of the per-unit cross-entropy; zero unless the output is sigmoid.
    pub bce: f64,
}

/// Binary cross-entropy of target t given the pre-activation z of a sigmoid output, in the form
/// that cannot overflow: max(z, 0) − z·t + ln(1 + e^(−|z|)).
pub fn bce_from_logit(z: f32, t: f32) -> f64 {
    let z = z as f64;
    z.max(0.0) - z * t as f64 + (-z.abs()).exp().ln_1p()
}

/// Sum a batch's losses. `logits` are the output layer's pre-activations, given only for
/// sigmoid outputs (they make the cross-entropy exact even where the sigmoid saturates).
pub fn sums(outputs: &[f32], logits: Option<&[f32]>, targets: &[f32]) -> LossSums {
    let sse = outputs.iter().zip(targets).map(|(&y, &t)| ((y - t) as f64).powi(2)).sum();
    let bce = logits.map_or(0.0, |z| z.iter().zip(targets).map(|(&z, &t)| bce_from_logit(z, t)).sum());
    LossSums { sse, bce }
}

/// Write y − t into `grad`: that is dL/d(output) for `mse` and dL/d(pre-activation) for `bce`
/// on a sigmoid output.
pub fn output_grad(outputs: &[f32], targets: &[f32], grad: &mut [f32]) {
    for ((g, &y), &t) in grad.iter_mut().zip(outputs).zip(targets) {
        *g = y - t;
    }
}

/// The objective value of a batch's sums (summed over units, not yet averaged over examples).
pub fn objective(loss: Loss, sums: &LossSums) -> f64 {
    match loss {
        Loss::Mse => 0.5 * sums.sse,
        Loss::Bce => sums.bce,
    }
}
