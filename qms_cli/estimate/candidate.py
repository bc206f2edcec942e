"""The configuration an estimate is made for: a tier's configuration for one function, on a card or on the
processor. The ladder (plan/ladder.py) lists them; the estimator and what it learns from runs key on them."""

from __future__ import annotations

from dataclasses import dataclass

from qms_cli.catalog.tiers import Configuration, Tier
from qms_cli.values import Value


@dataclass(frozen=True, eq=False, repr=False)
class Candidate(Value):
    """One configuration to try, on a card (`cpu` False) or on the processor."""

    tier: Tier
    function: str
    config: Configuration
    cpu: bool = False
