//! The training loop: one seeded generator, a network, its optimiser and the data order, stepped
//! one minibatch at a time. Settings live in one `TrainConfig` that may change between any two
//! steps. A step whose loss is not finite is refused and the parameters from before the previous
//! update come back, so a diverging learning rate never costs the network.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::budget::{BUDGET, CHECKPOINTS};
use crate::clock::Clock;
use crate::data::{Dataset, Noise};
use crate::model::loss::LossSums;
use crate::model::optim::{self, Decay, OptimState, Optimizer};
use crate::model::network::{step_uses_threads, Workspace};
use crate::model::{NetSpec, Network};
use crate::rng::{Rng, RngState};

/// Everything about how to train, as one typed value (presets and snapshots store it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub optimizer: Optimizer,
    pub batch_size: usize,
    #[serde(default, serialize_with = "crate::decimal::f32")]
    pub l1_decay: f32,
    #[serde(default, serialize_with = "crate::decimal::f32")]
    pub l2_decay: f32,
    /// Corruption applied to the input (the target stays clean).
    #[serde(default)]
    pub noise: Noise,
    /// Lower top-k layers' k linearly from `start` to their spec's k (Makhzani & Frey).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k_schedule: Option<KSchedule>,
    /// A gaussian (variational) layer's weight on its KL term, β: 1 is the variational
    /// autoencoder's ELBO, 0 a plain autoencoder with a noisy code (Higgins et al.'s β-VAE
    /// beyond 1). None for a network without one (`Experiment` keeps the two in step); a
    /// gaussian layer without it trains with 1.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "crate::decimal::option_f32")]
    pub beta: Option<f32>,
}

/// β at most this: beyond it the KL term pins every code to the prior and nothing is learned.
pub const MAX_BETA: f32 = 100.0;

/// k falls linearly from `start` to the layer's target over the first `anneal_examples`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KSchedule {
    pub start: usize,
    #[serde(default)]
    pub anneal_examples: u64,
}

impl KSchedule {
    pub fn validate(&self) -> Result<(), String> {
        if self.start == 0 || self.start > crate::model::spec::MAX_UNITS {
            return Err(format!("k_schedule.start must be between 1 and {}, got {}", crate::model::spec::MAX_UNITS, self.start));
        }
        if self.anneal_examples > crate::budget::MAX_COUNT {
            return Err(format!("k_schedule.anneal_examples must be at most 2^53, got {}", self.anneal_examples));
        }
        Ok(())
    }

    pub fn k_at(&self, target: usize, examples_seen: u64) -> usize {
        if self.start <= target || examples_seen >= self.anneal_examples || self.anneal_examples == 0 {
            return target;
        }
        let remaining = 1.0 - examples_seen as f64 / self.anneal_examples as f64;
        target + ((self.start - target) as f64 * remaining).round() as usize
    }
}

pub const MAX_BATCH: usize = 4096;

/// L1 and L2 decay above this pull every weight to zero in a step or two (ConvNetJS's demo uses
/// 0.001): refused rather than left to blow up.
pub const MAX_DECAY: f32 = 1.0;

impl TrainConfig {
    pub fn validate(&self) -> Result<(), String> {
        self.optimizer.validate()?;
        if self.batch_size == 0 || self.batch_size > MAX_BATCH {
            return Err(format!("batch_size must be between 1 and {MAX_BATCH}, got {}", self.batch_size));
        }
        if let Some(beta) = self.beta.filter(|b| !(b.is_finite() && (0.0..=MAX_BETA).contains(b))) {
            return Err(format!("beta must be a number between 0 and {MAX_BETA}, got {beta}"));
        }
        for (name, v) in [("l1_decay", self.l1_decay), ("l2_decay", self.l2_decay)] {
            if !(v.is_finite() && (0.0..=MAX_DECAY).contains(&v)) {
                return Err(format!("{name} must be a number between 0 and {MAX_DECAY}, got {v}"));
            }
        }
        if let Some(schedule) = &self.k_schedule {
            schedule.validate()?;
        }
        self.noise.validate()
    }

    fn decay(&self) -> Decay {
        Decay { l1: self.l1_decay, l2: self.l2_decay }
    }
}

/// Where training stands; saved in snapshots so a run resumes exactly.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SavedProgress", into = "SavedProgress")]
pub struct Progress {
    pub examples_seen: u64,
    pub steps: u64,
    /// Completed passes over the training data.
    pub epoch: u64,
    /// Position in `order` of the next example.
    pub cursor: usize,
    /// This epoch's shuffled order of training-example indices.
    pub order: Vec<u32>,
    /// What `order` was shuffled from, so a snapshot can say that instead of the order itself.
    pub shuffled: Option<Shuffle>,
}

/// An epoch's order as the generator made it: its state just before shuffling `examples`
/// indices. Shuffling `0..examples` from that state again gives the same order, bit for bit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shuffle {
    pub from: RngState,
    pub examples: u32,
}

/// `Progress` as a snapshot writes it: the order as the shuffle that made it (a few dozen
/// bytes) where that is known, else the order itself (as version 1 files have it; 9,000
/// indices are 44 KB of text, most of a small network's file).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedProgress {
    examples_seen: u64,
    steps: u64,
    epoch: u64,
    cursor: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    order: Option<Vec<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shuffled: Option<Shuffle>,
}

impl From<Progress> for SavedProgress {
    fn from(p: Progress) -> SavedProgress {
        let order = if p.shuffled.is_some() { None } else { Some(p.order) };
        SavedProgress { examples_seen: p.examples_seen, steps: p.steps, epoch: p.epoch, cursor: p.cursor, order, shuffled: p.shuffled }
    }
}

impl TryFrom<SavedProgress> for Progress {
    type Error = String;
    fn try_from(s: SavedProgress) -> Result<Progress, String> {
        let order = match (s.order, &s.shuffled) {
            (Some(order), _) => order,
            (None, Some(shuffle)) => {
                // Judged before the order is made, as data (a number an example).
                BUDGET.judge_data(&format!("progress.shuffled: an order of {} examples", shuffle.examples), u64::from(shuffle.examples))?;
                let mut rng = Rng::from_state(&shuffle.from).map_err(|e| format!("progress.shuffled.from: {e}"))?;
                shuffled_order(&mut rng, shuffle.examples as usize)
            }
            (None, None) => Vec::new(),
        };
        Ok(Progress { examples_seen: s.examples_seen, steps: s.steps, epoch: s.epoch, cursor: s.cursor, order, shuffled: s.shuffled })
    }
}

/// `0..n` shuffled by `rng`: an epoch's order.
fn shuffled_order(rng: &mut Rng, n: usize) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    rng.shuffle(&mut order);
    order
}

/// What one step measured, on the batch it trained (before the update).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepStats {
    pub batch: usize,
    pub mse_per_pixel: f64,
    /// Present when the output is sigmoid.
    pub bce_per_pixel: Option<f64>,
    /// Share of the batch classified right (classifiers only).
    pub accuracy: Option<f64>,
    /// The training objective per example (see model/loss.rs for units).
    pub objective: f64,
    /// Milliseconds spent in the forward pass, and in backward pass plus update, when the
    /// trainer has a clock.
    pub forward_ms: f64,
    pub backward_ms: f64,
}

/// A network's reconstruction error on a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Eval {
    pub n_images: usize,
    /// For a classifier: the squared error of the class probabilities, per output.
    pub mse_per_pixel: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bce_per_pixel: Option<f64>,
    /// Classifiers: the share classified right, and the cross-entropy per example.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cross_entropy: Option<f64>,
    /// A variational autoencoder's negative ELBO and its two parts (`Elbo`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elbo: Option<Elbo>,
}

/// A variational autoencoder's bound, per image in nats, averaged over `ELBO_DRAWS` draws of
/// its code: the reconstruction term (the loss summed over pixels: for `bce`, −ln p(x | z)) and
/// KL(q(z | x) ‖ N(0, I)); their sum is the negative ELBO, an upper bound on −ln p(x).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Elbo {
    pub negative_elbo: f64,
    pub reconstruction: f64,
    pub kl: f64,
}

/// Draws of ε per image behind `Elbo`, from a generator of their own (seeded by
/// `ELBO_SEED`, never the run's, so measuring changes no run).
pub const ELBO_DRAWS: usize = 4;
const ELBO_SEED: u64 = 0x0e1b0;

#[derive(Clone, Debug, PartialEq)]
pub enum TrainError {
    /// The loss went NaN or infinite; the parameters were rolled back.
    Diverged(String),
    /// The data does not fit the network.
    Data(String),
}

impl std::fmt::Display for TrainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrainError::Diverged(m) | TrainError::Data(m) => f.write_str(m),
        }
    }
}

/// A healthy state of training, kept to roll back to.
#[derive(Clone, Debug, Default)]
struct Checkpoint {
    values: Vec<Vec<f32>>,
    optim: OptimState,
    progress: Progress,
    rng: Option<Rng>,
    ever_selected: Vec<bool>,
    /// The smoothed loss when it was taken.
    loss: f64,
}

/// A checkpoint is taken every this many steps, when the smoothed loss is within
/// CHECKPOINT_HEALTH of its best.
const CHECKPOINT_EVERY: u64 = 200;
const CHECKPOINT_HEALTH: f64 = 1.5;
/// A smoothed loss beyond this many times its best means training was going wrong before it
/// diverged: the rollback then goes to a checkpoint rather than one update back.
const DIVERGING: f64 = 4.0;
/// A parameter beyond this magnitude means an update exploded (healthy weights are O(1)).
pub const EXPLODED: f32 = 1e4;

/// What is wrong with parameters and optimiser state after an update, if anything (a
/// gradient of 1e20 squares to infinity in Adam's state while the weights stay finite).
fn unhealthy(params: &[crate::model::network::Param], optim: &OptimState) -> Option<String> {
    for (p, slots) in params.iter().zip(&optim.slots) {
        if let Some(v) = p.value.iter().find(|v| !v.is_finite() || v.abs() > EXPLODED) {
            return Some(if v.is_finite() {
                format!("an update pushed a value of {} to {v:.3e}, past {EXPLODED:.0e}", p.name)
            } else {
                format!("an update made a value of {} {v}", p.name)
            });
        }
        if slots.iter().flatten().any(|v| !v.is_finite()) {
            return Some(format!("the optimiser's running averages for {} overflowed", p.name));
        }
    }
    None
}

/// One network, its optimiser and its data order, driven by one seeded generator.
#[derive(Clone, Debug)]
pub struct Trainer {
    /// The seed the network was initialised from (reset starts over from it).
    seed: u64,
    /// Per unit of the first top-k layer: whether training has ever kept it.
    ever_selected: Vec<bool>,
    net: Network,
    config: TrainConfig,
    optim: OptimState,
    rng: Rng,
    progress: Progress,
    /// Parameters and optimiser state from before the latest update, for rolling back.
    backup: Option<(Vec<Vec<f32>>, OptimState)>,
    /// Healthy states taken now and then, newest last, to roll back to when training has been
    /// going wrong for a while before it diverged.
    checkpoints: VecDeque<Checkpoint>,
    /// The training objective per example, smoothed, and the lowest it has been.
    loss_ema: Option<f64>,
    best_loss: f64,
    batch_idx: Vec<u32>,
    inputs: Vec<f32>,  // (batch, n_inputs), corrupted when noise is on
    targets: Vec<f32>, // (batch, n_inputs), clean
    eps: Vec<f32>,     // a gaussian layer's ε (batch, its units)
}

impl Trainer {
    /// A fresh network initialised from `seed`; the same generator then drives shuffles and noise.
    pub fn new(spec: &NetSpec, config: TrainConfig, seed: u64) -> Result<Trainer, String> {
        config.validate()?;
        BUDGET.judge_training(&spec.check()?, config.batch_size, &config.optimizer)?;
        let mut rng = Rng::from_seed(seed);
        let net = Network::new(spec, &mut rng)?;
        let optim = OptimState::new(&config.optimizer, net.params());
        Ok(Trainer::from_parts(seed, net, config, optim, rng, Progress::default()))
    }

    /// A trainer for an existing network (imported weights): fresh optimiser state, data order
    /// and generator from `seed`.
    pub fn with_network(seed: u64, net: Network, config: TrainConfig) -> Result<Trainer, String> {
        config.validate()?;
        BUDGET.judge_training(net.checked(), config.batch_size, &config.optimizer)?;
        let optim = OptimState::new(&config.optimizer, net.params());
        Ok(Trainer::from_parts(seed, net, config, optim, Rng::from_seed(seed), Progress::default()))
    }

    /// Reassemble a trainer from its saved parts (snapshots check them first).
    pub fn from_parts(seed: u64, net: Network, config: TrainConfig, optim: OptimState, rng: Rng, progress: Progress) -> Trainer {
        Trainer {
            seed,
            ever_selected: Vec::new(),
            net,
            config,
            optim,
            rng,
            progress,
            backup: None,
            checkpoints: VecDeque::new(),
            loss_ema: None,
            best_loss: f64::INFINITY,
            batch_idx: Vec::new(),
            inputs: Vec::new(),
            targets: Vec::new(),
            eps: Vec::new(),
        }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn net(&self) -> &Network {
        &self.net
    }

    /// The network for changes that keep its shape (pretraining copies encoders in).
    pub fn net_mut(&mut self) -> &mut Network {
        &mut self.net
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    pub fn optim(&self) -> &OptimState {
        &self.optim
    }

    pub fn rng(&self) -> &Rng {
        &self.rng
    }

    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Per unit of the first top-k layer, whether training has ever kept it (empty without one).
    pub fn ever_selected(&self) -> &[bool] {
        &self.ever_selected
    }

    /// Replace the settings. A different optimiser (or one needing other state) starts fresh
    /// state; changing only hyper-parameters keeps it.
    pub fn set_config(&mut self, config: TrainConfig) -> Result<(), String> {
        config.validate()?;
        BUDGET.judge_training(self.net.checked(), config.batch_size, &config.optimizer)?;
        let same_kind = config.optimizer.name() == self.config.optimizer.name();
        if !same_kind || !self.optim.fits(&config.optimizer, self.net.params()) {
            self.optim = OptimState::new(&config.optimizer, self.net.params());
            self.backup = None;
            // Checkpoints hold the old optimiser's state: they cannot come back under a new one.
            self.checkpoints.clear();
        }
        self.config = config;
        Ok(())
    }

    /// Train one minibatch of `config.batch_size` examples from `data`.
    pub fn step(&mut self, data: &Dataset) -> Result<StepStats, TrainError> {
        self.step_timed(data, None)
    }

    /// `step`, timing the forward pass and the backward pass with its update on `clock`. A step
    /// under `model::network::THREADED_STEP_FLOPS` matrix-product flops runs on one thread.
    pub fn step_timed(&mut self, data: &Dataset, clock: Option<&dyn Clock>) -> Result<StepStats, TrainError> {
        self.step_at_most(data, clock, usize::MAX)
    }

    /// `step_timed` on at most `rows` examples: the batch is cut short where a run must stop at
    /// an exact count (a link's `stop=`). The next step starts where this one ended.
    pub fn step_at_most(&mut self, data: &Dataset, clock: Option<&dyn Clock>, rows: usize) -> Result<StepStats, TrainError> {
        let batch = self.config.batch_size.min(rows.max(1));
        if step_uses_threads(self.net.checked(), batch) {
            self.step_on_threads(data, clock, batch)
        } else {
            crate::model::matmul::on_one_thread(|| self.step_on_threads(data, clock, batch))
        }
    }

    fn step_on_threads(&mut self, data: &Dataset, clock: Option<&dyn Clock>, batch: usize) -> Result<StepStats, TrainError> {
        let n_inputs = self.net.n_inputs();
        if data.n_pixels() != n_inputs {
            return Err(TrainError::Data(format!(
                "the network takes {n_inputs} inputs but the images have {} pixels",
                data.n_pixels()
            )));
        }
        if data.n_images == 0 {
            return Err(TrainError::Data("the training set is empty".into()));
        }
        if self.net.is_classifier() && data.labels.is_none() {
            return Err(TrainError::Data("a classifier needs labelled data".into()));
        }
        self.next_batch_indices(data, batch);
        data.gather(&self.batch_idx, &mut self.targets);
        self.inputs.clone_from(&self.targets);
        self.config.noise.apply(&mut self.inputs, &mut self.rng);
        if self.net.is_classifier() {
            // Only this batch's labels are checked: scanning the whole set every step would cost
            // more than the check is worth.
            let labels = data.labels.as_ref().expect("checked above");
            let n_classes = self.net.n_outputs();
            if let Some(&i) = self.batch_idx.iter().find(|&&i| labels[i as usize] as usize >= n_classes) {
                return Err(TrainError::Data(format!("label {} of example {i} is not one of the classifier's {n_classes} classes", labels[i as usize])));
            }
            one_hot(self.batch_idx.iter().map(|&i| labels[i as usize]), n_classes, &mut self.targets);
        }

        self.apply_k_schedule();
        // A gaussian layer's ε for the whole batch, in example order, from the run's generator
        // (after the input noise): the same on any number of shards or threads.
        self.eps.clear();
        if let Some(g) = self.net.gaussian_layer() {
            let units = self.net.layers()[g].n_out();
            self.eps.extend((0..batch * units).map(|_| self.rng.normal()));
            self.net.set_beta(self.config.beta.unwrap_or(1.0));
        }
        let now = || clock.map_or(0.0, |c| c.now_ms());
        let t0 = now();
        // The batch in shards on the threads (`Network::forward_shards`).
        self.net.forward_shards(&self.inputs, batch, (!self.eps.is_empty()).then_some(&self.eps[..]));
        let t1 = now();
        self.note_selection();
        let sums = self.net.backward_shards(&self.targets);
        let objective = self.net.objective(&sums);
        // The squared error sums every output, so it is finite only if they all are.
        if !objective.is_finite() || !sums.sse.is_finite() {
            self.net.zero_grads();
            // These parameters came from the previous update, which is undone.
            return Err(TrainError::Diverged(self.recover(&format!("the loss became {objective}"), true)));
        }
        let mut stats = self.stats(&sums, batch, objective);

        // One pass: the update, its backup (to undo it) and the health check of what it wrote.
        let mut backup = self.backup.take().unwrap_or_default();
        let healthy = optim::apply_with_backup(&self.config.optimizer, &mut self.optim, self.net.params_mut(), self.config.decay(), batch, &mut backup, EXPLODED);
        self.backup = Some(backup);
        if !healthy {
            let problem = unhealthy(self.net.params(), &self.optim).unwrap_or_else(|| "an update broke a parameter".into());
            return Err(TrainError::Diverged(self.recover(&problem, false)));
        }
        let t2 = now();
        stats.forward_ms = t1 - t0;
        stats.backward_ms = t2 - t1;
        self.progress.examples_seen = self.progress.examples_seen.saturating_add(batch as u64);
        self.progress.steps = self.progress.steps.saturating_add(1);
        self.note_health(stats.objective);
        Ok(stats)
    }

    /// Follow the smoothed loss, and keep a checkpoint now and then while it is healthy.
    fn note_health(&mut self, objective: f64) {
        let ema = self.loss_ema.map_or(objective, |old| 0.95 * old + 0.05 * objective);
        self.loss_ema = Some(ema);
        self.best_loss = self.best_loss.min(ema);
        if self.progress.steps.is_multiple_of(CHECKPOINT_EVERY) && ema <= CHECKPOINT_HEALTH * self.best_loss {
            let mut checkpoint = if self.checkpoints.len() as u64 >= CHECKPOINTS { self.checkpoints.pop_front().expect("full") } else { Checkpoint::default() };
            checkpoint.values.resize(self.net.params().len(), Vec::new());
            for (saved, p) in checkpoint.values.iter_mut().zip(self.net.params()) {
                saved.clone_from(&p.value);
            }
            checkpoint.optim.clone_from(&self.optim);
            checkpoint.progress.clone_from(&self.progress);
            checkpoint.rng = Some(self.rng.clone());
            checkpoint.ever_selected.clone_from(&self.ever_selected);
            checkpoint.loss = ema;
            self.checkpoints.push_back(checkpoint);
        }
    }

    fn stats(&self, sums: &LossSums, batch: usize, objective: f64) -> StepStats {
        let n_values = (batch * self.net.n_outputs()) as f64;
        StepStats {
            batch,
            mse_per_pixel: sums.sse / n_values,
            bce_per_pixel: self.net.output_is_sigmoid().then(|| sums.bce / n_values),
            accuracy: self.net.is_classifier().then(|| sums.correct as f64 / batch as f64),
            objective: objective / batch as f64,
            forward_ms: 0.0,
            backward_ms: 0.0,
        }
    }

    /// Roll back after a divergence and say what happened: to the state from before the
    /// update that broke things (`previous`: the update of the step before this one) while the
    /// loss had stayed healthy up to it, else to the newest healthy checkpoint.
    fn recover(&mut self, problem: &str, previous: bool) -> String {
        let step = self.progress.steps + 1;
        let growth = self.loss_ema.map_or(1.0, |ema| ema / self.best_loss);
        let healthy = growth <= DIVERGING;
        if healthy || self.checkpoints.is_empty() {
            if let Some((values, optim_state)) = self.backup.take() {
                for (p, saved) in self.net.params_mut().iter_mut().zip(values) {
                    p.value = saved;
                }
                self.optim = optim_state;
                if previous {
                    self.progress.steps = self.progress.steps.saturating_sub(1);
                    self.progress.examples_seen = self.progress.examples_seen.saturating_sub(self.config.batch_size as u64);
                }
                return format!(
                    "training diverged at step {step}: {problem}. The parameters from before that update are restored; lower the learning rate and resume."
                );
            }
        }
        if let Some(checkpoint) = self.checkpoints.back() {
            for (p, saved) in self.net.params_mut().iter_mut().zip(&checkpoint.values) {
                p.value.clone_from(saved);
            }
            self.optim.clone_from(&checkpoint.optim);
            self.progress.clone_from(&checkpoint.progress);
            self.rng = checkpoint.rng.clone().expect("checkpoints hold a generator");
            self.ever_selected.clone_from(&checkpoint.ever_selected);
            self.loss_ema = Some(checkpoint.loss);
            self.backup = None;
            return format!(
                "training diverged at step {step}: {problem}, after the loss had grown to {growth:.0} times its best. The network is back at step {}, its last healthy checkpoint; lower the learning rate and resume.",
                self.progress.steps
            );
        }
        format!("training diverged at step {step}: {problem}, and there is no earlier state to return to. Lower the learning rate or reset.")
    }

    /// Fill `batch_idx` from the epoch order, reshuffling when an epoch ends. Epoch 0 trains on
    /// the data's first part, later ones on all of it (`Dataset::epoch_len`); an order kept from
    /// a snapshot runs to its end whatever its length.
    fn next_batch_indices(&mut self, data: &Dataset, batch: usize) {
        self.batch_idx.clear();
        if self.progress.order.is_empty() || self.progress.order.len() > data.n_images {
            self.new_order(data.epoch_len(self.progress.epoch));
        }
        while self.batch_idx.len() < batch {
            if self.progress.cursor >= self.progress.order.len() {
                self.progress.epoch += 1;
                self.new_order(data.epoch_len(self.progress.epoch));
            }
            self.batch_idx.push(self.progress.order[self.progress.cursor]);
            self.progress.cursor += 1;
        }
    }

    /// Whether the next batch of `rows` examples is in `data`: always, unless its images are
    /// still arriving, when only the first epoch's (its first part's) can be trained. Training
    /// waits there rather than start the next epoch on fewer digits, so a seeded run takes the
    /// same examples in the same order however fast its data came.
    pub fn has_next_batch(&self, data: &Dataset, rows: usize) -> bool {
        let progress = &self.progress;
        let order_here = progress.order.is_empty() || progress.order.len() <= data.n_images;
        let rows = self.config.batch_size.min(rows.max(1));
        !data.arriving || (progress.epoch == 0 && order_here && progress.cursor + rows <= data.first_part)
    }

    fn new_order(&mut self, n_images: usize) {
        self.progress.shuffled = Some(Shuffle { from: self.rng.state(), examples: n_images as u32 });
        self.progress.order = shuffled_order(&mut self.rng, n_images);
        self.progress.cursor = 0;
    }

    /// Set every top-k layer's current k from the schedule (or its spec's target).
    fn apply_k_schedule(&mut self) {
        let seen = self.progress.examples_seen;
        for layer_idx in 0..self.net.layers().len() {
            if let Some(target) = self.net.layers()[layer_idx].kind().top_k() {
                let k = self.config.k_schedule.map_or(target, |s| s.k_at(target, seen));
                self.net.set_top_k(layer_idx, k);
            }
        }
    }

    fn note_selection(&mut self) {
        let Some(layer_idx) = self.net.layers().iter().position(|l| l.kind().top_k().is_some()) else { return };
        let n_units = self.net.layers()[layer_idx].n_out();
        self.ever_selected.resize(n_units, false);
        if self.net.layers()[layer_idx].top_k().is_none() {
            self.ever_selected.iter_mut().for_each(|e| *e = true);
            return;
        }
        for kept in self.net.shard_selections(layer_idx) {
            kept.chunks_exact(n_units).for_each(|row| {
                self.ever_selected.iter_mut().zip(row).for_each(|(e, &k)| *e |= k);
            });
        }
    }

    /// The weight-decay loss of the current parameters under the current settings (a pass over
    /// every weight: computed when asked, not on every step).
    pub fn decay_loss(&self) -> f64 {
        self.net.decay_loss(self.config.l1_decay, self.config.l2_decay)
    }

    /// The last trained batch: inputs as the network saw them (corrupted when noise is on),
    /// clean targets, both (batch, n_inputs), and the training-set indices.
    pub fn last_batch(&self) -> (&[f32], &[f32], &[u32]) {
        (&self.inputs, &self.targets, &self.batch_idx)
    }

    /// Fractional epochs completed, for display.
    pub fn epochs_done(&self) -> f64 {
        let n = self.progress.order.len().max(1) as f64;
        self.progress.epoch as f64 + self.progress.cursor as f64 / n
    }
}

/// Classifier data must carry labels below the number of classes.
fn check_labels(data: &Dataset, n_classes: usize) -> Result<(), String> {
    let labels = data.labels.as_ref().ok_or("a classifier needs labelled data")?;
    match labels.iter().position(|&l| l as usize >= n_classes) {
        Some(pos) => Err(format!("label {} of example {pos} is not one of the classifier's {n_classes} classes", labels[pos])),
        None => Ok(()),
    }
}

/// One-hot rows (n, n_classes) for `labels`.
fn one_hot(labels: impl Iterator<Item = u8>, n_classes: usize, out: &mut Vec<f32>) {
    out.clear();
    for label in labels {
        let start = out.len();
        out.resize(start + n_classes, 0.0);
        out[start + label as usize] = 1.0;
    }
}

/// How a network does over a whole dataset, on clean inputs, in chunks: reconstruction error
/// for an autoencoder; accuracy and cross-entropy for a classifier (labels required).
pub fn evaluate(net: &Network, data: &Dataset) -> Eval {
    const CHUNK: usize = crate::budget::EVAL_ROWS;
    let n_px = data.n_pixels();
    let classifier = net.is_classifier() && check_labels(data, net.n_outputs()).is_ok();
    if net.is_classifier() && !classifier {
        // Without usable labels there is nothing to score a classifier against.
        return Eval { n_images: data.n_images, mse_per_pixel: f64::NAN, bce_per_pixel: None, accuracy: None, cross_entropy: None, elbo: None };
    }
    let mut sums = LossSums::default();
    let mut targets = Vec::new();
    let mut work = Workspace::default();
    let mut start = 0;
    while start < data.n_images {
        let end = (start + CHUNK).min(data.n_images);
        let x = &data.pixels[start * n_px..end * n_px];
        net.infer(&mut work, x, end - start, None);
        let s = if classifier {
            let labels = data.labels.as_ref().expect("checked");
            one_hot(labels[start..end].iter().copied(), net.n_outputs(), &mut targets);
            net.loss_sums_of(&work, &targets)
        } else {
            net.loss_sums_of(&work, x)
        };
        sums.sse += s.sse;
        sums.bce += s.bce;
        sums.ce += s.ce;
        sums.correct += s.correct;
        start = end;
    }
    let n = data.n_images.max(1) as f64;
    let n_values = n * net.n_outputs() as f64;
    Eval {
        n_images: data.n_images,
        mse_per_pixel: sums.sse / n_values,
        bce_per_pixel: net.output_is_sigmoid().then(|| sums.bce / n_values),
        accuracy: classifier.then(|| sums.correct as f64 / n),
        cross_entropy: classifier.then(|| sums.ce / n),
        elbo: elbo(net, data),
    }
}

/// The negative ELBO of a network with a gaussian layer over `data`, in chunks, each image's
/// code drawn `ELBO_DRAWS` times (None without a gaussian layer, or without images).
pub fn elbo(net: &Network, data: &Dataset) -> Option<Elbo> {
    let units = net.layers()[net.gaussian_layer()?].n_out();
    if data.n_images == 0 || net.is_classifier() {
        return None;
    }
    const CHUNK: usize = crate::budget::EVAL_ROWS;
    let n_px = data.n_pixels();
    let mut rng = Rng::from_seed(ELBO_SEED);
    let (mut reconstruction, mut kl) = (0.0, 0.0);
    let mut work = Workspace::default();
    let mut eps = Vec::new();
    for _ in 0..ELBO_DRAWS {
        let mut start = 0;
        while start < data.n_images {
            let end = (start + CHUNK).min(data.n_images);
            let x = &data.pixels[start * n_px..end * n_px];
            eps.clear();
            eps.extend((0..(end - start) * units).map(|_| rng.normal()));
            net.infer_noisy(&mut work, x, end - start, &eps);
            let sums = net.loss_sums_of(&work, x);
            reconstruction += crate::model::loss::objective(net.checked().loss, &sums);
            kl += sums.kl;
            start = end;
        }
    }
    let n = (data.n_images * ELBO_DRAWS) as f64;
    let (reconstruction, kl) = (reconstruction / n, kl / n);
    Some(Elbo { negative_elbo: reconstruction + kl, reconstruction, kl })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_k_schedule_hits_its_end_points() {
        let schedule = KSchedule { start: 100, anneal_examples: 1000 };
        assert_eq!(schedule.k_at(25, 0), 100);
        assert_eq!(schedule.k_at(25, 500), 63); // 25 + 75 · 0.5 = 62.5, rounded
        assert_eq!(schedule.k_at(25, 999), 25);
        assert_eq!(schedule.k_at(25, 1000), 25);
        assert_eq!(schedule.k_at(25, 10_000), 25);
        assert_eq!(schedule.k_at(150, 0), 150, "a target above the start is used as is");
    }

    /// Threads split each step's work (a batch's shards, a product's rows), never its
    /// arithmetic: every preset trains to the same parameters, bit for bit, on one, two or
    /// three threads, with either product backend (pretraining's phases are Trainers too).
    #[test]
    fn the_thread_count_does_not_change_a_single_bit() {
        use crate::model::matmul::{set_backend, Backend};
        let (labels, pixels) = crate::data::synthetic::bars(300, 255);
        let digits = Dataset::new(28, 28, pixels.iter().map(|&p| p as f32 / 255.0).collect(), Some(labels));
        for preset in crate::presets::all().iter().filter(|p| p.pretrain.is_none()) {
            let name = &preset.name;
            let (data, _) = preset.data.build(Some(&digits), 1).unwrap();
            for backend in [Backend::Auto, Backend::Tiles] {
                let train = |threads: usize| {
                    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                    pool.install(|| {
                        set_backend(backend);
                        let mut trainer = Trainer::new(&preset.spec, preset.train.clone(), 7).unwrap();
                        for _ in 0..3 {
                            trainer.step(&data).unwrap();
                        }
                        set_backend(Backend::Auto);
                        trainer.net().params().iter().map(|p| p.value.clone()).collect::<Vec<_>>()
                    })
                };
                let one = train(1);
                assert!(one == train(2) && one == train(3), "{name} ({backend:?}): the thread count changed the result");
            }
        }
    }
}
