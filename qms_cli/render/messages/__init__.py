"""Every sentence qms says to people, in one place: plain words, no model names, flags or jargon.

The catalogue is split by subject (core: tiers, projects, plans; probe: the machine and fleets; bench; runs and
history; queue) and read as one module: `from qms_cli.render import messages as m`. tests/test_messages.py
renders each of these for every tier and function and checks them with jargon.py. The wording of facts the core
returns (machine.py: probe faults and notices; plan.py: plan notices and hints) is imported from its own module.
"""

from qms_cli.render.messages.bench import *  # noqa: F403
from qms_cli.render.messages.core import *  # noqa: F403
from qms_cli.render.messages.memory import *  # noqa: F403
from qms_cli.render.messages.probe import *  # noqa: F403
from qms_cli.render.messages.project import *  # noqa: F403
from qms_cli.render.messages.queue import *  # noqa: F403
from qms_cli.render.messages.runs import *  # noqa: F403
