"""Secrets out of what qms writes or prints: passwords in URLs and connection strings, tokens (issue 15).

A crash log, an error line or the exporter's log may hold a command line or a database address; they keep
the shape (user, host, key names) and lose the secret, replaced by MASK.
"""

from __future__ import annotations

import re

MASK = "***"
_KEYS = r"(?:password|passwd|pwd|pass|token|access_token|api[_-]?key|apikey|secret|client_secret|auth)"
# scheme://user:SECRET@host
_URL = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s:/@'\"]*:)(?P<secret>[^\s@'\"]*)(?P<tail>@)", re.IGNORECASE)
# password=SECRET, password='S E C', ?token=SECRET&, PGPASSWORD=SECRET, QMS_API_TOKEN: SECRET
_PAIR = re.compile(r"(?P<head>(?<![a-z0-9])(?:[a-z0-9]+_|pg)*" + _KEYS + r"(?:_[a-z0-9]+)*\s*[=:]\s*)"
                   r"(?P<secret>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&;,'\")\]]+)", re.IGNORECASE)
_BEARER = re.compile(r"(?P<head>\b(?:bearer|basic)\s+)(?P<secret>[a-z0-9._~+/=-]{8,})", re.IGNORECASE)
# --password SECRET (the value in the next argument of a command line)
_FLAG = re.compile(r"^--?(?:[a-z0-9]+-)*" + _KEYS + r"$", re.IGNORECASE)


def text(value: str) -> str:
    """`value` with every secret it holds replaced by MASK."""
    for pattern in (_URL, _PAIR, _BEARER):
        value = pattern.sub(lambda m: m.group("head") + MASK + (m.groupdict().get("tail") or ""), value)
    return value


def argv(args: list[str]) -> list[str]:
    """A command line with its secrets masked, including the argument after a --password-like flag."""
    out: list[str] = []
    for i, arg in enumerate(args):
        out.append(MASK if i and _FLAG.match(args[i - 1]) else text(arg))
    return out
