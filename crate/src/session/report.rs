//! What a session tells its front ends: the `State` the controls show (with the page's link),
//! the live `Stats`, and the `Description` of defaults, limits, names and settings the page
//! builds its controls from. All of it is read from the session; nothing here changes it.

use super::protocol::{self, Description, State, Stats};
use super::{link, panels, settings, Session, DEFAULT_SEED, SPEEDS};
use crate::presets;
use crate::train::MAX_BATCH;

impl Session {
    /// The settings and network description the controls show.
    pub fn state(&self) -> State {
        let net = self.network();
        let config = &self.experiment.train;
        State {
            preset: self.experiment.origin.name().to_string(),
            seed: self.experiment.seed,
            spec: self.experiment.spec.to_json(),
            config: config.clone(),
            paused: self.paused,
            layers: net
                .layers()
                .iter()
                .map(|l| protocol::LayerInfo {
                    name: l.name().to_string(),
                    kind: l.kind().name().to_string(),
                    units: l.n_out(),
                    activation: l.activation().name().to_string(),
                    tied: l.tied(),
                })
                .collect(),
            code_layer: net.code_layer(),
            view: self.view,
            comparison: self.experiment.preset_info().map(|p| and_list(p.comparisons.iter().map(|c| c.label.as_str()))).filter(|l| !l.is_empty()),
            comparing: Some(and_list(self.comparisons.iter().map(|c| c.label.as_str()))).filter(|l| !l.is_empty()),
            prior_draw: self.network().gaussian_layer().map(|_| self.prior_draw),
            data: self.experiment.data.clone(),
            panels: panels::info(self),
            optimizer_choices: self.experiment.optimizer_choices(),
            choices: settings::choices(&self.experiment),
            speed: self.speed,
            stop: self.stop,
            changes: self.changes.clone(),
            undo: self.undo.as_ref().map(|u| u.what.clone()),
            marked: self.marked.len(),
            digits: match (&self.built_in, &self.digits) {
                (Some(_), Some(digits)) => format!("your {} digits", digits.n_images),
                _ => "built-in".into(),
            },
            watching: self.watch.watching.clone(),
            link: link::write(self),
        }
    }

    /// The settings a link and the controls change, as they are now.
    pub fn settings(&self) -> settings::Settings {
        settings::Settings { config: self.experiment.train.clone(), view: self.view, speed: self.speed, stop: self.stop }
    }

    /// The live figures.
    pub fn stats(&self) -> Stats {
        let trainer = self.run.trainer();
        let curves = &self.monitor.curves;
        Stats {
            examples_seen: self.run.examples_seen() as f64,
            steps: trainer.progress().steps as f64,
            epoch: trainer.epochs_done(),
            speed: protocol::Speed {
                examples_per_second: if self.paused { 0.0 } else { self.monitor.examples_per_second() },
                forward_us: self.monitor.forward_us,
                backward_us: self.monitor.backward_us,
                validation_ms: self.monitor.validation_ms,
            },
            loss: protocol::Losses {
                train_mse: curves.smoothed_mse,
                train_bce: self.monitor.smoothed_bce,
                valid_mse: curves.valid_mse,
                valid_bce: self.monitor.valid_bce,
                pca_mse: self.pca.mse(),
                decay: trainer.decay_loss(),
            },
            comparisons: self
                .comparisons
                .iter()
                .map(|c| protocol::CompanionStats { label: c.label.clone(), train_mse: c.curves.smoothed_mse, valid_mse: c.curves.valid_mse })
                .collect(),
            units_ever_selected: self.units_ever_selected(),
            knowledge: self.knowledge.clone(),
            pretraining: self.run.pretrainer().map(|p| protocol::PretrainingStats {
                phase: p.describe(),
                accuracy_pretrained: p.pretrained_curve.last().map(|c| c.1),
                accuracy_random: p.baseline_curve.last().map(|c| c.1),
            }),
            paused: self.paused,
            paused_reason: self.paused_reason.clone(),
            stopped: self.stop.filter(|&n| self.paused && self.run.examples_seen() >= n).map(|n| {
                format!(
                    "Paused at {} examples, as asked (stop at {}): every machine that opens this link has this same network now. Resume to train on.",
                    crate::decimal::group_thousands(self.run.examples_seen()),
                    crate::decimal::group_thousands(n)
                )
            }),
            health: self.health.as_ref().map(|h| match &self.undo {
                Some(undo) => format!("{h} Your change at {} examples ({}) is the likely cause: undo goes back to just before it.", crate::decimal::group_thousands(self.changes.get(undo.changes).map_or(0, |c| c.examples_seen)), undo.what),
                None => h.clone(),
            }),
            top_k: self.network().layers().iter().find_map(|l| l.kind().top_k().and(l.top_k())),
            arriving: self.train.arriving.then(|| self.arriving_sentence()),
            waiting: self.waiting_for_digits(),
            moment: self.watch.sentence(),
        }
    }

    /// What training does while the digits arrive, in a sentence.
    fn arriving_sentence(&self) -> String {
        let first = crate::decimal::group_thousands(self.train.first_part as u64);
        if self.waiting_for_digits() {
            format!("One pass over the first {first} training digits is done; training goes on when the rest have downloaded.")
        } else {
            format!("The digits are still downloading: training on the first {first} training digits meanwhile.")
        }
    }

    /// Share of the top-k layer's units training has ever kept.
    fn units_ever_selected(&self) -> Option<f64> {
        let ever = self.run.trainer().ever_selected();
        (!ever.is_empty()).then(|| ever.iter().filter(|&&e| e).count() as f64 / ever.len() as f64)
    }
}

/// "a", "a and b", "a, b and c".
pub(super) fn and_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// Defaults, limits and names for the page's controls.
pub fn describe() -> Description {
    Description {
        presets: presets::all()
            .iter()
            .map(|p| protocol::PresetInfo {
                name: p.name.clone(),
                title: p.title.clone(),
                caption: p.caption.clone(),
                look_for: p.look_for.clone(),
                point: p.point.clone(),
                comparison: Some(and_list(p.comparisons.iter().map(|c| c.label.as_str()))).filter(|l| !l.is_empty()),
            })
            .collect(),
        default_preset: presets::DEFAULT.to_string(),
        default_seed: DEFAULT_SEED,
        optimizers: crate::model::Optimizer::defaults().to_vec(),
        noises: crate::data::Noise::defaults().to_vec(),
        panels: panels::Panel::ALL.iter().map(|p| p.name().to_string()).collect(),
        speeds: SPEEDS.to_vec(),
        settings: settings::table().iter().map(settings::Row::info).collect(),
        limits: protocol::Limits {
            max_batch: MAX_BATCH,
            max_file_bytes: crate::budget::MAX_BYTES,
            max_units: crate::model::spec::MAX_UNITS,
            max_params: crate::model::spec::MAX_PARAMS,
        },
    }
}
