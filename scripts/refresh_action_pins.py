#!/usr/bin/env python3
"""Refresh extensions/actions.yml: the newest release of each action, and its commit SHA.

    python scripts/refresh_action_pins.py                # newest release, across major versions
    python scripts/refresh_action_pins.py --same-major   # stay within each pin's major version

For each action it lists the repository's tags and branches with `git ls-remote` (no
token needed), takes the newest plain `vX.Y.Z` release tag, and records:
- `version` and `ref`: the release and its commit (the commit an annotated tag points
  to, never the tag object itself);
- `tag`: the moving ref for pin_actions=no: `release/vN` or `vN` where the repository
  keeps one for the new major, else the exact release;
- `twine` (for the publish action): the twine the release bundles, read from its
  requirements/runtime.txt (a shallow fetch of that one tag).
It prints each change and the release notes of every release it moved across: read
them, adapt the workflows, run the tests, commit. The file is edited line by line, so
its comments stay. `--base-url` points it at other git hosting (the tests use local
repositories).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

PINS = Path(__file__).resolve().parents[1] / "extensions" / "actions.yml"
RELEASE_TAG = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
TWINE_PIN = re.compile(r"^twine==(\S+)", re.MULTILINE)

Version = tuple[int, int, int]


@dataclass(frozen=True)
class Remote:
    """What `git ls-remote` says about an action's repository."""

    url: str
    releases: dict[Version, tuple[str, str]]  # (major, minor, patch) -> (tag, commit sha)
    refs: frozenset[str]  # every tag and branch name

    def newest(self, major: int | None = None) -> Version | None:
        found = [v for v in self.releases if major is None or v[0] == major]
        return max(found) if found else None


def read_remote(url: str) -> Remote:
    out = subprocess.run(
        ["git", "ls-remote", "--tags", "--heads", url], capture_output=True, text=True, check=True
    ).stdout
    shas: dict[str, str] = {}
    refs = set()
    for line in out.splitlines():
        sha, ref = line.split("\t")
        name = ref.removeprefix("refs/tags/").removeprefix("refs/heads/")
        if name.endswith("^{}"):
            shas[name[:-3]] = sha  # the commit an annotated tag points to wins
        else:
            shas.setdefault(name, sha)
            refs.add(name)
    releases = {}
    for name, sha in shas.items():
        if match := RELEASE_TAG.fullmatch(name):
            releases[(int(match[1]), int(match[2]), int(match[3]))] = (name, sha)
    return Remote(url, releases, frozenset(refs))


def moving_ref(remote: Remote, current: str, version: Version) -> str:
    """The ref pin_actions=no uses: the form the pin had (`release/vN` or `vN`) for the new
    major where the repository has it, else the exact release."""
    major = version[0]
    for candidate in (f"release/v{major}", f"v{major}"):
        if candidate in remote.refs and current.startswith(candidate.rsplit("v", 1)[0]):
            return candidate
    return remote.releases[version][0]


def bundled_twine(url: str, tag: str) -> str:
    """The twine version pinned in the action's requirements/runtime.txt at ``tag``."""
    with tempfile.TemporaryDirectory() as tmp:
        git = ["git", "-C", tmp]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "fetch", "-q", "--depth", "1", url, f"refs/tags/{tag}"], check=True)
        text = subprocess.run(
            [*git, "show", "FETCH_HEAD:requirements/runtime.txt"], capture_output=True, text=True, check=True
        ).stdout
    match = TWINE_PIN.search(text)
    if not match:
        raise SystemExit(f"{url} {tag}: requirements/runtime.txt pins no twine")
    return match[1]


def refresh(
    pins: dict[str, dict[str, str]], base_url: str, same_major: bool
) -> tuple[dict[str, dict[str, str]], list[str]]:
    """The new table, and what to tell the maintainer (changes, release notes crossed)."""
    new: dict[str, dict[str, str]] = {}
    report: list[str] = []
    for action, entry in pins.items():
        url = f"{base_url.rstrip('/')}/{action}"
        remote = read_remote(url)
        match = RELEASE_TAG.fullmatch(entry["version"])
        if not match:
            raise SystemExit(f"{action}: version {entry['version']!r} is not vX.Y.Z")
        current: Version = (int(match[1]), int(match[2]), int(match[3]))
        version = remote.newest(current[0] if same_major else None)
        if version is None:
            raise SystemExit(f"{action}: no release tag vX.Y.Z at {url}")
        tag, sha = remote.releases[version]
        updated = {**entry, "version": tag, "ref": sha, "tag": moving_ref(remote, entry["tag"], version)}
        if "twine" in entry:
            updated["twine"] = bundled_twine(url, tag)
        new[action] = updated
        if updated != entry:
            changes = ", ".join(f"{k} {entry.get(k)} -> {v}" for k, v in updated.items() if entry.get(k) != v)
            report.append(f"{action}: {changes}")
            report.extend(
                f"  release notes: {url}/releases/tag/{remote.releases[v][0]}"
                for v in sorted(remote.releases)
                if current < v <= version
            )
    return new, report


def write(path: Path, pins: dict[str, dict[str, str]], today: dt.date) -> None:
    """Rewrite the values in place: every comment and blank line stays where it was."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    action = None
    out = []
    for line in lines:
        if line.startswith("# Checked: "):
            line = f"# Checked: {today.isoformat()}\n"
        elif re.match(r"^[^\s#][^:]*:\s*(#.*)?$", line):
            action = line.split(":", 1)[0]
        elif action in pins and (field := re.match(r"^(\s+)(\w+):(\s*)(\S+)(.*)$", line, re.DOTALL)):
            indent, key, space, _, rest = field.groups()
            if key in pins[action]:
                line = f"{indent}{key}:{space}{pins[action][key]}{rest}"
        out.append(line)
    text = "".join(out)
    if yaml.safe_load(text) != pins:
        raise SystemExit(f"{path}: the rewritten file does not hold the new pins; edit it by hand")
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--same-major", action="store_true", help="stay within each pin's major version")
    parser.add_argument("--file", type=Path, default=PINS, help="the pins file (default: %(default)s)")
    parser.add_argument("--base-url", default="https://github.com", help="where the action repositories live")
    args = parser.parse_args(argv)
    pins = yaml.safe_load(args.file.read_text(encoding="utf-8"))
    new, report = refresh(pins, args.base_url, args.same_major)
    write(args.file, new, dt.date.today())
    print("\n".join(report) or "every pin is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
