//! What a representation knows about the labels, measured two ways on the same features: a
//! linear probe (least squares from the features, plus a constant, onto one-hot labels, with a
//! small ridge; the predicted class is the largest output) and k-nearest-neighbour voting. Both
//! are fit on training features and scored on validation features. Features are rows
//! (n, dim) of f32; sums run in f64.

use super::matmul::{gemm, Op};

/// Share of `valid` rows a least-squares linear map fit on `train` classifies right.
pub fn linear_accuracy(train: &[f32], train_labels: &[u8], valid: &[f32], valid_labels: &[u8], dim: usize, n_classes: usize) -> f64 {
    let weights = fit_linear(train, train_labels, dim, n_classes);
    // Only classes some training digit has can be answered (1s and 8s are not 0s to 9s).
    let mut present = vec![false; n_classes];
    train_labels.iter().for_each(|&l| present[l as usize] = true);
    let right = valid.chunks_exact(dim).zip(valid_labels).filter(|(row, &label)| argmax_linear(&weights, row, &present) == label as usize).count();
    right as f64 / valid_labels.len().max(1) as f64
}

/// The ridge solution W ((dim + 1), n_classes) of min Σ ‖[x, 1]·W − onehot(y)‖² + λ‖W‖²,
/// λ a millionth of the mean diagonal of XᵀX (enough to make it positive definite). XᵀX and
/// XᵀY are matrix products (f32, exact enough for features of moderate size); the solve is f64.
fn fit_linear(train: &[f32], labels: &[u8], dim: usize, n_classes: usize) -> Vec<f64> {
    let (n, d) = (labels.len(), dim + 1);
    let mut x = Vec::with_capacity(n * d); // (n, d): the features and a constant 1
    for row in train.chunks_exact(dim) {
        x.extend_from_slice(row);
        x.push(1.0);
    }
    let mut y = vec![0.0f32; n * n_classes]; // (n, n_classes) one-hot
    labels.iter().enumerate().for_each(|(i, &l)| y[i * n_classes + l as usize] = 1.0);
    let mut gram32 = vec![0.0f32; d * d];
    gemm(d, n, d, &x, Op::T, &x, Op::N, 0.0, &mut gram32);
    let mut rhs32 = vec![0.0f32; d * n_classes];
    gemm(d, n, n_classes, &x, Op::T, &y, Op::N, 0.0, &mut rhs32);
    let mut gram: Vec<f64> = gram32.iter().map(|&v| v as f64).collect();
    let mut rhs: Vec<f64> = rhs32.iter().map(|&v| v as f64).collect();
    let ridge = 1e-6 * (0..d).map(|i| gram[i * d + i]).sum::<f64>() / d as f64 + 1e-12;
    (0..d).for_each(|i| gram[i * d + i] += ridge);
    cholesky_solve(&mut gram, &mut rhs, d, n_classes, ridge);
    rhs
}

/// Solve A X = B in place for symmetric positive definite A (d, d); B (d, m) becomes X. A
/// feature the ones before it already explain (pixels that always move together, whose f32
/// Gram matrix leaves a pivot of rounding noise) gets no weight: its pivot is taken as
/// infinite rather than dividing by that noise, which once blew the solution up to NaN.
fn cholesky_solve(a: &mut [f64], b: &mut [f64], d: usize, m: usize, floor: f64) {
    // A = L Lᵀ, L in the lower triangle of a.
    for j in 0..d {
        let own = a[j * d + j];
        let mut diag = a[j * d + j] - (0..j).map(|k| a[j * d + k] * a[j * d + k]).sum::<f64>();
        diag = if diag > 1e-6 * own + floor { diag.sqrt() } else { f64::INFINITY };
        a[j * d + j] = diag;
        for i in j + 1..d {
            let sum = a[i * d + j] - (0..j).map(|k| a[i * d + k] * a[j * d + k]).sum::<f64>();
            a[i * d + j] = sum / diag;
        }
    }
    for col in 0..m {
        // L y = b, then Lᵀ x = y.
        for i in 0..d {
            let sum = b[i * m + col] - (0..i).map(|k| a[i * d + k] * b[k * m + col]).sum::<f64>();
            b[i * m + col] = sum / a[i * d + i];
        }
        for i in (0..d).rev() {
            let sum = b[i * m + col] - (i + 1..d).map(|k| a[k * d + i] * b[k * m + col]).sum::<f64>();
            b[i * m + col] = sum / a[i * d + i];
        }
    }
}

/// The class of `present` with the highest score.
fn argmax_linear(weights: &[f64], x: &[f32], present: &[bool]) -> usize {
    let (dim, n_classes) = (x.len(), present.len());
    let score = |c: usize| x.iter().enumerate().map(|(i, &v)| v as f64 * weights[i * n_classes + c]).sum::<f64>() + weights[dim * n_classes + c];
    (0..n_classes).filter(|&c| present[c]).map(|c| (c, score(c))).fold((0, f64::NEG_INFINITY), |best, (c, s)| if s > best.1 { (c, s) } else { best }).0
}

/// Share of `valid` rows whose `k` nearest `train` rows (squared Euclidean distance, ties to
/// the lower index) vote for their label; a tied vote goes to the class of the nearest voter.
pub fn knn_accuracy(train: &[f32], train_labels: &[u8], valid: &[f32], valid_labels: &[u8], dim: usize, k: usize) -> f64 {
    let (n_train, n_valid) = (train_labels.len(), valid_labels.len());
    if n_train == 0 || n_valid == 0 {
        return 0.0;
    }
    // ‖v − t‖² = ‖v‖² + ‖t‖² − 2 v·t, the cross terms as one matrix product (n_valid, n_train).
    let mut cross = vec![0.0f32; n_valid * n_train];
    gemm(n_valid, dim, n_train, valid, Op::N, train, Op::T, 0.0, &mut cross);
    let norms = |rows: &[f32]| -> Vec<f64> { rows.chunks_exact(dim).map(|r| r.iter().map(|&v| (v as f64) * (v as f64)).sum()).collect() };
    let (train_norms, valid_norms) = (norms(train), norms(valid));
    let k = k.clamp(1, n_train);
    let mut right = 0;
    let mut order: Vec<(f64, usize)> = Vec::with_capacity(n_train);
    for (v, &label) in valid_labels.iter().enumerate() {
        order.clear();
        order.extend((0..n_train).map(|t| (valid_norms[v] + train_norms[t] - 2.0 * cross[v * n_train + t] as f64, t)));
        order.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let nearest = &mut order[..k];
        nearest.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut votes = [0usize; 256];
        nearest.iter().for_each(|&(_, t)| votes[train_labels[t] as usize] += 1);
        let most = *votes.iter().max().expect("256 classes");
        // The first voter (the nearest) whose class has the most votes decides a tie.
        let winner = nearest.iter().map(|&(_, t)| train_labels[t]).find(|&c| votes[c as usize] == most).expect("k ≥ 1");
        if winner == label {
            right += 1;
        }
    }
    right as f64 / n_valid as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worked example small enough to do by hand. Training points on a line, x = 0, 1, 3, 4
    /// with labels 0, 0, 1, 1; validation x = 0.5 (label 0), 2.4 (label 1), 1.9 (label 1).
    /// Least squares onto one-hot, for class 1: mean x = 2, Σ(x − 2)² = 10 and
    /// Σ(x − 2)(y₁ − ½) = (−2)(−½) + (−1)(−½) + (1)(½) + (2)(½) = 3, so the slope is 0.3 and
    /// y₁ = ½ + 0.3 (x − 2); y₀ = 1 − y₁, so class 1 wins where y₁ > ½, x > 2: the probe
    /// gets 0.5 → 0 and 2.4 → 1 right and 1.9 → 0 wrong: 2/3. The 1-nearest neighbours are
    /// 0 (label 0), 3 (label 1) and 1 (label 0): 2/3 as well; with k = 3, 1.9's neighbours are
    /// 1, 3 and 0 (distances 0.9, 1.1, 1.9): two 0s, wrong again; 2.4's are 3, 1, 4: two 1s.
    /// Two classes labelled 1 and 8 only (as the conv preset's digits are), on images with
    /// constant border pixels and more pixels than digits: the probe separates them, and never
    /// answers a class no training digit has (it once read 0.0 % here, every answer a 0).
    #[test]
    fn two_classes_with_sparse_labels_and_dead_pixels_are_probed() {
        let (side, n) = (36usize, 300usize);
        let image = |i: usize| -> (Vec<f32>, u8) {
            let label = if i % 2 == 0 { 1u8 } else { 8 };
            let mut px = vec![0.0f32; side * side];
            for r in 6..30 {
                for c in 6..30 {
                    let stroke = if label == 1 { (c as i32 - 18).abs() <= 1 } else { ((r as f32 - 18.0).hypot(c as f32 - 18.0) - 9.0).abs() < 1.5 };
                    if stroke {
                        px[r * side + c] = 0.6 + 0.4 * ((i * 7 + r * 3 + c) % 5) as f32 / 5.0;
                    }
                }
            }
            (px, label)
        };
        let (train, train_labels): (Vec<Vec<f32>>, Vec<u8>) = (0..n).map(image).unzip();
        let (valid, valid_labels): (Vec<Vec<f32>>, Vec<u8>) = (n..n + 100).map(image).unzip();
        assert!(fit_linear(&train.concat(), &train_labels, side * side, 9).iter().all(|w| w.is_finite()));
        let accuracy = linear_accuracy(&train.concat(), &train_labels, &valid.concat(), &valid_labels, side * side, 9);
        assert!(accuracy > 0.95, "{accuracy}");
    }

    #[test]
    fn probes_agree_with_a_worked_example() {
        let train = [0.0f32, 1.0, 3.0, 4.0];
        let train_labels = [0u8, 0, 1, 1];
        let valid = [0.5f32, 2.4, 1.9];
        let valid_labels = [0u8, 1, 1];
        assert!((linear_accuracy(&train, &train_labels, &valid, &valid_labels, 1, 2) - 2.0 / 3.0).abs() < 1e-12);
        let weights = fit_linear(&train, &train_labels, 1, 2);
        // y₁ = ½ + 0.3 (x − 2) = −0.1 + 0.3 x: slope 0.3, constant −0.1 (the ridge is tiny).
        assert!((weights[1] - 0.3).abs() < 1e-4 && (weights[3] + 0.1).abs() < 1e-4, "{weights:?}");
        assert!((knn_accuracy(&train, &train_labels, &valid, &valid_labels, 1, 1) - 2.0 / 3.0).abs() < 1e-12);
        assert!((knn_accuracy(&train, &train_labels, &valid, &valid_labels, 1, 3) - 2.0 / 3.0).abs() < 1e-12);
    }

    /// Two well separated blobs in 3-D are classified perfectly by both probes; features
    /// carrying no information score about chance.
    #[test]
    fn probes_see_structure_and_not_noise() {
        let mut rng = crate::rng::Rng::from_seed(3);
        let blob = |n: usize, centre: f32, rng: &mut crate::rng::Rng| -> Vec<f32> { (0..n * 3).map(|_| centre + 0.3 * rng.normal()).collect() };
        let (a, b) = (blob(50, 0.0, &mut rng), blob(50, 3.0, &mut rng));
        let train: Vec<f32> = a[..120].iter().chain(&b[..120]).copied().collect();
        let train_labels: Vec<u8> = [vec![0; 40], vec![1; 40]].concat();
        let valid: Vec<f32> = a[120..].iter().chain(&b[120..]).copied().collect();
        let valid_labels: Vec<u8> = [vec![0; 10], vec![1; 10]].concat();
        assert_eq!(linear_accuracy(&train, &train_labels, &valid, &valid_labels, 3, 2), 1.0);
        assert_eq!(knn_accuracy(&train, &train_labels, &valid, &valid_labels, 3, 5), 1.0);
        let noise: Vec<f32> = (0..2000 * 2).map(|_| rng.normal()).collect();
        let labels: Vec<u8> = (0..2000).map(|_| rng.below(10) as u8).collect();
        let acc = knn_accuracy(&noise[..3000], &labels[..1500], &noise[3000..], &labels[1500..], 2, 5);
        assert!(acc < 0.2, "{acc}");
    }
}
