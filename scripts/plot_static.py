#!/usr/bin/env python3
"""Plot the quasistatic stress-strain branches of `dmfe static` (solver = "static").

One figure (OUT.png) for all given files:
  left         the stress sigma_hat = beta sigma/(d rho) against the strain gamma, with the
               stress maximum (overshoot), the Gardner point gamma_G, the yield (fold of the
               branch) gamma_Y and, for shear-jamming glasses, gamma_J marked (the stress
               axis is then logarithmic above 1, as sigma_hat diverges there). Solid where
               the replica-symmetric (RS) solution is exact (replicon lambda_R > 0), dashed
               past the Gardner point, where it is an approximation ("RS approx.").
  right        the cage size Delta (MSD between two replicas of the strained glass) and
               the MSD Delta_r from the unstrained glass, along the branch (units l^2).

With --collapse, a second figure OUT_collapse.png: sigma_hat/sqrt(F) against the effective
strain gamma sqrt(F) (branch/gamma_eff). By the paper's Eq. (36),
sigma_AQRD(gamma) = sqrt(F) sigma_AQS(gamma sqrt(F)), so AQRD branches (random local
displacements of variance F) fall onto the AQS branch (global shear, F = 1).

Legend labels are the file names, or with --label KEY a config value (an attribute of
config/: F, phi_hat, T, T0, f0, driving, potential; or a key of the TOML config, e.g.
driving.xi).

Examples:
  dmfe static runs/static-hs.toml -o aqs.h5
  dmfe static runs/static-hs.toml -o aqrd.h5 --set driving.xi=0.7
  scripts/plot_static.py aqs.h5 aqrd.h5 --label F --collapse -o hs.png

Exit code 2, with a one-line message, for a file that is not a `dmfe static` output.
"""

import argparse
import math
import os
import sys

import numpy as np

import dmfe_plot as dp
from dmfe_plot import plt

TITLE_KEYS = ["potential", "phi_hat", "T", "T0", "f0", "driving"]
# Special points of summary/: strain attribute, marker, legend text.
POINTS = [("gamma_sigma_max", "*", "stress maximum"), ("gamma_g", "o", r"Gardner point $\gamma_G$"),
          ("gamma_y", "s", r"yield $\gamma_Y$"), ("gamma_j", "X", r"shear jamming $\gamma_J$")]
MARKER_SIZE = {"*": 11}


def draw_branch(ax, d, x, y, scale, c, label=None):
    """y(x) along the branch of file d: solid where RS is exact, dashed past the Gardner
    point, with the special points of summary/ (their strains times `scale`) marked."""
    unstable = d["branch/rs_stable"] < 0.5
    near = unstable.copy()  # the dashed part starts at the last RS-stable point
    near[:-1] |= unstable[1:]
    near[1:] |= unstable[:-1]
    ax.plot(x, np.where(unstable, np.nan, y), "-", color=c, label=label)
    ax.plot(x, np.where(near, y, np.nan), "--", color=c)
    for key, marker, _ in POINTS:
        g = d.summary.get(key)
        if dp.is_finite(g):
            ax.plot(g * scale, np.interp(g * scale, x, y), marker, color=c, mec="k", mew=0.6,
                    ms=MARKER_SIZE.get(marker, 7), zorder=3)


def explain_styles(ax, files):
    """The black legend of line styles and of the markers that occur in the files."""
    entries = [("RS exact", {"ls": "-"}), ("RS approx. (past Gardner)", {"ls": "--"})]
    entries += [(text, {"ls": "", "marker": m, "mfc": "w", "ms": MARKER_SIZE.get(m, 7)})
                for key, m, text in POINTS if any(dp.is_finite(d.summary.get(key)) for d in files)]
    dp.style_legend(ax, entries, fontsize=8, loc="lower right")


def figure_title(fig, files):
    title = dp.common_config(files, TITLE_KEYS)
    if title:
        fig.suptitle(title, fontsize=10)


def plot_branches(files, out):
    """Stress-strain curves (left) and Delta, Delta_r along the branches (right)."""
    fig = plt.figure(figsize=(11, 5.2))
    grid = fig.add_gridspec(2, 2, width_ratios=[1.35, 1])
    ax = fig.add_subplot(grid[:, 0])
    top = fig.add_subplot(grid[0, 1])
    bottom = fig.add_subplot(grid[1, 1], sharex=top)
    first = files[0]
    for i, d in enumerate(files):
        c = f"C{i % 10}"
        gamma = d["branch/gamma"]
        draw_branch(ax, d, gamma, d["branch/sigma_hat"], 1.0, c, d.label)
        draw_branch(top, d, gamma, d["branch/delta"], 1.0, c)
        draw_branch(bottom, d, gamma, d["branch/delta_r"], 1.0, c)
    gamma_label = dp.axis_label(r"strain $\gamma$", first.units["branch/gamma"])
    ax.set_xlabel(gamma_label)
    ax.set_ylabel(dp.axis_label(r"stress $\hat\sigma = \beta\sigma/(d\rho)$", first.units["branch/sigma_hat"]))
    if any(dp.is_finite(d.summary.get("gamma_j")) for d in files):
        ax.set_yscale("symlog", linthresh=1.0)  # the stress diverges at shear jamming
    ax.legend(fontsize=8, loc="upper left")
    explain_styles(ax, files)
    top.set_ylabel(dp.axis_label(r"cage size $\Delta$", first.units["branch/delta"]))
    bottom.set_ylabel(dp.axis_label(r"MSD $\Delta_r$", first.units["branch/delta_r"]))
    bottom.set_xlabel(gamma_label)
    top.tick_params(labelbottom=False)
    for a in (ax, top, bottom):
        a.grid(True, alpha=0.3)
    figure_title(fig, files)
    dp.save(fig, out)


def plot_collapse(files, out):
    """sigma_hat/sqrt(F) against gamma sqrt(F): AQRD onto AQS by Eq. (36)."""
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for i, d in enumerate(files):
        s = math.sqrt(d.config["F"])
        draw_branch(ax, d, d["branch/gamma_eff"], d["branch/sigma_hat"] / s, s, f"C{i % 10}",
                    f"{d.label} (F = {d.config['F']:.4g})")
    ax.set_xlabel(r"effective strain $\gamma\sqrt{F}$")
    ax.set_ylabel(r"$\hat\sigma / \sqrt{F}$")
    ax.set_title("Eq. (36): AQRD branches collapse onto AQS", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    explain_styles(ax, files)
    figure_title(fig, files)
    dp.save(fig, out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", metavar="FILE", help="output files of `dmfe static`")
    p.add_argument("-o", "--output", metavar="OUT.png",
                   help="the figure (default: FIRST_static.png, FIRST = the first file's name without .h5)")
    p.add_argument("--collapse", action="store_true",
                   help="also OUT_collapse.png: sigma_hat/sqrt(F) against gamma sqrt(F) (Eq. (36))")
    p.add_argument("--label", metavar="KEY",
                   help="legend label from this config attribute or TOML key (default: file names)")
    a = p.parse_args()

    files = [dp.read_static(path) for path in a.files]
    dp.set_labels(files, a.label)
    out = a.output or f"{files[0].stem}_static.png"
    if os.path.dirname(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
    plot_branches(files, out)
    if a.collapse:
        plot_collapse(files, f"{os.path.splitext(out)[0]}_collapse.png")
    return 0


if __name__ == "__main__":
    sys.exit(dp.run_main(main))
