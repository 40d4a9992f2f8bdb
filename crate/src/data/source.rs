//! Which data an experiment trains on, as data (presets and snapshots name it), and building
//! the train/validation pair from it.

use serde::{Deserialize, Serialize};

use super::{synthetic, Dataset};
use crate::rng::Rng;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataSpec {
    /// The built-in MNIST digits (or IDX files given to the CLI), split 9:1.
    #[default]
    Mnist,
    /// Seed 004's synthetic vectors: `n_independent` free numbers and their linear mixtures.
    Linear { n_samples: usize, n_independent: usize, dim: usize },
}

/// Synthetic data is drawn from a generator derived from the run's seed, so one seed still
/// reproduces everything while data generation never shifts the training stream.
const DATA_STREAM: u64 = 0xda7a_5eed_0000_0001;

impl DataSpec {
    pub fn is_mnist(&self) -> bool {
        *self == DataSpec::Mnist
    }

    /// (train, validation). `digits` are the MNIST-like images, needed only by `Mnist`.
    pub fn build(&self, digits: Option<&Dataset>, seed: u64) -> Result<(Dataset, Dataset), String> {
        match *self {
            DataSpec::Mnist => Ok(digits.ok_or("this experiment needs the MNIST digits")?.split()),
            DataSpec::Linear { n_samples, n_independent, dim } => {
                if n_independent == 0 || n_independent > dim || dim > 4096 || !(10..=1_000_000).contains(&n_samples) {
                    return Err(format!("linear data: need 1 ≤ n_independent ≤ dim ≤ 4096 and 10 ≤ n_samples ≤ 1e6, got {n_independent}, {dim}, {n_samples}"));
                }
                let data = synthetic::linear_mixtures(n_samples, n_independent, dim, &mut Rng::from_seed(seed ^ DATA_STREAM));
                Ok(data.split())
            }
        }
    }
}
