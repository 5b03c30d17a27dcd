#!/usr/bin/env python3
"""Noise study of a dmfe run config: runs it to several t_max (same dt, size and seed), each
without and with importance splitting (population.splitting), and tabulates per run the noise
floor, M_C(t_max, t_max) and e(t_max) with their standard errors, e(0), the lanes of the last
pass, the iterations and the wall time. For an equilibrium liquid M_C(t,t) = M_C(0,0) and
e(t) = e(0) exactly, so the late values also show the bias of a population that has lost its
contacts.

    scripts/noise_study.py runs/quickstart.toml --t-max 2 8 32 --dt 0.1 -o noise.json
    scripts/noise_study.py runs/shear-startup.toml --t-max 4 --dt 0.02 --set population.size=40000

--dmfe chooses the binary (default: target/release/dmfe).
"""

import argparse
import json

from dmfe_study import run_and_read


def run(binary, config, t_max, dt, splitting, extra, threads):
    steps = int(round(t_max / dt))
    sets = [f"grid.t_max={t_max}", f"grid.steps={steps}",
            f"population.splitting={'true' if splitting else 'false'}"] + list(extra)

    def read(f):
        m_c = f["kernels/m_c"][:]
        e = f["observables/energy"][:]
        prov = f["provenance"].attrs
        return {
            "t_max": t_max,
            "dt": dt,
            "splitting": splitting,
            "noise_floor": float(f["convergence/noise_floor"][-1]),
            "m_c_0": float(m_c[0, 0]),
            "m_c_end": float(m_c[-1, -1]),
            "m_c_end_se": float(f["kernels/m_c_diag_se"][-1]),
            "energy_0": float(e[0]),
            "energy_end": float(e[-1]),
            "energy_end_se": float(f["observables/energy_se"][-1]),
            "lanes": int(prov.get("lanes", 0)),
            "iterations": int(prov["iterations"]),
            "seconds": float(prov["wall_seconds"]),
        }

    return run_and_read(binary, config, sets, threads, read)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("config")
    ap.add_argument("--t-max", type=float, nargs="+", required=True)
    ap.add_argument("--dt", type=float, required=True)
    ap.add_argument("--set", action="append", default=[], help="extra --set KEY=VALUE")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--dmfe", default="target/release/dmfe")
    ap.add_argument("-o", "--output", help="JSON file of the table")
    args = ap.parse_args()
    rows = []
    print(f"{'t_max':>6} {'split':>5} {'floor':>7} {'M_C(t,t)':>18} {'M_C(0,0)':>9} "
          f"{'e(t)':>18} {'e(0)':>8} {'lanes':>9} {'iter':>5} {'s':>7}")
    for t_max in args.t_max:
        for splitting in (False, True):
            r = run(args.dmfe, args.config, t_max, args.dt, splitting, args.set, args.threads)
            rows.append(r)
            print(f"{r['t_max']:6.1f} {str(r['splitting']):>5} {r['noise_floor']:7.3f} "
                  f"{r['m_c_end']:9.4f} +- {r['m_c_end_se']:6.4f} {r['m_c_0']:9.4f} "
                  f"{r['energy_end']:9.4f} +- {r['energy_end_se']:6.4f} {r['energy_0']:8.4f} "
                  f"{r['lanes']:9d} {r['iterations']:5d} {r['seconds']:7.1f}", flush=True)
    if args.output:
        with open(args.output, "w") as fh:
            json.dump(rows, fh, indent=1)
    floors = {s: [r["noise_floor"] for r in rows if r["splitting"] == s] for s in (False, True)}
    for s, f in floors.items():
        if len(f) > 1 and min(f) > 0:
            print(f"splitting={s}: noise floor grows {max(f) / min(f):.1f}x over the t_max range")


if __name__ == "__main__":
    main()
