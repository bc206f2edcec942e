"""qms: quality tiers for generative media.

Pick Low, Standard or High; qms maps it to a model configuration that runs on this machine.

The Python API (stable; each name loads its part only when first used, so `import qms_cli` stays cheap)::

    from qms_cli import QualityManager, probe

    manager = QualityManager.from_project()      # this machine, its project, calibration and history
    plan = manager.plan("Create Image", quality="high")
    plan.route.chosen                             # the configuration the function runner should use

`probe()` returns the machine's `Resources`; `QualityManager`, `FleetManager` (several machines from
Prometheus), `Task` and `load_catalog` are the other names; `Planner` is the protocol both managers satisfy
(type a function that plans on either with it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from qms_cli.catalog.load import load_catalog
    from qms_cli.hardware import probe
    from qms_cli.plan.fleet import FleetManager
    from qms_cli.plan.manager import QualityManager, Task
    from qms_cli.plan.planner import Planner

_API = {"QualityManager": "qms_cli.plan.manager", "Task": "qms_cli.plan.manager", "probe": "qms_cli.hardware",
        "FleetManager": "qms_cli.plan.fleet", "load_catalog": "qms_cli.catalog.load", "Planner": "qms_cli.plan.planner"}
__all__ = ["FleetManager", "Planner", "QualityManager", "Task", "__version__", "load_catalog", "probe"]


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'qms_cli' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value
    return value
