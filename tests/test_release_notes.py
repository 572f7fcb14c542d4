"""Releases that write their notes: CHANGELOG.md from towncrier's change files, GitHub's
generated notes grouped by `.github/release.yml`, and a publish workflow that stays as it was.

The rehearsal runs the commands CONTRIBUTING.md and RELEASING.md give, with the towncrier the
project's `dev` group resolves from the package index, in a rendered project under git.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import tomllib

from helpers import install_into, load_yaml, make_venv, run


def _dev_requirement(project: Path, name: str) -> str:
    dev = tomllib.loads((project / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    return next(spec for spec in dev if re.match(rf"{name}\b", spec))


def _command(text: str, start: str) -> str:
    """The first line of a console block in TEXT that starts with START."""
    return next(line.strip() for line in text.splitlines() if line.strip().startswith(start))


@pytest.mark.parametrize("towncrier_version", ["oldest allowed", "newest"])
def test_a_release_gathers_the_change_files_into_the_changelog(
    render, tmp_path: Path, towncrier_version: str
) -> None:
    """With the newest towncrier the `dev` group resolves, and with the oldest it allows (24.7.x
    wrote `# ## [0.2.0]...`: its lower bound was too low)."""
    project = tmp_path / "acme-widgets"
    shutil.copytree(render(), project)
    run(["git", "init", "-q"], cwd=project)
    python = make_venv(tmp_path / "venv")
    requirement = _dev_requirement(project, "towncrier")
    if towncrier_version == "oldest allowed":
        name, floor = requirement.split(">=")
        requirement = f"{name}=={floor}"
    install_into(python, requirement)
    towncrier = python.parent / "towncrier"
    # A contributor, as CONTRIBUTING.md says: its `towncrier create`, then a file by hand.
    create = _command((project / "CONTRIBUTING.md").read_text(), "towncrier create")
    assert create == "towncrier create 123.fixed.md --content 'parse() accepts empty input again.'"
    run([towncrier, "create", "123.fixed.md", "--content", "parse() accepts empty input again."], cwd=project)
    (project / "changes" / "130.added.md").write_text("A `spin()` function.\n")
    (project / "changes" / "+docs.changed.md").write_text("The README shows `spin()`.\n")
    run(["git", "add", "-A"], cwd=project)
    # The maintainer, as RELEASING.md says, for 0.2.0.
    releasing = (project / "RELEASING.md").read_text()
    build = _command(releasing, "towncrier build").replace("X.Y.Z", "0.2.0")
    assert build == "towncrier build --version 0.2.0 --yes"
    run([towncrier, *build.split()[1:]], cwd=project)
    changelog = (project / "CHANGELOG.md").read_text()
    today = dt.date.today().isoformat()
    heading = f"\n## [0.2.0](https://github.com/acme/acme-widgets/releases/tag/v0.2.0) - {today}\n"
    assert heading in changelog, changelog  # a level-2 heading, as the earlier releases'
    release = changelog.split(heading, 1)[1]
    release = release.split("## [0.1.0]", 1)[0]
    assert (
        "### Added\n\n- A `spin()` function. ([#130](https://github.com/acme/acme-widgets/issues/130))"
        in release
    )
    assert "### Changed\n\n- The README shows `spin()`.\n" in release
    assert (
        "### Fixed\n\n- parse() accepts empty input again. ([#123](https://github.com/acme/acme-widgets/issues/123))"
        in release
    )
    assert changelog.index("<!-- towncrier release notes start -->") < changelog.index("## [0.2.0]")
    assert sorted(p.name for p in (project / "changes").iterdir()) == ["README.md"]  # the used files went
    # A misnamed file stops the next release instead of vanishing from it.
    (project / "changes" / "131.fix.md").write_text("Typo in the kind.\n")
    done = run([towncrier, "build", "--version", "0.3.0", "--yes"], cwd=project, check=False)
    assert done.returncode != 0 and "Invalid news fragment name: 131.fix.md" in done.stdout + done.stderr
    assert "0.3.0" not in (project / "CHANGELOG.md").read_text()


def test_the_publish_workflow_is_the_same_with_either_changelog(render) -> None:
    """The notes are written before the tag: nothing in the release's jobs changes, and no
    project code runs beside the upload token."""
    towncrier, by_hand = render(), render(changelog="by-hand")
    for name in ("publish.yml", "test.yml"):
        path = Path(".github/workflows") / name
        assert (towncrier / path).read_bytes() == (by_hand / path).read_bytes(), name
    assert not (by_hand / "changes").exists()
    assert "## [Unreleased]" in (by_hand / "CHANGELOG.md").read_text()
    assert "towncrier" not in (by_hand / "pyproject.toml").read_text()
    assert 'move the\n   "Unreleased" notes' in (by_hand / "RELEASING.md").read_text()


def test_generated_release_notes_group_by_the_labels_contributing_names(render) -> None:
    """GitHub's "Generate release notes" groups the merged pull requests by their own labels, as
    `.github/release.yml` says: each label CONTRIBUTING.md tells maintainers to put on a pull
    request has its section (or, `skip-changelog`, leaves it out), and the rest still appears."""
    project = render()
    config: dict[str, Any] = load_yaml(project / ".github" / "release.yml")["changelog"]
    sections = {label: c["title"] for c in config["categories"] for label in c["labels"]}
    assert config["categories"][-1]["labels"] == ["*"]  # the last catches every other label
    assert set(config["exclude"]) == {"labels"} and config["exclude"]["labels"] == ["skip-changelog"]
    contributing = (project / "CONTRIBUTING.md").read_text()
    paragraph = contributing.split("Maintainers label each pull request", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"`([a-z-]+)`", paragraph))
    assert named == (set(sections) - {"*"}) | {"skip-changelog"}
    assert sections["dependencies"] == "Dependencies"  # the label Dependabot sets on its own
