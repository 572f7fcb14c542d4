"""The template's own releases: a tag per CHANGELOG section, and notes from that section
(the repository's workflows, release.yml included, are checked in test_workflows.py)."""

from __future__ import annotations

import sys

import pytest

from helpers import TEMPLATE_DIR, run
from scripts import release_notes

CHANGELOG = (TEMPLATE_DIR / "CHANGELOG.md").read_text(encoding="utf-8")


def test_the_changelog_and_the_release_tags_agree() -> None:
    """Each release tag has its CHANGELOG section and each section its tag, where the clone has
    tags: a maintainer's clone and the release workflow's checkout; CI's clone of main has none."""
    tags = run(["git", "-C", TEMPLATE_DIR, "tag", "--list", "v*"]).stdout.split()
    if not tags:
        pytest.skip("this clone has no tags (git fetch --tags)")
    assert {f"v{version}" for version in release_notes.versions(CHANGELOG)} == set(tags)


def test_changelog_sections_are_newest_first() -> None:
    versions = release_notes.versions(CHANGELOG)
    keys = [tuple(int(part) for part in version.split(".")) for version in versions]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    assert CHANGELOG.index("## Unreleased") < CHANGELOG.index(f"## {versions[0]}")


def test_a_release_gets_its_section_as_notes_and_a_tag_without_one_gets_nothing() -> None:
    newest = release_notes.versions(CHANGELOG)[0]
    script = TEMPLATE_DIR / "scripts" / "release_notes.py"
    notes = run([sys.executable, script, f"v{newest}"]).stdout
    assert notes.strip() and notes == release_notes.section(CHANGELOG, newest)
    assert "## " not in notes  # one section, without the next one
    missing = run([sys.executable, script, "v99.0.0"], check=False)
    assert missing.returncode == 1 and "no section '## 99.0.0'" in missing.stderr and not missing.stdout


def test_the_release_workflow_gives_its_write_token_no_repository_code() -> None:
    import yaml

    release = yaml.safe_load((TEMPLATE_DIR / ".github/workflows/release.yml").read_text())
    assert release["permissions"] == {}
    notes, publish = release["jobs"]["notes"], release["jobs"]["publish"]
    assert notes["permissions"] == {"contents": "read"}
    assert publish["permissions"] == {"contents": "write"} and publish["needs"] == "notes"
    assert not any("checkout" in step.get("uses", "") for step in publish["steps"])
    assert "python" not in "\n".join(step.get("run", "") for step in publish["steps"])
