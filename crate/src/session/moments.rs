//! Moments: something that happens while a network trains, which a tour stop waits for and
//! says when it happens: the code's loss crossing PCA's line, the classes separating (5-NN
//! accuracy on the code), code units dying after a change, filters turning smooth, the
//! one-unit-short comparison levelling off, pretraining pulling ahead of its random twin.
//! The session watches for one condition at a time (`Command::Watch`), checks it whenever
//! training has new measures (a validation, a measure of what the code knows), and keeps the
//! examples seen at the first check where it held: the stop's sentence and the loss graph's
//! mark. It knows no tour; the tour (`crate::tour`) names the condition and the words.

use serde::{Deserialize, Serialize};

use super::Session;
use crate::decimal::group_thousands;
use crate::model::network::Workspace;
use crate::model::Network;

/// A condition on the live run. Externally tagged, as a tour file writes it: `"beats-pca"` or
/// `{"separates": {"accuracy": 0.6}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum When {
    /// The validation loss below PCA's with as many components as the code has units.
    BeatsPca,
    /// The code's 5-nearest-neighbour accuracy on the validation digits at least `accuracy`.
    Separates { accuracy: f64 },
    /// More code units dead (0 for every validation digit) than before the latest change of
    /// the settings made while watching.
    UnitsDie,
    /// The first layer's filters smoother than `roughness` (`roughness`: 1 for noise, 0 flat).
    FiltersSmooth { roughness: f64 },
    /// The first comparison's validation loss levelled off (`STALL_POINTS`), at least `ratio`
    /// times the network's.
    ComparisonStalls { ratio: f64 },
    /// The pretrained classifier's validation accuracy ahead of its random twin's by `points`
    /// percentage points.
    PretrainingWins { points: f64 },
}

/// What to watch for, and what to say and mark when it happens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Watching {
    pub when: When,
    /// The sentence, with `{examples}` where the examples seen go.
    pub says: String,
    /// The loss graph's short label for the moment.
    pub mark: String,
}

/// The condition watched for now, and where it held (examples seen), once it has.
#[derive(Clone, Debug, Default)]
pub struct Watch {
    pub watching: Option<Watching>,
    pub at: Option<u64>,
    /// For `UnitsDie`: the changes of settings and the code's dead units at the latest check,
    /// and the dead units at the check before the latest change.
    changes: Option<usize>,
    dead_now: Option<usize>,
    dead_before_change: Option<usize>,
    /// The latest validation (examples seen) the condition was checked at, or for the filters
    /// the clock's time.
    checked_at: Option<f64>,
}

/// A comparison's loss has levelled off when its last this-many validations found nothing
/// better, by more than `STALL_MOVE`, than the best before them.
pub const STALL_POINTS: usize = 3;
const STALL_MOVE: f64 = 0.02;
/// How often (ms of the session's clock) the filters are looked at for `FiltersSmooth`.
const FILTERS_EVERY_MS: f64 = 250.0;

impl Watch {
    pub fn new(watching: Option<Watching>) -> Watch {
        Watch { watching, ..Watch::default() }
    }

    /// The stop's sentence, once the moment has come.
    pub fn sentence(&self) -> Option<String> {
        let (watching, at) = (self.watching.as_ref()?, self.at?);
        Some(watching.says.replace("{examples}", &group_thousands(at)))
    }

    /// The loss graph's mark, once the moment has come.
    pub fn mark(&self) -> Option<(f64, String)> {
        Some((self.at? as f64, self.watching.as_ref()?.mark.clone()))
    }
}

impl Session {
    /// Check the watched condition against the latest measures (after each `housekeeping`).
    /// A run started over (fewer examples than the moment) waits for it again.
    pub(super) fn check_watch(&mut self) {
        let seen = self.run.examples_seen();
        if self.watch.at.is_some_and(|at| seen < at) {
            let watching = self.watch.watching.take();
            self.watch = Watch::new(watching);
        }
        let Some(watching) = &self.watch.watching else { return };
        if self.watch.at.is_some() {
            return;
        }
        // The filters are looked at four times a second of training; the rest have news only
        // at a new validation (the measures of knowledge come between them; a pretraining run
        // scores its classifiers itself).
        let news = match (&watching.when, self.run.pretrainer()) {
            (When::FiltersSmooth { .. }, _) => Some(self.clock.now_ms()).filter(|now| self.watch.checked_at.is_none_or(|then| now - then >= FILTERS_EVERY_MS)),
            (_, Some(p)) => p.pretrained_curve.last().map(|p| p.0).filter(|&at| Some(at) != self.watch.checked_at),
            (_, None) => self.monitor.curves.valid.last().map(|p| p.0).filter(|&at| Some(at) != self.watch.checked_at),
        };
        if news.is_none() {
            return;
        }
        self.watch.checked_at = news;
        let curves = &self.monitor.curves;
        let holds = match watching.when {
            When::BeatsPca => matches!((curves.valid_mse, self.pca.mse()), (Some(valid), Some(pca)) if valid < pca),
            When::Separates { accuracy } => self.knowledge.as_ref().is_some_and(|k| k.code.knn >= accuracy),
            When::UnitsDie => {
                // Units may die early in training by themselves: only a change of the settings
                // counts, measured against the check before it.
                let dead = self.network().dead_units(&mut Workspace::default(), &self.valid.pixels, self.valid.n_images).iter().filter(|&&d| d).count();
                let changes = self.changes.len();
                if self.watch.changes.is_some_and(|seen| seen != changes) {
                    self.watch.dead_before_change = self.watch.dead_now;
                }
                self.watch.changes = Some(changes);
                self.watch.dead_now = Some(dead);
                self.watch.dead_before_change.is_some_and(|before| dead > before)
            }
            When::FiltersSmooth { roughness } => filter_roughness(self.network()).is_some_and(|r| r < roughness),
            When::ComparisonStalls { ratio } => self.comparisons.first().is_some_and(|c| {
                // Its last validations found nothing better than it had before them (by more
                // than `STALL_MOVE`), far above this network's loss.
                let valid = &c.curves.valid;
                let Some(split) = valid.len().checked_sub(STALL_POINTS).filter(|&s| s > 0) else { return false };
                let best = |points: &[(f64, f64)]| points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
                let (before, recent) = valid.split_at(split);
                best(recent) >= best(before) * (1.0 - STALL_MOVE) && best(recent) >= ratio * curves.valid_mse.unwrap_or(f64::INFINITY)
            }),
            When::PretrainingWins { points } => self.run.pretrainer().is_some_and(|p| {
                matches!((p.pretrained_curve.last(), p.baseline_curve.last()), (Some(a), Some(b)) if 100.0 * (a.1 - b.1) >= points)
            }),
        };
        if holds {
            self.watch.at = Some(seen);
        }
    }
}

/// How rough the first layer's filters are, as images: the mean squared difference between
/// neighbouring weights (right and below) over twice the weights' variance, across all
/// filters. Independent noise gives 1 (each difference of two independent values has twice
/// their variance); a filter of smooth strokes approaches 0. None where the first layer does
/// not look at an image (a width or height of 1) or is not dense.
pub fn filter_roughness(net: &Network) -> Option<f64> {
    let (w, h, depth) = net.input_shape();
    let layer = net.layers().first()?;
    if w < 2 || h < 2 || layer.is_conv() {
        return None;
    }
    roughness(&net.weights(0), w, h, depth)
}

/// `filter_roughness` of `weights`: (filters, depth · h · w), each row a filter of `depth`
/// row-major images.
fn roughness(weights: &[f32], w: usize, h: usize, depth: usize) -> Option<f64> {
    let n = w * h * depth;
    // What the filters share (the mean filter: an average digit's blur, learnt in the first
    // steps) is taken out, so that what is measured is what tells them apart.
    let filters = weights.len() / n;
    let mut mean = vec![0.0f32; n];
    for filter in weights.chunks_exact(n) {
        mean.iter_mut().zip(filter).for_each(|(m, v)| *m += v / filters as f32);
    }
    let centred: Vec<f32> = if filters > 1 { weights.chunks_exact(n).flat_map(|f| f.iter().zip(&mean).map(|(v, m)| v - m)).collect() } else { weights.to_vec() };
    let weights = &centred[..];
    let (mut diff, mut pairs) = (0.0f64, 0usize);
    let (mut sum, mut sum_sq) = (0.0f64, 0.0f64);
    for filter in weights.chunks_exact(n) {
        for c in 0..depth {
            let at = |x: usize, y: usize| filter[c * w * h + y * w + x] as f64;
            for y in 0..h {
                for x in 0..w {
                    let v = at(x, y);
                    sum += v;
                    sum_sq += v * v;
                    if x + 1 < w {
                        diff += (at(x + 1, y) - v).powi(2);
                        pairs += 1;
                    }
                    if y + 1 < h {
                        diff += (at(x, y + 1) - v).powi(2);
                        pairs += 1;
                    }
                }
            }
        }
    }
    let count = (weights.len() / n * n) as f64;
    let variance = sum_sq / count - (sum / count).powi(2);
    (variance > 0.0 && pairs > 0).then(|| diff / pairs as f64 / (2.0 * variance))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Manual;
    use crate::data::asset;
    use crate::session::{protocol, settings, Command, Experiment};
    use crate::rng::Rng;

    /// The built-in digits (`npm test` builds them first; `npm run build:data` alone does too).
    fn digits() -> crate::data::Dataset {
        let path = asset::builtin_path();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("the moments are tested on the built-in digits, {}: {e} (npm run build:data)", path.display()));
        asset::parse(&bytes).unwrap()
    }

    /// A seeded run of `preset` watching for `when`: one step at a time on a clock that moves
    /// `ms_per_step` (about the page's pace, so validations come as often in examples as there)
    /// and a little at every read; `at(session, examples)` may change something before each
    /// step. The examples seen at the moment, or None if it has not come within `limit`.
    fn moment_of(preset: &str, when: When, ms_per_step: f64, limit: u64, mut at: impl FnMut(&mut Session, u64)) -> (Option<u64>, Session) {
        let clock = Manual::ticking(0.001);
        let mut session = Session::start(Experiment::preset(preset, 1).unwrap(), Some(digits()), clock.boxed()).unwrap();
        let watching = Watching { when, says: "at {examples}".into(), mark: "m".into() };
        session.apply(Command::Watch { watching: Some(watching) }).unwrap();
        while session.examples_seen() < limit {
            let seen = session.examples_seen();
            at(&mut session, seen);
            clock.advance(ms_per_step);
            session.apply(Command::Step).unwrap();
            if session.comparisons.first().is_some() {
                session.train_comparison();
            }
            if let Some(at) = session.watch.at {
                assert_eq!(session.stats().moment.as_deref(), Some(format!("at {}", group_thousands(at)).as_str()));
                return (Some(at), session);
            }
        }
        assert_eq!(session.stats().moment, None);
        (None, session)
    }

    fn set_lr(session: &mut Session, lr: f64) {
        let row = settings::find("lr").unwrap();
        let now = session.settings();
        let next = row.set(&now.to_json(), serde_json::json!(lr), session.experiment()).unwrap();
        session.apply(now.command(&settings::Settings::from_json(next).unwrap(), protocol::Door::Config)).unwrap();
    }

    // Each moment on a seeded run, at the example count the closing note gives (seed 1, the
    // built-in digits, a clock paced about as the page trains), and where it should not come.

    #[test]
    fn the_code_beats_pca_and_separates_the_classes_on_a_seeded_run() {
        // The page trains this preset at about 49,000 examples/s: a step of 50 is about 1 ms.
        assert_eq!(moment_of("convnetjs", When::BeatsPca, 1.0, 2_000_000, |_, _| {}).0, Some(149_500));
        assert_eq!(moment_of("convnetjs", When::Separates { accuracy: 0.6 }, 1.0, 2_000_000, |_, _| {}).0, Some(373_750));
        // Two numbers cannot name 95 % of the digits by their neighbours.
        assert_eq!(moment_of("convnetjs", When::Separates { accuracy: 0.95 }, 1.0, 1_000_000, |_, _| {}).0, None);
    }

    #[test]
    fn a_unit_dies_after_the_learning_rate_is_raised_and_not_without() {
        // 18,000 examples/s in the page: a step of 256 is about 14 ms.
        let raise = |s: &mut Session, seen| {
            if seen == 10_240 {
                set_lr(s, 0.05);
            }
        };
        assert_eq!(moment_of("turnoff", When::UnitsDie, 14.0, 60_000, raise).0, Some(27_904));
        assert_eq!(moment_of("turnoff", When::UnitsDie, 14.0, 60_000, |_, _| {}).0, None);
    }

    #[test]
    fn the_filters_turn_smooth_within_the_first_pass() {
        let (at, session) = moment_of("tied-sigmoid", When::FiltersSmooth { roughness: 0.5 }, 1.0, 100_000, |_, _| {});
        assert_eq!(at, Some(4_980));
        assert!(filter_roughness(session.network()).is_some_and(|r| r < 0.5));
        // At the start they are noise.
        let fresh = Session::start(Experiment::preset("tied-sigmoid", 1).unwrap(), Some(digits()), Manual::ticking(0.001).boxed()).unwrap();
        assert!(filter_roughness(fresh.network()).is_some_and(|r| (r - 1.0).abs() < 0.05));
    }

    #[test]
    fn the_nineteen_unit_twin_levels_off_and_never_reaches_the_twenty() {
        let compare = |s: &mut Session, seen| {
            if seen == 0 {
                s.apply(Command::Compare { label: None, spec: None, config: None }).unwrap();
            }
        };
        let (at, s) = moment_of("linear-20", When::ComparisonStalls { ratio: 10.0 }, 1.0, 1_000_000, compare);
        assert_eq!(at, Some(373_750));
        // The 19-unit twin never reaches the 20-unit network's loss (from the first validation
        // at 75,000 examples on, it stays more than twice as high; then 10,000 times).
        for (main, twin) in s.monitor.curves.valid.iter().zip(&s.comparisons[0].curves.valid).skip(1) {
            assert!(twin.1 > 2.0 * main.1, "{main:?} {twin:?}");
        }
        // Without a twin there is nothing to level off.
        assert_eq!(moment_of("linear-20", When::ComparisonStalls { ratio: 10.0 }, 1.0, 400_000, |_, _| {}).0, None);
    }

    #[test]
    fn pretraining_pulls_ahead_of_its_random_twin() {
        let (at, s) = moment_of("pretrain", When::PretrainingWins { points: 5.0 }, 1.0, 2_000_000, |_, _| {});
        assert_eq!(at, Some(55_040));
        let p = s.stats().pretraining.unwrap();
        assert!(p.accuracy_pretrained.unwrap() >= p.accuracy_random.unwrap() + 0.05, "{p:?}");
    }

    #[test]
    fn roughness_is_one_for_noise_and_small_for_strokes() {
        // Independent weights (8 filters of 28 × 28): about 1.
        let mut rng = Rng::from_seed(1);
        let noise: Vec<f32> = (0..8 * 784).map(|_| rng.normal()).collect();
        let r = roughness(&noise, 28, 28, 1).unwrap();
        assert!((r - 1.0).abs() < 0.05, "noise: {r}");
        // A ramp across the image, x / 27: the 756 right-hand differences are 1/27 and the 756
        // below are 0, a mean of (1/27)² / 2; its variance is that of x in 0..=27 over 27²,
        // (28² − 1) / 12 / 27². So roughness = (1/27)² / 2 / (2 (28² − 1) / 12 / 27²) = 3 / 783.
        let ramp: Vec<f32> = (0..784).map(|i| (i % 28) as f32 / 27.0).collect();
        let r = roughness(&ramp, 28, 28, 1).unwrap();
        assert!((r - 3.0 / 783.0).abs() < 1e-6, "ramp: {r}");
        // A flat filter has no variance to compare with: no figure.
        assert_eq!(roughness(&[0.5; 784], 28, 28, 1), None);
    }
}
