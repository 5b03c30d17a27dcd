//! A small HDF5 writer: every dataset gets `description`, `units` and named dimensions
//! (`DIMENSION_LABELS`, read by h5py as `ds.dims[i].label`) and is checksummed (Fletcher32,
//! verified by HDF5 on every read). The file is written under a
//! temporary name and renamed when [`H5Writer::finish`] is called, so an interrupted write
//! never leaves a partial file under the final name nor destroys an existing one.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use hdf5::types::VarLenUnicode;
use ndarray::{ArrayView1, ArrayView2};

use super::scales;
use crate::error::{Error, Result};

/// Writer of one output file (see the module docs).
pub struct H5Writer {
    file: Option<hdf5::File>,
    tmp_path: PathBuf,
    final_path: PathBuf,
}

/// Values per chunk of a dataset (1 MiB of doubles): each chunk carries its own Fletcher32
/// checksum, which HDF5 verifies whenever the chunk is read, so a damaged byte fails the read.
const CHUNK_VALUES: usize = 1 << 17;

fn vlu(s: &str) -> VarLenUnicode {
    // Interior NULs cannot occur in our strings; replace them defensively.
    VarLenUnicode::from_str(&s.replace('\0', " ")).expect("no NUL")
}

/// Fails with a clear error when the directory of `path` does not exist.
fn require_directory(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if dir.is_dir() {
        return Ok(());
    }
    Err(Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("output directory {} does not exist", dir.display()),
        ),
    })
}

/// The temporary name `path.tmp` a file is written under before its rename.
fn temporary(path: &Path) -> PathBuf {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    PathBuf::from(tmp)
}

/// Whether `a` and `b` are the same existing file (after resolving links and `..`).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

impl H5Writer {
    /// Starts writing `path` (under the temporary name `path.tmp`), tagged as a dmfe output
    /// file. Fails with a clear error when the directory does not exist or is not writable;
    /// an existing file at `path` is left untouched until [`H5Writer::finish`].
    pub fn create(path: &Path) -> Result<Self> {
        Self::create_tagged(path, super::FORMAT_TAG)
    }

    /// As [`H5Writer::create`], with root attribute `dmfe_format = tag`.
    pub fn create_tagged(path: &Path, tag: &str) -> Result<Self> {
        require_directory(path)?;
        let tmp_path = temporary(path);
        // No HDF5 file lock: the file appears under its name only when complete (temporary
        // name, then rename), and HDF5 opens without close-on-exec, so a lock taken here
        // would be inherited by any process spawned meanwhile (by a program using this
        // library) and keep refusing readers of the finished file while that process lives.
        let file = hdf5::File::with_options()
            .with_fapl(|p| p.file_locking(false))
            .create(&tmp_path)
            .map_err(|source| Error::Hdf5 {
                path: tmp_path.clone(),
                source,
            })?;
        let w = H5Writer {
            file: Some(file),
            tmp_path,
            final_path: path.to_path_buf(),
        };
        w.attr_str("/", "dmfe_format", tag)?;
        Ok(w)
    }

    /// Checks, before a long computation, that `path` can be written without harm: it names
    /// a file, it is none of `inputs` (the files the run reads), neither it nor its temporary
    /// `path.tmp` is a directory, and its directory exists and accepts a new file. Creates and
    /// removes a probe; touches no existing file.
    pub fn check_writable(path: &Path, inputs: &[&Path]) -> Result<()> {
        if path.file_name().is_none() {
            return Err(Error::config(
                "output.path",
                format!("{:?} names no file", path.display().to_string()),
            ));
        }
        if inputs.iter().any(|i| same_file(path, i)) {
            return Err(Error::config(
                "output.path",
                format!(
                    "{} is an input of this run; choose another output path",
                    path.display()
                ),
            ));
        }
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let tmp = temporary(path);
        for p in [path, tmp.as_path()] {
            if p.is_dir() {
                return Err(Error::Io {
                    path: p.to_path_buf(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::IsADirectory,
                        "is a directory; the output needs this name for a file",
                    ),
                });
            }
        }
        require_directory(path)?;
        let mut probe = path.as_os_str().to_owned();
        probe.push(".probe");
        let probe = PathBuf::from(probe);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)
            .map_err(io)?;
        std::fs::remove_file(&probe).map_err(io)
    }

    fn file(&self) -> &hdf5::File {
        self.file.as_ref().expect("file open until finish")
    }

    fn err(&self, source: hdf5::Error) -> Error {
        Error::Hdf5 {
            path: self.final_path.clone(),
            source,
        }
    }

    fn location(&self, path: &str) -> Result<hdf5::Location> {
        let f = self.file();
        if path == "/" || path.is_empty() {
            return Ok((***f).clone());
        }
        if let Ok(g) = f.group(path) {
            return Ok((*g).clone());
        }
        if let Ok(d) = f.dataset(path) {
            return Ok((**d).clone());
        }
        // Create missing groups on the way.
        let g = self.ensure_group(path)?;
        Ok((*g).clone())
    }

    fn ensure_group(&self, path: &str) -> Result<hdf5::Group> {
        let f = self.file();
        let mut cur = String::new();
        for part in path.trim_matches('/').split('/') {
            cur.push('/');
            cur.push_str(part);
            if f.group(&cur).is_err() {
                f.create_group(&cur).map_err(|e| self.err(e))?;
            }
        }
        f.group(&cur).map_err(|e| self.err(e))
    }

    fn parent_group(&self, name: &str) -> Result<()> {
        if let Some((parent, _)) = name.trim_start_matches('/').rsplit_once('/') {
            self.ensure_group(parent)?;
        }
        Ok(())
    }

    fn describe(
        &self,
        ds: &hdf5::Dataset,
        dims: &[&str],
        units: &str,
        description: &str,
    ) -> Result<()> {
        let e = |e| self.err(e);
        ds.new_attr::<VarLenUnicode>()
            .shape(())
            .create("description")
            .and_then(|a| a.write_scalar(&vlu(description)))
            .map_err(e)?;
        ds.new_attr::<VarLenUnicode>()
            .shape(())
            .create("units")
            .and_then(|a| a.write_scalar(&vlu(units)))
            .map_err(e)?;
        let labels: Vec<VarLenUnicode> = dims.iter().map(|d| vlu(d)).collect();
        ds.new_attr::<VarLenUnicode>()
            .shape(labels.len())
            .create("DIMENSION_LABELS")
            .and_then(|a| a.write(&labels))
            .map_err(e)?;
        // Axes named after a root-level dimension scale get it attached.
        for (axis, dim) in dims.iter().enumerate() {
            if let Ok(scale) = self.file().dataset(dim) {
                let own = scale.name() == ds.name();
                if !own && scales::is_scale(&scale) && !scales::attach(ds, &scale, axis) {
                    return Err(self.err(hdf5::Error::from(format!(
                        "cannot attach the dimension scale {dim} to {}",
                        ds.name()
                    ))));
                }
            }
        }
        Ok(())
    }

    /// Writes the root-level dimension scale `name` (a coordinate shared by every dataset
    /// with an axis labelled `name`, written after it; netCDF-4 and xarray read it as such).
    pub fn dimension_scale(
        &self,
        name: &str,
        values: ArrayView1<f64>,
        units: &str,
        description: &str,
    ) -> Result<()> {
        let ds = self.create_dataset(name, &values.to_owned())?;
        if !scales::set_scale(&ds, name) {
            return Err(self.err(hdf5::Error::from(format!(
                "cannot make {name} a dimension scale"
            ))));
        }
        self.describe(&ds, &[name], units, description)
    }

    /// Creates dataset `name` holding `data`, in chunks of about [`CHUNK_VALUES`] values
    /// with a Fletcher32 checksum each (an empty dataset is stored plain).
    fn create_dataset<D: ndarray::Dimension>(
        &self,
        name: &str,
        data: &ndarray::Array<f64, D>,
    ) -> Result<hdf5::Dataset> {
        self.parent_group(name)?;
        let shape = data.shape();
        let builder = self.file().new_dataset_builder().with_data(data);
        let builder = match shape {
            _ if shape.contains(&0) => builder,
            [n] => builder.chunk((*n).min(CHUNK_VALUES)).fletcher32(),
            [rows, cols] => builder
                .chunk(((CHUNK_VALUES / cols).clamp(1, *rows), *cols))
                .fletcher32(),
            _ => unreachable!("one- and two-dimensional datasets only"),
        };
        builder.create(name).map_err(|e| self.err(e))
    }

    /// Writes a one-dimensional dataset `name` (groups are created as needed).
    pub fn write_1d(
        &self,
        name: &str,
        data: ArrayView1<f64>,
        dim: &str,
        units: &str,
        description: &str,
    ) -> Result<()> {
        let ds = self.create_dataset(name, &data.to_owned())?;
        self.describe(&ds, &[dim], units, description)
    }

    /// Writes a two-dimensional dataset `name`, row index first (`dims[0]`).
    pub fn write_2d(
        &self,
        name: &str,
        data: ArrayView2<f64>,
        dims: [&str; 2],
        units: &str,
        description: &str,
    ) -> Result<()> {
        let ds = self.create_dataset(name, &data.as_standard_layout().to_owned())?;
        self.describe(&ds, &dims, units, description)
    }

    /// Writes a UTF-8 string attribute `key` on the group or dataset `path`.
    pub fn attr_str(&self, path: &str, key: &str, value: &str) -> Result<()> {
        let loc = self.location(path)?;
        loc.new_attr::<VarLenUnicode>()
            .shape(())
            .create(key)
            .and_then(|a| a.write_scalar(&vlu(value)))
            .map_err(|e| self.err(e))
    }

    /// Writes a floating-point attribute `key` on the group or dataset `path`.
    pub fn attr_f64(&self, path: &str, key: &str, value: f64) -> Result<()> {
        self.scalar_attr(path, key, value)
    }

    /// Writes an integer attribute `key` on the group or dataset `path`.
    pub fn attr_u64(&self, path: &str, key: &str, value: u64) -> Result<()> {
        self.scalar_attr(path, key, value)
    }

    fn scalar_attr<T: hdf5::H5Type>(&self, path: &str, key: &str, value: T) -> Result<()> {
        let loc = self.location(path)?;
        loc.new_attr::<T>()
            .shape(())
            .create(key)
            .and_then(|a| a.write_scalar(&value))
            .map_err(|e| self.err(e))
    }

    /// Flushes and closes the file, then renames it to its final name.
    pub fn finish(mut self) -> Result<PathBuf> {
        let file = self.file.take().expect("file open until finish");
        let flushed = file.flush();
        drop(file);
        let done = match flushed {
            Ok(()) => {
                std::fs::rename(&self.tmp_path, &self.final_path).map_err(|source| Error::Io {
                    path: self.final_path.clone(),
                    source,
                })
            }
            Err(e) => Err(self.err(e)),
        };
        if done.is_err() {
            // A full disk or a failed rename: the final file (if any) is untouched.
            let _ = std::fs::remove_file(&self.tmp_path);
        }
        done.map(|()| self.final_path.clone())
    }
}

impl Drop for H5Writer {
    fn drop(&mut self) {
        // Not finished: discard the temporary file, never the final one.
        if let Some(f) = self.file.take() {
            drop(f);
            let _ = std::fs::remove_file(&self.tmp_path);
        }
    }
}
