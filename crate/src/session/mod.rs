//! One running experiment, owned whole: the experiment's definition, its data, the run that
//! trains it (plain or pretraining), a comparison network beside it, and the monitors that
//! measure it. Front ends drive it through two doors, `apply(Command)` and `run_for(budget)`,
//! and read it through `state`, `stats`, `query` and the panels. It never touches a browser,
//! a file or the wall clock: time comes from an injected `Clock`, bytes from the caller.

pub mod experiment;
pub mod monitor;
pub mod panels;
pub mod protocol;
pub mod run;

#[cfg(test)]
mod tests;

use crate::data::{DataSpec, Dataset};
use crate::model::network::Workspace;
use crate::model::pca::Pca;
use crate::model::{NetSpec, Network};
use crate::presets;
use crate::pretrain::Pretrainer;
use crate::snapshot::{self, convnetjs};
use crate::train::{evaluate, Eval, StepStats, TrainConfig, Trainer, MAX_BATCH};

pub use crate::train::Clock;
pub use experiment::{Experiment, Origin, DEFAULT_SEED};
pub use protocol::{Answer, Command, Description, Loaded, Payload, Query, Reply, State, Stats, View};

use monitor::{Curves, Monitor};
use run::Run;

/// Validation runs about this often (ms of the session's clock), or ten times its own cost.
const VALIDATE_EVERY_MS: f64 = 1500.0;
/// The PCA reference waits this long after a start, so the first frames come fast.
const PCA_AFTER_MS: f64 = 1000.0;
/// PCA is fit on at most this many training images, spread over the set.
const PCA_MAX_IMAGES: usize = 2000;
/// While training, PCA is fit only where dim · (k + 8) stays under this (it would stall the
/// page for seconds); `pca_reference` fits it regardless.
const PCA_MAX_DIM_BY_BLOCK: usize = 120_000;

/// A refusal, in one plain sentence. The session is exactly as it was before the command.
#[derive(Clone, Debug, PartialEq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Error {
    fn from(message: String) -> Error {
        Error(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Error {
        Error(message.to_string())
    }
}

/// A second network trained beside the first, on the same data from the same seed.
pub struct Companion {
    pub label: String,
    pub trainer: Trainer,
    pub curves: Curves,
}

pub struct Session {
    clock: Box<dyn Clock>,
    /// The built-in digits (or IDX files); None where only files are converted.
    digits: Option<Dataset>,
    experiment: Experiment,
    train: Dataset,
    valid: Dataset,
    /// The (data, seed) `train` and `valid` were built from.
    built_from: (DataSpec, u64),
    run: Run,
    comparison: Option<Companion>,
    monitor: Monitor,
    /// PCA's validation error with k components: (k, MSE/px), for the current data.
    pca: Option<(usize, f64)>,
    view: View,
    paused: bool,
    paused_reason: Option<String>,
    started_ms: f64,
}

impl Session {
    /// Start `experiment` from scratch.
    pub fn start(experiment: Experiment, digits: Option<Dataset>, clock: Box<dyn Clock>) -> Result<Session, Error> {
        let (train, valid) = build_data(&experiment, digits.as_ref())?;
        let run = Run::start(&experiment, &train, &valid)?;
        Session::assemble(experiment, run, digits, train, valid, clock)
    }

    /// Continue from a file's bytes: a Bottleneck snapshot resumes exactly; a ConvNetJS network
    /// trains with the ConvNetJS demo's settings from `seed`.
    pub fn open(bytes: &[u8], digits: Option<Dataset>, seed: u64, clock: Box<dyn Clock>) -> Result<Session, Error> {
        let (experiment, trainer, _) = Experiment::open(bytes, seed)?;
        let (train, valid) = build_data(&experiment, digits.as_ref())?;
        Session::assemble(experiment, Run::Plain(trainer), digits, train, valid, clock)
    }

    fn assemble(experiment: Experiment, run: Run, digits: Option<Dataset>, train: Dataset, valid: Dataset, clock: Box<dyn Clock>) -> Result<Session, Error> {
        check_fits(run.trainer().net(), &train)?;
        let log_y = experiment.preset_info().is_some_and(|p| p.log_scale);
        let started_ms = clock.now_ms();
        Ok(Session {
            view: default_view(run.trainer().net(), log_y),
            built_from: (experiment.data.clone(), experiment.seed),
            clock,
            digits,
            experiment,
            train,
            valid,
            run,
            comparison: None,
            monitor: Monitor::default(),
            pca: None,
            paused: false,
            paused_reason: None,
            started_ms,
        })
    }

    /// Carry out one command. A refused command changes nothing and says why.
    pub fn apply(&mut self, command: Command) -> Result<Reply, Error> {
        let payload = match command {
            Command::Pause => {
                self.paused = true;
                Payload::None
            }
            Command::Resume => {
                self.paused = false;
                self.paused_reason = None;
                Payload::None
            }
            Command::Step => {
                self.paused = true;
                self.paused_reason = None;
                self.train_one();
                self.housekeeping();
                Payload::None
            }
            Command::Reset { seed } => {
                let experiment = self.experiment.with_seed(seed.unwrap_or(self.experiment.seed));
                self.replace(experiment, None)?;
                Payload::None
            }
            Command::SetLearningRate { lr } => {
                let mut config = self.experiment.train.clone();
                config.optimizer.set_learning_rate(lr)?;
                self.set_config(config)?;
                Payload::None
            }
            Command::SetConfig { config } => {
                self.set_config(config)?;
                Payload::None
            }
            Command::LoadPreset { name, seed } => {
                let experiment = Experiment::preset(&name, seed.unwrap_or(self.experiment.seed))?;
                let log_y = experiment.preset_info().is_some_and(|p| p.log_scale);
                self.replace(experiment, None)?;
                self.view.log_y = log_y;
                Payload::None
            }
            Command::LoadSpec { spec } => {
                let spec = NetSpec::from_json(&spec)?;
                self.replace(self.experiment.with_spec(spec), None)?;
                Payload::None
            }
            Command::Save => Payload::Snapshot(self.snapshot_text()),
            Command::Load { bytes } => {
                let (experiment, trainer, loaded) = Experiment::open(&bytes, self.experiment.seed)?;
                self.replace(experiment, Some(Run::Plain(trainer)))?;
                Payload::Loaded(loaded)
            }
            Command::ExportConvnetjs => Payload::Convnetjs(convnetjs::export(self.network())?),
            Command::View { layer, x, y, log_y } => {
                self.view = self.checked_view(layer, x, y, log_y)?;
                Payload::None
            }
            Command::Cycle => {
                let units = self.network().layers()[self.view.layer].n_out();
                self.view.x = (self.view.x + 1) % units;
                self.view.y = (self.view.y + 1) % units;
                Payload::None
            }
            Command::ClearGraph => {
                self.monitor.curves.clear_graph();
                if let Some(companion) = &mut self.comparison {
                    companion.curves.clear_graph();
                }
                Payload::None
            }
            Command::Compare { label, spec, config } => {
                self.comparison = Some(self.companion(label, spec, config)?);
                Payload::None
            }
            Command::StopCompare => {
                self.comparison = None;
                Payload::None
            }
            Command::Describe => Payload::Description(Box::new(describe())),
        };
        Ok(Reply { state: self.state(), stats: self.stats(), payload })
    }

    /// Train (unless paused) until the clock says `budget_ms` has passed, then do the periodic
    /// work: curves, validation, the PCA reference, throughput.
    pub fn run_for(&mut self, budget_ms: f64) -> Stats {
        let start = self.clock.now_ms();
        if !self.paused {
            while self.train_one() && self.clock.now_ms() - start < budget_ms {
                self.train_comparison();
            }
        }
        self.housekeeping();
        self.stats()
    }

    /// Train one minibatch of the run (not the comparison) and record it; None when the run
    /// has nothing left to train. A divergence is an error, and the parameters are restored.
    pub fn train_batch(&mut self) -> Result<Option<StepStats>, Error> {
        let stats = self.run.step(&self.train, &*self.clock).map_err(|e| Error(e.to_string()))?;
        if let Some(stats) = &stats {
            self.monitor.record_step(stats);
        }
        Ok(stats)
    }

    /// Answer a question about the network without changing it.
    pub fn query(&self, query: Query) -> Result<Answer, Error> {
        match query {
            Query::Reconstruct { inputs } => {
                let net = self.network();
                let n_inputs = net.n_inputs();
                if inputs.is_empty() || inputs.len() % n_inputs != 0 {
                    return Err(Error(format!("{} numbers are not a whole number of {n_inputs}-number examples", inputs.len())));
                }
                if inputs.iter().any(|v| !v.is_finite()) {
                    return Err("every input must be a finite number".into());
                }
                let mut work = Workspace::default();
                Ok(Answer::Outputs(net.infer(&mut work, &inputs, inputs.len() / n_inputs, None).output().to_vec()))
            }
        }
    }

    /// How the network does on `data` (default: the validation set).
    pub fn evaluate(&self, data: Option<&Dataset>) -> Result<Eval, Error> {
        let data = data.unwrap_or(&self.valid);
        let n_inputs = self.network().n_inputs();
        if data.n_pixels() != n_inputs {
            return Err(Error(format!("the network takes {n_inputs} inputs but the images have {} pixels", data.n_pixels())));
        }
        Ok(evaluate(self.network(), data))
    }

    /// PCA's validation error with as many components as the code has units, fit on the
    /// training images (at most 2,000, spread over the set); None where a code is no smaller
    /// than its input or the network is a classifier.
    pub fn pca_reference(&mut self) -> Option<(usize, f64)> {
        let net = self.run.trainer().net();
        let k = net.layers()[net.code_layer()].n_out();
        let dim = self.train.n_pixels();
        if k >= dim || net.is_classifier() || self.train.n_images == 0 || self.valid.n_images == 0 {
            return None;
        }
        if self.pca.is_none_or(|(pk, _)| pk != k) {
            let sample = self.train.spread(PCA_MAX_IMAGES);
            let pca = Pca::fit(&sample.pixels, sample.n_images, dim, k);
            self.pca = Some((k, pca.mse_per_pixel(&self.valid.pixels, self.valid.n_images, k)));
        }
        self.pca
    }

    /// The network people look at (the classifier while pretraining).
    pub fn network(&self) -> &Network {
        self.run.trainer().net()
    }

    pub fn trainer(&self) -> &Trainer {
        self.run.trainer()
    }

    pub fn pretrainer(&self) -> Option<&Pretrainer> {
        self.run.pretrainer()
    }

    pub fn experiment(&self) -> &Experiment {
        &self.experiment
    }

    pub fn train_set(&self) -> &Dataset {
        &self.train
    }

    pub fn valid_set(&self) -> &Dataset {
        &self.valid
    }

    pub fn comparison(&self) -> Option<&Companion> {
        self.comparison.as_ref()
    }

    pub fn view(&self) -> View {
        self.view
    }

    pub fn now_ms(&self) -> f64 {
        self.clock.now_ms()
    }

    /// Examples trained in all phases.
    pub fn examples_seen(&self) -> u64 {
        self.run.examples_seen()
    }

    /// The snapshot of the network as it is now, as JSON text.
    pub fn snapshot_text(&self) -> String {
        snapshot::save(self.run.trainer(), &self.experiment.data)
    }

    /// The settings and network description the controls show.
    pub fn state(&self) -> State {
        let net = self.network();
        let config = &self.experiment.train;
        State {
            preset: self.experiment.origin.name().to_string(),
            seed: self.experiment.seed,
            spec: self.experiment.spec.to_json(),
            config: config.clone(),
            optimizer: config.optimizer.name().to_string(),
            learning_rate: config.optimizer.learning_rate().map(crate::decimal::widen),
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
            comparison: self.experiment.preset_info().and_then(|p| p.comparison.as_ref()).map(|c| c.label.clone()),
            comparing: self.comparison.as_ref().map(|c| c.label.clone()),
            data: self.experiment.data.clone(),
            panels: panels::info(self),
        }
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
            },
            loss: protocol::Losses {
                train_mse: curves.smoothed_mse,
                train_bce: self.monitor.smoothed_bce,
                valid_mse: curves.valid_mse,
                valid_bce: self.monitor.valid_bce,
                pca_mse: self.pca.map(|p| p.1),
                decay: trainer.decay_loss(),
            },
            comparison: self.comparison.as_ref().map(|c| protocol::CompanionStats { label: c.label.clone(), train_mse: c.curves.smoothed_mse, valid_mse: c.curves.valid_mse }),
            units_ever_selected: self.units_ever_selected(),
            pretraining: self.run.pretrainer().map(|p| protocol::PretrainingStats {
                phase: p.describe(),
                accuracy_pretrained: p.pretrained_curve.last().map(|c| c.1),
                accuracy_random: p.baseline_curve.last().map(|c| c.1),
            }),
            paused: self.paused,
            paused_reason: self.paused_reason.clone(),
            learning_rate: self.experiment.train.optimizer.learning_rate().map(crate::decimal::widen),
        }
    }

    /// Share of the top-k layer's units training has ever kept.
    fn units_ever_selected(&self) -> Option<f64> {
        let ever = self.run.trainer().ever_selected();
        (!ever.is_empty()).then(|| ever.iter().filter(|&&e| e).count() as f64 / ever.len() as f64)
    }

    fn set_config(&mut self, config: TrainConfig) -> Result<(), Error> {
        self.run.set_config(config.clone())?;
        self.experiment.train = config;
        Ok(())
    }

    /// Swap in a new experiment and its run (a fresh one from the experiment, or a loaded
    /// one); every check comes before anything changes.
    fn replace(&mut self, experiment: Experiment, run: Option<Run>) -> Result<(), Error> {
        let key = (experiment.data.clone(), experiment.seed);
        // Digits do not depend on the seed; synthetic data does.
        let same_data = key.0 == self.built_from.0 && (key.0.is_mnist() || key.1 == self.built_from.1);
        let rebuilt = if same_data { None } else { Some(build_data(&experiment, self.digits.as_ref())?) };
        let (train, valid) = rebuilt.as_ref().map_or((&self.train, &self.valid), |(t, v)| (t, v));
        let run = match run {
            Some(run) => run,
            None => Run::start(&experiment, train, valid)?,
        };
        check_fits(run.trainer().net(), train)?;
        if let Some((train, valid)) = rebuilt {
            self.train = train;
            self.valid = valid;
            self.built_from = key;
            self.pca = None;
        }
        self.view = default_view(run.trainer().net(), self.view.log_y);
        self.experiment = experiment;
        self.run = run;
        self.comparison = None;
        self.monitor.restart();
        self.paused_reason = None;
        self.started_ms = self.clock.now_ms();
        Ok(())
    }

    /// The view with the given changes, if they name a layer and neurons that exist.
    fn checked_view(&self, layer: Option<usize>, x: Option<usize>, y: Option<usize>, log_y: Option<bool>) -> Result<View, Error> {
        let layers = self.network().layers();
        let mut view = self.view;
        if let Some(layer) = layer {
            let units = layers.get(layer).ok_or_else(|| Error(format!("there is no layer {layer}: the network has {}", layers.len())))?.n_out();
            view = View { layer, x: 0, y: 1.min(units - 1), ..view };
        }
        let units = layers[view.layer].n_out();
        for (slot, value) in [(&mut view.x, x), (&mut view.y, y)] {
            if let Some(v) = value {
                if v >= units {
                    return Err(Error(format!("layer {} has {units} units; there is no neuron {v}", view.layer)));
                }
                *slot = v;
            }
        }
        if let Some(log_y) = log_y {
            view.log_y = log_y;
        }
        Ok(view)
    }

    /// The comparison network a `Compare` asks for.
    fn companion(&self, label: Option<String>, spec: Option<String>, config: Option<TrainConfig>) -> Result<Companion, Error> {
        let (label, spec, config) = if spec.is_none() && config.is_none() {
            let preset = self.experiment.preset_info().ok_or("this network has no preset comparison; give a spec or settings to compare with")?;
            let comparison = preset.comparison.as_ref().ok_or_else(|| Error(format!("preset {} has no comparison", preset.name)))?;
            let spec = comparison.spec.clone().unwrap_or_else(|| self.experiment.spec.clone());
            (comparison.label.clone(), spec, comparison.train.clone().unwrap_or_else(|| self.experiment.train.clone()))
        } else {
            let spec = match spec {
                Some(text) => NetSpec::from_json(&text)?,
                None => self.experiment.spec.clone(),
            };
            (label.unwrap_or_else(|| "comparison".into()), spec, config.unwrap_or_else(|| self.experiment.train.clone()))
        };
        let trainer = Trainer::new(&spec, config, self.experiment.seed)?;
        check_fits(trainer.net(), &self.train).map_err(|e| Error(format!("the comparison network does not fit: {e}")))?;
        Ok(Companion { label, trainer, curves: Curves::default() })
    }

    /// Train one batch; false when training had to stop (the run is done, or diverged).
    fn train_one(&mut self) -> bool {
        match self.train_batch() {
            Ok(Some(_)) => true,
            Ok(None) => {
                self.paused = true;
                false
            }
            Err(e) => {
                self.paused = true;
                self.paused_reason = Some(e.0);
                false
            }
        }
    }

    /// One batch for the comparison network, if any (it shares the main network's time).
    fn train_comparison(&mut self) {
        let Some(companion) = &mut self.comparison else { return };
        match companion.trainer.step(&self.train) {
            Ok(stats) => companion.curves.note_batch(stats.mse_per_pixel),
            Err(e) => {
                self.paused_reason = Some(format!("the comparison with {} stopped: {e}", companion.label));
                self.comparison = None;
            }
        }
    }

    /// Periodic bookkeeping: curve points, validation, the PCA reference, examples/s.
    fn housekeeping(&mut self) {
        let now = self.clock.now_ms();
        let seen = self.run.examples_seen() as f64;
        self.monitor.record_rate(now, seen);
        if self.run.pretrainer().is_some() {
            // The pretrainer scores itself; here only the loss curve of its layer phases.
            if let Some(loss) = self.monitor.smoothed_bce.or(self.monitor.curves.smoothed_mse).filter(|_| self.run.in_layer_phase()) {
                self.monitor.curves.push_train(seen, loss);
            }
            self.monitor.curves.thin();
            return;
        }
        if let Some(mse) = self.monitor.curves.smoothed_mse {
            self.monitor.curves.push_train(seen, mse);
        }
        let stale = !self.monitor.curves.validated_at(seen);
        if now >= self.monitor.next_validation && (self.monitor.curves.valid_mse.is_none() || stale) {
            let eval = evaluate(self.network(), &self.valid);
            self.monitor.curves.push_valid(seen, eval.mse_per_pixel);
            self.monitor.valid_bce = eval.bce_per_pixel;
            let cost = self.clock.now_ms() - now;
            self.monitor.next_validation = now + VALIDATE_EVERY_MS.max(10.0 * cost);
        }
        if let Some(companion) = &mut self.comparison {
            let companion_seen = companion.trainer.progress().examples_seen as f64;
            if let Some(mse) = companion.curves.smoothed_mse {
                companion.curves.push_train(companion_seen, mse);
            }
            // Scored whenever the main network is, on the same digits.
            if self.monitor.curves.validated_at(seen) && !companion.curves.validated_at(companion_seen) {
                companion.curves.push_valid(companion_seen, evaluate(companion.trainer.net(), &self.valid).mse_per_pixel);
            }
            companion.curves.thin();
        }
        self.monitor.curves.thin();
        let net = self.network();
        let k = net.layers()[net.code_layer()].n_out();
        let affordable = self.train.n_pixels() * (k + 8) <= PCA_MAX_DIM_BY_BLOCK;
        if now - self.started_ms > PCA_AFTER_MS && affordable {
            self.pca_reference();
        }
    }
}

/// The scatter's view of a new network: its code layer's first two units (a classifier's
/// narrowest layer is its class scores, so its last hidden layer instead).
fn default_view(net: &Network, log_y: bool) -> View {
    let layers = net.layers();
    let layer = if net.is_classifier() && layers.len() > 1 { layers.len() - 2 } else { net.code_layer() };
    View { layer, x: 0, y: 1.min(layers[layer].n_out() - 1), log_y }
}

/// The (train, validation) sets an experiment asks for: the digits as its data spec transforms
/// them, or its synthetic data. Without digits, empty sets: such a session converts files but
/// cannot train on digits.
fn build_data(experiment: &Experiment, digits: Option<&Dataset>) -> Result<(Dataset, Dataset), String> {
    if experiment.data.is_mnist() && digits.is_none() {
        let n_inputs = experiment.spec.check()?.n_inputs;
        let empty = Dataset::new(n_inputs, 1, Vec::new(), None);
        return Ok((empty.clone(), empty));
    }
    experiment.data.build(digits, experiment.seed)
}

/// A network fits its data when it takes one number per pixel (empty sets fit anything).
fn check_fits(net: &Network, train: &Dataset) -> Result<(), String> {
    if train.n_images > 0 && train.n_pixels() != net.n_inputs() {
        return Err(format!("the network takes {} inputs, but its data has {} numbers per example", net.n_inputs(), train.n_pixels()));
    }
    Ok(())
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
                comparison: p.comparison.as_ref().map(|c| c.label.clone()),
            })
            .collect(),
        default_preset: presets::DEFAULT.to_string(),
        default_seed: DEFAULT_SEED,
        optimizers: crate::model::Optimizer::defaults().to_vec(),
        noises: crate::data::Noise::defaults().to_vec(),
        panels: panels::Panel::ALL.iter().map(|p| p.name().to_string()).collect(),
        limits: protocol::Limits {
            max_batch: MAX_BATCH,
            max_file_bytes: snapshot::MAX_BYTES,
            max_units: crate::model::spec::MAX_UNITS,
            max_params: crate::model::spec::MAX_PARAMS,
        },
    }
}
