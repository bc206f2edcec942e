"""Helpers for tests with real monitoring processes: exporters, a DCGM stand-in, a real Prometheus."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_prometheus() -> str:
    found = shutil.which("prometheus")
    if not found:
        pytest.skip("Prometheus is not installed (apt-get install -y --no-install-recommends prometheus); "
                    ".ci/run installs it")
    return found


class Exporter:
    """A real `qms exporter` process on a free port."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, fake_gpu: str | None = None) -> None:
        command = [sys.executable, "-m", "tests.fake_nvml", fake_gpu] if fake_gpu else [sys.executable, "-m", "qms_cli"]
        self.proc = subprocess.Popen([*command, "exporter", "--port", "0", *args], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, cwd=ROOT,
                                     env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
        assert self.proc.stderr is not None
        line = self.first_line = self.proc.stderr.readline()
        self.rest = ""  # what it said after that line, once stopped
        match = re.search(r"http://(?:[\d.]+|\[[0-9a-f:]+\]):(\d+)/metrics", line)
        assert match, line + self.proc.stderr.read()
        self.port = int(match.group(1))
        self.url = f"http://127.0.0.1:{self.port}/metrics"

    def scrape(self) -> str:
        with urllib.request.urlopen(self.url, timeout=10) as reply:
            return str(reply.read().decode())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr and not self.proc.stderr.closed:
            self.rest = self.proc.stderr.read()
            self.proc.stderr.close()


_DCGM_LABELS = '{gpu="0",UUID="GPU-dcgm-0000",device="nvidia0",modelName="NVIDIA A100-SXM4-80GB",Hostname="host-c"}'
DCGM_TEXT = f"""# HELP DCGM_FI_DEV_FB_FREE Framebuffer memory free (in MiB).
# TYPE DCGM_FI_DEV_FB_FREE gauge
DCGM_FI_DEV_FB_FREE{_DCGM_LABELS} 71000
# HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
# TYPE DCGM_FI_DEV_FB_USED gauge
DCGM_FI_DEV_FB_USED{_DCGM_LABELS} 10920
"""


@contextmanager
def dcgm_standin() -> Iterator[int]:
    """NVIDIA's DCGM exporter stands outside qms: a fixed page in its format (memory in MiB, no total)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = DCGM_TEXT.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


class Prometheus:
    """A real Prometheus on loopback scraping the given targets every second."""

    def __init__(self, folder: Path, jobs: dict[str, list[int]]) -> None:
        binary = require_prometheus()
        self.port = free_port()
        config = folder / "prometheus.yml"
        scrape = "".join(f"  - job_name: {job}\n    static_configs:\n      - targets: "
                         f"{json.dumps([f'127.0.0.1:{p}' for p in ports])}\n" for job, ports in jobs.items())
        config.write_text(f"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n{scrape}")
        self.log = (folder / "prometheus.log").open("w")
        self.proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={folder / 'data'}",
                                      f"--web.listen-address=127.0.0.1:{self.port}"], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"

    def query(self, expr: str) -> list[dict[str, Any]]:
        address = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(address, timeout=10) as reply:
            result: list[dict[str, Any]] = json.loads(reply.read())["data"]["result"]
            return result

    def wait_for(self, expr: str, count: int, timeout: float = 60) -> list[dict[str, Any]]:
        """Poll until `expr` returns `count` series (the first scrapes take a few seconds)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                found = self.query(expr)
                if len(found) >= count:
                    return found
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"Prometheus never returned {count} series for {expr}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
