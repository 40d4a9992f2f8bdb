//! Which data an experiment trains on, as data (presets and snapshots name it), and building
//! the train/validation pair from it.

use serde::{Deserialize, Serialize};

use super::{synthetic, transform, Dataset};
use crate::budget::BUDGET;
use crate::rng::Rng;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataSpec {
    /// The built-in MNIST digits (or IDX files given to the CLI), optionally only some
    /// classes and resized (bilinear), then split 9:1.
    Mnist {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        classes: Option<Vec<u8>>,
        /// [width, height] to resize every image to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size: Option<(usize, usize)>,
    },
    /// Seed 004's synthetic vectors: `n_independent` free numbers and their linear mixtures.
    Linear { n_samples: usize, n_independent: usize, dim: usize },
}

/// Synthetic data is drawn from a generator derived from the run's seed, so one seed still
/// reproduces everything while data generation never shifts the training stream.
const DATA_STREAM: u64 = 0xda7a_5eed_0000_0001;

impl Default for DataSpec {
    fn default() -> DataSpec {
        DataSpec::Mnist { classes: None, size: None }
    }
}

impl DataSpec {
    /// The plain digits, all classes, 28×28.
    pub fn mnist() -> DataSpec {
        DataSpec::default()
    }

    /// Whether this data is made from the digits (the built-in asset or IDX files).
    pub fn is_mnist(&self) -> bool {
        matches!(self, DataSpec::Mnist { .. })
    }

    /// The digits as this spec wants them: chosen classes, resized. Other specs pass through.
    pub fn prepare(&self, digits: &Dataset) -> Result<Dataset, String> {
        let DataSpec::Mnist { classes, size } = self else { return Ok(digits.clone()) };
        let kept = match classes {
            Some(classes) => transform::keep_classes(digits, classes)?,
            None => digits.clone(),
        };
        match size {
            Some((w, h)) if (*w, *h) != (kept.width, kept.height) => transform::resize_bilinear(&kept, *w, *h),
            _ => Ok(kept),
        }
    }

    /// (train, validation). `digits` are the MNIST-like images, needed only by `Mnist`.
    pub fn build(&self, digits: Option<&Dataset>, seed: u64) -> Result<(Dataset, Dataset), String> {
        match *self {
            DataSpec::Mnist { .. } => Ok(self.prepare(digits.ok_or("this experiment needs the MNIST digits")?)?.split()),
            DataSpec::Linear { n_samples, n_independent, dim } => {
                if n_independent == 0 || n_independent > dim || dim > 4096 || !(10..=1_000_000).contains(&n_samples) {
                    return Err(format!("linear data: need 1 ≤ n_independent ≤ dim ≤ 4096 and 10 ≤ n_samples ≤ 1e6, got {n_independent}, {dim}, {n_samples}"));
                }
                let n_values = (n_samples as u64).saturating_mul(dim as u64).saturating_mul(2); // the set and its split
                BUDGET.judge_data(&format!("linear data of {n_samples} × {dim}"), n_values)?;
                let data = synthetic::linear_mixtures(n_samples, n_independent, dim, &mut Rng::from_seed(seed ^ DATA_STREAM));
                Ok(data.split())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_specs_parse_and_apply_their_transforms() {
        let plain: DataSpec = serde_json::from_str(r#"{"type": "mnist"}"#).unwrap();
        assert_eq!(plain, DataSpec::mnist());
        let spec: DataSpec = serde_json::from_str(r#"{"type": "mnist", "classes": [1, 8], "size": [36, 36]}"#).unwrap();
        let (labels, pixels) = synthetic::bars(100, 255);
        let digits = Dataset::new(28, 28, pixels.iter().map(|&p| p as f32 / 255.0).collect(), Some(labels));
        let (train, valid) = spec.build(Some(&digits), 1).unwrap();
        assert_eq!((train.width, train.height), (36, 36));
        assert_eq!(train.n_images + valid.n_images, 20, "ten 1s and ten 8s");
        assert!(train.labels.unwrap().iter().chain(valid.labels.as_ref().unwrap()).all(|&l| l == 1 || l == 8));
        assert!(spec.build(None, 1).unwrap_err().contains("needs the MNIST digits"));
        let linear = DataSpec::Linear { n_samples: 5, n_independent: 2, dim: 4 };
        assert!(linear.build(None, 1).unwrap_err().contains("n_samples"));
    }
}
