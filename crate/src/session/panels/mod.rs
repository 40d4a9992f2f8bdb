//! The dashboard's panels as pure functions of a session: each turns what the session holds
//! into a `render::Scene` laid out for the width the page gives it (forwarding through the
//! network in a workspace of its own, never the trainer's), says what its title and note are
//! for the network in view and whether it means something for it, and says in words what it
//! shows now (`describe`, for screen readers). `Display` holds what the page's panels need
//! between draws (their layout, `Schedule`, a workspace); painting scenes is the web glue's.

pub mod codes;
mod layers;
mod progress;
mod text;

pub use progress::{loss_text, stats_rows};
pub use text::describe;

#[cfg(test)]
mod tests;

use super::protocol::{PanelInfo, PanelTexts};
use super::{Clock, Error, Session};
use crate::model::network::Workspace;
use crate::render::{Rgba, Scene};

/// The widths a panel is laid out for, in CSS pixels: narrower or wider asks are clamped.
pub const MIN_WIDTH: usize = 280;
pub const MAX_WIDTH: usize = 1600;

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

    /// The width the panel is drawn at when the page has not said (its desktop layout's).
    pub fn natural_width(self) -> usize {
        match self {
            Panel::Stats => 380,
            Panel::Loss | Panel::Scatter | Panel::Recon | Panel::Turnoff => 560,
            Panel::Network => 520,
            Panel::Current => 280,
            Panel::Filters => 620,
        }
    }

    fn index(self) -> usize {
        Panel::ALL.iter().position(|&p| p == self).expect("every panel is in ALL")
    }
}

/// A width from the page (CSS pixels, maybe fractional, maybe nonsense) as a panel width:
/// whole pixels within `MIN_WIDTH..=MAX_WIDTH` (what is not a number is the minimum).
pub fn clamp_width(width: f64) -> usize {
    if width.is_nan() {
        return MIN_WIDTH;
    }
    (width.floor().clamp(MIN_WIDTH as f64, MAX_WIDTH as f64)) as usize
}

/// The panel's scene for the session as it is now, laid out `width` CSS pixels wide (clamped
/// to `MIN_WIDTH..=MAX_WIDTH`): the scene is exactly that wide, and as tall as its content.
pub fn scene(panel: Panel, session: &Session, work: &mut Workspace, width: usize) -> Scene {
    let width = width.clamp(MIN_WIDTH, MAX_WIDTH);
    let mut scene = match panel {
        Panel::Stats => progress::stats(session, width),
        Panel::Loss => progress::loss(session, width),
        Panel::Scatter => codes::scatter(session, work, width),
        Panel::Recon => codes::reconstructions(session, work, width),
        Panel::Network => layers::network(session, work, width),
        Panel::Current => layers::current(session, width),
        Panel::Filters => layers::filters(session, width),
        Panel::Turnoff => codes::turnoff(session, work, width),
    };
    debug_assert_eq!(scene.width, width, "{} laid out at another width", panel.name());
    scene.width = width;
    scene.height = scene.height.max(1);
    scene
}

/// Whether a panel means something for the session's network: the turn-off grid only for an
/// autoencoder of images with a small dense code (sample activations for conv networks), the
/// filters only where first-layer weights can be drawn (one-channel inputs).
pub fn shown(panel: Panel, session: &Session) -> bool {
    let net = session.network();
    let conv = net.layers().iter().any(|l| !l.is_dense());
    match panel {
        Panel::Turnoff => conv || codes::turnoff_applies(session),
        Panel::Filters => net.input_shape().2 == 1,
        _ => true,
    }
}

/// Each panel's title and note for the network in view, and whether it is shown.
pub fn info(session: &Session) -> Vec<PanelInfo> {
    let net = session.network();
    let conv = net.layers().iter().any(|l| !l.is_dense());
    let classifier = net.is_classifier();
    let units = net.layers()[net.code_layer()].n_out();
    // PCA is drawn where the session fits it while training (a code smaller than its input,
    // and a fit that does not stall the page); the code's accuracy where there are labels.
    let pca = session.pca_k().is_some_and(|k| session.train_set().n_pixels() * (k + 8) <= super::PCA_MAX_DIM_BY_BLOCK);
    let knn = !classifier && session.train_set().labels.is_some();
    let knn_note = if knn { " Right axis: the code's 5-nearest-neighbour accuracy on validation digits, once measured." } else { "" };
    let top_k = net.layers().iter().any(|l| l.kind().top_k().is_some());
    Panel::ALL
        .into_iter()
        .map(|panel| {
            let (title, note): (&str, String) = match panel {
                Panel::Stats => ("Training", String::new()),
                Panel::Loss if session.pretrainer().is_some() => (
                    "Loss and accuracy",
                    "While pretraining: each layer's autoencoder loss, the phases marked; then both classifiers' validation accuracy, and the final accuracies once done.".into(),
                ),
                Panel::Loss if classifier => ("Loss", String::new()),
                Panel::Loss if pca => (
                    "Loss",
                    format!("Dashed, once fitted: PCA with {units} component{} (the best linear code of that size).{knn_note}", if units == 1 { "" } else { "s" }),
                ),
                Panel::Loss => ("Loss", knn_note.trim_start().to_string()),
                Panel::Scatter => ("Code scatter", String::new()),
                Panel::Recon if classifier => ("Answers", String::new()),
                Panel::Recon if !session.trainer().config().noise.is_none() => {
                    ("Reconstructions", "Each digit clean (x), corrupted as in training (H(x)), and the network's reconstruction of the corrupted digit (F(H(x))).".into())
                }
                Panel::Recon => ("Reconstructions", String::new()),
                Panel::Network => ("Network", "One training example's activations, layer by layer; the weights are under Filters.".into()),
                Panel::Current => ("Current image", String::new()),
                Panel::Filters if top_k => ("Filters", "Each unit's first-layer weights, for this k and the other k trained beside it.".into()),
                Panel::Filters => ("Filters", String::new()),
                Panel::Turnoff if conv => (
                    "Sample activations",
                    "An example of each class, its feature maps layer by layer, and the output (Reconstructing 1s and 8s with a convolutional autoencoder).".into(),
                ),
                Panel::Turnoff => ("Turning off code units", "The decoder's output when all code units but one are set to 0 (The effect of turning off units in the middle layer).".into()),
            };
            PanelInfo { name: panel.name().into(), title: title.into(), note, shown: shown(panel, session) }
        })
        .collect()
}

/// Show `image` at (x, y), `scale` times its size but never wider than `room`; returns the size
/// it is shown at.
fn show_fitted(scene: &mut Scene, x: f32, y: f32, image: Rgba, room: f32, scale: f32) -> (f32, f32) {
    let scale = scale.min(room / image.width.max(1) as f32);
    let (w, h) = (image.width as f32 * scale, image.height as f32 * scale);
    scene.image_sized(x, y, w, h, image);
    (w, h)
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

impl Panel {
    /// The panel called `name`, or a sentence saying there is none.
    pub fn named(name: &str) -> Result<Panel, Error> {
        Panel::from_name(name).ok_or_else(|| Error(format!("there is no panel called {name:?}")))
    }
}

/// How the page lays the panels out: its devicePixelRatio, and the CSS width (in pixels) of
/// each panel's canvas, by panel name (a panel left out is drawn at its natural width).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    pub dpr: f64,
    #[serde(default)]
    pub widths: std::collections::BTreeMap<String, f64>,
}

/// The page's panels between draws: the pixel ratio and width each is drawn at, when each is
/// next due, and a workspace of their own (never the trainer's).
pub struct Display {
    pub dpr: f64,
    widths: Vec<(Panel, usize)>,
    pub schedule: Schedule,
    work: Workspace,
}

impl Default for Display {
    fn default() -> Display {
        Display { dpr: 1.0, widths: Vec::new(), schedule: Schedule::default(), work: Workspace::default() }
    }
}

impl Display {
    /// Take the page's layout (widths clamped to `MIN_WIDTH..=MAX_WIDTH`, the ratio to 0.5..=4);
    /// every panel is then due. A bad layout changes nothing and says why.
    pub fn set_layout(&mut self, Layout { dpr, widths }: Layout) -> Result<(), Error> {
        if !(dpr.is_finite() && dpr > 0.0) {
            return Err(Error(format!("a device pixel ratio is a positive number, not {dpr}")));
        }
        let widths = widths.into_iter().map(|(name, width)| Ok((Panel::named(&name)?, clamp_width(width)))).collect::<Result<Vec<_>, Error>>()?;
        self.dpr = dpr.clamp(0.5, 4.0);
        self.widths = widths;
        self.schedule.all_due();
        Ok(())
    }

    /// The width (CSS pixels) `panel` is drawn at: the layout's, or its natural width.
    pub fn width_of(&self, panel: Panel) -> usize {
        self.widths.iter().find(|(p, _)| *p == panel).map_or(panel.natural_width(), |(_, w)| *w)
    }

    /// `panel`'s scene now, at its width.
    pub fn scene(&mut self, panel: Panel, session: &Session) -> Scene {
        let width = self.width_of(panel);
        scene(panel, session, &mut self.work, width)
    }

    /// Paint (`paint(target, panel, scene)`) each of `targets`' panels that is due on `clock`,
    /// and note how long each took so slow panels wait longer.
    pub fn draw_due<T>(&mut self, session: &Session, clock: &dyn Clock, targets: &[(Panel, T)], mut paint: impl FnMut(&T, Panel, &Scene)) {
        for (panel, target) in targets {
            let start = clock.now_ms();
            if !self.schedule.is_due(*panel, start) {
                continue;
            }
            let scene = self.scene(*panel, session);
            paint(target, *panel, &scene);
            self.schedule.drawn(*panel, start, clock.now_ms());
        }
    }
}

/// What the panels show now, in words: each panel's accessible name and the stats panel's
/// rows as text (a forward pass or two: about once a second is enough).
pub fn texts(session: &Session) -> PanelTexts {
    PanelTexts { labels: describe(session), rows: stats_rows(session) }
}

/// 1234567 as "1,234,567".
pub(crate) fn group_thousands(n: u64) -> String {
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
