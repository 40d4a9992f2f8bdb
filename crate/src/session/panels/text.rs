//! The panels in words: for each panel, a sentence or two saying what it shows now (the
//! numbers it draws, which classes the scatter separates, how well digits come back), for
//! screen readers and anyone who would rather read than look.

use super::codes::{turnoff_applies, Reconstructions, TURNOFF_DIGITS};
use super::layers::current_example;
use super::progress::{changes_shown, k_text, loss_text, main_label, phase_of};
use super::{group_thousands, Panel, Session};
use crate::model::network::Workspace;
use crate::pretrain::Phase;
use crate::session::explore::ScatterData;
use crate::session::protocol::PanelText;

/// Each panel's accessible name: what it shows now.
pub fn describe(session: &Session) -> Vec<PanelText> {
    let mut work = Workspace::default();
    super::PANELS.iter().map(|row| PanelText { name: row.name.into(), label: (row.words)(session, &mut work) }).collect()
}

/// "a 3", "an 8".
fn a_digit(label: u8) -> String {
    if matches!(label, 8 | 11 | 18) {
        format!("an {label}")
    } else {
        format!("a {label}")
    }
}

fn pct(v: f64) -> String {
    format!("{:.1} %", 100.0 * v)
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

pub(super) fn stats(session: &Session) -> String {
    let stats = session.stats();
    let running = match (&stats.paused_reason, stats.paused) {
        (Some(reason), _) => format!("paused: {reason}"),
        (None, true) => "paused".into(),
        (None, false) => format!("training at {} examples a second", group_thousands(stats.speed.examples_per_second as u64)),
    };
    if let (Some(p), Some(pre)) = (session.pretrainer(), &stats.pretraining) {
        let (now, total) = phase_of(p);
        if p.phase == Phase::Done {
            return format!(
                "Training figures: pretraining done, all {total} phases; final validation accuracy {} for the pretrained classifier against {} for the one from random initialisation.",
                pre.accuracy_pretrained.map_or("unmeasured".into(), pct),
                pre.accuracy_random.map_or("unmeasured".into(), pct)
            );
        }
        return format!("Training figures: phase {now} of {total}, {}; {} examples trained, {running}.", pre.phase, group_thousands(stats.examples_seen as u64));
    }
    let mut text = format!("Training figures: {} examples seen, epoch {:.2}, {running}; ", group_thousands(stats.examples_seen as u64), stats.epoch);
    match (stats.loss.train_mse, stats.loss.valid_mse) {
        (None, _) => text.push_str("no loss yet."),
        (train, valid) => text.push_str(&format!("training loss {} and validation loss {} MSE per pixel.", loss_text(train), loss_text(valid))),
    }
    if let Some(k) = k_text(session.network()) {
        text.push_str(&format!(" Top-k layer at {k}."));
    }
    text
}

pub(super) fn loss(session: &Session) -> String {
    let stats = session.stats();
    if let Some(p) = session.pretrainer() {
        let last = |curve: &[(f64, f64)]| curve.last().copied();
        return match (p.phase, last(&p.pretrained_curve), last(&p.baseline_curve)) {
            (Phase::Pretraining { layer }, _, _) => format!(
                "Loss graph: pretraining layer {} of {} as an autoencoder, its loss now {} per input after {} examples in all.",
                layer + 1,
                p.n_hidden(),
                loss_text(stats.loss.train_bce.or(stats.loss.train_mse)),
                group_thousands(stats.examples_seen as u64)
            ),
            (phase, Some((seen, a)), Some((_, b))) => format!(
                "Loss graph: validation accuracy while fine-tuning on {} labels, {} {} for the pretrained classifier and {} for the one from random initialisation after {} labelled examples.",
                group_thousands(p.plan.n_labels as u64),
                if phase == Phase::Done { "finally" } else { "now" },
                pct(a),
                pct(b),
                group_thousands(seen as u64)
            ),
            _ => "Loss graph: fine-tuning has started; the first accuracies come shortly.".into(),
        };
    }
    let curves = &session.monitor.curves;
    if session.network().gaussian_layer().is_some() {
        let last = |curve: &[(f64, f64)]| curve.last().copied();
        let Some((seen, elbo)) = last(&curves.elbo) else { return "Loss graph: empty until the first validation.".into() };
        let part = |curve: &[(f64, f64)]| loss_text(last(curve).map(|p| p.1));
        let mut text = format!(
            "Loss graph: after {} examples, the negative ELBO on the validation digits is {} nats per digit: reconstruction {} plus KL {}.",
            group_thousands(seen as u64),
            loss_text(Some(elbo)),
            part(&curves.reconstruction),
            part(&curves.kl)
        );
        for companion in session.comparisons() {
            text.push_str(&format!(" {}: reconstruction {}, KL {}.", companion.label, part(&companion.curves.reconstruction), part(&companion.curves.kl)));
        }
        return text;
    }
    let Some(&(seen, _)) = curves.train.last() else { return "Loss graph: empty until the first trained batch.".into() };
    let mut parts = vec![format!("Loss graph: after {} examples, training loss {} and validation loss {} MSE per pixel", group_thousands(seen as u64), loss_text(stats.loss.train_mse), loss_text(stats.loss.valid_mse))];
    if !session.comparisons().is_empty() {
        parts[0].push_str(&format!(" for {}", main_label(session)));
    }
    if let Some(fit) = &session.pca.fit {
        parts.push(format!("PCA with {} component{} {}", fit.k, if fit.k == 1 { "" } else { "s" }, loss_text(Some(fit.mse))));
    }
    for c in &stats.comparisons {
        parts.push(format!("{}: validation loss {}", c.label, loss_text(c.valid_mse)));
    }
    if let Some(&(_, knn)) = session.monitor.knowledge.last() {
        parts.push(format!("the code's 5-nearest-neighbour accuracy {}", pct(knn)));
    }
    let marked: Vec<String> = changes_shown(session).iter().map(|(x, label)| format!("{label} at {} examples", group_thousands(*x as u64))).collect();
    if !marked.is_empty() {
        parts.push(format!("marked on it: {}", marked.join("; ")));
    }
    format!("{}.", parts.join("; "))
}

pub(super) fn scatter(session: &Session, work: &mut Workspace) -> String {
    let data = ScatterData::recent(session, work);
    let view = session.view();
    let net = session.network();
    let layer = &net.layers()[view.layer];
    let what = if data.digits.height <= 1 { "vectors" } else { "digits" };
    let mut text = format!("Code scatter of {} validation {what} on {} of layer '{}'", data.digits.n_images, data.axes(view).trim_start_matches("its "), layer.name());
    let span = |sel: fn(&(f32, f32)) -> f32| {
        let (lo, hi) = data.points.iter().map(sel).filter(|v| v.is_finite()).fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if hi > lo {
            (lo, hi - lo)
        } else {
            (lo, 1.0)
        }
    };
    let ((x_lo, x_span), (y_lo, y_span)) = (span(|p| p.0), span(|p| p.1));
    match &data.digits.labels {
        Some(labels) if !data.points.is_empty() => {
            // Each class's centre, in the plot's proportions.
            let mut sums = [(0.0f64, 0.0f64, 0usize); 256];
            for (&(x, y), &l) in data.points.iter().zip(labels) {
                if x.is_finite() && y.is_finite() {
                    let s = &mut sums[l as usize];
                    *s = (s.0 + ((x - x_lo) / x_span) as f64, s.1 + ((y - y_lo) / y_span) as f64, s.2 + 1);
                }
            }
            let centres: Vec<(usize, f64, f64)> = sums.iter().enumerate().filter(|(_, s)| s.2 > 0).map(|(c, s)| (c, s.0 / s.2 as f64, s.1 / s.2 as f64)).collect();
            let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
            for (i, a) in centres.iter().enumerate() {
                for b in &centres[i + 1..] {
                    pairs.push(((a.1 - b.1).hypot(a.2 - b.2), a.0, b.0));
                }
            }
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            match pairs.as_slice() {
                [] => {}
                [one] => text.push_str(&format!("; the centres of classes {} and {} lie {:.0} % of the plot's width apart", one.1, one.2, 100.0 * one.0)),
                [near, .., far] => text.push_str(&format!("; classes {} and {} sit furthest apart, {} and {} closest together", far.1, far.2, near.1, near.2)),
            }
        }
        _ => {
            if !data.points.is_empty() && x_lo.is_finite() && y_lo.is_finite() {
                text.push_str(&format!("; they spread over x from {:.3} to {:.3} and y from {:.3} to {:.3}", x_lo, x_lo + x_span, y_lo, y_lo + y_span));
            }
        }
    }
    if !session.marked.is_empty() {
        text.push_str(&format!("; {} of your digits marked", session.marked.len()));
    }
    if data.prior {
        // A variational code: where its prior lies, and how wide its digits' spreads are.
        let n = data.spreads.len().max(1) as f64;
        let mean_sigma = data.spreads.iter().map(|&(sx, sy)| (sx + sy) as f64 / 2.0).sum::<f64>() / n;
        text.push_str(&format!(
            "; the axes cover at least the prior's ±{} (standard deviations of N(0, I)); each digit is placed at its mean code, its spread one σ of {:.2} on average{}",
            super::super::explore::PRIOR_SPAN,
            mean_sigma,
            if data.show_spreads { ", drawn as an ellipse around it" } else { "" }
        ));
    }
    text.push('.');
    text
}

pub(super) fn reconstructions(session: &Session, work: &mut Workspace) -> String {
    let net = session.network();
    if net.is_classifier() {
        let digits = session.valid_set().spread(super::codes::RECON_DIGITS);
        let n_classes = net.n_outputs();
        let out = net.infer(work, &digits.pixels, digits.n_images, None).output().to_vec();
        let labels = digits.labels.clone().unwrap_or_default();
        let right = out.chunks_exact(n_classes).zip(&labels).filter(|(p, &l)| p.iter().enumerate().fold(0, |best, (i, &v)| if v > p[best] { i } else { best }) == l as usize).count();
        return format!("Answers: the classifier reads {right} of {} validation digits right.", digits.n_images);
    }
    let recon = Reconstructions::of(session, work);
    let n = recon.digits.n_images;
    if n == 0 {
        return "Reconstructions: no validation digits to show.".into();
    }
    let errors = recon.errors(&recon.outputs);
    let mean = errors.iter().sum::<f64>() / n as f64;
    let what = if recon.digits.height <= 1 { "vectors" } else { "validation digits" };
    let mut text = if recon.noise.is_none() {
        format!("Reconstructions of {n} {what}: mean error {} MSE per pixel", loss_text(Some(mean)))
    } else {
        format!(
            "Reconstructions of {n} {what}, each shown clean, corrupted ({}) and as the network restores it from the corrupted input: mean error against the clean digit {} MSE per pixel",
            super::codes::noise_text(recon.noise),
            loss_text(Some(mean))
        )
    };
    if let (Some(worst), Some(labels)) = (errors.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)), &recon.digits.labels) {
        text.push_str(&format!("; the worst is {} ({})", a_digit(labels[worst.0]), loss_text(Some(*worst.1))));
    }
    if !recon.beside.is_empty() {
        text.push_str(&format!(" for {}", main_label(session)));
        for (label, outputs) in &recon.beside {
            let mean = recon.errors(outputs).iter().sum::<f64>() / n as f64;
            text.push_str(&format!("; {label}: {}", loss_text(Some(mean))));
        }
    }
    text.push('.');
    if let Some((_, samples)) = recon.samples.first() {
        // How much ink the prior's samples hold: a decoder that draws digits everywhere inks
        // about as much as real digits do; one with holes in its code space draws blurs or blanks.
        let ink = |values: &[f32]| values.iter().map(|&v| v as f64).sum::<f64>() / values.len().max(1) as f64;
        text.push_str(&format!(
            " Above them, {} digits decoded from codes drawn at random from N(0, I) (their mean ink {:.3}, the validation digits' {:.3}).",
            super::codes::PRIOR_SAMPLES,
            ink(samples),
            ink(&recon.digits.pixels)
        ));
    }
    text
}

pub(super) fn network(session: &Session, work: &mut Workspace) -> String {
    let (input, _, label) = current_example(session);
    let net = session.network();
    let code = net.code_layer();
    let acts = net.infer(work, &input, 1, None).activations(code).to_vec();
    let example = label.map_or("the current training example".to_string(), |l| format!("the current training example, {},", a_digit(l)));
    let layer = &net.layers()[code];
    if net.is_classifier() {
        let scores = net.infer(work, &input, 1, None).output().to_vec();
        let answer = scores.iter().enumerate().fold(0, |best, (i, &v)| if v > scores[best] { i } else { best });
        return format!("Network view of {example} passing through {} layers; the classifier's answer is {answer}.", net.layers().len());
    }
    let values = if acts.len() <= 4 {
        format!("its values {}", acts.iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>().join(", "))
    } else {
        let (idx, max) = acts.iter().enumerate().fold((0, f32::NEG_INFINITY), |best, (i, &v)| if v > best.1 { (i, v) } else { best });
        let active = acts.iter().filter(|&&v| v != 0.0).count();
        format!("{active} of {} units non-zero, the strongest unit {idx} at {max:.3}", acts.len())
    };
    format!(
        "Network view of {example} passing through {} layers; at the code layer '{}' ({} units), {values}.",
        net.layers().len(),
        layer.name(),
        layer.n_out()
    )
}

pub(super) fn current(session: &Session) -> String {
    let (_, _, label) = current_example(session);
    let noise = session.trainer().config().noise;
    let (w, h, _) = session.network().input_shape();
    let what = match label {
        Some(l) => a_digit(l),
        None if h <= 1 => format!("a vector of {w} numbers, drawn as a strip"),
        None => "an unlabelled example".into(),
    };
    if noise.is_none() {
        format!("Current training image: {what}.")
    } else {
        format!("Current training image: {what}, shown as the network sees it ({}) and clean.", super::codes::noise_text(noise))
    }
}

pub(super) fn filters(session: &Session) -> String {
    let net = session.network();
    if !super::shown(Panel::Filters, session) {
        return "Filters: not drawn for this network.".into();
    }
    if net.layers().iter().any(|l| l.is_conv()) {
        let layers: Vec<String> = net
            .layers()
            .iter()
            .enumerate()
            .filter_map(|(idx, l)| match l.kind() {
                crate::model::spec::Kind::Conv(g) => Some(format!("layer {} has {} × {} filters of {}×{}", idx + 1, g.small.0, g.big.0, g.size, g.size)),
                _ => None,
            })
            .collect();
        return format!("Filters of the convolutional layers: {}.", and_list(&layers));
    }
    let first = &net.layers()[0];
    if let Some(p) = session.pretrainer() {
        let whose = match p.phase {
            Phase::Pretraining { layer: 0 } => "the layer-1 autoencoder being pretrained".to_string(),
            Phase::Pretraining { .. } => "the pretrained classifier".to_string(),
            _ => "the pretrained classifier beside the one from random initialisation".to_string(),
        };
        return format!("Filters: first-layer weights of {} units of {whose}.", first.n_out());
    }
    let own = k_text(net).unwrap_or_else(|| main_label(session));
    let (_, h, _) = net.input_shape();
    let drawn = if h <= 1 { "a strip" } else { "an image" };
    let mut text = format!("Filters: each first-layer unit's weights drawn as {drawn}, for {own} ({} units)", first.n_out());
    let others: Vec<String> = session.comparisons().iter().map(|c| k_text(c.trainer.net()).filter(|_| c.label.starts_with("k = ")).unwrap_or_else(|| c.label.clone())).collect();
    if !others.is_empty() {
        text.push_str(&format!(", beside {}", and_list(&others)));
    }
    if let Some(share) = session.stats().units_ever_selected {
        text.push_str(&format!("; {:.0} % of units have ever been among the top k", 100.0 * share));
    }
    text.push('.');
    text
}

pub(super) fn turnoff(session: &Session, work: &mut Workspace) -> String {
    let net = session.network();
    if net.layers().iter().any(|l| l.is_conv()) {
        return format!("Sample activations: an example of each of the first two classes, its feature maps through {} layers and the output.", net.layers().len());
    }
    if !turnoff_applies(session) {
        return "Turning off code units: not drawn for this network.".into();
    }
    let dead: Vec<String> = session.network().dead_units(work, &session.valid_set().pixels, session.valid_set().n_images).iter().enumerate().filter(|(_, &d)| d).map(|(u, _)| u.to_string()).collect();
    let units = net.layers()[net.code_layer()].n_out();
    let dead_text = match dead.len() {
        0 => "no unit is dead".to_string(),
        1 => format!("unit {} is dead", dead[0]),
        n => format!("{n} units are dead ({})", and_list(&dead)),
    };
    format!("Turning off code units: the decoder's output for {TURNOFF_DIGITS} digits with all but one of the {units} code units set to 0, a row per unit; {dead_text}.")
}
