//! The training that runs an experiment: a plain trainer, or greedy layer-wise pretraining
//! (which owns the classifier it pretrains and the randomly initialised twin it is compared
//! with), and a companion network trained beside for comparison. One `step` for all of them,
//! so the session never asks which kind it holds.

use super::experiment::Experiment;
use crate::data::Dataset;
use crate::pretrain::{Phase, Pretrainer};
use crate::train::{Clock, StepStats, TrainConfig, TrainError, Trainer};

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
