"""A stand-in for the studio app saving project.json every few milliseconds (tests/test_project_race.py).

Each save reads the file, sets `app_saves` (a key qms does not own) to the next counter and saves through
a temporary file swapped in with renameat2(RENAME_EXCHANGE) — a careful app: if the file it displaced is not
the one it read (someone saved in between), it swaps that save back and tries again, so the app itself never
loses another program's change. Before each save it checks that its previous save is still there; a file
whose counter went backwards (and stays so when looked at again) is a save of the app that another program
overwrote with an older copy: counted as lost.

    python tests/app_writer.py PROJECT_JSON STOP_FILE PERIOD_S  ->  prints {"saves": n, "lost": [..]}
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import time

_libc = ctypes.CDLL(None, use_errno=True)


def exchange(a: str, b: str) -> None:
    if _libc.renameat2(-100, os.fsencode(a), -100, os.fsencode(b), 2) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def read(path: str) -> tuple[os.stat_result, dict[str, object]]:
    while True:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            raw = f.read()
        try:
            return st, json.loads(raw)
        except ValueError:  # cannot happen with atomic savers; a torn read would be a finding
            print(json.dumps({"torn": raw[:200].decode(errors="replace")}), file=sys.stderr)
            time.sleep(0.001)


def main(path: str, stop: str, period: float) -> None:
    saved = 0
    lost: list[int] = []
    tmp = f"{path}.app-writer.tmp"  # not qms's `.project.json.*.tmp` pattern
    while not os.path.exists(stop):
        st, data = read(path)
        if saved and int(data.get("app_saves", 0)) < saved:  # type: ignore[call-overload]
            time.sleep(0.02)  # another careful writer may be swapping back this very instant
            st, data = read(path)
            if int(data.get("app_saves", 0)) < saved:  # type: ignore[call-overload]
                lost.append(saved)
        data["app_saves"] = saved + 1
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, indent=2) + "\n")
        exchange(tmp, path)
        displaced = os.lstat(tmp)
        if (displaced.st_dev, displaced.st_ino, displaced.st_mtime_ns) == (st.st_dev, st.st_ino, st.st_mtime_ns):
            os.unlink(tmp)
            saved += 1
        else:  # someone saved between our read and our swap: put their save back, and read again
            exchange(tmp, path)
            os.unlink(tmp)
            continue
        time.sleep(period)
    print(json.dumps({"saves": saved, "lost": lost}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
