//! Dense linear algebra on row-major `ndarray` matrices, through faer: matrix products
//! (always sequential inside, so results never depend on the thread count) and a Cholesky
//! factorisation with logged diagonal regularisation.

use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::reborrow::ReborrowMut;
use faer::{Accum, Mat, MatMut, MatRef, Par, Side};
use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

/// faer's view of an ndarray view of any strides (a sub-block of a matrix included).
fn view<'a>(a: &ArrayView2<'a, f64>) -> MatRef<'a, f64> {
    let (r, c) = a.dim();
    let [rs, cs] = [a.strides()[0], a.strides()[1]];
    // SAFETY: the ndarray view guarantees that every element (i, j), i < r, j < c, at
    // offset i rs + j cs from its first element is valid for reads for 'a, which is all
    // faer reads through these dimensions and strides.
    unsafe { MatRef::from_raw_parts(a.as_ptr(), r, c, rs, cs) }
}

/// faer's mutable view of an ndarray view of any strides without overlapping elements.
fn view_mut<'a>(a: &'a mut ArrayViewMut2<f64>) -> MatMut<'a, f64> {
    let (r, c) = a.dim();
    let [rs, cs] = [a.strides()[0], a.strides()[1]];
    // SAFETY: a mutable ndarray view's elements are distinct and valid for writes while it
    // is borrowed, and faer touches only those, through these dimensions and strides.
    unsafe { MatMut::from_raw_parts_mut(a.as_mut_ptr(), r, c, rs, cs) }
}

/// `dst += alpha * op(a) * op(b)`, where `op` transposes when the flag is set.
pub fn gemm_add(
    dst: ArrayViewMut2<f64>,
    alpha: f64,
    a: ArrayView2<f64>,
    transpose_a: bool,
    b: ArrayView2<f64>,
    transpose_b: bool,
) {
    gemm_add_shaped(
        dst,
        Shape::Full,
        alpha,
        a,
        transpose_a,
        b,
        transpose_b,
        false,
    );
}

/// Which entries of a product [`gemm_add_shaped`] computes or reads: a triangular factor or
/// a symmetric sum costs about half a full product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Every entry of `dst`, from all of `op(b)`.
    Full,
    /// Only the entries of a square `dst` on and below the diagonal (the others are left
    /// untouched), from all of `op(b)`: the lower half of a symmetric sum.
    LowerResult,
    /// Every entry of `dst`, reading only the entries of a square `op(b)` on and above the
    /// diagonal (the others count as zero): a product with an upper triangular factor.
    UpperFactor,
}

/// Column panels of the shaped products: the triangle inside a panel goes to faer's
/// triangular product, the rest of the panel is one full product.
const PANEL: usize = 128;

/// `dst += alpha * op(a) * op(b)` on the entries `shape` says. With `parallel` the column
/// panels are shared out over the threads (for the large products outside the population
/// pass): every panel is one sequential product, so the result does not depend on the
/// number of threads, and equals the sequential one except for a full product, which is
/// one call without panels when sequential.
#[allow(clippy::too_many_arguments)]
pub fn gemm_add_shaped(
    mut dst: ArrayViewMut2<f64>,
    shape: Shape,
    alpha: f64,
    a: ArrayView2<f64>,
    transpose_a: bool,
    b: ArrayView2<f64>,
    transpose_b: bool,
    parallel: bool,
) {
    let (ma, mb) = (operand(&a, transpose_a), operand(&b, transpose_b));
    if parallel {
        let panels: Vec<ArrayViewMut2<f64>> = dst.axis_chunks_iter_mut(Axis(1), PANEL).collect();
        panels
            .into_par_iter()
            .enumerate()
            .for_each(|(i, mut panel)| {
                panel_product(view_mut(&mut panel), i * PANEL, shape, alpha, ma, mb)
            });
        return;
    }
    let mut md = view_mut(&mut dst);
    if shape == Shape::Full {
        matmul(md, Accum::Add, ma, mb, alpha, Par::Seq);
        return;
    }
    let m = md.ncols();
    for j0 in (0..m).step_by(PANEL) {
        let w = PANEL.min(m - j0);
        panel_product(md.rb_mut().subcols_mut(j0, w), j0, shape, alpha, ma, mb);
    }
}

/// `op(a)`, a faer view.
fn operand<'a>(a: &ArrayView2<'a, f64>, transpose: bool) -> MatRef<'a, f64> {
    let m = view(a);
    if transpose {
        m.transpose()
    } else {
        m
    }
}

/// Adds alpha a b to the column panel `panel` = dst[.., j0..j0 + w], on the entries `shape`
/// says.
fn panel_product(
    mut panel: MatMut<f64>,
    j0: usize,
    shape: Shape,
    alpha: f64,
    a: MatRef<f64>,
    b: MatRef<f64>,
) {
    let w = panel.ncols();
    let j1 = j0 + w;
    let full = |dst: MatMut<f64>, a: MatRef<f64>, b: MatRef<f64>| {
        matmul(dst, Accum::Add, a, b, alpha, Par::Seq)
    };
    let triangle = |dst: MatMut<f64>, dst_s: BlockStructure, a, b, b_s: BlockStructure| {
        let rect = BlockStructure::Rectangular;
        triangular::matmul(dst, dst_s, Accum::Add, a, rect, b, b_s, alpha, Par::Seq)
    };
    match shape {
        Shape::Full => full(panel, a, b.subcols(j0, w)),
        // The panel's rows j0..j1 hold a triangle, the rows below are full.
        Shape::LowerResult => {
            let m = panel.nrows();
            let (top, bottom) = panel.split_at_row_mut(j1);
            let b = b.subcols(j0, w);
            triangle(
                top.subrows_mut(j0, w),
                BlockStructure::TriangularLower,
                a.subrows(j0, w),
                b,
                BlockStructure::Rectangular,
            );
            full(bottom, a.subrows(j1, m - j1), b);
        }
        // b's panel: rows before j0 full, rows j0..j1 a triangle, the rest zero.
        Shape::UpperFactor => {
            full(panel.rb_mut(), a.subcols(0, j0), b.submatrix(0, j0, j0, w));
            triangle(
                panel,
                BlockStructure::Rectangular,
                a.subcols(j0, w),
                b.submatrix(j0, j0, w, w),
                BlockStructure::TriangularUpper,
            );
        }
    }
}

/// `a += b` on and below the diagonal of square matrices (the upper triangle of `a` is not
/// touched), rows shared out over the threads in fixed chunks (each element is one
/// addition, so the result does not depend on the thread count). Sums that live on the
/// lower triangle (M_R, and M_C until it is mirrored) are added without reading the upper
/// one: its pages stay unmapped instead of costing a fault each.
pub fn add_lower_parallel(a: &mut Array2<f64>, b: &Array2<f64>) {
    assert_eq!(a.dim(), b.dim(), "equal shapes");
    assert_eq!(a.nrows(), a.ncols(), "square matrices");
    let chunks: Vec<_> = a
        .axis_chunks_iter_mut(Axis(0), 64)
        .zip(b.axis_chunks_iter(Axis(0), 64))
        .enumerate()
        .collect();
    chunks.into_par_iter().for_each(|(c, (mut x, y))| {
        for (r, (mut xr, yr)) in x.rows_mut().into_iter().zip(y.rows()).enumerate() {
            let cols = c * 64 + r + 1;
            let mut head = xr.slice_mut(s![..cols]);
            head += &yr.slice(s![..cols]);
        }
    });
}

/// Copies the strictly lower triangle of a square matrix onto its upper one.
pub fn mirror_lower(a: &mut Array2<f64>) {
    let n = a.nrows();
    for i in 0..n {
        for j in i + 1..n {
            a[[i, j]] = a[[j, i]];
        }
    }
}

/// The dot product of two equally long slices, summed in four interleaved partial sums (so
/// it vectorises) added in a fixed order: the result does not depend on threads.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The lower Cholesky factor L (L L^T = a) of a symmetric matrix, with the smallest
/// diagonal shift `delta` (returned; 0 when none was needed) that makes it numerically
/// positive definite: delta starts at 1e-13 times the largest diagonal entry and grows by
/// factors of 10. A zero matrix gives L = 0. `None` when a shift as large as the largest
/// diagonal entry does not suffice, or an entry is not finite: the matrix is no covariance.
pub fn cholesky_regularised(a: ArrayView2<f64>) -> Option<(Array2<f64>, f64)> {
    let n = a.nrows();
    if a.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let scale = (0..n).map(|i| a[[i, i]].abs()).fold(0.0, f64::max);
    if n == 0 || scale == 0.0 {
        return Some((Array2::zeros((n, n)), 0.0));
    }
    // Powers of ten times the scale, each computed afresh: a running product overshoots the
    // scale by a rounding error and skipped the last shift.
    let shifts = std::iter::once(0.0).chain((-13..=0).map(|k| scale * 10f64.powi(k)));
    for delta in shifts {
        let m = Mat::from_fn(n, n, |i, j| a[[i, j]] + if i == j { delta } else { 0.0 });
        if let Ok(llt) = m.llt(Side::Lower) {
            let l = llt.L();
            let out = Array2::from_shape_fn((n, n), |(i, j)| if j <= i { l[(i, j)] } else { 0.0 });
            return Some((out, delta));
        }
    }
    None
}

/// Eigenvalues of the leading block below this fraction of its largest one count as
/// absent in [`complete_psd`]: the coupling along them is shrunk instead of being
/// explained by an unbounded variance of the trailing points.
const COMPLETION_FLOOR: f64 = 1e-4;

/// Makes the symmetric matrix `a` positive semi-definite by changing its trailing block
/// and its coupling to the leading one, given a positive semi-definite leading block
/// A = a[..k, ..k], which is not changed. With A = Q Lambda Q^T and the coupling
/// B = a[k.., ..k] written as P Q^T, the coupling along eigenvalue lambda_r is shrunk by
/// sqrt(lambda_r / max(lambda_r, tau)) (tau = [`COMPLETION_FLOOR`] times the largest; a
/// coupling along a zero eigenvalue, which no covariance allows, is dropped), which
/// leaves B as it is wherever A can carry it; the trailing block C becomes E + S_+, where E
/// = sum_r P_r P_r^T / max(lambda_r, tau) is the part of it the coupling explains and S_+
/// is the rest, C - E, with its negative eigenvalues set to zero (the nearest positive
/// semi-definite matrix in the Frobenius norm). The Schur complement of A is then S_+, so
/// the whole is positive semi-definite. `None` (and `a` unchanged) when an entry is not
/// finite.
pub fn complete_psd(mut a: ArrayViewMut2<f64>, k: usize) -> Option<()> {
    if a.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let s = a.nrows() - k;
    let lead = Mat::from_fn(k, k, |i, j| 0.5 * (a[[i, j]] + a[[j, i]]));
    let evd = lead.self_adjoint_eigen(Side::Lower).ok()?;
    let (q, lambda) = (evd.U(), evd.S().column_vector());
    let top = (0..k).map(|r| lambda[r]).fold(0.0, f64::max);
    let tau = COMPLETION_FLOOR * top;
    let q = Array2::from_shape_fn((k, k), |(i, r)| q[(i, r)]);
    // P = B Q: the coupling in A's eigenbasis, then shrunk.
    let mut p = Array2::<f64>::zeros((s, k));
    gemm_add(
        p.view_mut(),
        1.0,
        a.slice(s![k.., ..k]),
        false,
        q.view(),
        false,
    );
    for r in 0..k {
        let l = lambda[r];
        let shrink = if l > 0.0 {
            (l / l.max(tau)).sqrt()
        } else {
            0.0
        };
        p.column_mut(r).mapv_inplace(|x| x * shrink);
    }
    let mut coupling = Array2::<f64>::zeros((s, k));
    gemm_add(coupling.view_mut(), 1.0, p.view(), false, q.view(), true);
    // E = P Lambda^{-1} P^T with the shrunk P: W = P Lambda^{-1/2}, E = W W^T.
    for r in 0..k {
        let l = lambda[r];
        let scale = if l > 0.0 { 1.0 / l.sqrt() } else { 0.0 };
        p.column_mut(r).mapv_inplace(|x| x * scale);
    }
    let mut explained = Array2::<f64>::zeros((s, s));
    gemm_add(explained.view_mut(), 1.0, p.view(), false, p.view(), true);
    let c = a.slice(s![k.., k..]);
    let rest = Mat::from_fn(s, s, |i, j| {
        0.5 * (c[[i, j]] + c[[j, i]]) - explained[[i, j]]
    });
    let evd = rest.self_adjoint_eigen(Side::Lower).ok()?;
    let (u, d) = (evd.U(), evd.S().column_vector());
    // S_+ = V V^T with V = U diag(sqrt(max(d, 0))).
    let v = Array2::from_shape_fn((s, s), |(i, r)| u[(i, r)] * d[r].max(0.0).sqrt());
    gemm_add(explained.view_mut(), 1.0, v.view(), false, v.view(), true);
    a.slice_mut(s![k.., k..]).assign(&explained);
    a.slice_mut(s![k.., ..k]).assign(&coupling);
    a.slice_mut(s![..k, k..]).assign(&coupling.t());
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// The completion keeps the leading block, and the coupling where the leading block
    /// carries it, leaves an already positive semi-definite matrix as it is (to rounding),
    /// and makes an indefinite trailing block positive semi-definite; a coupling along a
    /// zero eigenvalue of the leading block is dropped, not paid for with a huge variance.
    #[test]
    fn psd_completion_keeps_what_a_covariance_allows() {
        let (n, k) = (12, 7);
        let x = Array2::from_shape_fn((n, 5), |(i, j)| ((i * 3 + j * 7) % 11) as f64 - 5.0);
        let mut a = Array2::zeros((n, n));
        gemm_add(a.view_mut(), 1.0, x.view(), false, x.view(), true);
        let psd = a.clone();
        complete_psd(a.view_mut(), k).unwrap();
        let scale = psd.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(a
            .iter()
            .zip(&psd)
            .all(|(u, v)| (u - v).abs() < 1e-9 * scale));
        // An indefinite trailing block: its diagonal lowered far below what B implies.
        for i in k..n {
            a[[i, i]] -= 30.0;
        }
        let before = a.clone();
        complete_psd(a.view_mut(), k).unwrap();
        // The leading block is kept exactly; the coupling, which A carries here (X has
        // rank 5), to rounding.
        assert_eq!(a.slice(s![..k, ..k]), before.slice(s![..k, ..k]));
        let coupling = (&a.slice(s![k.., ..k]) - &before.slice(s![k.., ..k])).mapv(f64::abs);
        assert!(coupling.iter().all(|&d| d < 1e-9 * scale));
        assert_eq!(a.slice(s![..k, k..]), a.slice(s![k.., ..k]).t());
        let m = Mat::from_fn(n, n, |i, j| a[[i, j]]);
        let lowest = m.self_adjoint_eigenvalues(Side::Lower).unwrap()[0];
        assert!(lowest > -1e-9 * scale, "lowest eigenvalue {lowest}");
        let m = Mat::from_fn(n, n, |i, j| before[[i, j]]);
        assert!(m.self_adjoint_eigenvalues(Side::Lower).unwrap()[0] < -1.0);
        // Rank-2 leading block, coupled along a direction it does not have.
        let mut b = Array2::<f64>::zeros((4, 4));
        b[[0, 0]] = 1.0;
        b[[1, 1]] = 2.0;
        b[[3, 2]] = 0.5;
        b[[2, 3]] = 0.5;
        b[[3, 3]] = 1.0;
        complete_psd(b.view_mut(), 3).unwrap();
        assert_eq!((b[[3, 2]], b[[2, 3]], b[[3, 3]]), (0.0, 0.0, 1.0));
    }

    #[test]
    fn lower_triangles_add_and_the_upper_is_left_alone() {
        let n = 130;
        let mut a = Array2::from_shape_fn((n, n), |(i, j)| (i * n + j) as f64);
        let b = Array2::from_shape_fn((n, n), |(i, j)| 0.5 + (i + 2 * j) as f64);
        let before = a.clone();
        add_lower_parallel(&mut a, &b);
        for i in 0..n {
            for j in 0..n {
                let want = before[[i, j]] + if j <= i { b[[i, j]] } else { 0.0 };
                assert_eq!(a[[i, j]], want, "({i}, {j})");
            }
        }
    }

    #[test]
    fn gemm_with_transposes() {
        let a = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let mut c = Array2::zeros((3, 3));
        gemm_add(c.view_mut(), 2.0, a.view(), false, a.view(), true);
        assert_eq!(c, 2.0 * a.dot(&a.t()));
    }

    /// The triangular products agree with the full product on the parts they compute and
    /// leave the rest of the destination alone.
    #[test]
    fn shaped_products() {
        let n = 70;
        let a = Array2::from_shape_fn((40, n), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
        let l = Array2::from_shape_fn(
            (n, n),
            |(i, j)| if j <= i { (i + 2 * j) as f64 } else { 0.0 },
        );
        // a L^T with L lower: the upper factor L^T.
        let mut full = Array2::zeros((40, n));
        gemm_add(full.view_mut(), 1.0, a.view(), false, l.view(), true);
        let mut part = Array2::zeros((40, n));
        gemm_add_shaped(
            part.view_mut(),
            Shape::UpperFactor,
            1.0,
            a.view(),
            false,
            l.view(),
            true,
            false,
        );
        assert_eq!(part, full);
        // The lower triangle of a^T a.
        let mut full = Array2::zeros((n, n));
        gemm_add(full.view_mut(), 1.0, a.view(), true, a.view(), false);
        let mut part = Array2::from_elem((n, n), 0.5);
        gemm_add_shaped(
            part.view_mut(),
            Shape::LowerResult,
            1.0,
            a.view(),
            true,
            a.view(),
            false,
            false,
        );
        for i in 0..n {
            for j in 0..n {
                let want = if j <= i { full[[i, j]] + 0.5 } else { 0.5 };
                assert_eq!(part[[i, j]], want, "{i} {j}");
            }
        }
        mirror_lower(&mut part);
        assert_eq!(part, full.mapv(|x| x + 0.5));
    }

    /// The parallel products are their sequential panels: equal to the sequential ones bit
    /// for bit for the triangular shapes, and on any number of threads for every shape.
    #[test]
    fn parallel_products_do_not_depend_on_threads() {
        let n = 300;
        let a = Array2::from_shape_fn((n, n), |(i, j)| {
            ((i * 31 + j * 17) % 101) as f64 / 7.3 - 6.0
        });
        let l = Array2::from_shape_fn((n, n), |(i, j)| {
            if j <= i {
                ((i + 3 * j) % 13) as f64 / 3.1
            } else {
                0.0
            }
        });
        let run = |threads: usize, parallel: bool, shape: Shape| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut out = Array2::zeros((n, n));
                gemm_add_shaped(
                    out.view_mut(),
                    shape,
                    0.7,
                    a.view(),
                    false,
                    l.view(),
                    true,
                    parallel,
                );
                out
            })
        };
        for shape in [Shape::LowerResult, Shape::UpperFactor] {
            let sequential = run(1, false, shape);
            assert_eq!(run(1, true, shape), sequential);
            assert_eq!(run(2, true, shape), sequential);
        }
        assert_eq!(run(1, true, Shape::Full), run(2, true, Shape::Full));
        // And they are the products.
        let mut full = Array2::zeros((n, n));
        gemm_add(full.view_mut(), 0.7, a.view(), false, l.view(), true);
        let upper = run(2, true, Shape::UpperFactor);
        let err = (&upper - &full).iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(
            err < 1e-9 * full.iter().fold(0.0f64, |m, x| m.max(x.abs())),
            "{err}"
        );
    }

    #[test]
    fn cholesky_of_singular_matrix_is_regularised() {
        // rank one: v v^T
        let v = array![1.0, 2.0, 3.0];
        let a = Array2::from_shape_fn((3, 3), |(i, j)| v[i] * v[j]);
        let (l, delta) = cholesky_regularised(a.view()).unwrap();
        assert!(delta > 0.0 && delta < 1e-6);
        let back = l.dot(&l.t());
        for i in 0..3 {
            for j in 0..3 {
                let expect = a[[i, j]] + if i == j { delta } else { 0.0 };
                assert!((back[[i, j]] - expect).abs() < 1e-9);
            }
        }
    }

    /// A matrix that only the largest shift, the largest diagonal entry itself, makes
    /// positive definite (eigenvalue -0.14 of it, as in a noisy strained M_C) is factorised
    /// with that shift, also for a scale whose powers of ten do not round back to it.
    #[test]
    fn cholesky_tries_the_largest_shift() {
        for scale in [1.0, 0.43778057213857435] {
            let a = array![[scale, 0.0], [0.0, -0.14 * scale]];
            let (l, delta) = cholesky_regularised(a.view()).expect("shift by the scale");
            assert_eq!(delta, scale);
            assert!((l[[1, 1]].powi(2) - 0.86 * scale).abs() < 1e-12);
        }
    }

    #[test]
    fn cholesky_gives_up_on_what_is_no_covariance() {
        let negative = array![[-2.0, 0.0], [0.0, -2.0]];
        assert!(cholesky_regularised(negative.view()).is_none());
        let overflowed = array![[f64::INFINITY, 0.0], [0.0, 1.0]];
        assert!(cholesky_regularised(overflowed.view()).is_none());
        let nan = array![[1.0, f64::NAN], [f64::NAN, 1.0]];
        assert!(cholesky_regularised(nan.view()).is_none());
    }
}
