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
pub use crate::decimal::group_thousands;
pub use crate::render::scene::{clamp_width, MAX_WIDTH, MIN_WIDTH};
pub use text::describe;

#[cfg(test)]
mod tests;

use super::protocol::{PanelInfo, PanelTexts};
use super::{Clock, Error, Session};
use crate::model::network::Workspace;
use crate::render::{Rgba, Scene};


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

    /// The panel's row of `PANELS`.
    pub fn row(self) -> &'static PanelRow {
        &PANELS[self as usize]
    }

    /// The panel's name in the protocol and the page (`<canvas data-panel="…">`).
    pub fn name(self) -> &'static str {
        self.row().name
    }

    pub fn from_name(name: &str) -> Option<Panel> {
        PANELS.iter().find(|row| row.name == name).map(|row| row.panel)
    }

    pub fn every_ms(self) -> f64 {
        self.row().every_ms
    }

    pub fn natural_width(self) -> usize {
        self.row().natural_width
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What there is to know of each panel, one row each, in `Panel::ALL`'s order: the one place
/// a panel is added.
pub struct PanelRow {
    pub panel: Panel,
    /// Its name in the protocol and the page (`<canvas data-panel="…">`).
    pub name: &'static str,
    /// How often it is redrawn at most, in ms. The network view and the current image share a
    /// period so they show the same example.
    pub every_ms: f64,
    /// The width it is drawn at when the page has not said (its desktop layout's).
    pub natural_width: usize,
    /// Its scene for a session, laid out so many CSS pixels wide.
    draw: fn(&Session, &mut Workspace, usize) -> Scene,
    /// What it shows now, in words (for screen readers).
    pub(crate) words: fn(&Session, &mut Workspace) -> String,
    /// Whether it means something for the session's network.
    shown: fn(&Session) -> bool,
    /// Its title and note for the session's network.
    titled: fn(&Session) -> (&'static str, String),
}

fn always(_: &Session) -> bool {
    true
}

fn is_conv(session: &Session) -> bool {
    session.network().layers().iter().any(|l| l.is_conv())
}

pub const PANELS: [PanelRow; 8] = [
    PanelRow {
        panel: Panel::Stats,
        name: "stats",
        every_ms: 200.0,
        natural_width: 380,
        draw: |s, _, w| progress::stats(s, w),
        words: |s, _| text::stats(s),
        shown: always,
        titled: |_| ("Training", String::new()),
    },
    PanelRow { panel: Panel::Loss, name: "loss", every_ms: 500.0, natural_width: 560, draw: |s, _, w| progress::loss(s, w), words: |s, _| text::loss(s), shown: always, titled: loss_title },
    PanelRow { panel: Panel::Scatter, name: "scatter", every_ms: 400.0, natural_width: 560, draw: codes::scatter, words: text::scatter, shown: always, titled: |_| ("Code scatter", String::new()) },
    PanelRow {
        panel: Panel::Recon,
        name: "recon",
        every_ms: 1000.0,
        natural_width: 560,
        draw: codes::reconstructions,
        words: text::reconstructions,
        shown: always,
        titled: |s| match () {
            _ if s.network().is_classifier() => ("Answers", String::new()),
            _ if s.network().gaussian_layer().is_some() => (
                "Reconstructions and samples",
                "Validation digits x and their reconstructions F(x), each decoded from its mean code; below, digits decoded from codes drawn at random from N(0, I), the prior: a variational code can be sampled, a plain one has holes where its decoder draws nothing like a digit. New samples draws other codes.".into(),
            ),
            _ if !s.trainer().config().noise.is_none() => {
                ("Reconstructions", "Each digit clean (x), corrupted as in training (H(x)), and the network's reconstruction of the corrupted digit (F(H(x))).".into())
            }
            _ => ("Reconstructions", String::new()),
        },
    },
    PanelRow {
        panel: Panel::Network,
        name: "network",
        every_ms: 400.0,
        natural_width: 520,
        draw: layers::network,
        words: text::network,
        shown: always,
        titled: |_| ("Network", "One training example's activations, layer by layer; the weights are under Filters.".into()),
    },
    PanelRow {
        panel: Panel::Current,
        name: "current",
        every_ms: 400.0,
        natural_width: 280,
        draw: |s, _, w| layers::current(s, w),
        words: |s, _| text::current(s),
        shown: always,
        titled: |_| ("Current image", String::new()),
    },
    PanelRow {
        panel: Panel::Filters,
        name: "filters",
        every_ms: 1000.0,
        natural_width: 620,
        draw: |s, _, w| layers::filters(s, w),
        words: |s, _| text::filters(s),
        // Only where first-layer weights can be drawn (one-channel inputs).
        shown: |s| s.network().input_shape().2 == 1,
        titled: |s| match (s.network().layers().iter().any(|l| l.kind().top_k().is_some()), s.comparisons().is_empty()) {
            (true, false) => ("Filters", "Each unit's first-layer weights, for this k and the other k trained beside it.".into()),
            (true, true) => ("Filters", "Each unit's first-layer weights, for this k.".into()),
            (false, _) => ("Filters", String::new()),
        },
    },
    PanelRow {
        panel: Panel::Turnoff,
        name: "turnoff",
        every_ms: 1500.0,
        natural_width: 560,
        draw: codes::turnoff,
        words: text::turnoff,
        // Only for an autoencoder of images with a small dense code (sample activations for
        // conv networks).
        shown: |s| is_conv(s) || codes::turnoff_applies(s),
        titled: |s| match is_conv(s) {
            true => ("Sample activations", "An example of each class, its feature maps layer by layer, and the output (Reconstructing 1s and 8s with a convolutional autoencoder).".into()),
            false => ("Turning off code units", "The decoder's output when all code units but one are set to 0 (The effect of turning off units in the middle layer).".into()),
        },
    },
];

/// The loss graph's title and note: the phases while pretraining; PCA's line where the session
/// fits it while training (a code smaller than its input, and a fit that does not stall the
/// page); the code's accuracy on the right axis where there are labels.
fn loss_title(session: &Session) -> (&'static str, String) {
    let net = session.network();
    let classifier = net.is_classifier();
    let units = net.layers()[net.code_layer()].n_out();
    let pca = session.pca_k().is_some_and(|k| session.train_set().n_pixels() * (k + 8) <= super::PCA_MAX_DIM_BY_BLOCK);
    let knn = !classifier && session.train_set().labels.is_some();
    let knn_note = if knn { " Right axis: the code's 5-nearest-neighbour accuracy on validation digits, once measured." } else { "" };
    match () {
        _ if session.pretrainer().is_some() => {
            ("Loss and accuracy", "While pretraining: each layer's autoencoder loss, the phases marked; then both classifiers' validation accuracy, and the final accuracies once done.".into())
        }
        _ if classifier => ("Loss", String::new()),
        _ if net.gaussian_layer().is_some() => (
            "Loss",
            format!("On the validation digits, in nats per digit: the negative ELBO, the price a variational autoencoder trains down, and its two parts: the reconstruction error and the KL divergence of each digit's code distribution from N(0, I).{knn_note}"),
        ),
        _ if pca => ("Loss", format!("Dashed, once fitted: PCA with {units} component{} (the best linear code of that size).{knn_note}", if units == 1 { "" } else { "s" })),
        _ => ("Loss", knn_note.trim_start().to_string()),
    }
}


/// The panel's scene for the session as it is now, laid out `width` CSS pixels wide (clamped
/// to `MIN_WIDTH..=MAX_WIDTH`): the scene is exactly that wide, and as tall as its content.
pub fn scene(panel: Panel, session: &Session, work: &mut Workspace, width: usize) -> Scene {
    let width = width.clamp(MIN_WIDTH, MAX_WIDTH);
    let mut scene = (panel.row().draw)(session, work, width);
    debug_assert_eq!(scene.width, width, "{} laid out at another width", panel.name());
    scene.width = width;
    scene.height = scene.height.max(1);
    scene
}

/// Whether a panel means something for the session's network.
pub fn shown(panel: Panel, session: &Session) -> bool {
    (panel.row().shown)(session)
}

/// Each panel's title and note for the network in view, and whether it is shown.
pub fn info(session: &Session) -> Vec<PanelInfo> {
    PANELS
        .iter()
        .map(|row| {
            let (title, note) = (row.titled)(session);
            PanelInfo { name: row.name.into(), title: title.into(), note, shown: (row.shown)(session) }
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

