#!/usr/bin/env bash
# Run the skface benchmarks on a CUDA machine: the same comparison as the CPU
# run with GPU settings (batch 256, prediction batch 1024, 16,384 training
# images, mixed_float16 for precision='auto', XLA on and off via jit_compile),
# written as benchmarks.md + benchmarks.json to the output folder.
#
#   bash benchmarks/gpu.sh [--smoke] [OUTPUT_DIR]
#
# OUTPUT_DIR defaults to $OUT when set, else docs/. --smoke runs tiny sizes
# (16 px, 64 images) and also works without a GPU: it checks the script.
#
# Self-contained on a bare machine: when $PYTHON (default python3) cannot
# import TensorFlow, scikeras, scikit-learn, pandas and Pillow, it makes a venv
# ($BENCH_VENV, default /tmp/skface-bench-venv) and installs them, offline from
# the wheels in $WHEELS (default ./.whl, if that folder exists), else from the
# package index. tf_keras (case 5) is installed when available, else skipped.
# The images are generated on the machine (benchmarks/.cache, about 30 s).
# About 4-5 minutes on one H100 once TensorFlow is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=()
OUTDIR=""
for arg in "$@"; do
  case "$arg" in
    --smoke) SMOKE=(--smoke) ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) OUTDIR="$arg" ;;
  esac
done
OUTDIR="${OUTDIR:-${OUT:-docs}}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$OUTDIR"

echo "== nvidia-smi"
nvidia-smi || echo "(nvidia-smi not available)"
echo "== $PYTHON: $($PYTHON --version 2>&1)"

NEED='import tensorflow, keras, scikeras, sklearn, pandas, PIL'
if ! "$PYTHON" -c "$NEED" 2>/dev/null; then
  VENV="${BENCH_VENV:-/tmp/skface-bench-venv}"
  echo "== installing TensorFlow and friends into $VENV"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  PIP_ARGS=(--quiet --disable-pip-version-check)
  WHEELS="${WHEELS:-.whl}"
  if [ -d "$WHEELS" ]; then PIP_ARGS+=(--no-index --find-links "$WHEELS"); fi
  "$VENV/bin/python" -m pip install "${PIP_ARGS[@]}" "tensorflow[and-cuda]" scikeras scikit-learn pandas pillow
  "$VENV/bin/python" -m pip install "${PIP_ARGS[@]}" tf_keras \
    || echo "(tf_keras not installed: case 5, the ImageDataGenerator pipeline, is skipped)"
  PYTHON="$VENV/bin/python"
fi

export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
# one process keeps its models while child processes measure memory: let each
# take GPU memory as it needs it rather than all of it up front
export TF_FORCE_GPU_ALLOW_GROWTH=true
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

"$PYTHON" - "${#SMOKE[@]}" <<'PY'
import sys
import tensorflow as tf, keras
gpus = tf.config.list_physical_devices("GPU")
print("== TensorFlow", tf.__version__, "Keras", keras.__version__, "built with CUDA:", tf.test.is_built_with_cuda())
print("== GPUs:", [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus])
if not gpus and sys.argv[1] == "0":
    sys.exit("no GPU visible to TensorFlow: the GPU benchmark needs one (--smoke runs without)")
PY

"$PYTHON" -m benchmarks.run --profile gpu ${SMOKE[@]+"${SMOKE[@]}"} --out "$OUTDIR"
echo "== wrote $OUTDIR/benchmarks.md and $OUTDIR/benchmarks.json"
