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
    # Copyleft, with their texts as published (read 2026-12-04): the GPL 3, LGPL 3 and MPL 2.0
    # from Debian's base-files (/usr/share/common-licenses: the FSF's and Mozilla's own texts;
    # the LGPL's LICENSE holds the GPL after it, as the LGPL builds on it), the AGPL 3 from the
    # SPDX License List's text (the `spdx` package on PyPI, data/AGPL-3.0.txt).
    "GPL-3.0-or-later": "GNU General Public License v3.0 or later",
    "LGPL-3.0-or-later": "GNU Lesser General Public License v3.0 or later",
    "MPL-2.0": "Mozilla Public License 2.0",
    "AGPL-3.0-or-later": "GNU Affero General Public License v3.0 or later",
}

_TEXTS = Path(__file__).with_name("licenses")


def license_text(spdx: str, year: int | str, holders: str) -> str:
    """The full license text for ``spdx`` with the year and copyright holders filled in."""
    if spdx not in LICENSES:
        raise ValueError(f"unknown license {spdx!r}; known: {', '.join(LICENSES)}")
    text = (_TEXTS / f"{spdx}.txt").read_text(encoding="utf-8").strip("\n") + "\n"
    if "<copyright holders>" not in text:
        # A license whose text names no holder (the GNU licenses, the MPL): kept verbatim, its
        # own "how to apply" examples (`Copyright (C) <year>  <name of author>`) included.
        return text
    return text.replace("<year>", str(year)).replace("<copyright holders>", holders)


def names_holder(spdx: str) -> bool:
    """Whether the license's text carries the year and the copyright holders (the permissive
    ones do; the GNU licenses and the MPL leave the notice to the project)."""
    return spdx in LICENSES and "<copyright holders>" in (_TEXTS / f"{spdx}.txt").read_text(encoding="utf-8")
