//! Datasets and groups of a dmfe file as columns or CSV (`dmfe inspect FILE NAME`).

use std::fmt::Write as _;

use ndarray::Array1;

use super::format::{data, nearest, write_columns};
use crate::error::Result;
use crate::output::{is_numeric, OutputFile};

/// A coordinate axis: a name and its values.
struct Axis {
    name: String,
    values: Array1<f64>,
    /// The dataset the values come from, if any.
    source: Option<String>,
}

/// The coordinate axis of dimension `label` with `len` points.
fn axis(file: &OutputFile, label: &str, len: usize) -> Axis {
    let candidates: &[(&str, &str)] = match label {
        "t" | "t_prime" | "s" => &[("grid/t", "")],
        "point" => &[("branch/gamma", "gamma")],
        _ => &[],
    };
    for (src, name) in candidates {
        if let Some(v) = file.opt_1d(src) {
            if v.len() == len {
                let name = if name.is_empty() { label } else { name };
                return Axis {
                    name: name.to_string(),
                    values: v,
                    source: Some((*src).to_string()),
                };
            }
        }
    }
    let first = if label == "iteration" { 1.0 } else { 0.0 };
    Axis {
        name: label.to_string(),
        values: Array1::from_shape_fn(len, |i| first + i as f64),
        source: None,
    }
}

fn describe(file: &OutputFile, name: &str) -> String {
    let desc = file.attr_str(name, "description").unwrap_or_default();
    let units = file.attr_str(name, "units").unwrap_or_default();
    match (desc.is_empty(), units.is_empty()) {
        (true, true) => name.to_string(),
        (false, true) => format!("{name}: {desc}"),
        (true, false) => format!("{name} [{units}]"),
        (false, false) => format!("{name}: {desc} [{units}]"),
    }
}

/// Formats the dataset or group `name`: a group's one-dimensional datasets as columns
/// (coordinate first), a one-dimensional dataset as "coordinate value" columns, or the
/// row of a two-dimensional dataset at the time nearest `at`. With `csv`, comma-separated
/// with a header line; otherwise aligned columns under a `#` header.
pub fn table(file: &OutputFile, name: &str, at: Option<f64>, csv: bool) -> Result<String> {
    let name = name.trim_matches('/');
    if name.is_empty() {
        return Err(file.err("give a dataset or group name, e.g. observables"));
    }
    if let Ok(d) = file.dataset(name) {
        if !is_numeric(&d) {
            return Err(file.err(format!(
                "{name} in {} is not numeric",
                file.path().display()
            )));
        }
        return match d.ndim() {
            1 => table_1d(file, name, at, csv),
            2 => match at {
                Some(t) => slice(file, name, t, csv),
                None => Err(file.err(format!(
                    "{name} in {} is two-dimensional ({}); give --at T for its row at the \
                     time nearest T",
                    file.path().display(),
                    file.dims(name).join(", ")
                ))),
            },
            n => Err(file.err(format!(
                "{name} in {} has {n} dimensions; only 1-D datasets and rows of 2-D ones \
                 are printed",
                file.path().display()
            ))),
        };
    }
    if file.group(name).is_ok() {
        if at.is_some() {
            return Err(file.err(format!(
                "{name} is a group; --at applies to a two-dimensional dataset"
            )));
        }
        return table_group(file, name, csv);
    }
    Err(file.unknown(name))
}

fn table_1d(file: &OutputFile, name: &str, at: Option<f64>, csv: bool) -> Result<String> {
    let v = file.read_1d(name)?;
    let label = file.dims(name).into_iter().next().unwrap_or_default();
    let axis = axis(file, &label, v.len());
    let leaf = name.rsplit('/').next().unwrap_or(name);
    let mut s = String::new();
    let rows: Vec<usize> = match at {
        Some(t) => {
            let i = nearest(&axis.values, t);
            line!(
                s,
                "# {} at {} = {} (nearest to {})",
                name,
                axis.name,
                data(axis.values[i]),
                data(t)
            );
            vec![i]
        }
        None => (0..v.len()).collect(),
    };
    if !csv {
        line!(s, "# {}", describe(file, name));
    }
    let cols = [axis.values.view(), v.view()];
    write_columns(&mut s, &[axis.name.as_str(), leaf], &cols, &rows, csv);
    Ok(s)
}

fn slice(file: &OutputFile, name: &str, at: f64, csv: bool) -> Result<String> {
    let m = file.read_2d(name)?;
    let dims = file.dims(name);
    let (nr, nc) = m.dim();
    let row_axis = axis(file, &dims[0], nr);
    let col_axis = axis(file, &dims[1], nc);
    if nr == 0 {
        return Err(file.err(format!("{name} in {} is empty", file.path().display())));
    }
    let i = nearest(&row_axis.values, at);
    let mut s = String::new();
    line!(
        s,
        "# {name} at {} = {} (row {i} of {nr}, nearest to {})",
        row_axis.name,
        data(row_axis.values[i]),
        data(at)
    );
    if !csv {
        line!(s, "# {}", describe(file, name));
    }
    let row = m.row(i).to_owned();
    let cols = [col_axis.values.view(), row.view()];
    let rows: Vec<usize> = (0..nc).collect();
    write_columns(
        &mut s,
        &[col_axis.name.as_str(), "value"],
        &cols,
        &rows,
        csv,
    );
    Ok(s)
}

fn table_group(file: &OutputFile, group: &str, csv: bool) -> Result<String> {
    let g = file.group(group).map_err(|e| file.h5(e))?;
    let mut names = Vec::new();
    let mut skipped = Vec::new();
    for m in g.member_names().map_err(|e| file.h5(e))? {
        let full = format!("{group}/{m}");
        match file.dataset(&full) {
            Ok(d) if d.ndim() == 1 && is_numeric(&d) => names.push(full),
            Ok(_) => skipped.push(m),
            Err(_) => skipped.push(format!("{m}/")),
        }
    }
    let Some(first) = names.first().cloned() else {
        // A group of attributes only (config/, provenance/, summary/): key = value lines.
        let attrs = file.attrs(group);
        if !attrs.is_empty() {
            let sep = if csv { "," } else { " = " };
            let mut out = if csv {
                "key,value\n".to_string()
            } else {
                format!("# attributes of {group}/ in {}\n", file.path().display())
            };
            for (k, v) in attrs {
                let _ = writeln!(out, "{k}{sep}{v}");
            }
            return Ok(out);
        }
        return Err(file.err(format!(
            "group {group} in {} holds no one-dimensional dataset (members: {})",
            file.path().display(),
            skipped.join(", ")
        )));
    };
    let len = file.read_1d(&first)?.len();
    let label = file.dims(&first).into_iter().next().unwrap_or_default();
    let axis = axis(file, &label, len);
    let mut headers = vec![axis.name.clone()];
    let mut columns = vec![axis.values.clone()];
    for n in &names {
        if axis.source.as_deref() == Some(n.as_str()) {
            continue;
        }
        let v = file.read_1d(n)?;
        if v.len() != len {
            skipped.push(n.rsplit('/').next().unwrap_or(n).to_string());
            continue;
        }
        headers.push(n.rsplit('/').next().unwrap_or(n).to_string());
        columns.push(v);
    }
    let mut s = String::new();
    if !csv {
        line!(s, "# {group} of {}", file.path().display());
        if !skipped.is_empty() {
            line!(
                s,
                "# not shown (not 1-D over {label}): {}",
                skipped.join(", ")
            );
        }
    }
    let views: Vec<_> = columns.iter().map(|c| c.view()).collect();
    let hdr: Vec<&str> = headers.iter().map(String::as_str).collect();
    let rows: Vec<usize> = (0..len).collect();
    write_columns(&mut s, &hdr, &views, &rows, csv);
    Ok(s)
}
