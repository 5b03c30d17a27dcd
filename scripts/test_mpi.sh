#!/usr/bin/env bash
# CI test of the `mpi` feature: installs MPICH and libclang (the rsmpi bindings are generated
# with bindgen) with apt-get when they are missing, then runs tests/mpi.rs, which compares
# `mpirun -n 1, 2, 3 dmfe run` with one process byte for byte (every dataset but wall times)
# and resumes a 2-rank checkpoint on 3 ranks. About two minutes on 2 cores, most of it the
# build with the feature.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v mpirun >/dev/null 2>&1 || need+=(mpich libmpich-dev)
# The C library bindgen loads (libclang.so or libclang-N.so.M), not libclang-cpp, which
# other packages bring without it.
ldconfig -p 2>/dev/null | grep -qE 'libclang(-[0-9]+)?\.so' || need+=(libclang-dev)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "test_mpi: installing ${need[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Open MPI, if that is the mpirun found, refuses root without these (MPICH ignores them).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cargo test --release --features mpi --test mpi
