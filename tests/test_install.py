"""The wheel carries profiles and schemas: a non-editable install works from any folder."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_wheel_installs_and_runs_from_anywhere(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(ROOT)], check=True, capture_output=True)
    (wheel,) = dist.glob("qms_cli-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                    str(wheel)], check=True, capture_output=True)
    target_site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                      check=True, capture_output=True, text=True).stdout.strip())
    # The dependencies come from this test environment (no network), after the venv's own packages.
    (target_site / "zz_test_deps.pth").write_text("".join(f"{p}\n" for p in site.getsitepackages()))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([str(python), "-c", "import qms_cli, qms_cli.paths as p; "
                            "print(qms_cli.__file__); print(p.bundled('profiles'))"],
                           cwd=elsewhere, check=True, capture_output=True, text=True,
                           env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"}).stdout.split()
    assert where[0].startswith(str(env_dir)) and where[1].startswith(str(target_site))
    qms = env_dir / "bin" / "qms"
    result = subprocess.run([str(qms), "tiers", "--json"], cwd=elsewhere, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "QMS_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [t["id"] for t in data["tiers"]] == ["low", "standard", "high"]
    assert data["sources"]["tiers"].startswith(str(target_site))
    check = subprocess.run([str(qms), "validate"], cwd=elsewhere, capture_output=True, text=True,
                           env={"PATH": "/usr/bin:/bin", "QMS_CACHE_DIR": str(tmp_path / "cache")})
    assert check.returncode == 0 and check.stdout == "All 10 files valid.\n"
    alerts = subprocess.run([str(qms), "exporter", "--print-alerts"], cwd=elsewhere, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin"})
    assert alerts.returncode == 0 and "QmsFallbackRateHigh" in alerts.stdout  # monitoring assets ship too
