//! The runnable network: parameters, batched forward and backward passes (training's batch
//! split into shards that run on the threads, their gradients added in a fixed order), and read
//! access to every layer's activations and weights. Optimisation lives in `optim.rs`; data and
//! the training loop live outside the model.

use super::activation::Activation;
use super::conv;
use super::loss::{self, Loss, LossSums};
use super::matmul::{self, Op};
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

/// How a parameter array starts: weights from N(0, std²), biases at a constant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    Normal(f32),
    Constant(f32),
}

/// One parameter array of a spec's network, before any memory is taken for it.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamLayout {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub init: Init,
}

/// Every parameter array of a checked spec, in order: each layer's own weights (fc (n_out,
/// n_in); conv and deconv (c_small, c_big · size²)), then its biases (1, channels).
fn layout(checked: &Checked) -> Vec<ParamLayout> {
    let mut arrays = Vec::new();
    for layer in &checked.layers {
        if layer.kind.tied_to().is_none() {
            // Fan-in: n_in for fc, the patch for conv, c_small · size² for deconv.
            let (rows, cols, fan_in, init_std) = match layer.kind {
                Kind::Dense { init_std, .. } => (layer.n_out, layer.n_in, layer.n_in, init_std),
                Kind::Gaussian => (2 * layer.n_out, layer.n_in, layer.n_in, None),
                Kind::Conv(g) => (g.small.0, g.patch_len(), g.patch_len(), None),
                Kind::Deconv { geometry: g, .. } => (g.small.0, g.patch_len(), g.small.0 * g.size * g.size, None),
            };
            let std = init_std.unwrap_or((1.0 / fan_in as f64).sqrt() as f32);
            arrays.push(ParamLayout { name: format!("{}.w", layer.name), rows, cols, init: Init::Normal(std) });
        }
        let bias = if layer.activation == Activation::Relu { 0.1 } else { 0.0 };
        arrays.push(ParamLayout { name: format!("{}.b", layer.name), rows: 1, cols: layer.kind.heads() * layer.out_shape.0, init: Init::Constant(bias) });
    }
    arrays
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
    /// A gaussian layer's weight on its KL term (the trainer sets it from its settings).
    beta: f32,
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
    /// Conv or deconv: its outputs are feature maps.
    pub fn is_conv(&self) -> bool {
        self.spec.kind.is_conv()
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
    heads: Vec<f32>,          // a gaussian layer's (batch, 2 · units): each row its means, then its log-variances
    noise: Vec<f32>,          // a gaussian layer's ε of the last forward pass (batch, units); empty: it gave its means
    dheads: Vec<f32>,         // scratch: dL/d(heads) (batch, 2 · units)
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

    /// A gaussian layer's means and log-variances from the last forward pass, (batch, 2 ·
    /// units), each row its means then its log-variances; empty without one.
    pub fn gaussian_heads(&self) -> &[f32] {
        &self.heads
    }
}

/// Σ over rows of KL(N(μ, σ²) ‖ N(0, 1)) = −½ Σ_j (1 + ln σ²_j − μ_j² − σ²_j), from heads
/// (rows, 2 · units) as a gaussian layer keeps them. In nats.
pub fn gaussian_kl(heads: &[f32], units: usize) -> f64 {
    let mut total = 0.0;
    for row in heads.chunks_exact(2 * units) {
        let (mean, log_var) = row.split_at(units);
        for (&m, &lv) in mean.iter().zip(log_var) {
            let (m, lv) = (m as f64, lv as f64);
            total -= 0.5 * (1.0 + lv - m * m - lv.exp());
        }
    }
    total
}

/// Channels per task when bias gradients are summed over the batch.
const BIAS_CHANNELS: usize = 64;

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
    /// The output pass's loss sums per chunk of rows (`loss::sums_and_grad`).
    partials: Vec<LossSums>,
    /// A training batch's shards (`forward_shards`), each with its own memory and gradients.
    shards: Vec<Shard>,
}

/// Rows a shard has at least (`shard_count`).
const SHARD_MIN_ROWS: usize = 25;
/// At most this many shards: each after the first keeps a gradient the size of the parameters
/// (on a 4-core machine, two shards use two of them; the budget is what holds this back).
const MAX_SHARDS: usize = 2;

/// A training step with fewer matrix-product flops than this (forward and backward, the whole
/// batch) stays on one thread, in one shard: waking the pool for it costs more than it saves,
/// and its shards would run one after the other, slower than one pass (natively: `convnetjs`
/// 68,400 examples/s in two shards on one thread against 79,300 in one). Measured natively
/// with `cargo bench` on 2 cores: `pretrain`'s first autoencoder (784-500-784 at batch 20,
/// 94 Mflop a step) ran at 0.84× on two threads, while `turnoff` (about 540 Mflop) and
/// `k-sparse` (1.2 Gflop) gain.
pub const THREADED_STEP_FLOPS: f64 = 2.0e8;

/// How many shards a training batch of `batch` rows of the network `checked` is split into: a
/// function of the network and the batch alone, never of the thread count, so the sums (each
/// shard's gradient, then the shards added in order) are the same on one thread or many. One
/// for a step under `THREADED_STEP_FLOPS`; else a power of two (so 2 threads share them
/// evenly), each shard at least `SHARD_MIN_ROWS` rows (a shard's weight-gradient products sum
/// over its rows: much shorter sums are memory-bound), at most `MAX_SHARDS`.
pub fn shard_count(checked: &Checked, batch: usize) -> usize {
    if step_uses_threads(checked, batch) {
        shards_for_rows(batch)
    } else {
        1
    }
}

/// Whether a training step of `batch` rows of the network `checked` is worth the threads (at
/// least `THREADED_STEP_FLOPS`): the one test the trainer's threads and the shards both follow.
pub fn step_uses_threads(checked: &Checked, batch: usize) -> bool {
    checked.matmul_flops_per_example() as f64 * batch as f64 >= THREADED_STEP_FLOPS
}

/// The shards a batch of `batch` rows makes where it is split at all.
fn shards_for_rows(batch: usize) -> usize {
    let mut shards = 1;
    while shards * 2 <= MAX_SHARDS && batch / (shards * 2) >= SHARD_MIN_ROWS {
        shards *= 2;
    }
    shards
}

/// Rows `start..start + len` of a batch of `batch` that shard `idx` of `shards` takes: the
/// first `batch % shards` shards one row more than the rest.
fn shard_rows(batch: usize, shards: usize, idx: usize) -> (usize, usize) {
    let (base, extra) = (batch / shards, batch % shards);
    (idx * base + idx.min(extra), base + usize::from(idx < extra))
}

/// One shard's memory: its forward pass, its backward scratch, and its gradient of every
/// parameter (same order and shapes as `params`), summed over its rows.
#[derive(Clone, Debug, Default)]
struct Shard {
    work: Workspace,
    delta: Vec<f32>,
    delta_next: Vec<f32>,
    partials: Vec<LossSums>,
    grads: Vec<Vec<f32>>,
    sums: LossSums,
    /// Rows of the whole batch the shard is part of.
    batch: usize,
}

/// Rows of each parameter's gradient one task adds up over the shards.
const REDUCE_CHUNK: usize = 4096;

impl Network {
    /// Build from a spec with ConvNetJS's initialisation: weights N(0, 1/fan_in), biases 0,
    /// or 0.1 before a relu. Weights are drawn layer by layer, row-major, from `rng`.
    pub fn new(spec: &NetSpec, rng: &mut Rng) -> Result<Network, String> {
        Network::build(spec, |array| match array.init {
            Init::Normal(std) => (0..array.rows * array.cols).map(|_| rng.normal() * std).collect(),
            Init::Constant(value) => vec![value; array.rows * array.cols],
        })
    }

    /// Build with given parameter values (a snapshot's, an import's), in the order `layout`
    /// lists them. Names, shapes and finiteness are checked against the spec first: nothing
    /// of the size a file claims is allocated before it is known to be right.
    pub fn with_values(spec: &NetSpec, values: Vec<Vec<f32>>) -> Result<Network, String> {
        let layout = layout(&spec.check()?);
        if values.len() != layout.len() {
            return Err(format!("{} parameter arrays given, but the network has {}", values.len(), layout.len()));
        }
        for (array, data) in layout.iter().zip(&values) {
            if data.len() != array.rows * array.cols {
                return Err(format!("parameter {:?} has {} numbers; the network needs [{}, {}]", array.name, data.len(), array.rows, array.cols));
            }
            if let Some(pos) = data.iter().position(|v| !v.is_finite()) {
                return Err(format!("parameter {:?}: entry {pos} is not a finite number", array.name));
            }
        }
        let mut values = values.into_iter();
        Network::build(spec, |_| values.next().expect("counted above"))
    }

    /// The parameter arrays a spec's network has, in order: name, shape, initialisation.
    pub fn layout(spec: &NetSpec) -> Result<Vec<ParamLayout>, String> {
        Ok(layout(&spec.check()?))
    }

    fn build(spec: &NetSpec, mut values: impl FnMut(&ParamLayout) -> Vec<f32>) -> Result<Network, String> {
        let checked = spec.check()?;
        let mut params = Vec::new();
        let mut layers: Vec<Layer> = Vec::new();
        let mut arrays = layout(&checked).into_iter();
        for layer_spec in &checked.layers {
            let weight = match layer_spec.kind.tied_to() {
                Some(mirror) => layers[mirror].weight,
                None => {
                    let array = arrays.next().expect("a weight array per untied layer");
                    params.push(Param::new(array.name.clone(), array.rows, array.cols, values(&array), true));
                    params.len() - 1
                }
            };
            let array = arrays.next().expect("a bias array per layer");
            params.push(Param::new(array.name.clone(), array.rows, array.cols, values(&array), false));
            layers.push(Layer { spec: layer_spec.clone(), weight, bias: params.len() - 1, top_k: layer_spec.kind.top_k(), beta: 1.0 });
        }
        Ok(Network { spec: spec.clone(), checked, params, layers, work: Workspace::default(), delta: Vec::new(), delta_next: Vec::new(), partials: Vec::new(), shards: Vec::new() })
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
    /// backward pass, the numerator of the benchmark's effective GFLOP/s.
    pub fn matmul_flops_per_example(&self) -> f64 {
        self.checked.matmul_flops_per_example() as f64
    }

    /// The validated spec's facts (layer sizes, loss, code layer).
    pub fn checked(&self) -> &Checked {
        &self.checked
    }

    /// Forward a batch x (batch, n_inputs) in the training workspace; with a mask, the masked
    /// units of one layer read 0.
    pub fn forward(&mut self, x: &[f32], batch: usize, mask: Option<&UnitMask>) {
        self.forward_noisy(x, batch, mask, None);
    }

    /// `forward`, a gaussian layer sampling its code with `noise` (ε, (batch, its units)).
    pub fn forward_noisy(&mut self, x: &[f32], batch: usize, mask: Option<&UnitMask>, noise: Option<&[f32]>) {
        let Network { layers, params, checked, work, .. } = self;
        forward_pass(layers, params, checked, work, x, batch, mask, noise, 0);
    }

    /// Forward a batch into a workspace of the caller's: the network itself is not touched, so
    /// any number of readers can look at it (panels, probes) between training steps.
    pub fn infer<'w>(&self, work: &'w mut Workspace, x: &[f32], batch: usize, mask: Option<&UnitMask>) -> &'w Workspace {
        forward_pass(&self.layers, &self.params, &self.checked, work, x, batch, mask, None, 0);
        work
    }

    /// `infer`, a gaussian layer sampling its code with `noise` (ε, (batch, its units)).
    pub fn infer_noisy<'w>(&self, work: &'w mut Workspace, x: &[f32], batch: usize, noise: &[f32]) -> &'w Workspace {
        forward_pass(&self.layers, &self.params, &self.checked, work, x, batch, None, Some(noise), 0);
        work
    }

    /// Run the layers after `layer_idx` on given activations of it (batch, its n_out): what the
    /// decoder makes of a code. The workspace then holds those layers' outputs.
    pub fn decode<'w>(&self, work: &'w mut Workspace, layer_idx: usize, activations: &[f32], batch: usize) -> &'w Workspace {
        forward_pass(&self.layers, &self.params, &self.checked, work, activations, batch, None, None, layer_idx + 1);
        work
    }

    /// Backward from targets (batch, n_outputs) after `forward`: adds this batch's gradient sums
    /// into every param's `grad` and returns the batch's loss sums.
    pub fn backward(&mut self, targets: &[f32]) -> LossSums {
        let Network { layers, params, checked, work, delta, delta_next, partials, .. } = self;
        // The gradients are taken out for the pass (which reads the values beside them).
        let mut grads: Vec<Vec<f32>> = params.iter_mut().map(|p| std::mem::take(&mut p.grad)).collect();
        let sums = backward_pass(layers, params, &mut grads, checked, work, delta, delta_next, partials, targets);
        for (p, g) in params.iter_mut().zip(grads) {
            p.grad = g;
        }
        sums
    }

    /// The forward half of a training pass over a batch x (batch, n_inputs): the batch split into
    /// `shard_count` shards that run on the threads, each a whole forward pass over its
    /// rows in memory of its own. Then `backward_shards`, each shard backward into a gradient of
    /// its own, each parameter's gradient adding the shards' in shard order: bit-identical on any
    /// thread count (shards depend on the batch only), with one hand-off to the threads per half
    /// instead of one per product. The training workspace (`activations`, `output`) is not
    /// filled: `shard_selections` gives what top-k kept.
    /// A gaussian layer samples with `noise` (ε, (batch, its units)), drawn for the whole batch
    /// before it is split, so the shards change nothing.
    pub fn forward_shards(&mut self, x: &[f32], batch: usize, noise: Option<&[f32]>) {
        let shards = shard_count(&self.checked, batch);
        self.forward_in_shards(x, batch, shards, noise);
    }

    fn forward_in_shards(&mut self, x: &[f32], batch: usize, shards: usize, noise: Option<&[f32]>) {
        let n_in = self.checked.n_inputs;
        assert_eq!(x.len(), batch * n_in, "forward_shards: x is not (batch, n_inputs)");
        self.shards.truncate(shards);
        self.shards.resize_with(shards, Shard::default);
        let Network { layers, params, checked, shards: states, .. } = self;
        matmul::for_each_chunk(&mut states[..], 1, |idx, one| {
            let (start, rows) = shard_rows(batch, shards, idx);
            one[0].batch = batch;
            let units = noise.map_or(0, |eps| eps.len() / batch.max(1));
            let eps = noise.map(|eps| &eps[start * units..(start + rows) * units]);
            forward_pass(layers, params, checked, &mut one[0].work, &x[start * n_in..(start + rows) * n_in], rows, None, eps, 0);
        });
    }

    /// The backward half after `forward_shards`, from targets (batch, n_outputs): adds the
    /// batch's gradient into every param's `grad` and returns its loss sums (the shards' sums
    /// added in shard order).
    pub fn backward_shards(&mut self, targets: &[f32]) -> LossSums {
        let shards = self.shards.len();
        let batch = self.shards.first().map_or(0, |s| s.batch);
        let n_out = self.n_outputs();
        assert_eq!(targets.len(), batch * n_out, "backward_shards: targets are not (batch, n_outputs)");
        let Network { layers, params, checked, shards: states, .. } = self;
        // The first shard adds straight into the parameters' gradients (taken out for the pass,
        // which reads the values beside them); the others into gradients of their own, added
        // after in shard order: (g + s₀) + s₁, the same on any thread count.
        states[0].grads = params.iter_mut().map(|p| std::mem::take(&mut p.grad)).collect();
        let (layers, params_ro, checked) = (&*layers, &*params, &*checked);
        matmul::for_each_chunk(&mut states[..], 1, |idx, one| {
            let shard = &mut one[0];
            let (start, rows) = shard_rows(batch, shards, idx);
            if idx > 0 {
                shard.grads.resize_with(params_ro.len(), Vec::new);
                for (g, p) in shard.grads.iter_mut().zip(params_ro) {
                    g.clear();
                    g.resize(p.value.len(), 0.0);
                }
            }
            let t = &targets[start * n_out..(start + rows) * n_out];
            shard.sums = backward_pass(layers, params_ro, &mut shard.grads, checked, &mut shard.work, &mut shard.delta, &mut shard.delta_next, &mut shard.partials, t);
        });
        // Every parameter's gradient in pieces of REDUCE_CHUNK, all pieces in one parallel loop
        // (one hand-off to the threads, not one per parameter); each piece adds the shards'
        // values in shard order.
        for (p, g) in params.iter_mut().zip(std::mem::take(&mut states[0].grads)) {
            p.grad = g;
        }
        let states = &states[1..];
        let pieces: Vec<(usize, usize)> = params.iter().enumerate().flat_map(|(p_idx, p)| (0..p.grad.len()).step_by(REDUCE_CHUNK).map(move |at| (p_idx, at))).collect();
        let targets_of: Vec<(matmul::Shared, usize)> = params.iter_mut().map(|p| (matmul::Shared::new(&mut p.grad), p.grad.len())).collect();
        matmul::for_each_task(pieces.len(), |piece| {
            let (p_idx, at) = pieces[piece];
            let (shared, len) = targets_of[p_idx];
            // SAFETY: each piece is one (parameter, range) pair, so no two tasks share an element.
            let g = unsafe { shared.part(at, REDUCE_CHUNK.min(len - at)) };
            for shard in states {
                g.iter_mut().zip(&shard.grads[p_idx][at..]).for_each(|(g, s)| *g += s);
            }
        });
        self.shards.iter().fold(LossSums::default(), |t, s| LossSums { sse: t.sse + s.sums.sse, bce: t.bce + s.sums.bce, ce: t.ce + s.sums.ce, correct: t.correct + s.sums.correct, kl: t.kl + s.sums.kl })
    }

    /// What top-k kept in layer `layer_idx` in the last `forward_shards`, shard by shard, each
    /// (shard rows, n_out); nothing for layers without top-k.
    pub fn shard_selections(&self, layer_idx: usize) -> impl Iterator<Item = &[bool]> {
        let top_k = self.layers[layer_idx].top_k().is_some();
        self.shards.iter().filter(move |_| top_k).map(move |s| &s.work.selected[layer_idx][..])
    }

    /// The training objective of a batch's sums, summed over examples (see model/loss.rs).
    /// A gaussian layer adds β · KL (per output unit where the loss is a mean, as the
    /// reconstruction term is).
    pub fn objective(&self, sums: &LossSums) -> f64 {
        let kl = self.gaussian_layer().map_or(0.0, |g| self.layers[g].beta as f64 * sums.kl);
        if self.checked.mean_loss {
            let per_unit = if self.checked.loss == Loss::Mse { sums.sse } else { loss::objective(self.checked.loss, sums) };
            return (per_unit + kl) / self.n_outputs() as f64;
        }
        loss::objective(self.checked.loss, sums) + kl
    }

    /// The gaussian (variational) layer's index, if the network has one.
    pub fn gaussian_layer(&self) -> Option<usize> {
        self.layers.iter().position(|l| l.kind() == Kind::Gaussian)
    }

    /// Set the gaussian layer's weight on its KL term (β ≥ 0); other networks ignore it.
    pub fn set_beta(&mut self, beta: f32) {
        if let Some(g) = self.gaussian_layer() {
            self.layers[g].beta = beta;
        }
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
        let mut sums = loss::sums(work.output(), logits, targets);
        if let Some(g) = self.gaussian_layer() {
            sums.kl = gaussian_kl(&work.heads, self.layers[g].n_out());
        }
        sums
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

    /// Which units of the code layer no input of `inputs` ((n, n_inputs), row after row)
    /// activates: dead, for those inputs (the turn-off grid's mark, a tour's moment).
    pub fn dead_units(&self, work: &mut Workspace, inputs: &[f32], n: usize) -> Vec<bool> {
        let code = self.code_layer();
        let units = self.layers[code].n_out();
        let acts = self.infer(work, inputs, n, None).activations(code);
        (0..units).map(|u| acts.chunks_exact(units).all(|row| row[u] == 0.0)).collect()
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

/// The backward pass after a forward pass in `work` (batch rows): adds the batch's gradient
/// of each parameter into `grads` (same order and shapes as `params`, whose values it reads)
/// and returns the batch's loss sums.
#[allow(clippy::too_many_arguments)]
fn backward_pass(layers: &[Layer], params: &[Param], grads: &mut [Vec<f32>], checked: &Checked, work: &mut Workspace, delta: &mut Vec<f32>, delta_next: &mut Vec<f32>, partials: &mut Vec<LossSums>, targets: &[f32]) -> LossSums {
    let batch = work.batch;
    let n_layers = layers.len();
    let (last_units, last_activation) = (layers[n_layers - 1].n_out(), layers[n_layers - 1].activation());
    assert_eq!(targets.len(), batch * last_units, "backward: targets are not (batch, n_outputs)");
    // The loss sums come from the same parallel pass that makes the output layer's gradient;
    // a classifier adds its cross-entropy and accuracy.
    let classifier = checked.loss == Loss::Softmax;
    let sigmoid_logits = layers[n_layers - 1].activation() == Activation::Sigmoid && !classifier;
    delta.resize(batch * last_units, 0.0);
    // d/dy of Σ (y − t)² / n is 2 (y − t) / n; of the mean cross-entropy, (p − t) / n.
    let scale = if !checked.mean_loss {
        1.0
    } else {
        (if checked.loss == Loss::Mse { 2.0 } else { 1.0 }) / last_units as f32
    };
    let through_activation = (checked.loss == Loss::Mse).then_some(last_activation);
    let logits = sigmoid_logits.then_some(&work.logits[..]);
    let fused = loss::sums_and_grad(&work.outputs[n_layers - 1], logits, targets, last_units, scale, through_activation, delta, partials);
    let mut sums = if classifier { loss::with_softmax(fused, &work.outputs[n_layers - 1], &work.logits, targets, last_units) } else { fused };
    for layer_idx in (0..n_layers).rev() {
        let layer = &layers[layer_idx];
        let (n_in, n_out) = (layer.n_in(), layer.n_out());
        let input = if layer_idx == 0 { &work.input[..] } else { &work.outputs[layer_idx - 1][..] };
        // A gaussian layer passes dL/dz to its heads, adding the KL term's gradient (β, per
        // output unit where the loss is a mean): with σ = e^(ln σ² / 2) and z = μ + σ ε,
        //   dμ = dz + β μ,    d ln σ² = dz · ε σ / 2 + β (σ² − 1) / 2
        // (KL = −½ Σ (1 + ln σ² − μ² − σ²); model/gradcheck.rs checks both against differences).
        let gaussian = layer.kind() == Kind::Gaussian;
        if gaussian {
            let beta = layer.beta * scale;
            sums.kl = gaussian_kl(&work.heads, n_out);
            work.dheads.resize(batch * 2 * n_out, 0.0);
            for (row, (dh, h)) in work.dheads.chunks_exact_mut(2 * n_out).zip(work.heads.chunks_exact(2 * n_out)).enumerate() {
                let dz = &delta[row * n_out..(row + 1) * n_out];
                let (mean, log_var) = h.split_at(n_out);
                let (d_mean, d_log_var) = dh.split_at_mut(n_out);
                for j in 0..n_out {
                    let var = log_var[j].exp();
                    let eps = work.noise.get(row * n_out + j).copied().unwrap_or(0.0);
                    d_mean[j] = dz[j] + beta * mean[j];
                    d_log_var[j] = if eps == 0.0 { 0.0 } else { dz[j] * eps * 0.5 * (0.5 * log_var[j]).exp() } + beta * 0.5 * (var - 1.0);
                }
            }
        }
        let (dy, n_dy) = if gaussian { (&work.dheads[..], 2 * n_out) } else { (&delta[..batch * n_out], n_out) };
        let positions = layer.out_shape().1 * layer.out_shape().2;
        // Bias gradients: each channel summed over the batch in row order, channels
        // spread over the threads (the same sums in the same order on any count).
        matmul::for_each_chunk(&mut grads[layer.bias], BIAS_CHANNELS, |chunk_idx, grads| {
            let first = chunk_idx * BIAS_CHANNELS * positions;
            for row in dy.chunks_exact(n_dy) {
                for (g, channel) in grads.iter_mut().zip(row[first..].chunks_exact(positions)) {
                    *g += channel.iter().sum::<f32>();
                }
            }
        });
        delta_next.resize(batch * n_in, 0.0);
        let dx = (layer_idx > 0).then_some(&mut delta_next[..]);
        // What the layer below does to dL/d(its output) to make it dL/d(its
        // pre-activation): its activation's derivative, then the units top-k dropped and
        // the masked units carry no gradient. Fused into the dx product's rows.
        let below = layer_idx.checked_sub(1).map(|below_idx| {
            let below = &layers[below_idx];
            let kept = below.top_k().map(|_| &work.selected[below_idx][..]);
            let mask = work.mask.as_ref().filter(|m| m.layer == below_idx).map(|m| &m.keep[..]);
            (below.activation(), &work.outputs[below_idx][..], kept, mask)
        });
        let to_pre_activation = |first_row: usize, rows: &mut [f32]| {
            let Some((activation, outputs, kept, mask)) = below else { return };
            let at = first_row * n_in;
            activation.backward(&outputs[at..at + rows.len()], rows);
            if let Some(kept) = kept {
                rows.iter_mut().zip(&kept[at..]).filter(|(_, &k)| !k).for_each(|(d, _)| *d = 0.0);
            }
            if let Some(keep) = mask {
                zero_masked(rows, keep);
            }
        };
        let (w, dw) = (&params[layer.weight].value, &mut grads[layer.weight]);
        match layer.kind() {
            Kind::Dense { tied_to, .. } => {
                if tied_to.is_some() {
                    matmul::backward_weights_tied(dy, input, dw, batch, n_in, n_out);
                } else {
                    matmul::backward_weights(dy, input, dw, batch, n_in, n_out);
                }
                if let Some(dx) = dx {
                    let op_w = if tied_to.is_some() { Op::T } else { Op::N };
                    matmul::gemm_then(batch, n_out, n_in, dy, Op::N, w, op_w, 0.0, dx, to_pre_activation);
                }
            }
            Kind::Conv(g) => conv::conv_backward(input, w, dy, dw, dx, &g, batch, &mut work.cols, to_pre_activation),
            Kind::Deconv { geometry: g, .. } => conv::deconv_backward(input, w, dy, dw, dx, &g, batch, &mut work.cols, to_pre_activation),
            Kind::Gaussian => {
                matmul::backward_weights(dy, input, dw, batch, n_in, 2 * n_out);
                if let Some(dx) = dx {
                    matmul::gemm_then(batch, 2 * n_out, n_in, dy, Op::N, w, Op::N, 0.0, dx, to_pre_activation);
                }
            }
        }
        if layer_idx == 0 {
            break;
        }
        std::mem::swap(delta, delta_next);
    }
    sums
}

/// One forward pass of `layers` over x (batch, n_inputs) into `work`. A gaussian layer samples
/// its code with `noise` (ε, (batch, its units)), or gives its means without.
/// `first` 0: x is the input (batch, n_inputs). `first` > 0: x is layer `first − 1`'s
/// activations (batch, its n_out), and the pass starts from there (decoding a code).
#[allow(clippy::too_many_arguments)]
fn forward_pass(layers: &[Layer], params: &[Param], checked: &Checked, work: &mut Workspace, x: &[f32], batch: usize, mask: Option<&UnitMask>, noise: Option<&[f32]>, first: usize) {
    let width = if first == 0 { checked.n_inputs } else { layers[first - 1].n_out() };
    assert_eq!(x.len(), batch * width, "forward: input is not (batch, {width})");
    if let Some(mask) = mask {
        assert_eq!(mask.keep.len(), layers[mask.layer].n_out(), "mask: wrong number of units");
    }
    let n_layers = layers.len();
    let classifier = checked.loss == Loss::Softmax;
    let keep_logits = classifier || layers[n_layers - 1].activation() == Activation::Sigmoid;
    work.batch = batch;
    work.mask = mask.cloned();
    work.outputs.resize(n_layers, Vec::new());
    work.selected.resize(n_layers, Vec::new());
    work.input.clear();
    if first == 0 {
        work.input.extend_from_slice(x);
    } else {
        work.outputs[first - 1].clear();
        work.outputs[first - 1].extend_from_slice(x);
    }
    for (layer_idx, layer) in layers.iter().enumerate().skip(first) {
        let (before, rest) = work.outputs.split_at_mut(layer_idx);
        let input = if layer_idx == 0 { &work.input[..] } else { &before[layer_idx - 1][..] };
        let (n_in, n_out) = (layer.n_in(), layer.n_out());
        let out = &mut rest[0];
        out.resize(batch * n_out, 0.0);
        let w = &params[layer.weight].value;
        let b = &params[layer.bias].value;
        // Bias and activation are applied to each block of rows as soon as its product is
        // done; the last layer keeps its pre-activations first when a loss needs them.
        let last_keeps_logits = layer_idx == n_layers - 1 && keep_logits;
        let activation = if last_keeps_logits { Activation::Linear } else { layer.activation() };
        match layer.kind() {
            Kind::Dense { tied_to, .. } => {
                let op_w = if tied_to.is_some() { Op::N } else { Op::T };
                matmul::gemm_then(batch, n_in, n_out, input, Op::N, w, op_w, 0.0, out, |_, rows| {
                    for row in rows.chunks_exact_mut(n_out) {
                        row.iter_mut().zip(b).for_each(|(v, bias)| *v += bias);
                        activation.apply(row);
                    }
                });
            }
            Kind::Conv(g) => conv::conv_forward(input, w, b, activation, out, &g, batch, &mut work.cols),
            Kind::Deconv { geometry: g, .. } => conv::deconv_forward(input, w, b, activation, out, &g, batch, &mut work.cols),
            Kind::Gaussian => {
                // heads = x · Wᵀ + b, (batch, 2 · units); then z = μ + e^(ln σ² / 2) · ε.
                let heads = &mut work.heads;
                heads.resize(batch * 2 * n_out, 0.0);
                matmul::gemm_then(batch, n_in, 2 * n_out, input, Op::N, w, Op::T, 0.0, heads, |_, rows| {
                    for row in rows.chunks_exact_mut(2 * n_out) {
                        row.iter_mut().zip(b).for_each(|(v, bias)| *v += bias);
                    }
                });
                work.noise.clear();
                if let Some(eps) = noise {
                    assert_eq!(eps.len(), batch * n_out, "forward: noise is not (batch, units)");
                    work.noise.extend_from_slice(eps);
                }
                for (row, (z, h)) in out.chunks_exact_mut(n_out).zip(heads.chunks_exact(2 * n_out)).enumerate() {
                    let (mean, log_var) = h.split_at(n_out);
                    match noise {
                        Some(eps) => {
                            let eps = &eps[row * n_out..(row + 1) * n_out];
                            for j in 0..n_out {
                                z[j] = mean[j] + (0.5 * log_var[j]).exp() * eps[j];
                            }
                        }
                        None => z.copy_from_slice(mean),
                    }
                }
            }
        }
        if last_keeps_logits {
            work.logits.clear();
            work.logits.extend_from_slice(out);
            layer.activation().apply(out);
        }
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

    /// β weighs the KL term and nothing else: at 0 the objective is the reconstruction term
    /// exactly (the KL is still measured), at 1 their sum; reading the code gives its means.
    #[test]
    fn beta_weighs_the_kl_term_alone() {
        let spec = NetSpec::from_json(
            r#"{"layers":[{"type":"input","width":4,"height":4,"depth":1},
                {"type":"fc","units":8,"activation":"relu"},{"type":"gaussian","name":"z","units":2},
                {"type":"fc","units":16,"activation":"sigmoid"},{"type":"output","loss":"bce"}]}"#,
        )
        .unwrap();
        let mut rng = Rng::from_seed(5);
        let mut net = Network::new(&spec, &mut rng).unwrap();
        let (batch, code) = (6, net.gaussian_layer().unwrap());
        assert_eq!(code, 1);
        let x: Vec<f32> = (0..batch * 16).map(|_| rng.uniform()).collect();
        let eps: Vec<f32> = (0..batch * 2).map(|_| rng.normal()).collect();
        net.forward_noisy(&x, batch, None, Some(&eps));
        let sums = net.loss_sums(&x);
        assert!(sums.kl > 0.0 && sums.bce > 0.0);
        net.set_beta(0.0);
        assert_eq!(net.objective(&sums), sums.bce);
        net.set_beta(1.0);
        assert_eq!(net.objective(&sums), sums.bce + sums.kl);
        // The sampled code differs from the means; read without noise, it is the means.
        let sampled = net.activations(code).to_vec();
        let mut work = Workspace::default();
        let read = net.infer(&mut work, &x, batch, None).activations(code).to_vec();
        let means: Vec<f32> = work.gaussian_heads().chunks_exact(4).flat_map(|h| h[..2].to_vec()).collect();
        assert_eq!(read, means);
        assert_ne!(sampled, read);
        assert_eq!(net.params()[2].rows, 4, "the gaussian layer's weights are (2 · units, n_in)");
    }

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

    /// Shards cover the batch exactly, depend on the batch alone, and split it evenly.
    #[test]
    fn shards_cover_the_batch_in_order() {
        assert_eq!([1, 20, 49, 50, 64, 99, 100, 128, 256, 4096].map(shards_for_rows), [1, 1, 1, 2, 2, 2, 2, 2, 2, 2]);
        for batch in [1, 7, 16, 50, 51, 100, 128, 333] {
            let shards = shards_for_rows(batch);
            let mut next = 0;
            for idx in 0..shards {
                let (start, rows) = shard_rows(batch, shards, idx);
                assert_eq!(start, next);
                assert!(rows >= batch / shards && rows <= batch / shards + 1);
                next += rows;
            }
            assert_eq!(next, batch);
        }
    }

    /// The sharded pass computes the same gradient and loss as one pass over the whole batch
    /// (only the order of the sums differs: within 1e-5 of the largest entry), for dense,
    /// tied, top-k, conv and softmax networks.
    #[test]
    fn shards_add_up_to_the_whole_batch_gradient() {
        let specs = [
            r#"{"layers":[{"type":"input","width":6,"height":6,"depth":1},
                {"type":"fc","name":"enc","units":20,"activation":"relu","top_k":5},
                {"type":"fc","name":"code","units":3,"activation":"tanh"},
                {"type":"fc","units":20,"activation":"relu"},
                {"type":"fc","units":36,"activation":"sigmoid","tied":"enc"},
                {"type":"output","loss":"bce"}]}"#,
            r#"{"layers":[{"type":"input","width":8,"height":8,"depth":1},
                {"type":"conv","name":"c","filters":3,"size":3,"stride":1,"pad":1,"activation":"relu"},
                {"type":"fc","units":10,"activation":"linear"},
                {"type":"output","loss":"softmax"}]}"#,
        ];
        for text in specs {
            let spec = NetSpec::from_json(text).unwrap();
            let mut rng = Rng::from_seed(3);
            let mut net = Network::new(&spec, &mut rng).unwrap();
            let batch = 51;
            let x: Vec<f32> = (0..batch * net.n_inputs()).map(|_| rng.uniform()).collect();
            let n_out = net.n_outputs();
            let t: Vec<f32> = if net.is_classifier() {
                (0..batch).flat_map(|r| (0..n_out).map(move |c| if c == r % n_out { 1.0 } else { 0.0 })).collect()
            } else {
                x.clone()
            };
            net.zero_grads();
            net.forward(&x, batch, None);
            let whole = net.backward(&t);
            let want: Vec<Vec<f32>> = net.params().iter().map(|p| p.grad.clone()).collect();
            net.zero_grads();
            net.forward_in_shards(&x, batch, 2, None);
            let sharded = net.backward_shards(&t);
            assert!((whole.sse - sharded.sse).abs() <= 1e-9 * whole.sse.max(1.0), "{} vs {}", whole.sse, sharded.sse);
            assert!((whole.bce - sharded.bce).abs() <= 1e-9 * whole.bce.abs().max(1.0));
            assert!((whole.ce - sharded.ce).abs() <= 1e-9 * whole.ce.abs().max(1.0));
            assert_eq!(whole.correct, sharded.correct);
            for (p, want) in net.params().iter().zip(&want) {
                let scale = want.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-3);
                for (i, (got, w)) in p.grad.iter().zip(want).enumerate() {
                    assert!((got - w).abs() <= 1e-5 * scale, "{}[{i}]: {got} vs {w}", p.name);
                }
            }
        }
    }

    /// Decoding a layer's activations reproduces the forward pass from there on, bit for bit.
    #[test]
    fn decoding_a_code_is_the_rest_of_the_forward_pass() {
        let spec = NetSpec::from_json(
            r#"{"layers":[{"type":"input","width":4,"height":2,"depth":1},
                {"type":"fc","name":"enc","units":5,"activation":"tanh"},
                {"type":"fc","name":"code","units":2,"activation":"linear"},
                {"type":"fc","units":5,"activation":"relu"},
                {"type":"fc","units":8,"activation":"sigmoid","tied":"enc"},
                {"type":"output","loss":"bce"}]}"#,
        )
        .unwrap();
        let mut rng = Rng::from_seed(5);
        let net = Network::new(&spec, &mut rng).unwrap();
        let x: Vec<f32> = (0..3 * 8).map(|_| rng.uniform()).collect();
        let mut work = Workspace::default();
        let (codes, output) = {
            let w = net.infer(&mut work, &x, 3, None);
            (w.activations(1).to_vec(), w.output().to_vec())
        };
        let mut other = Workspace::default();
        assert_eq!(net.decode(&mut other, 1, &codes, 3).output(), &output[..]);
        // A code of one's own: the decoder's image of the point (0.5, -1).
        let image = net.decode(&mut other, 1, &[0.5, -1.0], 1).output().to_vec();
        assert_eq!(image.len(), 8);
        assert!(image.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
