#!/usr/bin/env python3
"""A flow curve from one or more `dmfe flow` files: the steady stress at each rate over all
seeds, its local power-law exponents, and a power-law fit, with standard errors.

Files run with the same settings (the resolved config of each file, its `config_toml`
attribute, except population.seed, flow.rates, output.path and the keys that set the number
of seeds: flow.seeds, flow.target_error, flow.max_seeds) are one *setup*:
their seeds at a common rate are pooled, so a point can be measured in several runs with
different population.seed (seeds k = seed .. seed + seeds - 1 of each file; files whose seeds
overlap are refused). A rate measured by two setups is printed once per setup, with the
difference between them in units of its combined error (a cross-check of two samplings);
the curve (exponents and fit) uses, at each rate, the setup with the smallest error.

Columns: rate gamma_dot, the setup's label (A, B, ...: listed below the table), seeds, steady
stress sigma with the standard error of the seeds' scatter, its relative error, the effective
viscosity sigma/(F gamma_dot), and, with --eta, sigma/(F eta gamma_dot) (1 in the Newtonian
regime). Then the local exponent n = dln sigma/dln gamma_dot between neighbouring rates
(sigma ~ gamma_dot^n; 1 is Newtonian, below 1 shear thinning), with the error propagated
from the two points: from the per-seed differences when both rates come from the same
seeds of one setup (their noise is correlated), in quadrature otherwise. --fit LO HI fits
sigma = A gamma_dot^n to the rates in [LO, HI] by weighted least squares in ln sigma (which
treats the points as independent).

With --linear RUN.h5 [RUN2.h5 ...] (`dmfe run` outputs of the same state point without
driving, long enough to cover every window), each row also gets the linear response of its
own start-up, sigma_lin = F beta gamma_dot <int_0^t M_C0(t, s) ds> (docs/equations.md (L1),
the trapezoid in s, the mean <> over the row's steady window), and sigma/sigma_lin: 1 where
the start-up responds linearly, below 1 where it thins. A row uses the runs with its own dt
when there are any (the scheme's kernels depend on dt), else all. sigma_lin's error is the
scatter of those runs (two or more; none from one), combined with sigma's in quadrature.

The error bars are those of the seeds' scatter (flow/stress_over_seeds): a rate with a
single seed has none and is listed but left out of the exponents and the fit. A point judged
not steady by any of its files is marked '*'.

Examples:
  dmfe flow runs/flow-liquid.toml
  scripts/flow_curve.py flow-liquid.h5 --eta 0.694
  scripts/flow_curve.py a.h5 b.h5 c.h5 --fit 0.3 3 --csv curve.csv
  scripts/flow_curve.py a.h5 --linear eq1.h5 eq2.h5

Exit code 2, with a one-line message, for a file that is not a `dmfe flow` output (or, for
--linear, a `dmfe run` output of another state point, with driving, or too short), for
overlapping seeds, or for a fit range with fewer than two rates.
"""

import argparse
import math
import sys
import tomllib

import numpy as np

import dmfe_plot as dp

# Keys that differ between runs of one setup.
_SEED_KEYS = (("population", "seed"), ("flow", "seeds"), ("flow", "rates"), ("flow", "target_error"),
              ("flow", "max_seeds"), ("output", "path"))


def setup_of(config_toml):
    """The resolved config without the keys that only choose seeds, rates and the output."""
    cfg = tomllib.loads(config_toml)
    for table, key in _SEED_KEYS:
        cfg.get(table, {}).pop(key, None)
    return repr(sorted((t, sorted(v.items()) if isinstance(v, dict) else v) for t, v in cfg.items()))


# Config attributes a --linear run must share with the flow files.
_STATE = ("potential", "phi_hat", "T", "T0", "eps", "zeta_hat")


def read_points(path):
    """(setup, rate, F, first seed, per-seed stresses, steady, window, state) per rate."""
    with dp.open_dmfe(path, "flow") as f:
        config = f.attrs.get("config_toml")
        if isinstance(config, bytes):
            config = config.decode()
        if config is None:
            raise dp.UsageError(f"{path}: no 'config_toml' attribute (written by an older dmfe)")
        cfg = tomllib.loads(config)
        seed = int(cfg["population"]["seed"])
        big_f = float(f["config"].attrs.get("F", 1.0))
        rates = f["rate"][()]
        stresses = f["seeds/stress"][()]
        steady = f["flow/steady"][()]
        windows = np.stack([f["flow/window_start"][()], f["flow/window_end"][()]], axis=1)
        dt = float(f["config"].attrs["dt"])
        state = {k: f["config"].attrs.get(k) for k in _STATE}
        # Rates of one file may have different seed counts (flow.target_error): NaN past them.
        counts = f["flow/seeds"][()].astype(int) if "flow/seeds" in f else [stresses.shape[1]] * len(rates)
    setup = setup_of(config)
    return [(setup, float(r), big_f, seed, np.asarray(stresses[i][:counts[i]], float), bool(steady[i] > 0.5),
             (windows[i][0], windows[i][1], dt), state)
            for i, r in enumerate(rates)]


class Equilibrium:
    """beta int_0^t M_C0(t, s) ds at every t of one `dmfe run` at rest (trapezoid in s)."""

    def __init__(self, path, state):
        with dp.open_dmfe(path, "dynamics") as f:
            attrs = f["config"].attrs
            if dp.plain(attrs.get("driving")) != "none":
                raise dp.UsageError(f"{path}: --linear needs a run without driving")
            for k, v in state.items():
                if v is not None and attrs.get(k) is not None and dp.plain(attrs.get(k)) != dp.plain(v):
                    raise dp.UsageError(f"{path}: {k} = {dp.plain(attrs.get(k))}, the flow files have {dp.plain(v)}")
            self.t = f["t"][()]
            m_c = f["kernels/m_c"][()]
            beta = 1.0 / float(attrs["T"])
        dt = self.dt = float(self.t[1] - self.t[0])
        self.path = path
        self.integral = np.array([beta * dt * (m_c[i, : i + 1].sum() - 0.5 * (m_c[i, 0] + m_c[i, i]))
                                  for i in range(len(self.t))])

    def window_mean(self, start, end, dt):
        """Mean of the integral over the flow grid t = start, start + dt, ..., end."""
        times = np.arange(start, end + 0.5 * dt, dt)
        idx = np.rint(times / (self.t[1] - self.t[0])).astype(int)
        if idx[-1] >= len(self.t) or np.abs(self.t[np.minimum(idx, len(self.t) - 1)] - times).max() > 1e-6:
            raise dp.UsageError(f"{self.path}: the window t = {start:g}-{end:g} (dt = {dt:g}) is not on "
                                f"this run's grid t <= {self.t[-1]:g} (dt = {self.t[1] - self.t[0]:g})")
        return float(self.integral[idx].mean())


class Point:
    """The pooled seeds of one setup at one rate."""

    def __init__(self, setup, rate, big_f, window):
        self.setup, self.rate, self.f, self.window = setup, rate, big_f, window
        self.seeds = {}  # seed number -> steady stress
        self.steady = True
        self.label = ""

    def add(self, path, first, values, steady):
        for k, v in enumerate(values):
            if first + k in self.seeds:
                raise dp.UsageError(f"{path}: seed {first + k} at gamma_dot = {self.rate:g} is "
                                    f"already in an earlier file of the same setup")
            self.seeds[first + k] = v
        self.steady &= steady

    @property
    def values(self):
        return np.array([self.seeds[k] for k in sorted(self.seeds)])

    @property
    def mean(self):
        return float(self.values.mean())

    @property
    def se(self):
        v = self.values
        return float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else math.nan


def exponent(a, b):
    """Local exponent dln sigma/dln gamma_dot between points a and b and its error."""
    span = math.log(b.rate / a.rate)
    n = math.log(b.mean / a.mean) / span if a.mean > 0 and b.mean > 0 else math.nan
    if a.setup == b.setup and a.seeds.keys() == b.seeds.keys():
        d = b.values / b.mean - a.values / a.mean
        rel = d.std(ddof=1) / math.sqrt(len(d))
    else:
        rel = math.hypot(a.se / a.mean, b.se / b.mean)
    return n, rel / abs(span)


def power_fit(points):
    """Weighted least squares of ln sigma = ln A + n ln gamma_dot: (n, se(n), A)."""
    x = np.log([p.rate for p in points])
    y = np.log([p.mean for p in points])
    w = np.array([(p.mean / p.se) ** 2 for p in points])
    xm, ym = np.average(x, weights=w), np.average(y, weights=w)
    sxx = np.sum(w * (x - xm) ** 2)
    n = np.sum(w * (x - xm) * (y - ym)) / sxx
    return float(n), float(1.0 / math.sqrt(sxx)), float(math.exp(ym - n * xm))


def pt_label(k):
    """Label of the k-th setup: A, B, ... (numbers beyond Z)."""
    return chr(ord("A") + k) if k < 26 else str(k)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", metavar="FILE", nargs="+", help="`dmfe flow` outputs")
    p.add_argument("--eta", type=float, help="Newtonian viscosity: print sigma/(F eta gamma_dot)")
    p.add_argument("--fit", type=float, nargs=2, metavar=("LO", "HI"),
                   help="fit sigma = A gamma_dot^n to the rates in [LO, HI]")
    p.add_argument("--linear", nargs="+", metavar="RUN",
                   help="`dmfe run` outputs at rest: the linear response of each row's start-up")
    p.add_argument("--csv", help="also write the table to this CSV file")
    a = p.parse_args()

    points, setups, files_of, state = {}, [], {}, None
    for path in a.files:
        for setup, rate, big_f, first, values, steady, window, state in read_points(path):
            if setup not in setups:
                setups.append(setup)
                files_of[setup] = []
            if path not in files_of[setup]:
                files_of[setup].append(path)
            key = (setup, rate)
            if key not in points:
                points[key] = Point(setup, rate, big_f, window)
            points[key].add(path, first, values, steady)
    for pt in points.values():
        pt.label = pt_label(setups.index(pt.setup))
    rows = sorted(points.values(), key=lambda q: (q.rate, q.label))

    runs = [Equilibrium(path, state) for path in a.linear or []]
    header = ["rate", "setup", "seeds", "stress", "stress_se", "relative_se", "viscosity"]
    if a.eta is not None:
        header.append("over_newtonian")
    if runs:
        header += ["stress_linear", "stress_linear_se", "over_linear", "over_linear_se"]
    table = []
    print(f"{'gamma_dot':>10} {'setup':>5} {'seeds':>5} {'sigma':>22} {'rel.':>7} {'sigma/(F gd)':>20}"
          + (f" {'sigma/(F eta gd)':>18}" if a.eta is not None else "")
          + (f" {'window':>11} {'sigma_lin':>20} {'sigma/sigma_lin':>18}" if runs else ""))
    for q in rows:
        scale = q.f * q.rate
        rel = q.se / abs(q.mean) if q.mean else math.nan
        line = (f"{q.rate:>10.4g} {q.label:>5} {len(q.seeds):>5} {q.mean:>11.5g} +- {q.se:<8.2g}"
                f" {100 * rel:>6.1f}% {q.mean / scale:>9.4g} +- {q.se / scale:<8.2g}")
        row = [q.rate, q.label, len(q.seeds), q.mean, q.se, rel, q.mean / scale]
        if a.eta is not None:
            line += f" {q.mean / (scale * a.eta):>7.4f} +- {q.se / (scale * a.eta):<7.2g}"
            row.append(q.mean / (scale * a.eta))
        if runs:
            start, end, dt = q.window
            # The runs at the row's own dt when there are any (the kernels of the scheme
            # depend on dt), else all of them.
            same_dt = [r for r in runs if abs(r.dt - dt) < 1e-9 * dt]
            lin = np.array([scale * r.window_mean(start, end, dt) for r in same_dt or runs])
            lm = lin.mean()
            lse = lin.std(ddof=1) / math.sqrt(len(lin)) if len(lin) > 1 else math.nan
            ratio = q.mean / lm
            rse = abs(ratio) * math.hypot(q.se / q.mean, lse / lm if len(lin) > 1 else 0.0)
            line += f" {start:>5.3g}-{end:<5.3g} {lm:>9.4g} +- {lse:<8.2g} {ratio:>7.4f} +- {rse:<7.2g}"
            row += [lm, lse, ratio, rse]
        print(line + ("" if q.steady else " *"))
        table.append(row)

    by_rate = {}
    for q in rows:
        if np.isfinite(q.se) and (q.rate not in by_rate or q.se < by_rate[q.rate].se):
            by_rate[q.rate] = q
    curve = [by_rate[r] for r in sorted(by_rate)]
    for r in sorted({q.rate for q in rows}):
        same = [q for q in rows if q.rate == r and np.isfinite(q.se)]
        for q in same[1:]:
            z = (q.mean - same[0].mean) / math.hypot(q.se, same[0].se)
            print(f"gamma_dot = {r:g}: setup {q.label} - setup {same[0].label} = "
                  f"{q.mean - same[0].mean:.3g} ({z:+.1f} combined errors)")
    if len(curve) > 1:
        print("local exponents n = dln sigma/dln gamma_dot:")
        for lo, hi in zip(curve, curve[1:]):
            n, se = exponent(lo, hi)
            print(f"  {lo.rate:g} - {hi.rate:g}: n = {n:.3f} +- {se:.3f}")
    if a.fit is not None:
        fitted = [q for q in curve if a.fit[0] <= q.rate <= a.fit[1] and q.mean > 0]
        if len(fitted) < 2:
            raise dp.UsageError(f"--fit {a.fit[0]:g} {a.fit[1]:g}: fewer than two rates with errors in range")
        n, se, amp = power_fit(fitted)
        chi2 = sum(((math.log(q.mean) - math.log(amp) - n * math.log(q.rate)) * q.mean / q.se) ** 2
                   for q in fitted)
        print(f"fit over gamma_dot = {fitted[0].rate:g}-{fitted[-1].rate:g} ({len(fitted)} rates): "
              f"sigma = {amp:.4g} gamma_dot^n, n = {n:.3f} +- {se:.3f}, "
              f"chi2 = {chi2:.2f} for {len(fitted) - 2} degrees of freedom")
    print("setups:")
    for k, s in enumerate(setups):
        print(f"  {pt_label(k)}: " + ", ".join(files_of[s]))
    if a.csv:
        with open(a.csv, "w") as out:
            out.write(",".join(header) + "\n")
            for row in table:
                out.write(",".join(str(x) for x in row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(dp.run_main(main))
