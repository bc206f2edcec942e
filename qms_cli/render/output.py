"""Where output goes: JSON for programs; lines for people (tables: render/table.py).

People at a terminal get Rich tables; when output is piped or redirected they get plain aligned text that
is stable to grep (and Rich's ~50 ms import is skipped). QMS_OUTPUT=rich or QMS_OUTPUT=plain forces either.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def emit_lines(*lines: str, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write("".join(f"{line}\n" for line in lines))


def use_rich() -> bool:
    forced = os.environ.get("QMS_OUTPUT", "").lower()
    if forced in ("rich", "plain"):
        return forced == "rich"
    return sys.stdout.isatty()
