#!/usr/bin/env bash
# A V-PEFT Bench grid as a Slurm job array: task k runs shard k/N of the grid.
#   jid=$(sbatch --parsable bench-array.sh grid.yaml results)
#   sbatch --dependency=afterok:$jid merge.sh results
# A task that is requeued resumes its shard file: finished cells are skipped.
#SBATCH --job-name=vpeft-bench
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --mem=8G
#SBATCH --time=24:00:00
#SBATCH --requeue
#SBATCH --output=vpeft-bench-%A_%a.log
set -euo pipefail
spec=${1:?usage: sbatch bench-array.sh GRID.yaml OUT_DIR}
out=${2:?usage: sbatch bench-array.sh GRID.yaml OUT_DIR}
shards=$(( SLURM_ARRAY_TASK_MAX - SLURM_ARRAY_TASK_MIN + 1 ))
index=$(( SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN ))
npx --yes @vpeft/cli bench --spec "$spec" --out "$out" --shard "${index}/${shards}"
