"""Every host's graphics cards as Prometheus knows them: qms exporter's metrics or NVIDIA DCGM exporter's.

Read over Prometheus's HTTP API (instant queries). Series older than `max_age` and hosts whose exporter is not
answering are left out, with a notice; an unreachable Prometheus is a DataError.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, NamedTuple

from qms_cli.errors import DataError
from qms_cli.hardware.resources import Gpu, Notice, Resources, System

MIB = 1024**2
QMS = {"total": "qms_gpu_memory_total_bytes", "used": "qms_gpu_memory_used_bytes",
       "free": "qms_gpu_memory_free_bytes", "reserved": "qms_gpu_memory_reserved_bytes"}
DCGM = {"total": "DCGM_FI_DEV_FB_TOTAL", "used": "DCGM_FI_DEV_FB_USED", "free": "DCGM_FI_DEV_FB_FREE",
        "reserved": "DCGM_FI_DEV_FB_RESERVED"}  # MiB


class Fleet(NamedTuple):
    hosts: dict[str, Resources]
    notices: list[Notice]
    url: str


def query(url: str, expr: str, timeout: float) -> list[dict[str, Any]]:
    """An instant query's result vector."""
    address = url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(address, timeout=timeout) as reply:
            body = json.loads(reply.read())
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        raise DataError(f"cannot reach Prometheus at {url} ({reason})") from None
    if body.get("status") != "success":
        raise DataError(f"Prometheus at {url} refused the query {expr!r}: {body.get('error', body)}")
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def _host(labels: dict[str, str]) -> str:
    return labels.get("hostname") or labels.get("Hostname") or labels.get("instance") or "unknown"


def read(url: str, *, reserve: int, max_age: float, system: System, timeout: float = 5.0) -> Fleet:
    """The fleet's cards: qms's own metrics, and DCGM's for hosts that only have DCGM."""
    now = time.time()
    cards: dict[tuple[str, str], dict[str, Any]] = {}
    notices: list[Notice] = []
    stale: set[str] = set()
    for source, names, scale in (("qms", QMS, 1), ("dcgm", DCGM, MIB)):
        for series in query(url, f"timestamp({names['free']})", timeout):
            labels, age = series["metric"], now - float(series["value"][1])
            key = (_host(labels), labels.get("gpu", "0"))
            if key in cards:
                continue  # a host with both exporters: qms's numbers win
            if age > max_age:
                stale.add(key[0])
                continue
            cards[key] = {"labels": labels, "source": source}
        for field, name in names.items():
            for series in query(url, name, timeout):
                key = (_host(series["metric"]), series["metric"].get("gpu", "0"))
                if key in cards and cards[key]["source"] == source:
                    cards[key][field] = int(float(series["value"][1]) * scale)
    for host in sorted(stale - {h for h, _ in cards}):
        notices.append(Notice("stale", host=host, seconds=max_age))
    for series in query(url, "up == 0", timeout):
        instance = series["metric"].get("instance", "?")
        notices.append(Notice("host_down", host=instance))
    hosts: dict[str, list[Gpu]] = {}
    for (host, index), c in sorted(cards.items()):
        labels = c["labels"]
        used, free = c.get("used"), c.get("free")
        total = c.get("total") or ((used or 0) + (free or 0) + (c.get("reserved") or 0))
        hosts.setdefault(host, []).append(Gpu(index=int(index) if index.isdigit() else len(hosts.get(host, [])),
                                              name=labels.get("modelName", "NVIDIA GPU"), uuid=labels.get("UUID"),
                                              total=total, used=used, free=free, reserved=c.get("reserved")))
    resources = {host: Resources(tuple(gpus), system, "prometheus", reserve, None, host, ())
                 for host, gpus in hosts.items()}
    return Fleet(resources, notices, url)
