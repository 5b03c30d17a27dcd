//! Zeroed buffers reused across the blocks of a pass. A block's sums (M_C and M_R, n x n
//! each) and its per-member arrays are tens of megabytes; allocating them afresh for every
//! block of 256 members costs more in page faults and zeroing than some of the products
//! that fill them. Every buffer handed out is zero, so which one a block gets never shows
//! in the results.

use std::sync::Mutex;

use ndarray::{Array2, Array3};

/// Free buffers of any length, shared by the threads of a pass.
#[derive(Debug, Default)]
pub struct Pool {
    free: Mutex<Vec<Vec<f64>>>,
}

impl Pool {
    /// A zero buffer of `len` values: a returned one of that length when there is one.
    pub fn take(&self, len: usize) -> Vec<f64> {
        let reused = {
            let mut free = self.free.lock().expect("pool lock");
            free.iter()
                .position(|v| v.len() == len)
                .map(|i| free.swap_remove(i))
        };
        match reused {
            Some(mut v) => {
                v.fill(0.0);
                v
            }
            None => vec![0.0; len],
        }
    }

    /// A zero matrix of shape `dim`.
    pub fn matrix(&self, dim: (usize, usize)) -> Array2<f64> {
        Array2::from_shape_vec(dim, self.take(dim.0 * dim.1)).expect("buffer of the shape")
    }

    /// A zero array of shape `dim`.
    pub fn array3(&self, dim: (usize, usize, usize)) -> Array3<f64> {
        Array3::from_shape_vec(dim, self.take(dim.0 * dim.1 * dim.2)).expect("buffer of the shape")
    }

    /// Returns a buffer for reuse.
    pub fn give(&self, v: Vec<f64>) {
        if !v.is_empty() {
            self.free.lock().expect("pool lock").push(v);
        }
    }

    /// Returns a matrix's or array's buffer for reuse.
    pub fn give_array<D: ndarray::Dimension>(&self, a: ndarray::Array<f64, D>) {
        let (v, offset) = a.into_raw_vec_and_offset();
        if offset == Some(0) {
            self.give(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_zero() {
        let pool = Pool::default();
        let mut m = pool.matrix((3, 4));
        m.fill(7.0);
        pool.give_array(m);
        let again = pool.matrix((4, 3));
        assert_eq!(again, Array2::<f64>::zeros((4, 3)));
        assert!(pool.free.lock().unwrap().is_empty());
        assert_eq!(pool.take(5), vec![0.0; 5]);
    }
}
