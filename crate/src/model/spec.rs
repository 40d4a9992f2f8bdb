//! The declarative network definition (JSON), in the spirit of ConvNetJS's layer definitions,
//! and its validation. Building the runnable network from a valid spec is `network.rs`'s job.

use serde::{Deserialize, Serialize};

use super::activation::Activation;
use super::loss::Loss;

/// A whole network: an `input` layer first, then fully connected layers, then an `output`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetSpec {
    pub layers: Vec<LayerSpec>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerSpec {
    /// The image (or vector) going in: width × height × depth numbers.
    Input { width: usize, height: usize, depth: usize },
    /// A fully connected layer: units = activation(W · x + b).
    Fc {
        /// Unique name; defaults to `fc{index}` where index is the layer's position.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        units: usize,
        activation: Activation,
        /// Use the transpose of the named earlier layer's weights (W* = Wᵀ); the bias stays own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tied: Option<String>,
        /// Marks the bottleneck (code) layer.
        #[serde(default, skip_serializing_if = "is_false")]
        code: bool,
        /// Keep only the k largest activations of each example, zeroing the rest (k-sparse
        /// autoencoders, Makhzani & Frey 2013).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        top_k: Option<usize>,
        /// Initial weights N(0, init_std²) instead of ConvNetJS's N(0, 1/fan_in).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        init_std: Option<f32>,
    },
    /// A convolution: `filters` output channels, square kernels of `size`, `stride`, and `pad`
    /// zeros around the input; output side (side + 2·pad − size) / stride + 1.
    Conv {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        filters: usize,
        size: usize,
        #[serde(default = "one")]
        stride: usize,
        #[serde(default)]
        pad: usize,
        activation: Activation,
        #[serde(default, skip_serializing_if = "is_false")]
        code: bool,
    },
    /// A transposed convolution ("deconvolution"), the conv's adjoint: output side
    /// (side − 1)·stride − 2·pad + size. With `tied`, it uses the named conv layer's filters
    /// (which must map this layer's output shape to its input shape).
    Deconv {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        filters: usize,
        size: usize,
        #[serde(default = "one")]
        stride: usize,
        #[serde(default)]
        pad: usize,
        activation: Activation,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tied: Option<String>,
        #[serde(default, skip_serializing_if = "is_false")]
        code: bool,
    },
    /// A stochastic code (a variational autoencoder's, Kingma & Welling 2014): two linear
    /// heads read the input, a mean μ and a log-variance ln σ² per unit, and the layer outputs
    /// z = μ + σ · ε with ε ~ N(0, 1) from the run's generator while training (the mean when
    /// reading the code). Training adds β · KL(N(μ, σ²) ‖ N(0, 1)) per example to the loss.
    Gaussian {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        units: usize,
        #[serde(default, skip_serializing_if = "is_false")]
        code: bool,
    },
    /// The loss the last layer's output is trained with; an autoencoder's target is its input.
    /// `mean: true` averages the loss over output units instead of summing it (`mse` then is
    /// exactly MSE/px per example, as Keras defines mean squared error).
    Output {
        loss: Loss,
        #[serde(default, skip_serializing_if = "is_false")]
        mean: bool,
    },
}

fn one() -> usize {
    1
}

/// How a layer computes: fully connected, or a convolution between a "big" image side and a
/// "small" one (conv: big → small; deconv: small → big). Shapes are (channels, height, width).
/// Conv and deconv layers keep their filters as (c_small, c_big · size · size).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// Fully connected: weights (n_out, n_in) of its own, or the transpose of `tied_to`'s.
    Dense {
        /// Index of the earlier layer whose weights this one uses transposed.
        tied_to: Option<usize>,
        /// Keep the k largest activations of each example (k-sparse).
        top_k: Option<usize>,
        /// Initial weights N(0, init_std²) instead of N(0, 1/fan_in).
        init_std: Option<f32>,
    },
    Conv(Geometry),
    /// The transposed convolution; with `tied_to`, the named conv layer's filters.
    Deconv { geometry: Geometry, tied_to: Option<usize> },
    /// A stochastic code (`LayerSpec::Gaussian`): weights (2 · n_out, n_in), the mean heads'
    /// rows first, then the log-variance heads'; biases likewise (1, 2 · n_out).
    Gaussian,
}

impl Kind {
    /// The layer type's name in specs: "fc", "conv" or "deconv".
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Dense { .. } => "fc",
            Kind::Conv(_) => "conv",
            Kind::Deconv { .. } => "deconv",
            Kind::Gaussian => "gaussian",
        }
    }

    /// Rows of the layer's weights (fc, gaussian) per output unit: 2 for a gaussian layer's
    /// two heads, else 1.
    pub fn heads(&self) -> usize {
        if matches!(self, Kind::Gaussian) {
            2
        } else {
            1
        }
    }

    pub fn is_dense(&self) -> bool {
        matches!(self, Kind::Dense { .. })
    }

    /// A convolution or transposed convolution (feature maps, not units).
    pub fn is_conv(&self) -> bool {
        self.geometry().is_some()
    }

    /// The window of a conv or deconv layer.
    pub fn geometry(&self) -> Option<Geometry> {
        match *self {
            Kind::Dense { .. } | Kind::Gaussian => None,
            Kind::Conv(g) | Kind::Deconv { geometry: g, .. } => Some(g),
        }
    }

    pub fn tied_to(&self) -> Option<usize> {
        match *self {
            Kind::Dense { tied_to, .. } | Kind::Deconv { tied_to, .. } => tied_to,
            Kind::Conv(_) | Kind::Gaussian => None,
        }
    }

    /// The spec's k for a top-k layer.
    pub fn top_k(&self) -> Option<usize> {
        match *self {
            Kind::Dense { top_k, .. } => top_k,
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub big: (usize, usize, usize),
    pub small: (usize, usize, usize),
    pub size: usize,
    pub stride: usize,
    pub pad: usize,
}

impl Geometry {
    /// Rows of the unfolded (im2col) matrix: c_big · size².
    pub fn patch_len(&self) -> usize {
        self.big.0 * self.size * self.size
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// A spec that passed validation, with the facts the network builder needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    pub n_inputs: usize,
    pub input_shape: (usize, usize, usize), // (width, height, depth)
    /// The computing layers, input and output excluded.
    pub layers: Vec<CheckedLayer>,
    pub loss: Loss,
    /// Average the loss over output units (see `LayerSpec::Output`).
    pub mean_loss: bool,
    /// Index into `layers` of the code layer.
    pub code_layer: usize,
}

impl Checked {
    /// Floating-point operations of the matrix products in one training example's forward and
    /// backward pass (2 per multiply-add; the first layer computes no input gradient), in u64.
    pub fn matmul_flops_per_example(&self) -> u64 {
        let mut flops = 0u64;
        for (layer_idx, layer) in self.layers.iter().enumerate() {
            let one_product = match layer.kind.geometry() {
                None => product(&[2, layer.n_in, layer.kind.heads() * layer.n_out]),
                Some(g) => product(&[2, g.small.0, g.patch_len(), g.small.1 * g.small.2]),
            };
            flops = flops.saturating_add(one_product.saturating_mul(if layer_idx == 0 { 2 } else { 3 }));
        }
        flops
    }

    /// Trainable numbers: weights that are not tied, and biases.
    pub fn n_params(&self) -> u64 {
        self.layers
            .iter()
            .map(|l| {
                let weights = match (l.kind, l.kind.tied_to()) {
                    (_, Some(_)) => 0,
                    (Kind::Dense { .. } | Kind::Gaussian, None) => product(&[l.n_in, l.kind.heads() * l.n_out]),
                    (Kind::Conv(g), None) | (Kind::Deconv { geometry: g, .. }, None) => product(&[g.small.0, g.patch_len()]),
                };
                weights.saturating_add((l.kind.heads() * l.out_shape.0) as u64)
            })
            .fold(0, u64::saturating_add)
    }
}

/// One computing layer of a valid spec: its name, sizes, activation and kind.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedLayer {
    pub name: String,
    pub n_in: usize,
    pub n_out: usize,
    pub activation: Activation,
    pub kind: Kind,
    /// Output shape (channels, height, width); fc layers are (units, 1, 1).
    pub out_shape: (usize, usize, usize),
}

/// Refuse absurd sizes before allocating anything.
pub const MAX_UNITS: usize = 1 << 16;
pub const MAX_PARAMS: usize = 16 << 20;
/// Initial weights wider than this saturate every unit they feed; far wider ones overflow.
pub const MAX_INIT_STD: f32 = 10.0;
/// A conv or deconv layer's outputs (channels × height × width) at most.
pub const MAX_LAYER_OUTPUTS: usize = MAX_UNITS * 16;

fn layer_prefix(layer: &LayerSpec) -> &'static str {
    match layer {
        LayerSpec::Conv { .. } => "conv",
        LayerSpec::Deconv { .. } => "deconv",
        LayerSpec::Gaussian { .. } => "gaussian",
        _ => "fc",
    }
}

/// The product of sizes, in u64 (each factor is at most a few thousand, at most four of them,
/// so it cannot overflow; it saturates rather than wrap all the same).
fn product(factors: &[usize]) -> u64 {
    factors.iter().fold(1u64, |acc, &f| acc.saturating_mul(f as u64))
}

/// A conv or deconv layer's number of outputs, if it is within the limit.
fn checked_units(here: &str, shape: &[usize]) -> Result<usize, String> {
    let n = product(shape);
    if n == 0 || n > MAX_LAYER_OUTPUTS as u64 {
        return Err(format!("{here}: {n} outputs ({} × {} × {}) is outside 1..{MAX_LAYER_OUTPUTS}", shape[0], shape[1], shape[2]));
    }
    Ok(n as usize)
}

fn check_window(here: &str, filters: usize, size: usize, stride: usize, pad: usize) -> Result<(), String> {
    if filters == 0 || filters > 4096 {
        return Err(format!("{here}: filters must be between 1 and 4096, got {filters}"));
    }
    if size == 0 || size > 256 || stride == 0 || stride > size.max(1) || pad >= size {
        return Err(format!("{here}: need 1 ≤ size ≤ 256, 1 ≤ stride ≤ size and pad < size; got size {size}, stride {stride}, pad {pad}"));
    }
    Ok(())
}

impl NetSpec {
    /// Parse JSON text, naming the layer and field of the first problem.
    pub fn from_json(text: &str) -> Result<NetSpec, String> {
        let value = crate::json::parse(text, "network spec")?;
        NetSpec::from_value(&value)
    }

    pub fn from_value(value: &serde_json::Value) -> Result<NetSpec, String> {
        let object = value.as_object().ok_or("network spec: expected an object with a \"layers\" array")?;
        if let Some(key) = object.keys().find(|k| k.as_str() != "layers") {
            return Err(format!("network spec: unknown field {key:?} (only \"layers\" is allowed)"));
        }
        let layers = object
            .get("layers")
            .and_then(|l| l.as_array())
            .ok_or("network spec: missing \"layers\" array")?;
        let mut parsed = Vec::with_capacity(layers.len());
        for (idx, layer) in layers.iter().enumerate() {
            let spec = LayerSpec::deserialize(layer).map_err(|e| format!("layer {idx}: {e}"))?;
            parsed.push(spec);
        }
        let spec = NetSpec { layers: parsed };
        spec.check()?;
        Ok(spec)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("spec serializes")
    }

    /// Validate and resolve names, sizes and ties.
    pub fn check(&self) -> Result<Checked, String> {
        let n_layers = self.layers.len();
        let (width, height, depth) = match self.layers.first() {
            Some(LayerSpec::Input { width, height, depth }) => (*width, *height, *depth),
            _ => return Err("layer 0: the first layer must be {\"type\": \"input\", ...}".into()),
        };
        for (field, value) in [("width", width), ("height", height), ("depth", depth)] {
            if value == 0 || value > 4096 {
                return Err(format!("layer 0 (input): {field} must be between 1 and 4096, got {value}"));
            }
        }
        // Sizes are multiplied in u64, so a 32-bit target (wasm32) cannot wrap past a limit.
        let n_inputs = product(&[width, height, depth]);
        if n_inputs > MAX_UNITS as u64 {
            return Err(format!("layer 0 (input): {n_inputs} inputs is more than the limit of {MAX_UNITS}"));
        }
        let n_inputs = n_inputs as usize;
        let loss = match self.layers.last() {
            Some(LayerSpec::Output { loss, .. }) if n_layers >= 3 => *loss,
            _ => return Err(format!("layer {}: the last layer must be {{\"type\": \"output\", \"loss\": ...}} after at least one fc layer", n_layers.saturating_sub(1))),
        };
        let mut dense: Vec<CheckedLayer> = Vec::new();
        let mut code_marked: Option<usize> = None;
        let mut n_params = 0u64;
        let mut shape = (depth, height, width); // (c, h, w) of the current layer's input
        for (idx, layer) in self.layers.iter().enumerate().take(n_layers - 1).skip(1) {
            let n_in = shape.0 * shape.1 * shape.2;
            let (name, code) = match layer {
                LayerSpec::Fc { name, code, .. } | LayerSpec::Conv { name, code, .. } | LayerSpec::Deconv { name, code, .. } | LayerSpec::Gaussian { name, code, .. } => (name, *code),
                _ => return Err(format!("layer {idx}: only fc, conv, deconv and gaussian layers may stand between input and output")),
            };
            let name = name.clone().unwrap_or_else(|| format!("{}{idx}", layer_prefix(layer)));
            let here = format!("layer {idx} ({name:?})");
            if name.is_empty() {
                return Err(format!("layer {idx}: name must not be empty"));
            }
            if dense.iter().any(|d| d.name == name) {
                return Err(format!("{here}: name is used by an earlier layer"));
            }
            let find = |target: &str| -> Result<usize, String> {
                let pos = dense.iter().position(|d| d.name == target).ok_or(format!("{here}: tied: no earlier layer is named {target:?}"))?;
                if dense[pos].kind.tied_to().is_some() {
                    return Err(format!("{here}: tied: {target:?} is itself tied; tie to the layer that owns the weights"));
                }
                Ok(pos)
            };
            let spec = match layer {
                LayerSpec::Fc { units, activation, tied, top_k, init_std, .. } => {
                    if *units == 0 || *units > MAX_UNITS {
                        return Err(format!("{here}: units must be between 1 and {MAX_UNITS}, got {units}"));
                    }
                    let tied_to = match tied {
                        None => {
                            n_params = n_params.saturating_add(product(&[*units, n_in]));
                            None
                        }
                        Some(target) => {
                            let pos = find(target)?;
                            let mirror = &dense[pos];
                            if !mirror.kind.is_dense() || mirror.n_in != *units || mirror.n_out != n_in {
                                return Err(format!(
                                    "{here}: tied: {target:?} has weights ({}, {}), so this layer must map {} inputs to {} units, not {} to {}",
                                    mirror.n_out, mirror.n_in, mirror.n_out, mirror.n_in, n_in, units
                                ));
                            }
                            Some(pos)
                        }
                    };
                    if let Some(k) = top_k {
                        if *k == 0 || k > units {
                            return Err(format!("{here}: top_k must be between 1 and the layer's {units} units, got {k}"));
                        }
                    }
                    if let Some(std) = init_std {
                        if tied.is_some() {
                            return Err(format!("{here}: init_std: a tied layer has no weights of its own to initialise"));
                        }
                        if !(*std > 0.0 && *std <= MAX_INIT_STD) {
                            return Err(format!("{here}: init_std must be a positive number up to {MAX_INIT_STD}, got {std}"));
                        }
                    }
                    CheckedLayer { name, n_in, n_out: *units, activation: *activation, kind: Kind::Dense { tied_to, top_k: *top_k, init_std: *init_std }, out_shape: (*units, 1, 1) }
                }
                LayerSpec::Conv { filters, size, stride, pad, activation, .. } => {
                    let (c, h, w) = shape;
                    check_window(&here, *filters, *size, *stride, *pad)?;
                    if h + 2 * pad < *size || w + 2 * pad < *size {
                        return Err(format!("{here}: a {size}x{size} kernel does not fit the {h}x{w} input with pad {pad}"));
                    }
                    let small = (*filters, (h + 2 * pad - size) / stride + 1, (w + 2 * pad - size) / stride + 1);
                    let n_out = checked_units(&here, &[small.0, small.1, small.2])?;
                    let geometry = Geometry { big: shape, small, size: *size, stride: *stride, pad: *pad };
                    n_params = n_params.saturating_add(product(&[*filters, c, *size, *size]));
                    CheckedLayer { name, n_in, n_out, activation: *activation, kind: Kind::Conv(geometry), out_shape: small }
                }
                LayerSpec::Deconv { filters, size, stride, pad, activation, tied, .. } => {
                    let (_, h, w) = shape;
                    check_window(&here, *filters, *size, *stride, *pad)?;
                    let side = |s: usize| ((s - 1).checked_mul(*stride)?.checked_add(*size)?).checked_sub(2 * pad).filter(|&v| v > 0);
                    let (Some(big_h), Some(big_w)) = (side(h), side(w)) else {
                        return Err(format!("{here}: pad {pad} leaves no output for a {h}x{w} input"));
                    };
                    let big = (*filters, big_h, big_w);
                    let n_out = checked_units(&here, &[big.0, big.1, big.2])?;
                    let geometry = Geometry { big, small: shape, size: *size, stride: *stride, pad: *pad };
                    let tied_to = match tied {
                        None => {
                            n_params = n_params.saturating_add(product(&[shape.0, *filters, *size, *size]));
                            None
                        }
                        Some(target) => {
                            let pos = find(target)?;
                            match dense[pos].kind {
                                Kind::Conv(g) if g == geometry => Some(pos),
                                Kind::Conv(g) => {
                                    return Err(format!(
                                        "{here}: tied: conv {target:?} maps {:?} to {:?} with {}x{} kernels, stride {}, pad {}; this deconv must map {:?} back to {:?} with the same kernels, stride and pad",
                                        g.big, g.small, g.size, g.size, g.stride, g.pad, g.small, g.big
                                    ))
                                }
                                _ => return Err(format!("{here}: tied: {target:?} is not a conv layer")),
                            }
                        }
                    };
                    CheckedLayer { name, n_in, n_out, activation: *activation, kind: Kind::Deconv { geometry, tied_to }, out_shape: big }
                }
                LayerSpec::Gaussian { units, .. } => {
                    if *units == 0 || *units > MAX_UNITS / 2 {
                        return Err(format!("{here}: units must be between 1 and {}, got {units}", MAX_UNITS / 2));
                    }
                    if let Some(other) = dense.iter().find(|d| d.kind == Kind::Gaussian) {
                        return Err(format!("{here}: a network has at most one gaussian layer ({:?} is one)", other.name));
                    }
                    n_params = n_params.saturating_add(product(&[2, *units, n_in]));
                    CheckedLayer { name, n_in, n_out: *units, activation: Activation::Linear, kind: Kind::Gaussian, out_shape: (*units, 1, 1) }
                }
                _ => unreachable!("matched above"),
            };
            n_params = n_params.saturating_add((spec.kind.heads() * spec.out_shape.0) as u64); // biases: one per unit (fc; two for gaussian) or per channel (conv)
            if code {
                if let Some(prev) = code_marked {
                    return Err(format!("{here}: code: only one layer may be the code layer (layer {:?} already is)", dense[prev].name));
                }
                code_marked = Some(dense.len());
            }
            shape = spec.out_shape;
            dense.push(spec);
        }
        if n_params > MAX_PARAMS as u64 {
            return Err(format!("the network has {n_params} parameters, more than the limit of {MAX_PARAMS}"));
        }
        let last = dense.last().expect("at least one fc layer");
        let out_idx = n_layers - 1;
        if loss == Loss::Softmax {
            if !last.kind.is_dense() {
                return Err(format!("layer {out_idx} (output): loss \"softmax\" needs an fc layer of class scores last"));
            }
            if last.activation != Activation::Linear || last.n_out < 2 {
                return Err(format!(
                    "layer {out_idx} (output): loss \"softmax\" needs a linear last fc layer with one unit per class (at least 2); {:?} is {} {}",
                    last.name,
                    last.n_out,
                    last.activation.name()
                ));
            }
        } else if last.n_out != n_inputs {
            return Err(format!(
                "layer {out_idx} (output): an autoencoder reproduces its input, so the last fc layer needs {n_inputs} units, not {}",
                last.n_out
            ));
        }
        if last.kind.top_k().is_some() {
            return Err(format!("layer {} ({:?}): top_k is for hidden layers, not the output", out_idx - 1, last.name));
        }
        if last.kind == Kind::Gaussian {
            return Err(format!("layer {} ({:?}): a gaussian layer is a code, not the output; a decoder follows it", out_idx - 1, last.name));
        }
        if loss == Loss::Bce && last.activation != Activation::Sigmoid {
            return Err(format!(
                "layer {out_idx} (output): loss \"bce\" needs a sigmoid on the last fc layer {:?}, which has {:?}",
                last.name,
                last.activation.name()
            ));
        }
        // Without a marker, the narrowest layer is the code (the first of equals).
        let code_layer = code_marked.unwrap_or_else(|| {
            let narrowest = dense.iter().map(|d| d.n_out).min().expect("non-empty");
            dense.iter().position(|d| d.n_out == narrowest).expect("present")
        });
        let mean_loss = matches!(self.layers.last(), Some(LayerSpec::Output { mean: true, .. }));
        Ok(Checked { n_inputs, input_shape: (width, height, depth), layers: dense, loss, mean_loss, code_layer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One spec-validation case: JSON text in, and either Ok or the error must contain `want`.
    fn check(text: &str, want: Result<(), &str>) {
        let got = NetSpec::from_json(text).map(|_| ());
        match (got, want) {
            (Ok(()), Ok(())) => {}
            (Err(e), Err(fragment)) => assert!(e.contains(fragment), "error {e:?} should contain {fragment:?}"),
            (got, want) => panic!("spec {text}\n got {got:?}\nwant {want:?}"),
        }
    }

    const IN: &str = r#"{"type":"input","width":2,"height":2,"depth":1}"#;

    const SEED_001: &str = r#"{"layers":[{"type":"input","width":36,"height":36,"depth":1},
        {"type":"conv","name":"c1","filters":20,"size":17,"stride":1,"activation":"tanh"},
        {"type":"conv","name":"c2","filters":2,"size":11,"activation":"tanh","code":true},
        {"type":"deconv","filters":20,"size":11,"activation":"tanh","tied":"c2"},
        {"type":"deconv","filters":1,"size":17,"activation":"tanh","tied":"c1"},
        {"type":"output","loss":"mse"}]}"#;

    #[test]
    fn validation_cases() {
        let fc = |extra: &str| format!(r#"{{"type":"fc","units":4,"activation":"sigmoid"{extra}}}"#);
        let ok = format!(r#"{{"layers":[{IN},{{"type":"fc","name":"enc","units":3,"activation":"tanh"}},{{"type":"fc","units":4,"activation":"linear","tied":"enc"}},{{"type":"output","loss":"mse"}}]}}"#);
        check(&ok, Ok(()));
        let cases: Vec<(String, Result<(), &str>)> = vec![
            ("not json".into(), Err("not valid JSON")),
            (r#"{"layerz":[]}"#.into(), Err("unknown field \"layerz\"")),
            (format!(r#"{{"layers":[{}, {{"type":"output","loss":"mse"}}]}}"#, fc("")), Err("layer 0: the first layer must be")),
            (format!(r#"{{"layers":[{IN},{}]}}"#, fc("")), Err("the last layer must be")),
            (format!(r#"{{"layers":[{IN},{},{{"type":"output","loss":"bce"}}]}}"#, fc("")), Ok(())),
            (format!(r#"{{"layers":[{IN},{{"type":"fc","units":4,"activation":"relu"}},{{"type":"output","loss":"bce"}}]}}"#), Err("needs a sigmoid")),
            (format!(r#"{{"layers":[{IN},{{"type":"fc","units":5,"activation":"relu"}},{{"type":"output","loss":"mse"}}]}}"#), Err("needs 4 units, not 5")),
            (format!(r#"{{"layers":[{IN},{{"type":"fc","unitz":4,"activation":"relu"}},{{"type":"output","loss":"mse"}}]}}"#), Err("layer 1: unknown field `unitz`")),
            (format!(r#"{{"layers":[{IN},{{"type":"fc","units":4,"activation":"swish"}},{{"type":"output","loss":"mse"}}]}}"#), Err("layer 1: unknown variant `swish`")),
            (format!(r#"{{"layers":[{IN},{{"type":"fc","units":0,"activation":"relu"}},{{"type":"output","loss":"mse"}}]}}"#), Err("layer 1 (\"fc1\"): units must be")),
            (format!(r#"{{"layers":[{IN},{},{{"type":"output","loss":"mse"}}]}}"#, fc(r#","tied":"nope""#)), Err("tied: no earlier layer is named \"nope\"")),
            (format!(r#"{{"layers":[{IN},{{"type":"fc","name":"a","units":3,"activation":"tanh"}},{{"type":"fc","name":"a","units":4,"activation":"tanh"}},{{"type":"output","loss":"mse"}}]}}"#), Err("name is used by an earlier layer")),
            (format!(r#"{{"layers":[{IN},{{"type":"fc","name":"a","units":3,"activation":"tanh"}},{{"type":"fc","units":3,"activation":"tanh","tied":"a"}},{{"type":"fc","units":4,"activation":"tanh"}},{{"type":"output","loss":"mse"}}]}}"#), Err("must map 3 inputs to 4 units")),
            (format!(r#"{{"layers":[{IN},{{"type":"fc","units":3,"activation":"tanh","code":true}},{{"type":"fc","units":4,"activation":"tanh","code":true}},{{"type":"output","loss":"mse"}}]}}"#), Err("only one layer may be the code layer")),
            (r#"{"layers":[{"type":"input","width":0,"height":2,"depth":1},{"type":"output","loss":"mse"}]}"#.into(), Err("width must be between")),
            (format!(r#"{{"layers":[{IN},{{"type":"output","loss":"mse"}},{},{{"type":"output","loss":"mse"}}]}}"#, fc("")), Err("layer 1: only fc, conv, deconv and gaussian layers")),
            (format!(r#"{{"layers":[{IN},{},{{"type":"output","loss":"mse"}}]}}"#, fc(r#","top_k":5"#)), Err("top_k must be between 1 and the layer's 4 units")),
            // Seed 001: 36x36 -> conv 20x(17x17) -> conv 2x(11x11) -> tied deconvs back to 36x36.
            (SEED_001.into(), Ok(())),
            (SEED_001.replace(r#""size":11,"activation":"tanh","tied":"c2""#, r#""size":9,"activation":"tanh","tied":"c2""#), Err("this deconv must map")),
            (SEED_001.replace(r#""tied":"c1""#, r#""tied":"c9""#), Err("no earlier layer is named \"c9\"")),
            (SEED_001.replace(r#""filters":20,"size":17"#, r#""filters":20,"size":40"#), Err("does not fit the 36x36 input")),
            (SEED_001.replace(r#""filters":20,"size":17"#, r#""filters":0,"size":17"#), Err("filters must be between")),
            (SEED_001.replace(r#""stride":1,"activation":"tanh"}"#, r#""stride":30,"activation":"tanh"}"#), Err("stride ≤ size")),
            (format!(r#"{{"layers":[{IN},{{"type":"fc","units":10,"activation":"linear"}},{{"type":"output","loss":"softmax"}}]}}"#), Ok(())),
            (format!(r#"{{"layers":[{IN},{{"type":"fc","units":10,"activation":"relu"}},{{"type":"output","loss":"softmax"}}]}}"#), Err("needs a linear last fc layer")),
            (format!(r#"{{"layers":[{IN},{},{{"type":"output","loss":"mse"}}]}}"#, fc(r#","top_k":2,"init_std":0.01"#)), Err("top_k is for hidden layers")),
            (format!(r#"{{"layers":[{IN},{},{},{{"type":"output","loss":"mse"}}]}}"#, fc(r#","top_k":2,"init_std":0.01"#), fc("")), Ok(())),
            (format!(r#"{{"layers":[{IN},{},{{"type":"output","loss":"mse"}}]}}"#, fc(r#","init_std":-1"#)), Err("init_std must be a positive number")),
            (format!(r#"{{"layers":[{IN},{},{{"type":"output","loss":"mse"}}]}}"#, fc(r#","init_std":1e30"#)), Err("init_std must be a positive number up to 10, got 1000000000000000000000000000000")),
            (format!(r#"{{"layers":[{IN},{},{{"type":"output","loss":"mse"}}]}}"#, fc(r#","init_std":10"#)), Ok(())),
            (format!(r#"{{"layers":[{IN},{{"type":"fc","name":"e","units":3,"activation":"tanh"}},{{"type":"fc","units":4,"activation":"tanh","tied":"e","init_std":0.1}},{{"type":"output","loss":"mse"}}]}}"#), Err("a tied layer has no weights")),
        ];
        for (text, want) in cases {
            check(&text, want);
        }
    }

    #[test]
    fn code_layer_defaults_to_the_narrowest_and_follows_the_marker() {
        let text = format!(r#"{{"layers":[{IN},{{"type":"fc","units":3,"activation":"tanh"}},{{"type":"fc","units":2,"activation":"tanh"}},{{"type":"fc","units":3,"activation":"tanh","code":true}},{{"type":"fc","units":4,"activation":"linear"}},{{"type":"output","loss":"mse"}}]}}"#);
        let spec = NetSpec::from_json(&text).unwrap();
        assert_eq!(spec.check().unwrap().code_layer, 2);
        let unmarked = text.replace(r#","code":true"#, "");
        assert_eq!(NetSpec::from_json(&unmarked).unwrap().check().unwrap().code_layer, 1);
    }
}
