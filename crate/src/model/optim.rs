//! Optimisers and weight decay, applied to a network's summed batch gradients.
//!
//! Every update first forms the raw per-parameter gradient the way ConvNetJS's trainer does:
//! g = (Σ_batch ∂loss/∂w + l2 · w + l1 · sign(w)) / batch_size, with decay only on weights.
//! The formulas, per parameter w with gradient g:
//! - sgd:      v ← μv − lr·g;  w ← w + v, or with Nesterov w ← w + μv − lr·g (μ = 0: w ← w − lr·g)
//! - adagrad:  c ← c + g²;  w ← w − lr·g / (√c + ε)
//! - rmsprop:  c ← ρc + (1 − ρ)g²;  w ← w − lr·g / (√c + ε)
//! - adadelta: c ← ρc + (1 − ρ)g²;  Δ = −√(d + ε)/√(c + ε) · g;  d ← ρd + (1 − ρ)Δ²;  w ← w + Δ
//!   (Zeiler 2012: it has no learning rate)
//! - adam:     m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;
//!   w ← w − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)   (Kingma & Ba's bias correction)

use serde::{Deserialize, Serialize};

use super::matmul::{for_each_task, Shared};
use super::network::Param;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Optimizer {
    Sgd {
        #[serde(serialize_with = "crate::decimal::f32")]
        lr: f32,
        #[serde(default, serialize_with = "crate::decimal::f32")]
        momentum: f32,
        #[serde(default)]
        nesterov: bool,
    },
    Adagrad {
        #[serde(serialize_with = "crate::decimal::f32")]
        lr: f32,
        #[serde(default = "eps_1e8", serialize_with = "crate::decimal::f32")]
        eps: f32,
    },
    Rmsprop {
        #[serde(serialize_with = "crate::decimal::f32")]
        lr: f32,
        #[serde(default = "rho_09", serialize_with = "crate::decimal::f32")]
        rho: f32,
        #[serde(default = "eps_1e8", serialize_with = "crate::decimal::f32")]
        eps: f32,
    },
    Adadelta {
        #[serde(default = "rho_095", serialize_with = "crate::decimal::f32")]
        rho: f32,
        #[serde(default = "eps_1e6", serialize_with = "crate::decimal::f32")]
        eps: f32,
    },
    Adam {
        #[serde(serialize_with = "crate::decimal::f32")]
        lr: f32,
        #[serde(default = "rho_09", serialize_with = "crate::decimal::f32")]
        beta1: f32,
        #[serde(default = "beta2_0999", serialize_with = "crate::decimal::f32")]
        beta2: f32,
        #[serde(default = "eps_1e8", serialize_with = "crate::decimal::f32")]
        eps: f32,
    },
}

fn eps_1e8() -> f32 {
    1e-8
}
fn eps_1e6() -> f32 {
    1e-6
}
fn rho_09() -> f32 {
    0.9
}
fn rho_095() -> f32 {
    0.95
}
fn beta2_0999() -> f32 {
    0.999
}

impl Optimizer {
    /// Every optimiser with the settings it starts from when a user picks it.
    pub fn defaults() -> [Optimizer; 5] {
        [
            Optimizer::Sgd { lr: 0.01, momentum: 0.9, nesterov: false },
            Optimizer::Adagrad { lr: 0.01, eps: eps_1e8() },
            Optimizer::Rmsprop { lr: 0.001, rho: rho_09(), eps: eps_1e8() },
            Optimizer::Adadelta { rho: rho_095(), eps: eps_1e6() },
            Optimizer::Adam { lr: 0.001, beta1: rho_09(), beta2: beta2_0999(), eps: eps_1e8() },
        ]
    }

    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Sgd { .. } => "sgd",
            Optimizer::Adagrad { .. } => "adagrad",
            Optimizer::Rmsprop { .. } => "rmsprop",
            Optimizer::Adadelta { .. } => "adadelta",
            Optimizer::Adam { .. } => "adam",
        }
    }

    /// The learning rate, or None for Adadelta, which has none.
    pub fn learning_rate(&self) -> Option<f32> {
        match *self {
            Optimizer::Sgd { lr, .. } | Optimizer::Adagrad { lr, .. } | Optimizer::Rmsprop { lr, .. } | Optimizer::Adam { lr, .. } => Some(lr),
            Optimizer::Adadelta { .. } => None,
        }
    }

    /// How many state arrays of a parameter's size the optimiser keeps.
    pub fn n_slots(&self) -> usize {
        match *self {
            Optimizer::Sgd { momentum, .. } => usize::from(momentum != 0.0),
            Optimizer::Adagrad { .. } | Optimizer::Rmsprop { .. } => 1,
            Optimizer::Adadelta { .. } | Optimizer::Adam { .. } => 2,
        }
    }

    /// This optimiser's settings, each with the field that describes it, in `FIELDS` order.
    pub fn fields(&self) -> Vec<(&'static Field, FieldValue)> {
        let mut copy = *self;
        copy.slots().into_iter().map(|(field, slot)| (field, slot.value())).collect()
    }

    /// Set one of its settings by key (range not checked: `validate` does that); an error
    /// where this optimiser has no such setting or the value is of the wrong kind.
    pub fn set(&mut self, key: &str, value: FieldValue) -> Result<(), String> {
        let name = self.name();
        let slot = self.slots().into_iter().find(|(field, _)| field.key == key);
        match (slot, value) {
            (Some((_, Slot::Number(slot))), FieldValue::Number(v)) => *slot = v,
            (Some((_, Slot::Switch(slot))), FieldValue::Switch(v)) => *slot = v,
            (Some((field, _)), _) => return Err(format!("{name}: {} is {}", field.key, field.bound.words())),
            (None, _) => return Err(format!("{name} has no {}", field(key).map_or(key, |f| f.label))),
        }
        Ok(())
    }

    /// Each setting of each optimiser, under its field: the one place they are listed.
    fn slots(&mut self) -> Vec<(&'static Field, Slot<'_>)> {
        use Slot::{Number, Switch};
        let [lr_, momentum_, nesterov_, rho_, beta1_, beta2_, eps_] = &FIELDS;
        match self {
            Optimizer::Sgd { lr, momentum, nesterov } => vec![(lr_, Number(lr)), (momentum_, Number(momentum)), (nesterov_, Switch(nesterov))],
            Optimizer::Adagrad { lr, eps } => vec![(lr_, Number(lr)), (eps_, Number(eps))],
            Optimizer::Rmsprop { lr, rho, eps } => {
                vec![(lr_, Number(lr)), (rho_, Number(rho)), (eps_, Number(eps))]
            }
            Optimizer::Adadelta { rho, eps } => vec![(rho_, Number(rho)), (eps_, Number(eps))],
            Optimizer::Adam { lr, beta1, beta2, eps } => vec![(lr_, Number(lr)), (beta1_, Number(beta1)), (beta2_, Number(beta2)), (eps_, Number(eps))],
        }
    }

    /// Every setting within its field's bounds.
    pub fn validate(&self) -> Result<(), String> {
        for (field, value) in self.fields() {
            if let FieldValue::Number(v) = value {
                if !field.bound.holds(v as f64) {
                    return Err(format!("{}: {} must be {}, got {v}", self.name(), field.label, field.bound.words()));
                }
            }
        }
        Ok(())
    }
}

/// One setting an optimiser may have: its key (in files and links), what a sentence calls it,
/// the short label of its control, what it means, and the values it takes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub short: &'static str,
    pub help: &'static str,
    pub bound: Bound,
}

/// The values a number (or a switch) takes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// Greater than 0, finite.
    Positive,
    /// In [0, 1).
    Unit,
    /// In [0, 1].
    Fraction,
    /// At least 0, finite.
    NonNegative,
    /// Between 0 and this, inclusive.
    AtMost(f64),
    /// A whole number between these, inclusive.
    Whole(u64, u64),
    /// True or false.
    Switch,
}

impl Bound {
    pub fn holds(self, v: f64) -> bool {
        v.is_finite()
            && match self {
                Bound::Positive => v > 0.0,
                Bound::Unit => (0.0..1.0).contains(&v),
                Bound::Fraction => (0.0..=1.0).contains(&v),
                Bound::NonNegative => v >= 0.0,
                Bound::AtMost(max) => (0.0..=max).contains(&v),
                Bound::Whole(lo, hi) => v.fract() == 0.0 && (lo as f64..=hi as f64).contains(&v),
                Bound::Switch => v == 0.0 || v == 1.0,
            }
    }

    /// The bound in words, after "must be".
    pub fn words(self) -> String {
        match self {
            Bound::Positive => "a positive number".into(),
            Bound::Unit => "in [0, 1)".into(),
            Bound::Fraction => "a number between 0 and 1".into(),
            Bound::NonNegative => "a number of at least 0".into(),
            Bound::AtMost(max) => format!("a number between 0 and {max}"),
            Bound::Whole(lo, hi) => format!("a whole number between {lo} and {hi}"),
            Bound::Switch => "true or false".into(),
        }
    }
}

/// A setting's value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FieldValue {
    Number(f32),
    Switch(bool),
}

/// One of an optimiser's settings, to read or set.
enum Slot<'a> {
    Number(&'a mut f32),
    Switch(&'a mut bool),
}

impl Slot<'_> {
    fn value(&self) -> FieldValue {
        match self {
            Slot::Number(v) => FieldValue::Number(**v),
            Slot::Switch(v) => FieldValue::Switch(**v),
        }
    }
}

/// Every optimiser setting, in the order controls and links list them.
pub const FIELDS: [Field; 7] = [
    Field {
        key: "lr",
        label: "learning rate",
        short: "learning rate",
        help: "How far each step moves the weights along the gradient. Too small and nothing happens; too large and the loss jumps and units die.",
        bound: Bound::Positive,
    },
    Field {
        key: "momentum",
        label: "momentum",
        short: "momentum",
        help: "The share of the previous step kept in the next one (0: plain gradient descent). It smooths and speeds up steps along consistent directions.",
        bound: Bound::Unit,
    },
    Field {
        key: "nesterov",
        label: "Nesterov switch",
        short: "Nesterov",
        help: "Nesterov momentum: take the gradient's step after the momentum step, a look-ahead that damps overshooting.",
        bound: Bound::Switch,
    },
    Field {
        key: "rho",
        label: "rho",
        short: "ρ (decay)",
        help: "ρ: how slowly the running averages of squared gradients (and, for Adadelta, of squared steps) forget; near 1 means a long memory.",
        bound: Bound::Unit,
    },
    Field { key: "beta1", label: "beta1", short: "β₁", help: "β₁: Adam's memory for the average gradient (its momentum); near 1 means a long memory.", bound: Bound::Unit },
    Field { key: "beta2", label: "beta2", short: "β₂", help: "β₂: Adam's memory for the average squared gradient, which sizes each weight's step.", bound: Bound::Unit },
    Field {
        key: "eps",
        label: "epsilon",
        short: "ε",
        help: "ε: a tiny number added before dividing by the running average, so a weight with no gradient yet does not take a huge step.",
        bound: Bound::Positive,
    },
];

/// The optimiser setting with this key.
pub fn field(key: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.key == key)
}

/// The optimiser's memory: `slots[param_idx][slot_idx]` has the param's size.
#[derive(Debug, PartialEq, Default)]
pub struct OptimState {
    /// Updates applied so far (Adam's t).
    pub step: u64,
    pub slots: Vec<Vec<Vec<f32>>>,
}

/// Written out so `clone_from` reuses the slots' buffers: the trainer backs the state up
/// before every update and must not allocate to do it.
impl Clone for OptimState {
    fn clone(&self) -> OptimState {
        OptimState { step: self.step, slots: self.slots.clone() }
    }

    fn clone_from(&mut self, source: &OptimState) {
        self.step = source.step;
        self.slots.clone_from(&source.slots);
    }
}

impl OptimState {
    pub fn new(optimizer: &Optimizer, params: &[Param]) -> OptimState {
        let slots = params.iter().map(|p| vec![vec![0.0; p.value.len()]; optimizer.n_slots()]).collect();
        OptimState { step: 0, slots }
    }

    /// Whether this state has the shape `optimizer` needs for `params`.
    pub fn fits(&self, optimizer: &Optimizer, params: &[Param]) -> bool {
        self.slots.len() == params.len()
            && self.slots.iter().zip(params).all(|(s, p)| s.len() == optimizer.n_slots() && s.iter().all(|a| a.len() == p.value.len()))
    }
}

/// Weight decay settings, ConvNetJS style.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Decay {
    pub l1: f32,
    pub l2: f32,
}

/// Apply one update from the summed gradients of `batch_size` examples, then zero the gradients.
pub fn apply(optimizer: &Optimizer, state: &mut OptimState, params: &mut [Param], decay: Decay, batch_size: usize) {
    debug_assert!(state.fits(optimizer, params));
    state.step = state.step.saturating_add(1);
    let inv_batch = 1.0 / batch_size as f32;
    // Adam's t as a float: exact up to 2^53 steps, and never wrapping.
    let t = state.step as f64;
    for (param, slots) in params.iter_mut().zip(state.slots.iter_mut()) {
        let (l1, l2) = if param.decays { (decay.l1, decay.l2) } else { (0.0, 0.0) };
        let raw = |w: f32, g: f32| raw_gradient(w, g, l1, l2, inv_batch);
        let Param { value, grad, .. } = param;
        match *optimizer {
            Optimizer::Sgd { lr, momentum, nesterov } => {
                if momentum == 0.0 {
                    for (w, g) in value.iter_mut().zip(grad.iter()) {
                        *w -= lr * raw(*w, *g);
                    }
                } else {
                    for ((w, g), v) in value.iter_mut().zip(grad.iter()).zip(slots[0].iter_mut()) {
                        let g = raw(*w, *g);
                        *v = momentum * *v - lr * g;
                        *w += if nesterov { momentum * *v - lr * g } else { *v };
                    }
                }
            }
            Optimizer::Adagrad { lr, eps } => {
                for ((w, g), c) in value.iter_mut().zip(grad.iter()).zip(slots[0].iter_mut()) {
                    let g = raw(*w, *g);
                    *c += g * g;
                    *w -= lr * g / (c.sqrt() + eps);
                }
            }
            Optimizer::Rmsprop { lr, rho, eps } => {
                for ((w, g), c) in value.iter_mut().zip(grad.iter()).zip(slots[0].iter_mut()) {
                    let g = raw(*w, *g);
                    *c = rho * *c + (1.0 - rho) * g * g;
                    *w -= lr * g / (c.sqrt() + eps);
                }
            }
            Optimizer::Adadelta { rho, eps } => {
                let (gsq, dsq) = slots.split_at_mut(1);
                for (((w, g), c), d) in value.iter_mut().zip(grad.iter()).zip(gsq[0].iter_mut()).zip(dsq[0].iter_mut()) {
                    let g = raw(*w, *g);
                    *c = rho * *c + (1.0 - rho) * g * g;
                    // One square root of the ratio, as ConvNetJS writes it.
                    let step = -((*d + eps) / (*c + eps)).sqrt() * g;
                    *d = rho * *d + (1.0 - rho) * step * step;
                    *w += step;
                }
            }
            Optimizer::Adam { lr, beta1, beta2, eps } => {
                let correct1 = (1.0 - (beta1 as f64).powf(t)) as f32;
                let correct2 = (1.0 - (beta2 as f64).powf(t)) as f32;
                let (ms, vs) = slots.split_at_mut(1);
                for (((w, g), m), v) in value.iter_mut().zip(grad.iter()).zip(ms[0].iter_mut()).zip(vs[0].iter_mut()) {
                    let g = raw(*w, *g);
                    *m = beta1 * *m + (1.0 - beta1) * g;
                    *v = beta2 * *v + (1.0 - beta2) * g * g;
                    *w -= lr * (*m / correct1) / ((*v / correct2).sqrt() + eps);
                }
            }
        }
        grad.iter_mut().for_each(|g| *g = 0.0);
    }
}

/// `apply`, fused with what a trainer does around every update, in one pass over the memory
/// and spread over the threads: each parameter and optimiser value is copied into `backup` as
/// the update reads it (so the update can be undone), the gradient is zeroed, and every new
/// value is checked. Returns false when some parameter ends non-finite or past `limit` in size,
/// or some optimiser value non-finite. The arithmetic is `apply`'s, value for value.
pub fn apply_with_backup(optimizer: &Optimizer, state: &mut OptimState, params: &mut [Param], decay: Decay, batch_size: usize, backup: &mut (Vec<Vec<f32>>, OptimState), limit: f32) -> bool {
    debug_assert!(state.fits(optimizer, params));
    let (saved_values, saved_state) = backup;
    saved_state.step = state.step;
    saved_values.resize_with(params.len(), Vec::new);
    saved_state.slots.resize_with(params.len(), Vec::new);
    state.step = state.step.saturating_add(1);
    let inv_batch = 1.0 / batch_size as f32;
    let t = state.step as f64;
    let healthy = std::sync::atomic::AtomicBool::new(true);
    for (((param, slots), saved), saved_slots) in params.iter_mut().zip(state.slots.iter_mut()).zip(saved_values.iter_mut()).zip(saved_state.slots.iter_mut()) {
        let len = param.value.len();
        saved.resize(len, 0.0);
        saved_slots.resize_with(slots.len(), Vec::new);
        saved_slots.iter_mut().for_each(|s| s.resize(len, 0.0));
        let (l1, l2) = if param.decays { (decay.l1, decay.l2) } else { (0.0, 0.0) };
        let shared = |v: &mut Vec<f32>| Shared::new(v);
        let (w, g, bw) = (shared(&mut param.value), shared(&mut param.grad), shared(saved));
        let (s, bs) = (two(slots), two(saved_slots));
        let chunks = len.div_ceil(UPDATE_CHUNK);
        for_each_task(chunks, |chunk| {
            let (lo, n) = (chunk * UPDATE_CHUNK, UPDATE_CHUNK.min(len - chunk * UPDATE_CHUNK));
            // SAFETY: each task owns elements lo..lo + n of every array of this parameter.
            let part = |a: &Shared| unsafe { a.part(lo, n) };
            let slot = |a: &Option<Shared>| part(a.as_ref().expect("the optimiser's slots fit"));
            let (w, g, bw) = (part(&w), part(&g), part(&bw));
            bw.copy_from_slice(w);
            let raw = |w: f32, g: f32| raw_gradient(w, g, l1, l2, inv_batch);
            let ok = match *optimizer {
                Optimizer::Sgd { lr, momentum, nesterov } => {
                    if momentum == 0.0 {
                        update0(w, g, |w, g| w - lr * raw(w, g))
                    } else {
                        update1(w, g, slot(&s[0]), slot(&bs[0]), |w, g, v| {
                            let g = raw(w, g);
                            let v = momentum * v - lr * g;
                            (w + if nesterov { momentum * v - lr * g } else { v }, v)
                        })
                    }
                }
                Optimizer::Adagrad { lr, eps } => update1(w, g, slot(&s[0]), slot(&bs[0]), |w, g, c| {
                    let g = raw(w, g);
                    let c = c + g * g;
                    (w - lr * g / (c.sqrt() + eps), c)
                }),
                Optimizer::Rmsprop { lr, rho, eps } => update1(w, g, slot(&s[0]), slot(&bs[0]), |w, g, c| {
                    let g = raw(w, g);
                    let c = rho * c + (1.0 - rho) * g * g;
                    (w - lr * g / (c.sqrt() + eps), c)
                }),
                Optimizer::Adadelta { rho, eps } => update2(w, g, [slot(&s[0]), slot(&s[1])], [slot(&bs[0]), slot(&bs[1])], |w, g, c, d| {
                    let g = raw(w, g);
                    let c = rho * c + (1.0 - rho) * g * g;
                    let step = -((d + eps) / (c + eps)).sqrt() * g;
                    (w + step, c, rho * d + (1.0 - rho) * step * step)
                }),
                Optimizer::Adam { lr, beta1, beta2, eps } => {
                    let correct1 = (1.0 - (beta1 as f64).powf(t)) as f32;
                    let correct2 = (1.0 - (beta2 as f64).powf(t)) as f32;
                    update2(w, g, [slot(&s[0]), slot(&s[1])], [slot(&bs[0]), slot(&bs[1])], |w, g, m, v| {
                        let g = raw(w, g);
                        let m = beta1 * m + (1.0 - beta1) * g;
                        let v = beta2 * v + (1.0 - beta2) * g * g;
                        (w - lr * (m / correct1) / ((v / correct2).sqrt() + eps), m, v)
                    })
                }
            };
            // NaN fails both comparisons, so one test per value covers "finite" too.
            if !ok || !w.iter().fold(true, |ok, v| ok & (v.abs() <= limit)) {
                healthy.store(false, std::sync::atomic::Ordering::Relaxed);
            }
        });
    }
    healthy.into_inner()
}

/// The first two slot arrays of a parameter, shared with the update's tasks.
fn two(slots: &mut [Vec<f32>]) -> [Option<Shared>; 2] {
    let mut arrays = slots.iter_mut();
    [arrays.next().map(|a| Shared::new(a)), arrays.next().map(|a| Shared::new(a))]
}

/// Elements a task of `apply_with_backup` updates: big enough to pay for a thread.
const UPDATE_CHUNK: usize = 128 * 1024;

/// One pass of a stateless update: w ← f(w, g), g ← 0.
#[inline(always)]
fn update0(w: &mut [f32], g: &mut [f32], f: impl Fn(f32, f32) -> f32) -> bool {
    for (w, g) in w.iter_mut().zip(g.iter_mut()) {
        *w = f(*w, *g);
        *g = 0.0;
    }
    true
}

/// One pass of a one-slot update: (w, s) ← f(w, g, s), the old s saved, g ← 0; false if some
/// new s is not finite.
#[inline(always)]
fn update1(w: &mut [f32], g: &mut [f32], s: &mut [f32], saved: &mut [f32], f: impl Fn(f32, f32, f32) -> (f32, f32)) -> bool {
    saved.copy_from_slice(s);
    let mut finite = true;
    for ((w, g), s) in w.iter_mut().zip(g.iter_mut()).zip(s.iter_mut()) {
        (*w, *s) = f(*w, *g, *s);
        *g = 0.0;
        finite &= s.abs() < f32::INFINITY;
    }
    finite
}

/// One pass of a two-slot update, as `update1`.
#[inline(always)]
fn update2(w: &mut [f32], g: &mut [f32], [s0, s1]: [&mut [f32]; 2], [saved0, saved1]: [&mut [f32]; 2], f: impl Fn(f32, f32, f32, f32) -> (f32, f32, f32)) -> bool {
    saved0.copy_from_slice(s0);
    saved1.copy_from_slice(s1);
    let mut finite = true;
    for (((w, g), a), b) in w.iter_mut().zip(g.iter_mut()).zip(s0.iter_mut()).zip(s1.iter_mut()) {
        (*w, *a, *b) = f(*w, *g, *a, *b);
        *g = 0.0;
        finite &= a.abs() < f32::INFINITY && b.abs() < f32::INFINITY;
    }
    finite
}

/// The per-example gradient an update uses: (summed gradient + l2·w + l1·sign(w)) / batch.
#[inline]
pub fn raw_gradient(w: f32, summed_grad: f32, l1: f32, l2: f32, inv_batch: f32) -> f32 {
    (summed_grad + l2 * w + l1 * sign(w)) * inv_batch
}

fn sign(w: f32) -> f32 {
    if w > 0.0 {
        1.0
    } else if w < 0.0 {
        -1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One optimiser case: a single weight w = 1 (no decay), batch size 1, the same summed
    /// gradient 0.5 before each of two updates; `want` is w after each update.
    fn check(optimizer: Optimizer, want: [f64; 2]) {
        let mut params = vec![Param::new("w".into(), 1, 1, vec![1.0], false)];
        let mut state = OptimState::new(&optimizer, &params);
        for expected in want {
            params[0].grad[0] = 0.5;
            apply(&optimizer, &mut state, &mut params, Decay::default(), 1);
            let got = params[0].value[0] as f64;
            assert!((got - expected).abs() < 2e-6, "{optimizer:?}: got {got}, want {expected}");
            assert_eq!(params[0].grad[0], 0.0, "gradients are zeroed after the update");
        }
    }

    #[test]
    fn hand_worked_updates() {
        // Plain SGD, lr 0.1: w = 1 − 0.1·0.5 = 0.95, then 0.95 − 0.05 = 0.90.
        check(Optimizer::Sgd { lr: 0.1, momentum: 0.0, nesterov: false }, [0.95, 0.90]);
        // Momentum 0.9: v₁ = −0.05, w = 0.95; v₂ = 0.9·(−0.05) − 0.05 = −0.095, w = 0.855.
        check(Optimizer::Sgd { lr: 0.1, momentum: 0.9, nesterov: false }, [0.95, 0.855]);
        // Nesterov: v₁ = −0.05, w += 0.9·(−0.05) − 0.05 = −0.095 → 0.905;
        // v₂ = −0.095, w += 0.9·(−0.095) − 0.05 = −0.1355 → 0.7695.
        check(Optimizer::Sgd { lr: 0.1, momentum: 0.9, nesterov: true }, [0.905, 0.7695]);
        // Adagrad, lr 0.1: c = 0.25, w −= 0.1·0.5/0.5 → 0.9; c = 0.5, w −= 0.05/√0.5 → 0.8292893.
        check(Optimizer::Adagrad { lr: 0.1, eps: 1e-8 }, [0.9, 0.829_289_3]);
        // RMSProp, lr 0.01, ρ 0.9: c = 0.025, w −= 0.005/√0.025 → 0.9683772;
        // c = 0.9·0.025 + 0.025 = 0.0475, w −= 0.005/√0.0475 → 0.9454357.
        check(Optimizer::Rmsprop { lr: 0.01, rho: 0.9, eps: 1e-8 }, [0.968_377_2, 0.945_435_7]);
        // Adadelta, ρ 0.95, ε 1e-6: c = 0.0125, Δ = −√1e-6/√0.012501 · 0.5 = −0.0044720, d = 0.05Δ²;
        // c = 0.024375, Δ = −√(d + 1e-6)/√0.024376 · 0.5 = −0.0045289 (worked in f64 by hand script).
        check(Optimizer::Adadelta { rho: 0.95, eps: 1e-6 }, [0.995_528_0, 0.990_999_1]);
        // Adam with bias correction and a constant gradient: m̂ = g and v̂ = g² at every step,
        // so each update is lr · g/|g| = 0.1: w = 0.9, then 0.8. (ConvNetJS's uncorrected
        // version would step by 0.1 · 0.05/√0.00025 · ... ≠ 0.1.)
        check(Optimizer::Adam { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, [0.9, 0.8]);
    }

    #[test]
    fn decay_is_added_to_the_summed_gradient_then_divided_by_the_batch() {
        // Weights w = [1, −2] with summed gradient [0.4, −0.6] over a batch of 2, l2 0.1, l1 0.05:
        // g = (0.4 + 0.1·1 + 0.05)/2 = 0.275 and (−0.6 − 0.2 − 0.05)/2 = −0.425;
        // SGD lr 0.1 gives w = [0.9725, −1.9575]. A bias with the same numbers skips decay:
        // g = [0.2, −0.3], w = [0.98, −1.97].
        let sgd = Optimizer::Sgd { lr: 0.1, momentum: 0.0, nesterov: false };
        let mut params = vec![
            Param::new("w".into(), 1, 2, vec![1.0, -2.0], true),
            Param::new("b".into(), 1, 2, vec![1.0, -2.0], false),
        ];
        for p in &mut params {
            p.grad = vec![0.4, -0.6];
        }
        let mut state = OptimState::new(&sgd, &params);
        apply(&sgd, &mut state, &mut params, Decay { l1: 0.05, l2: 0.1 }, 2);
        let close = |a: &[f32], b: [f32; 2]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
        assert!(close(&params[0].value, [0.9725, -1.9575]), "{:?}", params[0].value);
        assert!(close(&params[1].value, [0.98, -1.97]), "{:?}", params[1].value);
    }

    #[test]
    fn learning_rate_rules() {
        let mut adadelta = Optimizer::Adadelta { rho: 0.95, eps: 1e-6 };
        assert_eq!(adadelta.learning_rate(), None);
        assert_eq!(adadelta.set("lr", FieldValue::Number(0.1)).unwrap_err(), "adadelta has no learning rate");
        let mut adam = Optimizer::Adam { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
        adam.set("lr", FieldValue::Number(0.01)).unwrap();
        assert_eq!(adam.learning_rate(), Some(0.01));
        adam.set("lr", FieldValue::Number(f32::NAN)).unwrap();
        assert_eq!(adam.validate().unwrap_err(), "adam: learning rate must be a positive number, got NaN");
        assert!(adam.set("lr", FieldValue::Switch(true)).is_err());
        assert_eq!(Optimizer::Sgd { lr: 0.1, momentum: 1.5, nesterov: false }.validate().unwrap_err(), "sgd: momentum must be in [0, 1), got 1.5");
    }

    /// Each optimiser's settings, as `fields` lists them, are exactly what its JSON holds: the
    /// one list of fields cannot drift from the serde form files and links use.
    #[test]
    fn fields_are_the_optimisers_json_fields() {
        for optimizer in Optimizer::defaults() {
            let json = serde_json::to_value(optimizer).unwrap();
            let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(|k| k.as_str()).filter(|k| *k != "type").collect();
            keys.sort();
            let mut fields: Vec<&str> = optimizer.fields().iter().map(|(f, _)| f.key).collect();
            fields.sort();
            assert_eq!(keys, fields, "{}", optimizer.name());
            for (field, value) in optimizer.fields() {
                let want = match value {
                    FieldValue::Number(v) => serde_json::json!(crate::decimal::widen(v)),
                    FieldValue::Switch(b) => serde_json::json!(b),
                };
                assert_eq!(json[field.key], want, "{}.{}", optimizer.name(), field.key);
            }
        }
    }
}
