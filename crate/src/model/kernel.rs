//! Matrix products for WebAssembly built around two register tiles of eight f32x4 accumulators
//! (V8 keeps eight in registers; a larger tile spills): an outer-product tile (4 rows × 8
//! columns of C, B read 8 contiguous floats at a time) and a dot-product tile (4 × 2 elements
//! of C, both operands read 4 contiguous floats along the inner dimension) for products whose
//! operands both run along it, like a dense layer's forward pass Y = X·Wᵀ.
//!
//! Operands are read where they lie: a dense layer's products are too small for packing to
//! pay (it cost 18 % of a batch-50 training step), so only a ragged last column panel of B,
//! or a B that is neither row- nor column-contiguous, is copied into a zero-padded panel.
//! Blocking over the inner dimension keeps a B panel in L1 and a block of B in L2.
//!
//! The drivers are plain Rust, tested natively through scalar tiles; the simd128 and
//! relaxed-simd tiles exist only in wasm builds and are tested there (crate/tests/wasm.rs).
//! Natively, matmul.rs keeps `matrixmultiply`, whose AVX2/FMA kernels no 128-bit tile matches.

use std::cell::RefCell;

/// Rows and columns of the outer-product tile.
pub const MR: usize = 4;
pub const NR: usize = 8;
/// Rows and columns of the dot-product tile.
pub const DR: usize = 4;
pub const DC: usize = 2;
/// Inner-dimension block of the outer-product driver: a B panel (KC × NR, 8 KB) stays in L1.
const KC: usize = 256;
/// Row block: A's rows for one block (MC × KC) stay in L2 across a column block.
const MC: usize = 64;
/// Column block: a block of B (KC × NC, 256 KB) stays in L2.
const NC: usize = 256;
/// Inner-dimension block of the dot driver: long enough that the final horizontal sums of the
/// accumulators cost little, short enough that a block of B stays in L2.
const DOT_KC: usize = 512;

/// A strided read-only view of a matrix: element (row, col) is at `row * rs + col * cs`.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub data: &'a [f32],
    pub rs: usize,
    pub cs: usize,
}

impl View<'_> {
    #[inline(always)]
    fn at(&self, row: usize, col: usize) -> f32 {
        self.data[row * self.rs + col * self.cs]
    }
}

/// The two ways to compute a tile of C. Both write `rows` × `cols` elements of C (row stride
/// `ldc`) as the tile's sum plus `beta` times what was there (`beta` 0 ignores it, NaN or not).
/// Rows or columns past `rows` / `cols` repeat a valid pointer; their results are dropped.
pub trait Tile {
    /// C[r][col] = Σ_p A_r[p · acs] · B[p · brs + col] for p < kc, where `a_rows[r]` points at
    /// row r of A and B's rows hold NR readable floats each.
    ///
    /// # Safety
    /// Every `a_rows[r]` is readable at `p · acs` and `b` at `p · brs + col` for p < kc and
    /// col < NR; `c` is writable for `rows` ≤ MR rows of `cols` ≤ NR floats at stride `ldc`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn outer(kc: usize, a_rows: [*const f32; MR], acs: usize, b: *const f32, brs: usize, beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize);

    /// C[r][col] = Σ_p A_r[p] · B_col[p] for p < kc, where `a_rows[r]` points at row r of A and
    /// `b_cols[col]` at column `col` of B, both contiguous along p.
    ///
    /// # Safety
    /// Every pointer is readable for `kc` floats; `c` as for `outer`, with `rows` ≤ DR and
    /// `cols` ≤ DC.
    #[allow(clippy::too_many_arguments)]
    unsafe fn dot(kc: usize, a_rows: [*const f32; DR], b_cols: [*const f32; DC], beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize);
}

/// Write one tile's sums into C: `sums[r][col] + beta · C` (beta 0 overwrites).
///
/// # Safety
/// As `Tile::outer`'s `c`.
#[inline(always)]
unsafe fn write_back<const R: usize, const C: usize>(sums: &[[f32; C]; R], beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize) {
    for (r, row) in sums.iter().enumerate().take(rows) {
        for (col, &sum) in row.iter().enumerate().take(cols) {
            let out = c.add(r * ldc + col);
            *out = if beta == 0.0 { sum } else { sum + beta * *out };
        }
    }
}

/// The reference tiles in plain Rust: the independent check of the drivers natively.
pub struct ScalarTile;

impl Tile for ScalarTile {
    unsafe fn outer(kc: usize, a_rows: [*const f32; MR], acs: usize, b: *const f32, brs: usize, beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize) {
        let mut sums = [[0.0f32; NR]; MR];
        for p in 0..kc {
            for (r, row) in sums.iter_mut().enumerate() {
                let a_val = *a_rows[r].add(p * acs);
                for (col, sum) in row.iter_mut().enumerate() {
                    *sum += a_val * *b.add(p * brs + col);
                }
            }
        }
        write_back(&sums, beta, c, ldc, rows, cols);
    }

    unsafe fn dot(kc: usize, a_rows: [*const f32; DR], b_cols: [*const f32; DC], beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize) {
        let mut sums = [[0.0f32; DC]; DR];
        for (r, row) in sums.iter_mut().enumerate() {
            for (col, sum) in row.iter_mut().enumerate() {
                *sum = (0..kc).map(|p| *a_rows[r].add(p) * *b_cols[col].add(p)).sum();
            }
        }
        write_back(&sums, beta, c, ldc, rows, cols);
    }
}

thread_local! {
    /// Panel buffer for B's ragged last column panel (or all of a strided B), kept for the life
    /// of the thread so a training step allocates nothing.
    static PANELS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// C (m, n) = A (m, k) · B (k, n) + beta · C, with `c` row-major and contiguous.
pub fn gemm<T: Tile>(m: usize, k: usize, n: usize, a: View, b: View, beta: f32, c: &mut [f32]) {
    assert!(c.len() >= m * n, "gemm: C is too small");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c[..m * n].iter_mut().for_each(|v| *v *= beta);
        return;
    }
    // Every pointer the tiles form stays inside these extents.
    assert!(a.data.len() > (m - 1) * a.rs + (k - 1) * a.cs, "gemm: A is too small for its strides");
    assert!(b.data.len() > (k - 1) * b.rs + (n - 1) * b.cs, "gemm: B is too small for its strides");
    if a.cs == 1 && b.rs == 1 {
        gemm_dot::<T>(m, k, n, a, b, beta, c);
    } else {
        gemm_outer::<T>(m, k, n, a, b, beta, c);
    }
}

/// Both operands contiguous along the inner dimension: dot-product tiles.
fn gemm_dot<T: Tile>(m: usize, k: usize, n: usize, a: View, b: View, beta: f32, c: &mut [f32]) {
    for pc in (0..k).step_by(DOT_KC) {
        let kc = DOT_KC.min(k - pc);
        // The first inner block applies the caller's beta; later ones accumulate.
        let beta_block = if pc == 0 { beta } else { 1.0 };
        for i0 in (0..m).step_by(DR) {
            let rows = DR.min(m - i0);
            // SAFETY (all pointer arithmetic below): rows are clamped to i0 + rows - 1 < m and
            // columns to j0 + cols - 1 < n, and pc + kc ≤ k, so with the extents asserted in
            // `gemm` every float the tile reads lies inside A and B; C's tile is in bounds
            // because (i0 + rows - 1) · n + j0 + cols ≤ m · n.
            let a_rows: [*const f32; DR] = std::array::from_fn(|r| unsafe { a.data.as_ptr().add((i0 + r.min(rows - 1)) * a.rs + pc) });
            for j0 in (0..n).step_by(DC) {
                let cols = DC.min(n - j0);
                let b_cols: [*const f32; DC] = std::array::from_fn(|col| unsafe { b.data.as_ptr().add((j0 + col.min(cols - 1)) * b.cs + pc) });
                unsafe { T::dot(kc, a_rows, b_cols, beta_block, c.as_mut_ptr().add(i0 * n + j0), n, rows, cols) };
            }
        }
    }
}

/// Outer-product tiles, B read in place where its rows are contiguous.
fn gemm_outer<T: Tile>(m: usize, k: usize, n: usize, a: View, b: View, beta: f32, c: &mut [f32]) {
    PANELS.with(|panels| {
        let panels = &mut *panels.borrow_mut();
        let b_direct = b.cs == 1;
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            for pc in (0..k).step_by(KC) {
                let kc = KC.min(k - pc);
                let beta_block = if pc == 0 { beta } else { 1.0 };
                // Copied panels: every panel of a strided B, else only a ragged last one.
                let first_copied = if b_direct { nc - nc % NR } else { 0 };
                pack_b(b, pc, kc, jc + first_copied, nc - first_copied, panels);
                for ic in (0..m).step_by(MC) {
                    let mc = MC.min(m - ic);
                    for jr in (0..nc).step_by(NR) {
                        let cols = NR.min(nc - jr);
                        // SAFETY (all pointer arithmetic below): as in `gemm_dot`; a direct B
                        // panel has NR columns inside B (jr < first_copied), and a copied panel
                        // holds kc · NR floats of `panels`.
                        let (b_ptr, brs) = if jr < first_copied {
                            (unsafe { b.data.as_ptr().add(pc * b.rs + jc + jr) }, b.rs)
                        } else {
                            (panels[(jr - first_copied) / NR * kc * NR..][..kc * NR].as_ptr(), NR)
                        };
                        for ir in (0..mc).step_by(MR) {
                            let rows = MR.min(mc - ir);
                            let row0 = ic + ir;
                            let a_rows: [*const f32; MR] = std::array::from_fn(|r| unsafe { a.data.as_ptr().add((row0 + r.min(rows - 1)) * a.rs + pc * a.cs) });
                            unsafe { T::outer(kc, a_rows, a.cs, b_ptr, brs, beta_block, c.as_mut_ptr().add(row0 * n + jc + jr), n, rows, cols) };
                        }
                    }
                }
            }
        }
    });
}

/// Copy rows `pc..pc + kc`, columns `j0..j0 + width` of B into zero-padded NR-column panels:
/// panel `j` holds `pack[j·kc·NR + p·NR + col] = B[pc + p][j0 + j·NR + col]`.
fn pack_b(b: View, pc: usize, kc: usize, j0: usize, width: usize, pack: &mut Vec<f32>) {
    let n_panels = width.div_ceil(NR);
    pack.resize(n_panels * kc * NR, 0.0);
    for (panel_idx, panel) in pack.chunks_exact_mut(kc * NR).take(n_panels).enumerate() {
        let col0 = j0 + panel_idx * NR;
        let cols = NR.min(j0 + width - col0);
        for p in 0..kc {
            for col in 0..NR {
                panel[p * NR + col] = if col < cols { b.at(pc + p, col0 + col) } else { 0.0 };
            }
        }
    }
}

/// The simd128 tile: per step of the inner dimension, two loads of B, four splats of A and
/// eight multiply-adds into eight f32x4 accumulators. With relaxed-simd enabled the
/// multiply-add is `f32x4.relaxed_madd`, a fused multiply-add where the hardware has one, so
/// the two builds may differ in the last bits (each is deterministic on its own).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub struct SimdTile;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use simd::peak_rounds;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) mod simd {
    use super::{write_back, SimdTile, Tile, DC, DR, MR, NR};
    use core::arch::wasm32::*;

    /// acc + a·b, fused when the relaxed-simd build and the hardware allow.
    #[inline(always)]
    pub fn madd(a: v128, b: v128, acc: v128) -> v128 {
        #[cfg(target_feature = "relaxed-simd")]
        {
            f32x4_relaxed_madd(a, b, acc)
        }
        #[cfg(not(target_feature = "relaxed-simd"))]
        {
            f32x4_add(acc, f32x4_mul(a, b))
        }
    }

    /// The peak microbenchmark: `iterations` rounds of twelve independent f32x4 multiply-add
    /// chains (8 flops per chain and round), fused when `fused` (relaxed build only). Returns
    /// the chains' sum for the caller's `black_box`. Never inlined: V8 starts every wasm
    /// function in its baseline compiler and only later calls reach the optimised code, so the
    /// benchmark must call this many times rather than loop inside one call.
    #[inline(never)]
    pub fn peak_rounds(iterations: u32, fused: bool) -> f32 {
        let scale = f32x4_splat(0.999_9);
        let step = f32x4_splat(1e-4);
        // A fixed-size array over a fully unrolled loop: LLVM keeps the twelve chains in locals.
        let mut chains: [v128; 12] = std::array::from_fn(|chain_idx| f32x4_splat(chain_idx as f32 * 0.01));
        for _ in 0..iterations {
            for chain in chains.iter_mut() {
                *chain = if fused { madd(*chain, scale, step) } else { f32x4_add(f32x4_mul(*chain, scale), step) };
            }
        }
        let total = chains.into_iter().fold(f32x4_splat(0.0), |x, y| f32x4_add(x, y));
        f32x4_extract_lane::<0>(total) + f32x4_extract_lane::<3>(total)
    }

    impl Tile for SimdTile {
        /// Per step of the inner dimension: two loads of B, four splats of A, eight multiply-adds.
        #[inline(never)]
        unsafe fn outer(kc: usize, a_rows: [*const f32; MR], acs: usize, b: *const f32, brs: usize, beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize) {
            let zero = f32x4_splat(0.0);
            let (mut c00, mut c01, mut c10, mut c11) = (zero, zero, zero, zero);
            let (mut c20, mut c21, mut c30, mut c31) = (zero, zero, zero, zero);
            let [mut a0, mut a1, mut a2, mut a3] = a_rows;
            let mut b_ptr = b;
            for _ in 0..kc {
                let b0 = v128_load(b_ptr as *const v128);
                let b1 = v128_load(b_ptr.add(4) as *const v128);
                let a_val = f32x4_splat(*a0);
                c00 = madd(a_val, b0, c00);
                c01 = madd(a_val, b1, c01);
                let a_val = f32x4_splat(*a1);
                c10 = madd(a_val, b0, c10);
                c11 = madd(a_val, b1, c11);
                let a_val = f32x4_splat(*a2);
                c20 = madd(a_val, b0, c20);
                c21 = madd(a_val, b1, c21);
                let a_val = f32x4_splat(*a3);
                c30 = madd(a_val, b0, c30);
                c31 = madd(a_val, b1, c31);
                a0 = a0.add(acs);
                a1 = a1.add(acs);
                a2 = a2.add(acs);
                a3 = a3.add(acs);
                b_ptr = b_ptr.add(brs);
            }
            let acc = [[c00, c01], [c10, c11], [c20, c21], [c30, c31]];
            if rows == MR && cols == NR {
                let beta_v = f32x4_splat(beta);
                for (r, pair) in acc.iter().enumerate() {
                    for (half, &v) in pair.iter().enumerate() {
                        let out = c.add(r * ldc + half * 4) as *mut v128;
                        let value = if beta == 0.0 { v } else { madd(beta_v, v128_load(out), v) };
                        v128_store(out, value);
                    }
                }
            } else {
                let mut sums = [[0.0f32; NR]; MR];
                for (r, pair) in acc.iter().enumerate() {
                    for (half, &v) in pair.iter().enumerate() {
                        v128_store(sums[r].as_mut_ptr().add(half * 4) as *mut v128, v);
                    }
                }
                write_back(&sums, beta, c, ldc, rows, cols);
            }
        }

        /// Per four steps of the inner dimension: four loads of A, two of B, eight multiply-adds;
        /// each accumulator's lanes are summed at the end and the last kc mod 4 steps are scalar.
        #[inline(never)]
        unsafe fn dot(kc: usize, a_rows: [*const f32; DR], b_cols: [*const f32; DC], beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize) {
            let zero = f32x4_splat(0.0);
            let (mut c00, mut c01, mut c10, mut c11) = (zero, zero, zero, zero);
            let (mut c20, mut c21, mut c30, mut c31) = (zero, zero, zero, zero);
            let [a0, a1, a2, a3] = a_rows;
            let [b0, b1] = b_cols;
            let k4 = kc & !3;
            let mut p = 0;
            while p < k4 {
                let bv0 = v128_load(b0.add(p) as *const v128);
                let bv1 = v128_load(b1.add(p) as *const v128);
                let av = v128_load(a0.add(p) as *const v128);
                c00 = madd(av, bv0, c00);
                c01 = madd(av, bv1, c01);
                let av = v128_load(a1.add(p) as *const v128);
                c10 = madd(av, bv0, c10);
                c11 = madd(av, bv1, c11);
                let av = v128_load(a2.add(p) as *const v128);
                c20 = madd(av, bv0, c20);
                c21 = madd(av, bv1, c21);
                let av = v128_load(a3.add(p) as *const v128);
                c30 = madd(av, bv0, c30);
                c31 = madd(av, bv1, c31);
                p += 4;
            }
            let lanes = |v: v128| (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v)) + (f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v));
            let mut sums = [[lanes(c00), lanes(c01)], [lanes(c10), lanes(c11)], [lanes(c20), lanes(c21)], [lanes(c30), lanes(c31)]];
            for p in k4..kc {
                for (r, row) in sums.iter_mut().enumerate() {
                    let a_val = *a_rows[r].add(p);
                    for (col, sum) in row.iter_mut().enumerate() {
                        *sum += a_val * *b_cols[col].add(p);
                    }
                }
            }
            write_back(&sums, beta, c, ldc, rows, cols);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(len: usize, salt: usize) -> Vec<f32> {
        (0..len).map(|i| (((i * 7 + salt * 13) % 23) as f32 - 11.0) / 8.0).collect()
    }

    /// Shapes that cross every block edge (MC, KC, NC, DOT_KC) and leave ragged tiles, in all
    /// four transpose combinations (the dot driver, the outer driver reading B in place, and the
    /// outer driver copying every panel), against the textbook triple loop.
    #[test]
    fn both_drivers_match_the_triple_loop_across_block_edges() {
        for &(m, k, n) in &[(1, 1, 1), (5, 3, 9), (70, 300, 270), (4, 513, 8), (65, 7, 257), (6, 1030, 3)] {
            for (a_t, b_t) in [(false, false), (false, true), (true, false), (true, true)] {
                let a_data = filled(m * k, 1);
                let b_data = filled(k * n, 2);
                let a = if a_t { View { data: &a_data, rs: 1, cs: m } } else { View { data: &a_data, rs: k, cs: 1 } };
                let b = if b_t { View { data: &b_data, rs: 1, cs: k } } else { View { data: &b_data, rs: n, cs: 1 } };
                let c0 = filled(m * n, 3);
                for beta in [0.0, 1.0, 0.5] {
                    let mut c = c0.clone();
                    gemm::<ScalarTile>(m, k, n, a, b, beta, &mut c);
                    for i in 0..m {
                        for j in 0..n {
                            let want: f32 = (0..k).map(|p| a.at(i, p) * b.at(p, j)).sum::<f32>() + beta * c0[i * n + j];
                            let got = c[i * n + j];
                            assert!((got - want).abs() <= 1e-4 * (1.0 + want.abs()), "{m}x{k}x{n} a_t={a_t} b_t={b_t} beta={beta} at ({i},{j}): {got} vs {want}");
                        }
                    }
                }
                // With beta 0, whatever C held (even NaN) is overwritten, as BLAS does.
                let mut c = vec![f32::NAN; m * n];
                gemm::<ScalarTile>(m, k, n, a, b, 0.0, &mut c);
                assert!(c.iter().all(|v| v.is_finite()), "{m}x{k}x{n} a_t={a_t} b_t={b_t}: NaN survived beta 0");
            }
        }
    }
}
