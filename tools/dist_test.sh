#!/usr/bin/env bash
# Distributed evaluation with torchrun, as mmseg's tools/dist_test.sh.
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]
# Environment: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR (127.0.0.1),
# PYTHON (default: the repository's .venv/bin/python if there, else python).
# Without CUDA, test.py itself switches to the gloo backend (processes on CPU).
set -euo pipefail
usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
if [[ $# -lt 3 ]]; then usage >&2; exit 2; fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3
source "$(dirname "${BASH_SOURCE[0]}")/launch.sh"
torchrun_tool "$GPUS" test.py "$CONFIG" "$CHECKPOINT" "$@"
