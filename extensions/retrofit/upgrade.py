"""The retrofit of a whole project: every workflow that uploads to PyPI, planned before any write.

The plan step of a retrofit (read -> plan -> write): workflows.py and recognise.py read the
project's workflows and account for every step that could publish; each workflow that uploads
is planned by planner.py (the ladder: isolated, in place, or refused) into a Plan (plan.py),
which verify.py checks; write.py writes them all, or none. A project may upload from several
workflows (releases and nightly builds; PyPI and TestPyPI): each gets its own plan, and the
message gives one trusted publisher per workflow and index.

Anything that cannot be converted raises ``RetrofitRefusal`` naming the file and line, before
anything is written. Standard library and PyYAML only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import called_tests, recognise
from .credentials import login_line
from .plan import Plan
from .planner import Planner
from .uploads import uploading_jobs
from .workflows import (
    PUBLISH_ACTION,
    RetrofitRefusal,
    Workflow,
    read_workflows,
    scalar,
    span,
    workflow_files,
    writable_error,
)


def plan(workflow: Workflow, *, environment: str, project_name: str, uses: Callable[[str], str]) -> Plan:
    """Work out the upgraded text of ``workflow``; raises RetrofitRefusal before any write."""
    global plans_made
    plans_made += 1
    return Planner(workflow, environment, project_name, uses).plan()


def uploading_workflows(root: Path) -> list[Workflow]:
    """The workflows with a job that uploads to PyPI (or TestPyPI)."""
    return [w for w in read_workflows(root) if uploading_jobs(w)]


# What the template's own publish.yml (retrofit=add) looks like to the call planner: it runs
# for releases, under a workflow-level concurrency group.
_ADDED_PUBLISH_YML = "on:\n  release:\nconcurrency:\n  group: publish\njobs: {}\n"


def tests_calls(root: Path) -> called_tests.Called:
    """retrofit=add: the project's workflows that run tests, which the added publish.yml calls
    before each release (each gains ``workflow_call``, checked before it is written), and why
    any other is not called."""
    try:
        others = [w for w in read_workflows(root) if any(j.runs_tests() for j in w.jobs())]
    except (RetrofitRefusal, OSError):
        return called_tests.Called()
    release = Workflow(root / ".github" / "workflows" / "publish.yml", _ADDED_PUBLISH_YML)
    called = called_tests.plan_calls(release, others, {"build", "publish", "publish-testpypi"})
    called_tests.verify_calls(called)
    return called


# --- before anything is written -------------------------------------------------------------


def _obstacle(root: Path, workflows: list[Workflow]) -> str:
    """What stops the retrofit before any plan is made ("" for nothing)."""
    for workflow in workflows:
        if reason := writable_error(workflow.path):
            return reason
    for workflow in read_workflows(root):
        if reason := recognise.obstacle(workflow):
            return reason
        if not uploading_jobs(workflow) and (line := login_line(workflow.text)):
            for job in workflow.jobs():
                called = scalar(job.get("uses")).split("@")[0]
                first, end = job.key.start_mark.line + 1, span(job.node, workflow.text.splitlines())[1]
                if called.startswith("./.github/workflows/") and first <= line <= end:
                    return (
                        f"{workflow.where(line)}: job {job.id} hands the PyPI login to {called.rsplit('/', 1)[1]}, "
                        "a reusable workflow of this repository, to upload with. PyPI cannot trust a reusable "
                        "workflow as a publisher (its token names the calling workflow; pypi/warehouse#11096): "
                        "move the uploading job into this workflow, commit, and run copier again."
                    )
            return (
                f"{workflow.where(line)}: a PyPI token reaches a step this template cannot read "
                "(a custom script?). Replace that upload with `twine upload dist/*` or "
                f"{PUBLISH_ACTION}, commit, and run copier again; or retrofit by hand (the template's documentation: Existing project)."
            )
    return ""


# Answers a plan is made with before they are known (at the retrofit question): what the owner
# must read (secrets, notes, TestPyPI) and whether it can be made do not depend on them.
# Names no project or environment has, so that the report can put the answers in their place.
PLACEHOLDER_ENVIRONMENT, PLACEHOLDER_PROJECT = "copier-python-lib-environment", "copier-python-lib-project"


def _placeholder_uses(action: str) -> str:
    return f"{action}@v0"


# One plan per workflow text and one check per state of the workflow files, for the run: the
# question's default, its validator and the after-copy message share them.
_PLANNED: dict[tuple[str, str, str, str], Plan | RetrofitRefusal] = {}
_CHECKED: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}
# How many plans this loading of the module made (tests/test_structure.py counts them).
plans_made = 0


def planned(
    workflow: Workflow, project_name: str = PLACEHOLDER_PROJECT, environment: str = PLACEHOLDER_ENVIRONMENT
) -> Plan:
    """The plan of ``workflow`` (with the placeholder answers unless given), made once per text
    and answers, and reused."""
    key = (str(workflow.path), workflow.text, project_name, environment)
    if key not in _PLANNED:
        try:
            _PLANNED[key] = plan(
                workflow, environment=environment, project_name=project_name, uses=_placeholder_uses
            )
        except RetrofitRefusal as refusal:
            _PLANNED[key] = refusal
    found = _PLANNED[key]
    if isinstance(found, RetrofitRefusal):
        raise found
    return found


def check(root: Path) -> str:
    """Why the project's release cannot be retrofitted, or "" (nothing is written)."""
    files = workflow_files(root)
    key = (str(root), tuple((f.name, f.lstat().st_mtime_ns, f.lstat().st_size) for f in files))
    if key not in _CHECKED:
        workflows = uploading_workflows(root)
        reason = _obstacle(root, workflows)
        for workflow in workflows if not reason else ():
            try:
                planned(workflow)
            except RetrofitRefusal as refusal:
                reason = str(refusal)
                break
        _CHECKED[key] = reason
    return _CHECKED[key]


def upgrade(root: Path, *, environment: str, project_name: str, uses: Callable[[str], str]) -> list[Plan]:
    """Plan the upgrade of every workflow that uploads, with the answers (none when no workflow
    uploads): every check of ``check``, and one plan per workflow."""
    workflows = uploading_workflows(root)
    if reason := _obstacle(root, workflows):
        raise RetrofitRefusal(reason)
    plans = [plan(w, environment=environment, project_name=project_name, uses=uses) for w in workflows]
    edited: dict[Path, str] = {}
    for made in plans:
        for path, text, _ in made.others:
            if edited.setdefault(path, text) != text:  # pragma: no cover - one tests workflow, one edit
                raise RetrofitRefusal(
                    f".github/workflows/{path.name}: two publishing workflows would edit it differently; "
                    "retrofit by hand (documentation: Existing project)."
                )
    return plans
