#!/usr/bin/env bash
# Distributed training with torchrun, as mmseg's tools/dist_train.sh.
#   bash tools/dist_train.sh CONFIG GPUS [train.py options]
# Environment: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR (127.0.0.1).
# Without CUDA, train.py itself switches to the gloo backend (processes on CPU).
set -euo pipefail
usage() { sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
if [[ $# -lt 2 ]]; then usage >&2; exit 2; fi
CONFIG=$1
GPUS=$2
shift 2
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python}"
PYTHONPATH="$DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$GPUS" \
    --master_port="${PORT:-29500}" \
    "$DIR/train.py" "$CONFIG" --launcher pytorch "$@"
