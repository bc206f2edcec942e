"""Refit one bench run's own measurements with the fit of a given checkout of qms, to compare fits on the same data.

    python benchmarks/refit.py CHECKOUT RESULT.json

RESULT.json is `qms bench --evaluate --json` output or a saved calibration; CHECKOUT is the root of any qms
checkout (before or after the parts moved into folders). Prints the held-out samples' median, 90th-percentile
and worst relative error under that checkout's fit. benchmarks/results/refit-comparison.json holds what it
printed for the runs in benchmarks/results/.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any


def main(checkout: str, result: str) -> dict[str, Any]:
    sys.path.insert(0, checkout)
    try:
        c: Any = importlib.import_module("qms_cli.estimate.calibration")
        percentile = importlib.import_module("qms_cli.estimate.stats").percentile
    except ImportError:  # a checkout from before the parts moved into folders
        c = importlib.import_module("qms_cli.calibration")
        percentile = c.percentile
    with open(result, encoding="utf-8") as f:
        data = json.load(f)
    rows = data["samples"] if "samples" in data else data["calibration"]["samples"]
    fields = c.Sample.__dataclass_fields__
    samples = [c.Sample(**{k: v for k, v in s.items() if k in fields}) for s in rows]
    fitted = c.fit(samples)
    errors = c.errors(fitted, [s for s in samples if not s.fit])
    return {"checkout": checkout, "result": result, "held_out": len(errors),
            "median": round(percentile(errors, 0.5), 4), "p90": round(percentile(errors, 0.9), 4),
            "worst": round(max(errors), 4)}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
