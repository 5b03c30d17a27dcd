#!/usr/bin/env bash
# Installs what dmfe needs beyond Rust: the HDF5 C library (libhdf5-dev, found through
# pkg-config). Safe to run repeatedly; does nothing when HDF5 is already there.
set -euo pipefail
if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists hdf5; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing libhdf5-dev and pkg-config with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq libhdf5-dev pkg-config >/dev/null
pkg-config --exists hdf5 || { echo "setup: HDF5 still not found by pkg-config" >&2; exit 1; }
