"""The queue's stores: one suite, run on SQLite and on a real PostgreSQL server (skipped, with the reason, only
where the server programs or psycopg are missing)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qms_cli.errors import DataError
from qms_cli.queue.model import ATTEMPTS, LEASE, NewTask, WorkerInfo
from qms_cli.queue.reasons import Reason
from qms_cli.queue.store import SQLiteStore, Store, open_store
from qms_cli.runs import history

GB = 2**30


_databases = iter(range(10**6))


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Opens new connections to one fresh queue."""
    if request.param == "sqlite":
        path = tmp_path / "queue.sqlite3"

        def open_sqlite() -> Store:
            return SQLiteStore(path)
        opened = open_sqlite
    else:
        url = request.getfixturevalue("pg_server").database(f"q{next(_databases)}")

        def open_pg() -> Store:
            return open_store(url, None)
        opened = open_pg
    stores: list[Store] = []

    def make() -> Store:
        stores.append(opened())
        return stores[-1]
    yield make
    for s in stores:
        with contextlib.suppress(sqlite3.ProgrammingError):  # closed by the thread that opened it
            s.close()


def new(owner: str = "ann", tier: str = "low", priority: int = 1, need: int = 8 * GB) -> NewTask:
    return NewTask(owner, "Create Image", tier, priority, None, 1, None, None, False, tier, f"{tier}-config", need,
                   10.0, 8.0, 14.0)


def worker(n: int = 0) -> WorkerInfo:
    return WorkerInfo(f"host/gpu{n}/1", "host", n, "Card", 24 * GB, 0.0, 0.0, None)


def every(snap: object) -> list[tuple[object, str]]:
    return [(t, t.tier) for t in snap.waiting]  # type: ignore[attr-defined]


def test_add_get_snapshot(opener: Callable[[], Store]) -> None:
    store = opener()
    a, b = store.add(new("ann")), store.add(new("bob", "high", 2, 20 * GB))
    assert (a.id, a.state, a.owner, a.attempts, a.allow_fallback) == (1, "queued", "ann", 0, False)
    assert store.get(b.id) == b and b.need == 20 * GB and b.priority == 2
    assert store.get(999) is None
    snap = store.snapshot()
    assert [t.id for t in snap.waiting] == [1, 2] and snap.running == [] and snap.last_start == {}
    assert snap.now >= a.queued_at


def test_claim_takes_the_first_offered_and_records_the_start(opener: Callable[[], Store]) -> None:
    store = opener()
    for owner in ("ann", "bob", "cy"):
        store.add(new(owner))
    w = worker()
    store.beat(w)
    got = store.claim(w, lambda snap: [(t, "standard") for t in reversed(snap.waiting)])
    assert got is not None and (got.id, got.state, got.worker, got.gpu, got.ran_tier) == (3, "running", w.id, 0,
                                                                                         "standard")
    snap = store.snapshot()
    assert [t.id for t in snap.running] == [3] and set(snap.last_start) == {"cy"}
    assert [x.id for x in snap.workers] == [w.id]
    assert store.claim(w, lambda snap: []) is None  # nothing offered, nothing taken


def test_heartbeat_finish_release_cancel(opener: Callable[[], Store]) -> None:
    store = opener()
    w = worker()
    for _ in range(3):
        store.add(new())
    t1 = store.claim(w, every)
    assert t1 is not None and store.heartbeat(t1.id, w.id) == "ok"
    assert store.heartbeat(t1.id, "someone/else") == "lost"
    assert not store.finish(t1.id, "someone/else", "ok", None, 0, 1.0)
    assert store.finish(t1.id, w.id, "failed", Reason("runner_exit", {"code": 2}), 2, 1.5)
    done = store.get(t1.id)
    assert done is not None and (done.state, done.outcome, done.exit_code, done.reason_kind, done.reason_facts) == \
        ("failed", "failed", 2, "runner_exit", {"code": 2})
    t2 = store.claim(w, every)
    assert t2 is not None and store.release(t2.id, w.id)
    back = store.get(t2.id)
    assert back is not None and (back.state, back.worker, back.started_at, back.attempts) == ("queued", None, None, 0)
    t2 = store.claim(w, every)
    assert t2 is not None
    asked = store.cancel(t2.id)
    assert asked is not None and asked.state == "running" and asked.cancel_requested
    assert store.heartbeat(t2.id, w.id) == "cancel"
    assert store.finish(t2.id, w.id, "cancelled", Reason("cancelled_running", {}), 130, 0.5)
    waiting = store.snapshot().waiting[0]
    cancelled = store.cancel(waiting.id)
    assert cancelled is not None and cancelled.state == "cancelled"
    assert [t.id for t in store.recent(10)] == [waiting.id, t2.id, t1.id]


def _age(store: Store, seconds: float) -> None:
    with store.tx() as tx:
        tx.run("UPDATE queue_tasks SET heartbeat = heartbeat - ? WHERE state = 'running'", (seconds,))


def test_a_claim_that_stops_heartbeating_goes_back_then_fails(opener: Callable[[], Store]) -> None:
    store = opener()
    task = store.add(new())
    for attempt in range(1, ATTEMPTS + 1):
        claimed = store.claim(worker(attempt), every)
        assert claimed is not None and claimed.id == task.id
        _age(store, 10_000)
        store.snapshot()
        again = store.get(task.id)
        assert again is not None and again.attempts == attempt
        if attempt < ATTEMPTS:
            assert again.state == "queued" and again.worker is None
    assert (again.state, again.outcome, again.reason_kind, again.reason_facts) == \
        ("failed", "lost", "worker_lost", {"times": ATTEMPTS})
    assert not store.finish(task.id, worker(ATTEMPTS).id, "ok", None, 0, 1.0)  # too late: the claim was lost


def test_workers_settings_and_stats(opener: Callable[[], Store]) -> None:
    store = opener()
    store.beat(worker(0))
    store.beat(worker(1)._replace(task=5))
    assert [w.task for w in store.snapshot().workers] == [None, 5]
    store.leave(worker(1).id)
    assert len(store.snapshot().workers) == 1
    assert store.settings() == {}
    store.configure({"max_wait": "600.0"})
    store.configure({"max_wait": "900.0", "quota": "{}"})
    assert store.settings() == {"max_wait": "900.0", "quota": "{}"}
    store.add(new("ann"))
    store.add(new("ann"))
    store.add(new("bob", "high"))
    store.claim(worker(0), every)
    stats = store.stats()
    assert stats.tasks == [("queued", "high", "bob", 1), ("queued", "low", "ann", 1), ("running", "low", "ann", 1)]
    assert [t for t, _ in stats.oldest] == ["high", "low"] and stats.workers == 1
    assert stats.waits[0][0] == "low" and stats.waits[0][1][-1] == 1


def test_concurrent_claims_take_each_task_exactly_once(opener: Callable[[], Store]) -> None:
    first = opener()
    total = 60
    for i in range(total):
        first.add(new(f"owner{i % 7}"))
    taken: list[list[int]] = [[] for _ in range(4)]
    errors: list[BaseException] = []

    def claim_all(n: int) -> None:
        store = opener()
        w = worker(n)
        try:
            while (t := store.claim(w, every)) is not None:
                taken[n].append(t.id)
                assert store.finish(t.id, w.id, "ok", None, 0, 0.0)
        except BaseException as e:
            errors.append(e)
        finally:
            store.close()

    threads = [threading.Thread(target=claim_all, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ids = sorted(i for ids in taken for i in ids)
    assert ids == list(range(1, total + 1))
    assert all(t.state == "done" for t in first.recent(total))


def test_sqlite_queue_shares_the_history_database(tmp_path: Path) -> None:
    """A history written before the queue existed gains its tables and keeps its runs."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    for statement in history.MIGRATIONS[1].split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO runs (started_at, function, requested, chosen, outcome, source) VALUES "
                 "('2026-01-01', 'Create Image', 'low', 'low', 'ok', 'run')")
    conn.commit()
    conn.close()
    store = SQLiteStore(path)
    store.add(new())
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == history.LATEST
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM queue_tasks").fetchone()[0] == 1


def test_unreachable_or_wrong_queue_addresses() -> None:
    with pytest.raises(DataError) as e:
        open_store("postgresql://qms:secret@127.0.0.1:1/nothing", None)
    assert "cannot reach the queue database" in e.value.message and "secret" not in e.value.message
    assert "qms:***@127.0.0.1:1" in e.value.message
    from qms_cli.errors import UsageError

    with pytest.raises(UsageError):
        open_store("mysql://somewhere/db", None)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process checks need /proc (Linux)")
def test_a_stale_claim_stays_while_its_holder_lives_here(opener: Callable[[], Store]) -> None:
    import json
    import os
    import signal
    import subprocess
    import sys

    from qms_cli.queue import journal, lease

    store = opener()
    task = store.add(new())
    me = lease.claim_of()
    assert me is not None and json.loads(me)["worker"][0] == os.getpid()
    assert store.claim(worker(), every, me) is not None
    _age(store, LEASE + 1)
    assert store.snapshot().running[0].id == task.id  # its worker (this process) lives: not handed out again
    # A worker that is gone, whose runner's group still runs here: the runner is ended, then the claim is free.
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    runner = subprocess.Popen(["sleep", "60"], **lease.spawn_options())
    held = dict(json.loads(lease.claim_of(runner.pid) or "{}"), worker=[dead_pid, 1])
    with store.tx() as tx:
        tx.run("UPDATE queue_tasks SET lease = ? WHERE id = ?", (json.dumps(held), task.id))
    assert [t.id for t in store.snapshot().waiting] == [task.id]
    assert runner.wait(timeout=10) == -signal.SIGKILL
    # An outcome kept in this machine's journal: the claim is not handed out again either.
    claimed = store.claim(worker(), every, None)
    assert claimed is not None and claimed.attempts == 1
    _age(store, LEASE + 1)
    path = journal.path_for(store.key, task.id)
    journal.write(path, {"task": task.id})
    assert [t.id for t in store.snapshot().running] == [task.id]
    journal.remove(path)
    assert [t.id for t in store.snapshot().waiting] == [task.id]


def test_an_outcome_delivered_late_is_kept_not_rerun(opener: Callable[[], Store]) -> None:
    store = opener()
    task = store.add(new())
    w = worker()
    assert store.claim(w, every) is not None
    _age(store, LEASE + 1)
    assert [t.id for t in store.snapshot().waiting] == [task.id]  # given back while the database was away
    assert store.finish(task.id, w.id, "ok", None, 0, 3.0)  # the outcome arrives before anyone took it again
    done = store.get(task.id)
    assert done is not None and (done.state, done.outcome, done.worker) == ("done", "ok", w.id)
    assert store.snapshot().waiting == []
