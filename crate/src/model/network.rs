//! The runnable network: parameters, batched forward and backward passes, and read access to
//! every layer's activations and weights. Optimisation lives in `optim.rs`; data and the
//! training loop live outside the model.

use super::activation::Activation;
use super::conv;
use super::loss::{self, Loss, LossSums};
use super::matmul;
use super::spec::{Checked, Kind, NetSpec};
use crate::rng::Rng;

/// One trainable array. Weights of an untied layer are (n_out, n_in); biases are (1, n_out).
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub value: Vec<f32>, // (rows, cols)
    pub grad: Vec<f32>,  // (rows, cols), summed over the batch
    /// Weight decay applies to weights, never to biases (ConvNetJS's convention).
    pub decays: bool,
}

/// A layer (fully connected, conv or deconv), pointing into the network's parameter list.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// How it computes; conv and deconv layers keep filters (c_small, c_big · size²) and one
    /// bias per output channel.
    pub kind: Kind,
    /// Output shape (channels, height, width); fc layers are (units, 1, 1).
    pub out_shape: (usize, usize, usize),
    pub name: String,
    pub n_in: usize,
    pub n_out: usize,
    pub activation: Activation,
    /// Index of the weight param: (n_out, n_in) when owned, the mirror's (n_in, n_out) when tied.
    pub weight: usize,
    pub tied: bool,
    /// Index of the bias param (1, n_out).
    pub bias: usize,
    /// How many units stay active per example (top-k sparsity); None keeps all. Training may
    /// lower it over time toward the spec's target (train.rs's k schedule).
    pub top_k: Option<usize>,
}

/// Code units forced to zero after a layer's activation (seed 000's "turn off units").
#[derive(Clone, Debug, PartialEq)]
pub struct UnitMask {
    pub layer: usize,
    /// One flag per unit of that layer: false forces the unit to 0.
    pub keep: Vec<bool>,
}

#[derive(Clone, Debug)]
pub struct Network {
    pub spec: NetSpec,
    pub checked: Checked,
    pub params: Vec<Param>,
    pub layers: Vec<Dense>,
    /// Rows in the workspace below from the last forward pass.
    batch: usize,
    input: Vec<f32>,          // (batch, n_inputs)
    outputs: Vec<Vec<f32>>,   // per layer (batch, n_out)
    logits: Vec<f32>,         // output layer pre-activations (batch, n_outputs), sigmoid outputs only
    delta: Vec<f32>,          // scratch (batch, widest layer)
    delta_next: Vec<f32>,     // scratch (batch, widest layer)
    mask: Option<UnitMask>,   // the mask of the last forward pass
    selected: Vec<Vec<bool>>, // per layer (batch, n_out): kept by top-k in the last forward pass
    cols: Vec<f32>,           // scratch for conv unfolding (patch, positions)
}

impl Network {
    /// Build from a spec with ConvNetJS's initialisation: weights N(0, 1/fan_in), biases 0,
    /// or 0.1 before a relu. Weights are drawn layer by layer, row-major, from `rng`.
    pub fn new(spec: &NetSpec, rng: &mut Rng) -> Result<Network, String> {
        let checked = spec.check()?;
        let mut params = Vec::new();
        let mut layers: Vec<Dense> = Vec::new();
        for dense in &checked.dense {
            let (weight, tied) = match dense.tied_to {
                Some(mirror) => (layers[mirror].weight, true),
                None => {
                    // Weight shape and fan-in: fc (n_out, n_in); conv and deconv (c_small, patch),
                    // whose fan-in is the patch (conv) or c_small · size² (deconv).
                    let (rows, cols, fan_in) = match dense.kind {
                        Kind::Fc => (dense.n_out, dense.n_in, dense.n_in),
                        Kind::Conv(g) => (g.small.0, g.patch_len(), g.patch_len()),
                        Kind::Deconv(g) => (g.small.0, g.patch_len(), g.small.0 * g.size * g.size),
                    };
                    let std = dense.init_std.unwrap_or((1.0 / fan_in as f64).sqrt() as f32);
                    let value = (0..rows * cols).map(|_| rng.normal() * std).collect();
                    params.push(Param::new(format!("{}.w", dense.name), rows, cols, value, true));
                    (params.len() - 1, false)
                }
            };
            let bias_value = if dense.activation == Activation::Relu { 0.1 } else { 0.0 };
            let n_bias = dense.out_shape.0;
            params.push(Param::new(format!("{}.b", dense.name), 1, n_bias, vec![bias_value; n_bias], false));
            layers.push(Dense {
                kind: dense.kind,
                out_shape: dense.out_shape,
                name: dense.name.clone(),
                n_in: dense.n_in,
                n_out: dense.n_out,
                activation: dense.activation,
                weight,
                tied,
                bias: params.len() - 1,
                top_k: dense.top_k,
            });
        }
        Ok(Network {
            spec: spec.clone(),
            checked,
            params,
            outputs: vec![Vec::new(); layers.len()],
            selected: vec![Vec::new(); layers.len()],
            cols: Vec::new(),
            layers,
            batch: 0,
            input: Vec::new(),
            logits: Vec::new(),
            delta: Vec::new(),
            delta_next: Vec::new(),
            mask: None,
        })
    }

    pub fn n_inputs(&self) -> usize {
        self.checked.n_inputs
    }

    pub fn n_outputs(&self) -> usize {
        self.layers.last().expect("validated").n_out
    }

    pub fn loss(&self) -> Loss {
        self.checked.loss
    }

    pub fn code_layer(&self) -> usize {
        self.checked.code_layer
    }

    pub fn output_is_sigmoid(&self) -> bool {
        self.layers.last().expect("validated").activation == Activation::Sigmoid && !self.is_classifier()
    }

    /// A classifier (softmax output over classes) rather than an autoencoder.
    pub fn is_classifier(&self) -> bool {
        self.checked.loss == Loss::Softmax
    }

    pub fn n_params(&self) -> usize {
        self.params.iter().map(|p| p.value.len()).sum()
    }

    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Floating-point operations of the matrix products in one training example's forward and
    /// backward pass (2 per multiply-add; the first layer computes no input gradient), the
    /// numerator of the benchmark's effective GFLOP/s.
    pub fn matmul_flops_per_example(&self) -> f64 {
        let mut flops = 0.0;
        for (layer_idx, layer) in self.layers.iter().enumerate() {
            let one_product = match layer.kind {
                Kind::Fc => 2.0 * (layer.n_in * layer.n_out) as f64,
                Kind::Conv(g) | Kind::Deconv(g) => 2.0 * (g.small.0 * g.patch_len() * g.small.1 * g.small.2) as f64,
            };
            flops += one_product * if layer_idx == 0 { 2.0 } else { 3.0 };
        }
        flops
    }

    /// Forward a batch x (batch, n_inputs); with a mask, the masked units of one layer read 0.
    pub fn forward(&mut self, x: &[f32], batch: usize, mask: Option<&UnitMask>) {
        let n_inputs = self.n_inputs();
        assert_eq!(x.len(), batch * n_inputs, "forward: input is not (batch, n_inputs)");
        if let Some(mask) = mask {
            assert_eq!(mask.keep.len(), self.layers[mask.layer].n_out, "mask: wrong number of units");
        }
        self.batch = batch;
        self.mask = mask.cloned();
        self.input.clear();
        self.input.extend_from_slice(x);
        let keep_logits = self.output_is_sigmoid() || self.is_classifier();
        let classifier = self.is_classifier();
        let n_layers = self.layers.len();
        for (layer_idx, layer) in self.layers.iter().enumerate() {
            let (before, rest) = self.outputs.split_at_mut(layer_idx);
            let input = if layer_idx == 0 { &self.input[..] } else { &before[layer_idx - 1][..] };
            let out = &mut rest[0];
            out.resize(batch * layer.n_out, 0.0);
            let w = &self.params[layer.weight].value;
            match layer.kind {
                Kind::Fc if layer.tied => matmul::forward_tied(input, w, out, batch, layer.n_in, layer.n_out),
                Kind::Fc => matmul::forward(input, w, out, batch, layer.n_in, layer.n_out),
                Kind::Conv(g) => conv::conv_forward(input, w, out, &g, batch, &mut self.cols),
                Kind::Deconv(g) => conv::deconv_forward(input, w, out, &g, batch, &mut self.cols),
            }
            // One bias per channel, over its positions (fc: one position per unit).
            let b = &self.params[layer.bias].value;
            let positions = layer.out_shape.1 * layer.out_shape.2;
            for row in out.chunks_exact_mut(layer.n_out) {
                for (channel, bias) in row.chunks_exact_mut(positions).zip(b) {
                    channel.iter_mut().for_each(|v| *v += bias);
                }
            }
            if layer_idx == n_layers - 1 && keep_logits {
                self.logits.clear();
                self.logits.extend_from_slice(out);
            }
            layer.activation.apply(out);
            if layer_idx == n_layers - 1 && classifier {
                loss::softmax_rows(out, layer.n_out);
            }
            if let Some(k) = layer.top_k.filter(|&k| k < layer.n_out) {
                keep_top_k(out, layer.n_out, k, &mut self.selected[layer_idx]);
            }
            if let Some(mask) = mask.filter(|m| m.layer == layer_idx) {
                zero_masked(out, &mask.keep);
            }
        }
    }

    /// Backward from targets (batch, n_outputs) after `forward`: adds this batch's gradient sums
    /// into every param's `grad` and returns the batch's loss sums.
    pub fn backward(&mut self, targets: &[f32]) -> LossSums {
        let batch = self.batch;
        let n_layers = self.layers.len();
        let last = &self.layers[n_layers - 1];
        assert_eq!(targets.len(), batch * last.n_out, "backward: targets are not (batch, n_outputs)");
        self.delta.resize(batch * last.n_out, 0.0);
        let sums = self.loss_sums(targets);
        loss::output_grad(&self.outputs[n_layers - 1], targets, &mut self.delta);
        if self.checked.mean_loss {
            // d/dy of Σ (y − t)² / n is 2 (y − t) / n; of the mean cross-entropy, (p − t) / n.
            let scale = if self.checked.loss == Loss::Mse { 2.0 } else { 1.0 } / last.n_out as f32;
            self.delta.iter_mut().for_each(|d| *d *= scale);
        }
        if self.checked.loss == Loss::Mse {
            last.activation.backward(&self.outputs[n_layers - 1], &mut self.delta);
        }
        for layer_idx in (0..n_layers).rev() {
            let layer = &self.layers[layer_idx];
            let input = if layer_idx == 0 { &self.input[..] } else { &self.outputs[layer_idx - 1][..] };
            let delta = &self.delta[..batch * layer.n_out];
            let positions = layer.out_shape.1 * layer.out_shape.2;
            let b = &mut self.params[layer.bias];
            for row in delta.chunks_exact(layer.n_out) {
                for (g, channel) in b.grad.iter_mut().zip(row.chunks_exact(positions)) {
                    *g += channel.iter().sum::<f32>();
                }
            }
            self.delta_next.resize(batch * layer.n_in, 0.0);
            let dx = (layer_idx > 0).then_some(&mut self.delta_next[..]);
            let Param { value: w, grad: dw, .. } = &mut self.params[layer.weight];
            match layer.kind {
                Kind::Fc => {
                    if layer.tied {
                        matmul::backward_weights_tied(delta, input, dw, batch, layer.n_in, layer.n_out);
                    } else {
                        matmul::backward_weights(delta, input, dw, batch, layer.n_in, layer.n_out);
                    }
                    if let Some(dx) = dx {
                        if layer.tied {
                            matmul::backward_input_tied(delta, w, dx, batch, layer.n_in, layer.n_out);
                        } else {
                            matmul::backward_input(delta, w, dx, batch, layer.n_in, layer.n_out);
                        }
                    }
                }
                Kind::Conv(g) => conv::conv_backward(input, w, delta, dw, dx, &g, batch, &mut self.cols),
                Kind::Deconv(g) => conv::deconv_backward(input, w, delta, dw, dx, &g, batch, &mut self.cols),
            }
            if layer_idx == 0 {
                break;
            }
            let below = &self.layers[layer_idx - 1];
            below.activation.backward(&self.outputs[layer_idx - 1], &mut self.delta_next);
            if below.top_k.is_some_and(|k| k < below.n_out) {
                // Only the kept units carry gradient: the rest were set to zero, not computed.
                let kept = &self.selected[layer_idx - 1];
                self.delta_next.iter_mut().zip(kept).filter(|(_, &k)| !k).for_each(|(d, _)| *d = 0.0);
            }
            if let Some(mask) = self.mask.as_ref().filter(|m| m.layer == layer_idx - 1) {
                zero_masked(&mut self.delta_next, &mask.keep);
            }
            std::mem::swap(&mut self.delta, &mut self.delta_next);
        }
        sums
    }

    /// The training objective of a batch's sums, summed over examples (see model/loss.rs).
    pub fn objective(&self, sums: &LossSums) -> f64 {
        if self.checked.mean_loss {
            let per_unit = if self.checked.loss == Loss::Mse { sums.sse } else { loss::objective(self.checked.loss, sums) };
            return per_unit / self.n_outputs() as f64;
        }
        loss::objective(self.checked.loss, sums)
    }

    /// The loss sums of the last forward pass against `targets` (batch, n_outputs), no gradients.
    pub fn loss_sums(&self, targets: &[f32]) -> LossSums {
        if self.is_classifier() {
            return loss::softmax_sums(self.output(), &self.logits, targets, self.n_outputs());
        }
        let logits = self.output_is_sigmoid().then_some(&self.logits[..]);
        loss::sums(self.output(), logits, targets)
    }

    /// Which units top-k kept in the last forward pass, (batch, n_out); None for layers
    /// without top-k (or with k ≥ units).
    pub fn top_k_selection(&self, layer_idx: usize) -> Option<&[bool]> {
        let layer = &self.layers[layer_idx];
        layer.top_k.filter(|&k| k < layer.n_out).map(|_| &self.selected[layer_idx][..self.batch * layer.n_out])
    }

    /// Activations of a layer from the last forward pass, (batch, n_out) row-major.
    pub fn activations(&self, layer_idx: usize) -> &[f32] {
        &self.outputs[layer_idx][..self.batch * self.layers[layer_idx].n_out]
    }

    /// The network's output from the last forward pass, (batch, n_outputs).
    pub fn output(&self) -> &[f32] {
        self.activations(self.layers.len() - 1)
    }

    /// A layer's effective weight matrix: (n_out, n_in) for fc layers, transposing a tied
    /// layer's mirror; the filters (c_small, c_big · size²) for conv and deconv layers.
    pub fn weights(&self, layer_idx: usize) -> Vec<f32> {
        let layer = &self.layers[layer_idx];
        let w = &self.params[layer.weight].value;
        if !layer.tied || layer.kind != Kind::Fc {
            return w.clone();
        }
        let mut out = vec![0.0; w.len()]; // (n_out, n_in) from the mirror's (n_in, n_out)
        for row in 0..layer.n_in {
            for col in 0..layer.n_out {
                out[col * layer.n_in + row] = w[row * layer.n_out + col];
            }
        }
        out
    }

    pub fn zero_grads(&mut self) {
        for p in &mut self.params {
            p.grad.iter_mut().for_each(|g| *g = 0.0);
        }
    }

    /// Weight-decay loss Σ l2/2 · w² + l1 · |w| over decaying params (shared weights count once).
    pub fn decay_loss(&self, l1: f32, l2: f32) -> f64 {
        self.params
            .iter()
            .filter(|p| p.decays)
            .flat_map(|p| p.value.iter())
            .map(|&w| 0.5 * l2 as f64 * (w as f64) * (w as f64) + l1 as f64 * (w as f64).abs())
            .sum()
    }

    pub fn all_finite(&self) -> bool {
        self.params.iter().all(|p| p.value.iter().all(|v| v.is_finite()))
    }
}

impl Param {
    pub fn new(name: String, rows: usize, cols: usize, value: Vec<f32>, decays: bool) -> Param {
        debug_assert_eq!(value.len(), rows * cols);
        let grad = vec![0.0; value.len()];
        Param { name, rows, cols, value, grad, decays }
    }
}

/// Zero all but the k largest values of each row (n_units wide), recording which were kept.
fn keep_top_k(values: &mut [f32], n_units: usize, k: usize, kept: &mut Vec<bool>) {
    kept.clear();
    kept.resize(values.len(), false);
    let mut order: Vec<usize> = Vec::with_capacity(n_units);
    for (row, kept_row) in values.chunks_exact_mut(n_units).zip(kept.chunks_exact_mut(n_units)) {
        order.clear();
        order.extend(0..n_units);
        // Partition so the k largest come first (ties broken by index, so exactly k stay).
        order.select_nth_unstable_by(k - 1, |&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
        order[..k].iter().for_each(|&unit_idx| kept_row[unit_idx] = true);
        row.iter_mut().zip(kept_row.iter()).filter(|(_, &k)| !k).for_each(|(v, _)| *v = 0.0);
    }
}

fn zero_masked(values: &mut [f32], keep: &[bool]) {
    for row in values.chunks_exact_mut(keep.len()) {
        row.iter_mut().zip(keep).filter(|(_, &k)| !k).for_each(|(v, _)| *v = 0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_keeps_exactly_k_units_per_example() {
        let spec = NetSpec::from_json(
            r#"{"layers":[{"type":"input","width":8,"height":8,"depth":1},
                {"type":"fc","name":"enc","units":40,"activation":"linear","top_k":7,"init_std":0.5},
                {"type":"fc","units":64,"activation":"linear","tied":"enc"},
                {"type":"output","loss":"mse"}]}"#,
        )
        .unwrap();
        let mut rng = Rng::from_seed(9);
        let mut net = Network::new(&spec, &mut rng).unwrap();
        let batch = 16;
        let x: Vec<f32> = (0..batch * 64).map(|_| rng.uniform()).collect();
        net.forward(&x, batch, None);
        let acts = net.activations(0).to_vec();
        let kept = net.top_k_selection(0).unwrap().to_vec();
        // Recompute the pre-top-k activations to check the kept ones are the largest.
        let mut dense = vec![0.0; batch * 40];
        matmul::forward(&x, &net.params[0].value, &mut dense, batch, 64, 40);
        for row in 0..batch {
            let a = &acts[row * 40..(row + 1) * 40];
            let z = &dense[row * 40..(row + 1) * 40];
            assert_eq!(a.iter().filter(|v| **v != 0.0).count(), 7, "row {row}");
            assert_eq!(kept[row * 40..(row + 1) * 40].iter().filter(|k| **k).count(), 7);
            let smallest_kept = (0..40).filter(|&u| kept[row * 40 + u]).map(|u| z[u]).fold(f32::INFINITY, f32::min);
            let largest_dropped = (0..40).filter(|&u| !kept[row * 40 + u]).map(|u| z[u]).fold(f32::NEG_INFINITY, f32::max);
            assert!(smallest_kept >= largest_dropped);
        }
        // The gradient of the encoder weights is zero in every row of a never-kept unit.
        net.zero_grads();
        net.backward(&x);
        let never: Vec<usize> = (0..40).filter(|&u| (0..batch).all(|r| !kept[r * 40 + u])).collect();
        // The tied decoder also feeds gradient into W; with a fixed selection, the encoder
        // side of a dropped unit contributes nothing, so compare against the decoder-only part.
        let mut decoder_only = vec![0.0; 40 * 64];
        let delta_out: Vec<f32> = net.output().iter().zip(&x).map(|(y, t)| y - t).collect();
        matmul::backward_weights_tied(&delta_out, &acts, &mut decoder_only, batch, 40, 64);
        for &u in &never {
            for i in 0..64 {
                let (got, want) = (net.params[0].grad[u * 64 + i], decoder_only[u * 64 + i]);
                assert!((got - want).abs() < 1e-5, "unit {u} input {i}: {got} vs {want}");
            }
        }
    }
}
