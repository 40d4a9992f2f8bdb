//! Finite-difference gradient checks for every layer kind, activation, loss, tied weights, unit
//! masks and the weight-decay terms: the backward pass must agree with central differences of
//! the objective computed by the forward pass alone.

use super::loss;
use super::network::{Network, UnitMask};
use super::optim::raw_gradient;
use super::spec::NetSpec;
use crate::rng::Rng;

/// One case: a spec, optional mask and decay; every parameter's analytic gradient of
/// J = Σ_batch objective + l2/2·Σw² + l1·Σ|w| (divided by the batch, as updates use it)
/// must match (J(w + ε) − J(w − ε)) / 2ε.
fn check(label: &str, spec_json: &str, mask: Option<UnitMask>, l1: f32, l2: f32) {
    let spec = NetSpec::from_json(spec_json).unwrap_or_else(|e| panic!("{label}: {e}"));
    let mut rng = Rng::from_seed(42);
    let mut net = Network::new(&spec, &mut rng).unwrap();
    let batch = 3;
    let n = net.n_inputs();
    // Inputs in (0, 1) like pixels; targets in (0.05, 0.95) so cross-entropy is smooth.
    let x: Vec<f32> = (0..batch * n).map(|_| rng.uniform()).collect();
    let n_out = net.n_outputs();
    let mut t: Vec<f32> = (0..batch * n_out).map(|_| 0.05 + 0.9 * rng.uniform()).collect();
    if net.is_classifier() {
        // Class targets are distributions: each row sums to 1.
        for row in t.chunks_exact_mut(n_out) {
            let total: f32 = row.iter().sum();
            row.iter_mut().for_each(|v| *v /= total);
        }
    }
    let inv_batch = 1.0 / batch as f32;

    // The objective, and which units sit on the zero side of a relu (or of a mask): where a
    // nudge flips that pattern, the difference straddles a kink and says nothing.
    let total = |net: &mut Network| -> (f64, Vec<bool>) {
        net.forward(&x, batch, mask.as_ref());
        let data = loss::objective(net.loss(), &net.loss_sums(&t));
        let pattern = (0..net.layers.len())
            .flat_map(|l| {
                let relu_side = net.activations(l).iter().map(|&a| a > 0.0);
                let kept = net.top_k_selection(l).map(|s| s.to_vec()).unwrap_or_default();
                relu_side.chain(kept).collect::<Vec<_>>()
            })
            .collect();
        ((data + net.decay_loss(l1, l2)) / batch as f64, pattern)
    };
    let (_, base_pattern) = total(&mut net);

    net.zero_grads();
    net.forward(&x, batch, mask.as_ref());
    net.backward(&t);
    let analytic: Vec<Vec<f32>> = net
        .params
        .iter()
        .map(|p| {
            let (pl1, pl2) = if p.decays { (l1, l2) } else { (0.0, 0.0) };
            p.value.iter().zip(&p.grad).map(|(&w, &g)| raw_gradient(w, g, pl1, pl2, inv_batch)).collect()
        })
        .collect();

    // Small enough that relu kinks are rarely straddled, large enough for f32 forward passes.
    let eps = 1e-3f32;
    let (mut checked, mut skipped) = (0usize, 0usize);
    for param_idx in 0..net.params.len() {
        for value_idx in 0..net.params[param_idx].value.len() {
            let original = net.params[param_idx].value[value_idx];
            if l1 > 0.0 && net.params[param_idx].decays && original.abs() < 2.0 * eps {
                skipped += 1; // |w| has a kink at 0; the difference would straddle it.
                continue;
            }
            net.params[param_idx].value[value_idx] = original + eps;
            let (plus, plus_pattern) = total(&mut net);
            net.params[param_idx].value[value_idx] = original - eps;
            let (minus, minus_pattern) = total(&mut net);
            net.params[param_idx].value[value_idx] = original;
            if plus_pattern != base_pattern || minus_pattern != base_pattern {
                skipped += 1;
                continue;
            }
            checked += 1;
            let numeric = (plus - minus) / (2.0 * eps as f64);
            let got = analytic[param_idx][value_idx] as f64;
            // Relative error, with an absolute floor for tiny gradients (f32 forward passes
            // resolve J to about 1e-7, so differences are good to about 1e-4).
            let err = (got - numeric).abs() / (1e-2 + got.abs().max(numeric.abs()));
            assert!(
                err < 1e-2,
                "{label}: {}[{value_idx}] analytic {got:.6} vs numeric {numeric:.6}",
                net.params[param_idx].name
            );
        }
    }
    assert!(skipped * 10 <= checked, "{label}: {skipped} entries straddled a kink, {checked} checked");
}

const INPUT: &str = r#"{"type":"input","width":3,"height":2,"depth":1}"#;

fn spec(hidden: &str, output: &str) -> String {
    format!(r#"{{"layers":[{INPUT},{hidden},{output}]}}"#)
}

#[test]
fn gradients_of_every_activation_and_loss() {
    let layers = |act: &str, out_act: &str| {
        format!(
            r#"{{"type":"fc","name":"enc","units":4,"activation":"{act}"}},{{"type":"fc","name":"code","units":2,"activation":"{act}"}},{{"type":"fc","units":6,"activation":"{out_act}"}}"#
        )
    };
    for act in ["tanh", "sigmoid", "relu", "linear"] {
        for (out_act, loss) in [("linear", "mse"), ("sigmoid", "mse"), ("sigmoid", "bce"), ("tanh", "mse"), ("relu", "mse")] {
            let label = format!("{act} hidden, {out_act} output, {loss}");
            check(&label, &spec(&layers(act, out_act), &format!(r#"{{"type":"output","loss":"{loss}"}}"#)), None, 0.0, 0.0);
        }
    }
}

#[test]
fn gradients_of_the_softmax_classifier() {
    let layers = r#"{"type":"fc","name":"h","units":4,"activation":"sigmoid"},{"type":"fc","name":"classes","units":3,"activation":"linear"}"#;
    check("sigmoid hidden, softmax over 3 classes", &spec(layers, r#"{"type":"output","loss":"softmax"}"#), None, 0.0, 0.0);
    check("softmax with l2 decay", &spec(layers, r#"{"type":"output","loss":"softmax"}"#), None, 0.0, 0.2);
}

#[test]
fn gradients_through_tied_weights() {
    // Larochelle's autoencoder: h = sigm(b + W x), x̂ = sigm(c + Wᵀ h), cross-entropy.
    let tied = r#"{"type":"fc","name":"enc","units":4,"activation":"sigmoid"},{"type":"fc","units":6,"activation":"sigmoid","tied":"enc"}"#;
    check("tied sigmoid, bce", &spec(tied, r#"{"type":"output","loss":"bce"}"#), None, 0.0, 0.0);
    // A deeper stack with two tied pairs and a linear code.
    let deep = r#"{"type":"fc","name":"e1","units":5,"activation":"tanh"},{"type":"fc","name":"e2","units":2,"activation":"linear"},{"type":"fc","units":5,"activation":"tanh","tied":"e2"},{"type":"fc","units":6,"activation":"linear","tied":"e1"}"#;
    check("two tied pairs, mse", &spec(deep, r#"{"type":"output","loss":"mse"}"#), None, 0.0, 0.0);
}

#[test]
fn gradients_flow_only_through_the_top_k_units() {
    // Linear hidden units keeping the 2 largest of 5, tied decoder: Makhzani & Frey's k-sparse
    // autoencoder in miniature. Nudges that would change which units are kept flip the
    // zero/non-zero pattern and are skipped, so the selection is fixed where we compare.
    let layers = r#"{"type":"fc","name":"enc","units":5,"activation":"linear","top_k":2},{"type":"fc","units":6,"activation":"linear","tied":"enc"}"#;
    check("top-2 of 5, tied, mse", &spec(layers, r#"{"type":"output","loss":"mse"}"#), None, 0.0, 0.0);
    let deeper = r#"{"type":"fc","name":"enc","units":5,"activation":"tanh","top_k":3},{"type":"fc","units":6,"activation":"sigmoid"}"#;
    check("top-3 of 5 tanh, bce", &spec(deeper, r#"{"type":"output","loss":"bce"}"#), None, 0.0, 0.0);
}

#[test]
fn gradients_with_decay_and_with_units_turned_off() {
    let layers = r#"{"type":"fc","name":"enc","units":4,"activation":"tanh"},{"type":"fc","name":"code","units":3,"activation":"tanh"},{"type":"fc","units":6,"activation":"linear"}"#;
    let mse = r#"{"type":"output","loss":"mse"}"#;
    check("l2 decay", &spec(layers, mse), None, 0.0, 0.3);
    check("l1 and l2 decay", &spec(layers, mse), None, 0.05, 0.1);
    let mask = UnitMask { layer: 1, keep: vec![true, false, true] };
    check("code unit 1 off", &spec(layers, mse), Some(mask), 0.0, 0.0);
}

