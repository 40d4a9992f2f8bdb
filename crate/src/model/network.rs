//! The runnable network: parameters, batched forward and backward passes, and read access to
//! every layer's activations and weights. Optimisation lives in `optim.rs`; data and the
//! training loop live outside the model.

use super::activation::Activation;
use super::conv;
use super::loss::{self, Loss, LossSums};
use super::matmul;
use super::spec::{Checked, CheckedLayer, Kind, NetSpec};
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

/// A computing layer: what the spec says of it (dense, conv or deconv, sizes, activation) and
/// where its parameters sit in the network's list. Callers read it; only the network changes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// The validated facts: name, n_in, n_out, activation, kind, out_shape.
    pub spec: CheckedLayer,
    /// Index of the weight param: (n_out, n_in) when owned, the mirror's (n_in, n_out) when
    /// tied; conv and deconv filters (c_small, c_big · size²).
    weight: usize,
    /// Index of the bias param (1, channels).
    bias: usize,
    /// The k in force for a top-k layer (training may anneal it toward the spec's k).
    top_k: Option<usize>,
}

impl Layer {
    pub fn name(&self) -> &str {
        &self.spec.name
    }
    pub fn n_in(&self) -> usize {
        self.spec.n_in
    }
    pub fn n_out(&self) -> usize {
        self.spec.n_out
    }
    pub fn activation(&self) -> Activation {
        self.spec.activation
    }
    pub fn kind(&self) -> Kind {
        self.spec.kind
    }
    /// (channels, height, width); fc layers are (units, 1, 1).
    pub fn out_shape(&self) -> (usize, usize, usize) {
        self.spec.out_shape
    }
    pub fn is_dense(&self) -> bool {
        self.spec.kind.is_dense()
    }
    /// Uses another layer's weights (transposed).
    pub fn tied(&self) -> bool {
        self.spec.kind.tied_to().is_some()
    }
    /// The k in force, when it keeps fewer than all its units.
    pub fn top_k(&self) -> Option<usize> {
        self.top_k.filter(|&k| k < self.spec.n_out)
    }
}

/// Code units forced to zero after a layer's activation (seed 000's "turn off units").
#[derive(Clone, Debug, PartialEq)]
pub struct UnitMask {
    pub layer: usize,
    /// One flag per unit of that layer: false forces the unit to 0.
    pub keep: Vec<bool>,
}

/// The memory one forward (and backward) pass works in. The network keeps one for training;
/// anyone may forward through a shared network into a workspace of their own (`infer`).
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    /// Rows in the buffers below from the last forward pass.
    batch: usize,
    input: Vec<f32>,          // (batch, n_inputs)
    outputs: Vec<Vec<f32>>,   // per layer (batch, n_out)
    logits: Vec<f32>,         // output layer pre-activations (batch, n_outputs), sigmoid and softmax outputs
    mask: Option<UnitMask>,   // the mask of the last forward pass
    selected: Vec<Vec<bool>>, // per layer (batch, n_out): kept by top-k in the last forward pass
    cols: Vec<f32>,           // scratch for conv unfolding (patch, positions)
}

impl Workspace {
    /// Activations of a layer from the last forward pass, (batch, n_out) row-major.
    pub fn activations(&self, layer_idx: usize) -> &[f32] {
        &self.outputs[layer_idx]
    }

    /// The output of the last forward pass, (batch, n_outputs).
    pub fn output(&self) -> &[f32] {
        self.outputs.last().map_or(&[], |o| &o[..])
    }

    /// Rows of the last forward pass.
    pub fn batch(&self) -> usize {
        self.batch
    }
}

#[derive(Clone, Debug)]
pub struct Network {
    spec: NetSpec,
    checked: Checked,
    params: Vec<Param>,
    layers: Vec<Layer>,
    /// The training pass's memory.
    work: Workspace,
    delta: Vec<f32>,      // scratch (batch, widest layer)
    delta_next: Vec<f32>, // scratch (batch, widest layer)
}

impl Network {
    /// Build from a spec with ConvNetJS's initialisation: weights N(0, 1/fan_in), biases 0,
    /// or 0.1 before a relu. Weights are drawn layer by layer, row-major, from `rng`.
    pub fn new(spec: &NetSpec, rng: &mut Rng) -> Result<Network, String> {
        let checked = spec.check()?;
        let mut params = Vec::new();
        let mut layers: Vec<Layer> = Vec::new();
        for layer_spec in &checked.layers {
            let weight = match layer_spec.kind.tied_to() {
                Some(mirror) => layers[mirror].weight,
                None => {
                    // Weight shape and fan-in: fc (n_out, n_in); conv and deconv (c_small, patch),
                    // whose fan-in is the patch (conv) or c_small · size² (deconv).
                    let (rows, cols, fan_in, init_std) = match layer_spec.kind {
                        Kind::Dense { init_std, .. } => (layer_spec.n_out, layer_spec.n_in, layer_spec.n_in, init_std),
                        Kind::Conv(g) => (g.small.0, g.patch_len(), g.patch_len(), None),
                        Kind::Deconv { geometry: g, .. } => (g.small.0, g.patch_len(), g.small.0 * g.size * g.size, None),
                    };
                    let std = init_std.unwrap_or((1.0 / fan_in as f64).sqrt() as f32);
                    let value = (0..rows * cols).map(|_| rng.normal() * std).collect();
                    params.push(Param::new(format!("{}.w", layer_spec.name), rows, cols, value, true));
                    params.len() - 1
                }
            };
            let bias_value = if layer_spec.activation == Activation::Relu { 0.1 } else { 0.0 };
            let n_bias = layer_spec.out_shape.0;
            params.push(Param::new(format!("{}.b", layer_spec.name), 1, n_bias, vec![bias_value; n_bias], false));
            layers.push(Layer { spec: layer_spec.clone(), weight, bias: params.len() - 1, top_k: layer_spec.kind.top_k() });
        }
        Ok(Network { spec: spec.clone(), checked, params, layers, work: Workspace::default(), delta: Vec::new(), delta_next: Vec::new() })
    }

    /// The definition the network was built from.
    pub fn spec(&self) -> &NetSpec {
        &self.spec
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Every trainable array, in the order snapshots store them.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The arrays themselves, for an optimiser's update and a trainer's rollback: shapes stay.
    pub fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    /// Replace every parameter's values (snapshots, imports), checking names and shapes first:
    /// on an error nothing has changed.
    pub fn set_params(&mut self, values: &[(&str, [usize; 2], &[f32])]) -> Result<(), String> {
        if values.len() != self.params.len() {
            return Err(format!("{} parameter arrays given, but the network has {}", values.len(), self.params.len()));
        }
        for (param, (name, shape, data)) in self.params.iter().zip(values) {
            if *name != param.name {
                return Err(format!("parameter {name:?} found where the network needs {:?}", param.name));
            }
            if *shape != [param.rows, param.cols] || data.len() != param.value.len() {
                return Err(format!("parameter {name:?} has shape {shape:?} and {} numbers; the network needs [{}, {}]", data.len(), param.rows, param.cols));
            }
            if let Some(pos) = data.iter().position(|v| !v.is_finite()) {
                return Err(format!("parameter {name:?}: entry {pos} is not a finite number"));
            }
        }
        for (param, (_, _, data)) in self.params.iter_mut().zip(values) {
            param.value.copy_from_slice(data);
        }
        Ok(())
    }

    /// Copy a layer's own weights and biases from `source`'s layer `source_idx`, which must
    /// have the same shapes (greedy pretraining keeps each trained encoder this way).
    pub fn copy_layer_from(&mut self, layer_idx: usize, source: &Network, source_idx: usize) -> Result<(), String> {
        let (to, from) = (&self.layers[layer_idx], &source.layers[source_idx]);
        if to.tied() {
            return Err(format!("layer {:?} is tied: it has no weights of its own", to.name()));
        }
        for (to_idx, from_idx) in [(to.weight, from.weight), (to.bias, from.bias)] {
            let (a, b) = (&self.params[to_idx], &source.params[from_idx]);
            if (a.rows, a.cols) != (b.rows, b.cols) {
                return Err(format!("{} is ({}, {}) but {} is ({}, {})", a.name, a.rows, a.cols, b.name, b.rows, b.cols));
            }
        }
        for (to_idx, from_idx) in [(to.weight, from.weight), (to.bias, from.bias)] {
            self.params[to_idx].value.copy_from_slice(&source.params[from_idx].value);
        }
        Ok(())
    }

    /// Set the k a top-k layer keeps (at least 1, at most its units); other layers ignore it.
    pub fn set_top_k(&mut self, layer_idx: usize, k: usize) {
        let layer = &mut self.layers[layer_idx];
        if layer.spec.kind.top_k().is_some() {
            layer.top_k = Some(k.clamp(1, layer.spec.n_out));
        }
    }

    pub fn n_inputs(&self) -> usize {
        self.checked.n_inputs
    }

    /// (width, height, depth) of one input.
    pub fn input_shape(&self) -> (usize, usize, usize) {
        self.checked.input_shape
    }

    pub fn n_outputs(&self) -> usize {
        self.layers.last().expect("validated").n_out()
    }

    pub fn code_layer(&self) -> usize {
        self.checked.code_layer
    }

    pub fn output_is_sigmoid(&self) -> bool {
        self.layers.last().expect("validated").activation() == Activation::Sigmoid && !self.is_classifier()
    }

    /// A classifier (softmax output over classes) rather than an autoencoder.
    pub fn is_classifier(&self) -> bool {
        self.checked.loss == Loss::Softmax
    }

    pub fn n_params(&self) -> usize {
        self.params.iter().map(|p| p.value.len()).sum()
    }

    /// Floating-point operations of the matrix products in one training example's forward and
    /// backward pass (2 per multiply-add; the first layer computes no input gradient), the
    /// numerator of the benchmark's effective GFLOP/s.
    pub fn matmul_flops_per_example(&self) -> f64 {
        let mut flops = 0.0;
        for (layer_idx, layer) in self.layers.iter().enumerate() {
            let one_product = match layer.kind().geometry() {
                None => 2.0 * (layer.n_in() * layer.n_out()) as f64,
                Some(g) => 2.0 * (g.small.0 * g.patch_len() * g.small.1 * g.small.2) as f64,
            };
            flops += one_product * if layer_idx == 0 { 2.0 } else { 3.0 };
        }
        flops
    }

    /// Forward a batch x (batch, n_inputs) in the training workspace; with a mask, the masked
    /// units of one layer read 0.
    pub fn forward(&mut self, x: &[f32], batch: usize, mask: Option<&UnitMask>) {
        let Network { layers, params, checked, work, .. } = self;
        forward_pass(layers, params, checked, work, x, batch, mask);
    }

    /// Forward a batch into a workspace of the caller's: the network itself is not touched, so
    /// any number of readers can look at it (panels, probes) between training steps.
    pub fn infer<'w>(&self, work: &'w mut Workspace, x: &[f32], batch: usize, mask: Option<&UnitMask>) -> &'w Workspace {
        forward_pass(&self.layers, &self.params, &self.checked, work, x, batch, mask);
        work
    }

    /// Backward from targets (batch, n_outputs) after `forward`: adds this batch's gradient sums
    /// into every param's `grad` and returns the batch's loss sums.
    pub fn backward(&mut self, targets: &[f32]) -> LossSums {
        let batch = self.work.batch;
        let n_layers = self.layers.len();
        let (last_units, last_activation) = (self.layers[n_layers - 1].n_out(), self.layers[n_layers - 1].activation());
        assert_eq!(targets.len(), batch * last_units, "backward: targets are not (batch, n_outputs)");
        let sums = self.loss_sums(targets);
        let Network { layers, params, checked, work, delta, delta_next, .. } = self;
        delta.resize(batch * last_units, 0.0);
        loss::output_grad(&work.outputs[n_layers - 1], targets, delta);
        if checked.mean_loss {
            // d/dy of Σ (y − t)² / n is 2 (y − t) / n; of the mean cross-entropy, (p − t) / n.
            let scale = if checked.loss == Loss::Mse { 2.0 } else { 1.0 } / last_units as f32;
            delta.iter_mut().for_each(|d| *d *= scale);
        }
        if checked.loss == Loss::Mse {
            last_activation.backward(&work.outputs[n_layers - 1], delta);
        }
        for layer_idx in (0..n_layers).rev() {
            let layer = &layers[layer_idx];
            let (n_in, n_out) = (layer.n_in(), layer.n_out());
            let input = if layer_idx == 0 { &work.input[..] } else { &work.outputs[layer_idx - 1][..] };
            let dy = &delta[..batch * n_out];
            let positions = layer.out_shape().1 * layer.out_shape().2;
            let b = &mut params[layer.bias];
            for row in dy.chunks_exact(n_out) {
                for (g, channel) in b.grad.iter_mut().zip(row.chunks_exact(positions)) {
                    *g += channel.iter().sum::<f32>();
                }
            }
            delta_next.resize(batch * n_in, 0.0);
            let dx = (layer_idx > 0).then_some(&mut delta_next[..]);
            let Param { value: w, grad: dw, .. } = &mut params[layer.weight];
            match layer.kind() {
                Kind::Dense { tied_to, .. } => {
                    if tied_to.is_some() {
                        matmul::backward_weights_tied(dy, input, dw, batch, n_in, n_out);
                    } else {
                        matmul::backward_weights(dy, input, dw, batch, n_in, n_out);
                    }
                    if let Some(dx) = dx {
                        if tied_to.is_some() {
                            matmul::backward_input_tied(dy, w, dx, batch, n_in, n_out);
                        } else {
                            matmul::backward_input(dy, w, dx, batch, n_in, n_out);
                        }
                    }
                }
                Kind::Conv(g) => conv::conv_backward(input, w, dy, dw, dx, &g, batch, &mut work.cols),
                Kind::Deconv { geometry: g, .. } => conv::deconv_backward(input, w, dy, dw, dx, &g, batch, &mut work.cols),
            }
            if layer_idx == 0 {
                break;
            }
            let below = &layers[layer_idx - 1];
            below.activation().backward(&work.outputs[layer_idx - 1], delta_next);
            if below.top_k().is_some() {
                // Only the kept units carry gradient: the rest were set to zero, not computed.
                let kept = &work.selected[layer_idx - 1];
                delta_next.iter_mut().zip(kept).filter(|(_, &k)| !k).for_each(|(d, _)| *d = 0.0);
            }
            if let Some(mask) = work.mask.as_ref().filter(|m| m.layer == layer_idx - 1) {
                zero_masked(delta_next, &mask.keep);
            }
            std::mem::swap(delta, delta_next);
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

    /// The loss sums of the last training forward pass against `targets` (batch, n_outputs).
    pub fn loss_sums(&self, targets: &[f32]) -> LossSums {
        self.loss_sums_of(&self.work, targets)
    }

    /// The loss sums of a forward pass in `work` against `targets` (batch, n_outputs).
    pub fn loss_sums_of(&self, work: &Workspace, targets: &[f32]) -> LossSums {
        if self.is_classifier() {
            return loss::softmax_sums(work.output(), &work.logits, targets, self.n_outputs());
        }
        let logits = self.output_is_sigmoid().then_some(&work.logits[..]);
        loss::sums(work.output(), logits, targets)
    }

    /// Which units top-k kept in the last training forward pass, (batch, n_out); None for
    /// layers without top-k (or with k ≥ units).
    pub fn top_k_selection(&self, layer_idx: usize) -> Option<&[bool]> {
        self.layers[layer_idx].top_k().map(|_| &self.work.selected[layer_idx][..])
    }

    /// Activations of a layer from the last training forward pass, (batch, n_out) row-major.
    pub fn activations(&self, layer_idx: usize) -> &[f32] {
        self.work.activations(layer_idx)
    }

    /// The network's output from the last training forward pass, (batch, n_outputs).
    pub fn output(&self) -> &[f32] {
        self.work.output()
    }

    /// A layer's effective weight matrix: (n_out, n_in) for fc layers, transposing a tied
    /// layer's mirror; the filters (c_small, c_big · size²) for conv and deconv layers.
    pub fn weights(&self, layer_idx: usize) -> Vec<f32> {
        let layer = &self.layers[layer_idx];
        let w = &self.params[layer.weight].value;
        if !layer.tied() || !layer.is_dense() {
            return w.clone();
        }
        let (n_in, n_out) = (layer.n_in(), layer.n_out());
        let mut out = vec![0.0; w.len()]; // (n_out, n_in) from the mirror's (n_in, n_out)
        for row in 0..n_in {
            for col in 0..n_out {
                out[col * n_in + row] = w[row * n_out + col];
            }
        }
        out
    }

    /// A layer's biases: one per unit (fc) or per output channel (conv, deconv).
    pub fn biases(&self, layer_idx: usize) -> &[f32] {
        &self.params[self.layers[layer_idx].bias].value
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

/// One forward pass of `layers` over x (batch, n_inputs) into `work`.
fn forward_pass(layers: &[Layer], params: &[Param], checked: &Checked, work: &mut Workspace, x: &[f32], batch: usize, mask: Option<&UnitMask>) {
    assert_eq!(x.len(), batch * checked.n_inputs, "forward: input is not (batch, n_inputs)");
    if let Some(mask) = mask {
        assert_eq!(mask.keep.len(), layers[mask.layer].n_out(), "mask: wrong number of units");
    }
    let n_layers = layers.len();
    let classifier = checked.loss == Loss::Softmax;
    let keep_logits = classifier || layers[n_layers - 1].activation() == Activation::Sigmoid;
    work.batch = batch;
    work.mask = mask.cloned();
    work.input.clear();
    work.input.extend_from_slice(x);
    work.outputs.resize(n_layers, Vec::new());
    work.selected.resize(n_layers, Vec::new());
    for (layer_idx, layer) in layers.iter().enumerate() {
        let (before, rest) = work.outputs.split_at_mut(layer_idx);
        let input = if layer_idx == 0 { &work.input[..] } else { &before[layer_idx - 1][..] };
        let (n_in, n_out) = (layer.n_in(), layer.n_out());
        let out = &mut rest[0];
        out.resize(batch * n_out, 0.0);
        let w = &params[layer.weight].value;
        match layer.kind() {
            Kind::Dense { tied_to: Some(_), .. } => matmul::forward_tied(input, w, out, batch, n_in, n_out),
            Kind::Dense { .. } => matmul::forward(input, w, out, batch, n_in, n_out),
            Kind::Conv(g) => conv::conv_forward(input, w, out, &g, batch, &mut work.cols),
            Kind::Deconv { geometry: g, .. } => conv::deconv_forward(input, w, out, &g, batch, &mut work.cols),
        }
        // One bias per channel, over its positions (fc: one position per unit).
        let b = &params[layer.bias].value;
        let positions = layer.out_shape().1 * layer.out_shape().2;
        for row in out.chunks_exact_mut(n_out) {
            for (channel, bias) in row.chunks_exact_mut(positions).zip(b) {
                channel.iter_mut().for_each(|v| *v += bias);
            }
        }
        if layer_idx == n_layers - 1 && keep_logits {
            work.logits.clear();
            work.logits.extend_from_slice(out);
        }
        layer.activation().apply(out);
        if layer_idx == n_layers - 1 && classifier {
            loss::softmax_rows(out, n_out);
        }
        if let Some(k) = layer.top_k() {
            keep_top_k(out, n_out, k, &mut work.selected[layer_idx]);
        }
        if let Some(mask) = mask.filter(|m| m.layer == layer_idx) {
            zero_masked(out, &mask.keep);
        }
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
        matmul::forward(&x, &net.params()[0].value, &mut dense, batch, 64, 40);
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
                let (got, want) = (net.params()[0].grad[u * 64 + i], decoder_only[u * 64 + i]);
                assert!((got - want).abs() < 1e-5, "unit {u} input {i}: {got} vs {want}");
            }
        }
    }
}
