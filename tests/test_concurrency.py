"""50 `qms set-quality` processes at once on one file."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

ORIGINAL = {"version": 1, "name": "Shared", "quality": "standard", "canvas": {"nodes": list(range(50))},
            "ui": {"zoom": 2}}


@pytest.mark.slow
def test_fifty_concurrent_writers_leave_one_valid_file() -> None:
    path = Path("project.json")
    path.write_text(json.dumps(ORIGINAL, indent=2) + "\n", encoding="utf-8")
    rng = random.Random(7)
    written = [rng.choice(["low", "standard", "high"]) for _ in range(50)]
    procs = [subprocess.Popen([sys.executable, "-m", "qms_cli", "set-quality", tier], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for tier in written]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    for p in procs:
        for stream in (p.stdout, p.stderr):
            if stream:
                stream.close()
    assert all(code == 0 for code, _ in results), [err for code, err in results if code]
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["quality"] in written
    assert {k: v for k, v in data.items() if k != "quality"} == {k: v for k, v in ORIGINAL.items() if k != "quality"}
    assert os.listdir(".") == ["project.json"]  # no temporary or lock files beside it
