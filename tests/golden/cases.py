"""Golden outputs: a fixed set of `qms` commands over the bundled simulated machines and the fake drivers.

Each case runs real `qms` processes in a fresh folder and records, per step, the command, its exit code, its
stdout and stderr, and at the end the project file it left. The house refactor (issue 16) must leave every one
of them identical; only commits that change behaviour on purpose update them:

    python -m tests.golden.cases            # rewrite tests/golden/out/*.txt from this tree
    python -m pytest tests/test_golden.py   # compare this tree with them

Every command runs on a pinned machine (tests/golden/pinned.py: a fixed /proc, and the fake NVML where a case
names a scenario), so the outputs do not depend on the machine that records or checks them; the temporary
folder's path is replaced by <DIR>, the checkout's by <ROOT>.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = HERE / "out"
MACHINES = ["cpu-only", "laptop-8gb", "rtx-3060-12gb", "rtx-4080-16gb", "rtx-4090-24gb", "a100-80gb"]
SCENARIOS = ["no-driver", "no-library", "driver-not-loaded", "version-mismatch", "one-idle", "two-one-busy", "lost",
             "v1-only", "mig-a100", "unlisted-card", "not-supported", "other-error", "eight"]
APP_PROJECT = """{
  "version": "1.0",
  "name": "Spring posters",
  "quality": "standard",
  "created": "2025-01-02T10:00:00Z",
  "canvas": {"nodes": [{"id": "hero-shot", "type": "Create Image"}, {"id": "intro", "type": "Create Video"}]}
}
"""
BAD_OVERRIDE = APP_PROJECT.replace('"canvas"', '"quality_overrides": {"hero-shot": "max"},\n  "canvas"')
TASKS = ('{"function": "Create Image", "quality": "high", "count": 2}\n'
         '{"function": "Create Video", "quality": "standard", "seconds": 4}\n'
         '{"function": "Create Sound"}\n')
FIXED = {"2025-01-02T10:00:00Z"}
BAD_TIERS = "tiers:\n  - id: low\n    name: Low\n"


@dataclass(frozen=True)
class Case:
    name: str
    steps: list[list[str]]
    files: dict[str, str] = field(default_factory=dict)  # written into the folder first
    scenario: str | None = None  # run through the fake NVML (tests/fake_nvml.py)
    keep: str | None = None  # a file whose final bytes are recorded


def cases() -> list[Case]:
    out: list[Case] = []
    for m in MACHINES:
        hw = ["--hardware", m]
        out += [Case(f"probe-{m}", [["probe", *hw], ["probe", *hw, "--json"]]),
                Case(f"tiers-{m}", [["tiers", *hw], ["tiers", *hw, "--technical"], ["tiers", *hw, "--json"]])]
        for q in ("low", "standard", "high"):
            out.append(Case(f"plan-{m}-{q}", [["plan", "--quality", q, *hw, "-y"],
                                               ["plan", "--quality", q, *hw, "--technical", "-y"],
                                               ["plan", "--quality", q, *hw, "--json"]]))
    for s in SCENARIOS:
        out.append(Case(f"nvml-{s}", [["probe"], ["probe", "--json"], ["plan", "--quality", "high", "-y",
                                                                        "--json"]], scenario=s))
    p = {"project.json": APP_PROJECT}
    out += [
        Case("project-flow", [["show"], ["tiers", "--hardware", "rtx-4080-16gb"], ["set-quality", "high"],
                              ["set-quality", "low", "--node", "hero-shot"], ["show", "--json"],
                              ["plan", "--hardware", "rtx-3060-12gb", "-y"],
                              ["set-quality", "max"], ["set-quality", "standard", "--node", "hero-shot"]],
             files=p, keep="project.json"),
        Case("project-init", [["init", "film", "--name", "Film", "--quality", "high"],
                              ["init", "film", "--name", "Film"]], keep="film/project.json"),
        Case("project-bad-override", [["show"], ["plan", "--hardware", "rtx-4090-24gb", "-y"],
                                      ["plan", "--hardware", "rtx-4090-24gb", "--quality", "low", "--json"],
                                      ["set-quality", "high"], ["tiers", "--hardware", "rtx-4090-24gb"]],
             files={"project.json": BAD_OVERRIDE}, keep="project.json"),
        Case("project-not-json", [["show"], ["set-quality", "high"]], files={"project.json": "{\"quality\": "},
             keep="project.json"),
        Case("plan-video-limits", [["plan", "Create Video", "--quality", "high", "--seconds", "5",
                                    "--vram-limit", "12GB", "-y"],
                                   ["plan", "Create Video", "--quality", "high", "--frames", "33",
                                    "--vram-limit", "8GB", "--technical", "-y"],
                                   ["plan", "Create Image", "--quality", "high", "--count", "4",
                                    "--vram-limit", "16GB", "--reserve", "1GB", "--json"],
                                   ["plan", "Create Image", "--quality", "high", "--vram-limit", "16GB",
                                    "--strict"],
                                   ["plan", "Create Image", "--quality", "high", "--hardware", "rtx-4090-24gb",
                                    "--max-time", "5s", "-y"]]),
        Case("plan-tasks-file", [["plan", "--tasks", "tasks.jsonl", "--hardware", "rtx-4080-16gb", "-y"],
                                 ["plan", "--tasks", "tasks.jsonl", "--hardware", "rtx-4080-16gb", "--json"],
                                 ["plan", "--tasks", "tasks.jsonl", "--hardware", "rtx-4080-16gb", "--strict"]],
             files={"tasks.jsonl": TASKS}),
        Case("usage-errors", [["plan", "--quality", "max"], ["plan", "--vram-limit", "12XB", "--quality", "low"],
                              ["probe", "--reserve", "-1GB"], ["plan", "Create Sound", "--quality", "low"],
                              ["probe", "--hardware", "no-such-machine"], ["tiers", "--vram-limit", "abc"],
                              ["nosuchcommand"]]),
        Case("validate", [["validate"], ["validate", "--json"], ["validate", "bad"],
                          ["validate", "project.json"]],
             files={"bad/tiers.yaml": BAD_TIERS, "project.json": BAD_OVERRIDE}),
        Case("queue-simulate", [["queue", "simulate", "--hours", "1", "--gpus", "2", "--owners", "3", "--batch", "20"],
                                ["queue", "simulate", "--hours", "1", "--gpus", "2", "--owners", "3", "--json"]]),
        Case("empty-history", [["stats"], ["stats", "--json"], ["accuracy"], ["history", "list"]]),
        Case("help", [["--help"], ["plan", "--help"], ["queue", "--help"], ["--version"]]),
    ]
    return out


def normalise(text: str, folder: Path) -> str:
    text = text.replace(str(folder.resolve()), "<DIR>").replace(str(folder), "<DIR>").replace(str(ROOT), "<ROOT>")
    # the moment a file was made (the fixtures' own fixed moments stay)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", lambda m: m[0] if m[0] in FIXED else "<NOW>", text)


def env(folder: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("QMS_") and k not in ("VRAM_LIMIT", "CUDA_VISIBLE_DEVICES", "PYTHONPATH")}
    e.update(QMS_CACHE_DIR=str(folder / ".cache"), QMS_LOG_DIR=str(folder / ".logs"),
             QMS_DATA_DIR=str(folder / ".data"), COLUMNS="120", LINES="50",
             PYTHONPATH=str(ROOT), TERM="dumb", NO_COLOR="1", LC_ALL="C.UTF-8", TZ="UTC")
    return e


def run(case: Case) -> str:
    with tempfile.TemporaryDirectory(prefix="qms-golden-") as tmp:
        folder = Path(tmp)
        for name, text in case.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
        head = [sys.executable, "-m", "tests.golden.pinned", case.scenario or "-"]
        parts: list[str] = []
        for argv in case.steps:
            proc = subprocess.run([*head, *argv], cwd=folder, env=env(folder), capture_output=True, text=True,
                                  timeout=120)
            parts.append(f"$ qms {' '.join(argv)}\nexit: {proc.returncode}\n--- stdout\n{proc.stdout}"
                         f"--- stderr\n{proc.stderr}")
        if case.keep:
            kept = folder / case.keep
            parts.append(f"--- file {case.keep}\n" + (kept.read_text(encoding="utf-8") if kept.exists()
                                                      else "(none)\n"))
        return normalise("".join(parts), folder)


def run_all(selected: list[Case] | None = None) -> dict[str, str]:
    chosen = selected if selected is not None else cases()
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(zip((c.name for c in chosen), pool.map(run, chosen), strict=True))


def main() -> int:
    OUT.mkdir(exist_ok=True)
    results = run_all()
    for old in OUT.glob("*.txt"):
        if old.stem not in results:
            old.unlink()
    for name, text in results.items():
        (OUT / f"{name}.txt").write_text(text, encoding="utf-8")
    print(f"wrote {len(results)} golden files to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
