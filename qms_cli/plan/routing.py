"""The router: the fastest rung that fits at the highest tier that fits wins (DESIGN.md, principle 6); a rung
fits when both its graphics memory and its main memory are there; every step down is explained (as facts:
plan/notices.py, worded by render/), and a task no rung fits is declared not runnable before anything starts."""

# No `from __future__ import annotations`: NamedTuple would compile every field's annotation string at
# import (~40 us a field, a few ms of start-up over the value types on `qms plan`'s path).

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from qms_cli.catalog.tiers import Configuration, Tier
from qms_cli.estimate.candidate import Candidate
from qms_cli.estimate.predict import Effects, Prediction, predict
from qms_cli.hardware import Gpu, Resources
from qms_cli.plan.explain import notices, status
from qms_cli.plan.ladder import as_mapped, candidates
from qms_cli.plan.notices import RUNS, Notice, Status
from qms_cli.values import Value

if TYPE_CHECKING:
    from qms_cli.catalog.load import Catalog
    from qms_cli.catalog.speed import Speed, Throughput
    from qms_cli.estimate.calibration import Calibration

MEASURED_SLACK = 1.05  # on a peak a runner measured for the very configuration: run-to-run variation only


@dataclass(frozen=True, eq=False, repr=False)
class Rung(Value):
    """One configuration tried: where it would run, what it would take, and whether it was chosen."""

    tier: Tier
    config: Configuration
    device: Gpu | None  # the card it would run on; None on the processor, or when there is no card
    on_cpu: bool
    prediction: Prediction
    fits: bool
    skipped: str | None = None  # why a rung that fits was passed over ("slower than the time limit")
    card_fits: bool = True  # its graphics memory is there (always on the processor)
    ram_fits: bool = True  # its main memory is there


@dataclass(frozen=True, eq=False, repr=False)
class Route(Value):
    """The decision for one function at one requested tier on one machine."""

    function: str
    requested: Tier
    chosen: Rung
    rungs: tuple[Rung, ...]
    notices: tuple[Notice, ...]
    available: int = 0  # graphics memory available for work on the card routed against
    available_ram: int = 0  # main memory available for work
    status: Status = RUNS  # how it runs here (explain.status), decided with the notices

    @property
    def fallback(self) -> bool:
        return self.chosen.tier.id != self.requested.id

    @property
    def runnable(self) -> bool:
        """Whether any rung fits; when none does, `chosen` is the processor rung, which does not fit either."""
        return self.chosen.fits


class Router:
    """Routes tasks on one machine. Decisions are pure: the same input gives the same route, memoised."""

    def __init__(self, catalog: "Catalog", resources: Resources, throughput: "Throughput",
                 calibrations: "dict[str, Calibration] | None" = None,
                 history: dict[tuple[str, str], list[float]] | None = None) -> None:
        self.catalog = catalog
        self.resources = resources
        self.throughput = throughput
        self.calibrations = calibrations or {}
        self.history = history or {}  # (fingerprint, configuration) -> actual / estimated time of real runs
        self.best = resources.best_gpu
        self.available = resources.available_vram  # the one home of both: Resources, after its reserves
        self.available_ram = resources.available_ram
        self._speeds: dict[str, Speed] = {}
        self._routes: dict[tuple[Any, ...], Route] = {}
        self._rungs: dict[tuple[Any, ...], Rung] = {}  # routes for neighbouring tiers share most rungs

    def speed(self, device: Gpu | None) -> "Speed":
        """The device's measured speed (`qms bench`), else its reference speed."""
        key = device.fingerprint() if device else self.resources.cpu_fingerprint
        if key not in self._speeds:
            base = (self.throughput.card(device) if device
                    else self.throughput.cpu(self.resources.system.cpu_cores))
            cal = self.calibrations.get(key)
            self._speeds[key] = cal.speed(base) if cal else base
        return self._speeds[key]

    @property
    def calibrated(self) -> "Calibration | None":
        """The calibration of the device plans run on (the best card, else the processor), if any."""
        return self.calibrations.get(self.resources.fingerprint)

    def rung(self, c: Candidate, count: int) -> Rung:
        key = (c.tier.id, c.config, c.cpu, count)
        found = self._rungs.get(key)
        if found is None:
            found = self._rungs[key] = self._rung(c, count)
        return found

    def _rung(self, c: Candidate, count: int) -> Rung:
        models = self.catalog.models
        model = models.models[c.config.model]
        device = None if c.cpu else self.best
        # Without a card, card rungs are still predicted (with a reference card's speed) to say what they need.
        speed = self.speed(None) if c.cpu else self.speed(device) if device else self.throughput.gpu("")
        effects = Effects.of(c.config.options, models.options, speed.option_factors(model.family))
        p = predict(model, models.families[model.family], c.config.resolution, c.config.steps or model.default_steps,
                    c.config.frames, effects, speed, on_gpu=not c.cpu, count=count)
        measured = self._measured(c, device)
        if measured is not None:  # an external runner timed this very configuration here (qms bench --runner)
            seconds = measured["seconds"] * count
            slack = max(speed.memory_margin, MEASURED_SLACK)
            p = p._replace(seconds=seconds, low=seconds * p.low / p.seconds, high=seconds * p.high / p.seconds,
                           peak=max(p.peak, int((measured["peak_bytes"] or 0) * slack)),
                           calibrated=True, basis="measured here with your own command (qms bench --runner)")
        else:
            p = self._learned(c, device, p)
        card_fits = c.cpu or (device is not None and p.peak <= self.available)
        ram_fits = p.ram <= self.available_ram
        return Rung(c.tier, c.config, device, c.cpu, p, card_fits and ram_fits, card_fits=card_fits,
                    ram_fits=ram_fits)

    def fingerprint_of_rung(self, r: Rung) -> str:
        """The fingerprint of the device a rung runs on."""
        return self.resources.cpu_fingerprint if r.on_cpu or r.device is None else r.device.fingerprint()

    def fingerprint_of(self, c: Candidate, device: Gpu | None) -> str:
        return self.resources.cpu_fingerprint if c.cpu or device is None else device.fingerprint()

    def _learned(self, c: Candidate, device: Gpu | None, p: Prediction) -> Prediction:
        """The estimate corrected by this machine's history of the same configuration (learning.py)."""
        from qms_cli.estimate.learning import config_key, correction

        ratios = self.history.get((self.fingerprint_of(c, device), config_key(c)))
        learned = correction(ratios) if ratios else None
        if learned is None:
            return p
        seconds = p.seconds * learned.factor
        lo, hi = learned.band or (p.low / p.seconds, p.high / p.seconds)
        return p._replace(seconds=seconds, low=seconds * lo, high=seconds * hi,
                          basis=f"{p.basis} · learned from {learned.runs} runs here")

    def _measured(self, c: Candidate, device: Gpu | None) -> dict[str, Any] | None:
        """A runner's measurement, for exactly the configuration it ran (the tier as mapped, on a card)."""
        if c.cpu:
            cal = self.calibrations.get(self.resources.cpu_fingerprint)
        else:
            cal = self.calibrations.get(device.fingerprint()) if device is not None else None
        if cal is None or c.config != as_mapped(c.tier, c.function, self.catalog.models):
            return None
        return cal.measured(c.tier.id, c.function)

    def route(self, function: str, requested: Tier, frames: int | None = None, count: int = 1,
              max_time: float | None = None) -> Route:
        """The fastest rung that fits at the highest tier that fits (with `max_time`, the highest tier whose
        fastest fitting rung finishes within it)."""
        key = (function, requested.id, frames, count, max_time)
        cached = self._routes.get(key)
        if cached is None:
            cached = self._routes[key] = self._route(function, requested, frames, count, max_time)
        return cached

    def _route(self, function: str, requested: Tier, frames: int | None, count: int,
               max_time: float | None) -> Route:
        tiers, models = self.catalog.tiers, self.catalog.models
        rungs = [self.rung(c, count) for c in candidates(tiers, models, function, requested, frames)]
        if max_time is not None:
            rungs = [r if not r.fits or r.prediction.seconds <= max_time else _skip(r) for r in rungs]
        chosen, too_slow = choose(rungs, max_time)
        route = Route(function, requested, chosen, tuple(rungs), (), self.available, self.available_ram)
        sizes = self.card_sizes
        return replace(route, notices=tuple(notices(route, self.resources, too_slow, max_time, sizes)),
                       status=status(route, self.resources.reserve, sizes))

    @property
    def card_sizes(self) -> tuple[int, ...]:
        """The card sizes sold (bytes, smallest first: profiles/cards.yaml), for the cards people are told of."""
        return self.catalog.card_sizes


def choose(rungs: list[Rung], max_time: float | None) -> tuple[Rung, bool]:
    """(chosen rung, whether nothing met the time limit): tier by tier from the top, the fastest rung that fits
    (the first listed on a tie); past the time limit, the fastest that fits anywhere; nothing fitting, the last
    rung (the processor's), which does not fit."""
    by_tier: dict[str, list[Rung]] = {}
    for r in rungs:
        by_tier.setdefault(r.tier.id, []).append(r)
    for group in by_tier.values():
        fitting = [r for r in group if r.fits]
        if fitting:
            best = min(fitting, key=lambda r: r.prediction.seconds)
            if max_time is None or best.prediction.seconds <= max_time:
                return best, False
    fitting = [r for r in rungs if r.fits]
    if fitting:
        return min(fitting, key=lambda r: r.prediction.seconds), True
    return rungs[-1], False


def _skip(r: Rung) -> Rung:
    return replace(r, skipped="slower than the time limit")
