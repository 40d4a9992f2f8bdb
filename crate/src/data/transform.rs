//! Transforms any experiment can apply to a digits dataset: keep chosen classes, and resize
//! every image bilinearly (seed 001 scales 28×28 digits up to 36×36).

use super::dataset::Dataset;
use crate::budget::BUDGET;

/// The images whose label is one of `classes`, in their original order.
pub fn keep_classes(data: &Dataset, classes: &[u8]) -> Result<Dataset, String> {
    let labels = data.labels.as_ref().ok_or("keeping chosen classes needs labelled images")?;
    if let Some(bad) = classes.iter().find(|&&c| c > 9) {
        return Err(format!("class {bad} is not a digit 0-9"));
    }
    let kept: Vec<usize> = (0..data.n_images).filter(|&i| classes.contains(&labels[i])).collect();
    if kept.is_empty() {
        return Err(format!("no images of classes {classes:?}"));
    }
    Ok(data.subset(&kept))
}

/// Every image resized to `width × height` by bilinear interpolation, with pixel centres
/// aligned (source coordinate = (x + 0.5) · w_in / w_out − 0.5, clamped to the image).
pub fn resize_bilinear(data: &Dataset, width: usize, height: usize) -> Result<Dataset, String> {
    if width == 0 || height == 0 || width > 1024 || height > 1024 {
        return Err(format!("resize: {width}x{height} is not a size between 1x1 and 1024x1024"));
    }
    let n_values = (data.n_images as u64).saturating_mul(width as u64).saturating_mul(height as u64);
    BUDGET.judge_data(&format!("resizing {} images to {width}×{height}", data.n_images), n_values)?;
    let (w_in, h_in) = (data.width, data.height);
    // Per output column (row): the two source columns (rows) and the weight of the second.
    let taps = |n_out: usize, n_in: usize| -> Vec<(usize, usize, f32)> {
        (0..n_out)
            .map(|o| {
                let src = ((o as f32 + 0.5) * n_in as f32 / n_out as f32 - 0.5).clamp(0.0, (n_in - 1) as f32);
                let lo = src.floor() as usize;
                let hi = (lo + 1).min(n_in - 1);
                (lo, hi, src - lo as f32)
            })
            .collect()
    };
    let (xs, ys) = (taps(width, w_in), taps(height, h_in));
    let mut pixels = Vec::with_capacity(data.n_images * width * height);
    for image_idx in 0..data.n_images {
        let img = data.image(image_idx);
        for &(y0, y1, fy) in &ys {
            for &(x0, x1, fx) in &xs {
                let top = img[y0 * w_in + x0] * (1.0 - fx) + img[y0 * w_in + x1] * fx;
                let bottom = img[y1 * w_in + x0] * (1.0 - fx) + img[y1 * w_in + x1] * fx;
                pixels.push(top * (1.0 - fy) + bottom * fy);
            }
        }
    }
    let mut resized = Dataset::new(width, height, pixels, data.labels.clone());
    (resized.first_part, resized.arriving) = (data.first_part, data.arriving);
    Ok(resized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_chosen_classes() {
        let data = Dataset::new(1, 1, (0..10).map(|i| i as f32).collect(), Some((0..10).collect()));
        let ones_and_eights = keep_classes(&data, &[1, 8]).unwrap();
        assert_eq!(ones_and_eights.pixels, vec![1.0, 8.0]);
        assert_eq!(ones_and_eights.labels, Some(vec![1, 8]));
        assert!(keep_classes(&data, &[12]).unwrap_err().contains("not a digit"));
        let unlabelled = Dataset::new(1, 1, vec![0.0], None);
        assert!(keep_classes(&unlabelled, &[1]).is_err());
    }

    #[test]
    fn bilinear_resizing() {
        // A constant image stays constant; the same size is the identity.
        let flat = Dataset::new(3, 3, vec![0.25; 9], None);
        assert!(resize_bilinear(&flat, 7, 5).unwrap().pixels.iter().all(|&v| (v - 0.25).abs() < 1e-6));
        let ramp = Dataset::new(4, 1, vec![0.0, 1.0, 2.0, 3.0], None);
        assert_eq!(resize_bilinear(&ramp, 4, 1).unwrap().pixels, vec![0.0, 1.0, 2.0, 3.0]);
        // Doubling a 2-pixel ramp [0, 1]: output centres map to source −0.25, 0.25, 0.75, 1.25,
        // clamped to [0, 1]: values 0, 0.25, 0.75, 1.
        let two = Dataset::new(2, 1, vec![0.0, 1.0], None);
        assert_eq!(resize_bilinear(&two, 4, 1).unwrap().pixels, vec![0.0, 0.25, 0.75, 1.0]);
        // 28×28 → 36×36 keeps labels and the ink's total roughly in proportion to the area.
        let mut digit = vec![0.0; 784];
        (8..20).for_each(|r| digit[r * 28 + 14] = 1.0);
        let big = resize_bilinear(&Dataset::new(28, 28, digit, Some(vec![1])), 36, 36).unwrap();
        assert_eq!((big.width, big.height, big.labels.clone()), (36, 36, Some(vec![1])));
        let ink: f32 = big.pixels.iter().sum();
        let want = 12.0 * (36.0f32 / 28.0).powi(2);
        assert!((ink - want).abs() < 0.15 * want, "ink {ink} vs {want}");
        assert!(resize_bilinear(&two, 0, 1).is_err());
    }
}
