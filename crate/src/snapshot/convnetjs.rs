//! ConvNetJS interchange: import a `Net.toJSON()` snapshot (layers input, conv, fc, relu, tanh,
//! sigmoid, regression; a volume's `w` written as an array or as an object keyed by index, as
//! JSON.stringify writes typed arrays) and export a network in that format. Only the forward
//! pass crosses: ConvNetJS snapshots carry no optimiser state. ConvNetJS volumes are
//! channel-last ((y · sx + x) · depth + d); ours are channel-first ((d · h + y) · w + x), so
//! conv filters, and fc weights reading a multi-channel volume, are reordered on the way.

use serde::Serialize;
use serde_json::Value;

use crate::model::spec::Kind;
use crate::model::{Activation, LayerSpec, Loss, NetSpec, Network};

/// Input sides, kernels and channel counts above this are refused (the spec's own limit).
const MAX_SIDE: usize = 4096;

/// Build a network from ConvNetJS JSON text, with the snapshot's weights.
pub fn import(text: &str) -> Result<Network, String> {
    if text.len() > crate::budget::MAX_BYTES {
        return Err(format!("ConvNetJS snapshot is larger than the {} MB limit", crate::budget::MAX_BYTES >> 20));
    }
    let value = crate::json::parse(text, "ConvNetJS snapshot")?;
    import_value(&value)
}

/// Build a network from parsed ConvNetJS JSON, with the snapshot's weights.
pub fn import_value(value: &Value) -> Result<Network, String> {
    let layers = value
        .get("layers")
        .and_then(Value::as_array)
        .ok_or("ConvNetJS snapshot: expected an object with a \"layers\" array (the output of Net.toJSON())")?;
    let kind = |idx: usize| layers.get(idx).and_then(|l| l.get("layer_type")).and_then(Value::as_str);
    let Some("input") = kind(0) else {
        return Err("ConvNetJS layer 0: the first layer must be an input layer".into());
    };
    let input = &layers[0];
    let (width, height, depth) = (count(input, "out_sx", 0)?, count(input, "out_sy", 0)?, count(input, "out_depth", 0)?);
    if width.max(height).max(depth) > MAX_SIDE {
        return Err(format!("ConvNetJS layer 0 (input): {width}×{height}×{depth} is larger than {MAX_SIDE} on a side"));
    }
    let mut spec_layers = vec![LayerSpec::Input { width, height, depth }];
    let mut weights: Vec<(Vec<f32>, Vec<f32>)> = Vec::new(); // per layer: (weights in our layout, biases)
    let mut shape = (depth, height, width); // (c, h, w) of the current volume
    let mut idx = 1;
    let mut loss = None;
    while idx < layers.len() {
        let layer = &layers[idx];
        match kind(idx) {
            Some(kind_name @ ("fc" | "conv")) => {
                // Volumes stay within the spec's limits, so these products cannot overflow.
                let n_in = shape.0 * shape.1 * shape.2;
                let n_out = count(layer, "out_depth", idx)?;
                let filters = layer.get("filters").and_then(Value::as_array).ok_or(format!("ConvNetJS layer {idx} (fc): missing \"filters\" array"))?;
                if filters.len() != n_out {
                    return Err(format!("ConvNetJS layer {idx} (fc): {} filters for out_depth {n_out}", filters.len()));
                }
                let conv = if kind_name == "conv" {
                    let size = count(layer, "sx", idx)?;
                    if layer.get("sy").and_then(Value::as_u64) != Some(size as u64) {
                        return Err(format!("ConvNetJS layer {idx} (conv): only square kernels (sx = sy) are supported"));
                    }
                    if count(layer, "in_depth", idx)? != shape.0 {
                        return Err(format!("ConvNetJS layer {idx} (conv): in_depth does not match the {} channels before it", shape.0));
                    }
                    let stride = layer.get("stride").map_or(Ok(1), |_| count(layer, "stride", idx))?;
                    let pad = layer.get("pad").and_then(Value::as_u64).unwrap_or(0);
                    if size > MAX_SIDE || pad >= size as u64 {
                        return Err(format!("ConvNetJS layer {idx} (conv): a {size}×{size} kernel with pad {pad} is not supported (at most {MAX_SIDE}, pad below the kernel size)"));
                    }
                    Some((size, stride, pad as usize))
                } else {
                    None
                };
                // Each filter's length, and the permutation from ConvNetJS's order to ours.
                let (filter_shape, filter_len) = match conv {
                    Some((size, _, _)) => ((shape.0, size, size), shape.0 * size * size),
                    None => (shape, n_in),
                };
                // Grown filter by filter: every value read is in the file, so the file bounds it.
                let mut w = Vec::new();
                for (unit_idx, filter) in filters.iter().enumerate() {
                    let values = volume(filter, filter_len, &format!("ConvNetJS layer {idx} ({kind_name}) filter {unit_idx}"))?;
                    w.extend(channel_first(&values, filter_shape));
                }
                let biases = layer.get("biases").ok_or(format!("ConvNetJS layer {idx} ({kind_name}): missing \"biases\""))?;
                let b = volume(biases, n_out, &format!("ConvNetJS layer {idx} ({kind_name}) biases"))?;
                let activation = match kind(idx + 1) {
                    Some("relu") => Some(Activation::Relu),
                    Some("tanh") => Some(Activation::Tanh),
                    Some("sigmoid") => Some(Activation::Sigmoid),
                    _ => None,
                };
                if activation.is_some() {
                    let act_layer = &layers[idx + 1];
                    if count(act_layer, "out_depth", idx + 1)? != n_out {
                        return Err(format!("ConvNetJS layer {}: out_depth does not match the fc layer before it", idx + 1));
                    }
                    idx += 1;
                }
                let activation = activation.unwrap_or(Activation::Linear);
                let name = Some(format!("{kind_name}{}", weights.len() + 1));
                match conv {
                    Some((size, stride, pad)) => {
                        let side = |s: usize| (s + 2 * pad).checked_sub(size).map(|v| v / stride + 1).ok_or(format!("ConvNetJS layer {idx} (conv): kernel larger than its input"));
                        shape = (n_out, side(shape.1)?, side(shape.2)?);
                        if shape.0 * shape.1 * shape.2 > crate::model::spec::MAX_LAYER_OUTPUTS {
                            return Err(format!("ConvNetJS layer {idx} (conv): {}×{}×{} outputs is more than {}", shape.0, shape.1, shape.2, crate::model::spec::MAX_LAYER_OUTPUTS));
                        }
                        spec_layers.push(LayerSpec::Conv { name, filters: n_out, size, stride, pad, activation, code: false });
                    }
                    None => {
                        if n_out > crate::model::spec::MAX_UNITS {
                            return Err(format!("ConvNetJS layer {idx} (fc): {n_out} neurons is more than {}", crate::model::spec::MAX_UNITS));
                        }
                        shape = (n_out, 1, 1);
                        spec_layers.push(LayerSpec::Fc { name, units: n_out, activation, tied: None, code: false, top_k: None, init_std: None });
                    }
                }
                weights.push((w, b));
            }
            Some(last @ ("regression" | "softmax")) => {
                if idx != layers.len() - 1 {
                    return Err(format!("ConvNetJS layer {idx}: the {last} layer must be the last layer"));
                }
                if weights.is_empty() {
                    return Err(format!("ConvNetJS layer {idx}: a {last} layer needs an fc layer before it"));
                }
                // Regression is an autoencoder's squared error; softmax makes a classifier.
                loss = Some(if last == "softmax" { Loss::Softmax } else { Loss::Mse });
            }
            Some(other @ ("relu" | "tanh" | "sigmoid")) => {
                return Err(format!("ConvNetJS layer {idx}: a {other} layer must follow an fc or conv layer"));
            }
            Some(other) => {
                return Err(format!(
                    "ConvNetJS layer {idx}: layer type {other:?} is not supported (Bottleneck imports input, conv, fc, relu, tanh, sigmoid, regression and softmax layers)"
                ))
            }
            None => return Err(format!("ConvNetJS layer {idx}: missing \"layer_type\"")),
        }
        idx += 1;
    }
    let Some(loss) = loss else {
        return Err("ConvNetJS snapshot: the last layer must be a regression layer (an autoencoder's loss) or a softmax layer (a classifier's)".into());
    };
    spec_layers.push(LayerSpec::Output { loss, mean: false });
    let spec = NetSpec { layers: spec_layers };
    // Our parameter list is each layer's weights then its biases, the order ConvNetJS's are in.
    let values = weights.into_iter().flat_map(|(w, b)| [w, b]).collect();
    Network::with_values(&spec, values).map_err(|e| format!("ConvNetJS snapshot: {e}"))
}

/// Reorder one volume (c, h, w) from ConvNetJS's channel-last layout to ours.
fn channel_first(values: &[f32], shape: (usize, usize, usize)) -> Vec<f32> {
    reorder(values, shape, true)
}

/// Reorder one volume (c, h, w) from our channel-first layout to ConvNetJS's.
fn channel_last(values: &[f32], shape: (usize, usize, usize)) -> Vec<f32> {
    reorder(values, shape, false)
}

/// Element (d, y, x) sits at (d·h + y)·w + x channel-first and at (y·w + x)·c + d channel-last.
fn reorder(values: &[f32], (c, h, w): (usize, usize, usize), to_channel_first: bool) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for d in 0..c {
        for y in 0..h {
            for x in 0..w {
                let (first, last) = ((d * h + y) * w + x, (y * w + x) * c + d);
                let (to, from) = if to_channel_first { (first, last) } else { (last, first) };
                out[to] = values[from];
            }
        }
    }
    out
}

/// A non-negative integer field of a layer.
fn count(layer: &Value, field: &str, idx: usize) -> Result<usize, String> {
    layer
        .get(field)
        .and_then(Value::as_u64)
        .filter(|&n| n > 0 && n <= 1 << 20)
        .map(|n| n as usize)
        .ok_or(format!("ConvNetJS layer {idx}: \"{field}\" must be a positive integer"))
}

/// A ConvNetJS Vol `{sx, sy, depth, w}` with exactly `len` finite numbers; `w` is an array or an
/// object with keys "0".."len-1".
fn volume(vol: &Value, len: usize, what: &str) -> Result<Vec<f32>, String> {
    let w = vol.get("w").ok_or(format!("{what}: missing \"w\""))?;
    let number = |v: Option<&Value>, i: usize| -> Result<f32, String> {
        let x = v.and_then(Value::as_f64).ok_or(format!("{what}: w[{i}] is missing or not a number"))?;
        let x32 = x as f32;
        if !x32.is_finite() {
            return Err(format!("{what}: w[{i}] = {x} is not a finite f32"));
        }
        Ok(x32)
    };
    match w {
        Value::Array(items) => {
            if items.len() != len {
                return Err(format!("{what}: {} weights, expected {len}", items.len()));
            }
            items.iter().enumerate().map(|(i, v)| number(Some(v), i)).collect()
        }
        Value::Object(map) => {
            if map.len() != len {
                return Err(format!("{what}: {} weights, expected {len}", map.len()));
            }
            (0..len).map(|i| number(map.get(&i.to_string()), i)).collect()
        }
        _ => Err(format!("{what}: \"w\" must be an array or an object keyed by index")),
    }
}

#[derive(Serialize)]
struct Vol {
    sx: usize,
    sy: usize,
    depth: usize,
    w: Vec<f32>,
}

/// One layer as ConvNetJS's `toJSON()` writes it, fields in its order.
#[derive(Serialize)]
#[serde(untagged)]
enum OutLayer {
    Input { out_depth: usize, out_sx: usize, out_sy: usize, layer_type: &'static str },
    Conv {
        sx: usize,
        sy: usize,
        stride: usize,
        in_depth: usize,
        out_depth: usize,
        out_sx: usize,
        out_sy: usize,
        layer_type: &'static str,
        l1_decay_mul: f32,
        l2_decay_mul: f32,
        pad: usize,
        filters: Vec<Vol>,
        biases: Vol,
    },
    Fc {
        out_depth: usize,
        out_sx: usize,
        out_sy: usize,
        layer_type: &'static str,
        num_inputs: usize,
        l1_decay_mul: f32,
        l2_decay_mul: f32,
        filters: Vec<Vol>,
        biases: Vol,
    },
    Activation { out_depth: usize, out_sx: usize, out_sy: usize, layer_type: &'static str },
    /// The last layer: "regression" (identity) or "softmax".
    Loss { out_depth: usize, out_sx: usize, out_sy: usize, layer_type: &'static str, num_inputs: usize },
}

/// The network as ConvNetJS `Net.toJSON()` text that computes the same outputs, or a sentence
/// naming the first layer ConvNetJS cannot compute: a deconv, or a top-k (k-sparse) layer.
/// Tied weights are written out transposed. The last layer only decides how ConvNetJS would
/// train: an autoencoder ends with regression (the identity), a classifier with softmax (the
/// same softmax ours applies); a sigmoid output trained with cross-entropy is sigmoid +
/// regression. `"mean": true` only scales the loss (and its gradient) by 1 / outputs, so the
/// forward pass is the same and the network is written as it is; ConvNetJS would train it with
/// the summed loss, as it trains everything.
pub fn export(net: &Network) -> Result<String, String> {
    let (width, height, depth) = net.input_shape();
    let mut layers = vec![OutLayer::Input { out_depth: depth, out_sx: width, out_sy: height, layer_type: "input" }];
    let mut shape = (depth, height, width);
    for (layer_idx, layer) in net.layers().iter().enumerate() {
        let w = net.weights(layer_idx);
        let (c_out, h_out, w_out) = layer.out_shape();
        let biases = Vol { sx: 1, sy: 1, depth: c_out, w: net.biases(layer_idx).to_vec() };
        if let Some(k) = layer.top_k() {
            return Err(format!(
                "layer {} ({}) keeps only the {k} largest of its {} activations (top-k, k-sparse); ConvNetJS has no such layer and would keep them all, so this network cannot be written in its format",
                layer_idx + 1,
                layer.name(),
                layer.n_out()
            ));
        }
        match layer.kind() {
            Kind::Gaussian => {
                return Err(format!(
                    "layer {} ({}) is a variational (gaussian) code that draws each example's code at random around a mean; ConvNetJS has no such layer, so this network cannot be written in its format",
                    layer_idx + 1,
                    layer.name()
                ))
            }
            Kind::Deconv { .. } => {
                return Err(format!(
                    "layer {} ({}) is a transposed convolution (deconv); ConvNetJS has no such layer, so this network cannot be written in its format",
                    layer_idx + 1,
                    layer.name()
                ))
            }
            Kind::Conv(g) => {
                let patch = (g.big.0, g.size, g.size);
                let filters = w.chunks_exact(g.patch_len()).map(|f| Vol { sx: g.size, sy: g.size, depth: g.big.0, w: channel_last(f, patch) }).collect();
                layers.push(OutLayer::Conv {
                    sx: g.size,
                    sy: g.size,
                    stride: g.stride,
                    in_depth: g.big.0,
                    out_depth: c_out,
                    out_sx: w_out,
                    out_sy: h_out,
                    layer_type: "conv",
                    l1_decay_mul: 0.0,
                    l2_decay_mul: 1.0,
                    pad: g.pad,
                    filters,
                    biases,
                });
            }
            Kind::Dense { .. } => {
                let filters = w.chunks_exact(layer.n_in()).map(|row| Vol { sx: 1, sy: 1, depth: layer.n_in(), w: channel_last(row, shape) }).collect();
                layers.push(OutLayer::Fc {
                    out_depth: layer.n_out(),
                    out_sx: 1,
                    out_sy: 1,
                    layer_type: "fc",
                    num_inputs: layer.n_in(),
                    l1_decay_mul: 0.0,
                    l2_decay_mul: 1.0,
                    filters,
                    biases,
                });
            }
        }
        if layer.activation() != Activation::Linear {
            layers.push(OutLayer::Activation { out_depth: c_out, out_sx: w_out, out_sy: h_out, layer_type: layer.activation().name() });
        }
        shape = layer.out_shape();
    }
    let n_out = net.n_outputs();
    let layer_type = if net.is_classifier() { "softmax" } else { "regression" };
    layers.push(OutLayer::Loss { out_depth: n_out, out_sx: 1, out_sy: 1, layer_type, num_inputs: n_out });
    #[derive(Serialize)]
    struct NetJson {
        layers: Vec<OutLayer>,
    }
    serde_json::to_string(&NetJson { layers }).map_err(|e| format!("export: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn tiny_net() -> Network {
        let spec = NetSpec::from_json(
            r#"{"layers":[{"type":"input","width":2,"height":2,"depth":1},
                {"type":"fc","name":"enc","units":3,"activation":"tanh"},
                {"type":"fc","units":4,"activation":"sigmoid","tied":"enc"},
                {"type":"output","loss":"bce"}]}"#,
        )
        .unwrap();
        Network::new(&spec, &mut Rng::from_seed(4)).unwrap()
    }

    #[test]
    fn export_then_import_keeps_the_forward_pass() {
        let mut net = tiny_net();
        let mut back = import(&export(&net).unwrap()).unwrap();
        let x = [0.1, 0.9, 0.4, 0.0, 1.0, 0.2, 0.3, 0.7];
        net.forward(&x, 2, None);
        back.forward(&x, 2, None);
        assert_eq!(net.output(), back.output());
        assert_eq!(back.layers().len(), 2);
        assert!(!back.layers()[1].tied(), "ConvNetJS has no ties; the transpose is written out");
    }

    /// A hand-written ConvNetJS snapshot in its own shape: `w` as objects keyed by index.
    /// Input (1, 1, 2) → fc 1 unit, tanh → fc 2 units (linear) → regression.
    /// For x = (1, 2): h = tanh(0.5·1 − 0.25·2 + 0.1) = tanh(0.1) = 0.0996680;
    /// y = (2h − 1, −h + 0.5) = (−0.8006640, 0.4003320).
    #[test]
    fn imports_index_keyed_weights_and_computes_by_hand() {
        let text = r#"{"layers":[
            {"out_depth":2,"out_sx":1,"out_sy":1,"layer_type":"input"},
            {"out_depth":1,"out_sx":1,"out_sy":1,"layer_type":"fc","num_inputs":2,"l1_decay_mul":0,"l2_decay_mul":1,
             "filters":[{"sx":1,"sy":1,"depth":2,"w":{"0":0.5,"1":-0.25}}],"biases":{"sx":1,"sy":1,"depth":1,"w":{"0":0.1}}},
            {"out_depth":1,"out_sx":1,"out_sy":1,"layer_type":"tanh"},
            {"out_depth":2,"out_sx":1,"out_sy":1,"layer_type":"fc","num_inputs":1,
             "filters":[{"sx":1,"sy":1,"depth":1,"w":[2]},{"sx":1,"sy":1,"depth":1,"w":[-1]}],"biases":{"sx":1,"sy":1,"depth":2,"w":[-1,0.5]}},
            {"out_depth":2,"out_sx":1,"out_sy":1,"layer_type":"regression","num_inputs":2}]}"#;
        let mut net = import(text).unwrap();
        net.forward(&[1.0, 2.0], 1, None);
        let y = net.output();
        assert!((y[0] + 0.800_664_0).abs() < 1e-6 && (y[1] - 0.400_332_0).abs() < 1e-6, "{y:?}");
    }

    /// One refused import: the text and a fragment of the error.
    fn check(text: &str, fragment: &str) {
        let err = import(text).err().unwrap_or_else(|| panic!("imported: {text}"));
        assert!(err.contains(fragment), "{err:?} should mention {fragment:?}");
    }

    #[test]
    fn bad_convnetjs_snapshots_are_refused() {
        let input = r#"{"out_depth":2,"out_sx":1,"out_sy":1,"layer_type":"input"}"#;
        let fc = |w: &str| format!(r#"{{"out_depth":2,"layer_type":"fc","num_inputs":2,"filters":[{{"w":{w}}},{{"w":[1,2]}}],"biases":{{"w":[0,0]}}}}"#);
        let reg = r#"{"out_depth":2,"layer_type":"regression"}"#;
        check("nope", "not valid JSON");
        check("{}", "\"layers\" array");
        check(&format!(r#"{{"layers":[{}]}}"#, fc("[1,2]")), "first layer must be an input");
        check(&format!(r#"{{"layers":[{input},{}]}}"#, fc("[1,2]")), "last layer must be a regression");
        check(&format!(r#"{{"layers":[{input},{},{reg}]}}"#, fc("[1]")), "filter 0: 1 weights, expected 2");
        check(&format!(r#"{{"layers":[{input},{},{reg}]}}"#, fc(r#"{"0":1,"5":2}"#)), "w[1] is missing");
        check(&format!(r#"{{"layers":[{input},{},{reg}]}}"#, fc(r#"[1,"x"]"#)), "w[1] is missing or not a number");
        check(&format!(r#"{{"layers":[{input},{},{reg}]}}"#, fc("[1,1e300]")), "not a finite f32");
        check(&format!(r#"{{"layers":[{input},{{"layer_type":"dropout","out_depth":2}},{reg}]}}"#), "\"dropout\" is not supported");
        check(&format!(r#"{{"layers":[{input},{{"layer_type":"softmax","out_depth":2}},{reg}]}}"#), "the softmax layer must be the last layer");
        check(&format!(r#"{{"layers":[{input},{{"layer_type":"tanh","out_depth":2}},{reg}]}}"#), "must follow an fc or conv layer");
        check(&format!(r#"{{"layers":[{input},{reg},{}]}}"#, fc("[1,2]")), "must be the last layer");
    }

    #[test]
    fn conv_layers_cross_both_ways_and_deconv_is_refused() {
        // Two input channels make the channel-last reordering matter.
        let spec = NetSpec::from_json(
            r#"{"layers":[{"type":"input","width":5,"height":4,"depth":2},
                {"type":"conv","name":"c","filters":3,"size":3,"stride":1,"pad":1,"activation":"relu"},
                {"type":"fc","units":6,"activation":"tanh"},
                {"type":"fc","units":40,"activation":"linear"},
                {"type":"output","loss":"mse"}]}"#,
        )
        .unwrap();
        let mut net = Network::new(&spec, &mut Rng::from_seed(8)).unwrap();
        let text = export(&net).unwrap();
        assert!(text.contains(r#""layer_type":"conv""#) && text.contains(r#""sx":3"#));
        let mut back = import(&text).unwrap();
        let x: Vec<f32> = (0..80).map(|i| ((i * 37) % 11) as f32 / 10.0).collect();
        net.forward(&x, 2, None);
        back.forward(&x, 2, None);
        for (a, b) in net.output().iter().zip(back.output()) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
        let seed_001 = NetSpec::from_json(
            r#"{"layers":[{"type":"input","width":8,"height":8,"depth":1},
                {"type":"conv","name":"c","filters":2,"size":3,"activation":"tanh"},
                {"type":"deconv","filters":1,"size":3,"activation":"tanh","tied":"c"},
                {"type":"output","loss":"mse"}]}"#,
        )
        .unwrap();
        let err = export(&Network::new(&seed_001, &mut Rng::from_seed(1)).unwrap()).unwrap_err();
        assert!(err.contains("ConvNetJS has no such layer"), "{err}");
    }

    /// A classifier is written with ConvNetJS's softmax layer, exactly as its
    /// `SoftmaxLayer.toJSON()` writes one (`"mean"` changes no output, so it is written too); a
    /// top-k layer, which ConvNetJS would not apply, is refused by name.
    #[test]
    fn a_classifier_ends_with_softmax_and_top_k_is_refused() {
        let classifier = NetSpec::from_json(
            r#"{"layers":[{"type":"input","width":2,"height":2,"depth":1},
                {"type":"fc","units":3,"activation":"sigmoid"},
                {"type":"fc","units":5,"activation":"linear"},
                {"type":"output","loss":"softmax","mean":true}]}"#,
        )
        .unwrap();
        let text = export(&Network::new(&classifier, &mut Rng::from_seed(2)).unwrap()).unwrap();
        let json: Value = serde_json::from_str(&text).unwrap();
        let types: Vec<&str> = json["layers"].as_array().unwrap().iter().map(|l| l["layer_type"].as_str().unwrap()).collect();
        assert_eq!(types, ["input", "fc", "sigmoid", "fc", "softmax"]);
        assert!(text.ends_with(r#"{"out_depth":5,"out_sx":1,"out_sy":1,"layer_type":"softmax","num_inputs":5}]}"#), "{text}");
        assert!(export(&tiny_net()).unwrap().ends_with(r#"{"out_depth":4,"out_sx":1,"out_sy":1,"layer_type":"regression","num_inputs":4}]}"#));
        // And it comes back a classifier, with the same answers.
        let mut net = Network::new(&classifier, &mut Rng::from_seed(2)).unwrap();
        let mut back = import(&text).unwrap();
        assert!(back.is_classifier());
        let x = [0.1, 0.9, 0.4, 0.0, 1.0, 0.2, 0.3, 0.7];
        net.forward(&x, 2, None);
        back.forward(&x, 2, None);
        assert!(net.output().iter().zip(back.output()).all(|(a, b)| (a - b).abs() < 1e-6));

        let k_sparse = NetSpec::from_json(
            r#"{"layers":[{"type":"input","width":4,"height":2,"depth":1},
                {"type":"fc","name":"code","units":6,"activation":"linear","top_k":2,"code":true},
                {"type":"fc","units":8,"activation":"linear","tied":"code"},
                {"type":"output","loss":"mse"}]}"#,
        )
        .unwrap();
        let err = export(&Network::new(&k_sparse, &mut Rng::from_seed(3)).unwrap()).unwrap_err();
        assert!(err.starts_with("layer 1 (code) keeps only the 2 largest of its 6 activations (top-k"), "{err}");
    }

    /// A channel-last volume reads back channel-first: value (d, y, x) sits at (y·w + x)·c + d.
    #[test]
    fn volumes_reorder_between_layouts() {
        let convnetjs: Vec<f32> = (0..12).map(|i| i as f32).collect(); // c 2, h 2, w 3
        let ours = channel_first(&convnetjs, (2, 2, 3));
        assert_eq!(ours[0], 0.0); // d 0, y 0, x 0
        assert_eq!(ours[1], 2.0); // d 0, y 0, x 1: ConvNetJS index (0·3 + 1)·2 + 0
        assert_eq!(ours[6], 1.0); // d 1, y 0, x 0
        assert_eq!(channel_last(&ours, (2, 2, 3)), convnetjs);
    }
}
