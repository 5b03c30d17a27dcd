//! An exclusive lock on an output path for the duration of a run, so two runs never write
//! the same output, temporary file or checkpoint. The lock is an advisory `flock` on
//! `OUTPUT.lock`: the kernel releases it when the process ends, however it ends, so a killed
//! run never leaves a stale lock behind; a run that ends normally also removes the file.

use std::fs::{File, TryLockError};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Held while a run writes its output; released and removed on drop.
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
    _file: File,
}

/// The lock file that belongs to an output path: `OUTPUT.lock`.
fn lock_path(output: &Path) -> PathBuf {
    let mut p = output.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

impl OutputLock {
    /// Takes the lock on `output`, or fails at once (a config error naming `output.path`)
    /// when another process holds it.
    pub fn acquire(output: &Path) -> Result<Self> {
        let path = lock_path(output);
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        loop {
            let file = File::options()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::config(
                        "output.path",
                        format!("another dmfe run is writing {}", output.display()),
                    ))
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
            // The run that held the lock may have removed its file between our open and our
            // lock: the lock counts only on the file that is still under the name.
            let held = file.metadata().map_err(io)?;
            match std::fs::metadata(&path) {
                Ok(m) if m.dev() == held.dev() && m.ino() == held.ino() => {
                    return Ok(OutputLock { path, _file: file })
                }
                _ => continue,
            }
        }
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still locked; the lock itself goes with the file handle.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.h5");
        let first = OutputLock::acquire(&out).unwrap();
        assert!(lock_path(&out).exists());
        let err = OutputLock::acquire(&out).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "config: output.path: another dmfe run is writing {}",
                out.display()
            )
        );
        drop(first);
        assert!(!lock_path(&out).exists(), "removed on release");
        // A lock file left by a killed run holds no lock.
        std::fs::write(lock_path(&out), b"").unwrap();
        let again = OutputLock::acquire(&out).unwrap();
        drop(again);
        assert!(!lock_path(&out).exists());
    }
}
