"""`qms queue ...`: tasks wait their turn for a card; workers run them."""

# No `from __future__ import annotations`: Typer would evaluate each option's annotation string on every run.

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qms_cli.cli.common import JsonOpt, ProjectOpt, settings
from qms_cli.cli.probe_cmd import HardwareOpt, ReserveOpt, VramLimitOpt
from qms_cli.cli.run_cmd import DbOpt

if TYPE_CHECKING:
    from qms_cli.cli.queue_flow import Where

QueueOpt = Annotated[str | None, typer.Option(
    "--queue", metavar="URL", help="A shared queue: postgresql://user@host/db. Default: $QMS_QUEUE_URL, else this "
                                   "machine's database (--db).")]
IdArg = Annotated[int, typer.Argument(metavar="ID", help="The task's number (qms queue list).")]

app = typer.Typer(help="Queue tasks for the cards: position, wait, workers, fair turns.", no_args_is_help=True,
                  rich_markup_mode=None)


def _where(queue: str | None, db: Path | None, vram_limit: str | None = None, reserve: str | None = None,
           hardware: str | None = None) -> "Where":
    from qms_cli.cli.queue_flow import Where

    return Where(queue, db, vram_limit, reserve, hardware)


@app.command("add")
def add(
    ctx: typer.Context,
    function: Annotated[str, typer.Argument(help="e.g. \"Create Image\".")],
    quality: Annotated[str | None, typer.Option(metavar="TIER", help="Quality to ask for. Default: the node's, else the project's.")] = None,  # noqa: E501
    priority: Annotated[str, typer.Option(metavar="low|normal|high", help="Goes before lower priorities.")] = "normal",
    count: Annotated[int, typer.Option(help="Images (or clips).")] = 1,
    frames: Annotated[int | None, typer.Option(help="Video length in frames.")] = None,
    seconds: Annotated[float | None, typer.Option(help="Video length in seconds.")] = None,
    node: Annotated[str | None, typer.Option(metavar="ID", help="The node this task is for.")] = None,
    owner: Annotated[str | None, typer.Option(metavar="NAME", help="Whose task it is. Default: your login name.")] = None,  # noqa: E501
    fallback: Annotated[bool, typer.Option("--fallback", help="Allow a lower quality if no card has room for this one when its turn comes.")] = False,  # noqa: E501
    project: ProjectOpt = None, vram_limit: VramLimitOpt = None, reserve: ReserveOpt = None,
    hardware: HardwareOpt = None, queue: QueueOpt = None, db: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Queue a task; say its place in line and when it should start and finish.

    Example: qms queue add "Create Image" --quality high --count 4
    """
    from qms_cli.cli.queue_flow import add as add_task
    from qms_cli.queue.service import Spec
    from qms_cli.queue.service import owner as login

    spec = Spec(function=function, quality=quality, priority=priority.strip().lower(),
                owner=owner if owner is not None else login(), node=node, count=count, frames=frames, seconds=seconds,
                allow_fallback=fallback)
    add_task(settings(ctx), spec, _where(queue, db, vram_limit, reserve, hardware), project, as_json)


@app.command("list")
def list_tasks(ctx: typer.Context, finished: Annotated[int, typer.Option(
        "--finished", metavar="N", help="Also the N latest finished tasks.")] = 0,
        vram_limit: VramLimitOpt = None, hardware: HardwareOpt = None, queue: QueueOpt = None, db: DbOpt = None,
        as_json: JsonOpt = False) -> None:
    """Tasks in the order they will run, with estimated start and finish.

    Example: qms queue list
    """
    from qms_cli.cli.queue_flow import list_tasks as run

    run(settings(ctx), _where(queue, db, vram_limit, None, hardware), finished, as_json)


@app.command("show")
def show(ctx: typer.Context, task_id: IdArg, vram_limit: VramLimitOpt = None, hardware: HardwareOpt = None,
         queue: QueueOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Where one task stands, or how it ended.

    Example: qms queue show 12
    """
    from qms_cli.cli.queue_flow import show as run

    run(settings(ctx), _where(queue, db, vram_limit, None, hardware), task_id, as_json)


@app.command("cancel")
def cancel(task_id: IdArg, queue: QueueOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Take a waiting task out of the queue, or stop a running one.

    Example: qms queue cancel 12
    """
    from qms_cli.cli.queue_flow import cancel as run

    run(_where(queue, db), task_id, as_json)


@app.command("wait")
def wait(ctx: typer.Context, task_id: IdArg,
         notify: Annotated[bool, typer.Option("--notify", help="A desktop notification at the end (else the terminal bell).")] = False,  # noqa: E501
         interval: Annotated[float, typer.Option(metavar="SECONDS", help="How often to look.")] = 1.0,
         vram_limit: VramLimitOpt = None, hardware: HardwareOpt = None, queue: QueueOpt = None, db: DbOpt = None,
         as_json: JsonOpt = False) -> None:
    """Follow a task to its end; exit 0 done, 1 failed, 3 cancelled.

    Example: qms queue wait 12 --notify
    """
    from qms_cli.cli.queue_flow import wait as run

    if interval <= 0:
        from qms_cli.errors import UsageError

        raise UsageError(f"--interval {interval}: give a number of seconds above 0")
    run(settings(ctx), _where(queue, db, vram_limit, None, hardware), task_id, notify, interval, as_json)


@app.command("work")
def work(ctx: typer.Context,
         runner: Annotated[str | None, typer.Option(metavar="CMD", help="The command that generates (gets QMS_* variables and $QMS_PLAN). Default: $QMS_RUNNER.")] = None,  # noqa: E501
         gpu: Annotated[int | None, typer.Option(metavar="INDEX", help="The card to serve. Default: the one with the most memory.")] = None,  # noqa: E501
         processor: Annotated[bool, typer.Option("--processor", help="Serve the processor (tasks planned there) instead of a card; the default where there is no card.")] = False,  # noqa: E501
         once: Annotated[bool, typer.Option("--once", help="Run at most one task, then stop.")] = False,
         poll: Annotated[float, typer.Option(metavar="SECONDS", help="How often to look when there is nothing to run.")] = 2.0,  # noqa: E501
         vram_limit: VramLimitOpt = None, reserve: ReserveOpt = None, hardware: HardwareOpt = None,
         queue: QueueOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Run queued tasks on one card (or the processor), one at a time, by the queue's policy.

    Example: qms queue work --runner "python generate.py" --gpu 0
    """
    from qms_cli.cli.work_flow import work as run

    if poll <= 0:
        from qms_cli.errors import UsageError

        raise UsageError(f"--poll {poll}: give a number of seconds above 0")
    raise typer.Exit(run(settings(ctx), _where(queue, db, vram_limit, reserve, hardware), runner, gpu, once, poll,
                         as_json, processor))


@app.command("simulate")
def simulate(ctx: typer.Context,
             mix: Annotated[str, typer.Option(metavar="TIER=WEIGHT,...", help="Share of tasks per quality.")] = "low=50,standard=35,high=15",  # noqa: E501
             gpus: Annotated[int, typer.Option(help="Cards.")] = 4,
             load: Annotated[float, typer.Option(help="Share of the cards' time the tasks need, below 1.")] = 0.7,
             hours: Annotated[float, typer.Option(help="Simulated time.")] = 8.0,
             owners: Annotated[str, typer.Option(metavar="N|NAMES", help="How many people queue (or their names).")] = "8",  # noqa: E501
             seed: Annotated[int, typer.Option(help="Same seed, same arrivals.")] = 1,
             batch: Annotated[int, typer.Option(metavar="N", help="One owner queues N tasks at once (0: none).")] = 200,
             function: Annotated[str, typer.Option("--function", "-f", help="What the tasks do.")] = "Create Image",
             max_wait: Annotated[str | None, typer.Option("--max-wait", metavar="DURATION", help="Fair policy: overdue after (default 1h).")] = None,  # noqa: E501
             quota: Annotated[str | None, typer.Option(metavar="TIER=SHARE,...", help="Fair policy: most cards a quality may hold while others wait (default high=0.75).")] = None,  # noqa: E501
             reserve: Annotated[str | None, typer.Option("--reserve", metavar="TIER=SHARE,...", help="Fair policy: cards kept for each quality (default 0.25 each).")] = None,  # noqa: E501
             hardware: HardwareOpt = None, vram_limit: VramLimitOpt = None,
             report: Annotated[Path | None, typer.Option(metavar="DIR", help="Write report.html (charts) and simulation.json here.")] = None,  # noqa: E501
             as_json: JsonOpt = False) -> None:
    """Compare first come first served, strict priority and the fair policy on the same simulated day.

    Example: qms queue simulate --gpus 4 --load 0.7 --report sim/
    """
    from qms_cli.cli.simulate_flow import simulate as run

    run(settings(ctx), mix, gpus, load, hours, owners, seed, batch, function, hardware, vram_limit, max_wait, quota,
        reserve, as_json, report)


@app.command("policy")
def policy(max_wait: Annotated[str | None, typer.Option("--max-wait", metavar="DURATION", help="A task waiting this long goes first.")] = None,  # noqa: E501
           quota: Annotated[str | None, typer.Option(metavar="TIER=SHARE,...", help="e.g. high=0.75, or none.")] = None,
           reserve: Annotated[str | None, typer.Option(metavar="TIER=SHARE,...", help="e.g. low=0.25,standard=0.25,high=0.25, or none.")] = None,  # noqa: E501
           queue: QueueOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Show or change the queue's fair-policy settings (for every worker).

    Example: qms queue policy --quota high=0.5 --max-wait 30m
    """
    from qms_cli.cli.queue_flow import policy as run

    run(_where(queue, db), max_wait, quota, reserve, as_json)


app.info.epilog = "\b\nExamples:\n" + "\n".join(
    f"  {line.strip().removeprefix('Example: ')}" for c in app.registered_commands
    for line in (c.callback.__doc__ or "").splitlines() if line.strip().startswith("Example: "))
