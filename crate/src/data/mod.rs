//! Data: the built-in MNIST asset and standard IDX files parsed from bytes, datasets with the
//! fixed train/validation split, and corruption noise for denoising. No file or network I/O
//! happens here: callers hand over `&[u8]`.

pub mod asset;
pub mod corrupt;
pub mod dataset;
pub mod drawing;
pub mod idx;
pub mod source;
pub mod synthetic;
pub mod transform;

pub use corrupt::Noise;
pub use dataset::Dataset;
pub use source::DataSpec;
