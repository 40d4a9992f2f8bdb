//! The training that runs an experiment: a plain trainer, or greedy layer-wise pretraining
//! (which owns the classifier it pretrains and the randomly initialised twin it is compared
//! with), and a companion network trained beside for comparison. One `step` for all of them,
//! so the session never asks which kind it holds; whether its next batch has arrived (the
//! digits' first part trains while the rest download), and the rest's arrival.

use super::experiment::{Experiment, Saved};
use super::monitor::Curves;
use super::{Error, Session};
use crate::clock::Clock;
use crate::data::Dataset;
use crate::model::{NetSpec, Network};
use crate::pretrain::{Phase, Pretrainer, Resumed};
use crate::snapshot::{SavedComparison, SavedPretraining, Snapshot};
use crate::train::{StepStats, TrainConfig, TrainError, Trainer};

/// A second network trained beside the first, on the same data from the same seed.
pub struct Companion {
    pub label: String,
    pub trainer: Trainer,
    pub curves: Curves,
}

pub enum Run {
    Plain(Trainer),
    Pretraining(Box<Pretrainer>),
}

impl Run {
    /// Start `experiment` from scratch on the training and validation data.
    pub fn start(experiment: &Experiment, train: &Dataset, valid: &Dataset) -> Result<Run, String> {
        match &experiment.pretrain {
            None => Ok(Run::Plain(Trainer::new(&experiment.spec, experiment.train.clone(), experiment.seed)?)),
            Some(_) if train.arriving => Err("pretraining draws its labelled digits from all of them, and they are still arriving: pick it again in a few seconds".into()),
            Some(plan) => {
                let pretrainer = Pretrainer::new(&experiment.spec, experiment.train.clone(), plan.clone(), experiment.seed, train, valid.clone())?;
                Ok(Run::Pretraining(Box::new(pretrainer)))
            }
        }
    }

    /// Continue what a snapshot saved, on the experiment's data: the run (pretraining where it
    /// stood) and the comparison that trained beside it.
    pub fn resume(saved: &Snapshot, experiment: &Experiment, train: &Dataset, valid: &Dataset) -> Result<(Run, Vec<Companion>), String> {
        let main = saved.restore()?;
        let run = match &saved.pretraining {
            None => Run::Plain(main),
            Some(p) => {
                let parts = Resumed {
                    plan: p.plan.clone(),
                    phase: p.phase,
                    classifier: main,
                    autoencoder: p.autoencoder.restore().map_err(|e| format!("pretraining autoencoder: {e}"))?,
                    baseline: p.baseline.restore().map_err(|e| format!("pretraining twin: {e}"))?,
                    pretrained_curve: p.pretrained_curve.clone(),
                    baseline_curve: p.baseline_curve.clone(),
                    next_eval: p.next_eval,
                };
                Run::Pretraining(Box::new(Pretrainer::resume(&experiment.spec, experiment.train.clone(), experiment.seed, parts, train, valid.clone())?))
            }
        };
        let companions = saved
            .comparisons
            .iter()
            .map(|c| Ok(Companion { label: c.label.clone(), trainer: c.network.restore().map_err(|e| format!("comparison {}: {e}", c.label))?, curves: Curves::default() }))
            .collect::<Result<_, String>>()?;
        Ok((run, companions))
    }

    /// Everything needed to resume this run and its comparisons exactly.
    pub fn save(&self, experiment: &Experiment, companions: &[Companion]) -> Snapshot {
        let data = &experiment.data;
        let mut snapshot = Snapshot::of(self.trainer(), data);
        snapshot.origin = Some(experiment.origin.name().to_string());
        snapshot.pretraining = self.pretrainer().map(|p| {
            Box::new(SavedPretraining {
                plan: p.plan.clone(),
                phase: p.phase,
                autoencoder: Snapshot::of(&p.autoencoder, data),
                baseline: Snapshot::of(&p.baseline, data),
                pretrained_curve: p.pretrained_curve.clone(),
                baseline_curve: p.baseline_curve.clone(),
                next_eval: p.next_eval(),
            })
        });
        snapshot.comparisons = companions.iter().map(|c| SavedComparison { label: c.label.clone(), network: Snapshot::of(&c.trainer, data) }).collect();
        snapshot
    }

    /// The network people look at: the classifier while pretraining.
    pub fn trainer(&self) -> &Trainer {
        match self {
            Run::Plain(trainer) => trainer,
            Run::Pretraining(p) => &p.classifier,
        }
    }

    pub fn pretrainer(&self) -> Option<&Pretrainer> {
        match self {
            Run::Plain(_) => None,
            Run::Pretraining(p) => Some(p),
        }
    }

    /// One minibatch of whatever the run trains now, of at most `at_most` examples (a stop at an
    /// exact count; pretraining phases keep their batches); None when there is nothing left.
    pub fn step(&mut self, train: &Dataset, clock: &dyn Clock, at_most: Option<u64>) -> Result<Option<StepStats>, TrainError> {
        match self {
            Run::Plain(trainer) => trainer.step_at_most(train, Some(clock), at_most.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX))).map(Some),
            Run::Pretraining(p) => p.step(Some(clock)),
        }
    }

    /// Whether the next batch of at most `at_most` examples has arrived
    /// (`Trainer::has_next_batch`); pretraining, which holds digits of its own from its start,
    /// waits for all of them.
    pub fn has_next_batch(&self, train: &Dataset, at_most: Option<u64>) -> bool {
        match self {
            Run::Plain(trainer) => trainer.has_next_batch(train, at_most.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX))),
            Run::Pretraining(_) => !train.arriving,
        }
    }

    /// New settings for every network the user trains (both classifiers while pretraining);
    /// on an error nothing changed.
    pub fn set_config(&mut self, config: TrainConfig) -> Result<(), String> {
        match self {
            Run::Plain(trainer) => trainer.set_config(config),
            Run::Pretraining(p) => p.set_config(config),
        }
    }

    /// Examples trained in all phases.
    pub fn examples_seen(&self) -> u64 {
        match self {
            Run::Plain(trainer) => trainer.progress().examples_seen,
            Run::Pretraining(p) => p.examples_seen(),
        }
    }

    /// Whether the run is pretraining a layer as an autoencoder now.
    pub fn in_layer_phase(&self) -> bool {
        self.pretrainer().is_some_and(|p| matches!(p.phase, Phase::Pretraining { .. }))
    }
}

impl Session {
    /// The comparison networks a `Compare` asks for: the preset's own (all of them), or one
    /// of a spec and/or settings given.
    pub(super) fn companions(&self, label: Option<String>, spec: Option<String>, config: Option<TrainConfig>) -> Result<Vec<Companion>, Error> {
        let wanted: Vec<(String, NetSpec, TrainConfig)> = if spec.is_none() && config.is_none() {
            let preset = self.experiment.preset_info().ok_or("this network has no preset comparison; give a spec or settings to compare with")?;
            if preset.comparisons.is_empty() {
                return Err(Error(format!("preset {} has no comparison", preset.name)));
            }
            preset
                .comparisons
                .iter()
                .map(|c| (c.label.clone(), c.spec.clone().unwrap_or_else(|| self.experiment.spec.clone()), c.train.clone().unwrap_or_else(|| self.experiment.train.clone())))
                .collect()
        } else {
            let spec = match spec {
                Some(text) => NetSpec::from_json(&text)?,
                None => self.experiment.spec.clone(),
            };
            vec![(label.unwrap_or_else(|| "comparison".into()), spec, config.unwrap_or_else(|| self.experiment.train.clone()))]
        };
        // Everything a session saves must fit one snapshot, so it can come back.
        let sizes = |spec: &NetSpec, config: &TrainConfig| spec.check().map(|c| crate::budget::snapshot_bytes(c.n_params(), config.optimizer.n_slots() as u64));
        let mut total = sizes(&self.experiment.spec, &self.experiment.train)?;
        for (_, spec, config) in &wanted {
            total = total.saturating_add(sizes(spec, config)?);
        }
        crate::budget::judge_saved("saving these comparisons beside this network", total)?;
        wanted
            .into_iter()
            .map(|(label, spec, config)| {
                let trainer = Trainer::new(&spec, config, self.experiment.seed)?;
                check_fits(trainer.net(), &self.train).map_err(|e| Error(format!("the comparison network does not fit: {e}")))?;
                Ok(Companion { label, trainer, curves: Curves::default() })
            })
            .collect()
    }

    /// When the run has nothing left to train (layer-wise pretraining ends after its last
    /// fine-tuning epoch), what it reached and what to do next, in a sentence.
    pub(super) fn finished(&self) -> Option<String> {
        let p = self.run.pretrainer().filter(|p| p.phase == crate::pretrain::Phase::Done)?;
        let score = |curve: &[(f64, f64)]| curve.last().map_or("—".to_string(), |c| format!("{:.1} %", 100.0 * c.1));
        Some(format!(
            "Pretraining is finished: after {} epochs on {} labels the pretrained classifier reads {} of the validation digits and the one from random weights {}. There is nothing left to train; reset runs it again from the seed.",
            p.plan.finetune_epochs,
            crate::decimal::group_thousands(p.plan.n_labels as u64),
            score(&p.pretrained_curve),
            score(&p.baseline_curve)
        ))
    }

    /// Whether training waits for the rest of the digits: they are still arriving, and the
    /// run's next batch is not among those here (`Run::has_next_batch`).
    pub fn waiting_for_digits(&self) -> bool {
        let left = self.stop.map(|n| n.saturating_sub(self.run.examples_seen()));
        self.train.arriving && !self.run.has_next_batch(&self.train, left)
    }

    /// The rest of the built-in digits have arrived (the session started on their first part,
    /// `asset::parse_arriving`): the run goes on, on all of them. Its data is built anew; what
    /// was measured on the first part (PCA, what the code knows) is measured again.
    /// (Pretraining never starts on the first part: `build_data`.)
    pub fn digits_arrived(&mut self, digits: Dataset) -> Result<(), Error> {
        if digits.arriving {
            return Err("the digits are still incomplete".into());
        }
        // Digits of your own are in use: the built-in ones wait, complete, for "use the built-in digits".
        if self.built_in.as_ref().is_some_and(|d| d.arriving) {
            self.built_in = Some(digits);
            return Ok(());
        }
        if !self.digits.as_ref().is_some_and(|d| d.arriving) {
            return Err("the digits had all arrived already".into());
        }
        let previous = self.digits.replace(digits);
        if !self.experiment.data.is_mnist() {
            // Data of its own (synthetic): the digits wait for a digits preset.
            return Ok(());
        }
        let (train, valid) = match build_data(&self.experiment, self.digits.as_ref()).and_then(|(t, v)| check_run(&self.run, &self.comparisons, &t).map(|()| (t, v))) {
            Ok(sets) => sets,
            Err(e) => {
                self.digits = previous;
                return Err(Error(e));
            }
        };
        self.train = train;
        self.valid = valid;
        self.scatter_seen.get_mut().take();
        self.pca.clear();
        self.probes = None;
        self.knowledge = None;
        self.next_measure = 0.0;
        Ok(())
    }

    /// One batch for each comparison network (they share the main network's time); one that
    /// fails stops, and says so.
    pub(super) fn train_comparison(&mut self) {
        let train = &self.train;
        let mut stopped = None;
        self.comparisons.retain_mut(|companion| {
            // A comparison waits for digits still arriving as the run does.
            if !companion.trainer.has_next_batch(train, usize::MAX) {
                return true;
            }
            match companion.trainer.step(train) {
                Ok(stats) => {
                    companion.curves.note_batch(stats.mse_per_pixel);
                    true
                }
                Err(e) => {
                    stopped = Some(format!("the comparison with {} stopped: {e}", companion.label));
                    false
                }
            }
        });
        if stopped.is_some() {
            self.paused_reason = stopped;
        }
    }
}

/// The (train, validation) sets an experiment asks for: the digits as its data spec transforms
/// them, or its synthetic data. Without digits, empty sets: such a session converts files but
/// cannot train on digits.
pub(super) fn build_data(experiment: &Experiment, digits: Option<&Dataset>) -> Result<(Dataset, Dataset), String> {
    if experiment.data.is_mnist() && digits.is_none() {
        let n_inputs = experiment.spec.check()?.n_inputs;
        let empty = Dataset::new(n_inputs, 1, Vec::new(), None);
        return Ok((empty.clone(), empty));
    }
    experiment.data.build(digits, experiment.seed)
}

/// A network fits its data when it takes one number per pixel, in the same shape (empty sets
/// fit anything): 784 numbers laid out 1 × 784 are not a 28 × 28 digit.
pub(super) fn check_fits(net: &Network, train: &Dataset) -> Result<(), String> {
    if train.n_images == 0 {
        return Ok(());
    }
    if train.n_pixels() != net.n_inputs() {
        return Err(format!("the network takes {} inputs, but its data has {} numbers per example", net.n_inputs(), train.n_pixels()));
    }
    let (width, height, _) = net.input_shape();
    if train.height > 1 && (train.width, train.height) != (width, height) {
        return Err(format!("the network takes {width}×{height} images, but its data is {}×{}", train.width, train.height));
    }
    Ok(())
}

/// A run (and its comparisons) fits the data, and a saved data order is an order of this data.
pub(super) fn check_run(run: &Run, companions: &[Companion], train: &Dataset) -> Result<(), String> {
    let trainers = std::iter::once(("the network", run.trainer())).chain(companions.iter().map(|c| ("the comparison", &c.trainer)));
    for (what, trainer) in trainers {
        check_fits(trainer.net(), train).map_err(|e| if what == "the network" { e } else { format!("the comparison network does not fit: {e}") })?;
        // A saved order is this epoch's: of the first part in epoch 0 (or, as older files
        // have it, of all the data), of all the data later.
        let (order, epoch) = (trainer.progress().order.len(), trainer.progress().epoch);
        let fits = order == 0 || order == train.n_images || (epoch == 0 && order == train.first_part);
        if run.pretrainer().is_none() && train.n_images > 0 && !fits {
            if train.arriving && order > train.n_images {
                return Err("the digits are still arriving, and this run has trained on more of them than are here yet: open it again in a moment".into());
            }
            return Err(format!("{what}'s saved data order lists {order} examples, but its training data has {}", train.n_images));
        }
    }
    Ok(())
}

/// The run and comparisons a file continues.
pub(super) fn continue_from(saved: Saved, experiment: &Experiment, train: &Dataset, valid: &Dataset) -> Result<(Run, Vec<Companion>), String> {
    match saved {
        Saved::Network(trainer) => Ok((Run::Plain(trainer), Vec::new())),
        Saved::Snapshot(snapshot) => Run::resume(&snapshot, experiment, train, valid),
    }
}
