//! The linear baseline a code is measured against: PCA with as many components as the code has
//! units, fit on the session's training images (at most `MAX_IMAGES`, spread over the set) and
//! scored on its validation images. The session moves the fit on a slice at a time between
//! batches while training (`advance` with a deadline), or all at once when asked. Which k, and
//! whether there is a comparison to make at all, is the session's to say.

use super::{reference, Session};
use crate::clock::Clock;
use crate::data::Dataset;
use crate::model::pca::{Pca, PcaFitter};

/// PCA is fit on at most this many training images, spread over the set.
pub const MAX_IMAGES: usize = 2000;

/// A finished fit: PCA with k components, and its validation error (MSE/px).
pub struct PcaFit {
    pub k: usize,
    pub mse: f64,
    pub model: Pca,
}

/// Where the reference stands after a slice of work.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Progress {
    /// No reference for this network (a classifier, or a code no smaller than its input).
    None,
    Fitting,
    Done,
}

/// The reference for the session's data: the latest finished fit, and one in progress.
#[derive(Default)]
pub struct PcaReference {
    pub fit: Option<PcaFit>,
    fitting: Option<(usize, PcaFitter)>,
}

impl PcaReference {
    /// Forget both fits (the data changed).
    pub fn clear(&mut self) {
        *self = PcaReference::default();
    }

    pub fn is_fitting(&self) -> bool {
        self.fitting.is_some()
    }

    /// The finished fit's error, if there is one.
    pub fn mse(&self) -> Option<f64> {
        self.fit.as_ref().map(|fit| fit.mse)
    }

    /// Move the fit of PCA-`k` on `train` on until `deadline` on `clock` (the covariance, a
    /// first step, always happens whole): start a fit when k has none, iterate, finish and
    /// score it on `valid`. `k` None: there is nothing to compare with.
    pub fn advance(&mut self, k: Option<usize>, train: &Dataset, valid: &Dataset, clock: &dyn Clock, deadline: f64) -> Progress {
        let Some(k) = k else { return Progress::None };
        if self.fit.as_ref().is_some_and(|fit| fit.k == k) {
            return Progress::Done;
        }
        if self.fitting.as_ref().is_none_or(|(fit_k, _)| *fit_k != k) {
            let sample = train.spread(MAX_IMAGES);
            self.fitting = Some((k, PcaFitter::new(&sample.pixels, sample.n_images, train.n_pixels(), k)));
        }
        let (_, fitter) = self.fitting.as_mut().expect("a fit was just started");
        loop {
            if fitter.step(1) {
                break;
            }
            if clock.now_ms() >= deadline {
                return Progress::Fitting;
            }
        }
        let (_, fitter) = self.fitting.take().expect("a fit in progress");
        let model = fitter.finish();
        let mse = model.mse_per_pixel(&valid.pixels, valid.n_images, k);
        self.fit = Some(PcaFit { k, mse, model });
        Progress::Done
    }
}

impl Session {
    /// PCA's validation error with as many components as the code has units, fit on the
    /// training images (at most 2,000, spread over the set); None where a code is no smaller
    /// than its input or the network is a classifier.
    pub fn pca_reference(&mut self) -> Option<(usize, f64)> {
        while self.advance_pca(f64::INFINITY) == reference::Progress::Fitting {}
        self.pca.fit.as_ref().map(|fit| (fit.k, fit.mse))
    }

    /// The code size PCA is compared at, or None where there is no comparison to make.
    pub(super) fn pca_k(&self) -> Option<usize> {
        let net = self.run.trainer().net();
        let k = net.layers()[net.code_layer()].n_out();
        let usable = k < self.train.n_pixels() && !net.is_classifier() && self.train.n_images > 0 && self.valid.n_images > 0;
        usable.then_some(k)
    }

    /// Move the PCA reference on until `deadline` on the clock.
    pub(super) fn advance_pca(&mut self, deadline: f64) -> reference::Progress {
        self.pca.advance(self.pca_k(), &self.train, &self.valid, &*self.clock, deadline)
    }
}
