//! Number formatting and column layout of `dmfe inspect`.

use std::fmt::{self, Write as _};

use ndarray::Array1;

use crate::output::AttrValue;

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::Float(x) => f.write_str(&num(*x)),
            AttrValue::Int(x) => write!(f, "{x}"),
            AttrValue::Uint(x) => write!(f, "{x}"),
            AttrValue::Bool(b) => write!(f, "{b}"),
            AttrValue::Str(s) if s.contains('\n') => {
                write!(f, "<text, {} lines>", s.lines().count())
            }
            AttrValue::Str(s) => f.write_str(s),
            AttrValue::Floats(v) => {
                let parts: Vec<String> = v.iter().map(|x| num(*x)).collect();
                write!(f, "[{}]", parts.join(", "))
            }
            AttrValue::Strs(v) => write!(f, "[{}]", v.join(", ")),
            AttrValue::Other(s) => f.write_str(s),
        }
    }
}

/// A number with about six significant digits, without exponent in the usual range and
/// without trailing zeros (`2`, `0.5`, `1.2346e-7`).
pub fn num(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if (1e-4..1e6).contains(&a) {
        let decimals = (5 - a.log10().floor() as i32).max(0) as usize;
        let s = format!("{x:.decimals$}");
        trim_zeros(&s)
    } else {
        let s = format!("{x:.5e}");
        match s.split_once('e') {
            Some((m, e)) => format!("{}e{e}", trim_zeros(m)),
            None => s,
        }
    }
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// A number for data columns: exact (shortest round-trip representation), with an
/// exponent only for very small or very large magnitudes.
pub fn data(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || !x.is_finite() || (1e-4..1e7).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// Index of the value nearest `x` (the first on ties; NaNs never chosen unless all are).
pub(super) fn nearest(values: &Array1<f64>, x: f64) -> usize {
    let mut best = 0;
    let mut d = f64::INFINITY;
    for (i, v) in values.iter().enumerate() {
        let e = (v - x).abs();
        if e < d {
            d = e;
            best = i;
        }
    }
    best
}

/// Index of the largest value (NaNs ignored).
pub(super) fn argmax(values: &Array1<f64>) -> usize {
    let mut best = 0;
    let mut m = f64::NEG_INFINITY;
    for (i, v) in values.iter().enumerate() {
        if *v > m {
            m = *v;
            best = i;
        }
    }
    best
}

/// `title` followed by `items` joined by ", ", wrapped at about 96 columns under a
/// 13-column indent.
pub(super) fn wrap(s: &mut String, title: &str, items: &[String]) {
    const INDENT: usize = 13;
    const WIDTH: usize = 96;
    let mut line = format!("{title:<INDENT$}");
    let mut first = true;
    for (k, it) in items.iter().enumerate() {
        let piece = if k + 1 < items.len() {
            format!("{it},")
        } else {
            it.clone()
        };
        if !first && line.len() + 1 + piece.len() > WIDTH {
            line!(s, "{}", line.trim_end());
            line = " ".repeat(INDENT);
            first = true;
        }
        if !first {
            line.push(' ');
        }
        line.push_str(&piece);
        first = false;
    }
    line!(s, "{}", line.trim_end());
}

/// Writes `rows` of `cols` under `headers`, as CSV or as aligned columns.
pub(super) fn write_columns(
    s: &mut String,
    headers: &[&str],
    cols: &[ndarray::ArrayView1<f64>],
    rows: &[usize],
    csv: bool,
) {
    const W: usize = 24;
    if csv {
        line!(s, "{}", headers.join(","));
    } else {
        let mut h = String::from("#");
        for (k, name) in headers.iter().enumerate() {
            let w = if k == 0 { W - 1 } else { W };
            let _ = write!(h, "{name:>w$}");
        }
        line!(s, "{h}");
    }
    for &i in rows {
        if csv {
            let parts: Vec<String> = cols.iter().map(|c| data(c[i])).collect();
            line!(s, "{}", parts.join(","));
        } else {
            let mut l = String::new();
            for c in cols {
                let _ = write!(l, "{:>W$}", data(c[i]));
            }
            line!(s, "{l}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_exact_where_asked() {
        assert_eq!(num(2.0), "2");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(1.0 / 3.0), "0.333333");
        assert_eq!(num(123456.7), "123457");
        assert_eq!(num(1.23456789e-7), "1.23457e-7");
        assert_eq!(num(f64::NAN), "NaN");
        assert_eq!(data(0.1), "0.1");
        assert_eq!(data(1e-9), "1e-9");
        assert_eq!(data(0.0), "0");
    }

    #[test]
    fn nearest_and_argmax() {
        let v = Array1::from(vec![0.0, 0.5, 1.0, 1.5]);
        assert_eq!(nearest(&v, 0.74), 1);
        assert_eq!(nearest(&v, 9.0), 3);
        assert_eq!(argmax(&Array1::from(vec![1.0, 3.0, f64::NAN, 2.0])), 1);
    }

    #[test]
    fn wrapping_keeps_every_item() {
        let items: Vec<String> = (0..30).map(|i| format!("key{i} = {i}")).collect();
        let mut s = String::new();
        wrap(&mut s, "config:", &items);
        assert!(s.lines().count() > 1);
        assert!(s.lines().all(|l| l.len() <= 96));
        for it in &items {
            assert!(s.contains(it.as_str()));
        }
    }
}
