"""CPython releases: which versions a new package supports, tests and declares.

The table below is the single source of truth for Python versions in this template.
Dates come from the CPython developer guide (devguide.python.org/versions) and the
release PEPs; an end-of-life month is recorded as its last day. Add a row when a new
feature release is scheduled; nothing else needs to change.

Every function takes ``today`` so that tests can freeze the date; the Jinja layer
passes the real date of rendering.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple


class Release(NamedTuple):
    version: str
    released: dt.date
    end_of_life: dt.date


# Last checked: 2026-11-24.
RELEASES: tuple[Release, ...] = (
    Release("3.9", dt.date(2020, 10, 5), dt.date(2025, 10, 31)),
    Release("3.10", dt.date(2021, 10, 4), dt.date(2026, 10, 31)),
    Release("3.11", dt.date(2022, 10, 24), dt.date(2027, 10, 31)),
    Release("3.12", dt.date(2023, 10, 2), dt.date(2028, 10, 31)),
    Release("3.13", dt.date(2024, 10, 7), dt.date(2029, 10, 31)),
    Release("3.14", dt.date(2025, 10, 7), dt.date(2030, 10, 31)),
    Release("3.15", dt.date(2026, 10, 1), dt.date(2031, 10, 31)),
    Release("3.16", dt.date(2027, 10, 1), dt.date(2032, 10, 31)),
)


# The newest PyPy, and the Python it implements (checked 2026-12-04: PyPy 7.3.23 ships
# pypy3.11, its newest; actions/setup-python and uv both read "pypy3.11").
PYPY = ("pypy3.11", "3.11")


def pypy_error(pypy: object, python_min: str) -> str:
    """Why a PyPy leg cannot test a package that needs ``python_min`` ("" when it can)."""
    if pypy not in (True, "true", "True", "yes") or not python_min:
        return ""
    if version_key(python_min) > version_key(PYPY[1]):
        return (
            f"the newest PyPy ({PYPY[0]}) implements Python {PYPY[1]}, older than python_min {python_min}: "
            "answer no, or lower python_min."
        )
    return ""


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def released(today: dt.date) -> list[str]:
    """Every feature release out on ``today``, oldest first (end-of-life ones included)."""
    return [r.version for r in RELEASES if r.released <= today]


def supported(today: dt.date) -> list[str]:
    """Released versions that still get fixes on ``today``, oldest first."""
    return [r.version for r in RELEASES if r.released <= today <= r.end_of_life]


def default_min(today: dt.date) -> str:
    """The oldest CPython that is not past its end of life on ``today``."""
    return supported(today)[0]


def newest(today: dt.date) -> str:
    """The newest stable feature release on ``today``."""
    return released(today)[-1]


def matrix(python_min: str, today: dt.date) -> list[str]:
    """Every released version from ``python_min`` to the newest, as the CI matrix tests them."""
    return [v for v in released(today) if version_key(v) >= version_key(python_min)]


def classifiers(python_min: str, today: dt.date) -> list[str]:
    """Trove classifiers for the versions the package declares."""
    return [
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        *(f"Programming Language :: Python :: {v}" for v in matrix(python_min, today)),
    ]


def is_end_of_life(version: str, today: dt.date) -> bool:
    return any(r.version == version and r.end_of_life < today for r in RELEASES)


def python_min_error(value: str, today: dt.date) -> str:
    """Why ``value`` cannot be the oldest supported Python, or "" when it can."""
    choices = released(today)
    if value in choices:
        return ""
    example = default_min(today)
    if _OLDER.fullmatch(value) and version_key(value) < version_key(choices[0]):
        # A real CPython, long past its end of life: say so rather than "not released".
        return (
            f"{value} is past its end of life, older than any CPython this template tests. "
            f"Use one of {', '.join(choices)} (for example {example})."
        )
    return (
        f"{value!r} is not a released CPython feature version this template knows. "
        f"Use one of {', '.join(choices)} (for example {example})."
    )


# CPython 3.0 to 3.8 and 2.x: released, and past their end of life before this table starts.
_OLDER = re.compile(r"(?:2\.[0-7]|3\.[0-8])")
