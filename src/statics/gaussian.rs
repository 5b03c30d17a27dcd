//! The standard normal density and distribution function in log space, accurate in the far
//! tails (log q needs a log-CDF that is accurate in the far tail).

/// log(2 pi) / 2.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// log phi(x), the log of the standard normal density.
#[inline]
pub fn log_pdf(x: f64) -> f64 {
    -0.5 * x * x - HALF_LN_2PI
}

/// log Phi(x), the log of the standard normal distribution function, with full relative
/// accuracy for all x (never formed as log(1 - Phi(-x)) where that loses digits).
#[inline]
pub fn log_cdf(x: f64) -> f64 {
    if x > 5.0 {
        (-0.5 * libm::erfc(x * std::f64::consts::FRAC_1_SQRT_2)).ln_1p()
    } else if x > -25.0 {
        (0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)).ln()
    } else {
        // Asymptotic series Phi(x) = phi(x)/|x| (1 - 1/x^2 + 3/x^4 - ...), truncated where
        // the next term is below 2e-13.
        let y = 1.0 / (x * x);
        let series =
            1.0 - y * (1.0 - 3.0 * y * (1.0 - 5.0 * y * (1.0 - 7.0 * y * (1.0 - 9.0 * y))));
        log_pdf(x) - (-x).ln() + series.ln()
    }
}

/// log(e^a + e^b) without overflow.
#[inline]
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY {
        hi
    } else {
        hi + (lo - hi).exp().ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_cdf_matches_known_values_and_is_continuous() {
        // Phi(0) = 1/2, Phi(-1.959963984540054) = 0.025.
        assert!((log_cdf(0.0) - 0.5f64.ln()).abs() < 1e-15);
        assert!((log_cdf(-1.959963984540054) - 0.025f64.ln()).abs() < 1e-13);
        // Phi(8) = 1 - 6.220960574271785e-16.
        assert!((log_cdf(8.0) + 6.220960574271785e-16).abs() < 1e-28);
        // The asymptotic series against the erfc form where erfc still has full relative
        // accuracy (it underflows near x = -37).
        for x in [-25.0 - 1e-9, -26.0, -30.0, -35.0] {
            let direct = (0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)).ln();
            let series = log_cdf(x);
            assert!(
                ((series - direct) / direct).abs() < 1e-14,
                "{x}: {series} {direct}"
            );
        }
        // log Phi(-40) = -804.6084420137538 (mpmath).
        assert!((log_cdf(-40.0) + 804.608_442_013_753_8).abs() < 1e-10);
    }
}
