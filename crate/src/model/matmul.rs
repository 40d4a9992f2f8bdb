//! Every matrix product in the crate goes through this module: the three forms a dense layer
//! needs, plus their transposed-weight twins for tied layers. Row-major f32 slices only. Two
//! backends sit behind `gemm`: `matrixmultiply`'s packed GEMM (AVX2/FMA natively, where it wins)
//! and our register-tile kernel (kernel.rs: simd128 or relaxed-simd tiles in wasm, where it wins).
//! `Backend::Auto` picks by target; the benchmarks switch backends to measure both in one run.
//!
//! Threads: a product big enough to pay for it is split into blocks of C's rows, one task each,
//! run on rayon's pool (natively always; in wasm in the threaded builds, whose pool is web
//! workers). Every element of C is summed in the same order whatever the split, so results do
//! not depend on the number of threads. `for_each_chunk` and `for_each_task` are the same
//! machinery for the element-wise work and the convolutions' image groups.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

use super::kernel::{self, View};

/// Which implementation computes products.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The faster one measured for this target: our tiles in wasm, `matrixmultiply` natively.
    Auto,
    /// Our tile kernel with the best tile compiled in (the scalar reference tile natively).
    Tiles,
    /// The `matrixmultiply` crate.
    Matrixmultiply,
}

thread_local! {
    static BACKEND: Cell<Backend> = const { Cell::new(Backend::Auto) };
}

/// Choose the backend for every later product on this thread (benchmarks and tests only; the
/// two backends may differ in the last bits, each deterministic on its own).
pub fn set_backend(backend: Backend) {
    BACKEND.with(|b| b.set(backend));
}

/// The backend `gemm` uses now on this thread, with `Auto` resolved.
pub fn backend() -> Backend {
    match BACKEND.with(Cell::get) {
        chosen @ (Backend::Tiles | Backend::Matrixmultiply) => chosen,
        Backend::Auto if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) => Backend::Tiles,
        Backend::Auto => Backend::Matrixmultiply,
    }
}

/// Which tile the wasm build compiled in: "relaxed-simd", "simd128" or, natively, "native".
pub fn simd_level() -> &'static str {
    if cfg!(all(target_arch = "wasm32", target_feature = "relaxed-simd")) {
        "relaxed-simd"
    } else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        "simd128"
    } else {
        "native"
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type BestTile = kernel::SimdTile;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
type BestTile = kernel::ScalarTile;

/// Whether an operand is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    N,
    T,
}

/// A product is split into tasks of at least this many flops; smaller ones stay on one thread.
/// Waking a sleeping pool thread costs tens of microseconds, more than a small product takes:
/// natively (`cargo bench`, 2 cores) tasks of 1 Mflop made the batch-20 and batch-50 presets
/// run at 0.62–0.66× on two threads, and 8 Mflop still left `pretrain`'s 784-500 layer at 0.81×;
/// 16 Mflop keeps them at 1.0× while `turnoff`, `k-sparse` and `conv-1s-8s` still split.
/// wasm's products run about four times fewer flops a second, so the same time is 4 Mflop.
#[cfg(not(target_arch = "wasm32"))]
const TASK_FLOPS: usize = 1 << 24;
#[cfg(target_arch = "wasm32")]
const TASK_FLOPS: usize = 1 << 22;
/// Rows of C per task come in multiples of this (the wasm tile's height).
const ROW_GRAIN: usize = kernel::MR;

/// In wasm, training starts on one thread: the threaded builds' pool must exist before rayon is
/// first asked for threads (www/simd.js starts it, then turns this off).
static ONE_THREAD: AtomicBool = AtomicBool::new(cfg!(target_arch = "wasm32"));

thread_local! {
    /// Set while this thread runs one task of a parallel loop.
    static IN_TASK: Cell<bool> = const { Cell::new(false) };
}

/// Run one task of a parallel loop with `IN_TASK` set, so what it calls stays on its thread,
/// and with the backend `chosen` on the thread that started the loop.
#[cfg(any(not(target_arch = "wasm32"), feature = "threads"))]
fn as_task<R>(chosen: Backend, f: impl FnOnce() -> R) -> R {
    let outer = (IN_TASK.with(|t| t.replace(true)), BACKEND.with(|b| b.replace(chosen)));
    let result = f();
    IN_TASK.with(|t| t.set(outer.0));
    BACKEND.with(|b| b.set(outer.1));
    result
}

/// Keep every later product and element-wise pass on the calling thread (`true`), or spread
/// them over the pool (`false`, the default): the benchmarks' one-thread rows and the tests.
pub fn set_single_threaded(on: bool) {
    ONE_THREAD.store(on, Ordering::Relaxed);
}

/// Run `f` with every product and element-wise pass it starts on the calling thread: how a
/// training step too small to pay for waking the pool keeps to one thread.
pub fn on_one_thread<R>(f: impl FnOnce() -> R) -> R {
    let outer = IN_TASK.with(|t| t.replace(true));
    let result = f();
    IN_TASK.with(|t| t.set(outer));
    result
}

/// Threads a training step spreads over now: the pool's size (1 without a pool).
pub fn threads() -> usize {
    if ONE_THREAD.load(Ordering::Relaxed) {
        return 1;
    }
    #[cfg(any(not(target_arch = "wasm32"), feature = "threads"))]
    {
        // A task already running in parallel does its own part on its own thread.
        if IN_TASK.with(Cell::get) {
            return 1;
        }
        rayon::current_num_threads()
    }
    #[cfg(not(any(not(target_arch = "wasm32"), feature = "threads")))]
    {
        1
    }
}

/// `task(index, chunk)` for each consecutive `chunk_len`-long chunk of `data` (the last may be
/// shorter), spread over the threads. Which chunk gets which work never depends on the thread
/// count, so neither do the results.
pub fn for_each_chunk<T: Send>(data: &mut [T], chunk_len: usize, task: impl Fn(usize, &mut [T]) + Sync + Send) {
    let chunk_len = chunk_len.max(1);
    #[cfg(any(not(target_arch = "wasm32"), feature = "threads"))]
    if data.len() > chunk_len && threads() > 1 {
        use rayon::prelude::*;
        let chosen = BACKEND.with(Cell::get);
        data.par_chunks_mut(chunk_len).enumerate().for_each(|(idx, chunk)| as_task(chosen, || task(idx, chunk)));
        return;
    }
    data.chunks_mut(chunk_len).enumerate().for_each(|(idx, chunk)| task(idx, chunk));
}

/// `task(index)` for every index below `n`, spread over the threads.
pub fn for_each_task(n: usize, task: impl Fn(usize) + Sync + Send) {
    #[cfg(any(not(target_arch = "wasm32"), feature = "threads"))]
    if n > 1 && threads() > 1 {
        use rayon::prelude::*;
        let chosen = BACKEND.with(Cell::get);
        (0..n).into_par_iter().with_max_len(1).for_each(|idx| as_task(chosen, || task(idx)));
        return;
    }
    (0..n).for_each(task);
}

/// A mutable slice that tasks share, each writing only its own disjoint part (`part`).
#[derive(Clone, Copy)]
pub struct Shared {
    ptr: *mut f32,
    len: usize,
}

// SAFETY: `part`'s callers promise disjoint ranges, so no element is touched by two threads.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Shared {
    pub fn new(data: &mut [f32]) -> Shared {
        Shared { ptr: data.as_mut_ptr(), len: data.len() }
    }

    /// Elements `start..start + len`.
    ///
    /// # Safety
    /// No two live parts overlap, and the slice `new` was given outlives them all.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn part<'a>(&self, start: usize, len: usize) -> &'a mut [f32] {
        assert!(start + len <= self.len, "Shared::part out of range");
        std::slice::from_raw_parts_mut(self.ptr.add(start), len)
    }

    /// A raw pointer to element `start`, for tasks whose parts interleave (no references made).
    ///
    /// # Safety
    /// As `part`: the writes through it touch elements no other task touches.
    pub unsafe fn at(&self, start: usize) -> *mut f32 {
        assert!(start <= self.len, "Shared::at out of range");
        self.ptr.add(start)
    }
}

/// Rows of C per task for an (m, k, n) product: one task per thread at most, each worth at
/// least `TASK_FLOPS`.
fn rows_per_task(m: usize, k: usize, n: usize) -> usize {
    let threads = threads();
    if threads == 1 {
        return m;
    }
    let flops = 2 * m * k * n;
    let groups = m.div_ceil(ROW_GRAIN);
    let tasks = (flops / TASK_FLOPS).clamp(1, threads).min(groups);
    (groups.div_ceil(tasks) * ROW_GRAIN).min(m)
}

/// C (m, n) = op(A) (m, k) · op(B) (k, n) + beta · C, all row-major and contiguous.
/// `a` is stored as (m, k) when `op_a` is N and as (k, m) when it is T; likewise `b`.
#[allow(clippy::too_many_arguments)]
pub fn gemm(m: usize, k: usize, n: usize, a: &[f32], op_a: Op, b: &[f32], op_b: Op, beta: f32, c: &mut [f32]) {
    gemm_then(m, k, n, a, op_a, b, op_b, beta, c, |_, _| {});
}

/// `gemm`, then `post(first_row, rows)` on each block of C's rows as soon as that block is
/// computed, on the thread that computed it, while it is still in cache: how bias and
/// activation are fused into a layer's product.
#[allow(clippy::too_many_arguments)]
pub fn gemm_then(m: usize, k: usize, n: usize, a: &[f32], op_a: Op, b: &[f32], op_b: Op, beta: f32, c: &mut [f32], post: impl Fn(usize, &mut [f32]) + Sync + Send) {
    assert_eq!(a.len(), m * k, "gemm: A has {} elements, expected {m}x{k}", a.len());
    assert_eq!(b.len(), k * n, "gemm: B has {} elements, expected {k}x{n}", b.len());
    assert_eq!(c.len(), m * n, "gemm: C has {} elements, expected {m}x{n}", c.len());
    if m == 0 || n == 0 {
        return;
    }
    // Row and column strides of op(A) and op(B) as seen by the product.
    let (rsa, csa) = match op_a {
        Op::N => (k, 1),
        Op::T => (1, m),
    };
    let (rsb, csb) = match op_b {
        Op::N => (n, 1),
        Op::T => (1, k),
    };
    let backend = backend();
    let rows = rows_per_task(m, k, n);
    for_each_chunk(c, rows * n, |task, block| {
        let first = task * rows;
        let a_block = View { data: &a[first * rsa..], rs: rsa, cs: csa };
        product(backend, block.len() / n, k, n, a_block, View { data: b, rs: rsb, cs: csb }, beta, block);
        post(first, block);
    });
}

/// One block's product on this thread, by `backend`.
#[allow(clippy::too_many_arguments)]
fn product(backend: Backend, m: usize, k: usize, n: usize, a: View, b: View, beta: f32, c: &mut [f32]) {
    if backend == Backend::Tiles {
        kernel::gemm::<BestTile>(m, k, n, a, b, beta, c);
        return;
    }
    if k > 0 {
        assert!(a.data.len() > (m - 1) * a.rs + (k - 1) * a.cs && b.data.len() > (k - 1) * b.rs + (n - 1) * b.cs, "gemm: operands too small");
    }
    // SAFETY: the assert above (and gemm's) keep every index the strides reach inside the
    // slices, and `c` is a unique borrow of m · n floats that does not alias `a` or `b`.
    unsafe {
        matrixmultiply::sgemm(m, k, n, 1.0, a.data.as_ptr(), a.rs as isize, a.cs as isize, b.data.as_ptr(), b.rs as isize, b.cs as isize, beta, c.as_mut_ptr(), n as isize, 1);
    }
}

/// Forward: Y (batch, n_out) = X (batch, n_in) · Wᵀ, W (n_out, n_in).
pub fn forward(x: &[f32], w: &[f32], y: &mut [f32], batch: usize, n_in: usize, n_out: usize) {
    gemm(batch, n_in, n_out, x, Op::N, w, Op::T, 0.0, y);
}

/// Input gradient: dX (batch, n_in) = dY (batch, n_out) · W, W (n_out, n_in).
pub fn backward_input(dy: &[f32], w: &[f32], dx: &mut [f32], batch: usize, n_in: usize, n_out: usize) {
    gemm(batch, n_out, n_in, dy, Op::N, w, Op::N, 0.0, dx);
}

/// Weight gradient, accumulated: dW (n_out, n_in) += dYᵀ (n_out, batch) · X (batch, n_in).
pub fn backward_weights(dy: &[f32], x: &[f32], dw: &mut [f32], batch: usize, n_in: usize, n_out: usize) {
    gemm(n_out, batch, n_in, dy, Op::T, x, Op::N, 1.0, dw);
}

/// The tied twins: the layer's weight is Wᵀ where W (n_in, n_out) belongs to its mirror layer.
/// Forward: Y (batch, n_out) = X (batch, n_in) · W.
pub fn forward_tied(x: &[f32], w: &[f32], y: &mut [f32], batch: usize, n_in: usize, n_out: usize) {
    gemm(batch, n_in, n_out, x, Op::N, w, Op::N, 0.0, y);
}

/// Tied input gradient: dX (batch, n_in) = dY (batch, n_out) · Wᵀ, W (n_in, n_out).
pub fn backward_input_tied(dy: &[f32], w: &[f32], dx: &mut [f32], batch: usize, n_in: usize, n_out: usize) {
    gemm(batch, n_out, n_in, dy, Op::N, w, Op::T, 0.0, dx);
}

/// Tied weight gradient, accumulated into the mirror's W (n_in, n_out) += Xᵀ (n_in, batch) · dY (batch, n_out).
pub fn backward_weights_tied(dy: &[f32], x: &[f32], dw: &mut [f32], batch: usize, n_in: usize, n_out: usize) {
    gemm(n_in, batch, n_out, x, Op::T, dy, Op::N, 1.0, dw);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook triple loop, the independent reference for every form.
    fn naive(m: usize, k: usize, n: usize, a: &[f32], op_a: Op, b: &[f32], op_b: Op) -> Vec<f32> {
        let at = |i: usize, p: usize| if op_a == Op::N { a[i * k + p] } else { a[p * m + i] };
        let bt = |p: usize, j: usize| if op_b == Op::N { b[p * n + j] } else { b[j * k + p] };
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| at(i, p) * bt(p, j)).sum();
            }
        }
        c
    }

    fn filled(len: usize, salt: usize) -> Vec<f32> {
        (0..len).map(|i| (((i * 7 + salt * 13) % 23) as f32 - 11.0) / 8.0).collect()
    }

    #[test]
    fn every_transpose_combination_matches_the_triple_loop() {
        for backend in [Backend::Matrixmultiply, Backend::Tiles] {
            every_combination(backend);
        }
        set_backend(Backend::Auto);
    }

    fn every_combination(backend: Backend) {
        set_backend(backend);
        for &(m, k, n) in &[(1, 1, 1), (3, 5, 2), (17, 33, 9), (50, 784, 20)] {
            for op_a in [Op::N, Op::T] {
                for op_b in [Op::N, Op::T] {
                    let a = filled(m * k, 1);
                    let b = filled(k * n, 2);
                    let mut c = filled(m * n, 3);
                    let c0 = c.clone();
                    gemm(m, k, n, &a, op_a, &b, op_b, 1.0, &mut c);
                    let want = naive(m, k, n, &a, op_a, &b, op_b);
                    for idx in 0..m * n {
                        let expect = want[idx] + c0[idx];
                        assert!((c[idx] - expect).abs() <= 1e-4 * (1.0 + expect.abs()), "{backend:?} {m}x{k}x{n} {op_a:?}{op_b:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn dense_forms_agree_with_their_definitions() {
        // X (2, 3), W (4, 3): Y = X Wᵀ is (2, 4).
        let (batch, n_in, n_out) = (2, 3, 4);
        let x = filled(batch * n_in, 4);
        let w = filled(n_out * n_in, 5);
        let mut y = vec![0.0; batch * n_out];
        forward(&x, &w, &mut y, batch, n_in, n_out);
        assert_eq!(y, naive(batch, n_in, n_out, &x, Op::N, &w, Op::T));
        let dy = filled(batch * n_out, 6);
        let mut dx = vec![0.0; batch * n_in];
        backward_input(&dy, &w, &mut dx, batch, n_in, n_out);
        assert_eq!(dx, naive(batch, n_out, n_in, &dy, Op::N, &w, Op::N));
        let mut dw = vec![1.0; n_out * n_in];
        backward_weights(&dy, &x, &mut dw, batch, n_in, n_out);
        let want: Vec<f32> = naive(n_out, batch, n_in, &dy, Op::T, &x, Op::N).iter().map(|v| v + 1.0).collect();
        assert_eq!(dw, want);
    }
}
