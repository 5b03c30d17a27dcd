#!/usr/bin/env python3
"""Flow curves of `dmfe flow` files: steady stress against rate, and the start-up transients.

Left: the steady stress sigma(gamma_dot) on log axes with standard-error bars (open
markers: rates whose steady state was not reached within flow.drift_tolerance), one curve
per file: the mean over the file's seeds with the error of their scatter when it has two or
more (flow/stress_over_seeds), else seed 0's with its population error (flow/stress); with
--controlled, the stress minus the unstrained control's (flow/stress_controlled); with --eta ETA the Newtonian line F ETA gamma_dot (e.g. the Green-Kubo viscosity
beta int M_C of an equilibrium run of the same state point, docs/equations.md (L1)). Rates
with a stress not above two standard errors are drawn at their upper error (downward
triangle) since a log axis cannot show them. Right: the start-up stress sigma(t) against
the strain gamma_dot t with its standard-error band, one line per rate (first file).

Examples:
  dmfe flow runs/flow-liquid.toml
  scripts/plot_flow.py flow-liquid.h5 -o figs/flow.png --eta 0.45

Exit code 2, with a one-line message, for a file that is not a `dmfe flow` output.
"""

import argparse
import os
import sys

import numpy as np

import dmfe_plot as dp
from dmfe_plot import plt


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", metavar="FILE", nargs="+", help="`dmfe flow` outputs")
    p.add_argument("--eta", type=float, help="viscosity of the Newtonian line F eta gamma_dot")
    p.add_argument("--controlled", action="store_true", help="plot flow/stress_controlled")
    p.add_argument("-o", "--out", default="flow.png", help="PNG to write (default: flow.png)")
    a = p.parse_args()
    files = [dp.read(path, "flow", ["flow", "startup"]) for path in a.files]
    with_root = []
    for d in files:
        with dp.open_dmfe(d.path, "flow") as f:
            d.data["rate"] = f["rate"][()]
        with_root.append(d)

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.4))
    for k, d in enumerate(with_root):
        rate = d["rate"]
        name = "flow/stress_controlled" if a.controlled else "flow/stress_over_seeds"
        if name not in d.data or not np.isfinite(d[name + "_se"]).all():
            if a.controlled:
                raise dp.UsageError(f"{d.path}: no controlled stress with errors (needs flow.seeds >= 2)")
            name = "flow/stress"
        s, se = d[name], d[name + "_se"]
        steady = d["flow/steady"] > 0.5
        resolved = s > 2 * se
        color = f"C{k}"
        for mask, filled in ((steady & resolved, True), (~steady & resolved, False)):
            if mask.any():
                ax.errorbar(rate[mask], s[mask], yerr=se[mask], fmt="o", color=color,
                            mfc=color if filled else "none", capsize=3,
                            label=d.label if filled else f"{d.label} (not steady)")
        if (~resolved).any():
            ax.plot(rate[~resolved], (np.abs(s) + 2 * se)[~resolved], "v", color=color,
                    mfc="none", label=f"{d.label}: below 2 se (upper bound)")
        if resolved.sum() > 1:
            ax.plot(rate[resolved], s[resolved], "-", color=color, lw=0.8)
    if a.eta is not None:
        rates = np.concatenate([d["rate"] for d in with_root])
        big_f = float(with_root[0].config.get("F", 1.0))
        x = np.geomspace(rates.min(), rates.max(), 50)
        ax.plot(x, big_f * a.eta * x, "k:", label=rf"Newtonian $F\eta\dot\gamma$, $\eta$ = {a.eta:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\dot\gamma$")
    ax.set_ylabel(r"steady stress $\sigma/(d\rho)$ [$\epsilon$]")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)

    d = with_root[0]
    for i, r in enumerate(d["rate"]):
        g, s, se = d["startup/gamma"][i], d["startup/stress"][i], d["startup/stress_se"][i]
        ok = np.isfinite(s)
        bx.plot(g[ok], s[ok], color=f"C{i}", label=rf"$\dot\gamma$ = {r:g}")
        bx.fill_between(g[ok], (s - se)[ok], (s + se)[ok], color=f"C{i}", alpha=0.2, lw=0)
    bx.axhline(0, color="0.6", lw=0.6)
    bx.set_xscale("symlog", linthresh=0.1)
    bx.set_xlim(left=0)
    bx.set_xlabel(r"strain $\gamma = \dot\gamma t$")
    bx.set_ylabel(r"start-up stress $\sigma(t)/(d\rho)$ [$\epsilon$]")
    bx.set_title(d.label, fontsize=9)
    bx.grid(True, alpha=0.3)
    bx.legend(fontsize=7)
    fig.suptitle(dp.common_config(with_root, ["potential", "phi_hat", "T", "T0", "driving", "F"]), fontsize=9)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    dp.save(fig, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(dp.run_main(main))
