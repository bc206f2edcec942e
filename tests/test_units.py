from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qms_cli.errors import UsageError
from qms_cli.units import GIB, format_size, parse_duration, parse_size, parse_time_range


@pytest.mark.parametrize(("text", "expected"), [
    ("12GB", 12 * GIB), ("12G", 12 * GIB), ("12 GiB", 12 * GIB), ("12gb", 12 * GIB), ("12288MB", 12 * GIB),
    ("11.5GiB", int(11.5 * GIB)), ("0.5TB", 512 * GIB), ("1T", 1024 * GIB), ("512B", 512), ("2048 bytes", 2048),
    ("64K", 64 * 1024), ("64KiB", 64 * 1024), (" 8 GB ", 8 * GIB),
])
def test_sizes_are_binary(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "12", "GB", "12XB", "-1GB", "twelve", "12 G B", "1e3GB", "12GBs"])
def test_bad_sizes_name_the_value_and_examples(text: str) -> None:
    with pytest.raises(UsageError) as e:
        parse_size(text, what="--vram-limit")
    assert repr(text) in e.value.message and "12GB" in e.value.message and "--vram-limit" in e.value.message
    assert e.value.exit_code == 2


@given(st.integers(min_value=1, max_value=2**45))
def test_sizes_for_people_read_back_within_rounding(n: int) -> None:
    back = parse_size(format_size(n))
    assert abs(back - n) <= 0.05 * n


def test_format_size_for_people() -> None:
    assert format_size(12 * GIB) == "12 GB"
    assert format_size(int(11.5 * GIB)) == "11.5 GB"
    assert format_size(512 * 1024**2) == "512 MB"
    assert format_size(100) == "100 B"


@pytest.mark.parametrize(("text", "expected"), [
    ("5-10 seconds", (5, 10)), ("30-60 seconds", (30, 60)), ("2-5 minutes", (120, 300)),
    ("1 to 2 hours", (3600, 7200)), ("5–10 s", (5, 10)),
])
def test_time_ranges(text: str, expected: tuple[float, float]) -> None:
    assert parse_time_range(text) == expected


@pytest.mark.parametrize("text", ["fast", "5 seconds", "5-10 parsecs"])
def test_bad_time_ranges(text: str) -> None:
    with pytest.raises(UsageError):
        parse_time_range(text)


def test_durations() -> None:
    assert parse_duration("90d") == 90 * 86400
    assert parse_duration("5 minutes") == 300
    assert parse_duration("2h") == 7200
    with pytest.raises(UsageError):
        parse_duration("soon")
