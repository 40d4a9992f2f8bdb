//! What the code knows about the digits, measured live: the accuracy of a linear probe and of
//! 5-nearest-neighbour voting on the code layer's activations (fit on 2,000 training digits,
//! scored on the validation digits), beside the same two measures on PCA's code of as many
//! components and on the raw pixels. The session calls `measure` on its clock, spaced so the
//! measuring costs training at most a tenth of its time.

use serde::{Deserialize, Serialize};

use super::{reference, Session};
use crate::data::Dataset;
use crate::model::network::Workspace;
use crate::model::pca::Pca;
use crate::model::probe::{knn_accuracy, linear_accuracy};
use crate::model::Network;

/// Training digits the probes are fit on (spread over the set), and the neighbours voting.
pub const PROBE_DIGITS: usize = 2000;
pub const NEIGHBOURS: usize = 5;
/// The measures run at most this often, and never more than a tenth of the time.
pub const MEASURE_EVERY_MS: f64 = 3000.0;
pub const MAX_SHARE: f64 = 0.1;

/// Both probes' accuracy on one kind of feature.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub linear: f64,
    pub knn: f64,
}

/// The latest measures: the code's, and the references (PCA with as many components, pixels).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Knowledge {
    /// The code layer's units, and the examples seen when it was measured.
    pub units: usize,
    pub examples_seen: f64,
    /// The training digits the probes learn from, and the validation digits they are scored on.
    pub train_digits: usize,
    pub valid_digits: usize,
    pub code: Scores,
    /// None where PCA with as many components does not apply (a code as wide as its input).
    pub pca: Option<Scores>,
    pub pixels: Scores,
}

/// The probes' data: training digits with labels, the validation digits, and the references,
/// which do not change while the network trains.
pub struct Probes {
    train: Dataset,
    n_classes: usize,
    pub pixels: Scores,
    pub pca: Option<Scores>,
}

impl Probes {
    /// The reference measures for this data (None without labels on both sets).
    pub fn new(train: &Dataset, valid: &Dataset, pca: Option<&Pca>, units: usize) -> Option<Probes> {
        let (train_labels, valid_labels) = (train.labels.as_ref()?, valid.labels.as_ref()?);
        if train.n_images == 0 || valid.n_images == 0 || train_labels.is_empty() {
            return None;
        }
        let sample = train.spread(PROBE_DIGITS);
        let sample_labels = sample.labels.as_ref().expect("spread keeps labels");
        let n_classes = n_classes(train_labels, valid_labels);
        let dim = train.n_pixels();
        let scores = |a: &[f32], b: &[f32], dim: usize| Scores {
            linear: linear_accuracy(a, sample_labels, b, valid_labels, dim, n_classes),
            knn: knn_accuracy(a, sample_labels, b, valid_labels, dim, NEIGHBOURS),
        };
        let pixels = scores(&sample.pixels, &valid.pixels, dim);
        let pca = pca.filter(|p| p.k() >= units && units < dim).map(|p| {
            let (a, b) = (p.project(&sample.pixels, sample.n_images, units), p.project(&valid.pixels, valid.n_images, units));
            scores(&a, &b, units)
        });
        Some(Probes { train: sample, n_classes, pixels, pca })
    }

    /// The code's scores now.
    pub fn measure(&self, net: &Network, valid: &Dataset, examples_seen: f64) -> Knowledge {
        let layer = net.code_layer();
        let units = net.layers()[layer].n_out();
        let codes = |data: &Dataset| -> Vec<f32> {
            const CHUNK: usize = crate::budget::EVAL_ROWS;
            let mut work = Workspace::default();
            let n_px = data.n_pixels();
            let mut out = Vec::with_capacity(data.n_images * units);
            for chunk in data.pixels.chunks(CHUNK * n_px) {
                out.extend_from_slice(net.infer(&mut work, chunk, chunk.len() / n_px, None).activations(layer));
            }
            out
        };
        let (a, b) = (codes(&self.train), codes(valid));
        let (train_labels, valid_labels) = (self.train.labels.as_ref().expect("labelled"), valid.labels.as_ref().expect("labelled"));
        let code = Scores {
            linear: linear_accuracy(&a, train_labels, &b, valid_labels, units, self.n_classes),
            knn: knn_accuracy(&a, train_labels, &b, valid_labels, units, NEIGHBOURS),
        };
        Knowledge { units, examples_seen, train_digits: self.train.n_images, valid_digits: valid.n_images, code, pca: self.pca, pixels: self.pixels }
    }
}

/// Classes 0..=the largest label in either set.
fn n_classes(a: &[u8], b: &[u8]) -> usize {
    a.iter().chain(b).copied().max().map_or(1, |m| m as usize + 1)
}

impl Session {
    /// What the code knows, measured now the way the live table measures it: probes fit on
    /// `train` (2,000 digits spread over it) and scored on `valid`, beside PCA with as many
    /// components (fit on `train`) and the raw pixels. None for a classifier, for a network
    /// that does not take these images, or for digits without labels.
    pub fn knowledge_on(&self, train: &Dataset, valid: &Dataset) -> Option<Knowledge> {
        let net = self.network();
        let units = net.layers()[net.code_layer()].n_out();
        let dim = train.n_pixels();
        if net.is_classifier() || dim != net.n_inputs() || valid.n_pixels() != dim || train.n_images == 0 {
            return None;
        }
        let pca = (units < dim).then(|| {
            let sample = train.spread(reference::MAX_IMAGES);
            Pca::fit(&sample.pixels, sample.n_images, dim, units)
        });
        Probes::new(train, valid, pca.as_ref(), units).map(|probes| probes.measure(net, valid, self.run.examples_seen() as f64))
    }

    /// Measure what the code knows (and, the first time, the references), then wait long
    /// enough that measuring costs at most a tenth of training's time.
    pub(super) fn measure_knowledge(&mut self, now: f64) {
        let units = self.network().layers()[self.network().code_layer()].n_out();
        if self.probes.is_none() {
            let pca = self.pca.fit.as_ref().filter(|fit| fit.k == units).map(|fit| &fit.model);
            self.probes = Probes::new(&self.train, &self.valid, pca, units);
        }
        let Some(probes) = &self.probes else {
            self.next_measure = f64::INFINITY; // nothing to measure on unlabelled data
            return;
        };
        let knowledge = probes.measure(self.network(), &self.valid, self.run.examples_seen() as f64);
        self.monitor.knowledge.push((knowledge.examples_seen, knowledge.code.knn));
        self.knowledge = Some(knowledge);
        let cost = self.clock.now_ms() - now;
        self.next_measure = now + MEASURE_EVERY_MS.max(cost * (1.0 / MAX_SHARE - 1.0));
    }
}
