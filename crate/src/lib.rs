//! Bottleneck: small-bottleneck autoencoders on MNIST, trained natively or in the browser.
//!
//! `model` (networks, optimisers, PCA), `data` (MNIST assets, IDX files, corruption) and
//! `render` (pixels and plot geometry) are pure Rust with no browser types; `train` joins them
//! into a seeded training loop; `session` owns a running experiment behind a typed protocol and
//! draws its panels, for the page and the CLI alike; `snapshot` is the versioned JSON boundary; `tour` the guided tour as data;
//! `web` is the only module that touches wasm-bindgen. See ARCHITECTURE.md.

pub mod benchmark;
pub mod budget;
pub mod cli;
pub mod clock;
pub mod data;
pub mod decimal;
pub mod json;
pub mod model;
pub mod presets;
pub mod pretrain;
pub mod render;
pub mod rng;
pub mod session;
pub mod snapshot;
pub mod tour;
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod web;
