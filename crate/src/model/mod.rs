//! The model core: network specs, layers, activations, losses, optimisers, matrix products and
//! PCA. Pure computation on f32 slices; it knows nothing of data files, browsers or training loops.

pub mod activation;
pub mod conv;
pub mod direct;
pub mod kernel;
pub mod loss;
pub mod matmul;
pub mod network;
pub mod optim;
pub mod pca;
pub mod probe;
pub mod spec;

#[cfg(test)]
mod gradcheck;

pub use activation::Activation;
pub use loss::Loss;
pub use network::{Network, UnitMask};
pub use optim::Optimizer;
pub use spec::{LayerSpec, NetSpec};
