#!/usr/bin/env python3
"""Plot the output of `dmfe run` (files with solver = "dynamics") as PNG figures.

All given files are overlaid on the one-dimensional plots, so a parameter sweep is one
command. Written to OUTDIR, named PREFIX_<plot>.png:

  PREFIX_msd.png          mean-square displacement Delta_r(t) with its standard-error
                          band, log-log (t = 0 left out); with --static STATIC, the static
                          plateau Delta_r = (A + Delta)/2 of that branch at gamma = 0
  PREFIX_stress.png       stress sigma(t) (work conjugate of the strain; dashed: the
                          convected stress of paper Eq. (24)), pressures P(t) and P_c(t)
                          (dashed) and energy e(t) against time, shaded +- 1 standard
                          error; a fourth panel sigma against the strain gamma when any
                          file is strained (gamma(t) not all zero); files of different F
                          (AQRD and AQS) there collapse as sigma/sqrt(F) vs gamma sqrt(F)
  PREFIX_kappa.png        kappa(t) with its standard-error band, and beta M_C(t,t) dotted
                          (equal to kappa(t) in equilibrium)
  PREFIX_convergence.png  residual, Monte-Carlo noise floor and convergence target per
                          iteration (the residual restarts when the causal window grows),
                          and against the work spent in full passes (population x
                          window^2 relative to all N members on the whole grid)
  PREFIX_kernels.png      heat maps of M_C(t,t'), M_R(t,s), C(t,t'), R(t,s) of the FIRST
                          file (axes in time units; s >= t, where M_R and R vanish by
                          causality, left blank). With --all-kernels: one figure per file,
                          PREFIX_kernels_STEM.png

Units are those of the files' `units` attributes (lengths l/d, energies eps, friction
zeta_hat). Legend labels are the file names, or with --label KEY a config value: an
attribute of config/ (F, T, T0, phi_hat, driving, schedule, ...; `schedule` also shows the
schedule's parameters, e.g. "rate, gamma_dot = 0.1") or a key of the run's TOML config,
dotted or bare (driving.gamma_dot, gamma_dot, population.size).

Examples:
  scripts/plot_run.py quickstart.h5
  scripts/plot_run.py sweep_*.h5 --label schedule -o figs/ --prefix sweep
  scripts/plot_run.py T03.h5 T05.h5 --label T --all-kernels -o figs/

Exit code 2, with a one-line message, for a file that is not a `dmfe run` output.
"""

import argparse
import os
import sys

import h5py
import numpy as np

import dmfe_plot as dp
from dmfe_plot import plt

GROUPS = ["grid", "observables", "kernels", "convergence"]
TITLE_KEYS = ["potential", "phi_hat", "T", "T0", "noise", "driving"]
# The heat maps of --kernels: dataset and its symbol.
KERNELS = [("kernels/m_c", "$M_C$"), ("kernels/m_r", "$M_R$"),
           ("correlations/c", "$C$"), ("correlations/r", "$R$")]


def color(i):
    """The colour of the i-th file (matplotlib's default cycle)."""
    return f"C{i % 10}"


def time_label(d):
    """The time-axis label, with the units of grid/t."""
    return dp.axis_label("$t$", d.units["grid/t"])


def band(ax, x, y, se, c, label):
    """y(x) as a line with a shaded +- 1 standard-error band."""
    ax.plot(x, y, color=c, label=label)
    ax.fill_between(x, y - se, y + se, color=c, alpha=0.25, lw=0)


def new_figure(files, ncols, width=5.2):
    """A figure of `ncols` panels titled with the config values common to all files."""
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, 4.2), squeeze=False)
    title = dp.common_config(files, TITLE_KEYS)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig, list(axes[0])


def plot_msd(files, out, static=None):
    """Delta_r(t) of every file on log-log axes with its standard-error band, t = 0 left out;
    with a `dmfe static` branch, its unstrained Delta_r = (A + Delta)/2 (the glass plateau)."""
    fig, (ax,) = new_figure(files, 1, width=6.0)
    if static is not None:
        plateau = static["branch/delta_r"][0]
        ax.axhline(plateau, color="k", ls=":", lw=1.0,
                   label=rf"static $\Delta_r$ = {plateau:.4g} ($\gamma = 0$)")
    for i, d in enumerate(files):
        t = d["grid/t"]
        keep = t > 0
        y = d["observables/delta_r"]
        ax.loglog(t[keep], y[keep], color=color(i), label=d.label)
        if "observables/delta_r_se" in d.data:
            se = d["observables/delta_r_se"]
            ax.fill_between(t[keep], (y - se)[keep], (y + se)[keep], color=color(i), alpha=0.25, lw=0)
    ax.set_xlabel(time_label(files[0]))
    ax.set_ylabel(dp.axis_label(r"MSD $\Delta_r(t)$", files[0].units["observables/delta_r"]))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    dp.save(fig, out)


def plot_stress(files, out):
    """Stress (and the convected stress of paper Eq. (24), dashed), pressures P and P_c
    (dashed) and energy against t, with SE bands; stress against gamma when strained."""
    strained = [i for i, d in enumerate(files) if np.any(d["grid/gamma"] != 0)]
    fig, axes = new_figure(files, 4 if strained else 3)
    first = files[0]
    for i, d in enumerate(files):
        t = d["grid/t"]
        band(axes[0], t, d["observables/stress"], d["observables/stress_se"], color(i), d.label)
        if strained and i in strained and "observables/stress_convected" in d.data:
            dashed(axes[0], t, d, "observables/stress_convected", color(i))
        if "observables/pressure" in d.data:
            band(axes[1], t, d["observables/pressure"], d["observables/pressure_se"], color(i), d.label)
            dashed(axes[1], t, d, "observables/pressure_c", color(i))
        band(axes[2], t, d["observables/energy"], d["observables/energy_se"], color(i), d.label)
    stress_label = dp.axis_label(r"stress $\sigma/(d\rho)$", first.units["observables/stress"])
    axes[0].set_ylabel(stress_label)
    if strained:
        axes[0].set_title(r"solid: $\sigma$; dashed: convected $\sigma + \gamma P_c$ (Eq. (24))", fontsize=9)
    axes[1].set_ylabel(dp.axis_label(r"pressure $P/(d\rho)$", first.units["observables/stress"]))
    axes[1].set_title(r"solid: $P$; dashed: $P_c$ (driving direction)", fontsize=9)
    axes[2].set_ylabel(dp.axis_label("energy $e(t)$", first.units["observables/energy"]))
    for ax in axes[:3]:
        ax.set_xlabel(time_label(first))
    if strained:
        # Files of different F (AQS and AQRD) collapse as sigma/sqrt(F) against gamma sqrt(F)
        # (paper Eqs. (22), (34)); otherwise plain sigma against gamma.
        collapse = len({float(files[i].config.get("F", 1.0)) for i in strained}) > 1
        ax = axes[3]
        for i in strained:
            d = files[i]
            root_f = np.sqrt(float(d.config.get("F", 1.0))) if collapse else 1.0
            x = d["grid/gamma_eff"] if collapse else d["grid/gamma"]
            band(ax, x, d["observables/stress"] / root_f, d["observables/stress_se"] / root_f, color(i), d.label)
        if collapse:
            ax.set_xlabel(r"effective strain $\gamma\sqrt{F}$")
            ax.set_ylabel(r"$\sigma/\sqrt{F}$ [$\epsilon$]")
            ax.set_title(r"stress-strain, AQRD collapsed on AQS (Eq. (34))", fontsize=10)
        else:
            ax.set_xlabel(dp.axis_label(r"strain $\gamma$", first.units["grid/gamma"]))
            ax.set_ylabel(stress_label)
            ax.set_title("stress-strain", fontsize=10)
    for ax in axes:
        ax.grid(True, alpha=0.3)
    for ax in (axes[0], axes[-1]):  # the stress panels: zero stress for reference
        ax.axhline(0, color="0.6", lw=0.6)
    axes[0].legend(fontsize=8)
    dp.save(fig, out)


def dashed(ax, t, d, name, c):
    """A secondary observable of file `d` as a dashed line with a light SE band, if present."""
    if name not in d.data:
        return
    y, se = d[name], d[name + "_se"]
    ax.plot(t, y, color=c, ls="--", lw=1.0)
    ax.fill_between(t, y - se, y + se, color=c, alpha=0.12, lw=0)


def plot_kappa(files, out):
    """kappa(t) of every file with its SE band; dotted, beta M_C(t,t), which equals kappa(t)
    in equilibrium (T0 = T, no driving)."""
    fig, (ax,) = new_figure(files, 1, width=6.0)
    for i, d in enumerate(files):
        band(ax, d["grid/t"], d["kernels/kappa"], d["kernels/kappa_se"], color(i), d.label)
        temp = float(d.config.get("T", 0.0))
        if temp > 0:
            with h5py.File(d.path, "r") as f:
                diag = np.diagonal(f["kernels/m_c"][()])
            ax.plot(d["grid/t"], diag / temp, color=color(i), ls=":", lw=1.2)
    ax.set_xlabel(time_label(files[0]))
    ax.set_ylabel(dp.axis_label(r"$\kappa(t)$", files[0].units["kernels/kappa"]))
    ax.set_title(r"solid: $\kappa(t)$; dotted: $\beta M_C(t,t)$ (equal in equilibrium)", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    dp.save(fig, out)


def plot_convergence(files, out):
    """Residual, noise floor and target per iteration (left) and against the work spent
    (right), log y."""
    fig, (ax, aw) = new_figure(files, 2, width=5.2)
    for i, d in enumerate(files):
        res = d["convergence/residual"]
        it = np.arange(1, len(res) + 1)
        # Work of an iteration in full passes (all N members over the whole grid): the
        # population and exact-response cost grows as members x window^2.
        pop, win = d["convergence/population"], d["convergence/window"]
        work = np.cumsum(pop / pop.max() * (win / win.max()) ** 2)
        for a, x in ((ax, it), (aw, work)):
            a.semilogy(x, res, "o-", ms=3, color=color(i), label=d.label)
            a.semilogy(x, d["convergence/noise_floor"], ":", color=color(i))
            a.semilogy(x, d["convergence/target"], "--", lw=0.8, color=color(i))
            a.set_ylabel("relative change / error")
            a.grid(True, which="both", alpha=0.3)
    ax.set_xlabel("iteration")
    aw.set_xlabel("work (full passes: N members over the whole grid)")
    ax.set_title("converged when residual < target = max(tolerance, noise floor / 10)", fontsize=9)
    aw.set_title("the same against the work spent", fontsize=9)
    ax.legend(fontsize=8, loc="upper right")
    dp.style_legend(aw, [("residual", {"ls": "-", "marker": "o", "ms": 3}),
                         ("noise floor", {"ls": ":"}), ("target", {"ls": "--", "lw": 0.8})],
                    fontsize=8, loc="lower left")
    dp.save(fig, out)


def plot_kernels(path, out):
    """2 x 2 heat maps of the two-time functions of one file."""
    d = dp.read(path, "dynamics", ["grid", "kernels", "correlations"])
    t = d["grid/t"]
    half = 0.5 * (t[1] - t[0]) if len(t) > 1 else 0.5
    extent = [t[0] - half, t[-1] + half, t[0] - half, t[-1] + half]
    fig, axes = plt.subplots(2, 2, figsize=(10, 8.4))
    for ax, (name, symbol) in zip(axes.flat, KERNELS):
        z = np.array(d[name], dtype=float)
        row, col = d.dims[name] or ["t", "t_prime"]
        if col == "s":  # causal: defined for s < t only
            z[np.triu_indices_from(z)] = np.nan
        lo, hi = np.nanmin(z), np.nanmax(z)
        if lo < 0 < hi:  # both signs: diverging map centred at zero
            m = max(-lo, hi)
            kw = {"cmap": "RdBu_r", "vmin": -m, "vmax": m}
        else:
            kw = {"cmap": "viridis"}
        im = ax.imshow(z, origin="lower", extent=extent, aspect="equal", interpolation="nearest", **kw)
        tex = {"t_prime": "t'", "s": "s"}.get(col, col)
        ax.set_title(f"{symbol}$({row},{tex})$", fontsize=10)
        ax.set_xlabel(dp.axis_label(f"${tex}$", d.units["grid/t"]))
        ax.set_ylabel(time_label(d))
        cb = fig.colorbar(im, ax=ax, shrink=0.9)
        cb.set_label(dp.axis_label(f"{symbol}$({row},{tex})$", d.units[name]))
    fig.suptitle(f"{d.stem}: " + dp.common_config([d], TITLE_KEYS), fontsize=10)
    dp.save(fig, out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", metavar="FILE", help="output files of `dmfe run`")
    p.add_argument("-o", "--outdir", default=".", help="directory of the PNGs (created if missing; default: .)")
    p.add_argument("--prefix", help="file-name prefix of the PNGs (default: the first file's name without .h5)")
    p.add_argument("--label", metavar="KEY",
                   help="legend label from this config attribute or TOML key (default: file names)")
    p.add_argument("--all-kernels", action="store_true",
                   help="heat maps for every file (PREFIX_kernels_STEM.png), not only the first")
    p.add_argument("--static", metavar="STATIC",
                   help="a `dmfe static` branch of the same glass: its Delta_r at gamma = 0 on the MSD figure")
    a = p.parse_args()

    files = [dp.read(path, "dynamics", GROUPS, max_ndim=1) for path in a.files]
    dp.set_labels(files, a.label)
    prefix = a.prefix or files[0].stem
    os.makedirs(a.outdir, exist_ok=True)
    name = lambda what: os.path.join(a.outdir, f"{prefix}_{what}.png")  # noqa: E731
    static = dp.read_static(a.static) if a.static else None
    plot_msd(files, name("msd"), static)
    plot_stress(files, name("stress"))
    plot_kappa(files, name("kappa"))
    plot_convergence(files, name("convergence"))
    if a.all_kernels:
        for d in files:
            plot_kernels(d.path, name(f"kernels_{d.stem}"))
    else:
        plot_kernels(files[0].path, name("kernels"))
    return 0


if __name__ == "__main__":
    sys.exit(dp.run_main(main))
