//! What a session measures as it trains: smoothed losses, the train and validation curves (for
//! the main network and a comparison), step timings and throughput. Pure bookkeeping on
//! numbers the session hands over; it runs nothing and reads no clock itself.

use std::collections::VecDeque;

use crate::train::StepStats;

/// Curves keep at most this many points; past it, every other point is dropped.
const MAX_HISTORY: usize = 1200;
/// Examples/s is measured over about this long a window.
const RATE_WINDOW_MS: f64 = 1500.0;

/// Exponential moving average of per-batch figures for display.
pub fn ema(old: Option<f64>, new: f64) -> Option<f64> {
    Some(old.map_or(new, |o| 0.97 * o + 0.03 * new))
}

/// One network's loss curves: (examples seen, value) points, and the latest figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Curves {
    pub train: Vec<(f64, f64)>,
    pub valid: Vec<(f64, f64)>,
    /// The training loss (MSE/px), smoothed over batches.
    pub smoothed_mse: Option<f64>,
    /// The latest validation MSE/px.
    pub valid_mse: Option<f64>,
    /// A variational autoencoder's validation bound, in nats per image: the negative ELBO and
    /// its two parts (`train::Elbo`).
    pub elbo: Vec<(f64, f64)>,
    pub reconstruction: Vec<(f64, f64)>,
    pub kl: Vec<(f64, f64)>,
}

impl Curves {
    pub fn note_batch(&mut self, mse: f64) {
        self.smoothed_mse = ema(self.smoothed_mse, mse);
    }

    /// Add `value` to the train curve at `seen`, unless a point is there already.
    pub fn push_train(&mut self, seen: f64, value: f64) {
        push_new(&mut self.train, seen, value);
    }

    pub fn push_valid(&mut self, seen: f64, mse: f64) {
        self.valid_mse = Some(mse);
        push_new(&mut self.valid, seen, mse);
    }

    /// A variational autoencoder's bound at `seen` examples.
    pub fn push_elbo(&mut self, seen: f64, elbo: crate::train::Elbo) {
        push_new(&mut self.elbo, seen, elbo.negative_elbo);
        push_new(&mut self.reconstruction, seen, elbo.reconstruction);
        push_new(&mut self.kl, seen, elbo.kl);
    }

    /// Whether a validation point exists for `seen` examples.
    pub fn validated_at(&self, seen: f64) -> bool {
        self.valid.last().is_some_and(|p| p.0 >= seen)
    }

    /// Halve curves that grew past the limit.
    pub fn thin(&mut self) {
        for curve in [&mut self.train, &mut self.valid, &mut self.elbo, &mut self.reconstruction, &mut self.kl] {
            if curve.len() > MAX_HISTORY {
                *curve = curve.iter().step_by(2).copied().collect();
            }
        }
    }

    pub fn clear_graph(&mut self) {
        for curve in [&mut self.train, &mut self.valid, &mut self.elbo, &mut self.reconstruction, &mut self.kl] {
            curve.clear();
        }
    }
}

fn push_new(curve: &mut Vec<(f64, f64)>, seen: f64, value: f64) {
    if curve.last().is_none_or(|p| p.0 < seen) {
        curve.push((seen, value));
    }
}

/// The main network's figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Monitor {
    pub curves: Curves,
    pub smoothed_bce: Option<f64>,
    pub valid_bce: Option<f64>,
    /// Microseconds per example, smoothed.
    pub forward_us: f64,
    pub backward_us: f64,
    /// (time in ms, examples seen) samples for the examples/s figure.
    rate_window: VecDeque<(f64, f64)>,
    /// When validation is next due, in the session clock's ms.
    pub next_validation: f64,
    /// The code's 5-nearest-neighbour accuracy over examples seen.
    pub knowledge: Vec<(f64, f64)>,
    /// Time spent in training steps alone (ms of the session's clock), which examples/s
    /// divides by, and what the latest validation took.
    pub training_ms: f64,
    pub validation_ms: f64,
}

impl Monitor {
    pub fn record_step(&mut self, stats: &StepStats) {
        self.curves.note_batch(stats.mse_per_pixel);
        if let Some(bce) = stats.bce_per_pixel {
            self.smoothed_bce = ema(self.smoothed_bce, bce);
        }
        let per_example = 1000.0 / stats.batch as f64;
        let blend = |old: f64, new: f64| if old == 0.0 { new } else { 0.9 * old + 0.1 * new };
        self.forward_us = blend(self.forward_us, stats.forward_ms * per_example);
        self.backward_us = blend(self.backward_us, stats.backward_ms * per_example);
    }

    pub fn record_rate(&mut self, now_ms: f64, seen: f64) {
        self.rate_window.push_back((now_ms, seen));
        while self.rate_window.len() > 2 && now_ms - self.rate_window[0].0 > RATE_WINDOW_MS {
            self.rate_window.pop_front();
        }
    }

    /// Examples per second over the recent window (0 until it spans 200 ms).
    pub fn examples_per_second(&self) -> f64 {
        match (self.rate_window.front(), self.rate_window.back()) {
            (Some(a), Some(b)) if b.0 - a.0 > 200.0 => (b.1 - a.1) * 1000.0 / (b.0 - a.0),
            _ => 0.0,
        }
    }

    /// Forget everything about the network before (a new one is starting).
    /// Forget what came after `seen` examples (the run went back there).
    pub fn rewind(&mut self, seen: f64) {
        self.curves.train.retain(|p| p.0 <= seen);
        self.curves.valid.retain(|p| p.0 <= seen);
        self.knowledge.retain(|p| p.0 <= seen);
        self.curves.smoothed_mse = self.curves.train.last().map(|p| p.1);
        self.curves.valid_mse = self.curves.valid.last().map(|p| p.1);
        self.smoothed_bce = None;
    }

    pub fn restart(&mut self) {
        *self = Monitor::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_curves_keep_one_point_per_count_and_thin_out() {
        let mut curves = Curves::default();
        curves.push_train(10.0, 1.0);
        curves.push_train(10.0, 2.0);
        curves.push_train(5.0, 3.0);
        assert_eq!(curves.train, vec![(10.0, 1.0)], "a point per examples-seen count, in order");
        for i in 0..MAX_HISTORY {
            curves.push_train(20.0 + i as f64, 0.5);
        }
        curves.thin();
        assert_eq!(curves.train.len(), (MAX_HISTORY + 1).div_ceil(2));
        // The smoothed loss starts at the first batch and moves 3 % toward each next one.
        curves.note_batch(1.0);
        curves.note_batch(0.0);
        assert!((curves.smoothed_mse.unwrap() - 0.97).abs() < 1e-12);
    }

    #[test]
    fn monitor_rate_is_examples_over_the_window() {
        let mut monitor = Monitor::default();
        monitor.record_rate(0.0, 0.0);
        assert_eq!(monitor.examples_per_second(), 0.0, "one sample is no rate");
        monitor.record_rate(100.0, 500.0);
        assert_eq!(monitor.examples_per_second(), 0.0, "under 200 ms is too short to say");
        monitor.record_rate(1000.0, 5000.0);
        assert_eq!(monitor.examples_per_second(), 5000.0);
        // Samples older than 1.5 s leave the window: 1,800 examples in the last 0.6 s.
        monitor.record_rate(2000.0, 8000.0);
        monitor.record_rate(2600.0, 9800.0);
        assert!((monitor.examples_per_second() - 3000.0).abs() < 1e-9);
    }
}
