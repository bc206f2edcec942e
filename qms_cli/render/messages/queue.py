"""Words for people: qms queue.

Part of the one message catalogue (render/messages).
"""

from __future__ import annotations

from typing import Any

from qms_cli.render.messages.core import duration, duration_range, plural


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def about(low: float, high: float) -> str:
    """"in about 4–6 min", "now"."""
    if high < 1:
        return "now"
    return f"in about {duration_range(max(low, 0.0), high)}" if round(low) != round(high) else \
        f"in about {duration(high)}"


def standing(position: int | None, start: tuple[float, float], finish: tuple[float, float],
             processor: bool = False) -> str:
    """Where a waiting or running task stands, in one line."""
    if position is None and processor:
        return "waits for a worker on the processor (it was planned there; none is taking tasks)"
    if position is None:
        return "waits for a card with more memory (none taking tasks has enough)"
    if position == 0:
        return f"running · done {about(*finish)}"
    return f"{ordinal(position)} in line · starts {about(*start)} · done {finishing(start, finish)}"


def finishing(start: tuple[float, float], finish: tuple[float, float]) -> str:
    """When a waiting task should be done: "in about 9–15 min", or, for a run short beside the uncertainty
    of its start (whose range would read the same as the start's), "12–48 s after it starts"."""
    run = (max(0.0, finish[0] - start[0]), max(0.0, finish[1] - start[1]))
    if start[1] >= 1 and run[1] < 0.2 * start[1]:
        return f"{duration_range(*run) if round(run[0]) != round(run[1]) else duration(run[1])} after it starts"
    return about(*finish)


def queued(task_id: int, where: str) -> str:
    return f"Queued as task {task_id}: {where}."


def ended(task_id: int, state: str, took: float | None, reason: str | None) -> str:
    """A finished task, in one line."""
    spent = "" if took is None else f" in {duration(took)}" if took < 1 else f" after {duration(took)}"
    if state == "done":
        return f"Task {task_id} is done{spent}."
    if state == "cancelled":
        return f"Task {task_id} was cancelled{spent}."
    return f"Task {task_id} failed{spent}: {reason or 'no reason was given'}."


# Why a task ended (stored with it, shown by show, list and wait)
REASON_CANCELLED_WAITING = "cancelled before it started"
REASON_CANCELLED_RUNNING = "cancelled while running"
REASON_OUT_OF_MEMORY = "ran out of graphics memory"


def reason_exit(code: int) -> str:
    return f"the runner exited with code {code}"


def reason_lost(times: int) -> str:
    return f"its worker stopped {plural(times, 'time')}"


def reason_prepare_failed(error: str) -> str:
    return f"a worker could not prepare its run ({error}); the worker's output has the details"


def reason(kind: str, facts: dict[str, Any] | None = None) -> str:
    """Why a task ended, from the kind and facts the queue stores (qms_cli/queue/reasons.py)."""
    facts = facts or {}
    if kind == "cancelled_waiting":
        return REASON_CANCELLED_WAITING
    if kind == "cancelled_running":
        return REASON_CANCELLED_RUNNING
    if kind == "out_of_memory":
        return REASON_OUT_OF_MEMORY
    if kind == "runner_exit":
        return reason_exit(facts.get("code"))  # type: ignore[arg-type]  # None where an older run had none
    if kind == "worker_lost":
        return reason_lost(int(facts.get("times", 0)))
    if kind == "prepare_failed":
        return reason_prepare_failed(str(facts.get("error", "unknown")))
    return f"it ended ({kind})"


def cancel_asked(task_id: int) -> str:
    return f"Task {task_id} is running: it was asked to stop, and its worker will end it within seconds."


def already_ended(task_id: int, state: str) -> str:
    return f"task {task_id} has already ended ({state}); nothing was changed"


def no_such_task(task_id: int) -> str:
    return f"there is no task {task_id} in the queue"


def never_fits(function: str, requested: str, actual: str, processor: bool, serving: str) -> str:
    """serving: "card" (workers serve cards), "processor" (workers serve only the processor), "here" (no
    worker: this machine's card), "no card" (no worker, and this machine has no card qms can use)."""
    instead = f"{actual} on the processor" if processor else actual
    where = {"card": "even on the largest card taking tasks, when idle,",
             "processor": "the workers taking tasks use the processor, where",
             "here": "even on this machine's card, when idle,"}.get(serving)
    if where is None:
        return (f"{requested} {function} could never start as asked: no worker is taking tasks and this machine "
                f"has no graphics card qms can use, so it would run at {instead}. Ask for a lower quality, or "
                "allow one when you queue it.")
    return (f"{requested} {function} could never start as asked: {where} it would need {instead}. "
            "Ask for a lower quality, or allow one when you queue it.")


NO_WORKERS = "No worker is taking tasks yet: times assume this machine's cards. Start one with: qms queue work"
NO_WORKERS_NO_CARD = ("No worker is taking tasks yet: times assume this machine's processor (it has no graphics "
                      "card qms can use). Start one with: qms queue work")
QUEUE_EMPTY = "The queue is empty."
QUEUE_COLUMNS = ["#", "Task", "Owner", "Function", "Quality", "Priority", "State", "Run time", "Starts", "Done"]


PROCESSOR_NAME = "the processor"


def worker_started(card: str, where: str) -> str:
    return f"Taking tasks for {card} from {where}. Ctrl-C stops after returning the task under way to the queue."


def worker_running(task_id: int, owner: str, function: str, tier: str, estimate: str) -> str:
    return f"Task {task_id} ({owner}): {function} at {tier}, estimated {estimate}."


def worker_lower(task_id: int, tier: str) -> str:
    return f"Task {task_id} runs at {tier}: its quality does not fit the memory free on this card now (allowed)."


def worker_returned(task_id: int) -> str:
    return f"Task {task_id} went back to the queue."


def worker_lost(task_id: int) -> str:
    return (f"Task {task_id} was given to another worker (this one stopped answering for too long); "
            "its run here was stopped.")


def worker_prepare_failed(task_id: int, error: str, marked: bool, detail: str) -> str:
    """A task this worker could not prepare: marked failed (unless someone else ended it first); the details,
    for a report of the problem, follow on the next lines."""
    marked_text = "it was marked failed" if marked else "it had already ended"
    return f"Task {task_id} could not be prepared on this worker ({error}); {marked_text}. Details:\n{detail}"


def notify_title(task_id: int, state: str) -> str:
    return f"qms: task {task_id} {'is done' if state == 'done' else state}"


def policy_line(max_wait: float, quota: str, reserve: str) -> str:
    return (f"Every task starts within about {duration(max_wait)} plus the run under way; quotas while others wait: "
            f"{quota}; reserved: {reserve}.")


# qms queue simulate
POLICY_NAMES = {"fifo": "First come, first served", "priority": "Strict priority", "fair": "Fair (qms)"}
SIMULATION_COLUMNS = ["Policy", "Tasks of", "Tasks", "Average wait", "Half within", "9 in 10 within", "Longest",
                      "Slowdown (9 in 10)"]
SINGLE_TASK_OWNERS = "single-task owners during the batch"
BATCH_OWNER = "the owner of the batch"


def everything(per_hour: float, busy: float) -> str:
    return f"all: {per_hour:.0f} done an hour, cards busy {busy:.0%}"


def simulation_heading(function: str, card: str, cards: int, load: float, hours: float, batch: int, seed: int) -> str:
    flood = f", one owner queues {batch} at once" if batch else ""
    span = f"{hours:g} hour{'' if hours == 1 else 's'}"
    return (f"{function} on {cards} × {card}, {load:.0%} busy, {span}{flood} (seed {seed}); waits before "
            "each task started:")


def goal_line(goal: str, value: float, target: float, fifo: float, met: bool) -> str:
    mark = "met" if met else "not met"
    if goal == "tier_wait_spread":
        what = f"The qualities' average waits differ by {duration(value)} (goal: at most {duration(target)}"
    elif goal == "solo_wait":
        beyond = "no later than" if value < 1 else f"within {duration(value)} of"
        what = (f"9 in 10 single-task owners started {beyond} the end of the runs already under way when they "
                f"queued (goal: within {duration(target)}")
    elif goal == "max_wait":
        what = f"The longest wait was {duration(value)} (the policy's bound here: {duration(target)}"
    else:
        return (f"Throughput: {value:.0f} tasks an hour; first come, first served: {fifo:.0f} (goal: at least "
                f"{target:.0f}) — {mark}.")
    return f"{what}; first come, first served: {duration(fifo)}) — {mark}."


def report_written(path: str) -> str:
    return f"Charts: {path}"


def queue_unreachable(problem: str) -> str:
    return f"The queue's database cannot be reached ({problem}); trying again. Outcomes are kept on this machine."


QUEUE_BACK = "The queue's database is back."


def queue_gone(minutes: float) -> str:
    return (f"The queue's database could not be reached for {minutes:.0f} min; this worker stops. Outcomes it "
            "holds are kept on this machine and delivered when a worker starts here again.")


def outcome_delivered(task_id: int) -> str:
    return f"Task {task_id}'s outcome, kept on this machine, was recorded in the queue."
