"""Words for people: qms run, record, accuracy, stats and history.

Part of the one message catalogue (render/messages).
"""

from __future__ import annotations

from qms_cli.render.messages.core import plural


# qms run, record, accuracy, stats, history
def history_unreadable(problem: str) -> str:
    return f"Note: the history of runs could not be read, so estimates do not learn from it this time: {problem}"


def not_recorded(problem: str) -> str:
    return f"Note: this run was not recorded in the history: {problem}"


def took(seconds: str, estimate: str) -> str:
    return f"Took {seconds} (estimated {estimate})."


def run_failed(seconds: str, code: int) -> str:
    return f"Failed after {seconds} (exit code {code})."


def run_out_of_memory(seconds: str) -> str:
    return f"Ran out of graphics memory after {seconds}."


def run_cancelled(seconds: str) -> str:
    return f"Cancelled after {seconds}."


def recorded(n: int) -> str:
    return f"Recorded {plural(n, 'run')}."


def pruned(n: int, before: str) -> str:
    return f"Deleted {plural(n, 'run')} started before {before}."


NO_RUNS = "No runs recorded yet: qms run and qms record add them."
ACCURACY_COLUMNS = ["Quality", "Function", "Runs", "Typical error", "9 in 10 within", "Within ±20%", "Bias",
                    "Trend"]
STATS_COLUMNS = ["Quality", "Runs", "Share", "Failed", "Out of memory", "Time spent"]
HISTORY_COLUMNS = ["When", "Function", "Quality", "Took", "Estimated", "Outcome"]


def bias_words(bias: float) -> str:
    if abs(bias) < 0.02:
        return "on target"
    return f"{abs(bias):.0%} {'longer' if bias > 0 else 'shorter'} than estimated"


def fallbacks_line(runs: int, fallbacks: int, asked: int, accepted: int) -> str:
    """`qms stats`: how often a lower quality was used, and what people said when they were asked."""
    if not fallbacks:
        return f"None of the {plural(runs, 'run')} used a lower quality than asked."
    head = f"{fallbacks} of {plural(runs, 'run')} ({fallbacks / max(runs, 1):.0%}) used a lower quality than asked"
    if not asked:
        return head + "; nobody was asked first."
    return head + f"; people were asked first {plural(asked, 'time')} and went ahead {plural(accepted, 'time')}."


def exporter_serving(url: str, interval: str) -> str:
    return f"Serving metrics on {url} (read again every {interval}); Ctrl-C stops."


EXPORTER_STOPPED = "Stopped."
EXPORTER_REFRESH_RECOVERED = "The numbers are being read again."


def exporter_refresh_failed(problem: str) -> str:
    return f"Could not read the numbers again, so the last ones are served: {problem}"


def exporter_open_to_network(url: str) -> str:
    return (f"Note: {url} can be read by any computer that can reach this one; to keep the numbers on this "
            "machine, leave the address out (or use 127.0.0.1)")
