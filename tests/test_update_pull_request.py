"""update_pull_request: template-news.yml's two jobs that turn a template release into one pull
request, their steps run here for real (bash, git, copier) on a project one release behind.

The job `update` runs copier with read access and hands a patch over; the job `pull-request`
applies it with git alone, on a fresh clone, with the template out of reach, and pushes to a
bare repository standing in for GitHub's. Only `gh` (which needs GitHub) is a recording
stand-in, as in test_template_news.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from helpers import (
    REQUIRED_ANSWERS,
    commit_all,
    copy_with_answers,
    edit,
    gh_stub,
    git,
    make_template_repo,
    run_step,
    tool,
    workflow,
)

BOT = "41898282+github-actions[bot]@users.noreply.github.com"
RELEASE_LINE = "Releases are published to PyPI by\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This template tagged v1.0.0; v1.1.0, which changes a workflow and the README; v1.2.0,
    which changes only the CHANGELOG template."""
    repo = make_template_repo(tmp_path_factory.mktemp("upstream") / "copier-python-lib", tag="v1.0.0")
    edit(repo / "template/.github/workflows/test.yml.jinja", "name: test\n", "name: test  # v1.1.0\n")
    edit(
        repo / "template/README.md.jinja",
        RELEASE_LINE,
        "Releases (since template 1.1.0) are published to PyPI by\n",
    )
    commit_all(repo, "release 1.1.0")
    git(repo, "tag", "v1.1.0")
    changelog = repo / "template/CHANGELOG.md.jinja"
    changelog.write_text(changelog.read_text() + "\n<!-- template 1.2.0 -->\n")
    commit_all(repo, "release 1.2.0")
    git(repo, "tag", "v1.2.0")
    return repo


def on_github(template: Path, tmp_path: Path, release: str, *options: str) -> Path:
    """A project made at RELEASE with update_pull_request=yes (at v1.0.0 with a README edit of
    its own where v1.1.0 changes the same line), pushed to a bare repository: GitHub's copy."""
    project = tmp_path / "acme-widgets"
    answers = {**REQUIRED_ANSWERS, "update_pull_request": "true"}
    copy_with_answers(project, answers, template, f"--vcs-ref={release}", *options)
    if release == "v1.0.0":
        edit(project / "README.md", RELEASE_LINE, "Releases (our own wording) are published to PyPI by\n")
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Start")
    remote = tmp_path / "github.git"
    git(tmp_path, "clone", "-q", "--bare", str(project), str(remote))
    return remote


@pytest.fixture
def github(template: Path, tmp_path: Path) -> Path:
    """The project one release behind: made at v1.0.0, the newest is v1.1.0."""
    return on_github(template, tmp_path, "v1.0.0")


def checkout(remote: Path, dest: Path, ref: str = "main") -> Path:
    """What actions/checkout leaves: a clone, `origin` set, at REF."""
    git(remote.parent, "clone", "-q", str(remote), str(dest))
    git(dest, "checkout", "-q", "--detach", ref)
    return dest


def job_steps(project: Path, job: str) -> list[dict]:
    return workflow(project, "template-news.yml")["jobs"][job]["steps"]


def run_update_job(remote: Path, tmp: Path, newest: str = "v1.1.0") -> tuple[Path, dict[str, str]]:
    """Job `update`, in its own runner: the patch lands in RUNNER_TEMP/template-update/."""
    runner = tmp / "runner-update"
    runner.mkdir()
    work = checkout(remote, runner / "work")
    [step] = [s for s in job_steps(work, "update") if s.get("id") == "update"]
    copier_path = f"{tool('copier').parent}{os.pathsep}{os.environ['PATH']}"
    outputs, _ = run_step(work, step, runner, {"NEWEST": newest}, path=copier_path)
    return runner / "template-update", outputs


def run_pull_request_job(  # noqa: PLR0913 - a runner's whole state, as the workflow gives it
    remote: Path,
    base: str,
    artifact: Path,
    tmp: Path,
    name: str,
    own_token: bool = False,
    newest: str = "v1.1.0",
    pull_requests: list[dict[str, object]] | None = None,
) -> tuple[dict[str, str], str, Path]:
    """Job `pull-request`, in a fresh runner with only the artifact: returns the push step's
    outputs, everything it printed, and the file of the calls made to gh after the push.
    ``pull_requests``: what GitHub knows of the branch's pull requests (number, state,
    headRefOid), as `gh pr list` would list them."""
    runner = tmp / name
    runner.mkdir()
    shutil.copytree(artifact, runner / "template-update")
    work = checkout(remote, runner / "work", base)
    commit, push, open_pr = [s for s in job_steps(work, "pull-request") if "run" in s]
    _, said = run_step(work, commit, runner, {"NEWEST": newest})
    path = f"{gh_stub(runner / 'bin')}{os.pathsep}{os.environ['PATH']}"
    github = {"GH_CALLS": str(runner / "gh-calls-push"), "GH_PULL_REQUESTS": json.dumps(pull_requests or [])}
    token = {"TOKEN": "a-token", "OWN_TOKEN": "true" if own_token else "false"}
    outputs, pushed = run_step(work, push, runner, {**token, **github}, path=path)
    calls = runner / "gh-calls"
    if outputs.get("pushed") == "true":
        env = {"NEWEST": newest, "GH_CALLS": str(calls), "OWN_TOKEN": token["OWN_TOKEN"]}
        run_step(work, open_pr, runner, env, path=path)
    return outputs, said + pushed, calls


def branch_commits(remote: Path, base: str) -> list[str]:
    return git(remote, "log", "--format=%ae %s", f"{base}..template-update").splitlines()


def test_a_release_becomes_one_pull_request_with_its_conflicts_marked(
    github: Path, template: Path, tmp_path: Path
) -> None:
    artifact, outputs = run_update_job(github, tmp_path)
    assert outputs["changed"] == "true"
    base = outputs["base"]
    assert base == git(github, "rev-parse", "main").strip()
    patch = (artifact / "update.patch").read_text()
    assert "name: test  # v1.1.0" in patch  # the workflow change
    assert (artifact / "conflicts.txt").read_text().split() == ["README.md"]  # the edit both sides made

    # The second job: a fresh runner, the template out of reach (it runs nothing of it).
    template.rename(template.with_name("moved-away"))
    try:
        pushed, said, calls = run_pull_request_job(github, base, artifact, tmp_path, "runner-pr")
    finally:
        template.with_name("moved-away").rename(template)
    assert pushed["pushed"] == "true", said
    assert branch_commits(github, base) == [f"{BOT} Update from the template to v1.1.0"]
    readme = git(github, "show", "template-update:README.md")
    assert "<<<<<<< before updating" in readme and ">>>>>>> after updating" in readme
    assert "name: test  # v1.1.0" in git(github, "show", "template-update:.github/workflows/test.yml")
    assert "v1.1.0" in git(github, "show", "template-update:.copier-answers.yml")
    assert git(github, "rev-parse", "main").strip() == base  # main untouched
    gh = calls.read_text()
    assert "pr create --head template-update --title Update from the template to v1.1.0" in gh
    body = calls.with_name("gh-calls.body").read_text()
    assert "- `README.md`" in body and "Resolve them on this branch" in body
    assert "The tests run on this pull request as on any other." in body  # a token of its own


def test_a_custom_answers_file_is_the_one_the_update_reads_and_writes(template: Path, tmp_path: Path) -> None:
    """A project made with `-a .copier-answers.pylib.yml` (a name for one of several
    templates): the update job updates that file (its release moves), and no default
    answers file appears. (Not a name in a folder: copier 9.10 writes `-a .copier/x.yml`
    as `x.yml` at the top, and cannot update from it.)"""
    custom = ".copier-answers.pylib.yml"
    remote = on_github(template, tmp_path, "v1.0.0", "--answers-file", custom)
    artifact, outputs = run_update_job(remote, tmp_path)
    assert outputs["changed"] == "true"
    patch = (artifact / "update.patch").read_text()
    assert f"+++ b/{custom}" in patch and "+_commit: v1.1.0" in patch
    assert "b/.copier-answers.yml" not in patch
    pushed, said, _ = run_pull_request_job(remote, outputs["base"], artifact, tmp_path, "runner-pr")
    assert pushed["pushed"] == "true", said
    assert "_commit: v1.1.0" in git(remote, "show", f"template-update:{custom}")


def test_a_branch_with_a_persons_commits_is_never_replaced(github: Path, tmp_path: Path) -> None:
    artifact, outputs = run_update_job(github, tmp_path)
    base = outputs["base"]
    first, said, _ = run_pull_request_job(github, base, artifact, tmp_path, "runner-1")
    assert first["pushed"] == "true", said
    # The workflow's own branch is replaced by the next run's result (force with lease)...
    again, said, _ = run_pull_request_job(github, base, artifact, tmp_path, "runner-2")
    assert again["pushed"] == "true", said
    assert len(branch_commits(github, base)) == 1
    # ...until a maintainer pushes to it: then it is left exactly as it is.
    person = checkout(github, tmp_path / "maintainer", "origin/template-update")
    (person / "README.md").write_text("Resolved by hand.\n")
    git(person, "-c", "user.name=Jane", "-c", "user.email=jane@example.com", "commit", "-qam", "Resolve")
    git(person, "push", "-q", "origin", "HEAD:refs/heads/template-update")
    tip = git(github, "rev-parse", "template-update").strip()
    third, said, calls = run_pull_request_job(github, base, artifact, tmp_path, "runner-3")
    assert third["pushed"] == "false"
    assert "has commits by jane@example.com: it is left as it is" in said
    assert git(github, "rev-parse", "template-update").strip() == tip
    assert not calls.exists()  # no pull request edited either
    # Nor while its pull request is open, whatever else GitHub lists for the branch.
    listed = [
        {"number": 3, "state": "CLOSED", "headRefOid": "0" * 40},
        {"number": 4, "state": "OPEN", "headRefOid": tip},
    ]
    fourth, said, _ = run_pull_request_job(github, base, artifact, tmp_path, "runner-4", pull_requests=listed)
    assert fourth["pushed"] == "false", said
    assert git(github, "rev-parse", "template-update").strip() == tip


@pytest.mark.parametrize("how", ["squash-merged", "rebase-merged", "closed"])
def test_a_finished_pull_request_does_not_stop_the_next_one(
    github: Path, tmp_path: Path, template: Path, how: str
) -> None:
    """A person resolved the conflict on the branch, and the pull request was merged by squash
    or rebase (GitHub keeps the branch, with the person's commit on it) or closed: the next
    release makes a new pull request from the default branch."""
    artifact, outputs = run_update_job(github, tmp_path)
    first, said, _ = run_pull_request_job(github, outputs["base"], artifact, tmp_path, "runner-1")
    assert first["pushed"] == "true", said
    person = checkout(github, tmp_path / "maintainer", "origin/template-update")
    (person / "README.md").write_text("Resolved by hand.\n")
    git(person, "-c", "user.name=Jane", "-c", "user.email=jane@example.com", "commit", "-qam", "Resolve")
    git(person, "push", "-q", "origin", "HEAD:refs/heads/template-update")
    tip = git(github, "rev-parse", "template-update").strip()
    # What GitHub's squash or rebase merge leaves on main: new commits of the branch's changes.
    who = ("-c", "user.name=Jane", "-c", "user.email=jane@example.com")
    git(person, "checkout", "-q", "-B", "main", "origin/main")
    if how == "squash-merged":
        git(person, "merge", "-q", "--squash", tip)
        git(person, *who, "commit", "-qm", "Update (#7)")
    elif how == "rebase-merged":
        git(person, *who, "cherry-pick", f"origin/main..{tip}")
    git(person, "push", "-q", "origin", "main")
    state = "CLOSED" if how == "closed" else "MERGED"
    listed = [{"number": 7, "state": state, "headRefOid": tip}]
    (tmp_path / "next").mkdir()
    artifact, outputs = run_update_job(github, tmp_path / "next", newest="v1.2.0")
    assert outputs["changed"] == "true"
    second, said, calls = run_pull_request_job(
        github, outputs["base"], artifact, tmp_path, "runner-2", newest="v1.2.0", pull_requests=listed
    )
    assert second["pushed"] == "true", said
    assert f"Pull request #7 {state.lower()}: the branch template-update starts again" in said
    assert branch_commits(github, outputs["base"]) == [f"{BOT} Update from the template to v1.2.0"]
    assert "pr create --head template-update" in calls.read_text()


def test_githubs_own_token_does_not_try_to_push_workflow_changes(github: Path, tmp_path: Path) -> None:
    """GitHub refuses workflow changes pushed with its own token: the job says what to add."""
    artifact, outputs = run_update_job(github, tmp_path)
    pushed, said, _ = run_pull_request_job(
        github, outputs["base"], artifact, tmp_path, "runner", own_token=True
    )
    assert pushed["pushed"] == "false"
    assert "changes .github/workflows/, which GitHub's own token cannot push" in said
    assert "template-update" not in git(github, "branch", "--list")


def test_githubs_own_token_opens_a_pull_request_that_says_how_to_start_ci(
    template: Path, tmp_path: Path
) -> None:
    """A release that touches no workflow (v1.1.0 -> v1.2.0) goes through with GitHub's own
    token; its pull request starts no workflow, and says what does."""
    github = on_github(template, tmp_path, "v1.1.0")
    artifact, outputs = run_update_job(github, tmp_path, newest="v1.2.0")
    assert ".github/workflows" not in (artifact / "update.patch").read_text()
    pushed, said, calls = run_pull_request_job(
        github, outputs["base"], artifact, tmp_path, "runner", own_token=True, newest="v1.2.0"
    )
    assert pushed["pushed"] == "true", said
    assert "<!-- template 1.2.0 -->" in git(github, "show", "template-update:CHANGELOG.md")
    body = calls.with_name("gh-calls.body").read_text()
    assert "close and reopen this pull request" in body
    assert "Copier merged every change without conflicts." in body


def test_the_jobs_hold_what_they_need_and_no_more(github: Path, tmp_path: Path) -> None:
    project = checkout(github, tmp_path / "project")
    jobs = workflow(project, "template-news.yml")["jobs"]
    assert jobs["update"]["permissions"] == {"contents": "read"}
    assert jobs["pull-request"]["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert jobs["pull-request"]["environment"] == {"name": "template-update"}
    text = "\n".join(step.get("run", "") for step in jobs["pull-request"]["steps"])
    commands = [line.split()[0] for line in text.splitlines() if line.strip()]
    assert not {"copier", "python", "pip", "uv", "uvx"} & set(commands)  # git, gh and the shell only
    checkouts = [
        s for s in jobs["pull-request"]["steps"] if str(s.get("uses", "")).startswith("actions/checkout@")
    ]
    assert checkouts[0]["with"]["persist-credentials"] is False


def test_off_by_default(default_project: Path) -> None:
    jobs = workflow(default_project, "template-news.yml")["jobs"]
    assert list(jobs) == ["news"]


def test_after_copy_message_names_the_secret_and_environment_the_workflow_reads(tmp_path: Path) -> None:
    """The after-copy message tells what lifts the own token's limits, with the names the
    pull-request job really reads; a project without update pull requests is not told."""
    project = tmp_path / "with"
    done = copy_with_answers(project, {**REQUIRED_ANSWERS, "update_pull_request": "true"})
    told = " ".join((done.stdout + done.stderr).split())
    job = workflow(project, "template-news.yml")["jobs"]["pull-request"]
    environment = job["environment"] if isinstance(job["environment"], str) else job["environment"]["name"]
    assert set(re.findall(r"secrets\.(\w+)", json.dumps(job))) == {"TEMPLATE_UPDATE_TOKEN"}
    assert "Template updates come as pull requests (template-news.yml)." in told
    assert f'add a secret TEMPLATE_UPDATE_TOKEN to the environment "{environment}"' in told
    assert "Its pushes start your push workflows, with their secrets, before anyone reviews them" in told
    done = copy_with_answers(tmp_path / "without", REQUIRED_ANSWERS)
    assert "TEMPLATE_UPDATE_TOKEN" not in done.stdout + done.stderr
