#!/usr/bin/env bash
# Distributed training with torchrun, as mmseg's tools/dist_train.sh.
#   bash tools/dist_train.sh CONFIG GPUS [train.py options]
# Environment: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR (127.0.0.1),
# PYTHON (default: the repository's .venv/bin/python if there, else python).
# Without CUDA, train.py itself switches to the gloo backend (processes on CPU).
set -euo pipefail
usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
if [[ $# -lt 2 ]]; then usage >&2; exit 2; fi
CONFIG=$1
GPUS=$2
shift 2
source "$(dirname "${BASH_SOURCE[0]}")/launch.sh"
torchrun_tool "$GPUS" train.py "$CONFIG" "$@"
