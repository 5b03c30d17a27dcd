#!/usr/bin/env python3
"""CI check that dmfe's files open in xarray as a DataTree with named, shared coordinates.

Writes a small `dmfe run` file and a `dmfe static` file in a temporary directory, opens both
with `xr.open_datatree(path, engine="h5netcdf")` and checks: no phony dimensions; the
two-time kernels on (t, t_prime) and the responses on (t, s); the coordinates equal
grid/t; convergence on (iteration), samples on (t, sample), the static branch on (point).
Prints "xarray: N passed, M failed" and exits non-zero if any check failed.

Usage: scripts/test_xarray.py [path/to/dmfe]   (default: target/release/dmfe)
"""

import os
import subprocess
import sys
import tempfile
import warnings

import h5py
import numpy as np
import xarray as xr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    dmfe = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "dmfe")
    passed, failed = 0, 0

    def check(name, ok):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAILED: {name}", file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        run, static = os.path.join(tmp, "run.h5"), os.path.join(tmp, "static.h5")
        small = ["--set", "grid.steps=20", "--set", "population.size=2000", "-q"]
        subprocess.run([dmfe, "run", os.path.join(ROOT, "runs", "step-strain.toml"), "-o", run, *small],
                       check=True, stderr=subprocess.DEVNULL)
        subprocess.run([dmfe, "static", os.path.join(ROOT, "runs", "static-hs.toml"), "-o", static, "-q"],
                       check=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = xr.open_datatree(run, engine="h5netcdf")
            branch = xr.open_datatree(static, engine="h5netcdf")
        check("run file: no phony dimensions", "phony" not in str(tree))
        check("static file: no phony dimensions", "phony" not in str(branch))
        check("M_C on (t, t_prime)", tree["kernels/m_c"].dims == ("t", "t_prime"))
        check("C on (t, t_prime)", tree["correlations/c"].dims == ("t", "t_prime"))
        check("M_R on (t, s)", tree["kernels/m_r"].dims == ("t", "s"))
        check("R on (t, s)", tree["correlations/r"].dims == ("t", "s"))
        check("stress on (t)", tree["observables/stress"].dims == ("t",))
        check("residual on (iteration)", tree["convergence/residual"].dims == ("iteration",))
        check("samples on (t, sample)", tree["samples/h"].dims == ("t", "sample"))
        with h5py.File(run, "r") as f:
            t = f["grid/t"][()]
        for name in ("t", "t_prime", "s"):
            check(f"coordinate {name} = grid/t", np.array_equal(tree["kernels"].coords[name].values, t))
        check("branch on (point)", branch["branch/sigma_hat"].dims == ("point",))
    print(f"xarray: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
