//! A scene: a canvas-sized list of drawing primitives (rectangles, lines, text, RGBA images)
//! that pure renderers produce and one thin painter in `web/` draws, with the one estimate of
//! text width that layouts wrap and fit text by. Tests read scenes natively.

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
    [255, 255, 255, 255],
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
    /// Top-left at (x, y), shown `w × h` scene pixels large: pixel for pixel when that is the
    /// image's own size, otherwise enlarged or shrunk without smoothing (crisp pixels).
    Image { x: f32, y: f32, w: f32, h: f32, image: Rgba },
}

/// A character's width as a share of the font size: an upper estimate, measured on DejaVu Sans
/// (the widest of the fonts `system-ui` resolves to), so text laid out by it never runs past
/// its room on any of them.
fn char_width(c: char) -> f32 {
    match c {
        'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '!' | '|' | ' ' | '·' => 0.34,
        'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '-' | '"' => 0.44,
        'm' | 'w' | 'M' | 'W' | '%' => 0.98,
        '0'..='9' => 0.64,
        'A'..='Z' => 0.76,
        c if c.is_ascii() => 0.64,
        _ => 0.8,
    }
}

/// The width `text` takes at `size` px (an upper estimate; see `char_width`).
pub fn text_width(text: &str, size: f32) -> f32 {
    text.chars().map(char_width).sum::<f32>() * size
}

/// The distance between the middles of two lines of text at `size` px.
pub fn line_height(size: f32) -> f32 {
    (size * 1.35).round()
}

/// The longest start of `chars` that fits `max_width` at `size` (at least one character).
fn fitting(chars: &[char], size: f32, max_width: f32) -> usize {
    let mut width = 0.0;
    for (idx, &c) in chars.iter().enumerate() {
        width += char_width(c) * size;
        if width > max_width {
            return idx.max(1);
        }
    }
    chars.len()
}

/// `text` broken into lines of at most `max_width` px at `size` px, at spaces where it can be
/// (a word longer than a line is cut).
pub fn wrap(text: &str, size: f32, max_width: f32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        while text_width(&word.iter().collect::<String>(), size) > max_width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let cut = fitting(&word, size, max_width);
            lines.push(word.drain(..cut).collect());
        }
        let word: String = word.into_iter().collect();
        let joined = format!("{line} {word}");
        if line.is_empty() {
            line = word;
        } else if text_width(&joined, size) > max_width {
            lines.push(std::mem::replace(&mut line, word));
        } else {
            line = joined;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// `text` cut to fit `max_width` px at `size` px, ending in "…" when cut.
pub fn fit(text: &str, size: f32, max_width: f32) -> String {
    if text_width(text, size) <= max_width {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let keep = fitting(&chars, size, (max_width - char_width('…') * size).max(0.0));
    let mut cut: String = chars[..keep.min(chars.len())].iter().collect();
    cut.push('…');
    cut
}

impl Item {
    /// The box (x0, y0, x1, y1) the item covers, text by its estimated width; None for lines.
    pub fn bounds(&self) -> Option<(f32, f32, f32, f32)> {
        match self {
            Item::Rect { x, y, w, h, .. } | Item::Image { x, y, w, h, .. } => Some((*x, *y, x + w, y + h)),
            Item::Text { x, y, text, size, align, .. } => {
                let width = text_width(text, *size);
                let left = match align {
                    Align::Left => *x,
                    Align::Center => x - width / 2.0,
                    Align::Right => x - width,
                };
                Some((left, y - size / 2.0, left + width, y + size / 2.0))
            }
            Item::Line { .. } => None,
        }
    }
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

    /// An image at its own size.
    pub fn image(&mut self, x: f32, y: f32, image: Rgba) {
        let (w, h) = (image.width as f32, image.height as f32);
        self.items.push(Item::Image { x, y, w, h, image });
    }

    /// An image shown `w × h` scene pixels large.
    pub fn image_sized(&mut self, x: f32, y: f32, w: f32, h: f32, image: Rgba) {
        self.items.push(Item::Image { x, y, w, h, image });
    }

    /// `text` wrapped to `max_width` px, its first line's top at `top`; returns the y below the
    /// last line.
    pub fn paragraph(&mut self, x: f32, top: f32, text: &str, size: f32, colour: Colour, max_width: f32) -> f32 {
        let step = line_height(size);
        let mut y = top;
        for line in wrap(text, size, max_width) {
            self.text(x, y + step / 2.0, line, size, colour, Align::Left);
            y += step;
        }
        y
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

/// The widths a panel is laid out for, in CSS pixels: narrower or wider asks are clamped.
pub const MIN_WIDTH: usize = 280;
pub const MAX_WIDTH: usize = 1600;

/// A width from the page (CSS pixels, maybe fractional, maybe nonsense) as a panel width:
/// whole pixels within `MIN_WIDTH..=MAX_WIDTH` (what is not a number is the minimum).
pub fn clamp_width(width: f64) -> usize {
    if width.is_nan() {
        return MIN_WIDTH;
    }
    (width.floor().clamp(MIN_WIDTH as f64, MAX_WIDTH as f64)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_at_spaces_within_its_width() {
        // At 10 px a digit is 6.4 px: 64 px hold 10 digits.
        assert!((text_width("0123456789", 10.0) - 64.0).abs() < 1e-4);
        assert!(text_width("mmm", 10.0) > text_width("iii", 10.0) * 2.0, "wide letters count wide");
        let cases: [(&str, f32, &[&str]); 4] = [
            ("12345", 64.0, &["12345"]),
            ("1234 5678 9012", 64.0, &["1234 5678", "9012"]),
            ("0123456789012345", 64.0, &["0123456789", "012345"]),
            ("", 64.0, &[""]),
        ];
        for (text, width, want) in cases {
            let lines = wrap(text, 10.0, width);
            assert_eq!(lines, want, "{text:?}");
            assert!(lines.iter().all(|l| text_width(l, 10.0) <= width + 1e-3), "{lines:?}");
        }
        assert_eq!(fit("1234567890", 10.0, 41.0), "12345…");
        assert_eq!(fit("12345", 10.0, 40.0), "12345");
        let mut scene = Scene::new(100, 100);
        let below = scene.paragraph(4.0, 10.0, "1234 5678 9012", 10.0, INK, 64.0);
        assert_eq!(below, 10.0 + 2.0 * line_height(10.0));
        let (x0, y0, x1, y1) = scene.items[1].bounds().unwrap();
        assert_eq!((x0, y0, y1), (4.0, 10.0 + 1.5 * line_height(10.0) - 5.0, 10.0 + 1.5 * line_height(10.0) + 5.0));
        assert!((x1 - (4.0 + 25.6)).abs() < 1e-4, "{x1}");
    }

    /// CIE L*a*b* of an sRGB colour (D65), for judging how alike two colours look.
    fn lab(c: Colour) -> [f64; 3] {
        let linear = |u: u8| {
            let u = u as f64 / 255.0;
            if u > 0.04045 { ((u + 0.055) / 1.055).powf(2.4) } else { u / 12.92 }
        };
        let (r, g, b) = (linear(c[0]), linear(c[1]), linear(c[2]));
        let (x, y, z) = ((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b, (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883);
        let f = |t: f64| if t > 0.008856 { t.cbrt() } else { 7.787 * t + 16.0 / 116.0 };
        [116.0 * f(y) - 16.0, 500.0 * (f(x) - f(y)), 200.0 * (f(y) - f(z))]
    }

    /// The scatter tells the classes apart by colour: no two look alike (ΔE*76 ≥ 25), and the
    /// 1s and the 8s of the conv preset are not two greens (8 is the one white).
    #[test]
    fn class_colours_look_different() {
        let hue = |l: [f64; 3]| l[2].atan2(l[1]).to_degrees();
        let chroma = |l: [f64; 3]| l[1].hypot(l[2]);
        for (i, a) in CLASS_COLOURS.iter().enumerate() {
            for (j, b) in CLASS_COLOURS.iter().enumerate().skip(i + 1) {
                let (p, q) = (lab(*a), lab(*b));
                let delta = ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt();
                assert!(delta >= 25.0, "{i} and {j}: ΔE {delta:.1}");
            }
        }
        let (one, eight) = (lab(CLASS_COLOURS[1]), lab(CLASS_COLOURS[8]));
        let apart = (hue(one) - hue(eight)).abs() % 360.0;
        assert!(chroma(eight) < 10.0 || apart.min(360.0 - apart) >= 60.0, "1 and 8 share a hue");
    }
}
