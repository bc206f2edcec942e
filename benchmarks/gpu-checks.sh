#!/usr/bin/env bash
# The checks issues 3 and 5 name for a real NVIDIA GPU, in one go (a device lease is short: run them together).
#   bash benchmarks/gpu-checks.sh [OUTDIR]        # from the repository root, with the bench extra installed
# Writes into OUTDIR (default benchmarks/results/gpu): nvidia-smi.csv and probe.json (the probe against the
# driver's own tool), bench.json + bench.html (calibration and held-out evaluation: full-size tiers where the
# card holds them), rungs-card.json and rungs-{12,16,24}GB.json (every rung at full size, the ground truth for
# routing). Copy what matters into benchmarks/results/ and quote it.
set -uo pipefail
out=${1:-benchmarks/results/gpu}
mkdir -p "$out"
if ! command -v nvidia-smi >/dev/null; then
    echo "no NVIDIA driver here: nothing to check" >&2
    exit 1
fi
qms() { python -m qms_cli "$@"; }
nvidia-smi --query-gpu=index,name,uuid,memory.total,memory.used,memory.free,driver_version \
    --format=csv,noheader,nounits > "$out/nvidia-smi.csv"
qms probe --json > "$out/probe.json"
data=$(mktemp -d)
export QMS_DATA_DIR=$data QMS_OUTPUT=plain PYTHONUNBUFFERED=1
qms bench --evaluate --json --report "$out" > "$out/bench.json" && mv "$out/bench.html" "$out/bench-report.html"
qms bench --rungs --json > "$out/rungs-card.json"
for limit in 12GB 16GB 24GB; do
    qms bench --rungs --vram-limit "$limit" --json > "$out/rungs-$limit.json"
done
python - "$out" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
bench = json.loads((out / "bench.json").read_text())
cal = bench["calibration"] or {}
print("time error (held out):", cal.get("error"), "memory:", bench.get("memory"))
for f in sorted(out.glob("rungs-*.json")):
    r = json.loads(f.read_text())["rungs"]
    print(f.name, "limit", r["limit_bytes"], r["verdicts"])
PY
