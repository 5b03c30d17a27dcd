"""Running dmfe from the study scripts (dt_study.py, noise_study.py): one run of a config with
--set overrides into a temporary file, read while it exists."""

import os
import subprocess
import tempfile

import h5py


def run_and_read(binary, config, sets, threads, read):
    """Runs `BINARY run CONFIG` with each KEY=VALUE of `sets` as --set (and --threads when
    `threads`), and returns read(f) of the open output file."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run.h5")
        cmd = [binary, "run", config, "-o", out, "-q"]
        for s in sets:
            cmd += ["--set", s]
        if threads:
            cmd += ["--threads", str(threads)]
        subprocess.run(cmd, check=True)
        with h5py.File(out, "r") as f:
            return read(f)
