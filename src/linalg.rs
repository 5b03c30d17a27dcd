//! Dense linear algebra on row-major `ndarray` matrices, through faer: matrix products
//! (always sequential inside, so results never depend on the thread count) and a Cholesky
//! factorisation with logged diagonal regularisation.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par, Side};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

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
    mut dst: ArrayViewMut2<f64>,
    alpha: f64,
    a: ArrayView2<f64>,
    transpose_a: bool,
    b: ArrayView2<f64>,
    transpose_b: bool,
) {
    let (ma, mb) = (view(&a), view(&b));
    let ma = if transpose_a { ma.transpose() } else { ma };
    let mb = if transpose_b { mb.transpose() } else { mb };
    matmul(view_mut(&mut dst), Accum::Add, ma, mb, alpha, Par::Seq);
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

/// `a * b` as a new matrix.
pub fn matmul_new(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    let mut out = Array2::zeros((a.nrows(), b.ncols()));
    gemm_add(out.view_mut(), 1.0, a, false, b, false);
    out
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
    let mut delta = 0.0;
    while delta <= scale {
        let m = Mat::from_fn(n, n, |i, j| a[[i, j]] + if i == j { delta } else { 0.0 });
        if let Ok(llt) = m.llt(Side::Lower) {
            let l = llt.L();
            let out = Array2::from_shape_fn((n, n), |(i, j)| if j <= i { l[(i, j)] } else { 0.0 });
            return Some((out, delta));
        }
        delta = if delta == 0.0 {
            1e-13 * scale
        } else {
            delta * 10.0
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn gemm_with_transposes() {
        let a = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let mut c = Array2::zeros((3, 3));
        gemm_add(c.view_mut(), 2.0, a.view(), false, a.view(), true);
        assert_eq!(c, 2.0 * a.dot(&a.t()));
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
