//! The panels about training's progress: the stats table (its rows are text first, so the page
//! can show the same figures as DOM text) and the loss graph (with the PCA line, the
//! comparisons' curves, the code's nearest-neighbour accuracy on a right-hand axis, or
//! pretraining's phases and accuracy curves), each laid out for the width it is given.

use super::{group_thousands, Session};
use crate::pretrain::{Phase, Pretrainer};
use crate::render::plot::{LossGraph, Series};
use crate::render::scene::{line_height, text_width, wrap, Align, Colour, Scene, ACCENT, INK, MUTED, REFERENCE, TRAIN, VALID};

/// (train, validation) colours of the comparison networks' curves, in turn.
const COMPARE_COLOURS: [(Colour, Colour); 3] = [([150, 120, 255, 255], [255, 110, 200, 255]), ([90, 220, 200, 255], [230, 220, 90, 255]), ([200, 200, 200, 255], [140, 140, 140, 255])];
const WARNING: Colour = [255, 107, 107, 255];
/// The code's nearest-neighbour accuracy, on the loss graph's right-hand axis.
pub const KNN_COLOUR: Colour = ACCENT;
/// The stats row that says whether training runs (drawn in the warning colour when it
/// stopped by itself).
pub const STATUS: &str = "status";
const PAD: f32 = 10.0;
const ROW_SIZE: f32 = 13.0;

/// A loss per pixel as people read it: three significant digits, in scientific notation below
/// 0.01 ("4.12 × 10⁻⁶", never "0.00000"); "–" when there is none yet.
pub fn loss_text(value: Option<f64>) -> String {
    let Some(v) = value.filter(|v| v.is_finite()) else { return "–".into() };
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    if (0.01..1000.0).contains(&a) {
        let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
        return format!("{v:.decimals$}");
    }
    let exponent = a.log10().floor() as i32;
    let mantissa = v / 10f64.powi(exponent);
    // 9.996e-4 rounds to "10.0": carry into the exponent.
    let (mantissa, exponent) = if (mantissa.abs() * 100.0).round() >= 1000.0 { (mantissa / 10.0, exponent + 1) } else { (mantissa, exponent) };
    format!("{mantissa:.2} × 10{}", superscript(exponent))
}

fn superscript(n: i32) -> String {
    let digits = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let mut out = if n < 0 { "⁻".to_string() } else { String::new() };
    out.extend(n.unsigned_abs().to_string().chars().map(|c| digits[c.to_digit(10).unwrap_or(0) as usize]));
    out
}

fn percent(v: Option<f64>) -> String {
    v.map_or("–".to_string(), |a| format!("{:.1} %", 100.0 * a))
}

/// What the main network is called beside its comparisons: its k for top-k networks ("k = 25"),
/// its code size when the comparisons' differ ("20 hidden units"), else "this network".
pub fn main_label(session: &Session) -> String {
    let net = session.network();
    if let Some(k) = net.layers().iter().find_map(|l| l.kind().top_k()) {
        return format!("k = {k}");
    }
    let units = |n: &crate::model::Network| n.layers()[n.code_layer()].n_out();
    let code = units(net);
    if !session.comparisons().is_empty() && session.comparisons().iter().all(|c| units(c.trainer.net()) != code) {
        return format!("{code} hidden units");
    }
    "this network".into()
}

/// The k a top-k network keeps now, and the k it anneals toward (None without a top-k layer).
pub fn top_k(net: &crate::model::Network) -> Option<(usize, usize)> {
    net.layers().iter().find_map(|l| Some((l.top_k()?, l.kind().top_k()?)))
}

/// "k = 25" once annealed, "k = 25 (now 63, annealing)" while k still falls.
pub fn k_text(net: &crate::model::Network) -> Option<String> {
    let (now, target) = top_k(net)?;
    Some(if now == target { format!("k = {target}") } else { format!("k = {target} (now {now}, annealing)") })
}

/// Pretraining's phases: which one runs (1-based) and how many there are (each hidden layer,
/// then fine-tuning).
pub fn phase_of(p: &Pretrainer) -> (usize, usize) {
    let total = p.n_hidden() + 1;
    let now = match p.phase {
        Phase::Pretraining { layer } => layer + 1,
        Phase::FineTuning => total,
        Phase::Done => total + 1,
    };
    (now, total)
}

/// The stats panel's rows, (label, value), as text: what the canvas draws and the page can
/// show as DOM text.
pub fn stats_rows(session: &Session) -> Vec<(String, String)> {
    let stats = session.stats();
    let rate = if stats.paused { "paused".to_string() } else { group_thousands(stats.speed.examples_per_second as u64) };
    let loss = stats.loss;
    let status = match (&stats.paused_reason, stats.paused) {
        (Some(reason), _) => format!("paused: {reason}"),
        (None, true) => "paused".into(),
        (None, false) => "training".into(),
    };
    let row = |label: &str, value: String| (label.to_string(), value);
    if let (Some(pre), Some(pretraining)) = (session.pretrainer(), &stats.pretraining) {
        let (now, total) = phase_of(pre);
        let plan = &pre.plan;
        let phase = if pre.phase == Phase::Done { format!("done: all {total} phases") } else { format!("{now} of {total}: {}", pretraining.phase) };
        let mut rows = vec![
            row("phase", phase),
            row(
                "plan",
                format!(
                    "{} layers × {} epochs as autoencoders, then {} epochs on {} labels",
                    pre.n_hidden(),
                    plan.epochs_per_layer,
                    plan.finetune_epochs,
                    group_thousands(plan.n_labels as u64)
                ),
            ),
            row("examples trained (all phases)", group_thousands(stats.examples_seen as u64)),
            row("examples/s", rate),
            row("current loss (moving avg.)", loss_text(loss.train_bce.or(loss.train_mse))),
        ];
        let (a, b) = (pretraining.accuracy_pretrained, pretraining.accuracy_random);
        if pre.phase == Phase::Done {
            rows.push(row("final validation accuracy, pretrained", percent(a)));
            rows.push(row("final validation accuracy, random init", percent(b)));
            if let (Some(a), Some(b)) = (a, b) {
                rows.push(row("pretraining's gain", format!("{:+.1} points", 100.0 * (a - b))));
            }
        } else {
            rows.push(row("validation accuracy, pretrained", percent(a)));
            rows.push(row("validation accuracy, random init", percent(b)));
        }
        rows.push(row(STATUS, status));
        return rows;
    }
    let trainer = session.trainer();
    let opt = &trainer.config().optimizer;
    let mut rows = vec![
        row("examples seen", group_thousands(trainer.progress().examples_seen)),
        row("epoch", format!("{:.2}", stats.epoch)),
        row("examples/s", rate),
        row("forward, per example", format!("{:.1} µs", stats.speed.forward_us)),
        row("backward + update, per example", format!("{:.1} µs", stats.speed.backward_us)),
        row("validation pass (not in examples/s)", format!("{:.0} ms", stats.speed.validation_ms)),
        row("train loss (MSE/px, moving avg.)", loss_text(loss.train_mse)),
        row(&format!("validation MSE/px ({} examples)", group_thousands(session.valid_set().n_images as u64)), loss_text(loss.valid_mse)),
        row("weight-decay loss", loss_text(Some(loss.decay))),
        row(
            "optimiser",
            match opt.learning_rate() {
                Some(lr) => format!("{} · lr {lr}", opt.name()),
                None => format!("{} · no learning rate", opt.name()),
            },
        ),
        row("batch size", trainer.config().batch_size.to_string()),
    ];
    if session.network().output_is_sigmoid() {
        // Sigmoid outputs report cross-entropy too (Larochelle's figures).
        rows.insert(7, row("train BCE/px (moving avg.)", loss_text(loss.train_bce)));
        rows.insert(9, row("validation BCE/px", loss_text(loss.valid_bce)));
    }
    let curves = &session.monitor.curves;
    if let (Some(elbo), Some(recon), Some(kl)) = (curves.elbo.last(), curves.reconstruction.last(), curves.kl.last()) {
        rows.push(row("validation negative ELBO (nats per digit)", loss_text(Some(elbo.1))));
        rows.push(row("its reconstruction · KL terms", format!("{} · {}", loss_text(Some(recon.1)), loss_text(Some(kl.1)))));
        if let Some(beta) = session.trainer().config().beta {
            rows.push(row("β (weight of the KL term in training)", crate::decimal::f32_text(beta)));
        }
    }
    if let Some((now, target)) = top_k(session.network()) {
        let value = if now == target { format!("{target}") } else { format!("{now}, annealing to {target}") };
        rows.push(row("k in force (top-k units kept)", value));
    }
    if let Some(share) = stats.units_ever_selected {
        rows.push(row("top-k units ever selected", format!("{:.1} %", 100.0 * share)));
    }
    if let Some(knowledge) = &stats.knowledge {
        rows.push(row("code's 5-NN accuracy (validation)", format!("{:.1} %", 100.0 * knowledge.code.knn)));
    }
    // The comparisons side by side, each in the same readable units.
    if !session.comparisons().is_empty() {
        rows.push(row(&format!("{}: train · validation MSE/px", main_label(session)), format!("{} · {}", loss_text(loss.train_mse), loss_text(loss.valid_mse))));
        for (companion, figures) in session.comparisons().iter().zip(&stats.comparisons) {
            rows.push(row(&format!("{}: train · validation MSE/px", companion.label), format!("{} · {}", loss_text(figures.train_mse), loss_text(figures.valid_mse))));
        }
    }
    rows.push(row(STATUS, status));
    rows
}

/// Label/value rows as a scene `width` wide: label left, value right on one line where both
/// fit, else the label's lines and then the value's, right-aligned, below it.
pub fn rows_scene(rows: &[(String, String)], width: usize) -> Scene {
    let w = width as f32;
    let room = w - 2.0 * PAD;
    let step = line_height(ROW_SIZE);
    let mut placed: Vec<(f32, String, Align, Colour)> = Vec::new();
    let mut y = 8.0;
    for (label, value) in rows {
        let value_colour = if label == STATUS && value.starts_with("paused: ") { WARNING } else { INK };
        if text_width(label, ROW_SIZE) + text_width(value, ROW_SIZE) + 16.0 <= room {
            placed.push((y + step / 2.0, label.clone(), Align::Left, MUTED));
            placed.push((y + step / 2.0, value.clone(), Align::Right, value_colour));
            y += step + 4.0;
            continue;
        }
        let lines: Vec<(String, Align, Colour)> = wrap(label, ROW_SIZE, room)
            .into_iter()
            .map(|l| (l, Align::Left, MUTED))
            .chain(wrap(value, ROW_SIZE, room).into_iter().map(|l| (l, Align::Right, value_colour)))
            .collect();
        for (line, align, colour) in lines {
            placed.push((y + step / 2.0, line, align, colour));
            y += step;
        }
        y += 4.0;
    }
    let mut scene = Scene::new(width, (y + 6.0).ceil() as usize);
    for (y, text, align, colour) in placed {
        let x = if align == Align::Left { PAD } else { w - PAD };
        scene.text(x, y, text, ROW_SIZE, colour, align);
    }
    scene
}

pub fn stats(session: &Session, width: usize) -> Scene {
    rows_scene(&stats_rows(session), width)
}

/// The loss graph as `use_graph` sees it: train and validation curves, the PCA line, the
/// comparisons' curves and the code's 5-NN accuracy (right axis); while pretraining, each
/// layer's autoencoder loss with the phases marked, then both classifiers' accuracy.
pub fn with_loss_graph<T>(session: &Session, width: usize, use_graph: impl FnOnce(&LossGraph) -> T) -> T {
    let log_y = session.view().log_y;
    let plain = |series, y_label| LossGraph { width, series, reference: None, log_y, y_label, percent_y: false, right: None, markers: Vec::new(), notes: Vec::new() };
    if let Some(p) = session.pretrainer() {
        if session.run.in_layer_phase() {
            let per_layer = (p.plan.epochs_per_layer * session.train_set().n_images as u64) as f64;
            let mut graph = plain(vec![Series { label: "autoencoder loss, layer by layer", colour: TRAIN, points: &session.monitor.curves.train }], "autoencoder loss (BCE/input)");
            let (now, _) = phase_of(p);
            // Each layer's phase marked where it starts; the axis runs to the current one's end.
            graph.markers = (0..now).map(|layer| (layer as f64 * per_layer, format!("layer {}", layer + 1))).collect();
            graph.markers.push((now as f64 * per_layer, String::new()));
            return use_graph(&graph);
        }
        let series = vec![
            Series { label: "pretrained", colour: TRAIN, points: &p.pretrained_curve },
            Series { label: "random init", colour: VALID, points: &p.baseline_curve },
        ];
        let mut graph = LossGraph { percent_y: true, log_y: false, ..plain(series, "validation accuracy (fine-tuning)") };
        let last = |curve: &[(f64, f64)]| curve.last().map(|c| c.1);
        graph.notes = match (p.phase, last(&p.pretrained_curve), last(&p.baseline_curve)) {
            (Phase::Done, Some(a), Some(b)) => vec![(
                format!("final validation accuracy: pretrained {:.1} %, random init {:.1} % ({:+.1} points)", 100.0 * a, 100.0 * b, 100.0 * (a - b)),
                INK,
            )],
            _ => vec![(format!("{} layers pretrained; fine-tuning both classifiers on {} labels", p.n_hidden(), group_thousands(p.plan.n_labels as u64)), MUTED)],
        };
        return use_graph(&graph);
    }
    let curves = &session.monitor.curves;
    let main = main_label(session);
    let comparing = !session.comparisons().is_empty();
    if session.network().gaussian_layer().is_some() {
        // A variational autoencoder: its bound on the validation digits and the bound's two
        // parts, in nats per image; a comparison's reconstruction term beside them.
        let mut series = vec![
            Series { label: "negative ELBO (reconstruction + KL)", colour: VALID, points: &curves.elbo },
            Series { label: "reconstruction", colour: TRAIN, points: &curves.reconstruction },
            Series { label: "KL to the prior", colour: REFERENCE, points: &curves.kl },
        ];
        let labels: Vec<(String, String)> = session.comparisons().iter().map(|c| (format!("reconstruction: {}", c.label), format!("KL: {}", c.label))).collect();
        for ((companion, (recon_label, kl_label)), (recon_colour, kl_colour)) in session.comparisons().iter().zip(&labels).zip(COMPARE_COLOURS.iter().cycle()) {
            series.push(Series { label: recon_label, colour: *recon_colour, points: &companion.curves.reconstruction });
            series.push(Series { label: kl_label, colour: *kl_colour, points: &companion.curves.kl });
        }
        let knowledge = &session.monitor.knowledge;
        let graph = LossGraph {
            right: (!knowledge.is_empty()).then(|| (Series { label: "code's 5-NN accuracy (right axis)", colour: KNN_COLOUR, points: knowledge }, "5-NN accuracy")),
            markers: changes_shown(session),
            ..plain(series, "nats per validation digit")
        };
        return use_graph(&graph);
    }
    let (train_label, valid_label) = if comparing { (format!("train: {main}"), format!("validation: {main}")) } else { ("train (smoothed)".to_string(), "validation".to_string()) };
    let mut series = vec![Series { label: &train_label, colour: TRAIN, points: &curves.train }, Series { label: &valid_label, colour: VALID, points: &curves.valid }];
    let labels: Vec<(String, String)> = session.comparisons().iter().map(|c| (format!("train: {}", c.label), format!("validation: {}", c.label))).collect();
    for ((companion, (train_label, valid_label)), (train_colour, valid_colour)) in session.comparisons().iter().zip(&labels).zip(COMPARE_COLOURS.iter().cycle()) {
        series.push(Series { label: train_label, colour: *train_colour, points: &companion.curves.train });
        series.push(Series { label: valid_label, colour: *valid_colour, points: &companion.curves.valid });
    }
    let pca_label = session.pca.fit.as_ref().map(|fit| format!("PCA-{}", fit.k)).unwrap_or_default();
    let knowledge = &session.monitor.knowledge;
    let graph = LossGraph {
        reference: session.pca.fit.as_ref().map(|fit| (pca_label.as_str(), fit.mse, REFERENCE)),
        right: (!knowledge.is_empty()).then(|| (Series { label: "code's 5-NN accuracy (right axis)", colour: KNN_COLOUR, points: knowledge }, "5-NN accuracy")),
        markers: changes_shown(session),
        ..plain(series, "MSE/px")
    };
    use_graph(&graph)
}

/// The user's changes (and a watched moment) the loss graph marks: those within its curve (a change before a loaded
/// snapshot's curve began is in the snapshot, not on this graph), each at the examples seen.
pub fn changes_shown(session: &Session) -> Vec<(f64, String)> {
    let Some(first) = session.monitor.curves.train.first().map(|p| p.0) else { return Vec::new() };
    let changes = session.changes.iter().map(|c| (c.examples_seen as f64, c.label.clone()));
    // And the moment a tour stop watched for, once it came (`session::moments`).
    let mut marks: Vec<_> = changes.chain(session.watch.mark()).filter(|(x, _)| *x >= first).collect();
    marks.sort_by(|a, b| a.0.total_cmp(&b.0));
    marks
}

pub fn loss(session: &Session, width: usize) -> Scene {
    with_loss_graph(session, width, |graph| graph.scene())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_read_in_three_figures_and_small_ones_in_powers_of_ten() {
        let cases: [(Option<f64>, &str); 9] = [
            (None, "–"),
            (Some(0.0), "0"),
            (Some(0.04123), "0.0412"),
            (Some(0.5), "0.500"),
            (Some(12.345), "12.3"),
            (Some(0.00412), "4.12 × 10⁻³"),
            (Some(3.2e-7), "3.20 × 10⁻⁷"),
            (Some(9.996e-4), "1.00 × 10⁻³"),
            (Some(f64::NAN), "–"),
        ];
        for (value, want) in cases {
            assert_eq!(loss_text(value), want, "{value:?}");
        }
    }

    #[test]
    fn rows_that_do_not_fit_one_line_take_two() {
        let rows = vec![("short".to_string(), "1".to_string()), ("a label long enough to need its own line".to_string(), "a long value too".to_string())];
        let narrow = rows_scene(&rows, 280);
        let wide = rows_scene(&rows, 600);
        assert_eq!(narrow.texts(), ["short", "1", "a label long enough to need its own", "line", "a long value too"]);
        assert_eq!(wide.texts().len(), 4, "{:?}", wide.texts());
        assert!(narrow.height > wide.height);
        for scene in [narrow, wide] {
            for item in &scene.items {
                let (x0, y0, x1, y1) = item.bounds().unwrap();
                assert!(x0 >= 0.0 && x1 <= scene.width as f32 && y0 >= 0.0 && y1 <= scene.height as f32, "{item:?}");
            }
        }
    }
}
