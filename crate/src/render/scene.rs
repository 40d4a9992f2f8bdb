//! A scene: a canvas-sized list of drawing primitives (rectangles, lines, text, RGBA images)
//! that pure renderers produce and one thin painter in `web/` draws. Tests read scenes natively.

use super::image::Rgba;

pub type Colour = [u8; 4];

pub const INK: Colour = [232, 232, 234, 255];
pub const MUTED: Colour = [154, 154, 163, 255];
pub const GRID: Colour = [58, 58, 66, 255];
pub const PANEL: Colour = [35, 35, 39, 255];
pub const ACCENT: Colour = [240, 180, 41, 255];
pub const TRAIN: Colour = [90, 170, 255, 255];
pub const VALID: Colour = [255, 140, 90, 255];
pub const REFERENCE: Colour = [160, 220, 120, 255];

/// One colour per digit class (a qualitative palette readable on a dark background).
pub const CLASS_COLOURS: [Colour; 10] = [
    [230, 25, 75, 255],
    [60, 180, 75, 255],
    [255, 225, 25, 255],
    [67, 99, 216, 255],
    [245, 130, 49, 255],
    [145, 30, 180, 255],
    [70, 240, 240, 255],
    [240, 50, 230, 255],
    [188, 246, 12, 255],
    [250, 190, 190, 255],
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Rect { x: f32, y: f32, w: f32, h: f32, fill: Colour },
    Line { points: Vec<(f32, f32)>, stroke: Colour, width: f32, dashed: bool },
    /// `y` is the text's middle.
    Text { x: f32, y: f32, text: String, size: f32, colour: Colour, align: Align },
    /// Copied pixel for pixel, top-left at (x, y).
    Image { x: f32, y: f32, image: Rgba },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    pub width: usize,
    pub height: usize,
    pub background: Colour,
    pub items: Vec<Item>,
}

impl Scene {
    pub fn new(width: usize, height: usize) -> Scene {
        Scene { width, height, background: PANEL, items: Vec::new() }
    }

    pub fn text(&mut self, x: f32, y: f32, text: impl Into<String>, size: f32, colour: Colour, align: Align) {
        self.items.push(Item::Text { x, y, text: text.into(), size, colour, align });
    }

    pub fn line(&mut self, points: Vec<(f32, f32)>, stroke: Colour, width: f32, dashed: bool) {
        self.items.push(Item::Line { points, stroke, width, dashed });
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: Colour) {
        self.items.push(Item::Rect { x, y, w, h, fill });
    }

    pub fn image(&mut self, x: f32, y: f32, image: Rgba) {
        self.items.push(Item::Image { x, y, image });
    }

    /// All text items' strings, in order (for tests).
    pub fn texts(&self) -> Vec<&str> {
        self.items
            .iter()
            .filter_map(|item| match item {
                Item::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}
