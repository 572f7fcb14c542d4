"""The actions the rendered workflows use, pinned: extensions/actions.yml holds each one's
newest release, its tag and its verified commit (scripts/refresh_action_pins.py updates it)."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from .serialise import SAFE_LOADER

_PINS = Path(__file__).resolve().parent / "actions.yml"


@functools.cache
def action_pins() -> dict[str, dict[str, str]]:
    pins: dict[str, dict[str, str]] = yaml.load(_PINS.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    return pins


def uses(action: str, pin: bool) -> str:
    """The ``uses:`` value of ``action``: a commit SHA with its version, or the moving tag."""
    entry = action_pins()[action]
    return f"{action}@{entry['ref']} # {entry['version']}" if pin else f"{action}@{entry['tag']}"
