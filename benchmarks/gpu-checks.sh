#!/usr/bin/env bash
# The checks issues 3 and 5 name for a real NVIDIA GPU. A device call may run 10 minutes and a lease lasts 30,
# so each step is one call:
#   bash benchmarks/gpu-checks.sh STEP [OUTDIR]     # from the repository root, with the bench extra installed
# STEP: probe (the probe against nvidia-smi), evaluate (calibration + held-out evaluation; full-size tiers where
# the card holds them; bench.json, bench-report.html), rungs (every rung at full size on the card itself),
# rungs-12GB / rungs-16GB / rungs-24GB (the same under --vram-limit). OUTDIR defaults to
# benchmarks/results/gpu; copy what matters into benchmarks/results/ and quote it.
set -uo pipefail
step=${1:?"which step: probe, evaluate, rungs, rungs-12GB, rungs-16GB or rungs-24GB"}
out=${2:-benchmarks/results/gpu}
mkdir -p "$out"
if ! command -v nvidia-smi >/dev/null; then
    echo "no NVIDIA driver here: nothing to check" >&2
    exit 1
fi
export QMS_DATA_DIR=${QMS_DATA_DIR:-$out/data} QMS_OUTPUT=plain PYTHONUNBUFFERED=1
qms() { python -m qms_cli "$@"; }
case $step in
    probe)
        nvidia-smi --query-gpu=index,name,uuid,memory.total,memory.used,memory.free,driver_version \
            --format=csv,noheader,nounits > "$out/nvidia-smi.csv"
        qms probe --json > "$out/probe.json" ;;
    evaluate)
        qms bench --evaluate --json --report "$out" > "$out/bench.json"
        mv "$out/bench.html" "$out/bench-report.html" ;;
    rungs)
        qms bench --rungs --json > "$out/rungs-card.json" ;;
    rungs-*GB)
        qms bench --rungs --vram-limit "${step#rungs-}" --json > "$out/$step.json" ;;
    *)
        echo "unknown step $step" >&2
        exit 2 ;;
esac
