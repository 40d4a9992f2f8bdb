//! One running experiment, owned whole: the experiment's definition, its data, the run that
//! trains it (plain or pretraining), a comparison network beside it, and the monitors that
//! measure it. Front ends drive it through two doors, `apply(Command)` and `run_for(budget)`,
//! and read it through `state`, `stats`, `query` and the panels. It never touches a browser,
//! a file or the wall clock: time comes from an injected `Clock`, bytes from the caller.

pub mod experiment;
pub mod explore;
pub mod health;
pub mod knowledge;
pub mod link;
pub mod moments;
pub mod monitor;
pub mod panels;
pub mod protocol;
pub mod reference;
mod report;
pub mod run;
pub mod settings;

#[cfg(test)]
mod tests;

use crate::data::{DataSpec, Dataset};
use crate::model::network::Workspace;
use crate::model::spec::Checked;
use crate::model::{NetSpec, Network};
use crate::pretrain::Pretrainer;
use crate::snapshot::{convnetjs, Change};
use crate::train::{evaluate, Eval, StepStats, TrainConfig, Trainer};

pub use crate::clock::Clock;
pub use experiment::{Experiment, Origin, Saved, DEFAULT_SEED};
pub use protocol::{Answer, Command, Description, Error, Loaded, Payload, Query, Reply, State, Stats, View};

use knowledge::{Knowledge, Probes};
use monitor::Monitor;
use health::Undo;
use reference::PcaReference;
pub use report::describe;
use explore::ViewChange;
use run::{build_data, check_run, continue_from, Companion, Run};

/// Your digits marked on the scatter, at most.
pub const MAX_MARKED: usize = 100;
/// Slow motion runs from one step a second to this many (above it, full speed is the same).
pub const MIN_SPEED: f64 = 0.1;
pub const MAX_SPEED: f64 = 1000.0;
/// The page's speed control: these steps a second, then full speed.
pub const SPEEDS: [f64; 9] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0];
/// Validation runs about this often (ms of the session's clock), or ten times its own cost.
const VALIDATE_EVERY_MS: f64 = 1500.0;
/// The PCA reference waits this long after a start, so the first frames come fast.
const PCA_AFTER_MS: f64 = 1000.0;
/// While training, PCA is fit only where dim · (k + 8) stays under this (its covariance alone
/// would stall the page); `pca_reference` fits it regardless.
const PCA_MAX_DIM_BY_BLOCK: usize = 120_000;
/// While training, the PCA fit advances at most this long (ms) per housekeeping slice.
const PCA_SLICE_MS: f64 = 15.0;

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
    /// Networks training beside this one, for comparison.
    comparisons: Vec<Companion>,
    monitor: Monitor,
    /// PCA with as many components as the code has units, on the current data.
    pca: PcaReference,
    /// The probes of what the code knows (their data and reference scores), and the latest
    /// measure; when the next is due on the clock.
    probes: Option<Probes>,
    knowledge: Option<Knowledge>,
    next_measure: f64,
    view: View,
    paused: bool,
    paused_reason: Option<String>,
    started_ms: f64,
    /// Your digits (drawn, or from pictures), as the network's inputs: the scatter marks them.
    marked: Vec<Vec<f32>>,
    /// The built-in digits while the experiment trains on digits of your own.
    built_in: Option<Dataset>,
    /// The changes a user made to this run, for the loss graph's markers (saved with it).
    changes: Vec<Change>,
    /// The run just before the latest change to its settings, to go back to.
    undo: Option<Undo>,
    /// What is wrong with the network, though finite (`health::diagnose`), in a sentence.
    health: Option<String>,
    /// When the health check is next due on the clock.
    next_health: f64,
    /// Slow motion: at most this many steps a second, and when the next may come.
    speed: Option<f64>,
    /// Training pauses by itself at this many examples.
    stop: Option<u64>,
    /// Which draw of prior samples the panels decode (`Command::Resample` moves to the next).
    pub(crate) prior_draw: u64,
    /// The moment a tour stop waits for (`Command::Watch`), and when it came.
    pub(crate) watch: moments::Watch,
    next_step_at: f64,
    /// The scatter's codes as last computed, when (session clock, ms), and for which view: the
    /// pointer's questions between two scatter paints reuse them (`ScatterData::recent`).
    pub(crate) scatter_seen: std::cell::RefCell<Option<(f64, View, std::rc::Rc<explore::ScatterData>)>>,
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
        Session::open_with(bytes, seed, clock, |_, _| Ok(digits))
    }

    /// `open`, with the digits chosen once the file has said what it is and what data it
    /// trains on (the CLI reads IDX files or the built-in digits only when the run needs them,
    /// and refuses what it cannot use before reading them).
    pub fn open_with(bytes: &[u8], seed: u64, clock: Box<dyn Clock>, digits: impl FnOnce(Loaded, &DataSpec) -> Result<Option<Dataset>, String>) -> Result<Session, Error> {
        let (experiment, saved, loaded) = Experiment::open(bytes, seed)?;
        let digits = digits(loaded, &experiment.data)?;
        let (train, valid) = build_data(&experiment, digits.as_ref())?;
        let earlier = match &saved {
            Saved::Snapshot(snapshot) => snapshot.changes.clone(),
            Saved::Network(_) => Vec::new(),
        };
        let (run, companions) = continue_from(saved, &experiment, &train, &valid)?;
        let mut session = Session::assemble(experiment, run, digits, train, valid, clock)?;
        session.comparisons = companions;
        session.changes = earlier;
        Ok(session)
    }

    fn assemble(experiment: Experiment, run: Run, digits: Option<Dataset>, train: Dataset, valid: Dataset, clock: Box<dyn Clock>) -> Result<Session, Error> {
        check_run(&run, &[], &train)?;
        let log_y = experiment.preset_info().is_some_and(|p| p.log_scale);
        let started_ms = clock.now_ms();
        Ok(Session {
            view: default_view(run.trainer().net().checked(), log_y),
            built_from: (experiment.data.clone(), experiment.seed),
            clock,
            digits,
            experiment,
            train,
            valid,
            run,
            comparisons: Vec::new(),
            monitor: Monitor::default(),
            pca: PcaReference::default(),
            probes: None,
            knowledge: None,
            next_measure: 0.0,
            paused: false,
            paused_reason: None,
            started_ms,
            marked: Vec::new(),
            built_in: None,
            changes: Vec::new(),
            undo: None,
            health: None,
            next_health: 0.0,
            speed: None,
            stop: None,
            prior_draw: 0,
            watch: moments::Watch::default(),
            next_step_at: 0.0,
            scatter_seen: Default::default(),
        })
    }

    /// Carry out one command. A refused command changes nothing and says why.
    pub fn apply(&mut self, command: Command) -> Result<Reply, Error> {
        // A command may change the network, its data or the view: the scatter is computed anew.
        self.scatter_seen.get_mut().take();
        let payload = match command {
            Command::Pause => {
                self.paused = true;
                Payload::None
            }
            Command::Resume => {
                if let Some(done) = self.finished() {
                    return Err(Error(done));
                }
                // Past its stopping point, a run resumed trains on: the stop is spent.
                if self.stop.is_some_and(|n| self.run.examples_seen() >= n) {
                    self.stop = None;
                }
                self.paused = false;
                self.paused_reason = None;
                Payload::None
            }
            Command::Step => {
                if let Some(done) = self.finished() {
                    return Err(Error(done));
                }
                if self.waiting_for_digits() {
                    return Err(Error("the next batch is not here yet: the rest of the digits are still arriving".into()));
                }
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
            Command::SetConfig { config } => {
                self.change_settings(config)?;
                Payload::None
            }
            Command::Undo => {
                self.undo_change()?;
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
            Command::Save => Payload::Snapshot(self.snapshot_text()?),
            Command::Load { bytes } => {
                let (experiment, saved, loaded) = Experiment::open(&bytes, self.experiment.seed)?;
                let earlier = match &saved {
                    Saved::Snapshot(snapshot) => snapshot.changes.clone(),
                    Saved::Network(_) => Vec::new(),
                };
                self.replace(experiment, Some(saved))?;
                // The run goes on exactly as saved, its changes with it (the graph starts anew).
                self.changes = earlier;
                Payload::Loaded(loaded)
            }
            Command::ExportConvnetjs => Payload::Convnetjs(convnetjs::export(self.network())?),
            Command::View { layer, x, y, manifold, log_y, components, ellipses } => {
                self.view = self.checked_view(ViewChange { layer, x, y, manifold, log_y, components, ellipses })?;
                Payload::None
            }
            Command::Mark { digits } => {
                self.marked = self.checked_marks(digits)?;
                Payload::None
            }
            Command::UseDigits { files } => {
                let files: Vec<&[u8]> = files.iter().map(|f| f.as_slice()).collect();
                let digits = crate::data::idx::parse_files(&files)?;
                self.use_digits(digits, false)?;
                Payload::None
            }
            Command::BuiltInDigits => {
                if let Some(built_in) = self.built_in.clone() {
                    self.use_digits(built_in, true)?;
                }
                Payload::None
            }
            Command::SetSpeed { steps_per_second } => {
                if let Some(speed) = steps_per_second {
                    if !(speed.is_finite() && (MIN_SPEED..=MAX_SPEED).contains(&speed)) {
                        return Err(Error(format!("slow motion runs from {MIN_SPEED} to {MAX_SPEED} steps a second, not {speed}")));
                    }
                }
                self.speed = steps_per_second;
                self.next_step_at = 0.0;
                Payload::None
            }
            Command::SetStop { examples } => {
                if examples == Some(0) {
                    return Err("a run stops after at least 1 example".into());
                }
                self.stop = examples;
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
                self.comparisons.iter_mut().for_each(|c| c.curves.clear_graph());
                Payload::None
            }
            Command::Compare { label, spec, config } => {
                self.comparisons = self.companions(label, spec, config)?;
                Payload::None
            }
            Command::DigitsArrived { bytes } => {
                self.digits_arrived(crate::data::asset::parse(&bytes)?)?;
                Payload::None
            }
            Command::Watch { watching } => {
                self.watch = moments::Watch::new(watching);
                self.check_watch();
                Payload::None
            }
            Command::Resample => {
                if self.network().gaussian_layer().is_none() {
                    return Err("only a variational autoencoder (a network with a gaussian code) has a prior to sample from".into());
                }
                self.prior_draw += 1;
                Payload::None
            }
            Command::StopCompare => {
                self.comparisons.clear();
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
        match self.speed {
            _ if self.paused => {}
            None => {
                let mut now = start;
                while self.train_one() && {
                    now = self.clock.now_ms();
                    now - start < budget_ms
                } {
                    self.train_comparison();
                }
                // Examples/s counts the time spent training, not validating or drawing.
                self.monitor.training_ms += (now - start).max(0.0);
            }
            // Slow motion: one step when its time has come, the comparison with it.
            Some(steps_per_second) => {
                if start >= self.next_step_at {
                    self.next_step_at = start.max(self.next_step_at) + 1000.0 / steps_per_second;
                    if self.train_one() {
                        self.train_comparison();
                    }
                }
            }
        }
        self.housekeeping();
        self.stats()
    }

    /// Train one minibatch of the run (not the comparison) and record it; None when the run
    /// has nothing left to train. A divergence is an error, and the parameters are restored.
    pub fn train_batch(&mut self) -> Result<Option<StepStats>, Error> {
        // A run asked to stop at N examples takes a short last batch, so it stops at exactly N.
        let left = self.stop.map(|n| n.saturating_sub(self.run.examples_seen()));
        let stats = self.run.step(&self.train, &*self.clock, left).map_err(|e| Error(e.to_string()))?;
        if let Some(stats) = &stats {
            self.monitor.record_step(stats);
        }
        Ok(stats)
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

    pub fn comparisons(&self) -> &[Companion] {
        &self.comparisons
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

    /// Everything needed to resume this session exactly (the network, its optimiser, data
    /// order and generator; pretraining where it stands; the comparison), as JSON text.
    pub fn snapshot_text(&self) -> Result<String, Error> {
        let mut snapshot = self.run.save(&self.experiment, &self.comparisons);
        snapshot.changes = self.changes.clone();
        Ok(snapshot.to_json()?)
    }

    fn set_config(&mut self, config: TrainConfig) -> Result<(), Error> {
        self.run.set_config(config.clone())?;
        self.experiment.train = config;
        Ok(())
    }

    /// Train on other digits (yours, or the built-in ones again): the experiment starts over
    /// on them, and the old digits are kept only if they are the built-in ones.
    fn use_digits(&mut self, digits: Dataset, built_in: bool) -> Result<(), Error> {
        if !self.experiment.data.is_mnist() {
            return Err("this experiment makes its own data; digits of your own go with a digits preset".into());
        }
        let previous = self.digits.replace(digits);
        if let Err(e) = self.replace_on(self.experiment.clone(), None, true) {
            self.digits = previous;
            return Err(Error(format!("these digits do not suit this experiment: {e}")));
        }
        if built_in {
            self.built_in = None;
        } else if self.built_in.is_none() {
            self.built_in = previous;
        }
        Ok(())
    }

    /// Swap in a new experiment and its run (a fresh one from the experiment, or what a file
    /// saved); every check comes before anything changes.
    fn replace(&mut self, experiment: Experiment, saved: Option<Saved>) -> Result<(), Error> {
        self.replace_on(experiment, saved, false)
    }

    /// `replace`, rebuilding the data even when its spec is unchanged (`new_digits`).
    fn replace_on(&mut self, experiment: Experiment, saved: Option<Saved>, new_digits: bool) -> Result<(), Error> {
        let key = (experiment.data.clone(), experiment.seed);
        // Digits do not depend on the seed; synthetic data does.
        let same_data = !new_digits && key.0 == self.built_from.0 && (key.0.is_mnist() || key.1 == self.built_from.1);
        let rebuilt = if same_data { None } else { Some(build_data(&experiment, self.digits.as_ref())?) };
        let (train, valid) = rebuilt.as_ref().map_or((&self.train, &self.valid), |(t, v)| (t, v));
        let (run, companions) = match saved {
            Some(saved) => continue_from(saved, &experiment, train, valid)?,
            None => (Run::start(&experiment, train, valid)?, Vec::new()),
        };
        check_run(&run, &companions, train)?;
        if let Some((train, valid)) = rebuilt {
            self.train = train;
            self.valid = valid;
            self.built_from = key;
            self.pca.clear();
        }
        self.probes = None;
        self.knowledge = None;
        self.next_measure = 0.0;
        let n_inputs = run.trainer().net().n_inputs();
        self.marked.retain(|d| d.len() == n_inputs);
        self.view = View { manifold: self.view.manifold, ..default_view(run.trainer().net().checked(), self.view.log_y) };
        self.experiment = experiment;
        self.run = run;
        self.comparisons = companions;
        self.changes.clear();
        self.undo = None;
        self.health = None;
        self.monitor.restart();
        self.paused_reason = None;
        self.started_ms = self.clock.now_ms();
        Ok(())
    }

    /// Train one batch; false when training had to stop (the run is done, or diverged) or
    /// waits for digits still arriving.
    fn train_one(&mut self) -> bool {
        let stop_at = |s: &Self| s.stop.is_some_and(|n| s.run.examples_seen() >= n);
        if stop_at(self) {
            self.paused = true;
            return false;
        }
        if self.waiting_for_digits() {
            return false;
        }
        match self.train_batch() {
            Ok(Some(_)) if stop_at(self) => {
                self.paused = true;
                false
            }
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

    /// Periodic bookkeeping: curve points, validation, the PCA reference, examples/s.
    fn housekeeping(&mut self) {
        self.measure();
        self.check_watch();
    }

    fn measure(&mut self) {
        let now = self.clock.now_ms();
        let seen = self.run.examples_seen() as f64;
        let training_ms = if self.speed.is_some() { now } else { self.monitor.training_ms };
        self.monitor.record_rate(training_ms, seen);
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
            if let Some(elbo) = eval.elbo {
                self.monitor.curves.push_elbo(seen, elbo);
            }
            // Every validation digit, as the turn-off grid counts dead units; at most a tenth
            // of the time, like the other measures.
            if self.valid.n_images > 0 && now >= self.next_health {
                let started = self.clock.now_ms();
                self.health = health::diagnose(self.network(), &self.valid, &mut Workspace::default(), &self.monitor.curves);
                self.next_health = now + health::EVERY_MS.max(10.0 * (self.clock.now_ms() - started));
            }
            self.monitor.valid_bce = eval.bce_per_pixel;
            let cost = self.clock.now_ms() - now;
            self.monitor.validation_ms = cost;
            self.monitor.next_validation = now + VALIDATE_EVERY_MS.max(10.0 * cost);
        }
        for companion in &mut self.comparisons {
            let companion_seen = companion.trainer.progress().examples_seen as f64;
            if let Some(mse) = companion.curves.smoothed_mse {
                companion.curves.push_train(companion_seen, mse);
            }
            // Scored whenever the main network is, on the same digits.
            if self.monitor.curves.validated_at(seen) && !companion.curves.validated_at(companion_seen) {
                let eval = evaluate(companion.trainer.net(), &self.valid);
                companion.curves.push_valid(companion_seen, eval.mse_per_pixel);
                if let Some(elbo) = eval.elbo {
                    companion.curves.push_elbo(companion_seen, elbo);
                }
            }
            companion.curves.thin();
        }
        self.monitor.curves.thin();
        let k = self.pca_k();
        let affordable = k.is_some_and(|k| self.train.n_pixels() * (k + 8) <= PCA_MAX_DIM_BY_BLOCK);
        let warmed_up = now - self.started_ms > PCA_AFTER_MS;
        let pca = if warmed_up && affordable { self.advance_pca(now + PCA_SLICE_MS) } else { reference::Progress::None };
        // Knowledge waits for the PCA it is compared with (unless there will be none).
        if now >= self.next_measure && warmed_up && pca != reference::Progress::Fitting && !self.network().is_classifier() {
            self.measure_knowledge(now);
        }
    }
}

/// The scatter's view of a new network: its code layer (a classifier's narrowest layer is its
/// class scores, so its last hidden layer instead): its two units, or on a wider layer its first
/// two principal components (two of 1,000 units of a sparse code say little).
fn default_view(checked: &Checked, log_y: bool) -> View {
    let layers = &checked.layers;
    let classifier = checked.loss == crate::model::Loss::Softmax;
    let layer = if classifier && layers.len() > 1 { layers.len() - 2 } else { checked.code_layer };
    let view = View { layer, x: 0, y: 1.min(layers[layer].n_out - 1), manifold: false, log_y, components: layers[layer].n_out > 2, ellipses: None };
    // A variational code's spreads are drawn from the start.
    let variational = layers[layer].kind == crate::model::spec::Kind::Gaussian && !view.components;
    View { ellipses: variational.then_some(true), ..view }
}
