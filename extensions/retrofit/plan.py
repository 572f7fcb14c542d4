"""The typed plan of a retrofit, between reading (workflows.py) and writing
(write.py): the new text of the publishing workflow, what changed,
the secrets it no longer uses and the notes its owner must read; and the line edits that
build that text without touching any other line.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .workflows import RetrofitRefusal, Workflow

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
    # What each building job's artifact keeps: the files its uploads named (verify.py compares).
    kept_files: dict[str, str] = field(default_factory=dict)
    # Jobs converted where they are (the ladder's second rung): job -> why it was not isolated;
    # and the permissions written out where such a job had the repository's defaults.
    in_place: dict[str, str] = field(default_factory=dict)
    explicit: dict[str, list[str]] = field(default_factory=dict)
    # Of those, the jobs that only download and upload: the publish job already, running no code;
    # and the jobs left without an environment (they run for pull requests or pushes too).
    publish_only: set[str] = field(default_factory=set)
    without_environment: set[str] = field(default_factory=set)
    # Jobs that waited for an upload and now also need the publish job: job -> publish jobs added.
    waits: dict[str, list[str]] = field(default_factory=dict)
    # Every trusted publisher PyPI (or TestPyPI) must know for this workflow.
    publishers: list[Publisher] = field(default_factory=list)
    # The secrets the workflow's uploads read (found before planning): none may be left.
    credentials: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Publisher:
    """One trusted publisher: what PyPI's (or TestPyPI's) form asks, for one workflow."""

    project: str
    workflow: str
    environment: str
    index: str  # "pypi" or "testpypi"


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
    files: list[str] = field(default_factory=list)  # the files it named, as written (`dist/*.whl`)


class CannotIsolate(Exception):
    """The upload cannot move into a job of its own without changing what runs after it, or how:
    the job is converted in place instead (the message says why)."""


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
        # Two edits of one line would each apply to the text the other changed: a planner bug,
        # refused before it could write a broken workflow.
        ranges = sorted((start, end) for start, end, _, _ in self.edits if end > start)
        for (_, end), (start, _) in itertools.pairwise(ranges):
            if start < end:
                raise RetrofitRefusal(
                    f"the retrofit would edit line {start + 1} twice, so it wrote nothing. Retrofit this "
                    "workflow by hand (documentation: Existing project) and please report it to the "
                    "template's maintainers."
                )
        # Bottom-up; at the same line a removal goes before an insertion, so that the
        # insertion is not swallowed by it.
        for start, end, new, _ in sorted(self.edits, key=lambda e: (e[0], e[1], e[3]), reverse=True):
            lines[start:end] = new
        return "".join(lines)


@dataclass
class Run:
    """One workflow's retrofit under way: what every planning step reads and edits. The Planner
    holds one; the steps of in_place.py and owner_jobs.py take it rather than its parts."""

    workflow: Workflow
    edits: Edits
    result: Plan
    uses: Callable[[str], str]  # the `uses:` value of an action (pinned, or its moving tag)
    known: set[str] = field(default_factory=set)  # the secrets the workflow's uploads read
    environment: str = "release"  # the answer: the environment a new publish job runs in
    project: str = ""  # the name PyPI receives from this workflow


def indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]
