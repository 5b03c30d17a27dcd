#!/usr/bin/env python3
"""Reproduce the paper's Fig. 1 with `dmfe static`.

Left: the variance F/l^2 of relative local displacements against the correlation length
xi/l at amplitude Xi = 1 (paper Eq. (9)), with the three values of the caption.
Right: AQRD stress-strain curves of the hard-sphere glass prepared at phi_hat = 6, for
xi/l = 0.5, 0.7 and 1, solved literally by `dmfe static` (lines), against the AQS curve
rescaled by Eq. (36), sigma_AQRD(gamma) = sqrt(F) sigma_AQS(gamma sqrt(F)) (symbols).

    python3 -m pip install -r scripts/requirements.txt
    scripts/plot_fig1.py [--dmfe target/release/dmfe] [-o fig1.png]
"""

import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

from dmfe_plot import plt, read_static

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
XIS = (0.5, 0.7, 1.0)


def variance(xi, amplitude=1.0):
    """F/l^2 of paper Eq. (9) (the same formula as dmfe::driving::variance_from_correlation)."""
    r = 1.0 / xi
    return 2.0 / math.sqrt(2.0 * math.pi) * amplitude * r * (1.0 - math.exp(-0.5 * r * r))


def branch(dmfe, out, *overrides):
    """Runs `dmfe static runs/static-hs.toml` and returns the branch and its attributes."""
    cmd = [dmfe, "static", os.path.join(ROOT, "runs", "static-hs.toml"), "-q", "-o", out]
    for o in overrides:
        cmd += ["--set", o]
    subprocess.run(cmd, check=True)
    d = read_static(out)
    return {"gamma": d["branch/gamma"], "sigma_hat": d["branch/sigma_hat"],
            "F": d.config["F"], "gamma_y": d.summary["gamma_y"]}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dmfe", default=os.path.join(ROOT, "target", "release", "dmfe"))
    p.add_argument("-o", "--output", default="fig1.png")
    a = p.parse_args()

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    xi = np.linspace(0.2, 3.0, 400)
    left.plot(xi, [variance(x) for x in xi], "k-")
    for x in XIS:
        left.plot(x, variance(x), "o", label=f"xi/l = {x}: F/l^2 = {variance(x):.2f}")
    left.set_xlabel("xi / l")
    left.set_ylabel("F / l^2")
    left.set_title("Eq. (9), Xi = 1")
    left.legend()

    with tempfile.TemporaryDirectory() as tmp:
        aqs = branch(a.dmfe, os.path.join(tmp, "aqs.h5"))
        right.plot(aqs["gamma"], aqs["sigma_hat"], "k-", label="AQS")
        for x in XIS:
            rd = branch(a.dmfe, os.path.join(tmp, f"xi{x}.h5"), f"driving.xi={x}")
            f = rd["F"]
            line, = right.plot(rd["gamma"], rd["sigma_hat"], "-", label=f"AQRD xi/l = {x} (F = {f:.2f})")
            # Eq. (36): the AQS branch mapped to AQRD.
            s = math.sqrt(f)
            right.plot(aqs["gamma"][::4] / s, s * aqs["sigma_hat"][::4], "o", mfc="none", color=line.get_color(), ms=4)
            gap = abs(rd["gamma_y"] - aqs["gamma_y"] / s)
            print(f"xi = {x}: F = {f:.4f}, gamma_Y = {rd['gamma_y']:.6f}, AQS gamma_Y / sqrt(F) = {aqs['gamma_y'] / s:.6f} (difference {gap:.1e})")
    right.set_xlabel("gamma")
    right.set_ylabel("sigma_hat")
    right.set_title("hard spheres, phi_hat = 6 (symbols: AQS by Eq. (36))")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(a.output, dpi=120)
    print(f"wrote {a.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
