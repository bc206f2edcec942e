"""A real PostgreSQL server in a temporary folder, for the queue's tests (initdb + pg_ctl, Unix socket only).

PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user (or `nobody`) via runuser.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.monitoring import free_port


def _bin(program: str) -> str | None:
    """The server program: on PATH, else where Debian's postgresql package puts it."""
    found = shutil.which(program)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / program).is_file():
            return str(folder / program)
    return None


def missing() -> str | None:
    """Why a server cannot be started here, or None."""
    for program in ("initdb", "pg_ctl", "postgres"):
        if _bin(program) is None:
            return f"{program} is not installed (PostgreSQL server programs; Debian: apt install postgresql)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'qms-cli[postgres]')"
    if os.geteuid() == 0 and _user() is None:
        return "running as root and there is no 'postgres' user to run the server as"
    return None


def _user() -> str | None:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return None


class Server:
    """initdb, start, hand out a URL, stop and remove."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="qms-pg-"))
        self.data, self.sockets = self.root / "data", self.root / "run"
        self.sockets.mkdir()
        self.port = free_port()
        self.user = _user() if os.geteuid() == 0 else None
        if self.user:
            entry = pwd.getpwnam(self.user)
            for path in (self.root, self.sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run(["initdb", "-D", str(self.data), "-U", "qms", "--auth=trust", "--no-sync", "-E", "UTF8"])
        self._start()
        self.url = f"postgresql://qms@/postgres?host={self.sockets}&port={self.port}"

    def _start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses='' -c fsync=off -c max_connections=100"
        self._run(["pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start"])

    def restart(self, down: float = 0.0) -> None:
        """An outage: stop the server at once (every connection dropped), stay down `down` seconds, start it."""
        import time

        self.down()
        time.sleep(down)
        self._start()

    def down(self) -> None:
        """Stop the server at once, as a crash would (start it again with restart(), or leave it to stop())."""
        self._run(["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"])

    def up(self) -> None:
        self._start()

    def _run(self, argv: list[str]) -> None:
        argv = [_bin(argv[0]) or argv[0], *argv[1:]]
        if self.user:
            argv = ["runuser", "-u", self.user, "--", *argv]
        done = subprocess.run(argv, capture_output=True, timeout=120, text=True)
        if done.returncode:
            why = done.stderr.strip() or done.stdout.strip()
            raise RuntimeError(f"{' '.join(argv)}: exit {done.returncode}: {why}")

    def database(self, name: str) -> str:
        """A fresh, empty database on the server; its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://qms@/{name}?host={self.sockets}&port={self.port}"

    def stop(self) -> None:
        try:
            self._run(["pg_ctl", "-D", str(self.data), "-m", "immediate", "stop"])
        except RuntimeError:
            pass  # already stopped
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
