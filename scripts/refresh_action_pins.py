#!/usr/bin/env python3
"""Refresh extensions/actions.yml: the newest release of each action, and its commit SHA.

    python scripts/refresh_action_pins.py            # newest release within each major version
    python scripts/refresh_action_pins.py --major    # allow new major versions too (read their notes!)

It asks `git ls-remote` for each action's tags (no token needed), keeps plain
`vX.Y.Z` release tags, and writes the release's commit (the peeled commit of an
annotated tag). Review the diff, run the tests, and commit: rendered projects get the
new pins on their next `copier update`, and Dependabot takes over from there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import yaml

PINS = Path(__file__).resolve().parents[1] / "extensions" / "actions.yml"
RELEASE_TAG = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")


def release_tags(url: str) -> dict[tuple[int, int, int], tuple[str, str]]:
    """{(major, minor, patch): (tag, commit sha)} for the release tags of a repository."""
    out = subprocess.run(
        ["git", "ls-remote", "--tags", url], capture_output=True, text=True, check=True
    ).stdout
    shas: dict[str, str] = {}
    for line in out.splitlines():
        sha, ref = line.split("\t")
        name = ref.removeprefix("refs/tags/")
        if name.endswith("^{}"):
            shas[name[:-3]] = sha  # the commit an annotated tag points to wins
        else:
            shas.setdefault(name, sha)
    releases = {}
    for name, sha in shas.items():
        if match := RELEASE_TAG.match(name):
            releases[tuple(int(g) for g in match.groups())] = (name, sha)
    return releases  # type: ignore[return-value]


def refresh(pins: dict[str, dict[str, str]], base_url: str, allow_major: bool) -> list[str]:
    changes = []
    for action, entry in pins.items():
        releases = release_tags(f"{base_url.rstrip('/')}/{action}")
        current_major = int(entry["version"].lstrip("v").split(".")[0])
        candidates = [v for v in releases if allow_major or v[0] == current_major]
        if not candidates:
            raise SystemExit(f"{action}: no release tag vX.Y.Z found for major version {current_major}")
        tag, sha = releases[max(candidates)]
        if (tag, sha) != (entry["version"], entry["ref"]):
            changes.append(f"{action}: {entry['version']} -> {tag} ({sha})")
            entry["version"], entry["ref"] = tag, sha
            if allow_major and not entry["tag"].endswith(f"v{max(candidates)[0]}"):
                entry["tag"] = re.sub(r"v\d+$", f"v{max(candidates)[0]}", entry["tag"])
    return changes


def write(path: Path, pins: dict[str, dict[str, str]], today: dt.date) -> None:
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(re.sub(r"^# Checked: .*", f"# Checked: {today.isoformat()}", line))
    body = yaml.safe_dump(pins, sort_keys=False, default_flow_style=False)
    path.write_text("\n".join(header) + "\n" + body, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--major", action="store_true", help="allow a new major version")
    parser.add_argument("--file", type=Path, default=PINS, help="the pins file (default: %(default)s)")
    parser.add_argument("--base-url", default="https://github.com", help="where the action repositories live")
    args = parser.parse_args(argv)
    pins = yaml.safe_load(args.file.read_text(encoding="utf-8"))
    changes = refresh(pins, args.base_url, args.major)
    write(args.file, pins, dt.date.today())
    print("\n".join(changes) or "every pin is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
