#!/usr/bin/env bash
# CI test of the plotting scripts: generates small dmfe files (a liquid, two shear start-ups,
# a step strain, a flow curve, an AQS and an AQRD static branch) in a temporary directory, runs plot_run.py and
# plot_static.py, plot_step_response.py, plot_flow.py and flow_curve.py on them, and checks that every expected PNG exists (> 1000 bytes) and that
# a file of the wrong kind is refused with exit code 2. A few seconds on 2 cores.
# Prints "plots: N passed, M failed"; exits non-zero if any check failed (each named).
set -euo pipefail
cd "$(dirname "$0")/.."
export MPLBACKEND=Agg

dmfe=target/release/dmfe
if [ ! -x "$dmfe" ]; then
  cargo build --release
fi
root=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
figs=$tmp/figs
passed=0
failed=0

# check NAME COMMAND...: runs COMMAND, counts it as passed or failed.
check() {
  local name=$1
  shift
  if "$@" >"$tmp/out" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $name" >&2
    sed 's/^/  | /' "$tmp/out" >&2
  fi
}

# png FILE: exists and is more than 1000 bytes.
png() {
  [ -f "$1" ] && [ "$(stat -c %s "$1")" -gt 1000 ] || { echo "missing or too small: $1"; return 1; }
}

# refused COMMAND...: COMMAND exits with code 2 and a one-line message.
refused() {
  local rc=0
  "$@" >/dev/null 2>"$tmp/err" || rc=$?
  cat "$tmp/err"
  [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]
}

small=(--set grid.steps=40 --set population.size=2000)
check "dmfe run quickstart" "$dmfe" run runs/quickstart.toml -q -o "$tmp/liq.h5" "${small[@]}"
check "dmfe run shear start-up, gamma_dot = 0.1" "$dmfe" run runs/shear-startup.toml -q \
  -o "$tmp/shear01.h5" "${small[@]}" --set driving.gamma_dot=0.1
check "dmfe run shear start-up, gamma_dot = 0.3" "$dmfe" run runs/shear-startup.toml -q \
  -o "$tmp/shear03.h5" "${small[@]}" --set driving.gamma_dot=0.3
check "dmfe run step strain" "$dmfe" run runs/step-strain.toml -q -o "$tmp/step.h5" "${small[@]}"
check "dmfe static AQS" "$dmfe" static runs/static-hs.toml -q -o "$tmp/aqs.h5"
check "dmfe static AQRD" "$dmfe" static runs/static-hs.toml -q -o "$tmp/aqrd.h5" --set driving.xi=0.7
check "dmfe flow" "$dmfe" flow runs/flow-liquid.toml -q -o "$tmp/flow.h5" --set grid.steps=40 \
  --set population.size=2000 --set grid.t_max=4
check "foreign HDF5 file" python3 -c "import h5py, sys; h5py.File(sys.argv[1], 'w')['x'] = [1.0]" "$tmp/foreign.h5"

# Dynamics: a sweep overlaid (one kernel figure per file), and one file with default names.
check "plot_run.py sweep" python3 scripts/plot_run.py "$tmp/liq.h5" "$tmp/shear01.h5" "$tmp/shear03.h5" \
  --label schedule --prefix sweep --all-kernels -o "$figs"
for what in msd stress kappa convergence kernels_liq kernels_shear01 kernels_shear03; do
  check "sweep_$what.png" png "$figs/sweep_$what.png"
done
check "plot_run.py one file" python3 scripts/plot_run.py "$tmp/liq.h5" -o "$figs"
check "plot_run.py --static" python3 scripts/plot_run.py "$tmp/liq.h5" --static "$tmp/aqs.h5" \
  --prefix withstatic -o "$figs"
check "withstatic_msd.png" png "$figs/withstatic_msd.png"
for what in msd stress kappa convergence kernels; do
  check "liq_$what.png" png "$figs/liq_$what.png"
done

# Step response against linear response (and a static branch for the plateau line).
check "plot_step_response.py" python3 scripts/plot_step_response.py "$tmp/step.h5" --static "$tmp/aqs.h5" \
  -o "$figs/step_response.png"
check "step_response.png" png "$figs/step_response.png"
check "plot_step_response.py refuses a start-up" refused python3 scripts/plot_step_response.py \
  "$tmp/shear01.h5" -o "$figs/no.png"

# Flow curve and start-up transients.
check "plot_flow.py" python3 scripts/plot_flow.py "$tmp/flow.h5" --eta 0.45 -o "$figs/flow.png"
check "flow.png" png "$figs/flow.png"
check "plot_flow.py refuses a run file" refused python3 scripts/plot_flow.py "$tmp/liq.h5" -o "$figs/no.png"

# Flow-curve table: the seeds of two runs of one setup pooled (seeds 4-5 and 6-7), the mean
# and error of the pooled seeds as computed from the files, a second setup listed apart, and
# a file given twice (the same seeds) refused.
check "dmfe flow, seeds 6-7" "$dmfe" flow runs/flow-liquid.toml -q -o "$tmp/flow67.h5" --set grid.steps=40 \
  --set population.size=2000 --set grid.t_max=4 --set population.seed=6
check "dmfe flow, another setup" "$dmfe" flow runs/flow-liquid.toml -q -o "$tmp/flow_dt.h5" --set grid.steps=20 \
  --set population.size=2000 --set grid.t_max=4 --set flow.rates="[1.0]"
check "dmfe run at rest, t <= 4" "$dmfe" run runs/quickstart.toml -q -o "$tmp/rest4.h5" --set grid.t_max=4 \
  --set grid.steps=40 --set population.size=2000
check "dmfe run at rest, another seed" "$dmfe" run runs/quickstart.toml -q -o "$tmp/rest4b.h5" --set grid.t_max=4 \
  --set grid.steps=40 --set population.size=2000 --set population.seed=2
check "flow_curve.py pools seeds" python3 scripts/flow_curve.py "$tmp/flow.h5" "$tmp/flow67.h5" "$tmp/flow_dt.h5" \
  --eta 0.7 --fit 0.3 3 --csv "$tmp/curve.csv" --linear "$tmp/rest4.h5" "$tmp/rest4b.h5"
check "flow_curve.py refuses a run too short for the windows" refused python3 scripts/flow_curve.py \
  "$tmp/flow.h5" --linear "$tmp/liq.h5"
check "flow_curve.py numbers" python3 - "$tmp" <<'PY'
import csv, sys
import h5py, numpy as np
tmp = sys.argv[1]
rows = list(csv.DictReader(open(f"{tmp}/curve.csv")))
pooled = np.concatenate([h5py.File(f"{tmp}/{n}.h5")["seeds/stress"][()] for n in ("flow", "flow67")], axis=1)
rates = h5py.File(f"{tmp}/flow.h5")["rate"][()]
a = [r for r in rows if r["setup"] == "A"]
assert [float(r["rate"]) for r in a] == list(rates), a
for r, x in zip(a, pooled):
    assert int(r["seeds"]) == 4, r
    assert abs(float(r["stress"]) - x.mean()) < 1e-12, (r, x)
    assert abs(float(r["stress_se"]) - x.std(ddof=1) / 2) < 1e-12, (r, x)
    assert abs(float(r["over_newtonian"]) - x.mean() / (0.7 * float(r["rate"]))) < 1e-12, r
# The linear response of each row's window: F beta gamma_dot times the window mean of
# int_0^t M_C0(t, s) ds over the two runs at rest (T = 0.5, F = 1).
trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 has only trapz
f = h5py.File(f"{tmp}/flow.h5")
start, end = f["flow/window_start"][()], f["flow/window_end"][()]
for k, r in enumerate(a):
    lin = []
    for name in ("rest4", "rest4b"):
        g = h5py.File(f"{tmp}/{name}.h5")
        t, m = g["t"][()], g["kernels/m_c"][()]
        inside = (t >= start[k] - 1e-9) & (t <= end[k] + 1e-9)
        lin.append(np.mean([2.0 * float(r["rate"]) * trapezoid(m[i, : i + 1], t[: i + 1])
                            for i in np.flatnonzero(inside)]))
    assert abs(float(r["stress_linear"]) - np.mean(lin)) < 1e-12, (r, lin)
    assert abs(float(r["stress_linear_se"]) - abs(lin[0] - lin[1]) / 2) < 1e-12, (r, lin)
    assert abs(float(r["over_linear"]) - float(r["stress"]) / np.mean(lin)) < 1e-12, r
b = [r for r in rows if r["setup"] == "B"]
assert len(b) == 1 and float(b[0]["rate"]) == 1.0 and int(b[0]["seeds"]) == 2, b
PY
check "flow_curve.py refuses the same seeds twice" refused python3 scripts/flow_curve.py "$tmp/flow.h5" "$tmp/flow.h5"
check "flow_curve.py refuses a run file" refused python3 scripts/flow_curve.py "$tmp/liq.h5"

# Statics: AQS and AQRD with the Eq. (36) collapse, and the default output name.
check "plot_static.py --collapse" python3 scripts/plot_static.py "$tmp/aqs.h5" "$tmp/aqrd.h5" \
  --label F --collapse -o "$figs/static.png"
check "static.png" png "$figs/static.png"
check "static_collapse.png" png "$figs/static_collapse.png"
check "plot_static.py default output" bash -c "cd '$figs' && python3 '$root/scripts/plot_static.py' '$tmp/aqs.h5'"
check "aqs_static.png" png "$figs/aqs_static.png"

# Wrong kinds of file: exit code 2 with one line.
check "plot_run.py refuses a static file" refused python3 scripts/plot_run.py "$tmp/aqs.h5" -o "$figs/no"
check "plot_static.py refuses a dynamics file" refused python3 scripts/plot_static.py "$tmp/liq.h5" -o "$figs/no.png"
check "plot_run.py refuses a non-dmfe file" refused python3 scripts/plot_run.py "$tmp/foreign.h5" -o "$figs/no"
check "plot_static.py refuses a non-dmfe file" refused python3 scripts/plot_static.py "$tmp/foreign.h5" -o "$figs/no.png"

echo "plots: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
