"""The action pins table and the maintainer script that refreshes it (against real git repositories)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml

from helpers import TEMPLATE_DIR, run

PINS = TEMPLATE_DIR / "extensions" / "actions.yml"
SCRIPT = TEMPLATE_DIR / "scripts" / "refresh_action_pins.py"


def test_every_pin_is_a_full_sha_with_a_release_version() -> None:
    for action, entry in yaml.safe_load(PINS.read_text()).items():
        assert len(entry["ref"]) == 40, action
        assert all(c in "0123456789abcdef" for c in entry["ref"]), action
        assert entry["version"].startswith("v"), action
        assert entry["version"].startswith(entry["tag"].removeprefix("release/")), action


def make_action_repo(root: Path, action: str, tags: dict[str, bool]) -> dict[str, str]:
    """A git repository at root/action with the given tags (True: annotated); returns tag -> commit."""
    repo = root / action
    repo.mkdir(parents=True)
    run(["git", "init", "-q", repo])
    commits = {}
    for tag, annotated in tags.items():
        (repo / "action.yml").write_text(f"name: {action} {tag}\n")
        run(["git", "-C", repo, "add", "-A"])
        run(["git", "-C", repo, "commit", "-q", "-m", tag])
        run(["git", "-C", repo, "tag", *(["-a", "-m", tag] if annotated else []), tag])
        commits[tag] = run(["git", "-C", repo, "rev-parse", "HEAD"]).stdout.strip()
    return commits


@pytest.fixture
def remotes(tmp_path: Path) -> tuple[Path, Path, dict[str, dict[str, str]]]:
    pins = tmp_path / "actions.yml"
    pins.write_text(
        "# header kept\n# Checked: 2000-01-01\n"
        "actions/checkout:\n  version: v6.0.2\n  ref: " + "0" * 40 + "\n  tag: v6\n"
        "pypa/gh-action-pypi-publish:\n  version: v1.14.1\n  ref: " + "1" * 40 + "\n  tag: release/v1\n"
    )
    commits = {
        "actions/checkout": make_action_repo(
            tmp_path / "remote",
            "actions/checkout",
            {"v6.0.2": True, "v6.1.0": True, "v7.0.0": False, "v7": False},
        ),
        "pypa/gh-action-pypi-publish": make_action_repo(
            tmp_path / "remote", "pypa/gh-action-pypi-publish", {"v1.14.1": False, "v1.15.0": False}
        ),
    }
    return pins, tmp_path / "remote", commits


def test_refresh_takes_the_newest_release_of_the_same_major(remotes) -> None:
    pins, remote, commits = remotes
    done = run([sys.executable, SCRIPT, "--file", pins, "--base-url", remote.as_uri()])
    data = yaml.safe_load(pins.read_text())
    assert data["actions/checkout"] == {
        "version": "v6.1.0",
        "ref": commits["actions/checkout"]["v6.1.0"],
        "tag": "v6",
    }
    assert data["pypa/gh-action-pypi-publish"]["version"] == "v1.15.0"
    assert "actions/checkout: v6.0.2 -> v6.1.0" in done.stdout
    assert pins.read_text().startswith("# header kept\n# Checked: 20")
    assert "2000-01-01" not in pins.read_text()


def test_refresh_with_major_moves_to_the_new_major_and_its_tag(remotes) -> None:
    pins, remote, commits = remotes
    run([sys.executable, SCRIPT, "--major", "--file", pins, "--base-url", remote.as_uri()])
    data = yaml.safe_load(pins.read_text())
    assert data["actions/checkout"] == {
        "version": "v7.0.0",
        "ref": commits["actions/checkout"]["v7.0.0"],
        "tag": "v7",
    }


def test_refresh_of_current_pins_changes_nothing(remotes) -> None:
    pins, remote, _ = remotes
    run([sys.executable, SCRIPT, "--file", pins, "--base-url", remote.as_uri()])
    before = pins.read_text()
    done = run([sys.executable, SCRIPT, "--file", pins, "--base-url", remote.as_uri()])
    assert "every pin is current" in done.stdout
    assert pins.read_text() == before


def test_refresh_keeps_the_real_table_readable(tmp_path: Path) -> None:
    # The real file's header survives a rewrite and the result still loads as the same table.
    copy = tmp_path / "real.yml"
    shutil.copy(PINS, copy)
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import refresh_action_pins
    finally:
        sys.path.pop(0)
    table = yaml.safe_load(copy.read_text())
    refresh_action_pins.write(copy, table, __import__("datetime").date(2030, 1, 2))
    assert yaml.safe_load(copy.read_text()) == table
    assert "# Checked: 2030-01-02" in copy.read_text()
    assert copy.read_text().splitlines()[0] == PINS.read_text().splitlines()[0]
