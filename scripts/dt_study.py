#!/usr/bin/env python3
"""Time-step study of a dmfe run config: runs it at several grid.steps (fixed t_max, size,
seed) and tabulates, per dt, Delta_r(t_max), e(t_max) and the energy drift with their
standard errors, the equilibrium identity residuals (for T = T0 runs without driving), the
wall time and the total population work; then the observed order of convergence against the
finest dt, p = log2(|x(dt) - x_ref| / |x(dt/2) - x_ref|).

    scripts/dt_study.py runs/quickstart.toml --steps 10 20 40 80 --size 100000 -o study.json
    scripts/dt_study.py runs/equilibrium-glass.toml --steps 25 50 100 --set grid.t_max=5

--dmfe chooses the binary (default: target/release/dmfe), so that two builds can be compared.
The JSON output feeds scripts/plot_work_precision.py.
"""

import argparse
import json
import math
import sys

import numpy as np

from dmfe_study import run_and_read


def identities(f, beta):
    """Time-averaged (beta M_C(t,t) - kappa(t))/kappa(0) over t > 0, and the relative sup
    norms of Delta TTI and of the particle FDT R(t,s) = beta Delta_r'(t-s)."""
    kappa = f["kernels/kappa"][:]
    m_c = f["kernels/m_c"][:]
    n = len(kappa)
    gap = (beta * np.diag(m_c)[1:] - kappa[1:]).mean() / kappa[0]
    d = f["observables/delta_r"][:]
    delta = f["correlations/delta"][:]
    tti = max(abs(delta[t, s] - d[t - s]) for t in range(n) for s in range(t)) / abs(d).max()
    return {"kappa_gap": float(gap), "delta_tti": float(tti)}


def run(binary, config, steps, size, seed, extra, threads):
    sets = [f"grid.steps={steps}"]
    if size:
        sets.append(f"population.size={size}")
    if seed is not None:
        sets.append(f"population.seed={seed}")
    sets += list(extra)

    def read(f):
        t = f["grid/t"][:]
        e = f["observables/energy"][:]
        e_se = f["observables/energy_se"][:]
        d = f["observables/delta_r"][:]
        d_se = f["observables/delta_r_se"][:]
        cfg = f["config"].attrs
        T, T0 = float(cfg["T"]), float(cfg["T0"])
        rec = {
            "steps": steps,
            "dt": float(t[1] - t[0]),
            "t_max": float(t[-1]),
            "delta_r": float(d[-1]),
            "delta_r_se": float(d_se[-1]),
            "energy": float(e[-1]),
            "energy_se": float(e_se[-1]),
            # Energy drift: the late-time mean (last fifth) minus e(0).
            "energy_drift": float(e[-max(1, len(e) // 5):].mean() - e[0]),
            "energy_0": float(e[0]),
            "seconds": float(f["provenance"].attrs["wall_seconds"]),
            "iterations": int(f["provenance"].attrs["iterations"]),
            # Population work: sum over iterations of window^2 (members x steps x memory).
            "work": float((f["convergence/window"][:].astype(float) ** 2).sum()),
        }
        if T == T0 and str(cfg.get("driving", "none")) == "none":
            rec.update(identities(f, 1.0 / T))
        return rec

    return run_and_read(binary, config, sets, threads, read)


def orders(records, key):
    """Observed orders against the finest record, for successive halvings of dt."""
    ref = records[-1][key]
    errs = [abs(r[key] - ref) for r in records[:-1]]
    out = []
    for a, b in zip(errs, errs[1:]):
        out.append(math.log2(a / b) if a > 0 and b > 0 else float("nan"))
    return errs, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config")
    ap.add_argument("--steps", type=int, nargs="+", required=True, help="grid.steps values, coarse to fine")
    ap.add_argument("--size", type=int, help="population.size (default: the config's)")
    ap.add_argument("--seed", type=int, help="population.seed (default: the config's)")
    ap.add_argument("--set", action="append", default=[], help="extra KEY=VALUE overrides")
    ap.add_argument("--dmfe", default="target/release/dmfe", help="dmfe binary")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--label", default="", help="label stored in the output (e.g. 'new scheme')")
    ap.add_argument("-o", "--output", help="write the table as JSON")
    a = ap.parse_args()
    recs = []
    for s in a.steps:
        r = run(a.dmfe, a.config, s, a.size, a.seed, a.set, a.threads)
        recs.append(r)
        print(json.dumps(r), flush=True)
    for key in ["delta_r", "energy", "energy_drift", "kappa_gap", "delta_tti"]:
        if key in recs[0]:
            errs, p = orders(recs, key)
            print(f"{key}: |x - x(finest)| = {['%.3g' % e for e in errs]}, orders {['%.2f' % x for x in p]}")
    if a.output:
        with open(a.output, "w") as fh:
            json.dump({"config": a.config, "label": a.label, "size": a.size, "records": recs}, fh, indent=1)


if __name__ == "__main__":
    sys.exit(main())
