"""retrofit=add: let the added publish.yml run the project's own tests before each release.

Run by copier (through extensions/load.py) as a task after `copier copy` of an existing project that had no publishing
workflow. Each workflow of the project that runs tests, and that a call would not change
(extensions/retrofit/called_tests.py decides, as it did when publish.yml was rendered), gains
`workflow_call` among its triggers: its only change. Idempotent.
"""

from __future__ import annotations

import sys
from pathlib import Path

from extensions.retrofit.upgrade import tests_calls
from extensions.retrofit.workflows import read_workflow

from ._migration import run


def migrate() -> list[str]:
    changes = []
    for call in tests_calls(Path.cwd()).calls:
        if call.text != read_workflow(call.path)[0]:
            call.path.write_text(call.text, encoding="utf-8", newline=call.newline)
            changes.append(
                f".github/workflows/{call.path.name}: `workflow_call` added to its triggers (nothing else), "
                "so that publish.yml runs its tests before each release"
            )
    return changes


if __name__ == "__main__":
    sys.exit(run("call-tests", migrate))
