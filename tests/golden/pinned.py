"""`python -m tests.golden.pinned [SCENARIO|-] qms-args...`: the real qms CLI on a pinned machine.

The operating system's answers are replaced at the outermost boundary: a /proc with a fixed meminfo and
cpuinfo (a 2-core processor with 64 GiB), the CPU set of 2, and, when a scenario is named, the fake NVML of
tests/fake_nvml.py. Golden outputs are then the same on any machine that records or checks them.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

MEMINFO = "MemTotal:       67108864 kB\nMemFree:        60000000 kB\nMemAvailable:   66060288 kB\n"
CPUINFO = "".join(f"processor\t: {n}\nmodel name\t: Golden Test Processor @ 3.00GHz\nphysical id\t: 0\n"
                  f"core id\t\t: {n}\n\n" for n in range(2))


def main(argv: list[str]) -> int:
    from qms_cli.hardware import system

    proc = Path(tempfile.mkdtemp(prefix="qms-golden-proc-"))
    (proc / "meminfo").write_text(MEMINFO)
    (proc / "cpuinfo").write_text(CPUINFO)
    system.PROC = proc
    os.sched_getaffinity = lambda pid: {0, 1}
    scenario, args = argv[0], argv[1:]
    if scenario != "-":
        from tests.fake_nvml import SCENARIOS, install

        install(SCENARIOS[scenario]())
    from qms_cli.cli.app import main as qms_main

    return qms_main(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
