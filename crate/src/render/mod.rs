//! Pure renderers: they turn numbers into RGBA pixel buffers or scenes (plot geometry) and never
//! touch a browser or the model. The web layer paints their output; tests check it natively.

pub mod image;
pub mod netview;
pub mod plot;
pub mod scatter;
pub mod scene;

pub use image::{Rgba, TileGrid};
pub use scene::Scene;
