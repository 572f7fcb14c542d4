"""The typed plan of a retrofit, between reading (workflows.py) and writing
(write.py): the new text of the publishing workflow, what changed,
the secrets it no longer uses and the notes its owner must read; and the line edits that
build that text without touching any other line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .workflows import Job


@dataclass
class Plan:
    """What upgrading one workflow does: its new text (with "\\n" line ends; written back
    with the file's own, ``newline``), the changes, the secrets it drops, and notes the
    owner must read (what gates the upload, which trusted publishers to add)."""

    path: Path
    text: str
    changes: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    newline: str = "\n"
    notes: list[str] = field(default_factory=list)
    testpypi: bool = False
    # Other workflows written with it: (path, new text, line end). A tests workflow that the
    # publishing one now calls gains `workflow_call` among its triggers.
    others: list[tuple[Path, str, str]] = field(default_factory=list)
    # What verify.py checks the text against: the jobs the plan adds (publish jobs and calls of
    # a tests workflow), and the artifact each job that built and uploaded now keeps instead.
    added_jobs: list[str] = field(default_factory=list)
    artifacts: dict[str, str] = field(default_factory=dict)
    # Jobs added to hold the steps a building job ran after its upload: added job -> that job.
    moved: dict[str, str] = field(default_factory=dict)


@dataclass
class Upload:
    """One upload found in the owner's job, and what the new publish job needs to repeat it."""

    job: Job
    line: int
    target: str  # "" for PyPI, else TestPyPI's upload URL
    dist: str  # the folder the upload read, relative to the repository
    condition: str
    inputs: dict[str, str]
    stops_later_uploads: bool


class Edits:
    """Line edits applied bottom-up so that earlier line numbers stay valid."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        if self.lines and not self.lines[-1].endswith("\n"):
            self.lines[-1] += "\n"
        self.edits: list[tuple[int, int, list[str], int]] = []

    def replace(self, start: int, end: int, new: list[str]) -> None:
        self.edits.append((start, end, [line + "\n" for line in new], len(self.edits)))

    def insert(self, at: int, new: list[str]) -> None:
        self.replace(at, at, new)

    def apply(self) -> str:
        lines = list(self.lines)
        # Bottom-up; at the same line a removal goes before an insertion, so that the
        # insertion is not swallowed by it.
        for start, end, new, _ in sorted(self.edits, key=lambda e: (e[0], e[1], e[3]), reverse=True):
            lines[start:end] = new
        return "".join(lines)


def indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]
