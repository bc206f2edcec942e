"""What `qms queue work` does: serve one card until stopped."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from qms_cli.cli.common import Settings
from qms_cli.cli.queue_flow import Where
from qms_cli.errors import UsageError

if TYPE_CHECKING:
    from qms_cli.hardware import Resources
    from qms_cli.queue.worker import Card


def work(settings: Settings, where: Where, runner: str | None, gpu: int | None, once: bool, poll: float,
         as_json: bool, processor: bool = False) -> int:
    from qms_cli.errors import DataError
    from qms_cli.queue.events import QueueGone
    from qms_cli.queue.worker import Worker, runner_argv
    from qms_cli.render import messages as m
    from qms_cli.render.messages.plan import WORDING
    from qms_cli.render.output import emit_lines
    from qms_cli.render.queue import view, worker_line

    argv = runner_argv(runner)
    card = _card(settings, where, gpu, processor)
    interrupted = False
    with _sigterm_as_interrupt(), where.store() as store:
        worker = Worker(store, where.open, card, argv, lambda said: say(worker_line(said)), where.history_db(),
                        WORDING)
        say(m.worker_started(m.PROCESSOR_NAME if worker.gpu is None else worker.info.card, store.where))
        try:
            for ended in worker.serve(once, poll):
                if as_json and ended.task is not None:
                    import json

                    emit_lines(json.dumps(view(ended.task, None, time.time()), ensure_ascii=False))
                    sys.stdout.flush()
                interrupted = interrupted or ended.interrupted
        except QueueGone as e:
            raise DataError(m.queue_gone(e.minutes)) from None
    return 130 if interrupted else 0


def say(line: str) -> None:
    """A worker's line, on stderr at once (its output is its log)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _card(settings: Settings, where: Where, gpu: int | None, processor: bool) -> Card:
    """The card this worker serves: --gpu INDEX, else the one with the most memory; the processor with
    --processor, or where there is no card (the ladder's last rung: tasks planned there need such a worker)."""
    from qms_cli.hardware import probe
    from qms_cli.plan.manager import QualityManager
    from qms_cli.queue.worker import Card

    qm = QualityManager.from_project(None, profiles=settings.profiles, vram_limit=where.vram_limit,
                                     reserve=where.reserve, hardware=where.hardware, db=where.db)
    res = qm.resources
    usable = [g for g in res.gpus if g.usable]
    if processor and gpu is not None:
        raise UsageError(f"--processor and --gpu {gpu}: a worker serves one card or the processor; give one")
    chosen = next((g for g in usable if g.index == gpu), None) if gpu is not None else res.best_gpu
    if gpu is not None and chosen is None:
        known = ", ".join(str(g.index) for g in usable) or "none"
        raise UsageError(f"--gpu {gpu}: there is no such card here (cards qms can use: {known})")
    if processor or chosen is None:
        alone = res._replace(gpus=())

        def read() -> Resources:
            return probe(where.vram_limit, where.reserve, where.hardware, qm.catalog)._replace(gpus=())
        return Card(qm.on(alone, project=False), read)
    index = chosen.index
    alone = res._replace(gpus=(chosen,))
    card_qm = qm.on(alone, project=False)

    def refresh() -> Resources:
        now = probe(where.vram_limit, where.reserve, where.hardware, qm.catalog)
        return now._replace(gpus=tuple(g for g in now.gpus if g.index == index) or (chosen,))

    return Card(card_qm, refresh)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a service manager stopping the worker) is handled like Ctrl-C: the task goes back."""
    import signal

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous: Callable[..., Any] | int | None = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
