"""Upgrade the project's token-based PyPI workflow to Trusted Publishing, in place.

Run by copier (see copier.yml): as a task after `copier copy` when the answer
`retrofit` is `upgrade`, and as a migration after each `copier update` of such a
project, so a token that comes back is caught again. Idempotent: an upgraded workflow
is left alone. The engine is extensions/retrofit.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extensions"))

import yaml
from _migration import Refusal, run

from retrofit import RetrofitRefusal, read_workflow, upgrade

PINS = Path(__file__).resolve().parents[1] / "extensions" / "actions.yml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--environment", required=True)
    parser.add_argument("--project-name", required=True)
    parser.add_argument("--pin-actions", choices=["true", "false", "True", "False"], default="true")
    args = parser.parse_args()
    pins = yaml.safe_load(PINS.read_text(encoding="utf-8"))
    pin = args.pin_actions.lower() == "true"

    def uses(action: str) -> str:
        entry = pins[action]
        return f"{action}@{entry['ref']} # {entry['version']}" if pin else f"{action}@{entry['tag']}"

    def migrate() -> list[str]:
        root = Path.cwd()
        try:
            plan = upgrade(
                root,
                environment=args.environment,
                project_name=args.project_name,
                uses=uses,
            )
        except RetrofitRefusal as refusal:
            raise Refusal(str(refusal)) from None
        if plan is None or plan.text == read_workflow(plan.path)[0]:
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

    return run("retrofit", migrate)


if __name__ == "__main__":
    sys.exit(main())
