//! Pure renderers: they turn numbers into RGBA pixel buffers or plot geometry and never touch a
//! browser or the model. The web layer paints their output; tests check it natively.

pub mod image;

pub use image::{Rgba, TileGrid};
