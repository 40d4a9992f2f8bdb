//! Principal component analysis, the linear baseline every autoencoder here is measured against:
//! a k-component PCA is the best linear code of size k. Subspace iteration on the covariance
//! matrix plus a Rayleigh-Ritz step (cyclic Jacobi on the small projected matrix).

use super::matmul::{gemm, Op};

#[derive(Clone, Debug, PartialEq)]
pub struct Pca {
    pub dim: usize,
    pub mean: Vec<f32>,       // (dim)
    pub components: Vec<f32>, // (k, dim), orthonormal rows, largest variance first
    pub variances: Vec<f64>,  // (k), variance along each component
}

/// Extra directions iterated beyond k; they speed up convergence of the top k.
const OVERSAMPLE: usize = 8;
const MAX_ITERATIONS: usize = 150;
const MIN_ITERATIONS: usize = 30;
/// Iterations are capped so one fit costs about this many multiply-adds (large images with
/// many components converge well within the cap thanks to the oversampling).
const WORK_BUDGET: f64 = 1e10;

/// A fit in progress: the covariance, and the subspace iteration so far. `step` does some
/// iterations, so a page can spread a large fit over many short slices of time.
#[derive(Clone, Debug)]
pub struct PcaFitter {
    dim: usize,
    k: usize,
    mean: Vec<f32>,
    cov: Vec<f32>,   // (dim, dim) = Xcᵀ Xc / n
    basis: Vec<f32>, // (block, dim), orthonormal rows
    next: Vec<f32>,  // scratch (block, dim)
    done: usize,
    iterations: usize,
}

impl PcaFitter {
    /// Start fitting the top `k` components of the rows of `data` (n, dim): the mean and the
    /// covariance now (n · dim² multiply-adds), the iterations in `step`.
    pub fn new(data: &[f32], n: usize, dim: usize, k: usize) -> PcaFitter {
        assert_eq!(data.len(), n * dim);
        assert!(n > 0 && k > 0 && k <= dim);
        let mut mean = vec![0.0f64; dim];
        for row in data.chunks_exact(dim) {
            mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v as f64);
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mean: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
        let centred: Vec<f32> = data.chunks_exact(dim).flat_map(|row| row.iter().zip(&mean).map(|(v, m)| v - m)).collect();
        let mut cov = vec![0.0f32; dim * dim];
        gemm(dim, n, dim, &centred, Op::T, &centred, Op::N, 0.0, &mut cov);
        cov.iter_mut().for_each(|c| *c /= n as f32);

        let block = (k + OVERSAMPLE).min(dim);
        // Deterministic start: DCT-II basis vectors, orthonormal and generic for image data.
        let mut basis = vec![0.0f32; block * dim];
        for (j, row) in basis.chunks_exact_mut(dim).enumerate() {
            for (i, v) in row.iter_mut().enumerate() {
                *v = (std::f64::consts::PI * (i as f64 + 0.5) * j as f64 / dim as f64).cos() as f32;
            }
        }
        orthonormalize(&mut basis, dim);
        let iterations = ((WORK_BUDGET / (dim as f64 * dim as f64 * block as f64)) as usize).clamp(MIN_ITERATIONS, MAX_ITERATIONS);
        PcaFitter { dim, k, mean, cov, next: vec![0.0f32; block * dim], basis, done: 0, iterations }
    }

    /// Multiply-adds one iteration costs (for callers that plan their time).
    pub fn work_per_iteration(&self) -> f64 {
        (self.dim * self.dim * (self.basis.len() / self.dim)) as f64
    }

    /// Up to `n` more iterations; true when the fit has had all it needs.
    pub fn step(&mut self, n: usize) -> bool {
        let block = self.basis.len() / self.dim;
        for _ in 0..n.min(self.iterations - self.done) {
            // next (block, dim) = basis (block, dim) · cov (dim, dim); cov is symmetric.
            gemm(block, self.dim, self.dim, &self.basis, Op::N, &self.cov, Op::N, 0.0, &mut self.next);
            std::mem::swap(&mut self.basis, &mut self.next);
            orthonormalize(&mut self.basis, self.dim);
            self.done += 1;
        }
        self.done >= self.iterations
    }

    /// The components, after the last iterations still owed (Rayleigh-Ritz on the subspace).
    pub fn finish(mut self) -> Pca {
        while !self.step(MAX_ITERATIONS) {}
        let (dim, k) = (self.dim, self.k);
        let block = self.basis.len() / dim;
        let (basis, mut next) = (self.basis, self.next);
        // Rayleigh-Ritz: diagonalise basis · cov · basisᵀ (block, block).
        gemm(block, dim, dim, &basis, Op::N, &self.cov, Op::N, 0.0, &mut next);
        let mut small = vec![0.0f32; block * block];
        gemm(block, dim, block, &next, Op::N, &basis, Op::T, 0.0, &mut small);
        let (components, variances) = ritz(&basis, dim, k, small.iter().map(|&v| v as f64).collect());
        Pca { dim, mean: self.mean, components, variances }
    }
}

impl Pca {
    /// Fit the top `k` components of the rows of `data` (n, dim) in one go.
    pub fn fit(data: &[f32], n: usize, dim: usize, k: usize) -> Pca {
        PcaFitter::new(data, n, dim, k).finish()
    }

    /// The top `k` components of the rows of `data` (n, dim) by subspace iteration on the data
    /// itself, never forming the (dim, dim) covariance: one iteration is `basis · Xcᵀ · Xc / n`,
    /// 2 · (k + 2) · n · dim multiply-adds, so a scatter of 500 codes of 1,000 units costs about
    /// 4 M of them an iteration. `warm` (an earlier fit of similar data) starts the iteration
    /// where it ended and fixes the signs so the picture does not flip between refits.
    pub fn leading(data: &[f32], n: usize, dim: usize, k: usize, warm: Option<&Pca>, iterations: usize) -> Pca {
        assert_eq!(data.len(), n * dim);
        assert!(n > 0 && k > 0 && k <= dim);
        let block = (k + 2).min(dim);
        let mean: Vec<f32> = (0..dim).map(|u| (data.iter().skip(u).step_by(dim).map(|&v| v as f64).sum::<f64>() / n as f64) as f32).collect();
        let centred: Vec<f32> = data.chunks_exact(dim).flat_map(|row| row.iter().zip(&mean).map(|(v, m)| v - m)).collect();
        // Start: the warm components first, then DCT-II rows (deterministic and generic).
        let mut basis = vec![0.0f32; block * dim]; // (block, dim)
        let warm = warm.filter(|w| w.dim == dim);
        let from_warm = warm.map_or(0, |w| w.k().min(block));
        if let Some(w) = warm {
            basis[..from_warm * dim].copy_from_slice(&w.components[..from_warm * dim]);
        }
        for (j, row) in basis.chunks_exact_mut(dim).enumerate().skip(from_warm) {
            for (i, v) in row.iter_mut().enumerate() {
                *v = (std::f64::consts::PI * (i as f64 + 0.5) * j as f64 / dim as f64).cos() as f32;
            }
        }
        orthonormalize(&mut basis, dim);
        let mut scores = vec![0.0f32; block * n]; // (block, n) = basis · Xcᵀ
        let mut next = vec![0.0f32; block * dim];
        for _ in 0..iterations.max(1) {
            gemm(block, dim, n, &basis, Op::N, &centred, Op::T, 0.0, &mut scores);
            gemm(block, n, dim, &scores, Op::N, &centred, Op::N, 0.0, &mut next);
            std::mem::swap(&mut basis, &mut next);
            orthonormalize(&mut basis, dim);
        }
        // Rayleigh-Ritz: diagonalise basis · Cov · basisᵀ = (S Sᵀ) / n with S = basis · Xcᵀ.
        gemm(block, dim, n, &basis, Op::N, &centred, Op::T, 0.0, &mut scores);
        let mut small = vec![0.0f32; block * block];
        gemm(block, n, block, &scores, Op::N, &scores, Op::T, 0.0, &mut small);
        let (mut components, variances) = ritz(&basis, dim, k, small.iter().map(|&v| v as f64 / n as f64).collect());
        for (out_idx, row) in components.chunks_exact_mut(dim).enumerate() {
            // A component's sign is arbitrary: keep the warm one's, else make the largest
            // coordinate positive.
            let reference = match warm.filter(|w| out_idx < w.k()) {
                Some(w) => row.iter().zip(&w.components[out_idx * dim..(out_idx + 1) * dim]).map(|(a, b)| (a * b) as f64).sum::<f64>(),
                None => row.iter().copied().max_by(|a, b| a.abs().total_cmp(&b.abs())).unwrap_or(0.0) as f64,
            };
            if reference < 0.0 {
                row.iter_mut().for_each(|c| *c = -*c);
            }
        }
        Pca { dim, mean, components, variances: variances.into_iter().map(|v| v.max(0.0)).collect() }
    }

    pub fn k(&self) -> usize {
        self.variances.len()
    }

    /// The first `k` coordinates (n, k) of the rows of `data` (n, dim): PCA's code of them.
    pub fn project(&self, data: &[f32], n: usize, k: usize) -> Vec<f32> {
        let dim = self.dim;
        assert!(k <= self.k());
        let centred: Vec<f32> = data.chunks_exact(dim).flat_map(|row| row.iter().zip(&self.mean).map(|(v, m)| v - m)).collect();
        let mut codes = vec![0.0f32; n * k]; // (n, k)
        gemm(n, dim, k, &centred, Op::N, &self.components[..k * dim], Op::T, 0.0, &mut codes);
        codes
    }

    /// Reconstruct rows of `data` (n, dim) from their first `k` coordinates, into `out` (n, dim).
    pub fn reconstruct(&self, data: &[f32], n: usize, k: usize, out: &mut [f32]) {
        let dim = self.dim;
        let codes = self.project(data, n, k);
        gemm(n, k, dim, &codes, Op::N, &self.components[..k * dim], Op::N, 0.0, out);
        for row in out.chunks_exact_mut(dim) {
            row.iter_mut().zip(&self.mean).for_each(|(o, m)| *o += m);
        }
    }

    /// Mean squared error per pixel of the k-component reconstruction of `data` (n, dim).
    pub fn mse_per_pixel(&self, data: &[f32], n: usize, k: usize) -> f64 {
        let mut out = vec![0.0f32; n * self.dim];
        self.reconstruct(data, n, k, &mut out);
        let sse: f64 = data.iter().zip(&out).map(|(a, b)| ((a - b) as f64).powi(2)).sum();
        sse / (n * self.dim) as f64
    }
}

/// Rayleigh-Ritz: given an orthonormal `basis` (block, dim) and `small` = basis · Cov · basisᵀ
/// (block, block), the top `k` Ritz vectors (k, dim), largest first, and their variances.
fn ritz(basis: &[f32], dim: usize, k: usize, small: Vec<f64>) -> (Vec<f32>, Vec<f64>) {
    let block = basis.len() / dim;
    let (values, vectors) = jacobi_eigen(small, block);
    let mut order: Vec<usize> = (0..block).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let mut components = vec![0.0f32; k * dim];
    for (out_idx, &src) in order.iter().take(k).enumerate() {
        let row = &mut components[out_idx * dim..(out_idx + 1) * dim];
        for (basis_idx, basis_row) in basis.chunks_exact(dim).enumerate() {
            let coef = vectors[basis_idx * block + src] as f32;
            row.iter_mut().zip(basis_row).for_each(|(c, b)| *c += coef * b);
        }
    }
    (components, order.iter().take(k).map(|&i| values[i]).collect())
}

/// Modified Gram-Schmidt on the rows of `rows` (m, dim), done twice for stability.
fn orthonormalize(rows: &mut [f32], dim: usize) {
    let m = rows.len() / dim;
    for _ in 0..2 {
        for i in 0..m {
            let (done, rest) = rows.split_at_mut(i * dim);
            let row = &mut rest[..dim];
            for prev in done.chunks_exact(dim) {
                let dot: f64 = row.iter().zip(prev).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
                row.iter_mut().zip(prev).for_each(|(a, b)| *a -= dot as f32 * b);
            }
            let norm = row.iter().map(|a| (*a as f64).powi(2)).sum::<f64>().sqrt();
            if norm > 1e-30 {
                row.iter_mut().for_each(|a| *a = (*a as f64 / norm) as f32);
            }
        }
    }
}

/// Eigen-decomposition of a symmetric matrix (m, m) by cyclic Jacobi rotations.
/// Returns the eigenvalues and the eigenvectors as the columns of an (m, m) matrix.
fn jacobi_eigen(mut a: Vec<f64>, m: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0f64; m * m];
    (0..m).for_each(|i| v[i * m + i] = 1.0);
    for _sweep in 0..100 {
        let off: f64 = (0..m).flat_map(|i| (0..m).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[i * m + j].powi(2)).sum();
        let total: f64 = a.iter().map(|x| x * x).sum();
        if off <= 1e-24 * total.max(1e-300) {
            break;
        }
        for p in 0..m {
            for q in p + 1..m {
                let apq = a[p * m + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * m + q] - a[p * m + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..m {
                    let akp = a[k * m + p];
                    let akq = a[k * m + q];
                    a[k * m + p] = c * akp - s * akq;
                    a[k * m + q] = s * akp + c * akq;
                }
                for k in 0..m {
                    let apk = a[p * m + k];
                    let aqk = a[q * m + k];
                    a[p * m + k] = c * apk - s * aqk;
                    a[q * m + k] = s * apk + c * aqk;
                }
                for k in 0..m {
                    let vkp = v[k * m + p];
                    let vkq = v[k * m + q];
                    v[k * m + p] = c * vkp - s * vkq;
                    v[k * m + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..m).map(|i| a[i * m + i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn recovers_known_variances_and_error() {
        // Data x = Σ_j sqrt(λ_j) z_j e_j in a rotated basis, λ = [9, 4, 1, 0.25, 0.01, ...]:
        // the top-2 PCA error per coordinate is Σ_{j>2} λ_j / dim.
        let dim = 12;
        let n = 20_000;
        let lambdas: Vec<f64> = (0..dim).map(|j| 9.0 * 0.45f64.powi(2 * j as i32)).collect();
        let mut rng = Rng::from_seed(3);
        // A rotation: Gram-Schmidt of a random matrix.
        let mut rot: Vec<f32> = (0..dim * dim).map(|_| rng.normal()).collect();
        orthonormalize(&mut rot, dim);
        let mut data = vec![0.0f32; n * dim];
        for row in data.chunks_exact_mut(dim) {
            for (j, lambda) in lambdas.iter().enumerate() {
                let z = rng.normal() * lambda.sqrt() as f32;
                row.iter_mut().zip(&rot[j * dim..(j + 1) * dim]).for_each(|(x, r)| *x += z * r);
            }
            row.iter_mut().for_each(|x| *x += 0.5);
        }
        let pca = Pca::fit(&data, n, dim, 3);
        for j in 0..3 {
            let rel = (pca.variances[j] - lambdas[j]).abs() / lambdas[j];
            assert!(rel < 0.05, "variance {j}: {} vs {}", pca.variances[j], lambdas[j]);
        }
        let want: f64 = lambdas[2..].iter().sum::<f64>() / dim as f64;
        let got = pca.mse_per_pixel(&data, n, 2);
        assert!((got - want).abs() / want < 0.05, "error {got} vs {want}");
        // Components are orthonormal.
        for a in 0..3 {
            for b in 0..3 {
                let dot: f32 = (0..dim).map(|i| pca.components[a * dim + i] * pca.components[b * dim + i]).sum();
                assert!((dot - if a == b { 1.0 } else { 0.0 }).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn leading_components_from_the_data_match_the_covariance_fit_and_keep_their_signs() {
        // More units than rows, as a wide code's scatter has: 60 rows of 150 units, built from
        // three directions of variance 16, 4 and 1 plus small noise.
        let (n, dim) = (60, 150);
        let mut rng = Rng::from_seed(7);
        let mut dirs: Vec<f32> = (0..3 * dim).map(|_| rng.normal()).collect();
        orthonormalize(&mut dirs, dim);
        let mut data = vec![0.0f32; n * dim];
        for row in data.chunks_exact_mut(dim) {
            for (j, sd) in [4.0f32, 2.0, 1.0].iter().enumerate() {
                let z = rng.normal() * sd;
                row.iter_mut().zip(&dirs[j * dim..(j + 1) * dim]).for_each(|(x, d)| *x += z * d);
            }
            row.iter_mut().for_each(|x| *x += 0.01 * rng.normal() + 0.3);
        }
        let reference = Pca::fit(&data, n, dim, 2);
        let cold = Pca::leading(&data, n, dim, 2, None, 40);
        for j in 0..2 {
            let rel = (cold.variances[j] - reference.variances[j]).abs() / reference.variances[j];
            assert!(rel < 1e-3, "variance {j}: {} vs {}", cold.variances[j], reference.variances[j]);
            let dot: f32 = (0..dim).map(|i| cold.components[j * dim + i] * reference.components[j * dim + i]).sum();
            assert!(dot.abs() > 0.9999, "component {j} is the covariance fit's, up to sign: |dot| {}", dot.abs());
        }
        // A warm refit of the same data flipped in sign keeps the earlier signs.
        let flipped = Pca { components: cold.components.iter().map(|c| -c).collect(), ..cold.clone() };
        let warm = Pca::leading(&data, n, dim, 2, Some(&flipped), 3);
        for j in 0..2 {
            let dot: f32 = (0..dim).map(|i| warm.components[j * dim + i] * flipped.components[j * dim + i]).sum();
            assert!(dot > 0.9999, "component {j} kept the warm sign: {dot}");
        }
        assert_eq!(cold.mean.len(), dim);
    }
}
