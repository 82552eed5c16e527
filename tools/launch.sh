#!/usr/bin/env bash
# Shared by the launchers of tools/: the Python they run and how they start
# a tool on several processes. Sourced, not run.
#   PYTHON: the interpreter; default: the set-up's .venv/bin/python when the
#   repository has one, else `python` from PATH.
TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$TOOLS_DIR/../.venv/bin/python" ]]; then
    PYTHON="$TOOLS_DIR/../.venv/bin/python"
  else
    PYTHON=python
  fi
fi
export PYTHONPATH="$TOOLS_DIR/..${PYTHONPATH:+:$PYTHONPATH}"

# torchrun_tool GPUS TOOL [ARGS...]: TOOL (a file of tools/) on GPUS
# processes of this node, with --launcher pytorch.
# Environment: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR (127.0.0.1).
torchrun_tool() {
  local gpus=$1 tool=$2
  shift 2
  "$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$gpus" \
    --master_port="${PORT:-29500}" \
    "$TOOLS_DIR/$tool" "$@" --launcher pytorch
}

# srun_tool PARTITION JOB_NAME TOOL [ARGS...]: TOOL on a Slurm cluster, with
# --launcher slurm.
# Environment: GPUS (4, processes in all), GPUS_PER_NODE (GPUS if below 4,
# else 4), CPUS_PER_TASK (5), SRUN_ARGS (extra srun arguments).
srun_tool() {
  local partition=$1 job_name=$2 tool=$3
  shift 3
  local gpus=${GPUS:-4}
  local gpus_per_node=${GPUS_PER_NODE:-$(( gpus < 4 ? gpus : 4 ))}
  # shellcheck disable=SC2086  # SRUN_ARGS is a list of arguments
  srun -p "$partition" \
    --job-name="$job_name" \
    --gres=gpu:"$gpus_per_node" \
    --ntasks="$gpus" \
    --ntasks-per-node="$gpus_per_node" \
    --cpus-per-task="${CPUS_PER_TASK:-5}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS:-} \
    "$PYTHON" -u "$TOOLS_DIR/$tool" "$@" --launcher slurm
}
