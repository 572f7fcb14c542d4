"""The write step of a retrofit: a plan's files, each with its own line ends.

Everything was decided before (upgrade.py plans and refuses); this only writes what differs.
"""

from __future__ import annotations

from .plan import Plan
from .workflows import read_workflow


def write(plan: Plan) -> list[str]:
    """Write the upgraded workflow (and any workflow it now calls); what changed, for the owner."""
    if plan.text == read_workflow(plan.path)[0]:
        return []
    # The file's own line ends: a CRLF workflow stays CRLF, so the diff shows only the change.
    for path, text, newline in plan.others:
        if text != read_workflow(path)[0]:
            path.write_text(text, encoding="utf-8", newline=newline)
    plan.path.write_text(plan.text, encoding="utf-8", newline=plan.newline)
    return [
        *plan.changes,
        *(f"secret no longer used: {name}" for name in plan.secrets),
        *(f"NOTE: {note}" for note in plan.notes),
    ]
