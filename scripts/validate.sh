#!/usr/bin/env bash
# Heavy validation, run on purpose (not in CI): the ignored validation tests (equilibrium
# identities at two dt with a large population) and, when the static solver is built, the
# dynamics-statics cross-check of scripts/crosscheck_glass.py. About an hour on 2 cores, and
# about an hour more for the flow examples (measured: the Newtonian point 26 minutes, the
# crossover 22, the thinning rates 13.5).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --release --test validation -- --ignored --nocapture
if [ -f scripts/crosscheck_glass.py ]; then
  cargo build --release
  python3 scripts/crosscheck_glass.py target/release/dmfe
fi
