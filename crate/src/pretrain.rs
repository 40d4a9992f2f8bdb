//! Greedy layer-wise pretraining (seed 004, "pretraining with autoencoders"): each hidden layer
//! of a classifier is first trained as an autoencoder on the codes of the layer below, using
//! all training digits and no labels; then the stacked encoders initialise the classifier,
//! which is fine-tuned on a small labelled subset beside the same classifier from random
//! initialisation, on the same labels. Both are scored on the validation digits as they go.

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::model::{Activation, LayerSpec, Loss, NetSpec};
use crate::train::{evaluate, StepStats, TrainConfig, TrainError, Trainer};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PretrainPlan {
    /// Labelled training examples for fine-tuning, spread evenly over the training set.
    pub n_labels: usize,
    /// Epochs over all training digits for each layer's autoencoder.
    pub epochs_per_layer: u64,
    /// Epochs over the labelled subset for fine-tuning.
    pub finetune_epochs: u64,
    /// How each layer's autoencoder trains.
    pub autoencoder: TrainConfig,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case", deny_unknown_fields)]
pub enum Phase {
    /// Training hidden layer `layer` (0-based) as an autoencoder.
    Pretraining { layer: usize },
    FineTuning,
    Done,
}

/// The whole plan in progress: the classifier being pretrained (the network a page shows), the
/// autoencoder of the current layer, and the randomly initialised twin it is compared with.
#[derive(Clone, Debug)]
pub struct Pretrainer {
    pub plan: PretrainPlan,
    pub phase: Phase,
    seed: u64,
    spec: NetSpec,
    n_hidden: usize,
    /// The classifier: its hidden layers receive the trained encoders, then it is fine-tuned.
    pub classifier: Trainer,
    /// The autoencoder of the layer being pretrained.
    pub autoencoder: Trainer,
    /// The current autoencoder's inputs: the digits, then each layer's codes of them.
    codes: Dataset,
    n_train: usize,
    /// The same classifier from random weights, fine-tuned on the same labels.
    pub baseline: Trainer,
    labeled: Dataset,
    valid: Dataset,
    /// Validation accuracy against fine-tuning examples seen, for both classifiers.
    pub pretrained_curve: Vec<(f64, f64)>,
    pub baseline_curve: Vec<(f64, f64)>,
    next_eval: u64,
}

/// Fine-tuning is scored this often (in labelled examples seen) and at the end.
const EVAL_EVERY: u64 = 500;

impl Pretrainer {
    /// `spec` is the classifier (hidden fc layers, then a linear layer with softmax loss);
    /// `finetune` trains it. Every network derives its initialisation from `seed`.
    pub fn new(spec: &NetSpec, finetune: TrainConfig, plan: PretrainPlan, seed: u64, train: &Dataset, valid: Dataset) -> Result<Pretrainer, String> {
        let checked = spec.check()?;
        if checked.loss != Loss::Softmax || checked.layers.len() < 2 {
            return Err("pretraining needs a classifier: hidden fc layers, then a linear layer with the softmax loss".into());
        }
        let plain = |kind: &crate::model::spec::Kind| matches!(kind, crate::model::spec::Kind::Dense { tied_to: None, top_k: None, .. });
        if !checked.layers.iter().all(|l| plain(&l.kind)) {
            return Err("pretraining stacks plain fc layers: no tied, top-k, conv or deconv layers".into());
        }
        if train.labels.is_none() || valid.labels.is_none() {
            return Err("pretraining fine-tunes on labels: the digits need labels".into());
        }
        if plan.n_labels == 0 || plan.n_labels > train.n_images {
            return Err(format!("n_labels must be between 1 and the {} training digits", train.n_images));
        }
        plan.autoencoder.validate()?;
        let labeled = train.spread(plan.n_labels);
        let classifier = Trainer::new(spec, finetune.clone(), seed)?;
        let baseline = Trainer::new(spec, finetune, seed)?;
        let autoencoder = layer_autoencoder(spec, 0, &plan.autoencoder, seed)?;
        Ok(Pretrainer {
            plan,
            phase: Phase::Pretraining { layer: 0 },
            seed,
            spec: spec.clone(),
            n_hidden: checked.layers.len() - 1,
            classifier,
            autoencoder,
            codes: train.clone(),
            n_train: train.n_images,
            baseline,
            labeled,
            valid,
            pretrained_curve: Vec::new(),
            baseline_curve: Vec::new(),
            next_eval: 0,
        })
    }

    /// Pick up a plan where a snapshot left it: the three networks as they were, the curves,
    /// and the phase. The current layer's inputs are recomputed by passing the training digits
    /// through the classifier's trained layers, exactly as the encoders computed them.
    pub fn resume(spec: &NetSpec, finetune: TrainConfig, seed: u64, saved: Resumed, train: &Dataset, valid: Dataset) -> Result<Pretrainer, String> {
        let mut fresh = Pretrainer::new(spec, finetune, saved.plan, seed, train, valid)?;
        for (what, trainer) in [("classifier", &saved.classifier), ("random-init twin", &saved.baseline)] {
            if trainer.net().spec() != spec {
                return Err(format!("the pretraining {what} is not the classifier the snapshot describes"));
            }
        }
        let layer = match saved.phase {
            Phase::Pretraining { layer } if layer >= fresh.n_hidden => {
                return Err(format!("pretraining layer {} of a classifier with {} hidden layers", layer + 1, fresh.n_hidden))
            }
            Phase::Pretraining { layer } => layer,
            _ => fresh.n_hidden - 1,
        };
        let expected = layer_autoencoder(spec, layer, &fresh.plan.autoencoder, seed)?;
        if saved.autoencoder.net().spec() != expected.net().spec() {
            return Err(format!("the pretraining autoencoder is not the one for layer {}", layer + 1));
        }
        if let Phase::Pretraining { layer } = saved.phase {
            if layer > 0 {
                fresh.codes = encode_through(saved.classifier.net(), layer, train);
            }
        }
        fresh.phase = saved.phase;
        fresh.classifier = saved.classifier;
        fresh.autoencoder = saved.autoencoder;
        fresh.baseline = saved.baseline;
        fresh.pretrained_curve = saved.pretrained_curve;
        fresh.baseline_curve = saved.baseline_curve;
        fresh.next_eval = saved.next_eval;
        Ok(fresh)
    }

    /// When fine-tuning is next scored, in labelled examples seen (snapshots keep it).
    pub fn next_eval(&self) -> u64 {
        self.next_eval
    }

    pub fn n_hidden(&self) -> usize {
        self.n_hidden
    }

    /// One minibatch of whatever the current phase trains (fine-tuning: one for the
    /// classifier and one for the baseline). Returns the stats of the network the phase is
    /// about, or None when the plan is done.
    pub fn step(&mut self, clock: Option<&dyn crate::clock::Clock>) -> Result<Option<StepStats>, TrainError> {
        match self.phase {
            Phase::Pretraining { layer } => {
                let stats = self.autoencoder.step_timed(&self.codes, clock)?;
                if self.autoencoder.progress().examples_seen >= self.plan.epochs_per_layer * self.n_train as u64 {
                    self.finish_layer(layer).map_err(TrainError::Data)?;
                }
                Ok(Some(stats))
            }
            Phase::FineTuning => {
                if self.classifier.progress().examples_seen >= self.next_eval {
                    self.score();
                    self.next_eval += EVAL_EVERY;
                }
                let stats = self.classifier.step_timed(&self.labeled, clock)?;
                self.baseline.step(&self.labeled)?;
                if self.classifier.progress().examples_seen >= self.plan.finetune_epochs * self.labeled.n_images as u64 {
                    self.score();
                    self.phase = Phase::Done;
                }
                Ok(Some(stats))
            }
            Phase::Done => Ok(None),
        }
    }

    /// Apply new settings to both classifiers (the pretrained one and its twin).
    pub fn set_config(&mut self, config: TrainConfig) -> Result<(), String> {
        let mut baseline = self.baseline.clone();
        baseline.set_config(config.clone())?;
        self.classifier.set_config(config)?;
        self.baseline = baseline;
        Ok(())
    }

    fn score(&mut self) {
        let seen = self.classifier.progress().examples_seen as f64;
        let accuracy = |t: &Trainer, valid: &Dataset| evaluate(t.net(), valid).accuracy.unwrap_or(0.0);
        self.pretrained_curve.push((seen, accuracy(&self.classifier, &self.valid)));
        self.baseline_curve.push((seen, accuracy(&self.baseline, &self.valid)));
    }

    /// Keep the trained encoder in the classifier, encode the data for the next layer, and
    /// move on (to fine-tuning after the last hidden layer).
    fn finish_layer(&mut self, layer: usize) -> Result<(), String> {
        self.classifier.net_mut().copy_layer_from(layer, self.autoencoder.net(), 0)?;
        if layer + 1 < self.n_hidden {
            self.codes = encode_through(self.autoencoder.net(), 1, &self.codes);
            self.autoencoder = layer_autoencoder(&self.spec, layer + 1, &self.plan.autoencoder, self.seed)?;
            self.phase = Phase::Pretraining { layer: layer + 1 };
        } else {
            self.phase = Phase::FineTuning;
        }
        Ok(())
    }

    /// Examples trained so far in all phases (for progress displays).
    pub fn examples_seen(&self) -> u64 {
        let per_layer = self.plan.epochs_per_layer * self.n_train as u64;
        let pretraining = match self.phase {
            Phase::Pretraining { layer } => layer as u64 * per_layer + self.autoencoder.progress().examples_seen,
            _ => self.n_hidden as u64 * per_layer,
        };
        pretraining + self.classifier.progress().examples_seen + self.baseline.progress().examples_seen
    }

    /// A line saying where the plan stands.
    pub fn describe(&self) -> String {
        match self.phase {
            Phase::Pretraining { layer } => {
                let ae = &self.autoencoder.net().layers()[0];
                format!("pretraining layer {} of {} as an autoencoder ({} → {} → {})", layer + 1, self.n_hidden, ae.n_in(), ae.n_out(), ae.n_in())
            }
            Phase::FineTuning => format!("fine-tuning on {} labels, beside random init", self.labeled.n_images),
            Phase::Done => "done".into(),
        }
    }
}

/// The autoencoder that pretrains hidden layer `layer` of the classifier `spec`: its inputs are
/// the codes of the layer below (the pixels for layer 0); its encoder has the classifier
/// layer's size and activation; its decoder is tied, with a sigmoid and cross-entropy where the
/// inputs lie in [0, 1] (pixels, sigmoid codes) and linear with squared error otherwise.
fn layer_autoencoder(spec: &NetSpec, layer: usize, config: &TrainConfig, seed: u64) -> Result<Trainer, String> {
    let checked = spec.check()?;
    let (width, height, depth) = checked.input_shape;
    let input = if layer == 0 { LayerSpec::Input { width, height, depth } } else { LayerSpec::Input { width: checked.layers[layer].n_in, height: 1, depth: 1 } };
    let unit_range = layer == 0 || checked.layers[layer - 1].activation == Activation::Sigmoid;
    let hidden = &checked.layers[layer];
    let ae = NetSpec {
        layers: vec![
            input,
            LayerSpec::Fc { name: Some("enc".into()), units: hidden.n_out, activation: hidden.activation, tied: None, code: true, top_k: None, init_std: None },
            LayerSpec::Fc {
                name: Some("dec".into()),
                units: hidden.n_in,
                activation: if unit_range { Activation::Sigmoid } else { Activation::Linear },
                tied: Some("enc".into()),
                code: false,
                top_k: None,
                init_std: None,
            },
            LayerSpec::Output { loss: if unit_range { Loss::Bce } else { Loss::Mse }, mean: false },
        ],
    };
    // Each layer's autoencoder draws its own initialisation from a seed derived from the run's.
    Trainer::new(&ae, config.clone(), seed.wrapping_add(1 + layer as u64))
}

/// A pretraining plan's state as a snapshot keeps it.
pub struct Resumed {
    pub plan: PretrainPlan,
    pub phase: Phase,
    pub classifier: Trainer,
    pub autoencoder: Trainer,
    pub baseline: Trainer,
    pub pretrained_curve: Vec<(f64, f64)>,
    pub baseline_curve: Vec<(f64, f64)>,
    pub next_eval: u64,
}

/// Every example's activations at the output of the classifier's first `layers` layers, as
/// 1-row vectors: what the chained encoders made of them, in the same chunks of 500.
fn encode_through(classifier: &crate::model::Network, layers: usize, data: &Dataset) -> Dataset {
    const CHUNK: usize = crate::budget::EVAL_ROWS;
    let n_px = data.n_pixels();
    let units = classifier.layers()[layers - 1].n_out();
    let mut codes = Vec::with_capacity(data.n_images * units);
    let mut work = crate::model::network::Workspace::default();
    for chunk in data.pixels.chunks(CHUNK * n_px) {
        codes.extend_from_slice(classifier.infer(&mut work, chunk, chunk.len() / n_px, None).activations(layers - 1));
    }
    Dataset::new(units, 1, codes, data.labels.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic;
    use crate::model::optim::Optimizer;

    fn config(batch_size: usize) -> TrainConfig {
        TrainConfig { optimizer: Optimizer::Sgd { lr: 0.1, momentum: 0.0, nesterov: false }, batch_size, l1_decay: 0.0, l2_decay: 0.0, noise: Default::default(), k_schedule: None, beta: None }
    }

    /// Twenty copies of each of the ten bar images, class by class (as the digits are stored),
    /// so the fixed split puts two of each class in validation.
    fn bar_classes() -> Dataset {
        let (labels, pixels) = synthetic::bars(10, 255);
        let order: Vec<usize> = (0..200).map(|i| i / 20).collect();
        let images = order.iter().flat_map(|&c| pixels[c * 784..(c + 1) * 784].iter().map(|&p| p as f32 / 255.0)).collect();
        Dataset::new(28, 28, images, Some(order.iter().map(|&c| labels[c]).collect()))
    }

    #[test]
    fn phases_run_in_order_and_the_encoders_land_in_the_classifier() {
        let (train, valid) = bar_classes().split();
        let spec = NetSpec::from_json(
            r#"{"layers":[{"type":"input","width":28,"height":28,"depth":1},
                {"type":"fc","name":"h1","units":12,"activation":"sigmoid"},
                {"type":"fc","name":"h2","units":6,"activation":"sigmoid"},
                {"type":"fc","name":"classes","units":10,"activation":"linear"},
                {"type":"output","loss":"softmax"}]}"#,
        )
        .unwrap();
        let mut autoencoder = config(10);
        autoencoder.optimizer = Optimizer::Sgd { lr: 0.01, momentum: 0.0, nesterov: false };
        let plan = PretrainPlan { n_labels: 50, epochs_per_layer: 3, finetune_epochs: 100, autoencoder };
        let mut p = Pretrainer::new(&spec, config(10), plan, 3, &train, valid).unwrap();
        let mut phases = vec![p.phase];
        while p.phase != Phase::Done {
            let before = p.phase;
            let encoder = p.autoencoder.net().params()[0].value.clone();
            p.step(None).unwrap();
            if p.phase != before {
                phases.push(p.phase);
                if before == (Phase::Pretraining { layer: 0 }) {
                    assert_eq!(p.classifier.net().params()[0].value.len(), encoder.len());
                    assert_ne!(p.classifier.net().params()[0].value, p.baseline.net().params()[0].value, "layer 1 now holds the encoder");
                }
            }
        }
        assert_eq!(phases, vec![Phase::Pretraining { layer: 0 }, Phase::Pretraining { layer: 1 }, Phase::FineTuning, Phase::Done]);
        assert_eq!(p.classifier.progress().examples_seen, 100 * 50);
        assert_eq!(p.classifier.progress().examples_seen, p.baseline.progress().examples_seen);
        assert_eq!(p.step(None).unwrap(), None, "nothing left to train");
        assert!(p.pretrained_curve.len() >= 2 && p.pretrained_curve.len() == p.baseline_curve.len());
        // Fine-tuning from the pretrained start learns the ten bars well above chance (0.1).
        // (Whether pretraining beats random weights is a property of deep nets on real digits:
        // `bottleneck train --preset pretrain` measures it; bars are too easy to show it.)
        let last = p.pretrained_curve.last().unwrap().1;
        assert!(last >= 0.6, "pretrained accuracy {last}: {:?}", p.pretrained_curve);
    }

    #[test]
    fn refuses_what_it_cannot_pretrain() {
        let (train, valid) = bar_classes().split();
        let plan = PretrainPlan { n_labels: 5, epochs_per_layer: 1, finetune_epochs: 1, autoencoder: config(5) };
        let autoencoder = NetSpec::from_json(r#"{"layers":[{"type":"input","width":28,"height":28,"depth":1},{"type":"fc","units":784,"activation":"linear"},{"type":"output","loss":"mse"}]}"#).unwrap();
        let err = Pretrainer::new(&autoencoder, config(5), plan.clone(), 1, &train, valid.clone()).err().unwrap();
        assert!(err.contains("needs a classifier"), "{err}");
        let unlabelled = Dataset::new(28, 28, train.pixels.clone(), None);
        let classifier = NetSpec::from_json(r#"{"layers":[{"type":"input","width":28,"height":28,"depth":1},{"type":"fc","units":8,"activation":"sigmoid"},{"type":"fc","units":10,"activation":"linear"},{"type":"output","loss":"softmax"}]}"#).unwrap();
        assert!(Pretrainer::new(&classifier, config(5), plan, 1, &unlabelled, valid).err().unwrap().contains("labels"));
    }
}
