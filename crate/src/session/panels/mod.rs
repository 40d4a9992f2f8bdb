//! The dashboard's panels as pure functions of a session: each turns what the session holds
//! into a `render::Scene` (forwarding through the network in a workspace of its own, never
//! the trainer's), and says what its title and note are for the network in view. When each
//! panel is next due is `Schedule`'s business; painting scenes is the web glue's.

mod layers;
mod progress;
mod codes;

#[cfg(test)]
mod tests;

use super::protocol::PanelInfo;
use super::Session;
use crate::model::network::Workspace;
use crate::render::scene::{Align, Scene, INK, MUTED};

/// The panels, in drawing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    Stats,
    Loss,
    Scatter,
    Recon,
    Network,
    Current,
    Filters,
    Turnoff,
}

impl Panel {
    pub const ALL: [Panel; 8] = [Panel::Stats, Panel::Loss, Panel::Scatter, Panel::Recon, Panel::Network, Panel::Current, Panel::Filters, Panel::Turnoff];

    /// The panel's name in the protocol and the page (`<canvas data-panel="…">`).
    pub fn name(self) -> &'static str {
        match self {
            Panel::Stats => "stats",
            Panel::Loss => "loss",
            Panel::Scatter => "scatter",
            Panel::Recon => "recon",
            Panel::Network => "network",
            Panel::Current => "current",
            Panel::Filters => "filters",
            Panel::Turnoff => "turnoff",
        }
    }

    pub fn from_name(name: &str) -> Option<Panel> {
        Panel::ALL.into_iter().find(|p| p.name() == name)
    }

    /// How often the panel is redrawn at most, in ms. The network view and the current image
    /// share a period so they show the same example.
    pub fn every_ms(self) -> f64 {
        match self {
            Panel::Stats => 200.0,
            Panel::Loss => 500.0,
            Panel::Scatter | Panel::Network | Panel::Current => 400.0,
            Panel::Recon | Panel::Filters => 1000.0,
            Panel::Turnoff => 1500.0,
        }
    }

    fn index(self) -> usize {
        Panel::ALL.iter().position(|&p| p == self).expect("every panel is in ALL")
    }
}

/// The panel's scene for the session as it is now.
pub fn scene(panel: Panel, session: &Session, work: &mut Workspace) -> Scene {
    match panel {
        Panel::Stats => progress::stats(session),
        Panel::Loss => progress::loss(session),
        Panel::Scatter => codes::scatter(session, work),
        Panel::Recon => codes::reconstructions(session, work),
        Panel::Network => layers::network(session, work),
        Panel::Current => layers::current(session),
        Panel::Filters => layers::filters(session),
        Panel::Turnoff => codes::turnoff(session, work),
    }
}

/// Each panel's title and note for the network in view.
pub fn info(session: &Session) -> Vec<PanelInfo> {
    let conv = session.network().layers().iter().any(|l| !l.is_dense());
    let classifier = session.network().is_classifier();
    Panel::ALL
        .into_iter()
        .map(|panel| {
            let (title, note) = match panel {
                Panel::Stats => ("Training", ""),
                Panel::Loss if classifier => ("Loss and accuracy", "while pretraining: each layer's autoencoder loss; then both classifiers' validation accuracy"),
                Panel::Loss => ("Loss", "dashed: PCA with as many components as the code has units (the best linear code)"),
                Panel::Scatter => ("Code scatter", ""),
                Panel::Recon if classifier => ("Answers", ""),
                Panel::Recon => ("Reconstructions", ""),
                Panel::Network => ("Network", ""),
                Panel::Current => ("Current image", ""),
                Panel::Filters => ("Filters", ""),
                Panel::Turnoff if conv => ("Sample activations", "An example of each class, its feature maps layer by layer, and the output (Reconstructing 1s and 8s with a convolutional autoencoder)."),
                Panel::Turnoff => ("Turning off code units", "The decoder's output when all code units but one are set to 0 (The effect of turning off units in the middle layer)."),
            };
            PanelInfo { name: panel.name().into(), title: title.into(), note: note.into() }
        })
        .collect()
}

/// When each panel is next due. A panel that takes long to compute waits at least ten times
/// its own cost before the next redraw, so drawing never crowds out training.
#[derive(Clone, Debug, Default)]
pub struct Schedule {
    next_due: [f64; Panel::ALL.len()],
}

impl Schedule {
    pub fn is_due(&self, panel: Panel, now_ms: f64) -> bool {
        now_ms >= self.next_due[panel.index()]
    }

    /// Note that `panel` was drawn from `start_ms` to `end_ms`.
    pub fn drawn(&mut self, panel: Panel, start_ms: f64, end_ms: f64) {
        self.next_due[panel.index()] = end_ms + panel.every_ms().max(10.0 * (end_ms - start_ms));
    }

    /// Every panel at once (after a command changed what they show).
    pub fn all_due(&mut self) {
        self.next_due = Default::default();
    }
}

/// Label/value rows as a panel scene, with room for `extra_height` below them.
fn rows_scene(rows: &[(&str, String)], extra_height: usize) -> Scene {
    let mut scene = Scene::new(380, 20 + rows.len() * 20 + extra_height);
    for (row, (label, value)) in rows.iter().enumerate() {
        let y = 16.0 + row as f32 * 20.0;
        scene.text(10.0, y, *label, 13.0, MUTED, Align::Left);
        scene.text(370.0, y, value.clone(), 13.0, INK, Align::Right);
    }
    scene
}

/// 1234567 as "1,234,567".
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (idx, ch) in digits.chars().enumerate() {
        if idx > 0 && (digits.len() - idx).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
