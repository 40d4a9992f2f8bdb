//! Reconstruction losses: the objective each example is trained on, its gradient at the output
//! layer, and the per-pixel figures reported to people.
//!
//! Units. The training objective is summed over output units and averaged over the batch:
//! `mse` is 0.5 · Σ_px (y − t)² per example (ConvNetJS's regression loss, gradient y − t) and
//! `bce` is −Σ_px [t ln y + (1 − t) ln(1 − y)] per example on a sigmoid output (gradient with
//! respect to the pre-activation: y − t). The reported figures are per pixel: MSE/px is
//! Σ (y − t)² / (examples · pixels); BCE/px likewise. ConvNetJS's loss is 0.5 · 784 · MSE/px.
//! `softmax` is the classifier's loss: a softmax over the output's logits and the
//! cross-entropy −Σ t ln p against one-hot labels (gradient with respect to the logits: p − t),
//! reported per example with the share of examples classified right.

use serde::{Deserialize, Serialize};

use super::activation::Activation;
use super::matmul::{for_each_chunk, Shared};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    Mse,
    Bce,
    Softmax,
}

impl Loss {
    pub fn name(self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::Bce => "bce",
            Loss::Softmax => "softmax",
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
    /// Σ of the per-example softmax cross-entropy, and how many argmaxes hit the label
    /// (classifiers only).
    pub ce: f64,
    pub correct: usize,
    /// Σ over examples of a gaussian layer's KL(N(μ, σ²) ‖ N(0, 1)) in nats; zero without one.
    pub kl: f64,
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
    LossSums { sse, bce, ce: 0.0, correct: 0, kl: 0.0 }
}

/// Softmax each row of `values` (n_classes wide) in place, stably.
pub fn softmax_rows(values: &mut [f32], n_classes: usize) {
    for row in values.chunks_exact_mut(n_classes) {
        let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let mut total = 0.0f32;
        row.iter_mut().for_each(|v| {
            *v = (*v - max).exp();
            total += *v;
        });
        row.iter_mut().for_each(|v| *v /= total);
    }
}

/// A classifier batch's sums: squared error of the probabilities, cross-entropy from the
/// logits (−Σ t·z + logsumexp z, exact where probabilities underflow), and correct argmaxes.
pub fn softmax_sums(probs: &[f32], logits: &[f32], targets: &[f32], n_classes: usize) -> LossSums {
    with_softmax(sums(probs, None, targets), probs, logits, targets, n_classes)
}

/// `sums` (the probabilities' squared error) with a classifier batch's cross-entropy and
/// correct argmaxes added.
pub fn with_softmax(mut sums: LossSums, probs: &[f32], logits: &[f32], targets: &[f32], n_classes: usize) -> LossSums {
    for ((p, z), t) in probs.chunks_exact(n_classes).zip(logits.chunks_exact(n_classes)).zip(targets.chunks_exact(n_classes)) {
        let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
        let log_total = max + z.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln();
        sums.ce += z.iter().zip(t).map(|(&zi, &ti)| ti as f64 * (log_total - zi as f64)).sum::<f64>();
        let argmax = |v: &[f32]| v.iter().enumerate().fold(0, |best, (i, &x)| if x > v[best] { i } else { best });
        sums.correct += usize::from(argmax(p) == argmax(t));
    }
    sums
}

/// Rows per task of `sums_and_grad`: fixed, so the partial sums, and the order they are added
/// in, never depend on the number of threads.
const GRAD_ROWS: usize = 16;

/// The loss sums of `outputs` (and the `logits` of a sigmoid output) against `targets`, and in
/// the same pass the output layer's gradient: grad = scale · (y − t), then times the derivative
/// of `activation` where one is given. y − t is dL/d(output) for `mse` (hence the activation's
/// derivative), dL/d(pre-activation) for `bce` on a sigmoid output, and dL/d(logits) for
/// `softmax` (y being the probabilities). Rows go over the
/// threads in chunks of GRAD_ROWS; `partials` keeps each chunk's sums until they are added in
/// chunk order.
#[allow(clippy::too_many_arguments)]
pub fn sums_and_grad(outputs: &[f32], logits: Option<&[f32]>, targets: &[f32], n_out: usize, scale: f32, activation: Option<Activation>, grad: &mut [f32], partials: &mut Vec<LossSums>) -> LossSums {
    let chunk = GRAD_ROWS * n_out.max(1);
    partials.clear();
    partials.resize(outputs.len().div_ceil(chunk), LossSums::default());
    let grad = Shared::new(&mut grad[..outputs.len()]);
    for_each_chunk(&mut partials[..], 1, |chunk_idx, slot| {
        let range = chunk_idx * chunk..((chunk_idx + 1) * chunk).min(outputs.len());
        let (y, t) = (&outputs[range.clone()], &targets[range.clone()]);
        slot[0] = sums(y, logits.map(|z| &z[range.clone()]), t);
        // SAFETY: each chunk index is one task's, so the ranges are disjoint.
        let g = unsafe { grad.part(range.start, range.len()) };
        g.iter_mut().zip(y).zip(t).for_each(|((g, &y), &t)| *g = (y - t) * scale);
        if let Some(activation) = activation {
            activation.backward(y, g);
        }
    });
    partials.iter().fold(LossSums::default(), |total, part| LossSums { sse: total.sse + part.sse, bce: total.bce + part.bce, ..total })
}

/// The objective value of a batch's sums (summed over units, not yet averaged over examples).
pub fn objective(loss: Loss, sums: &LossSums) -> f64 {
    match loss {
        Loss::Mse => 0.5 * sums.sse,
        Loss::Bce => sums.bce,
        Loss::Softmax => sums.ce,
    }
}
