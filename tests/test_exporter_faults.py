"""`qms exporter` under hostile clients and failing refreshes (issue 15): real exporter processes, real sockets,
real SQLite."""

from __future__ import annotations

import json
import re
import shutil
import socket
import sqlite3
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from qms_cli.exporter.server import IDLE, MAX_OPEN
from tests.conftest import run_qms
from tests.monitoring import Exporter


def test_a_thousand_idle_connections_neither_block_scrapes_nor_cost_a_thread_each() -> None:
    e = Exporter("--interval", "1s", "--hardware", "rtx-4090-24gb")
    idle: list[socket.socket] = []
    try:
        process = psutil.Process(e.proc.pid)
        threads = process.num_threads()
        for _ in range(1000):  # before: a thread each, kept for ever, behind a backlog of 5
            idle.append(socket.create_connection(("127.0.0.1", e.port), timeout=10))
        half = socket.create_connection(("127.0.0.1", e.port), timeout=10)
        half.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # a request that never ends
        idle.append(half)
        time.sleep(0.5)
        for _ in range(5):
            assert "qms_gpu_memory_total_bytes" in e.scrape()
        assert process.num_threads() <= threads + 8  # the few workers, not one per connection
        assert len([c for c in process.net_connections() if c.status == "ESTABLISHED"]) <= MAX_OPEN + 8
    finally:
        for s in idle:
            s.close()
        e.stop()


def test_an_idle_connection_is_closed_after_a_while() -> None:
    e = Exporter("--interval", "1s", "--hardware", "rtx-4090-24gb")
    try:
        quiet = socket.create_connection(("127.0.0.1", e.port), timeout=IDLE * 3)
        slow = socket.create_connection(("127.0.0.1", e.port), timeout=IDLE * 3)
        slow.sendall(b"GET /metrics HTTP/1.1\r\n")  # started, never finished
        started = time.monotonic()
        assert quiet.recv(1) == b"" and slow.recv(1) == b""  # the server hung up on both
        assert time.monotonic() - started < IDLE * 3
        assert "qms_build_info" in e.scrape()
    finally:
        e.stop()


def test_a_failing_refresh_says_one_line_per_kind(tmp_path: Path) -> None:
    box = tmp_path / "box.yaml"
    shutil.copy(Path(__file__).parent.parent / "profiles" / "hardware" / "rtx-3060-12gb.yaml", box)
    kept = box.read_bytes()
    e = Exporter("--interval", "0.2s", "--hardware", str(box))
    try:
        box.unlink()  # every refresh from here fails the same way
        time.sleep(2)
        box.write_bytes(kept)
        time.sleep(1)
        assert "qms_gpu_memory_total_bytes" in e.scrape()
    finally:
        e.stop()
    err = e.rest
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    failed = [line for line in lines if line.startswith("Could not read the numbers again")]
    assert len(failed) == 1 and "box.yaml" in failed[0], err
    assert "The numbers are being read again." in lines


def test_refreshes_do_not_take_the_history_write_lock(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite3"
    env = {"QMS_DB": str(db)}
    assert run_qms("record", "-f", "Create Image", "--tier", "low", "--seconds", "3", env=env).code == 0
    assert run_qms("queue", "add", "Create Image", "--hardware", "rtx-4090-24gb", env=env).code == 0
    e = Exporter("--interval", "0.2s", "--hardware", "rtx-4090-24gb", "--db", str(db),
                 env={"QMS_DB_TIMEOUT": "0.1"})
    writer = sqlite3.connect(db, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # a long write (a worker, qms record) holds the write lock
        writer.execute("INSERT INTO queue_settings (name, value) VALUES ('x', '1')")
        time.sleep(2)  # about ten refreshes under that lock
        text = e.scrape()
        errors = re.search(r"^qms_exporter_refresh_errors_total\{.*\} (\S+)$", text, re.MULTILINE)
        assert errors and float(errors.group(1)) == 0, text
        assert re.search(r'^qms_queue_tasks\{[^}]*state="queued"[^}]*\} 1\.0$', text, re.MULTILINE), text
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        e.stop()
    assert json.loads(run_qms("queue", "list", "--json", env=env).out)  # the queue is as it was, still usable


@pytest.mark.parametrize(("host", "shown", "warned"), [("0.0.0.0", "http://0.0.0.0:", True),
                                                        ("::", "http://[::]:", True),
                                                        ("::1", "http://[::1]:", False),
                                                        ("127.0.0.1", "http://127.0.0.1:", False)])
def test_the_address_is_shown_as_people_open_it_and_an_open_one_is_warned_about(host: str, shown: str,
                                                                                warned: bool) -> None:
    e = Exporter("--host", host, "--hardware", "rtx-4090-24gb")
    try:
        first = e.first_line
        assert shown in first
        local = "[::1]" if ":" in host else "127.0.0.1"
        with urllib.request.urlopen(f"http://{local}:{e.port}/metrics", timeout=10) as reply:
            assert reply.status == 200
    finally:
        e.stop()
    assert ("can be read by any computer" in e.rest) == warned
