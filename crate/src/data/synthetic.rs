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
