"""Upgrade the project's token-based PyPI workflow to Trusted Publishing, in place.

Run by copier (see copier.yml) through extensions/load.py: as a task after `copier copy`
when the answer `retrofit` is `upgrade`, and as a migration after each `copier update` of
such a project, so a token that comes back is caught again. Idempotent: an upgraded
workflow is left alone. The engine is extensions/retrofit/ (plan, then write).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from extensions.pins import uses
from extensions.retrofit.upgrade import upgrade
from extensions.retrofit.workflows import RetrofitRefusal
from extensions.retrofit.write import write

from ._migration import Refusal, run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--environment", required=True)
    parser.add_argument("--project-name", required=True)
    parser.add_argument("--pin-actions", choices=["true", "false", "True", "False"], default="true")
    args = parser.parse_args()
    pin = args.pin_actions.lower() == "true"

    def migrate() -> list[str]:
        try:
            plans = upgrade(
                Path.cwd(),
                environment=args.environment,
                project_name=args.project_name,
                uses=lambda action: uses(action, pin),
            )
        except RetrofitRefusal as refusal:
            raise Refusal(str(refusal)) from None
        return write(plans)

    return run("retrofit", migrate)


if __name__ == "__main__":
    sys.exit(main())
