"""The write step of a retrofit: the plans' files, each with its own line ends.

Everything was decided before (upgrade.py plans and refuses); this only writes what differs.
"""

from __future__ import annotations

from .plan import Plan
from .workflows import read_workflow


def write(plans: list[Plan]) -> list[str]:
    """Write each upgraded workflow (and any workflow one now calls); what changed, for the owner."""
    done: list[str] = []
    for plan in plans:
        if plan.text == read_workflow(plan.path)[0]:
            continue
        # The file's own line ends: a CRLF workflow stays CRLF, so the diff shows only the change.
        for path, text, newline in plan.others:
            if text != read_workflow(path)[0]:
                path.write_text(text, encoding="utf-8", newline=newline)
        plan.path.write_text(plan.text, encoding="utf-8", newline=plan.newline)
        done += [
            *plan.changes,
            *(f"secret no longer used: {name}" for name in plan.secrets),
            *(f"NOTE: {note}" for note in plan.notes),
        ]
    return done
