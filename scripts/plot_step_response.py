#!/usr/bin/env python3
"""Step-strain response of a `dmfe run` file against linear response and the statics.

Plots, against the time since the step t - t_s, the stress sigma(t)/(gamma0 F) (the work
conjugate of the strain, with its standard-error band) and the convected stress of paper
Eq. (24) divided the same way (dashed), together with the linear-response prediction
beta sum_j dgamma_j M_C(t, t_j) / gamma0 read from the same file's kernels (the strain
increments dgamma_j of the ramp applied at t_j; beta M_C(t, t_s) for an instantaneous step;
docs/equations.md, Eq. (L1)), where t_s is the first grid time at which the strain has
reached gamma0. With --static FILE (a
`dmfe static` branch of the same glass) the quasistatic plateau T sigma_hat(gamma0)/(gamma0 F)
is drawn as a horizontal line (the branch must be of the same protocol, AQS or AQRD): a glass's stress plateau falls on it, a liquid's stress
relaxes to zero.

Examples:
  dmfe run runs/step-strain.toml -o step.h5
  scripts/plot_step_response.py step.h5 -o figs/step_response.png

Exit code 2, with a one-line message, for a file that is not a step-strain `dmfe run` output.
"""

import argparse
import os
import sys

import h5py
import numpy as np

import dmfe_plot as dp
from dmfe_plot import plt


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", metavar="FILE", help="a `dmfe run` output with schedule = step")
    p.add_argument("--static", metavar="STATIC", help="a `dmfe static` branch of the same state point")
    p.add_argument("-o", "--out", default="step_response.png", help="PNG to write (default: step_response.png)")
    a = p.parse_args()

    d = dp.read(a.file, "dynamics", ["grid", "observables", "kernels"], max_ndim=1)
    if d.config.get("schedule") != "step":
        raise dp.UsageError(f"{a.file}: schedule is '{d.config.get('schedule')}', not a step strain")
    gamma, t = d["grid/gamma"], d["grid/t"]
    gamma0 = gamma[-1]
    big_f, temp = float(d.config["F"]), float(d.config["T"])
    if gamma0 == 0 or temp <= 0:
        raise dp.UsageError(f"{a.file}: needs a nonzero step and T > 0")
    s = int(np.argmax(np.abs(gamma) >= abs(gamma0) * (1 - 1e-12)))
    with h5py.File(a.file, "r") as f:
        m_c = f["kernels/m_c"][()]
    # Boltzmann superposition of the strain increments dgamma_j applied at t_j (causal: j <= i).
    dgamma = np.diff(gamma, prepend=0.0)
    predicted = np.tril(m_c) @ dgamma / temp / gamma0
    lag = t[s:] - t[s]
    scale = gamma0 * big_f
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    y, se = d["observables/stress"][s:] / scale, d["observables/stress_se"][s:] / scale
    ax.plot(lag, y, color="C0", label=r"$\sigma/(\gamma_0 F)$")
    ax.fill_between(lag, y - se, y + se, color="C0", alpha=0.25, lw=0)
    if "observables/stress_convected" in d.data:
        ax.plot(lag, d["observables/stress_convected"][s:] / scale, "C1--", lw=1.0,
                label=r"convected (Eq. (24)) $/(\gamma_0 F)$")
    ax.plot(lag, predicted[s:], "k:", label=r"linear response $\beta \sum_j \delta\gamma_j M_C(t, t_j)/\gamma_0$")
    if a.static:
        st = dp.read_static(a.static)
        # The static branch of the same protocol (AQS or AQRD), read at the same strain.
        plateau = temp * np.sign(gamma0) * np.interp(abs(gamma0), st["branch/gamma"], st["branch/sigma_hat"]) / scale
        ax.axhline(plateau, color="C2", lw=1.0, label=r"static $T\hat\sigma(\gamma_0)/(\gamma_0 F)$")
    ax.axhline(0, color="0.6", lw=0.6)
    ax.set_xlabel(dp.axis_label("$t - t_s$", d.units["grid/t"]))
    ax.set_ylabel(r"stress per unit strain [$\epsilon$]")
    ax.set_title(dp.common_config([d], ["potential", "phi_hat", "T", "T0"]) + f", gamma0 = {gamma0:g}", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    dp.save(fig, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(dp.run_main(main))
