#!/usr/bin/env bash
# The GPU check as one command, for a lent GPU machine with no internet:
#
#     bash bench/gpu_check.sh "$OUT" 420      # results in $OUT/gpu_check.{json,txt}, about 8 min
#
# It installs nothing from the internet. It picks the first Python that imports torch
# (.venv/bin/python, then python3, then python), checks the modules `repro run` needs there
# (torch, lightning, numpy, yaml, click), installs missing ones from wheels in .whl/ when
# that folder was carried along (else from a package registry, if one answers within 2 min),
# runs repro from this checkout through PYTHONPATH (no pip install of repro itself), and
# stops everything after BUDGET + 60 s.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-${OUT:-/tmp/gpu_check}}
BUDGET=${2:-420}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1

PY=""
for cand in .venv/bin/python python3 python; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import torch' >/dev/null 2>&1; then PY=$cand; break; fi
done
if [ -z "$PY" ]; then
  echo "gpu_check: no Python here imports torch; install torch (with CUDA) first" | tee "$OUT/gpu_check.txt"
  exit 2
fi
echo "gpu_check: using $PY ($("$PY" -c 'import sys, torch; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available())'))"

missing=$("$PY" - <<'PYEOF'
import importlib.util
need = {"torch": "torch", "lightning": "lightning", "numpy": "numpy", "yaml": "pyyaml", "click": "click"}
print(" ".join(pkg for mod, pkg in need.items() if importlib.util.find_spec(mod) is None))
PYEOF
)
if [ -n "$missing" ]; then
  echo "gpu_check: missing modules: $missing"
  if ls .whl/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --target /tmp/gpu_check_site .whl/*.whl \
      && export PYTHONPATH=/tmp/gpu_check_site
  else
    timeout 120 "$PY" -m pip install -q --target /tmp/gpu_check_site $missing \
      && export PYTHONPATH=/tmp/gpu_check_site \
      || echo "gpu_check: could not install $missing (no .whl/ folder and no registry); continuing"
  fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
timeout -k 10 $((BUDGET + 60)) "$PY" bench/gpu_check.py --out "$OUT" --budget-s "$BUDGET" "${@:3}"
rc=$?
echo "gpu_check: exit $rc; results in $OUT/gpu_check.txt and $OUT/gpu_check.json"
exit $rc
