#!/usr/bin/env bash
# Distillation of a pair on several processes with torchrun (tools/distill.py).
#   bash tools/dist_distill.sh STUDENT_CONFIG TEACHER_CONFIG GPUS [distill.py options]
# Environment: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR (127.0.0.1),
# PYTHON (default: the repository's .venv/bin/python if there, else python).
# Without CUDA, the processes train on CPU with the gloo backend.
set -euo pipefail
usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
if [[ $# -lt 3 ]]; then usage >&2; exit 2; fi
STUDENT=$1
TEACHER=$2
GPUS=$3
shift 3
source "$(dirname "${BASH_SOURCE[0]}")/launch.sh"
torchrun_tool "$GPUS" distill.py "$STUDENT" "$TEACHER" "$@"
