"""The action pins table and the maintainer script that refreshes it (against real git repositories)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from helpers import TEMPLATE_DIR, commit_all, gh_stub, git, run, run_step, workflow

PINS = TEMPLATE_DIR / "extensions" / "actions.yml"
SCRIPT = TEMPLATE_DIR / "scripts" / "refresh_action_pins.py"


def test_every_pin_is_a_full_sha_with_a_release_version() -> None:
    for action, entry in yaml.safe_load(PINS.read_text()).items():
        assert len(entry["ref"]) == 40, action
        assert all(c in "0123456789abcdef" for c in entry["ref"]), action
        assert entry["version"].startswith("v"), action
        assert entry["version"].startswith(entry["tag"].removeprefix("release/")), action


def make_action_repo(root: Path, action: str, tags: dict[str, bool], twine: str = "") -> dict[str, str]:
    """A git repository at root/action with the given tags (True: annotated); returns tag -> commit.
    With ``twine``, each release's requirements/runtime.txt pins twine==<twine>.<minor of the tag>."""
    repo = root / action
    repo.mkdir(parents=True)
    run(["git", "init", "-q", repo])
    commits = {}
    for tag, annotated in tags.items():
        (repo / "action.yml").write_text(f"name: {action} {tag}\n")
        if twine:
            (repo / "requirements").mkdir(exist_ok=True)
            minor = tag.split(".")[1] if "." in tag else "0"
            (repo / "requirements/runtime.txt").write_text(
                f"id==1.5.0\ntwine=={twine}.{minor}\n    # via -r runtime.in\n"
            )
        run(["git", "-C", repo, "add", "-A"])
        run(["git", "-C", repo, "commit", "-q", "-m", tag])
        run(["git", "-C", repo, "tag", *(["-a", "-m", tag] if annotated else []), tag])
        commits[tag] = run(["git", "-C", repo, "rev-parse", "HEAD"]).stdout.strip()
    return commits


PINS_TEXT = """# header kept
# Checked: 2000-01-01
actions/checkout:
  version: v6.0.2
  ref: {zeros}
  tag: v6  # a comment beside a value stays
# a comment between entries stays
astral-sh/setup-uv:
  version: v7.1.6
  ref: {zeros}
  tag: v7
pypa/gh-action-pypi-publish:
  version: v1.14.1
  ref: {ones}
  tag: release/v1
  twine: 6.2.0
"""


@pytest.fixture
def remotes(tmp_path: Path) -> tuple[Path, Path, dict[str, dict[str, str]]]:
    pins = tmp_path / "actions.yml"
    pins.write_text(PINS_TEXT.format(zeros="0" * 40, ones="1" * 40))
    remote = tmp_path / "remote"
    commits = {
        # Annotated release tags, and a moving major tag for each major.
        "actions/checkout": make_action_repo(
            remote,
            "actions/checkout",
            {"v6.0.2": True, "v6.1.0": True, "v6": False, "v7.0.0": True, "v7": False},
        ),
        # No moving major tag from v8 on (as setup-uv really stopped making them).
        "astral-sh/setup-uv": make_action_repo(
            remote, "astral-sh/setup-uv", {"v7.1.6": False, "v7": False, "v8.0.0": False, "v10.0.1": True}
        ),
        "pypa/gh-action-pypi-publish": make_action_repo(
            remote, "pypa/gh-action-pypi-publish", {"v1.14.1": False, "v1.14.2": True}, twine="7.0"
        ),
    }
    # The publish action's moving ref is a branch, release/v1.
    run(["git", "-C", remote / "pypa/gh-action-pypi-publish", "branch", "release/v1"])
    return pins, remote, commits


def refresh(pins: Path, remote: Path, *options: str):
    return run([sys.executable, SCRIPT, *options, "--file", pins, "--base-url", remote.as_uri()])


def test_refresh_crosses_majors_and_records_each_release_commit(remotes) -> None:
    pins, remote, commits = remotes
    done = refresh(pins, remote)
    data = yaml.safe_load(pins.read_text())
    # The commit of the release, not the object of its annotated tag.
    assert data["actions/checkout"] == {
        "version": "v7.0.0",
        "ref": commits["actions/checkout"]["v7.0.0"],
        "tag": "v7",
    }
    annotated = run(["git", "-C", remote / "actions/checkout", "rev-parse", "v7.0.0"]).stdout.strip()
    assert annotated != commits["actions/checkout"]["v7.0.0"]
    # No moving v10 tag: pin_actions=no gets the exact release.
    assert data["astral-sh/setup-uv"] == {
        "version": "v10.0.1",
        "ref": commits["astral-sh/setup-uv"]["v10.0.1"],
        "tag": "v10.0.1",
    }
    # The twine the new publish action bundles, read from its requirements/runtime.txt.
    assert data["pypa/gh-action-pypi-publish"] == {
        "version": "v1.14.2",
        "ref": commits["pypa/gh-action-pypi-publish"]["v1.14.2"],
        "tag": "release/v1",
        "twine": "7.0.14",
    }
    # The release notes of every release it moved across.
    base = remote.as_uri()
    for action, tag in [
        ("actions/checkout", "v6.1.0"),
        ("actions/checkout", "v7.0.0"),
        ("astral-sh/setup-uv", "v8.0.0"),
        ("astral-sh/setup-uv", "v10.0.1"),
        ("pypa/gh-action-pypi-publish", "v1.14.2"),
    ]:
        assert f"release notes: {base}/{action}/releases/tag/{tag}" in done.stdout
    assert "releases/tag/v6.0.2" not in done.stdout  # not crossed: the release it started from


def test_refresh_keeps_every_comment(remotes) -> None:
    pins, remote, _ = remotes
    refresh(pins, remote)
    text = pins.read_text()
    assert text.startswith("# header kept\n# Checked: 20")
    assert "2000-01-01" not in text
    assert "  tag: v7  # a comment beside a value stays\n" in text
    assert "# a comment between entries stays\n" in text


def test_refresh_within_the_same_major(remotes) -> None:
    pins, remote, commits = remotes
    done = refresh(pins, remote, "--same-major")
    data = yaml.safe_load(pins.read_text())
    assert data["actions/checkout"] == {
        "version": "v6.1.0",
        "ref": commits["actions/checkout"]["v6.1.0"],
        "tag": "v6",
    }
    assert data["astral-sh/setup-uv"]["version"] == "v7.1.6"
    assert "actions/checkout: version v6.0.2 -> v6.1.0" in done.stdout


def test_refresh_of_current_pins_changes_nothing(remotes) -> None:
    pins, remote, _ = remotes
    refresh(pins, remote)
    before = pins.read_text()
    done = refresh(pins, remote)
    assert "every pin is current" in done.stdout
    assert pins.read_text() == before


def test_refresh_keeps_the_real_table_readable(tmp_path: Path) -> None:
    # The real file's comments survive a rewrite and the result still loads as the same table.
    copy = tmp_path / "real.yml"
    shutil.copy(PINS, copy)
    from scripts import refresh_action_pins

    table = yaml.safe_load(copy.read_text())
    refresh_action_pins.write(copy, table, __import__("datetime").date(2030, 1, 2))
    assert yaml.safe_load(copy.read_text()) == table
    assert copy.read_text() == PINS.read_text().replace(
        next(line for line in PINS.read_text().splitlines() if line.startswith("# Checked: ")),
        "# Checked: 2030-01-02",
    )


def test_the_template_repository_refreshes_its_pins_every_week() -> None:
    """The scheduled workflow runs this very script across majors, tests, and opens a pull request."""
    data = workflow(TEMPLATE_DIR, "refresh-action-pins.yml")
    assert set(data["on"]) == {"schedule", "workflow_dispatch"}
    refresh, propose = data["jobs"]["refresh"], data["jobs"]["propose"]
    runs = "\n".join(s.get("run", "") for s in refresh["steps"])
    assert "python scripts/refresh_action_pins.py |" in runs  # no --same-major: majors are crossed
    assert "bash .ci/run" in runs
    # The job that runs the repository's code holds a read-only token ...
    assert refresh["permissions"] == {"contents": "read"}
    # ... and the job with the write token runs none of it (issue 21, case 8): git and gh only,
    # on a patch that may touch extensions/actions.yml alone, and never a plain force-push.
    assert propose["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert propose["needs"] == "refresh"
    pushed = "\n".join(s.get("run", "") for s in propose["steps"])
    assert "gh pr create" in pushed and "gh pr edit" in pushed
    assert ".ci/run" not in pushed and "python" not in pushed and "pip" not in pushed
    assert '!= "extensions/actions.yml"' in pushed
    assert "--force-with-lease" in pushed and "--force " not in pushed
    assert "core.hooksPath=/dev/null" in pushed
    assert all(
        s["with"]["persist-credentials"] is False for s in propose["steps"] if "checkout" in s.get("uses", "")
    )
    # The template repository's own workflows pin the same releases its projects get.
    pins = yaml.safe_load(PINS.read_text())
    for path in sorted((TEMPLATE_DIR / ".github" / "workflows").glob("*.yml")):
        name = path.name
        for job in workflow(TEMPLATE_DIR, name)["jobs"].values():
            for step in job["steps"]:
                if "uses" in step:
                    action, ref = step["uses"].split("@")
                    assert ref == pins[action]["ref"], (name, action)


@pytest.mark.parametrize("state", ["OPEN", "MERGED", "CLOSED"])
def test_the_pins_pull_request_is_proposed_again_once_a_person_merged_or_closed_it(
    tmp_path: Path, state: str
) -> None:
    """The `propose` job's step, run here for real (git and bash) against a bare repository
    standing in for GitHub's, with `gh` a recording stand-in: a branch that a maintainer pushed
    to is left alone while its pull request is open, and proposed afresh once that pull request
    was merged (squash or rebase leave the branch behind) or closed."""
    github, work = tmp_path / "github.git", tmp_path / "work"
    seed = tmp_path / "seed"
    (seed / "extensions").mkdir(parents=True)
    shutil.copy(PINS, seed / "extensions" / "actions.yml")
    run(["git", "init", "-q", "-b", "main", seed])
    commit_all(seed, "The template")
    run(["git", "clone", "-q", "--bare", seed, github])
    # The bot's earlier proposal, then a maintainer's commit on it.
    text = PINS.read_text()
    first_ref = yaml.safe_load(text)["actions/checkout"]["ref"]
    bot = (
        "-c",
        "user.name=github-actions[bot]",
        "-c",
        "user.email=41898282+github-actions[bot]@users.noreply.github.com",
    )
    git(seed, "checkout", "-q", "-b", "refresh-action-pins")
    (seed / "extensions" / "actions.yml").write_text(text.replace(first_ref, "1" * 40))
    git(seed, *bot, "commit", "-qam", "Refresh the pinned actions to their newest releases")
    (seed / "extensions" / "actions.yml").write_text(text.replace(first_ref, "2" * 40))
    git(seed, "-c", "user.name=Jane", "-c", "user.email=jane@example.com", "commit", "-qam", "Adapt")
    git(seed, "push", "-q", str(github), "refresh-action-pins")
    tip = git(seed, "rev-parse", "HEAD").strip()
    # This week's proposal: a patch of extensions/actions.yml against main.
    proposal = tmp_path / "proposal"
    proposal.mkdir()
    git(seed, "checkout", "-q", "main")
    (seed / "extensions" / "actions.yml").write_text(text.replace(first_ref, "3" * 40))
    (proposal / "pins.patch").write_text(git(seed, "diff"))
    (proposal / "body.md").write_text("report\n")
    run(["git", "clone", "-q", github, work])  # what actions/checkout leaves (fetch-depth: 0)
    [step] = [
        s for s in workflow(TEMPLATE_DIR, "refresh-action-pins.yml")["jobs"]["propose"]["steps"] if "run" in s
    ]
    url = "https://x-access-token:a-token@github.com/acme/copier-python-lib.git"
    env = {
        "GH_TOKEN": "a-token",
        "GITHUB_REPOSITORY": "acme/copier-python-lib",
        "PROPOSAL": str(proposal),
        "GH_CALLS": str(tmp_path / "gh-calls"),
        "GH_PULL_REQUESTS": json.dumps([{"number": 9, "state": state, "headRefOid": tip}]),
        # git reaches the bare repository where the step names GitHub's.
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{github}.insteadOf",
        "GIT_CONFIG_VALUE_0": url,
    }
    _, said = run_step(work, step, tmp_path, env, path_first=gh_stub(tmp_path / "bin"))
    branch = git(github, "log", "--format=%ae", "main..refresh-action-pins").split()
    if state == "OPEN":
        assert "it is left as it is" in said
        assert git(github, "rev-parse", "refresh-action-pins").strip() == tip
    else:
        assert f"Pull request #9 {state.lower()}: refresh-action-pins starts again from main" in said
        assert branch == ["41898282+github-actions[bot]@users.noreply.github.com"]
        assert "3" * 40 in git(github, "show", "refresh-action-pins:extensions/actions.yml")
