//! Broken but finite: the states a too-large step leaves that the trainer's divergence check
//! does not catch, because every number is still finite. A layer of ReLU units that all output
//! 0 for every digit (dead: no gradient reaches them, or anything before them, again), sigmoid
//! units pinned at 0 or 1 (saturated: their gradients vanish), and a loss that has stopped
//! moving far above the best it reached. Each is said in a sentence that names the layer and,
//! where the user changed a setting, that change, which the session can undo
//! (`Command::Undo` goes back to the run as it was just before it).

use super::monitor::Curves;
use super::run::{check_run, continue_from};
use super::{settings, Error, Experiment, Saved, Session};
use crate::data::Dataset;
use crate::snapshot::Change;
use crate::train::TrainConfig;
use crate::model::network::Workspace;
use crate::model::{Activation, Network};

/// The check runs at most this often (ms of the session's clock), on every validation digit.
pub const EVERY_MS: f64 = 3000.0;
/// A sigmoid layer is saturated when this share of its outputs is within `PINNED` of 0 or 1.
const SATURATED_SHARE: f64 = 0.97;
const PINNED: f32 = 0.005;
/// The loss has stalled when the last `STALL_POINTS` validations moved less than 1 % and
/// stand more than `STALL_RATIO` times above the best validation loss of the run.
const STALL_POINTS: usize = 6;
const STALL_RATIO: f64 = 3.0;

/// What is wrong with the network, in a sentence, or None when nothing is.
pub fn diagnose(net: &Network, digits: &Dataset, work: &mut Workspace, curves: &Curves) -> Option<String> {
    if digits.n_images == 0 || digits.n_pixels() != net.n_inputs() || net.is_classifier() {
        return None;
    }
    let forward = net.infer(work, &digits.pixels, digits.n_images, None);
    for (idx, layer) in net.layers().iter().enumerate() {
        let units = layer.n_out();
        let acts = forward.activations(idx);
        let name = format!("layer {} ({}, {units} {} units)", idx + 1, layer.name(), layer.activation().name());
        match layer.activation() {
            Activation::Relu if acts.iter().all(|&a| a <= 0.0) => {
                return Some(format!(
                    "Every unit of {name} is dead: it outputs 0 for every digit, so no gradient reaches it or the layers before it, and training cannot bring it back."
                ));
            }
            Activation::Sigmoid => {
                let pinned = acts.iter().filter(|&&a| !(PINNED..=1.0 - PINNED).contains(&a)).count();
                if units > 1 && pinned as f64 >= SATURATED_SHARE * acts.len() as f64 {
                    return Some(format!(
                        "The units of {name} are saturated: {:.0} % of their outputs are pinned at 0 or 1, where their gradients all but vanish, so training barely moves them.",
                        100.0 * pinned as f64 / acts.len() as f64
                    ));
                }
            }
            _ => {}
        }
    }
    stalled(&curves.valid)
}

/// The validation loss stuck far above the best it reached, in a sentence.
fn stalled(valid: &[(f64, f64)]) -> Option<String> {
    let best = valid.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let recent = valid.get(valid.len().checked_sub(STALL_POINTS)?..)?;
    let (lo, hi) = recent.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let now = recent.last()?.1;
    (hi - lo <= 0.01 * now && now > STALL_RATIO * best).then(|| {
        format!(
            "The loss has stopped moving: {} now, {:.1} times the best it reached ({}), over the last {STALL_POINTS} validations.",
            super::panels::loss_text(Some(now)),
            now / best,
            super::panels::loss_text(Some(best))
        )
    })
}

/// The run just before a change to its settings: where it stood, the settings it had, what
/// the change was, and how many changes came before it.
pub(super) struct Undo {
    pub(super) point: Box<crate::snapshot::Snapshot>,
    pub(super) config: TrainConfig,
    pub(super) what: String,
    pub(super) changes: usize,
}

impl Session {
    /// Train with new settings; a change (not the same settings again) is marked where it
    /// happened, and the run as it was just before is kept to go back to.
    pub(super) fn change_settings(&mut self, config: TrainConfig) -> Result<(), Error> {
        let now = self.settings();
        let what = settings::changed(&now.to_json(), &settings::Settings { config: config.clone(), ..now }.to_json());
        // The run is copied only for a real change (the same settings again change nothing).
        let point = (!what.is_empty()).then(|| self.run.save(&self.experiment, &self.comparisons));
        let old = self.experiment.train.clone();
        self.set_config(config)?;
        if let Some(point) = point {
            self.changes.push(Change { examples_seen: self.run.examples_seen(), label: what.clone() });
            self.undo = Some(Undo { point: Box::new(point), config: old, what, changes: self.changes.len() - 1 });
        }
        Ok(())
    }

    /// Go back to the run as it was just before the latest change to its settings (its
    /// network, optimiser state, data order and generator, the settings before), keeping the
    /// curves up to there; the change's mark gives way to one saying it was undone.
    pub(super) fn undo_change(&mut self) -> Result<(), Error> {
        let undo = self.undo.as_ref().ok_or("there is no change to undo")?;
        let experiment = Experiment { train: undo.config.clone(), ..self.experiment.clone() };
        let (run, companions) = continue_from(Saved::Snapshot(undo.point.clone()), &experiment, &self.train, &self.valid)?;
        check_run(&run, &companions, &self.train)?;
        let undo = self.undo.take().expect("checked above");
        let seen = run.examples_seen();
        self.run = run;
        self.comparisons = companions;
        self.experiment = experiment;
        self.changes.truncate(undo.changes);
        self.changes.push(Change { examples_seen: seen, label: format!("undid: {}", undo.what) });
        self.monitor.rewind(seen as f64);
        self.health = None;
        self.paused_reason = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_stuck_far_above_its_best_is_stalled_and_a_falling_one_is_not() {
        let stuck: Vec<(f64, f64)> = [0.05, 0.02, 0.01].into_iter().chain([0.2; STALL_POINTS]).enumerate().map(|(i, v)| (i as f64, v)).collect();
        assert!(stalled(&stuck).unwrap().contains("20.0 times the best"), "{:?}", stalled(&stuck));
        let falling: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 0.2 / (i + 1) as f64)).collect();
        assert_eq!(stalled(&falling), None);
        let flat_at_best: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 0.02)).collect();
        assert_eq!(stalled(&flat_at_best), None, "a plateau at its best is not broken");
        assert_eq!(stalled(&stuck[..3]), None, "too few points to say");
    }
}
