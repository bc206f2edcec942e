"""Words for people: qms bench and calibration.

Part of the one message catalogue (render/messages).
"""

from __future__ import annotations

from qms_cli.render.messages.core import plural

# qms bench
BENCH_MEASURING = "Measuring"
HELD_OUT = "sizes it was not fitted to"  # the terminal and the report say the same (render/bench.py)
FITTED = "the sizes it was fitted to"


def held_out(n: int) -> str:
    """"1 size it was not fitted to", "10 sizes it was not fitted to"."""
    return f"{plural(n, 'size')} it was not fitted to"


def fitted(n: int) -> str:
    """"the 10 sizes it was fitted to"."""
    return f"the {plural(n, 'size')} it was fitted to"


FITTED_MARK = "fitted"
HELD_OUT_MARK = "not fitted"
REPORT_TIME = "Time: predicted and measured"
REPORT_MEMORY = "Memory at the peak: predicted and measured"
REPORT_FIGURES = "All figures"
REPORT_KEY = ("predicted", "measured")
REPORT_FITTED_NOTE = ("Sizes marked fitted are the ones the estimates were fitted to; the others were measured to "
                      "judge them.")
BENCH_REPORT_TITLE = "qms bench: how accurate are the time estimates on this machine"
EVAL_COLUMNS = ["Tier", "Function", "Size measured", "Predicted", "Measured", "Error", "Memory predicted",
                "Memory measured"]
_OPTION_WORDS = {"fp8-storage": "smaller stored weights", "sequential": "one layer on the card at a time",
                 "tiled": "picture decoded in tiles", "--medvram": "one part on the card at a time",
                 "--lowvram": "half of the largest part on the card"}
BENCH_RUNG_COLUMNS = ["Quality", "Function", "Settings", "Phase", "Memory predicted", "Memory measured", "qms said",
                "What happened"]
AS_MAPPED = "as set for the quality"
_SKIPPED = {"needs_card": "moving parts on and off a graphics card needs one",
            "too_large": "larger than this machine's main memory",
            "too_slow": "it would take minutes on the processor",
            "four_bit": "weights stored in 4 bits are not reproduced"}
RUNNER_COLUMNS = ["Tier", "Function", "Took", "Predicted", "Graphics memory", "Exit code"]


def bench_job(job: dict[str, object]) -> str:
    if job.get("kind") == "runner":
        return f"{job['tier']} · {job['function']}"
    if job.get("kind") == "decode":
        return f"timing the picture decoder at {job['side']} px"
    if job.get("empty"):
        return f"timing the full-size model at the task's own size ({job.get('tier')} quality)"
    return f"timing a small model of the same design, size {job.get('tokens')}"


def bench_option(option: str) -> str:
    """A memory-saving setting, in words (the table's tier column, for a setting measured on its own)."""
    return _OPTION_WORDS.get(option, "a memory-saving setting")


def bench_settings(options: tuple[str, ...]) -> str:
    return ", ".join(bench_option(o) for o in options) or AS_MAPPED


def bench_phase(phase: str) -> str:
    """A phase of a task ("denoise" or "step": one pass; "decode"), in words."""
    return "making the picture" if phase in ("denoise", "step") else "turning it into pixels"


_FAMILY_WORDS = {"flux": "the picture model", "wan": "the video model"}


def bench_family(family: str) -> str:
    """A model family measured, in words (its name is jargon)."""
    return _FAMILY_WORDS.get(family, "another model")


def bench_said(fits: bool) -> str:
    return "fits" if fits else "does not fit"


def bench_happened(run_status: str, fits: bool | None, why: str | None) -> str:
    if run_status == "skipped":
        return "not run here: " + _SKIPPED.get(why or "", "not possible here")
    if run_status == "planned":
        return "not run (interrupted)"
    if run_status == "oom":
        return "ran out of memory"
    if run_status != "ok":
        return "failed"
    return "ran within the limit" if fits else "ran, but needed more than the limit"


def bench_rungs(agree: int, unsafe: int, cautious: int, unmeasured: int, limit: str) -> str:
    line = f"Against {limit}: qms was right about {agree} of {plural(agree + unsafe + cautious, 'setting')} measured"
    if unsafe:
        line += f"; {unsafe} it said would fit ran out of memory"
    if cautious:
        line += f"; {cautious} it said would not fit did"
    if unmeasured:
        line += f" ({unmeasured} not measured here)"
    return line + "."


def bench_margin(margin: float) -> str:
    return (f"From now on qms keeps {margin - 1:.0%} more memory in hand than it estimates on this card: "
            "what the full-size runs needed.")


def bench_memory(measured: int, under: int, max_over: float, processor: bool, unfitted: bool = True) -> str:
    """`unfitted`: judged on held-out sizes; else on the sizes the memory model was fitted to."""
    where = "main memory (this run used the processor)" if processor else "graphics memory"
    sizes = held_out(measured) if unfitted else fitted(measured)
    if under:
        return f"Peak {where}: under the measured peak for {under} of {sizes}; qms keeps its larger safety margin."
    return f"Peak {where}: never under the measured peak on {sizes}, at most {max_over:.0%} over."


def bench_accuracy(median: float, p90: float, held_out: bool) -> str:
    what = f"on {HELD_OUT}" if held_out else f"on {FITTED}"
    return f"Estimates are off by {median:.1%} typically and {p90:.1%} at most for 9 in 10, {what}."


def bench_too_few(measured: int) -> str:
    taken = "1 measurement was" if measured == 1 else f"{measured} measurements were"
    return f"Only {taken} taken: too few to calibrate, so nothing was saved."


def bench_interrupted(measured: int) -> str:
    kept = "the 1 measurement taken so far was" if measured == 1 else f"the {measured} measurements taken so far were"
    return f"Interrupted: {kept} kept."


def bench_saved(path: str) -> str:
    return f"Calibration saved to {path}; qms plan and qms tiers use it from now on."


def bench_report(path: str) -> str:
    return f"Report: {path}"


def size_or_na(n: int | None) -> str:
    if n is None:
        return "N/A"
    from qms_cli.units import format_size

    return format_size(n)


def bench_goal_missed(aim: float, low: float, high: float) -> str:
    """The held-out error is worse than calibration aims for: said plainly, with the wider range plans use."""
    return (f"That misses what qms aims for (9 in 10 within {aim:.0%}), so plans on this machine show each time "
            f"as a wider range: from {1 - low:.0%} less to {high - 1:.0%} more than the estimate.")


def estimates_calibrated(date: str, p90: float, partial: bool) -> str:
    from qms_cli.estimate.calibration import GOAL_P90, goal_met

    part = " (from an interrupted run)" if partial else ""
    short = "" if goal_met(p90) else f", short of the {GOAL_P90:.0%} qms aims for, so times are shown as wider ranges"
    return f"Estimates calibrated on this machine on {date}{part}: 9 in 10 within {p90:.0%}{short}."


ESTIMATES_UNCALIBRATED = ("Estimates are not calibrated for this machine yet, so times are wide ranges; "
                          "qms bench measures it.")


def calibration_unreadable(problem: str) -> str:
    return f"Note: a calibration could not be read, so estimates are uncalibrated until qms bench runs again: {problem}"


def calibration_outdated(device: str, date: str) -> str:
    return (f"Note: the speeds qms bench measured on {device} on {date} were made by an older qms, which counted "
            "the work of a step differently, so they are set aside: estimates are uncalibrated until qms bench runs "
            "again")


def runner_implausible(n: int, example: str, took: str, expected: str) -> str:
    return (f"Not saved as this machine's speed: {plural(n, 'run')} of your command finished far "
            f"sooner than the work can take ({example}: {took}, where about {expected} was expected); check that "
            "the command really generates")


def calibration_not_saved(problem: str, kept: str | None) -> str:
    where = (f"the measurements were kept in {kept}: move that file into place once the folder can be written"
             if kept else "the measurements are printed above: save them into place once the folder can be written")
    return f"The calibration could not be saved where qms reads it ({problem}); {where}"
