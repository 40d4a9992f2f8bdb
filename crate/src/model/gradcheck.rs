//! Finite-difference gradient checks for every layer kind, activation, loss, tied weights, unit
//! masks and the weight-decay terms: the backward pass must agree with central differences of
//! the objective computed by the forward pass alone.

use super::network::{Network, UnitMask};
use super::optim::raw_gradient;
use super::spec::NetSpec;
use crate::rng::Rng;

/// One case: a spec, optional mask and decay; every parameter's analytic gradient of
/// J = Σ_batch objective + l2/2·Σw² + l1·Σ|w| (divided by the batch, as updates use it)
/// must match (J(w + ε) − J(w − ε)) / 2ε.
fn check(label: &str, spec_json: &str, mask: Option<UnitMask>, l1: f32, l2: f32) {
    check_with(label, spec_json, mask, l1, l2, None);
}

/// `check`; with `beta`, the network's gaussian layer weighs its KL term by it and samples its
/// code with one fixed draw of ε (the objective is then a smooth function of the parameters).
fn check_with(label: &str, spec_json: &str, mask: Option<UnitMask>, l1: f32, l2: f32, beta: Option<f32>) {
    let spec = NetSpec::from_json(spec_json).unwrap_or_else(|e| panic!("{label}: {e}"));
    let mut rng = Rng::from_seed(42);
    let mut net = Network::new(&spec, &mut rng).unwrap();
    let batch = 3;
    let n = net.n_inputs();
    let noise: Option<Vec<f32>> = beta.map(|beta| {
        net.set_beta(beta);
        let units = net.layers()[net.gaussian_layer().expect("a gaussian layer")].n_out();
        (0..batch * units).map(|_| rng.normal()).collect()
    });
    let noise = noise.as_deref();
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
        net.forward_noisy(&x, batch, mask.as_ref(), noise);
        let data = net.objective(&net.loss_sums(&t));
        let pattern = (0..net.layers().len())
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
    net.forward_noisy(&x, batch, mask.as_ref(), noise);
    net.backward(&t);
    let analytic: Vec<Vec<f32>> = net
        .params()
        .iter()
        .map(|p| {
            let (pl1, pl2) = if p.decays { (l1, l2) } else { (0.0, 0.0) };
            p.value.iter().zip(&p.grad).map(|(&w, &g)| raw_gradient(w, g, pl1, pl2, inv_batch)).collect()
        })
        .collect();

    // Small enough that relu kinks are rarely straddled, large enough for f32 forward passes.
    let eps = 1e-3f32;
    let (mut checked, mut skipped) = (0usize, 0usize);
    for param_idx in 0..net.params().len() {
        for value_idx in 0..net.params()[param_idx].value.len() {
            let original = net.params()[param_idx].value[value_idx];
            if l1 > 0.0 && net.params()[param_idx].decays && original.abs() < 2.0 * eps {
                skipped += 1; // |w| has a kink at 0; the difference would straddle it.
                continue;
            }
            net.params_mut()[param_idx].value[value_idx] = original + eps;
            let (plus, plus_pattern) = total(&mut net);
            net.params_mut()[param_idx].value[value_idx] = original - eps;
            let (minus, minus_pattern) = total(&mut net);
            net.params_mut()[param_idx].value[value_idx] = original;
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
                net.params()[param_idx].name
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

/// The variational code: both heads (mean and log-variance) through the sampled code and
/// through the KL term, at β 1, at 0 (reconstruction alone) and at 4, with a decoder after it
/// and a layer before it; summed and mean cross-entropy; and with ε = 0 (reading the means),
/// where only the KL term reaches the log-variances.
#[test]
fn gradients_of_the_gaussian_code_and_its_kl_term() {
    let layers = r#"{"type":"fc","name":"enc","units":5,"activation":"tanh"},{"type":"gaussian","name":"z","units":2},{"type":"fc","name":"dec","units":4,"activation":"relu"},{"type":"fc","units":6,"activation":"sigmoid"}"#;
    for beta in [1.0, 0.0, 4.0] {
        for output in [r#"{"type":"output","loss":"bce"}"#, r#"{"type":"output","loss":"bce","mean":true}"#, r#"{"type":"output","loss":"mse"}"#] {
            check_with(&format!("gaussian, beta {beta}, {output}"), &spec(layers, output), None, 0.0, 0.0, Some(beta));
        }
    }
    check("gaussian read at its means", &spec(layers, r#"{"type":"output","loss":"bce"}"#), None, 0.0, 0.0);
    let first = r#"{"type":"gaussian","name":"z","units":3},{"type":"fc","units":6,"activation":"sigmoid"}"#;
    check_with("gaussian first", &spec(first, r#"{"type":"output","loss":"bce"}"#), None, 0.0, 0.001, Some(1.0));
}

/// KL(N(μ, σ²) ‖ N(0, 1)) against the closed form checked by hand: 0 at the prior, ½ μ² for a
/// shifted mean, ½ (σ² − 1 − ln σ²) for another spread.
#[test]
fn the_kl_term_is_the_closed_form() {
    use super::network::gaussian_kl;
    assert_eq!(gaussian_kl(&[0.0, 0.0, 0.0, 0.0], 2), 0.0);
    assert!((gaussian_kl(&[1.5, 0.0], 1) - 0.5 * 1.5 * 1.5).abs() < 1e-9);
    let lv = 0.7f64;
    assert!((gaussian_kl(&[0.0, lv as f32], 1) - 0.5 * (lv.exp() - 1.0 - lv)).abs() < 1e-6);
}

#[test]
fn gradients_of_the_softmax_classifier() {
    let layers = r#"{"type":"fc","name":"h","units":4,"activation":"sigmoid"},{"type":"fc","name":"classes","units":3,"activation":"linear"}"#;
    check("mean mse", &spec(r#"{"type":"fc","name":"h","units":4,"activation":"tanh"},{"type":"fc","units":6,"activation":"linear"}"#, r#"{"type":"output","loss":"mse","mean":true}"#), None, 0.0, 0.0);
    check("mean bce", &spec(r#"{"type":"fc","name":"h","units":4,"activation":"tanh"},{"type":"fc","units":6,"activation":"sigmoid"}"#, r#"{"type":"output","loss":"bce","mean":true}"#), None, 0.0, 0.0);
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


#[test]
fn gradients_through_conv_and_deconv_layers() {
    let net = |input: &str, layers: &str, loss: &str| format!(r#"{{"layers":[{input},{layers},{{"type":"output","loss":"{loss}"}}]}}"#);
    let one_6x6 = r#"{"type":"input","width":6,"height":6,"depth":1}"#;
    let one_5x5 = r#"{"type":"input","width":5,"height":5,"depth":1}"#;
    let two_4x4 = r#"{"type":"input","width":4,"height":4,"depth":2}"#;
    // Untied conv then deconv, stride 1, no padding: 1x6x6 -> 2x4x4 -> 1x6x6.
    check(
        "conv 3x3 / deconv 3x3",
        &net(one_6x6, r#"{"type":"conv","name":"c","filters":2,"size":3,"activation":"tanh"},{"type":"deconv","filters":1,"size":3,"activation":"linear"}"#, "mse"),
        None,
        0.0,
        0.0,
    );
    // Stride 2 with padding: 1x5x5 -> 3x3x3 -> 1x5x5, tied filters, sigmoid and cross-entropy.
    check(
        "tied conv/deconv, stride 2, pad 1",
        &net(one_5x5, r#"{"type":"conv","name":"c","filters":3,"size":3,"stride":2,"pad":1,"activation":"sigmoid"},{"type":"deconv","filters":1,"size":3,"stride":2,"pad":1,"activation":"sigmoid","tied":"c"}"#, "bce"),
        None,
        0.0,
        0.0,
    );
    // Several input channels, stride 2 without padding, and an fc layer in between with decay:
    // 2x4x4 -> 3x2x2 (conv 2x2 stride 2) -> fc 5 -> fc 12 (reshaped as 3x2x2) ... kept flat:
    // here the deconv needs an image input, so: conv -> deconv tied, then weight decay.
    check(
        "two channels, 2x2 stride 2, tied, l2",
        &net(two_4x4, r#"{"type":"conv","name":"c","filters":3,"size":2,"stride":2,"activation":"tanh"},{"type":"deconv","filters":2,"size":2,"stride":2,"activation":"linear","tied":"c"}"#, "mse"),
        None,
        0.0,
        0.1,
    );
    // Seed 001's shape in miniature, so conv and deconv pass gradients down as well as into
    // their filters: 1x6x6 -> conv 2x(3x3) -> conv 1x(2x2) -> tied deconvs back to 1x6x6.
    check(
        "conv, conv, tied deconv, tied deconv",
        &net(
            one_6x6,
            r#"{"type":"conv","name":"c1","filters":2,"size":3,"activation":"tanh"},{"type":"conv","name":"c2","filters":1,"size":2,"activation":"tanh"},{"type":"deconv","filters":2,"size":2,"activation":"tanh","tied":"c2"},{"type":"deconv","filters":1,"size":3,"activation":"tanh","tied":"c1"}"#,
            "mse"
        ),
        None,
        0.0,
        0.0,
    );
    // A conv stack into fc layers (the classifier shape ConvNetJS uses).
    check(
        "conv into fc",
        &net(one_6x6, r#"{"type":"conv","name":"c","filters":2,"size":3,"stride":1,"pad":1,"activation":"relu"},{"type":"fc","units":4,"activation":"tanh"},{"type":"fc","units":36,"activation":"linear"}"#, "mse"),
        None,
        0.0,
        0.0,
    );
}
