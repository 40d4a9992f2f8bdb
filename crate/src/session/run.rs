//! The training that runs an experiment: a plain trainer, or greedy layer-wise pretraining
//! (which owns the classifier it pretrains and the randomly initialised twin it is compared
//! with), and a companion network trained beside for comparison. One `step` for all of them,
//! so the session never asks which kind it holds.

use super::experiment::Experiment;
use super::monitor::Curves;
use crate::data::Dataset;
use crate::pretrain::{Phase, Pretrainer, Resumed};
use crate::snapshot::{SavedComparison, SavedPretraining, Snapshot};
use crate::clock::Clock;
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

    /// One minibatch of whatever the run trains now; None when there is nothing left to train.
    pub fn step(&mut self, train: &Dataset, clock: &dyn Clock) -> Result<Option<StepStats>, TrainError> {
        match self {
            Run::Plain(trainer) => trainer.step_timed(train, Some(clock)).map(Some),
            Run::Pretraining(p) => p.step(Some(clock)),
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
