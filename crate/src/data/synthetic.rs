//! Small synthetic digit sets for tests and demos that must not depend on the MNIST asset.

/// `n_images` 28×28 "digits": image i has label i % 10 and a vertical bar of `ink` at a column
/// set by its label. Returns (labels, pixels (n_images, 784) as bytes).
pub fn bars(n_images: usize, ink: u8) -> (Vec<u8>, Vec<u8>) {
    let labels: Vec<u8> = (0..n_images).map(|i| (i % 10) as u8).collect();
    let mut pixels = vec![0u8; n_images * 784];
    for (image_idx, &label) in labels.iter().enumerate() {
        for row in 4..24 {
            pixels[image_idx * 784 + row * 28 + 4 + 2 * label as usize] = ink;
        }
    }
    (labels, pixels)
}

use super::dataset::Dataset;
use crate::rng::Rng;

/// `per_class` labelled 28×28 "digits" of each class, class by class as the built-in digits are
/// stored: image i of class d has a vertical bar of 1.0 in column 4 + 2d (rows 4 to 23) and a
/// faint diagonal (0.3 at column (row + i) mod 28), so no two images are the same. The session's
/// tests and the fuzz targets train on these instead of the MNIST asset.
pub fn digits(per_class: usize) -> Dataset {
    let n = 10 * per_class;
    let mut pixels = vec![0.0f32; n * 784];
    let labels: Vec<u8> = (0..n).map(|i| (i / per_class) as u8).collect();
    for (image_idx, &label) in labels.iter().enumerate() {
        let image = &mut pixels[image_idx * 784..(image_idx + 1) * 784];
        for row in 4..24 {
            image[row * 28 + 4 + 2 * label as usize] = 1.0;
            image[row * 28 + (row + image_idx) % 28] += 0.3;
        }
    }
    Dataset::new(28, 28, pixels, Some(labels))
}

/// Seed 004's example: vectors of `dim` numbers of which the first `n_independent` are
/// independent N(0, 1) draws and the other `dim − n_independent` are fixed linear combinations
/// of them (mixing weights N(0, 1/n_independent), drawn once). The data has rank n_independent:
/// a linear autoencoder with that many hidden units can reproduce it exactly, one fewer cannot.
/// Stored as 1-row "images" (width dim, height 1), unlabelled.
pub fn linear_mixtures(n_samples: usize, n_independent: usize, dim: usize, rng: &mut Rng) -> Dataset {
    assert!(n_independent >= 1 && n_independent <= dim);
    let n_mixed = dim - n_independent;
    let scale = (1.0 / n_independent as f64).sqrt() as f32;
    let mixing: Vec<f32> = (0..n_mixed * n_independent).map(|_| rng.normal() * scale).collect(); // (n_mixed, n_independent)
    let mut pixels = Vec::with_capacity(n_samples * dim);
    for _ in 0..n_samples {
        let z: Vec<f32> = (0..n_independent).map(|_| rng.normal()).collect();
        pixels.extend_from_slice(&z);
        for row in mixing.chunks_exact(n_independent) {
            pixels.push(row.iter().zip(&z).map(|(a, b)| a * b).sum());
        }
    }
    Dataset::new(dim, 1, pixels, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Numerical rank by Gaussian elimination with partial pivoting (f64), relative tolerance.
    fn rank(rows: &[f32], n_rows: usize, n_cols: usize) -> usize {
        let mut m: Vec<f64> = rows.iter().map(|&v| v as f64).collect();
        let scale = m.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let (mut rank, mut row) = (0, 0);
        for col in 0..n_cols {
            let pivot = (row..n_rows).max_by(|&a, &b| m[a * n_cols + col].abs().total_cmp(&m[b * n_cols + col].abs()));
            let Some(p) = pivot.filter(|&p| m[p * n_cols + col].abs() > 1e-4 * scale) else { continue };
            for c in 0..n_cols {
                m.swap(row * n_cols + c, p * n_cols + c);
            }
            for r in row + 1..n_rows {
                let f = m[r * n_cols + col] / m[row * n_cols + col];
                for c in col..n_cols {
                    m[r * n_cols + c] -= f * m[row * n_cols + c];
                }
            }
            rank += 1;
            row += 1;
            if row == n_rows {
                break;
            }
        }
        rank
    }

    #[test]
    fn linear_mixtures_have_rank_twenty() {
        let data = linear_mixtures(300, 20, 100, &mut Rng::from_seed(1));
        assert_eq!((data.n_images, data.width, data.height), (300, 100, 1));
        assert_eq!(rank(&data.pixels, 300, 100), 20);
        // Twenty random Gaussian vectors of length 100 alone would have rank 20 too, so check
        // that a full-rank sample is detected as such: the method can fail.
        let mut rng = Rng::from_seed(2);
        let noise: Vec<f32> = (0..300 * 100).map(|_| rng.normal()).collect();
        assert_eq!(rank(&noise, 300, 100), 100);
        let bars = bars(30, 255).1.iter().map(|&b| b as f32).collect::<Vec<_>>();
        assert_eq!(rank(&bars, 30, 784), 10, "ten distinct bar images");
    }
}
