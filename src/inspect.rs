//! Reading and formatting dmfe output files (`dmfe inspect`): a summary of a run, a row
//! slice of a two-time dataset, a one-dimensional dataset or a whole group as columns or
//! CSV.
//!
//! Everything is read generically from the file (attributes of `config/`, `provenance/`,
//! `summary/`; datasets and their `DIMENSION_LABELS`), so files of both solvers (`solver =
//! "dynamics"` or `"static"`) and of older or newer layouts are shown with what they hold.
//! Errors about the input (missing file, not written by dmfe, unknown dataset, wrong
//! request) are [`Error::Format`] whose message is a complete sentence naming the file.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use hdf5::types::{TypeDescriptor, VarLenAscii, VarLenUnicode};
use ndarray::{Array1, Array2};

use crate::dynamics::kernels::Kernels;
use crate::dynamics::particle::Particle;
use crate::dynamics::population::{Averages, Estimate, Work};
use crate::dynamics::uncertainty::ParticleErrors;
use crate::dynamics::Solution;
use crate::error::{Error, Result};
use crate::output::FORMAT_TAG;

/// A value of an HDF5 attribute, read whatever its stored type.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// A floating-point scalar.
    Float(f64),
    /// A signed integer scalar.
    Int(i64),
    /// An unsigned integer scalar.
    Uint(u64),
    /// A boolean scalar.
    Bool(bool),
    /// A string scalar.
    Str(String),
    /// An array of numbers.
    Floats(Vec<f64>),
    /// An array of strings.
    Strs(Vec<String>),
    /// Anything else, described.
    Other(String),
}

impl AttrValue {
    /// The value as a number, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AttrValue::Float(x) => Some(*x),
            AttrValue::Int(x) => Some(*x as f64),
            AttrValue::Uint(x) => Some(*x as f64),
            AttrValue::Bool(b) => Some(f64::from(u8::from(*b))),
            AttrValue::Floats(v) if v.len() == 1 => Some(v[0]),
            _ => None,
        }
    }

    /// The value as a string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

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

/// Reads one attribute generically.
pub fn read_attr(a: &hdf5::Attribute) -> AttrValue {
    let desc = match a.dtype().and_then(|t| t.to_descriptor()) {
        Ok(d) => d,
        Err(e) => return AttrValue::Other(format!("<unreadable: {e}>")),
    };
    let scalar = a.is_scalar();
    let other = |e: hdf5::Error| AttrValue::Other(format!("<{desc}: {e}>"));
    match &desc {
        TypeDescriptor::Float(_) if scalar => {
            a.read_scalar::<f64>().map_or_else(other, AttrValue::Float)
        }
        TypeDescriptor::Float(_) | TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_)
            if !scalar =>
        {
            a.read_raw::<f64>().map_or_else(other, AttrValue::Floats)
        }
        TypeDescriptor::Integer(_) => a.read_scalar::<i64>().map_or_else(other, AttrValue::Int),
        TypeDescriptor::Unsigned(_) => a.read_scalar::<u64>().map_or_else(other, AttrValue::Uint),
        TypeDescriptor::Boolean | TypeDescriptor::Enum(_) if scalar => {
            match a.read_scalar::<bool>() {
                Ok(b) => AttrValue::Bool(b),
                Err(_) => a.read_scalar::<i64>().map_or_else(other, AttrValue::Int),
            }
        }
        TypeDescriptor::VarLenUnicode if scalar => a
            .read_scalar::<VarLenUnicode>()
            .map_or_else(other, |s| AttrValue::Str(s.to_string())),
        TypeDescriptor::VarLenAscii if scalar => a
            .read_scalar::<VarLenAscii>()
            .map_or_else(other, |s| AttrValue::Str(s.to_string())),
        TypeDescriptor::VarLenUnicode => a.read_raw::<VarLenUnicode>().map_or_else(other, |v| {
            AttrValue::Strs(v.iter().map(|s| s.to_string()).collect())
        }),
        TypeDescriptor::VarLenAscii => a.read_raw::<VarLenAscii>().map_or_else(other, |v| {
            AttrValue::Strs(v.iter().map(|s| s.to_string()).collect())
        }),
        d => AttrValue::Other(format!("<{d}>")),
    }
}

fn attrs_of(loc: &hdf5::Location) -> Vec<(String, AttrValue)> {
    let mut names = loc.attr_names().unwrap_or_default();
    names.sort();
    names
        .into_iter()
        .filter_map(|n| loc.attr(&n).ok().map(|a| (n, read_attr(&a))))
        .collect()
}

fn is_numeric(ds: &hdf5::Dataset) -> bool {
    matches!(
        ds.dtype().and_then(|t| t.to_descriptor()),
        Ok(TypeDescriptor::Float(_) | TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_))
    )
}

/// Appends a line to a `String` (writing to a `String` cannot fail).
macro_rules! line {
    ($s:expr) => { $s.push('\n') };
    ($s:expr, $($arg:tt)*) => {{
        let _ = writeln!($s, $($arg)*);
    }};
}

/// A coordinate axis: a name and its values.
struct Axis {
    name: String,
    values: Array1<f64>,
    /// The dataset the values come from, if any.
    source: Option<String>,
}

/// One opened output file of dmfe.
pub struct OutputFile {
    path: PathBuf,
    file: hdf5::File,
}

impl OutputFile {
    /// Opens `path` and checks that dmfe wrote it (root attribute `dmfe_format`).
    pub fn open(path: &Path) -> Result<Self> {
        let shown = path.display();
        if !path.exists() {
            return Err(fmt_err(path, format!("{shown} does not exist")));
        }
        if path.is_dir() {
            return Err(fmt_err(path, format!("{shown} is a directory")));
        }
        let file = hdf5::File::open(path)
            .map_err(|_| fmt_err(path, format!("{shown} is not an HDF5 file")))?;
        let tag = file.attr("dmfe_format").ok().map(|a| read_attr(&a));
        match tag {
            None => Err(fmt_err(
                path,
                format!("{shown} was not written by dmfe (no dmfe_format attribute)"),
            )),
            Some(AttrValue::Str(t)) if t == FORMAT_TAG => Ok(OutputFile {
                path: path.to_path_buf(),
                file,
            }),
            Some(t) => Err(fmt_err(
                path,
                format!(
                    "{shown} has dmfe_format = {t}; this dmfe {} reads {FORMAT_TAG}",
                    env!("CARGO_PKG_VERSION")
                ),
            )),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, message: impl Into<String>) -> Error {
        fmt_err(&self.path, message)
    }

    fn h5(&self, source: hdf5::Error) -> Error {
        Error::Hdf5 {
            path: self.path.clone(),
            source,
        }
    }

    /// The solver that wrote the file (root attribute `solver`), if recorded.
    pub fn solver(&self) -> Option<String> {
        self.root_attr("solver")
            .and_then(|v| v.as_str().map(str::to_string))
    }

    /// A root attribute.
    pub fn root_attr(&self, key: &str) -> Option<AttrValue> {
        self.file.attr(key).ok().map(|a| read_attr(&a))
    }

    /// All attributes of the group or dataset `path` (sorted by name; empty if absent).
    pub fn attrs(&self, path: &str) -> Vec<(String, AttrValue)> {
        let path = path.trim_matches('/');
        if path.is_empty() {
            return attrs_of(&self.file);
        }
        if let Ok(g) = self.group(path) {
            return attrs_of(&g);
        }
        if let Ok(d) = self.dataset(path) {
            return attrs_of(&d);
        }
        Vec::new()
    }

    /// One attribute of the group or dataset `path`.
    pub fn attr(&self, path: &str, key: &str) -> Option<AttrValue> {
        self.attrs(path)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    fn attr_f64(&self, path: &str, key: &str) -> Option<f64> {
        self.attr(path, key).and_then(|v| v.as_f64())
    }

    fn attr_str(&self, path: &str, key: &str) -> Option<String> {
        self.attr(path, key)
            .and_then(|v| v.as_str().map(str::to_string))
    }

    fn group(&self, name: &str) -> hdf5::Result<hdf5::Group> {
        let name = name.trim_matches('/');
        if name.is_empty() {
            return self.file.group("/");
        }
        if !self.exists(name) {
            return Err("no such group".into());
        }
        self.file.group(name)
    }

    fn dataset(&self, name: &str) -> hdf5::Result<hdf5::Dataset> {
        let name = name.trim_matches('/');
        if !self.exists(name) {
            return Err("no such dataset".into());
        }
        self.file.dataset(name)
    }

    /// Whether every link on the way to `name` exists (no HDF5 error on missing parents).
    fn exists(&self, name: &str) -> bool {
        let mut cur = String::new();
        for part in name.trim_matches('/').split('/') {
            if !cur.is_empty() {
                cur.push('/');
            }
            cur.push_str(part);
            if !self.file.link_exists(&cur) {
                return false;
            }
        }
        !cur.is_empty()
    }

    /// Every dataset in the file with its shape, sorted by path.
    pub fn datasets(&self) -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        self.collect("", &mut out);
        out.sort();
        out
    }

    fn collect(&self, prefix: &str, out: &mut Vec<(String, Vec<usize>)>) {
        let Ok(g) = self.group(prefix) else {
            return;
        };
        for m in g.member_names().unwrap_or_default() {
            let full = if prefix.is_empty() {
                m
            } else {
                format!("{prefix}/{m}")
            };
            if let Ok(d) = self.file.dataset(&full) {
                out.push((full, d.shape()));
            } else if self.file.group(&full).is_ok() {
                self.collect(&full, out);
            }
        }
    }

    /// The named dimensions of a dataset (`DIMENSION_LABELS`), or `dim0`, `dim1`, ...
    pub fn dims(&self, name: &str) -> Vec<String> {
        let ndim = self.dataset(name).map(|d| d.ndim()).unwrap_or(0);
        let labels = match self.attr(name, "DIMENSION_LABELS") {
            Some(AttrValue::Strs(v)) => v,
            _ => Vec::new(),
        };
        (0..ndim)
            .map(|i| match labels.get(i) {
                Some(l) if !l.is_empty() => l.clone(),
                _ => format!("dim{i}"),
            })
            .collect()
    }

    /// Reads a one-dimensional numeric dataset.
    pub fn read_1d(&self, name: &str) -> Result<Array1<f64>> {
        let d = self.dataset(name).map_err(|_| self.unknown(name))?;
        d.read_1d::<f64>().map_err(|e| self.h5(e))
    }

    /// Reads a two-dimensional numeric dataset.
    pub fn read_2d(&self, name: &str) -> Result<Array2<f64>> {
        let d = self.dataset(name).map_err(|_| self.unknown(name))?;
        d.read_2d::<f64>().map_err(|e| self.h5(e))
    }

    fn opt_1d(&self, name: &str) -> Option<Array1<f64>> {
        self.read_1d(name).ok()
    }

    fn unknown(&self, name: &str) -> Error {
        let mut groups: Vec<String> = Vec::new();
        let list: Vec<String> = self
            .datasets()
            .into_iter()
            .map(|(n, shape)| {
                if let Some((g, _)) = n.rsplit_once('/') {
                    if !groups.iter().any(|x| x == g) {
                        groups.push(g.to_string());
                    }
                }
                let dims: Vec<String> = shape.iter().map(|x| x.to_string()).collect();
                format!("{n} ({})", dims.join("x"))
            })
            .collect();
        self.err(format!(
            "{} has no dataset or group '{name}'; groups: {}; datasets: {}",
            self.path.display(),
            groups.join(", "),
            list.join(", ")
        ))
    }

    /// The coordinate axis of dimension `label` with `len` points.
    fn axis(&self, label: &str, len: usize) -> Axis {
        let candidates: &[(&str, &str)] = match label {
            "t" | "t_prime" | "s" => &[("grid/t", "")],
            "point" => &[("branch/gamma", "gamma")],
            _ => &[],
        };
        for (src, name) in candidates {
            if let Some(v) = self.opt_1d(src) {
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

    fn describe(&self, name: &str) -> String {
        let desc = self.attr_str(name, "description").unwrap_or_default();
        let units = self.attr_str(name, "units").unwrap_or_default();
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
    pub fn table(&self, name: &str, at: Option<f64>, csv: bool) -> Result<String> {
        let name = name.trim_matches('/');
        if name.is_empty() {
            return Err(self.err("give a dataset or group name, e.g. observables"));
        }
        if let Ok(d) = self.dataset(name) {
            if !is_numeric(&d) {
                return Err(self.err(format!("{name} in {} is not numeric", self.path.display())));
            }
            return match d.ndim() {
                1 => self.table_1d(name, at, csv),
                2 => match at {
                    Some(t) => self.slice(name, t, csv),
                    None => Err(self.err(format!(
                        "{name} in {} is two-dimensional ({}); give --at T for its row at the \
                         time nearest T",
                        self.path.display(),
                        self.dims(name).join(", ")
                    ))),
                },
                n => Err(self.err(format!(
                    "{name} in {} has {n} dimensions; only 1-D datasets and rows of 2-D ones \
                     are printed",
                    self.path.display()
                ))),
            };
        }
        if self.group(name).is_ok() {
            if at.is_some() {
                return Err(self.err(format!(
                    "{name} is a group; --at applies to a two-dimensional dataset"
                )));
            }
            return self.table_group(name, csv);
        }
        Err(self.unknown(name))
    }

    fn table_1d(&self, name: &str, at: Option<f64>, csv: bool) -> Result<String> {
        let v = self.read_1d(name)?;
        let label = self.dims(name).into_iter().next().unwrap_or_default();
        let axis = self.axis(&label, v.len());
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
            line!(s, "# {}", self.describe(name));
        }
        let cols = [axis.values.view(), v.view()];
        write_columns(&mut s, &[axis.name.as_str(), leaf], &cols, &rows, csv);
        Ok(s)
    }

    fn slice(&self, name: &str, at: f64, csv: bool) -> Result<String> {
        let m = self.read_2d(name)?;
        let dims = self.dims(name);
        let (nr, nc) = m.dim();
        let row_axis = self.axis(&dims[0], nr);
        let col_axis = self.axis(&dims[1], nc);
        if nr == 0 {
            return Err(self.err(format!("{name} in {} is empty", self.path.display())));
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
            line!(s, "# {}", self.describe(name));
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

    fn table_group(&self, group: &str, csv: bool) -> Result<String> {
        let g = self.group(group).map_err(|e| self.h5(e))?;
        let mut names = Vec::new();
        let mut skipped = Vec::new();
        for m in g.member_names().map_err(|e| self.h5(e))? {
            let full = format!("{group}/{m}");
            match self.dataset(&full) {
                Ok(d) if d.ndim() == 1 && is_numeric(&d) => names.push(full),
                Ok(_) => skipped.push(m),
                Err(_) => skipped.push(format!("{m}/")),
            }
        }
        let Some(first) = names.first().cloned() else {
            // A group of attributes only (config/, provenance/, summary/): key = value lines.
            let attrs = self.attrs(group);
            if !attrs.is_empty() {
                let sep = if csv { "," } else { " = " };
                let mut out = if csv {
                    "key,value\n".to_string()
                } else {
                    format!("# attributes of {group}/ in {}\n", self.path.display())
                };
                for (k, v) in attrs {
                    let _ = writeln!(out, "{k}{sep}{v}");
                }
                return Ok(out);
            }
            return Err(self.err(format!(
                "group {group} in {} holds no one-dimensional dataset (members: {})",
                self.path.display(),
                skipped.join(", ")
            )));
        };
        let len = self.read_1d(&first)?.len();
        let label = self.dims(&first).into_iter().next().unwrap_or_default();
        let axis = self.axis(&label, len);
        let mut headers = vec![axis.name.clone()];
        let mut columns = vec![axis.values.clone()];
        for n in &names {
            if axis.source.as_deref() == Some(n.as_str()) {
                continue;
            }
            let v = self.read_1d(n)?;
            if v.len() != len {
                skipped.push(n.rsplit('/').next().unwrap_or(n).to_string());
                continue;
            }
            headers.push(n.rsplit('/').next().unwrap_or(n).to_string());
            columns.push(v);
        }
        let mut s = String::new();
        if !csv {
            line!(s, "# {group} of {}", self.path.display());
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

    /// A human-readable summary: what run this is, whether it converged, key numbers.
    pub fn summary(&self) -> Result<String> {
        let mut s = String::new();
        let solver = self.solver();
        let version = self
            .root_attr("crate_version")
            .map(|v| v.to_string())
            .unwrap_or_else(|| "?".into());
        line!(
            s,
            "{}: dmfe {} output (dmfe_format {FORMAT_TAG}, written by dmfe {version})",
            self.path.display(),
            solver.as_deref().unwrap_or("(unknown solver)")
        );
        line!(s, "solver:      {}", solver.as_deref().unwrap_or("?"));
        if let Some(d) = self.attr_str("/", "description") {
            line!(s, "description: {d}");
        }
        self.attr_block(
            &mut s,
            "config",
            "config:",
            &[
                "potential",
                "phi_hat",
                "T",
                "T0",
                "driving",
                "F",
                "schedule",
                "noise",
                "eps",
                "zeta_hat",
            ],
        );
        match solver.as_deref() {
            Some("static") => self.summary_static(&mut s)?,
            _ => self.summary_dynamics(&mut s)?,
        }
        self.attr_block(
            &mut s,
            "provenance",
            "provenance:",
            &["crate_version", "git_commit", "threads", "wall_seconds"],
        );
        let mut groups: Vec<(String, usize)> = Vec::new();
        for (n, _) in self.datasets() {
            let g = n.split_once('/').map_or("/", |(g, _)| g).to_string();
            match groups.iter_mut().find(|(x, _)| *x == g) {
                Some((_, c)) => *c += 1,
                None => groups.push((g, 1)),
            }
        }
        let parts: Vec<String> = groups.iter().map(|(g, c)| format!("{g}/ ({c})")).collect();
        line!(s, "datasets:    {}", parts.join(", "));
        Ok(s)
    }

    /// The attributes of `path`, `first` keys in order then the rest, wrapped.
    fn attr_block(&self, s: &mut String, path: &str, title: &str, first: &[&str]) {
        let attrs = self.attrs(path);
        if attrs.is_empty() {
            return;
        }
        let mut items: Vec<String> = Vec::new();
        for k in first {
            if let Some((_, v)) = attrs.iter().find(|(n, _)| n == k) {
                items.push(format!("{k} = {v}"));
            }
        }
        for (k, v) in &attrs {
            if !first.contains(&k.as_str()) && k != "DIMENSION_LABELS" {
                items.push(format!("{k} = {v}"));
            }
        }
        wrap(s, title, &items);
    }

    fn summary_dynamics(&self, s: &mut String) -> Result<()> {
        let t = self.opt_1d("grid/t");
        let steps = self.attr_f64("grid", "steps");
        let dt = self.attr_f64("grid", "dt");
        if let Some(t) = &t {
            let mut items = vec![format!("t_max = {}", num(t.last().copied().unwrap_or(0.0)))];
            items.push(format!(
                "steps = {}",
                steps.map_or((t.len().saturating_sub(1)).to_string(), num)
            ));
            if let Some(dt) = dt {
                items.push(format!("dt = {}", num(dt)));
            }
            wrap(s, "grid:", &items);
        }
        let size = self.attr("config", "population_size");
        let seed = self.attr("config", "seed");
        if size.is_some() || seed.is_some() {
            let show = |v: Option<AttrValue>| v.map_or("?".to_string(), |v| v.to_string());
            line!(
                s,
                "population:  size = {}, seed = {}",
                show(size),
                show(seed)
            );
        }
        // Convergence.
        let residual = self.opt_1d("convergence/residual");
        let floor = self.opt_1d("convergence/noise_floor");
        let target = self.opt_1d("convergence/target");
        let iterations = self
            .attr_f64("provenance", "iterations")
            .or_else(|| residual.as_ref().map(|r| r.len() as f64));
        let last = |v: &Option<Array1<f64>>| v.as_ref().and_then(|v| v.last().copied());
        let res = last(&residual).or_else(|| self.attr_f64("provenance", "final_residual"));
        let nf = last(&floor).or_else(|| self.attr_f64("provenance", "final_noise_floor"));
        let tg = last(&target);
        if let Some(res) = res {
            let mut line = format!(
                "convergence: {} iterations, final residual {}",
                iterations.map_or("?".into(), num),
                num(res)
            );
            if let Some(nf) = nf {
                let _ = write!(
                    line,
                    " vs Monte-Carlo noise floor {} (ratio {})",
                    num(nf),
                    num(res / nf)
                );
            }
            if let Some(tg) = tg {
                let verdict = if res <= tg {
                    "converged"
                } else {
                    "NOT converged"
                };
                let _ = write!(line, "; target {}: {verdict}", num(tg));
            }
            line!(s, "{line}");
        }
        // Key numbers.
        let Some(t) = t else {
            return Ok(());
        };
        let n = t.len();
        if n == 0 {
            return Ok(());
        }
        let tf = t[n - 1];
        line!(s, "results:");
        if let Some(dr) = self.opt_1d("observables/delta_r").filter(|v| v.len() == n) {
            line!(s, "  Delta_r(t = {}) = {}", num(tf), num(dr[n - 1]));
        }
        let gamma = self.opt_1d("grid/gamma").filter(|v| v.len() == n);
        let with_se = |name: &str, i: usize| -> Option<String> {
            let v = self.opt_1d(name).filter(|v| v.len() == n)?;
            let se = self.opt_1d(&format!("{name}_se")).filter(|v| v.len() == n);
            Some(match se {
                Some(se) => format!("{} +- {}", num(v[i]), num(se[i])),
                None => num(v[i]),
            })
        };
        if let Some(st) = self.opt_1d("observables/stress").filter(|v| v.len() == n) {
            let i = argmax(&st);
            let mut line = format!(
                "  stress max = {} at t = {}",
                with_se("observables/stress", i).unwrap_or_default(),
                num(t[i])
            );
            if let Some(g) = &gamma {
                let _ = write!(line, ", gamma = {}", num(g[i]));
            }
            line!(s, "{line}");
        }
        for (name, label) in [
            ("stress", "stress (work conjugate of gamma)"),
            ("stress_convected", "convected stress, paper Eq. (24)"),
            ("pressure", "pressure P"),
            ("pressure_c", "pressure along the driving P_c"),
            ("energy", "energy"),
        ] {
            if let Some(v) = with_se(&format!("observables/{name}"), n - 1) {
                line!(s, "  {label}(t = {}) = {v}", num(tf));
            }
        }
        if let Some(k) = self.opt_1d("kernels/kappa").filter(|v| v.len() == n) {
            line!(s, "  kappa(t = {}) = {}", num(tf), num(k[n - 1]));
        }
        if let Some(g) = &gamma {
            if g.iter().any(|x| *x != 0.0) {
                line!(s, "  strain gamma(t = {}) = {}", num(tf), num(g[n - 1]));
            }
        }
        self.summary_equilibrium(s, &t)
    }

    /// For an equilibrium run (T = T0 > 0, no driving, no external noise): the residuals of
    /// the identities of docs/equations.md, by [`crate::dynamics::diagnostics::equilibrium_residuals`].
    fn summary_equilibrium(&self, s: &mut String, t: &Array1<f64>) -> Result<()> {
        let temp = self.attr_f64("config", "T");
        let t0 = self.attr_f64("config", "T0");
        let driving = self.attr_str("config", "driving");
        let noise = self.attr_str("config", "noise");
        let (Some(temp), Some(t0)) = (temp, t0) else {
            return Ok(());
        };
        let equilibrium = temp > 0.0
            && (temp - t0).abs() <= 1e-12 * temp.abs().max(t0.abs())
            && driving.as_deref().is_none_or(|d| d == "none")
            && noise.as_deref().is_none_or(|d| d == "none");
        if !equilibrium {
            return Ok(());
        }
        let n = t.len();
        let read = || -> Option<Solution> {
            let v1 = |name: &str| self.opt_1d(name).filter(|v| v.len() == n);
            let v2 = |name: &str| self.read_2d(name).ok().filter(|m| m.dim() == (n, n));
            let kernels = Kernels {
                kappa: v1("kernels/kappa")?,
                m_c: v2("kernels/m_c")?,
                m_r: v2("kernels/m_r")?,
            };
            let particle = Particle {
                r: v2("correlations/r")?,
                c: v2("correlations/c")?,
                delta_r: v1("observables/delta_r")?,
            };
            let zeros = Array1::zeros(n);
            let or0 = |name: &str| v1(name).unwrap_or_else(|| zeros.clone());
            let est = |name: &str| Estimate {
                mean: or0(&format!("observables/{name}")),
                se: or0(&format!("observables/{name}_se")),
            };
            let averages = Averages {
                kernels: kernels.clone(),
                kappa_se: or0("kernels/kappa_se"),
                m_c_diag_se: or0("kernels/m_c_diag_se"),
                stress: est("stress"),
                stress_convected: est("stress_convected"),
                pressure: est("pressure"),
                pressure_c: est("pressure_c"),
                energy: est("energy"),
                samples: Array2::zeros((n, 0)),
                work: Work::default(),
            };
            let particle_se = ParticleErrors {
                r: v2("correlations/r_se").unwrap_or_else(|| Array2::from_elem((n, n), f64::NAN)),
                c: v2("correlations/c_se").unwrap_or_else(|| Array2::from_elem((n, n), f64::NAN)),
                delta_r: v1("observables/delta_r_se")
                    .unwrap_or_else(|| Array1::from_elem(n, f64::NAN)),
            };
            Some(Solution {
                kernels,
                particle,
                particle_se,
                averages,
                history: Vec::new(),
            })
        };
        let Some(sol) = read() else {
            return Ok(());
        };
        if n < 3 {
            return Ok(());
        }
        let dt = self.attr_f64("grid", "dt").unwrap_or_else(|| t[1] - t[0]);
        let r = crate::dynamics::diagnostics::equilibrium_residuals(&sol, temp, dt);
        let limit = crate::dynamics::diagnostics::noise_only_max_z(n);
        let verdict = |z: f64| {
            if z <= limit {
                format!(
                    "holds within the noise (noise alone reaches about {})",
                    num(limit)
                )
            } else {
                format!(
                    "VIOLATED beyond the noise (which alone reaches about {})",
                    num(limit)
                )
            }
        };
        line!(
            s,
            "equilibrium (T = T0, no driving, no external noise): identities of docs/equations.md"
        );
        line!(
            s,
            "  kappa(t) = beta M_C(t,t): at most {} standard errors: {}; max gap {} of \
             max|kappa|, time-averaged (beta M_C - kappa)/kappa(0) = {} (noise correlated in t, and the \
             O(dt) bias)",
            num(r.kappa_vs_m_c_se),
            verdict(r.kappa_vs_m_c_se),
            num(r.kappa_vs_m_c),
            num(r.kappa_vs_m_c_mean)
        );
        line!(
            s,
            "  M_C(t,t) = M_C(0,0) (TTI): at most {} standard errors: {}; relative {}",
            num(r.m_c_tti_se),
            verdict(r.m_c_tti_se),
            num(r.m_c_tti)
        );
        line!(
            s,
            "  without standard errors (noise and O(dt) bias mixed; relative sup norms): \
             Delta(t,s) = Delta_r(t-s) {}; int_s^t M_R(t,u) du = beta [M_C(t,t) - M_C(t,s)] {}; \
             R(t,s) = beta Delta_r'(t-s) {}",
            num(r.delta_tti),
            num(r.m_r_fdt),
            num(r.r_fdt)
        );
        Ok(())
    }

    fn summary_static(&self, s: &mut String) -> Result<()> {
        let gamma = self.opt_1d("branch/gamma");
        if let Some(g) = &gamma {
            let n = g.len();
            let mut line = format!("branch:      {n} points");
            if n > 0 {
                let _ = write!(line, ", gamma from {} to {}", num(g[0]), num(g[n - 1]));
            }
            if let Some(st) = self.opt_1d("branch/rs_stable").filter(|v| v.len() == n) {
                let k = st.iter().filter(|x| **x > 0.5).count();
                let _ = write!(line, "; replica-symmetric stable at {k} of them");
            }
            line!(s, "{line}");
            if let Some(sig) = self.opt_1d("branch/sigma_hat").filter(|v| v.len() == n) {
                if n > 0 {
                    let i = argmax(&sig);
                    line!(
                        s,
                        "             sigma_hat max = {} at gamma = {}; final sigma_hat = {}",
                        num(sig[i]),
                        num(g[i]),
                        num(sig[n - 1])
                    );
                }
            }
        }
        let attrs = self.attrs("summary");
        if !attrs.is_empty() {
            let order = [
                "delta_eq",
                "mu",
                "sigma_max",
                "gamma_sigma_max",
                "gamma_g",
                "gamma_y",
                "f_variance",
            ];
            let show = |k: &str, v: &AttrValue| match (k, v.as_f64()) {
                ("gamma_g", Some(x)) if x.is_nan() => {
                    "gamma_g = none (lambda_r stays > 0 on the branch)".to_string()
                }
                _ => format!("{k} = {v}"),
            };
            let mut items: Vec<String> = Vec::new();
            for k in order {
                if let Some((_, v)) = attrs.iter().find(|(n, _)| n == k) {
                    items.push(show(k, v));
                }
            }
            for (k, v) in &attrs {
                if !order.contains(&k.as_str()) {
                    items.push(show(k, v));
                }
            }
            wrap(s, "summary:", &items);
        }
        Ok(())
    }
}

fn fmt_err(path: &Path, message: impl Into<String>) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Index of the value nearest `x` (the first on ties; NaNs never chosen unless all are).
fn nearest(values: &Array1<f64>, x: f64) -> usize {
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
fn argmax(values: &Array1<f64>) -> usize {
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
fn wrap(s: &mut String, title: &str, items: &[String]) {
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
fn write_columns(
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
