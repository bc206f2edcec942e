"""Words for people about the machine: the probe's cards, drivers, what holds a card. Part of the one message
catalogue (render/messages)."""

from __future__ import annotations

from qms_cli.render.messages.core import plural

NO_GPU = "No NVIDIA graphics card found: tasks will run on the processor, which is much slower."
NO_GPU_PACKAGE = NO_GPU + " (a part of qms that talks to the graphics driver is missing: reinstall qms)"
DRIVER_MISMATCH = ("The graphics driver was updated but the old one is still loaded: restart the computer (or "
                   "reload the driver) before using the graphics card.")
ALL_CARDS_HIDDEN = "All graphics cards are hidden from tasks by a setting on this machine."


def driver_hung(seconds: str) -> str:
    return (f"The graphics driver did not answer (qms waited {seconds}), so no card is used and tasks run on "
            "the processor; restarting the computer usually clears this.")


def no_gpu_driver_said(what: str) -> str:
    return f"{NO_GPU} (the graphics driver said: {what})"


def cards_hidden(visible: int) -> str:
    return (f"Some graphics cards are hidden from tasks by a setting on this machine; {visible} "
            f"{'is' if visible == 1 else 'are'} visible.")

PROBE_CARDS_HEADING = "Graphics cards"
PROBE_COLUMNS = ["#", "Card", "Busy", "Total", "In use", "Free", "Available for work", ""]


def probe_best(index: int, available: str, reserve: str) -> str:
    return (f"Best card for work: #{index}, with {available} of graphics memory available "
            f"({reserve} kept free for the system).")


def probe_no_card(has_limit: bool) -> str:
    if has_limit:
        return "No graphics card can take work right now: tasks will run on the processor."
    return "No graphics card can take work: tasks will run on the processor, which is much slower."


def probe_system(ram_total: str, ram_free: str, cores: int, cpu: str) -> str:
    return f"Memory: {ram_total} ({ram_free} free) · Processor: {cpu}, {plural(cores, 'core')}"


def probe_simulated(machine: str) -> str:
    return f"Simulated machine: {machine}"


def probe_limit(limit: str) -> str:
    return f"Graphics memory is limited to {limit} per card (a simulation of a smaller card)."


def card_unavailable(why: str) -> str:
    return f"unavailable: {why}"


def card_degraded(why: str) -> str:
    return f"partly readable: {why}"


def held_by_programs(index: int, programs: str) -> str:
    return f"Card #{index} is in use by: {programs}"


UNKNOWN_PROGRAM = "a program qms may not name"
CARD_SLICE = " (a slice of a larger card)"


# Fleets (--prometheus)
def host_stale(host: str) -> str:
    return f"Machine {host} has not reported its graphics cards recently, so it is left out."


def host_down(instance: str) -> str:
    return f"A machine Prometheus watches is not answering ({instance}), so it is left out."


def prometheus_fallback(problem: str) -> str:
    return f"Planning for this machine only: {problem}."


FLEET_COLUMN = "Machine"


def fleet_machine(hosts: int, url: str) -> str:
    return f"{plural(hosts, 'machine')} known to {url}"


def no_fleet(url: str) -> str:
    return f"Prometheus at {url} knows no machine with graphics cards that reported recently"
