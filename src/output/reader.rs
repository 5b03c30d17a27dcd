//! Reading dmfe's HDF5 files: one small typed layer over the `hdf5` crate, used by
//! `dmfe inspect` ([`crate::inspect`]), by the checkpoint reader ([`crate::checkpoint`]) and by
//! the tests. Attributes are read whatever their stored type ([`AttrValue`]); datasets are
//! looked up without HDF5 errors on missing parents; [`OutputFile::solution`] reads a run
//! file back into the [`Solution`] the solver returned. Errors about the input are
//! [`Error::Format`] whose message is a complete sentence naming the file.

use std::path::{Path, PathBuf};

use hdf5::types::{TypeDescriptor, VarLenAscii, VarLenUnicode};
use ndarray::{Array1, Array2};

use super::FORMAT_TAG;
use crate::dynamics::kernels::Kernels;
use crate::dynamics::particle::Particle;
use crate::dynamics::population::{Averages, Estimate, Work};
use crate::dynamics::uncertainty::ParticleErrors;
use crate::dynamics::{Solution, TIME_BLOCK};
use crate::error::{Error, Result};

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

/// Whether a dataset holds numbers.
pub fn is_numeric(ds: &hdf5::Dataset) -> bool {
    matches!(
        ds.dtype().and_then(|t| t.to_descriptor()),
        Ok(TypeDescriptor::Float(_) | TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_))
    )
}

/// One opened HDF5 file of dmfe (a run file, a static file or a checkpoint).
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

    /// Wraps an HDF5 file already opened and checked by the caller (the checkpoint reader,
    /// which has its own format tag).
    pub fn from_file(path: &Path, file: hdf5::File) -> Self {
        OutputFile {
            path: path.to_path_buf(),
            file,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A format error about this file.
    pub fn err(&self, message: impl Into<String>) -> Error {
        fmt_err(&self.path, message)
    }

    /// An HDF5 error about this file.
    pub fn h5(&self, source: hdf5::Error) -> Error {
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

    /// A numeric attribute of `path`.
    pub fn attr_f64(&self, path: &str, key: &str) -> Option<f64> {
        self.attr(path, key).and_then(|v| v.as_f64())
    }

    /// A string attribute of `path`.
    pub fn attr_str(&self, path: &str, key: &str) -> Option<String> {
        self.attr(path, key)
            .and_then(|v| v.as_str().map(str::to_string))
    }

    /// The group `name` ("" or "/" for the root), without HDF5 errors on missing parents.
    pub fn group(&self, name: &str) -> hdf5::Result<hdf5::Group> {
        let name = name.trim_matches('/');
        if name.is_empty() {
            return self.file.group("/");
        }
        if !self.exists(name) {
            return Err("no such group".into());
        }
        self.file.group(name)
    }

    /// The dataset `name`, without HDF5 errors on missing parents.
    pub fn dataset(&self, name: &str) -> hdf5::Result<hdf5::Dataset> {
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

    /// A one-dimensional dataset, if present and readable.
    pub fn opt_1d(&self, name: &str) -> Option<Array1<f64>> {
        self.read_1d(name).ok()
    }

    /// The error for a dataset or group that is not in the file, listing what is.
    pub fn unknown(&self, name: &str) -> Error {
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

    /// A required numeric attribute of `path`, or an error naming it.
    pub fn require_f64(&self, path: &str, key: &str) -> Result<f64> {
        self.attr_f64(path, key).ok_or_else(|| {
            self.err(format!(
                "{} lacks the attribute {path}/{key}",
                self.path.display()
            ))
        })
    }

    /// A required string attribute of `path`, or an error naming it.
    pub fn require_str(&self, path: &str, key: &str) -> Result<String> {
        self.attr_str(path, key).ok_or_else(|| {
            self.err(format!(
                "{} lacks the attribute {path}/{key}",
                self.path.display()
            ))
        })
    }

    /// The solution stored in a run file of `dmfe run` (kernels, particle R, C, Delta_r and
    /// their errors, observables with errors), or None when the file lacks one of the
    /// kernels or correlations or their shapes disagree with `grid/t`. Optional datasets
    /// of older files read as zeros (observables) or NaN (particle errors); samples, work
    /// counters and the residual history are not restored.
    pub fn solution(&self) -> Option<Solution> {
        let n = self.opt_1d("grid/t")?.len();
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
        let or0 = |name: &str| v1(name).unwrap_or_else(|| Array1::zeros(n));
        let est = |name: &str| Estimate {
            mean: or0(&format!("observables/{name}")),
            se: or0(&format!("observables/{name}_se")),
            block_cov: self
                .read_2d(&format!("observables/{name}_block_cov"))
                .ok()
                .filter(|m| m.dim() == (n.div_ceil(TIME_BLOCK), n.div_ceil(TIME_BLOCK)))
                .unwrap_or_else(|| Array2::zeros((0, 0))),
        };
        let averages = Averages {
            kernels: kernels.clone(),
            kappa_se: or0("kernels/kappa_se"),
            m_c_diag_se: or0("kernels/m_c_diag_se"),
            m_c_diag_heaviest: or0("kernels/m_c_diag_heaviest"),
            m_c_diag_families: or0("kernels/m_c_diag_families"),
            stress: est("stress"),
            stress_convected: est("stress_convected"),
            pressure: est("pressure"),
            pressure_c: est("pressure_c"),
            energy: est("energy"),
            samples: Array2::zeros((n, 0)),
            work: Work::default(),
        };
        let nan2 = || Array2::from_elem((n, n), f64::NAN);
        let particle_se = ParticleErrors {
            r: v2("correlations/r_se").unwrap_or_else(nan2),
            c: v2("correlations/c_se").unwrap_or_else(nan2),
            delta_r: v1("observables/delta_r_se").unwrap_or_else(|| Array1::from_elem(n, f64::NAN)),
        };
        Some(Solution {
            kernels,
            particle,
            particle_se,
            averages,
            history: Vec::new(),
        })
    }
}

fn fmt_err(path: &Path, message: impl Into<String>) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        message: message.into(),
    }
}
