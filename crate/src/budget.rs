//! The one resource budget: what training a network and holding its data may cost, judged
//! before any memory is taken. Costs are computed in u64 with saturating arithmetic, so a
//! 32-bit target (wasm32) cannot wrap past a limit, and a refusal names the limit and the
//! value asked for. The page, the CLI, the editor, snapshots, ConvNetJS imports and presets
//! all pass through the same judgments (trainers, datasets, IDX files).

use crate::model::optim::Optimizer;
use crate::model::spec::Checked;

/// Limits, in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Bytes a network may take to train: parameters, gradients, optimiser state, rollback
    /// checkpoints, activations and scratch at its batch size and at the panels' views.
    pub training_bytes: u64,
    /// Bytes of training and validation data, as f32 values.
    pub data_bytes: u64,
    /// Floating-point operations of one training step's matrix products: a stand-in for its
    /// time (at 20 to 40 GFLOP/s in a browser, the limit is about half a second to a second).
    pub step_flops: u64,
}

pub const BUDGET: Budget = Budget { training_bytes: 768 << 20, data_bytes: 768 << 20, step_flops: 20_000_000_000 };

/// Rows the panels and validation forward at once (the scatter's 500 digits), and the chunk
/// every evaluation pass (validation, probes, pretraining scores) forwards at a time.
pub const VIEW_ROWS: u64 = 500;
pub const EVAL_ROWS: usize = VIEW_ROWS as usize;
/// Counters above this (2^53) cannot be shown exactly in JavaScript, and are refused.
pub const MAX_COUNT: u64 = 1 << 53;
/// Files (snapshots, ConvNetJS networks, IDX digits) larger than this are refused before
/// parsing; every session the budget allows fits one snapshot of this size when saved
/// (`Budget::judge_training` and `judge_saved`).
pub const MAX_BYTES: usize = 128 * 1024 * 1024;
/// Healthy checkpoints the trainer keeps to roll back to (train.rs).
pub const CHECKPOINTS: u64 = 3;
/// Copies of a run the session keeps to undo a change of settings (session `Undo`).
pub const UNDO_POINTS: u64 = 1;

/// What training a network costs, in f32 values and flops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainingCost {
    pub params: u64,
    /// Values per parameter: value, gradient, step backup, optimiser slots and their backup,
    /// and the checkpoints' copies.
    pub copies_per_param: u64,
    /// Activations of the training pass and of the panels' pass.
    pub activations: u64,
    /// Conv scratch: unfolded columns (im2col) or tensors in lanes (the direct path).
    pub scratch: u64,
    pub step_flops: u64,
}

impl TrainingCost {
    pub fn of(checked: &Checked, batch: usize, optimizer: &Optimizer) -> TrainingCost {
        let slots = optimizer.n_slots() as u64;
        let params = checked.n_params();
        // Value, gradient, the step's backup, slots and their backup, checkpoints of both, and
        // the point an undo goes back to (the session's, before the latest change).
        // Each shard of a training batch after the first keeps a gradient of its own
        // (model::network).
        let shards = crate::model::network::shard_count(checked, batch) as u64;
        let copies_per_param = 3 + 2 * slots + (CHECKPOINTS + UNDO_POINTS) * (1 + slots) + (shards - 1);
        let widest = checked.layers.iter().map(|l| l.n_out.max(l.n_in) as u64).max().unwrap_or(0);
        let n_outputs = checked.layers.last().map_or(0, |l| l.n_out as u64);
        // Per row: the input, every layer's output, the logits, two gradient buffers, the
        // top-k selections (counted as values: they are bytes, an over-estimate), and a
        // gaussian layer's heads, their gradient and its ε (5 values a unit).
        let per_row = (checked.n_inputs as u64)
            .saturating_add(checked.layers.iter().map(|l| l.n_out as u64).fold(0, u64::saturating_add))
            .saturating_add(n_outputs)
            .saturating_add(widest.saturating_mul(2))
            .saturating_add(checked.layers.iter().filter(|l| l.kind.top_k().is_some()).map(|l| l.n_out as u64).fold(0, u64::saturating_add))
            .saturating_add(checked.layers.iter().filter(|l| l.kind.heads() == 2).map(|l| 5 * l.n_out as u64).fold(0, u64::saturating_add));
        let training_rows = batch as u64;
        let activations = per_row.saturating_mul(training_rows.saturating_add(VIEW_ROWS));
        // A strided conv or deconv unfolds an image at a time, (c_big · size², positions); a
        // stride-1 one turns its input and output to lanes (conv::direct_scratch_bound).
        // Each shard has its own, for its rows (one shard: the whole batch's, as before).
        let shard_rows = batch.div_ceil(shards as usize);
        let scratch_at = |rows: usize| {
            checked
                .layers
                .iter()
                .filter_map(|l| l.kind.geometry())
                .map(|g| (g.patch_len() as u64).saturating_mul((g.small.1 * g.small.2) as u64).max(crate::model::conv::direct_scratch_bound(&g, rows)))
                .max()
                .unwrap_or(0)
        };
        let scratch = scratch_at(shard_rows).saturating_mul(shards).max(scratch_at(batch)).saturating_mul(2);
        let step_flops = checked.matmul_flops_per_example().saturating_mul(batch as u64);
        TrainingCost { params, copies_per_param, activations, scratch, step_flops }
    }

    pub fn bytes(&self) -> u64 {
        self.params.saturating_mul(self.copies_per_param).saturating_add(self.activations).saturating_add(self.scratch).saturating_mul(4)
    }
}

impl Budget {
    /// Whether training `checked` at `batch` with `optimizer` fits, in a sentence if not.
    pub fn judge_training(&self, checked: &Checked, batch: usize, optimizer: &Optimizer) -> Result<TrainingCost, String> {
        let cost = TrainingCost::of(checked, batch, optimizer);
        if cost.bytes() > self.training_bytes {
            return Err(format!(
                "training this network at batch size {batch} needs about {} of memory ({} parameters, their gradients and {} state, activations and scratch), more than the {} allowed",
                bytes(cost.bytes()),
                cost.params,
                optimizer.name(),
                bytes(self.training_bytes)
            ));
        }
        judge_saved(&format!("saving this network and its {} state", optimizer.name()), snapshot_bytes(cost.params, optimizer.n_slots() as u64))?;
        if cost.step_flops > self.step_flops {
            return Err(format!(
                "one training step of this network at batch size {batch} is about {} GFLOP of matrix products, more than the limit of {} GFLOP (it would stall training for seconds a step); use a smaller network or batch",
                cost.step_flops / 1_000_000_000,
                self.step_flops / 1_000_000_000
            ));
        }
        Ok(cost)
    }

    /// Whether `n_values` numbers of data (f32) fit, in a sentence naming `what` if not.
    pub fn judge_data(&self, what: &str, n_values: u64) -> Result<(), String> {
        let wanted = n_values.saturating_mul(4);
        if wanted > self.data_bytes {
            return Err(format!("{what} would take {} of memory ({n_values} numbers), more than the {} allowed for data", bytes(wanted), bytes(self.data_bytes)));
        }
        Ok(())
    }
}

/// Whether a snapshot of about `saved` bytes (`snapshot_bytes` of each network it holds) may
/// be written, in a sentence naming `what` would make it if not: a run that could not be
/// saved could not come back.
pub fn judge_saved(what: &str, saved: u64) -> Result<(), String> {
    if saved > MAX_BYTES as u64 {
        return Err(format!("{what} would take about {}, more than the {} a snapshot may be (so it could not be restored)", bytes(saved), bytes(MAX_BYTES as u64)));
    }
    Ok(())
}

/// About how many bytes of snapshot JSON `params` parameters with `slots` optimiser arrays
/// each take (a number is written in about 12 characters).
pub fn snapshot_bytes(params: u64, slots: u64) -> u64 {
    params.saturating_mul(slots + 1).saturating_mul(12)
}

/// A byte count for people: "512 MB", "1.9 GB".
pub fn bytes(n: u64) -> String {
    const MB: f64 = (1u64 << 20) as f64;
    let mb = n as f64 / MB;
    if mb >= 1024.0 {
        format!("{:.1} GB", mb / 1024.0)
    } else if mb >= 10.0 {
        format!("{mb:.0} MB")
    } else {
        format!("{mb:.1} MB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NetSpec;

    fn spec(hidden: usize) -> Checked {
        NetSpec::from_json(&format!(
            r#"{{"layers":[{{"type":"input","width":28,"height":28,"depth":1}},{{"type":"fc","units":{hidden},"activation":"tanh"}},{{"type":"fc","units":784,"activation":"linear"}},{{"type":"output","loss":"mse"}}]}}"#
        ))
        .unwrap()
        .check()
        .unwrap()
    }

    const ADAM: Optimizer = Optimizer::Adam { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

    /// The costs of a 784-100-784 network, by hand: 784·100 + 100 + 100·784 + 784 = 157,684
    /// parameters; Adam keeps 2 slots, so 3 + 2·2 + (3 + 1)·(1 + 2) = 19 copies of each (three
    /// checkpoints and the undo point; a step this small is one shard, so no shard's gradient);
    /// a row holds
    /// 784 inputs, 100 + 784 layer outputs, 784 logits and two gradient buffers of the widest
    /// layer (2 · 784), 4,020 values, for 50 training rows and 500 view rows; the matrix
    /// products are 2·784·100·2 + 2·100·784·3 = 784,000 flops an example (the first layer
    /// computes no input gradient).
    #[test]
    fn training_costs_by_hand() {
        let cost = TrainingCost::of(&spec(100), 50, &ADAM);
        assert_eq!(cost.params, 157_684);
        assert_eq!(cost.copies_per_param, 19);
        assert_eq!(cost.activations, 4_020 * 550);
        assert_eq!(cost.scratch, 0);
        assert_eq!(cost.step_flops, 784_000 * 50);
        assert_eq!(cost.bytes(), (157_684 * 19 + 4_020 * 550) * 4);
    }

    #[test]
    fn refusals_name_the_limit_and_the_value() {
        // 784-10000-784: 15.7 M parameters (under the limit on parameters) times 16 copies
        // for Adam, 1.0 GB before any activation.
        let big = spec(10_000);
        let err = BUDGET.judge_training(&big, 4096, &ADAM).unwrap_err();
        assert!(err.contains("needs about") && err.contains("GB") && err.contains("768 MB allowed"), "{err}");
        // 784-2000-784 fits in memory, but a step at batch 4,096 is 15.7 MFLOP an example
        // (2·784·2000·2 + 2·2000·784·3), about 64 GFLOP.
        let err = BUDGET.judge_training(&spec(2_000), 4096, &ADAM).unwrap_err();
        assert!(err.contains("about 64 GFLOP") && err.contains("limit of 20 GFLOP"), "{err}");
        assert!(BUDGET.judge_training(&spec(2_000), 50, &ADAM).is_ok());
        assert!(BUDGET.judge_data("the digits", 10_000 * 784).is_ok());
        let err = BUDGET.judge_data("resizing to 1024×1024", 10_000 * 1024 * 1024).unwrap_err();
        assert!(err.contains("resizing to 1024×1024 would take 39.1 GB"), "{err}");
        assert_eq!(bytes(768 << 20), "768 MB");
        assert_eq!(bytes(3 << 19), "1.5 MB");
    }

    #[test]
    fn every_preset_fits_the_budget() {
        for preset in crate::presets::all() {
            let checked = preset.spec.check().unwrap();
            BUDGET.judge_training(&checked, preset.train.batch_size, &preset.train.optimizer).unwrap_or_else(|e| panic!("{}: {e}", preset.name));
        }
    }
}
