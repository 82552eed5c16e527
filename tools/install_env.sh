#!/usr/bin/env bash
# Idempotent set-up of the project's virtual environment (.venv in the repo root).
#
# Installs the CPU build of torch 2.13.0, builds full mmcv 2.1.0 (compiled ops) from
# source once (pip caches the wheel afterwards), then mmengine, mmsegmentation,
# mmrazor, openmim, onnx and onnxruntime (the export extra) and attnfd_mm
# itself in editable mode. A second run installs nothing heavy.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
STAMP="$VENV/.attnfd-env-ok"
LOG_DIR="$VENV/install-logs"

log() { printf '[install] %s\n' "$*"; }

# Run a long command in the background, printing a heartbeat so users see it is alive.
run_with_heartbeat() {
  local what="$1" logfile="$2"; shift 2
  log "$what (log: $logfile)"
  "$@" >"$logfile" 2>&1 &
  local pid=$! start=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    sleep 20
    if kill -0 "$pid" 2>/dev/null; then
      local last
      last=$(grep -aoE '[A-Za-z_/.-]+\.(cpp|cu|c)\b' "$logfile" | tail -n 1 || true)
      log "  ... still running, $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s${last:+, last: ${last##*/}}"
    fi
  done
  if ! wait "$pid"; then
    log "FAILED: $what; last lines of $logfile:"
    tail -n 40 "$logfile" >&2
    return 1
  fi
  log "  done in $(( SECONDS - start )) s"
}

if [[ -f "$STAMP" && "$STAMP" -nt "$ROOT/setup.py" && "$STAMP" -nt "$0" ]] \
   && "$PY" -c "import mmcv.ops, mmseg, mmrazor, mim, xdist, onnx, onnxruntime, attnfd_mm" >/dev/null 2>&1; then
  log "environment up to date ($VENV)"
  exit 0
fi

if [[ ! -x "$PY" ]]; then
  log "creating virtual environment $VENV"
  python3 -m venv "$VENV"
fi
mkdir -p "$LOG_DIR"

# 1. torch (CPU build) and the build tools mmcv needs. torch is pinned so that no
#    CUDA build is ever pulled; setuptools stays below 81 because mmcv's setup.py,
#    mmengine's `mmseg::` config lookup and openmim use pkg_resources. numpy is
#    not pinned: the stack passes the test suite under numpy 2 (docs/packaging.md).
log "installing torch 2.13.0 (CPU) and build tools"
"${PIP[@]}" install -q "torch==2.13.0" "setuptools>=77.0.3,<81" wheel ninja numpy

# 2. full mmcv 2.1.0 with compiled ops, built once from source.
if "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '2.1.0'" >/dev/null 2>&1; then
  log "mmcv 2.1.0 with ops already installed"
else
  "${PIP[@]}" install -q "mmengine==0.10.7" addict yapf packaging Pillow pyyaml
  MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
  CFLAGS="-O0 -g0" CXXFLAGS="-O0 -g0" \
    run_with_heartbeat "installing mmcv 2.1.0 with ops (built from source the first time: about 15 min on 2 cores; from pip's wheel cache afterwards)" \
      "$LOG_DIR/mmcv.log" \
      "${PIP[@]}" install -v --no-build-isolation "mmcv==2.1.0"
fi

# 3. the OpenMMLab stack and test tools.
log "installing mmengine, mmsegmentation, mmrazor and test tools"
"${PIP[@]}" install -q "mmengine==0.10.7" "mmsegmentation==1.2.2" "mmrazor==1.0.0" \
  ftfy regex joblib pytest pytest-xdist pycocotools "torch==2.13.0"

# 4. openmim (`mim install`, `mim train`) and the packages its CLI imports. Its
#    declared dependency opendatalab is left out: no mim command used here needs
#    it, and its openxlab pins (setuptools~=60.2, requests~=2.28, rich~=13.4, ...)
#    would downgrade the stack.
log "installing openmim (without opendatalab)"
"${PIP[@]}" install -q click colorama model-index pandas requests rich tabulate
"${PIP[@]}" install -q --no-deps "openmim==0.3.9"

# 5. the optional export dependencies (pip install attnfd-mm[export]): ONNX
#    export and its onnxruntime check, which the tests exercise.
log "installing onnx and onnxruntime (requirements/export.txt)"
"${PIP[@]}" install -q -r "$ROOT/requirements/export.txt"

# 6. this package, editable.
log "installing attnfd_mm (editable)"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"

"$PY" -W ignore -c "import mmcv.ops, mmseg, mmrazor, mim, onnx, onnxruntime, attnfd_mm"
touch "$STAMP"
log "environment ready: $VENV"
