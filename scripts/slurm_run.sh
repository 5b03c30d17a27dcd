#!/bin/bash
# A dmfe run spread over a cluster with SLURM and MPI: one rank per node, its threads on the
# node's cores. Build once on the cluster, with its MPI loaded:
#     cargo build --release --features mpi
# then submit, from the repository:
#     sbatch scripts/slurm_run.sh runs/shear-startup.toml startup.h5
# Submitting the same line again after the time limit (or a failure) resumes from
# startup.h5.ckpt: the output is the one an uninterrupted run gives, for any number of nodes.
# A flow curve (dmfe flow, no checkpoints: resubmitting starts it again):
#     DMFE_COMMAND=flow sbatch scripts/slurm_run.sh runs/flow-liquid.toml flow.h5
#SBATCH --job-name=dmfe
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=32
#SBATCH --time=04:00:00
# SIGTERM to every rank 5 minutes before the limit: dmfe drops the iteration in progress
# and exits, keeping the checkpoint of the last complete one.
#SBATCH --signal=TERM@300
set -euo pipefail
config=${1:?usage: sbatch scripts/slurm_run.sh CONFIG OUTPUT}
output=${2:?usage: sbatch scripts/slurm_run.sh CONFIG OUTPUT}
dmfe=${DMFE:-target/release/dmfe}
threads=${SLURM_CPUS_PER_TASK:-1}
if [ "${DMFE_COMMAND:-run}" = flow ]; then
  srun "$dmfe" flow "$config" -o "$output" --threads "$threads"
elif [ -e "$output.ckpt" ]; then
  # The checkpoint holds the config (with this output path).
  srun "$dmfe" run --resume "$output.ckpt" --threads "$threads"
else
  srun "$dmfe" run "$config" -o "$output" --threads "$threads"
fi
