#!/usr/bin/env python3
"""Cross-check of the two solvers in an equilibrium glass (docs/equations.md: the static plateau of the dynamics).

Harmonic spheres prepared and kept at T = T0 below the dynamical transition T_d(phi_hat):
the long-time plateau of the MSD Delta_r(t) of `dmfe run` should equal the equilibrium cage
size Delta_eq of `dmfe static`. The plateau is the mean of Delta_r over the last half of the
grid; its error bar is the standard error over independent seeds. The drift (Delta_r at
t_max minus at t_max/2, averaged over seeds) shows whether the plateau was reached.

    python3 -m pip install -r scripts/requirements.txt
    scripts/crosscheck_glass.py [DMFE] [--phi-hat 10 --temperature 0.3 --seeds 2 ...]

Several minutes on 2 cores with the defaults; run on purpose (scripts/validate.sh).
"""

import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dmfe", nargs="?", default=os.path.join(ROOT, "target", "release", "dmfe"))
    p.add_argument("--phi-hat", type=float, default=10.0)
    p.add_argument("--temperature", type=float, default=0.3, help="T = T0")
    p.add_argument("--t-max", type=float, default=20.0)
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--size", type=int, default=100000)
    p.add_argument("--seeds", type=int, default=2)
    a = p.parse_args()

    state = [f"model.phi_hat={a.phi_hat}", f"model.T={a.temperature}", f"model.T0={a.temperature}"]
    sets = lambda keys: [x for k in keys for x in ("--set", k)]  # noqa: E731
    static_cfg = os.path.join(ROOT, "runs", "static-harmonic.toml")
    tr = subprocess.run([a.dmfe, "static", "--transition", static_cfg, *sets(state)],
                        check=True, capture_output=True, text=True).stdout.strip()
    print(tr)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "static.h5")
        subprocess.run([a.dmfe, "static", static_cfg, "-q", "-o", out,
                        *sets(state + ["branch.gamma_max=0.01"])], check=True)
        with h5py.File(out, "r") as f:
            delta_eq = float(f["summary"].attrs["delta_eq"])
        plateaus, drifts = [], []
        for seed in range(1, a.seeds + 1):
            out = os.path.join(tmp, f"glass{seed}.h5")
            keys = state + [f"grid.t_max={a.t_max}", f"grid.steps={a.steps}",
                            f"population.size={a.size}", f"population.seed={seed}"]
            subprocess.run([a.dmfe, "run", os.path.join(ROOT, "runs", "equilibrium-glass.toml"),
                            "-q", "-o", out, *sets(keys)], check=True)
            with h5py.File(out, "r") as f:
                msd = f["observables/delta_r"][()]
                pr = f["provenance"].attrs
                print(f"seed {seed}: {pr['iterations']} iterations, residual {pr['final_residual']:.2e}"
                      f" (noise floor {pr['final_noise_floor']:.2e}), {pr['wall_seconds']:.0f} s")
            half = len(msd) // 2
            plateaus.append(msd[half:].mean())
            drifts.append(msd[-1] - msd[half])
    plateaus = np.array(plateaus)
    se = plateaus.std(ddof=1) / np.sqrt(len(plateaus)) if len(plateaus) > 1 else float("nan")
    print(f"phi_hat = {a.phi_hat}, T = T0 = {a.temperature}")
    print(f"static  Delta_eq        = {delta_eq:.4f}")
    print(f"dynamic plateau Delta_r = {plateaus.mean():.4f} +- {se:.4f} (seeds: {np.round(plateaus, 4).tolist()})")
    print(f"difference              = {plateaus.mean() - delta_eq:+.4f} ({(plateaus.mean() - delta_eq) / se:+.1f} standard errors)")
    print(f"drift over the last half = {np.mean(drifts):+.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
