#!/usr/bin/env bash
# Joins the shard results of bench-array.sh (run it with --dependency=afterok:<array job id>).
#SBATCH --job-name=vpeft-bench-merge
#SBATCH --cpus-per-task=1
#SBATCH --mem=2G
#SBATCH --time=00:30:00
set -euo pipefail
out=${1:?usage: sbatch merge.sh OUT_DIR}
npx --yes @vpeft/cli bench merge --out "$out"
