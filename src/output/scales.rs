//! HDF5 dimension scales (the H5DS convention of the HDF5 high-level library, which
//! netCDF-4, h5netcdf and xarray read as shared, named coordinates).
//!
//! The high-level library has no Rust binding, so its two calls are declared here; it is
//! linked through the `hl` feature of `hdf5-metno-sys`.

use std::ffi::CString;
use std::os::raw::{c_char, c_uint};

use hdf5_sys::h5::herr_t;
use hdf5_sys::h5i::hid_t;

extern "C" {
    fn H5DSset_scale(dsid: hid_t, dimname: *const c_char) -> herr_t;
    fn H5DSattach_scale(did: hid_t, dsid: hid_t, idx: c_uint) -> herr_t;
    fn H5DSis_scale(did: hid_t) -> i32;
}

/// Makes `ds` a dimension scale named `name`. Returns false when HDF5 refuses.
pub fn set_scale(ds: &hdf5::Dataset, name: &str) -> bool {
    let Ok(name) = CString::new(name) else {
        return false;
    };
    // SAFETY: a valid dataset id and a NUL-terminated string; HDF5 calls go through the
    // crate's global lock.
    hdf5::sync::sync(|| unsafe { H5DSset_scale(ds.id(), name.as_ptr()) }) >= 0
}

/// Whether `ds` is a dimension scale.
pub fn is_scale(ds: &hdf5::Dataset) -> bool {
    // SAFETY: a valid dataset id.
    hdf5::sync::sync(|| unsafe { H5DSis_scale(ds.id()) }) > 0
}

/// Attaches the dimension scale `scale` to axis `axis` of `ds`. Returns false when HDF5
/// refuses.
pub fn attach(ds: &hdf5::Dataset, scale: &hdf5::Dataset, axis: usize) -> bool {
    let Ok(axis) = c_uint::try_from(axis) else {
        return false;
    };
    // SAFETY: valid dataset ids.
    hdf5::sync::sync(|| unsafe { H5DSattach_scale(ds.id(), scale.id(), axis) }) >= 0
}
