#!/usr/bin/env python3
"""Work-precision figure from the JSON tables of scripts/dt_study.py: error against wall
seconds (same machine, same thread count), one line per table (e.g. the previous scheme and
the current one), one point per dt.

Errors shown, each with an exact or common reference:
  - the equilibrium energy drift |mean e(late) - e(0)|, exactly 0 in the continuum;
  - the identity residual |time-averaged beta M_C(t,t) - kappa(t)| / kappa(0), exactly 0;
  - |Delta_r(t_max) - reference|, the reference being --delta-ref or else the finest dt of
    the last table; the Monte-Carlo standard error of Delta_r is drawn as a dotted line.

    scripts/plot_work_precision.py old.json new.json -o figs/work_precision.png
"""

import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tables", nargs="+", help="JSON files of scripts/dt_study.py")
    ap.add_argument("--delta-ref", type=float, help="reference Delta_r(t_max)")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    tables = [json.load(open(p)) for p in a.tables]
    ref = a.delta_ref if a.delta_ref is not None else tables[-1]["records"][-1]["delta_r"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    panels = [
        ("energy drift |e(late) - e(0)|", lambda r: abs(r["energy_drift"])),
        ("|beta M_C(t,t) - kappa(t)| / kappa(0)", lambda r: abs(r.get("kappa_gap", float("nan")))),
        ("|Delta_r(t_max) - ref|", lambda r: abs(r["delta_r"] - ref)),
    ]
    for path, tab in zip(a.tables, tables):
        label = tab.get("label") or path
        recs = tab["records"]
        secs = [r["seconds"] for r in recs]
        for ax, (title, f) in zip(axes, panels):
            ax.loglog(secs, [f(r) for r in recs], "o-", label=label)
            for r, x in zip(recs, secs):
                ax.annotate(f"dt={r['dt']:g}", (x, f(r)), fontsize=7, textcoords="offset points", xytext=(3, 3))
        axes[2].loglog(secs, [r["delta_r_se"] for r in recs], ":", color="gray")
    for ax, (title, _) in zip(axes, panels):
        ax.set_xlabel("wall seconds")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
    axes[2].text(0.02, 0.02, "dotted: standard error of Delta_r", transform=axes[2].transAxes, fontsize=7)
    fig.suptitle(tables[0]["config"] + f" (N = {tables[0].get('size')})", fontsize=10)
    fig.tight_layout()
    fig.savefig(a.output, dpi=120)
    print(f"wrote {a.output}")


if __name__ == "__main__":
    main()
