"""The notes of one template release: its section of CHANGELOG.md.

    python scripts/release_notes.py v1.2.0 > notes.md

Exits 1, saying so, when CHANGELOG.md has no section for the version: a release is not made
without its notes (.github/workflows/release.yml runs this before it creates the release).
The weekly template-news workflow of every project reads the same section.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

CHANGELOG = Path(__file__).resolve().parents[1] / "CHANGELOG.md"
TAG = re.compile(r"v(\d+\.\d+\.\d+)")
HEADING = re.compile(r"^## (\S+)\s*$", re.MULTILINE)


def versions(text: str) -> list[str]:
    """The released versions CHANGELOG.md has a section for, newest first (not "Unreleased")."""
    return [name for name in HEADING.findall(text) if name != "Unreleased"]


def section(text: str, version: str) -> str:
    """The body of the section ``## version`` ("" when there is none)."""
    headings = list(HEADING.finditer(text))
    for index, heading in enumerate(headings):
        if heading.group(1) == version:
            end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
            return text[heading.end() : end].strip() + "\n"
    return ""


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (match := TAG.fullmatch(argv[0])):
        print("usage: release_notes.py vX.Y.Z", file=sys.stderr)
        return 2
    notes = section(CHANGELOG.read_text(encoding="utf-8"), match.group(1))
    if not notes.strip():
        print(
            f"CHANGELOG.md has no section '## {match.group(1)}': write the release's notes first.",
            file=sys.stderr,
        )
        return 1
    sys.stdout.write(notes)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
