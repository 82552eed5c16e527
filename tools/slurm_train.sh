#!/usr/bin/env bash
# Training on a Slurm cluster with srun, as mmseg's tools/slurm_train.sh.
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py options]
# Environment: GPUS (4, processes in all), GPUS_PER_NODE (GPUS if below 4, else 4),
# CPUS_PER_TASK (5), SRUN_ARGS (extra srun arguments), PYTHON (as dist_train.sh).
set -euo pipefail
usage() { sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
if [[ $# -lt 3 ]]; then usage >&2; exit 2; fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
source "$(dirname "${BASH_SOURCE[0]}")/launch.sh"
srun_tool "$PARTITION" "$JOB_NAME" train.py "$CONFIG" "$@"
