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
    /// The loss the last fc layer's output is trained with; an autoencoder's target is its input.
    Output { loss: Loss },
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// A spec that passed validation, with the facts the network builder needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    pub n_inputs: usize,
    pub input_shape: (usize, usize, usize), // (width, height, depth)
    pub dense: Vec<DenseSpec>,
    pub loss: Loss,
    /// Index into `dense` of the code layer.
    pub code_layer: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DenseSpec {
    pub name: String,
    pub n_in: usize,
    pub n_out: usize,
    pub activation: Activation,
    /// Index into `dense` of the layer whose weights this one uses transposed.
    pub tied_to: Option<usize>,
    pub top_k: Option<usize>,
    pub init_std: Option<f32>,
}

/// Refuse absurd sizes before allocating anything.
const MAX_UNITS: usize = 1 << 16;
const MAX_PARAMS: usize = 64 << 20;

impl NetSpec {
    /// Parse JSON text, naming the layer and field of the first problem.
    pub fn from_json(text: &str) -> Result<NetSpec, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("network spec is not valid JSON: {e}"))?;
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
        let n_inputs = width * height * depth;
        if n_inputs > MAX_UNITS {
            return Err(format!("layer 0 (input): {n_inputs} inputs is more than the limit of {MAX_UNITS}"));
        }
        let loss = match self.layers.last() {
            Some(LayerSpec::Output { loss }) if n_layers >= 3 => *loss,
            _ => return Err(format!("layer {}: the last layer must be {{\"type\": \"output\", \"loss\": ...}} after at least one fc layer", n_layers.saturating_sub(1))),
        };
        let mut dense: Vec<DenseSpec> = Vec::new();
        let mut code_marked: Option<usize> = None;
        let mut n_params = 0usize;
        let mut n_in = n_inputs;
        for (idx, layer) in self.layers.iter().enumerate().take(n_layers - 1).skip(1) {
            let LayerSpec::Fc { name, units, activation, tied, code, top_k, init_std } = layer else {
                return Err(format!("layer {idx}: only fc layers may stand between input and output"));
            };
            let name = name.clone().unwrap_or_else(|| format!("fc{idx}"));
            let here = format!("layer {idx} ({name:?})");
            if name.is_empty() {
                return Err(format!("layer {idx}: name must not be empty"));
            }
            if dense.iter().any(|d| d.name == name) {
                return Err(format!("{here}: name is used by an earlier layer"));
            }
            if *units == 0 || *units > MAX_UNITS {
                return Err(format!("{here}: units must be between 1 and {MAX_UNITS}, got {units}"));
            }
            let tied_to = match tied {
                None => {
                    n_params += units * n_in;
                    None
                }
                Some(target) => {
                    let Some(pos) = dense.iter().position(|d| &d.name == target) else {
                        return Err(format!("{here}: tied: no earlier fc layer is named {target:?}"));
                    };
                    let mirror = &dense[pos];
                    if mirror.tied_to.is_some() {
                        return Err(format!("{here}: tied: {target:?} is itself tied; tie to the layer that owns the weights"));
                    }
                    if mirror.n_in != *units || mirror.n_out != n_in {
                        return Err(format!(
                            "{here}: tied: {target:?} has weights ({}, {}), so this layer must map {} inputs to {} units, not {} to {}",
                            mirror.n_out, mirror.n_in, mirror.n_out, mirror.n_in, n_in, units
                        ));
                    }
                    Some(pos)
                }
            };
            n_params += units;
            if let Some(k) = top_k {
                if *k == 0 || k > units {
                    return Err(format!("{here}: top_k must be between 1 and the layer's {units} units, got {k}"));
                }
            }
            if let Some(std) = init_std {
                if tied.is_some() {
                    return Err(format!("{here}: init_std: a tied layer has no weights of its own to initialise"));
                }
                if !(std.is_finite() && *std > 0.0) {
                    return Err(format!("{here}: init_std must be a positive number, got {std}"));
                }
            }
            if *code {
                if let Some(prev) = code_marked {
                    return Err(format!("{here}: code: only one layer may be the code layer (layer {:?} already is)", dense[prev].name));
                }
                code_marked = Some(dense.len());
            }
            dense.push(DenseSpec { name, n_in, n_out: *units, activation: *activation, tied_to, top_k: *top_k, init_std: *init_std });
            n_in = *units;
        }
        if n_params > MAX_PARAMS {
            return Err(format!("network has {n_params} parameters, more than the limit of {MAX_PARAMS}"));
        }
        let last = dense.last().expect("at least one fc layer");
        let out_idx = n_layers - 1;
        if loss == Loss::Softmax {
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
        if last.top_k.is_some() {
            return Err(format!("layer {} ({:?}): top_k is for hidden layers, not the output", out_idx - 1, last.name));
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
        Ok(Checked { n_inputs, input_shape: (width, height, depth), dense, loss, code_layer })
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
            (format!(r#"{{"layers":[{IN},{},{{"type":"output","loss":"mse"}}]}}"#, fc(r#","tied":"nope""#)), Err("tied: no earlier fc layer is named \"nope\"")),
            (format!(r#"{{"layers":[{IN},{{"type":"fc","name":"a","units":3,"activation":"tanh"}},{{"type":"fc","name":"a","units":4,"activation":"tanh"}},{{"type":"output","loss":"mse"}}]}}"#), Err("name is used by an earlier layer")),
            (format!(r#"{{"layers":[{IN},{{"type":"fc","name":"a","units":3,"activation":"tanh"}},{{"type":"fc","units":3,"activation":"tanh","tied":"a"}},{{"type":"fc","units":4,"activation":"tanh"}},{{"type":"output","loss":"mse"}}]}}"#), Err("must map 3 inputs to 4 units")),
            (format!(r#"{{"layers":[{IN},{{"type":"fc","units":3,"activation":"tanh","code":true}},{{"type":"fc","units":4,"activation":"tanh","code":true}},{{"type":"output","loss":"mse"}}]}}"#), Err("only one layer may be the code layer")),
            (r#"{"layers":[{"type":"input","width":0,"height":2,"depth":1},{"type":"output","loss":"mse"}]}"#.into(), Err("width must be between")),
            (format!(r#"{{"layers":[{IN},{{"type":"output","loss":"mse"}},{},{{"type":"output","loss":"mse"}}]}}"#, fc("")), Err("layer 1: only fc layers")),
            (format!(r#"{{"layers":[{IN},{},{{"type":"output","loss":"mse"}}]}}"#, fc(r#","top_k":5"#)), Err("top_k must be between 1 and the layer's 4 units")),
            (format!(r#"{{"layers":[{IN},{{"type":"fc","units":10,"activation":"linear"}},{{"type":"output","loss":"softmax"}}]}}"#), Ok(())),
            (format!(r#"{{"layers":[{IN},{{"type":"fc","units":10,"activation":"relu"}},{{"type":"output","loss":"softmax"}}]}}"#), Err("needs a linear last fc layer")),
            (format!(r#"{{"layers":[{IN},{},{{"type":"output","loss":"mse"}}]}}"#, fc(r#","top_k":2,"init_std":0.01"#)), Err("top_k is for hidden layers")),
            (format!(r#"{{"layers":[{IN},{},{},{{"type":"output","loss":"mse"}}]}}"#, fc(r#","top_k":2,"init_std":0.01"#), fc("")), Ok(())),
            (format!(r#"{{"layers":[{IN},{},{{"type":"output","loss":"mse"}}]}}"#, fc(r#","init_std":-1"#)), Err("init_std must be a positive number")),
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
