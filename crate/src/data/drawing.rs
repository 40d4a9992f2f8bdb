//! A digit drawn with a pointer, made into an input the way MNIST's digits were made: the
//! strokes are drawn thick and anti-aliased, the ink's bounding box is scaled (keeping its
//! aspect) to fit a 20 × 20 box, and that is placed in a 28 × 28 image with its centre of mass
//! at the centre. Sizes are judged before anything is drawn.

/// Points in all strokes at most, and the pad's sides at most (pad units).
pub const MAX_POINTS: usize = 20_000;
pub const MAX_SIDE: f32 = 4096.0;
/// MNIST: 28 × 28 images, the digit inside a 20 × 20 box.
pub const SIDE: usize = 28;
pub const BOX: usize = 20;
/// The strokes are drawn at this resolution before they are scaled down.
const WORK: usize = 112;

/// The drawing as a 28 × 28 image in [0, 1] (row-major), or None when nothing is drawn.
/// `strokes` are polylines in pad coordinates, on a pad `size` = [width, height] units, drawn
/// `pen` units wide.
pub fn digitize(strokes: &[Vec<[f32; 2]>], size: [f32; 2], pen: f32) -> Result<Option<Vec<f32>>, String> {
    let points: usize = strokes.iter().map(Vec::len).sum();
    if points > MAX_POINTS {
        return Err(format!("the drawing has {points} points, more than the {MAX_POINTS} a digit needs"));
    }
    let [w, h] = size;
    if !(w.is_finite() && h.is_finite() && w > 0.0 && h > 0.0 && w <= MAX_SIDE && h <= MAX_SIDE) || !(pen.is_finite() && pen > 0.0 && pen <= w.max(h)) {
        return Err(format!("a drawing pad of {w} × {h} with a {pen}-unit pen is not one this page makes"));
    }
    if strokes.iter().flatten().any(|p| !(p[0].is_finite() && p[1].is_finite())) {
        return Err("a point of the drawing is not a number".into());
    }
    // Draw at WORK × WORK over the pad's larger side, each pixel covered by the nearest
    // segment's distance: full within the pen's radius, fading over one pixel.
    let scale = WORK as f32 / w.max(h);
    let radius = (pen * scale / 2.0).max(0.5);
    let mut canvas = vec![0.0f32; WORK * WORK];
    for stroke in strokes {
        let pts: Vec<(f32, f32)> = stroke.iter().map(|p| (p[0] * scale, p[1] * scale)).collect();
        let segments: Vec<((f32, f32), (f32, f32))> = if pts.len() == 1 { vec![(pts[0], pts[0])] } else { pts.windows(2).map(|s| (s[0], s[1])).collect() };
        for (a, b) in segments {
            let (x0, x1) = ((a.0.min(b.0) - radius - 1.0).floor().max(0.0) as usize, ((a.0.max(b.0) + radius + 1.0).ceil() as usize).min(WORK));
            let (y0, y1) = ((a.1.min(b.1) - radius - 1.0).floor().max(0.0) as usize, ((a.1.max(b.1) + radius + 1.0).ceil() as usize).min(WORK));
            for y in y0..y1 {
                for x in x0..x1 {
                    let d = distance_to_segment((x as f32 + 0.5, y as f32 + 0.5), a, b);
                    let cover = (radius + 0.5 - d).clamp(0.0, 1.0);
                    let cell = &mut canvas[y * WORK + x];
                    *cell = cell.max(cover);
                }
            }
        }
    }
    Ok(normalize(&canvas, WORK, WORK))
}

/// A picture (RGBA bytes, `width` × `height`) of a digit, made into an MNIST-like image: grey
/// levels, inverted when the background is light (ink on paper), stretched to [0, 1], then
/// boxed and centred as a drawing is. None when it holds no ink.
pub fn from_picture(width: usize, height: usize, rgba: &[u8]) -> Result<Option<Vec<f32>>, String> {
    if width == 0 || height == 0 || width as f32 > MAX_SIDE || height as f32 > MAX_SIDE {
        return Err(format!("a picture of {width} × {height} pixels is not one a digit comes in (at most {MAX_SIDE} a side)"));
    }
    if rgba.len() as u64 != 4 * width as u64 * height as u64 {
        return Err(format!("a {width} × {height} picture has {} bytes of colour, not 4 a pixel", rgba.len()));
    }
    let grey: Vec<f32> = rgba.chunks_exact(4).map(|p| (0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32) / 255.0 * (p[3] as f32 / 255.0) + (1.0 - p[3] as f32 / 255.0)).collect();
    // The border is the background: ink is whatever differs from it.
    let border: Vec<f32> = (0..width).flat_map(|x| [grey[x], grey[(height - 1) * width + x]]).chain((0..height).flat_map(|y| [grey[y * width], grey[y * width + width - 1]])).collect();
    let background = border.iter().sum::<f32>() / border.len() as f32;
    let ink: Vec<f32> = grey.iter().map(|&g| if background > 0.5 { background - g } else { g - background }).map(|v| v.max(0.0)).collect();
    let peak = ink.iter().copied().fold(0.0f32, f32::max);
    if peak < 0.1 {
        return Ok(None);
    }
    // Faint specks below a fifth of the ink's strength are paper, not ink.
    let canvas: Vec<f32> = ink.iter().map(|&v| if v < 0.2 * peak { 0.0 } else { v / peak }).collect();
    Ok(normalize(&canvas, width, height))
}

/// Ink on a `width` × `height` canvas, MNIST's way: its bounding box scaled (by area averaging,
/// keeping the aspect) to fit BOX × BOX, placed in SIDE × SIDE with its centre of mass at the
/// centre. None without ink.
fn normalize(canvas: &[f32], width: usize, height: usize) -> Option<Vec<f32>> {
    let inked: Vec<(usize, usize)> = (0..width * height).filter(|&i| canvas[i] > 0.0).map(|i| (i % width, i / width)).collect();
    let &(first_x, first_y) = inked.first()?;
    let (mut left, mut right, mut top, mut bottom) = (first_x, first_x, first_y, first_y);
    for &(x, y) in &inked {
        (left, right, top, bottom) = (left.min(x), right.max(x), top.min(y), bottom.max(y));
    }
    let (bw, bh) = (right - left + 1, bottom - top + 1);
    let factor = BOX as f32 / bw.max(bh) as f32;
    let (sw, sh) = (((bw as f32 * factor).round() as usize).clamp(1, BOX), ((bh as f32 * factor).round() as usize).clamp(1, BOX));
    let mut small = vec![0.0f32; sw * sh];
    for (sy, row) in small.chunks_exact_mut(sw).enumerate() {
        for (sx, cell) in row.iter_mut().enumerate() {
            // The source rectangle of this cell, averaged with fractional coverage.
            let (fx0, fx1) = (left as f32 + sx as f32 * bw as f32 / sw as f32, left as f32 + (sx + 1) as f32 * bw as f32 / sw as f32);
            let (fy0, fy1) = (top as f32 + sy as f32 * bh as f32 / sh as f32, top as f32 + (sy + 1) as f32 * bh as f32 / sh as f32);
            let (mut sum, mut area) = (0.0, 0.0);
            for y in fy0.floor() as usize..(fy1.ceil() as usize).min(height) {
                let wy = (fy1.min(y as f32 + 1.0) - fy0.max(y as f32)).max(0.0);
                for x in fx0.floor() as usize..(fx1.ceil() as usize).min(width) {
                    let wx = (fx1.min(x as f32 + 1.0) - fx0.max(x as f32)).max(0.0);
                    sum += canvas[y * width + x] * wx * wy;
                    area += wx * wy;
                }
            }
            *cell = if area > 0.0 { sum / area } else { 0.0 };
        }
    }
    // Its centre of mass goes to the image's centre (a whole-pixel shift, as for MNIST).
    let mass: f32 = small.iter().sum();
    let (cx, cy) = small.iter().enumerate().fold((0.0, 0.0), |(ax, ay), (i, &v)| (ax + v * (i % sw) as f32, ay + v * (i / sw) as f32));
    let (cx, cy) = if mass > 0.0 { (cx / mass, cy / mass) } else { ((sw - 1) as f32 / 2.0, (sh - 1) as f32 / 2.0) };
    let centre = (SIDE as f32 - 1.0) / 2.0;
    let (dx, dy) = ((centre - cx).round() as i64, (centre - cy).round() as i64);
    let mut image = vec![0.0f32; SIDE * SIDE];
    for (i, &v) in small.iter().enumerate() {
        let (x, y) = ((i % sw) as i64 + dx, (i / sw) as i64 + dy);
        if (0..SIDE as i64).contains(&x) && (0..SIDE as i64).contains(&y) {
            image[y as usize * SIDE + x as usize] = v.clamp(0.0, 1.0);
        }
    }
    Some(image)
}

fn distance_to_segment(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    let (vx, vy) = (b.0 - a.0, b.1 - a.1);
    let length2 = vx * vx + vy * vy;
    let t = if length2 > 0.0 { (((p.0 - a.0) * vx + (p.1 - a.1) * vy) / length2).clamp(0.0, 1.0) } else { 0.0 };
    let (qx, qy) = (a.0 + t * vx - p.0, a.1 + t * vy - p.1);
    (qx * qx + qy * qy).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centre_of_mass(image: &[f32]) -> (f32, f32) {
        let mass: f32 = image.iter().sum();
        let (x, y) = image.iter().enumerate().fold((0.0, 0.0), |(ax, ay), (i, &v)| (ax + v * (i % SIDE) as f32, ay + v * (i / SIDE) as f32));
        (x / mass, y / mass)
    }

    fn ink_box(image: &[f32]) -> (usize, usize) {
        let inked: Vec<usize> = (0..image.len()).filter(|&i| image[i] > 0.05).collect();
        let xs = inked.iter().map(|i| i % SIDE);
        let ys = inked.iter().map(|i| i / SIDE);
        (xs.clone().max().unwrap() - xs.min().unwrap() + 1, ys.clone().max().unwrap() - ys.min().unwrap() + 1)
    }

    /// A "1" drawn small in a corner of the pad comes out as MNIST draws a 1: at most 20
    /// pixels tall, centred on its centre of mass, bright in the middle of the stroke.
    #[test]
    fn a_stroke_anywhere_becomes_a_centred_mnist_digit() {
        let one = vec![vec![[30.0, 20.0], [32.0, 80.0]]];
        let image = digitize(&one, [280.0, 280.0], 20.0).unwrap().unwrap();
        let (w, h) = ink_box(&image);
        assert!(h == BOX && w < 10, "a tall thin box: {w} × {h}");
        let (cx, cy) = centre_of_mass(&image);
        assert!((cx - 13.5).abs() <= 0.5 && (cy - 13.5).abs() <= 0.5, "centre of mass ({cx}, {cy})");
        assert!(image.iter().any(|&v| v > 0.95), "full ink along the stroke");
        // A circle fills the 20 × 20 box both ways; a dot is a blob, not an error.
        let ring: Vec<[f32; 2]> = (0..=64).map(|i| {
            let a = i as f32 / 64.0 * std::f32::consts::TAU;
            [140.0 + 90.0 * a.cos(), 140.0 + 90.0 * a.sin()]
        }).collect();
        let (w, h) = ink_box(&digitize(&[ring], [280.0, 280.0], 20.0).unwrap().unwrap());
        assert!((19..=20).contains(&w) && (19..=20).contains(&h), "{w} × {h}");
        assert!(digitize(&[vec![[5.0, 5.0]]], [280.0, 280.0], 20.0).unwrap().is_some());
        assert_eq!(digitize(&[], [280.0, 280.0], 20.0).unwrap(), None, "nothing drawn");
    }

    #[test]
    fn drawings_that_no_pad_makes_are_refused() {
        let check = |strokes: &[Vec<[f32; 2]>], size: [f32; 2], pen: f32, fragment: &str| {
            let err = digitize(strokes, size, pen).unwrap_err();
            assert!(err.contains(fragment), "{err:?} should mention {fragment:?}");
        };
        check(&[vec![[0.0, 0.0]; MAX_POINTS + 1]], [280.0, 280.0], 20.0, "more than the 20000");
        check(&[], [0.0, 280.0], 20.0, "not one this page makes");
        check(&[], [1e9, 280.0], 20.0, "not one this page makes");
        check(&[], [280.0, 280.0], f32::NAN, "not one this page makes");
        check(&[vec![[f32::INFINITY, 0.0]]], [280.0, 280.0], 20.0, "not a number");
    }

    /// A photo of dark ink on light paper and a light-on-dark scan of the same stroke come
    /// out the same; blank paper holds no digit.
    #[test]
    fn pictures_of_digits_either_way_round_become_the_same_input() {
        let (w, h) = (60, 90);
        let picture = |ink: u8, paper: u8| -> Vec<u8> {
            (0..w * h).flat_map(|i| {
                let (x, y) = (i % w, i / w);
                let v = if (27..33).contains(&x) && (10..80).contains(&y) { ink } else { paper };
                [v, v, v, 255]
            }).collect()
        };
        let on_paper = from_picture(w, h, &picture(20, 235)).unwrap().unwrap();
        let scanned = from_picture(w, h, &picture(255, 0)).unwrap().unwrap();
        assert_eq!(on_paper, scanned);
        assert_eq!(ink_box(&on_paper).1, BOX);
        assert_eq!(from_picture(w, h, &picture(235, 235)).unwrap(), None);
        assert!(from_picture(w, h, &[0; 7]).unwrap_err().contains("not 4 a pixel"));
        assert!(from_picture(5000, 1, &[]).unwrap_err().contains("at most 4096"));
    }
}
