//! The panels about training's progress: the stats table and the loss graph (with the PCA
//! line, a comparison's curves, or pretraining's accuracy curves).

use super::{group_thousands, rows_scene, Session};
use crate::render::plot::{LossGraph, Series};
use crate::render::scene::{Align, Colour, Scene, MUTED, REFERENCE, TRAIN, VALID};

const COMPARE_TRAIN: Colour = [150, 120, 255, 255];
const COMPARE_VALID: Colour = [255, 110, 200, 255];
const WARNING: Colour = [255, 107, 107, 255];
pub const GRAPH_SIZE: (usize, usize) = (560, 260);

pub fn stats(session: &Session) -> Scene {
    let stats = session.stats();
    let rate = if stats.paused { "paused".to_string() } else { group_thousands(stats.speed.examples_per_second as u64) };
    let loss = stats.loss;
    if let (Some(pre), Some(pretraining)) = (session.pretrainer(), &stats.pretraining) {
        let pct = |v: Option<f64>| v.map_or("–".to_string(), |a| format!("{:.1} %", 100.0 * a));
        let rows = [
            ("phase", pretraining.phase.clone()),
            ("examples trained (all phases)", group_thousands(stats.examples_seen as u64)),
            ("examples/s", rate),
            ("current loss (moving avg.)", loss.train_bce.or(loss.train_mse).map_or("–".into(), |v| format!("{v:.4}"))),
            ("validation accuracy, pretrained", pct(pretraining.accuracy_pretrained)),
            ("validation accuracy, random init", pct(pretraining.accuracy_random)),
            ("labelled examples", group_thousands(pre.plan.n_labels as u64)),
        ];
        return rows_scene(&rows, 6);
    }
    let trainer = session.trainer();
    let fmt = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.5}"));
    let opt = &trainer.config().optimizer;
    let valid_label = format!("validation MSE/px ({} examples)", group_thousands(session.valid_set().n_images as u64));
    let mut rows = vec![
        ("examples seen", group_thousands(trainer.progress().examples_seen)),
        ("epoch", format!("{:.2}", stats.epoch)),
        ("examples/s", rate),
        ("forward, per example", format!("{:.1} µs", stats.speed.forward_us)),
        ("backward + update, per example", format!("{:.1} µs", stats.speed.backward_us)),
        ("train loss (MSE/px, moving avg.)", fmt(loss.train_mse)),
        (valid_label.as_str(), fmt(loss.valid_mse)),
        ("weight-decay loss", format!("{:.5}", loss.decay)),
        (
            "optimiser",
            match opt.learning_rate() {
                Some(lr) => format!("{} · lr {lr}", opt.name()),
                None => format!("{} · no learning rate", opt.name()),
            },
        ),
        ("batch size", trainer.config().batch_size.to_string()),
    ];
    if session.network().output_is_sigmoid() {
        // Sigmoid outputs report cross-entropy too (Larochelle's figures).
        rows.insert(6, ("train BCE/px (moving avg.)", fmt(loss.train_bce)));
        rows.insert(8, ("validation BCE/px", fmt(loss.valid_bce)));
    }
    if let Some(share) = stats.units_ever_selected {
        rows.push(("top-k units ever selected", format!("{:.1} %", 100.0 * share)));
    }
    let mut scene = rows_scene(&rows, 22);
    let status = match (&stats.paused_reason, stats.paused) {
        (Some(reason), _) => format!("paused: {}", reason.chars().take(60).collect::<String>()),
        (None, true) => "paused".into(),
        (None, false) => "training".into(),
    };
    let colour = if stats.paused_reason.is_some() { WARNING } else { MUTED };
    scene.text(10.0, 16.0 + rows.len() as f32 * 20.0 + 4.0, status, 12.0, colour, Align::Left);
    scene
}

/// The loss graph: train and validation curves, the PCA line, a comparison's curves; while
/// pretraining, each layer's autoencoder loss and then both classifiers' accuracy.
pub fn loss(session: &Session) -> Scene {
    let (width, height) = GRAPH_SIZE;
    let log_y = session.view().log_y;
    if let Some(p) = session.pretrainer() {
        let fine_tuning = !session.run.in_layer_phase();
        let series = if fine_tuning {
            vec![
                Series { label: "pretrained", colour: TRAIN, points: &p.pretrained_curve },
                Series { label: "random init", colour: VALID, points: &p.baseline_curve },
            ]
        } else {
            vec![Series { label: "autoencoder loss, layer by layer", colour: TRAIN, points: &session.monitor.curves.train }]
        };
        let y_label = if fine_tuning { "validation accuracy" } else { "autoencoder loss (BCE/input)" };
        return LossGraph { width, height, series, reference: None, log_y, y_label }.scene();
    }
    let curves = &session.monitor.curves;
    let mut series = vec![
        Series { label: "train (smoothed)", colour: TRAIN, points: &curves.train },
        Series { label: "validation", colour: VALID, points: &curves.valid },
    ];
    let labels = session.comparison().map(|c| (format!("train: {}", c.label), format!("validation: {}", c.label)));
    if let (Some(companion), Some((train_label, valid_label))) = (session.comparison(), &labels) {
        series.push(Series { label: train_label, colour: COMPARE_TRAIN, points: &companion.curves.train });
        series.push(Series { label: valid_label, colour: COMPARE_VALID, points: &companion.curves.valid });
    }
    let pca_label = session.pca.map(|(k, _)| format!("PCA-{k}")).unwrap_or_default();
    let reference = session.pca.map(|(_, mse)| (pca_label.as_str(), mse, REFERENCE));
    LossGraph { width, height, series, reference, log_y, y_label: "MSE/px" }.scene()
}
