//! Named experiments as data: `presets.json` (beside this file) lists each preset's network
//! spec and training settings. This module parses and looks them up; it runs nothing.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::data::DataSpec;
use crate::model::NetSpec;
use crate::train::TrainConfig;

pub const PRESETS_JSON: &str = include_str!("presets.json");

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub name: String,
    pub title: String,
    /// One line for `bottleneck presets`.
    pub description: String,
    /// The seed document (in shared/seeds/) the experiment comes from; none for one that comes
    /// from the literature (its caption names the paper).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_doc: Option<String>,
    /// Two or three sentences shown beside the experiment.
    pub caption: String,
    /// "What to look for: …": the finding the experiment reproduces, in a sentence or two.
    pub look_for: String,
    /// The panels "What to look for" talks about, which the page puts first and brings into
    /// view when the preset is picked (names of `session::panels::PANELS`).
    pub point: Vec<String>,
    pub spec: NetSpec,
    pub train: TrainConfig,
    /// The data it trains on (default: the MNIST digits).
    #[serde(default)]
    pub data: DataSpec,
    /// The CLI's default training length.
    pub epochs: u64,
    /// How the filters panel shades weights: a fixed [lo, hi] range, or (None) each filter
    /// stretched to its own range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters_range: Option<(f32, f32)>,
    /// Start the loss graph on a log scale (for losses that fall by orders of magnitude).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub log_scale: bool,
    /// Greedy layer-wise pretraining of the (classifier) spec before fine-tuning with `train`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretrain: Option<crate::pretrain::PretrainPlan>,
    /// Networks trained beside the first for comparison (same seed), on one click.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comparisons: Vec<Comparison>,
    /// Settings measured to keep this preset training, one per optimiser other than its own
    /// (what switching optimiser picks; `cargo run --release --example tune_optimizers`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optimizers: Vec<crate::model::Optimizer>,
}

/// The variant a preset compares against: its spec and/or settings replace the preset's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<NetSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train: Option<TrainConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetFile {
    presets: Vec<Preset>,
}

/// Every preset, in file order, parsed once. The file is part of the build, so a broken one is
/// a bug caught by the tests, not a user error.
pub fn all() -> &'static [Preset] {
    static PRESETS: OnceLock<Vec<Preset>> = OnceLock::new();
    PRESETS.get_or_init(|| serde_json::from_str::<PresetFile>(PRESETS_JSON).expect("presets.json parses").presets)
}

pub fn find(name: &str) -> Result<&'static Preset, String> {
    all().iter().find(|p| p.name == name).ok_or_else(|| {
        let names: Vec<&str> = all().iter().map(|p| p.name.as_str()).collect();
        format!("unknown preset {name:?}; the presets are: {}", names.join(", "))
    })
}

/// The preset a page opens with, and whose training settings an imported ConvNetJS network
/// gets (it is the ConvNetJS demo's own recipe).
pub const DEFAULT: &str = "convnetjs";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Noise;
    use crate::model::optim::Optimizer;
    use crate::model::{Activation, Loss};
    use crate::train::KSchedule;

    /// What a preset must be, in the terms of the issues that define it.
    struct Want {
        name: &'static str,
        sizes: &'static [usize],
        activations: &'static [Activation],
        tied: bool,
        code_units: usize,
        loss: Loss,
        optimizer: Optimizer,
        batch_size: usize,
        l2_decay: f32,
        /// The rest, for the presets that have them.
        extra: Extra,
    }

    #[derive(Default)]
    struct Extra {
        noise: Noise,
        top_k: Option<usize>,
        init_std: Option<f32>,
        k_schedule: Option<KSchedule>,
        data: DataSpec,
        comparisons: &'static [&'static str],
        pretrain: Option<(usize, u64)>, // (labels, epochs per layer)
        filters_range: Option<(f32, f32)>,
    }

    /// Check one preset's layers, optimiser and settings against the description.
    fn check(want: &Want) {
        let preset = find(want.name).unwrap();
        let checked = preset.spec.check().unwrap_or_else(|e| panic!("{}: {e}", want.name));
        let mut sizes = vec![checked.n_inputs];
        sizes.extend(checked.layers.iter().map(|d| d.n_out));
        assert_eq!(sizes, want.sizes, "{}: layer sizes", want.name);
        let acts: Vec<Activation> = checked.layers.iter().map(|d| d.activation).collect();
        assert_eq!(acts, want.activations, "{}: activations", want.name);
        assert_eq!(checked.layers.iter().any(|d| d.kind.tied_to().is_some()), want.tied, "{}: tied", want.name);
        assert_eq!(checked.layers[checked.code_layer].n_out, want.code_units, "{}: code", want.name);
        assert_eq!(checked.loss, want.loss, "{}: loss", want.name);
        assert_eq!(preset.train.optimizer, want.optimizer, "{}: optimizer", want.name);
        assert_eq!(preset.train.batch_size, want.batch_size, "{}: batch", want.name);
        assert_eq!(preset.train.l2_decay, want.l2_decay, "{}: l2", want.name);
        preset.train.validate().unwrap();
        assert!(preset.caption.len() > 40 && preset.description.len() > 20);
        let extra = &want.extra;
        assert_eq!(preset.train.noise, extra.noise, "{}: noise", want.name);
        assert_eq!(checked.layers.iter().find_map(|d| d.kind.top_k()), extra.top_k, "{}: top_k", want.name);
        let init_std = |d: &crate::model::spec::CheckedLayer| match d.kind {
            crate::model::spec::Kind::Dense { init_std, .. } => init_std,
            _ => None,
        };
        assert_eq!(checked.layers.iter().find_map(init_std), extra.init_std, "{}: init_std", want.name);
        assert_eq!(preset.train.k_schedule, extra.k_schedule, "{}: k schedule", want.name);
        assert_eq!(preset.data, extra.data, "{}: data", want.name);
        let labels: Vec<&str> = preset.comparisons.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, extra.comparisons, "{}: comparisons", want.name);
        assert_eq!(preset.pretrain.as_ref().map(|p| (p.n_labels, p.epochs_per_layer)), extra.pretrain, "{}: pretrain", want.name);
        assert_eq!(preset.filters_range, extra.filters_range, "{}: filters", want.name);
        assert!(preset.seed_doc.as_ref().is_none_or(|doc| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/seeds").join(doc).exists())
            || !std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/seeds").exists(), "{}: seed document", want.name);
    }

    #[test]
    fn presets_are_what_the_issues_describe() {
        use Activation::*;
        check(&Want {
            name: "convnetjs",
            sizes: &[784, 50, 50, 2, 50, 50, 784],
            activations: &[Tanh, Tanh, Linear, Tanh, Tanh, Linear],
            tied: false,
            code_units: 2,
            loss: Loss::Mse,
            optimizer: Optimizer::Adadelta { rho: 0.95, eps: 1e-8 },
            batch_size: 50,
            l2_decay: 0.001,
            extra: Extra::default(),
        });
        check(&Want {
            name: "turnoff",
            sizes: &[784, 225, 10, 225, 784],
            activations: &[Relu, Relu, Relu, Relu],
            tied: false,
            code_units: 10,
            loss: Loss::Mse,
            optimizer: Optimizer::Rmsprop { lr: 0.001, rho: 0.9, eps: 1e-7 },
            batch_size: 256,
            l2_decay: 0.0,
            extra: Extra::default(),
        });
        let sgd = Optimizer::Sgd { lr: 0.1, momentum: 0.0, nesterov: false };
        for (name, noise, comparisons) in [
            ("tied-sigmoid", Noise::None, &[][..]),
            ("denoising", Noise::Masking { fraction: 0.3 }, &["the same network without noise"][..]),
        ] {
            check(&Want {
                name,
                sizes: &[784, 100, 784],
                activations: &[Sigmoid, Sigmoid],
                tied: true,
                code_units: 100,
                loss: Loss::Bce,
                optimizer: sgd,
                batch_size: 20,
                l2_decay: 0.0,
                extra: Extra { noise, comparisons, filters_range: Some((-3.0, 3.0)), ..Extra::default() },
            });
        }
        // lr 0.03 and init_std 0.036 (N(0, 0.036²), about 1/√784): every unit gets picked and
        // learns; at 20 epochs the three k land within 5 % of the reference errors on real test
        // digits (see the README's presets section). Each compares with the other two k.
        const OTHERS: [(&str, usize, [&str; 2]); 3] = [("k-sparse", 25, ["k = 70", "k = 10"]), ("k-sparse-70", 70, ["k = 25", "k = 10"]), ("k-sparse-10", 10, ["k = 70", "k = 25"])];
        for (name, k, others) in &OTHERS {
            let (name, k) = (*name, *k);
            check(&Want {
                name,
                sizes: &[784, 1000, 784],
                activations: &[Linear, Linear],
                tied: true,
                code_units: 1000,
                loss: Loss::Mse,
                optimizer: Optimizer::Sgd { lr: 0.03, momentum: 0.9, nesterov: false },
                batch_size: 128,
                l2_decay: 0.0,
                // k falls from 100 over the first half of the 20 epochs: 10 · 9,000 examples.
                extra: Extra {
                    top_k: Some(k),
                    init_std: Some(0.036),
                    k_schedule: Some(KSchedule { start: 100, anneal_examples: 90_000 }),
                    comparisons: others,
                    ..Extra::default()
                },
            });
            assert_eq!(find(name).unwrap().epochs, 20);
        }
        check(&Want {
            name: "linear-20",
            sizes: &[100, 20, 100],
            activations: &[Linear, Linear],
            tied: false,
            code_units: 20,
            loss: Loss::Mse,
            optimizer: Optimizer::Adam { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
            batch_size: 50,
            l2_decay: 0.0,
            extra: Extra {
                data: DataSpec::Linear { n_samples: 10_000, n_independent: 20, dim: 100 },
                comparisons: &["19 hidden units"],
                ..Extra::default()
            },
        });
        let nineteen = find("linear-20").unwrap().comparisons[0].spec.as_ref().unwrap().check().unwrap();
        assert_eq!(nineteen.layers[0].n_out, 19);
        check(&Want {
            name: "conv-1s-8s",
            // 36x36 -> 20x(20x20) -> 2x(10x10) -> 20x(20x20) -> 36x36, as seed 001 lists them.
            sizes: &[1296, 20 * 400, 2 * 100, 20 * 400, 1296],
            activations: &[Tanh, Tanh, Tanh, Tanh],
            tied: true,
            code_units: 200,
            loss: Loss::Mse,
            optimizer: Optimizer::Sgd { lr: 0.005, momentum: 0.9, nesterov: false },
            batch_size: 64,
            l2_decay: 0.0,
            extra: Extra { data: DataSpec::Mnist { classes: Some(vec![1, 8]), size: Some((36, 36)) }, ..Extra::default() },
        });
        let conv = find("conv-1s-8s").unwrap().spec.check().unwrap();
        assert!(conv.mean_loss, "seed 001's lr 0.005 is for the mean squared error");
        let sizes: Vec<usize> = conv.layers.iter().filter_map(|d| d.kind.geometry().map(|g| g.size)).collect();
        assert_eq!(sizes, vec![17, 11, 11, 17]);
        check(&Want {
            name: "pretrain",
            sizes: &[784, 500, 250, 100, 10],
            activations: &[Sigmoid, Sigmoid, Sigmoid, Linear],
            tied: false,
            code_units: 10,
            loss: Loss::Softmax,
            optimizer: sgd,
            batch_size: 20,
            l2_decay: 0.0,
            extra: Extra { pretrain: Some((1000, 2)), ..Extra::default() },
        });
        // Issue 24: 784-512 relu-2 (gaussian)-512 relu-784 sigmoid, Adam lr 0.001, batch 128,
        // beta 1, beside its beta-0 twin.
        check(&Want {
            name: "vae",
            sizes: &[784, 512, 2, 512, 784],
            activations: &[Relu, Linear, Relu, Sigmoid],
            tied: false,
            code_units: 2,
            loss: Loss::Bce,
            optimizer: Optimizer::Adam { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
            batch_size: 128,
            l2_decay: 0.0,
            extra: Extra { comparisons: &["beta 0 (no KL term)"], ..Extra::default() },
        });
        let vae = find("vae").unwrap();
        assert_eq!(vae.spec.check().unwrap().layers[1].kind, crate::model::spec::Kind::Gaussian);
        assert_eq!((vae.train.beta, vae.comparisons[0].train.as_ref().unwrap().beta), (Some(1.0), Some(0.0)));
        let mut names: Vec<&str> = all().iter().map(|p| p.name.as_str()).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "preset names are unique");
        assert!(find("nope").unwrap_err().contains("convnetjs"));
    }

    /// What a reader sees names its sources by what they are (a blog post's title, an author's
    /// demo or course), never by the seed documents' file numbers, and says what to look for.
    #[test]
    fn presets_name_their_sources_and_say_what_to_look_for() {
        for preset in all() {
            let name = &preset.name;
            assert!(preset.look_for.starts_with("What to look for: ") && preset.look_for.len() > 60, "{name}: {:?}", preset.look_for);
            assert!(preset.look_for.ends_with('.'), "{name}: look_for is a sentence");
            for (what, text) in [("title", &preset.title), ("description", &preset.description), ("caption", &preset.caption), ("look_for", &preset.look_for)] {
                let lower = text.to_lowercase();
                assert!(!lower.contains("seed 0") && !lower.contains("seeds 0"), "{name}: the {what} names a seed document by number: {text:?}");
            }
        }
        let source = |name: &str| find(name).unwrap().caption.clone();
        assert!(source("convnetjs").contains("Karpathy's ConvNetJS"));
        assert!(source("turnoff").contains("\"The effect of turning off units in the middle layer\""));
        assert!(source("tied-sigmoid").contains("Hugo Larochelle's neural networks course"));
        assert!(source("conv-1s-8s").contains("\"Reconstructing 1s and 8s (MNIST)\""));
        assert!(source("k-sparse").contains("Makhzani and Frey"));
    }

    /// The measured optimisers (what switching optimiser picks in the page): valid settings of
    /// another type than the preset's own, at most one per type, each lowering the training
    /// loss of the preset's own network, batch, decay and noise for a couple of dozen steps on
    /// small synthetic digits without diverging (linear-20 builds its own synthetic data). A
    /// convolutional preset trains 16 steps of at most 8 examples instead (conv-1s-8s trains
    /// ~350 examples/s natively), so the test takes seconds.
    #[test]
    fn measured_optimizers_are_other_types_and_keep_their_preset_training() {
        use crate::data::{synthetic, Dataset};
        use crate::train::{evaluate, Trainer};
        // Bars in class order (the split keeps a tenth of every class), each with a stroke of
        // its own so the images differ within a class.
        let per_class = 20;
        let (labels, bars) = synthetic::bars(10 * per_class, 255);
        let mut order: Vec<usize> = (0..labels.len()).collect();
        order.sort_by_key(|&i| labels[i]);
        let mut pixels = Vec::with_capacity(order.len() * 784);
        for (n, &i) in order.iter().enumerate() {
            let start = pixels.len();
            pixels.extend(bars[i * 784..(i + 1) * 784].iter().map(|&p| p as f32 / 255.0));
            for row in 4..24 {
                pixels[start + row * 28 + (row + n) % 28] += 0.3;
            }
        }
        let digits = Dataset::new(28, 28, pixels, Some(order.iter().map(|&i| labels[i]).collect()));

        let measured: Vec<&Preset> = all().iter().filter(|p| !p.optimizers.is_empty()).collect();
        assert!(!measured.is_empty(), "presets.json has measured optimisers (tools/tune_optimizers.rs)");
        let mut jobs = Vec::new();
        for preset in &measured {
            let own = preset.train.optimizer.name();
            let mut types = Vec::new();
            for optimizer in &preset.optimizers {
                optimizer.validate().unwrap_or_else(|e| panic!("{}: {e}", preset.name));
                assert_ne!(optimizer.name(), own, "{}: a measured optimiser of the preset's own type", preset.name);
                assert!(!types.contains(&optimizer.name()), "{}: two measured {} settings", preset.name, optimizer.name());
                types.push(optimizer.name());
                jobs.push((*preset, *optimizer));
            }
        }
        let digits = &digits;
        std::thread::scope(|scope| {
            let handles: Vec<_> = jobs
                .iter()
                .map(|&(preset, optimizer)| {
                    scope.spawn(move || {
                        let (train, _) = preset.data.build(Some(digits), 1).unwrap();
                        let mut config = preset.train.clone();
                        config.optimizer = optimizer;
                        let convolutional = preset.spec.check().unwrap().layers.iter().any(|d| d.kind.geometry().is_some());
                        let steps = if convolutional {
                            config.batch_size = config.batch_size.min(8);
                            16
                        } else {
                            24
                        };
                        let mut trainer = Trainer::new(&preset.spec, config, 1).unwrap();
                        let before = evaluate(trainer.net(), &train).mse_per_pixel;
                        for step in 0..steps {
                            if let Err(e) = trainer.step(&train) {
                                panic!("{} with {optimizer:?}: step {step}: {e}", preset.name);
                            }
                        }
                        let after = evaluate(trainer.net(), &train).mse_per_pixel;
                        assert!(after < before, "{} with {optimizer:?}: training MSE/px {before} -> {after} in {steps} steps", preset.name);
                    })
                })
                .collect();
            for handle in handles {
                if let Err(panic) = handle.join() {
                    std::panic::resume_unwind(panic);
                }
            }
        });
    }
}
