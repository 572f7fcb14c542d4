"""Licenses a rendered project can carry, as SPDX identifiers with their full texts.

To offer another license, drop its text in ``licenses/<SPDX id>.txt`` (with the
``<year>`` and ``<copyright holders>`` placeholders where it names them) and add it
to ``LICENSES`` and to the ``license`` choices in copier.yml.
"""

from __future__ import annotations

from pathlib import Path

LICENSES: dict[str, str] = {
    "Apache-2.0": "Apache License 2.0",
    "MIT": "MIT License",
    "BSD-3-Clause": 'BSD 3-Clause "New" or "Revised" License',
    "ISC": "ISC License",
}

_TEXTS = Path(__file__).with_name("licenses")


def license_text(spdx: str, year: int | str, holders: str) -> str:
    """The full license text for ``spdx`` with the year and copyright holders filled in."""
    if spdx not in LICENSES:
        raise ValueError(f"unknown license {spdx!r}; known: {', '.join(LICENSES)}")
    text = (_TEXTS / f"{spdx}.txt").read_text(encoding="utf-8").strip("\n") + "\n"
    return text.replace("<year>", str(year)).replace("<copyright holders>", holders)
