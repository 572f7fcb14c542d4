"""Plan the move of an existing token-based PyPI upload to Trusted Publishing, in place.

The plan step of a retrofit (read -> plan -> write): workflows.py reads the workflows,
this module works out the new text of the one that publishes as a Plan (plan.py; the edits
to the owner's jobs come from owner_jobs.py, the new jobs' text from new_jobs.py), and
write.py writes it. The owner's jobs keep their
runners, matrices, builds, comments and steps; only the upload moves:

- in the job that built and uploaded, the upload becomes an ``actions/upload-artifact``
  of what it built (one artifact per matrix leg), and the token variables go;
- a new job, on ubuntu-latest, ``needs`` that job (and the tests the workflow runs),
  carries the upload's conditions, holds ``environment`` and job-level
  ``permissions: id-token: write`` and nothing else, downloads the artifacts and uploads
  them with the pinned ``pypa/gh-action-pypi-publish``: it checks out nothing and runs
  no project code. TestPyPI gets its own such job.

No test command is ever invented: with no tests in the workflow, nothing gates the
upload, and the plan says so. Anything it cannot move safely (an upload inside shell
control flow, a custom script, a private index, a condition a separate job cannot
evaluate) raises ``RetrofitRefusal`` naming the file and line, before anything is
written. Standard library and PyYAML only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import called_tests, new_jobs, recognise
from .after_upload import After, after_job_lines, plan_after_steps
from .owner_jobs import (
    expression,
    grant_in_place,
    packages_dir,
    plan_artifact,
    plan_token_lines,
    plan_upload_step,
    publishes_only,
    remove_token_keys,
    strip_password,
    target_of,
)
from .plan import Edits, Plan, Upload
from .plan import indent as line_indent
from .verify import needs_read, verify
from .workflows import (
    PUBLISH_ACTION,
    TESTPYPI_UPLOAD_URL,
    Job,
    RetrofitRefusal,
    Workflow,
    get,
    get_root,
    has_id_token,
    is_trusted,
    publishing_workflows,
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
    result = Plan(workflow.path, workflow.text, newline=workflow.newline)
    if is_trusted(workflow):
        return result
    edits = Edits(workflow.text)
    uploads: list[Upload] = []
    in_place: list[tuple[int, str]] = []  # (line, folder) of each upload of a job that only publishes
    afters: list[After] = []  # steps that ran after an upload, which move after the publish job
    comment = ""  # on the owner's environment line, which moves to the publish job
    for job in workflow.publishing_jobs():
        if publishes_only(job):
            # It builds nothing and runs no project code (it downloads what other jobs built, or
            # an earlier retrofit made it): it becomes the Trusted Publishing job in place.
            for step in job.upload_steps():
                strip_password(workflow, step, edits, result, uses)
                if target_of(workflow, step) == "":
                    in_place.append((step.line, packages_dir(step)))
            grant_in_place(workflow, job, edits, result, environment, project_name)
            if not new_jobs.tested(workflow.jobs(), job):
                result.notes.append(
                    f"No tests gate {job.id}: neither it nor a job it needs runs tests, so nothing stops a "
                    "release whose tests fail. Add the test job to this workflow and list it under the job's "
                    "needs."
                )
            continue
        job_uploads = [plan_upload_step(workflow, job, step, edits, result) for step in job.upload_steps()]
        job_folders = {u.dist for u in job_uploads}
        if len(job_folders) > 1:
            raise RetrofitRefusal(
                f"{workflow.where(job.key.start_mark.line + 1)}: job {job.id} uploads from several folders "
                f"({', '.join(sorted(job_folders))}); upload one folder, commit, and run copier again."
            )
        uploads += job_uploads
        plan_artifact(workflow, job, job_uploads, edits, result, uses)
        if moved := plan_after_steps(workflow, job, job_uploads, edits, result):
            afters.append(moved)
        plan_token_lines(workflow, job, edits, result)
        remove_token_keys(job.get("env"), job.node, workflow, edits, result)
        comment = _move_environment(workflow, job, edits, result) or comment
    _one_project(workflow, [*uploads, *in_place])
    remove_token_keys(get_root(workflow, "env"), workflow.root, workflow, edits, result)
    _plan_publish_jobs(workflow, uploads, edits, result, environment, project_name, uses, comment, afters)
    result.text = edits.apply()
    result.secrets = sorted(set(result.secrets))
    _check_result(workflow, result)
    verify(workflow, result)
    return result


def _package_root(folder: str) -> str:
    """The package a distributions folder belongs to: its parent (`packages/core/` for
    `packages/core/dist/`); a top-level folder (dist/, wheelhouse/) belongs to the top."""
    parts = folder.strip("/").split("/")
    return "/".join(parts[:-1]) + "/" if len(parts) > 1 else "./"


def _one_project(workflow: Workflow, uploads: list[Upload | tuple[int, str]]) -> None:
    """Projects are counted from what the PyPI uploads read, not from folders: one package's
    sdist and wheels from several jobs or folders (dist/, wheelhouse/) are one project; uploads
    of two packages' folders are two projects, each needing a trusted publisher of its own."""
    roots: dict[str, list[int]] = {}
    for upload in uploads:
        if isinstance(upload, Upload):
            if upload.target:
                continue
            line, folder = upload.line, upload.dist
        else:
            line, folder = upload
        roots.setdefault(_package_root(folder), []).append(line)
    if len(roots) > 1:
        found = "; ".join(
            f"{root} (line {', '.join(map(str, sorted(lines)))})" for root, lines in sorted(roots.items())
        )
        raise RetrofitRefusal(
            f"{workflow.where(min(min(lines) for lines in roots.values()))}: it uploads {len(roots)} packages to "
            f"PyPI ({found}); each is its own PyPI project and needs a trusted publisher of its own, which one "
            "retrofit cannot set up. Nothing was changed, so every release works as before; retrofit each "
            "project by hand (documentation: Existing project)."
        )


def _move_environment(workflow: Workflow, job: Job, edits: Edits, result: Plan) -> str:
    """The owner's environment gated the upload: it moves to the new publish job. Returns the
    comments written on its lines, which move with it."""
    found = get(job.node, "environment")
    if found is None:
        return ""
    key, node = found
    first, last = key.start_mark.line, max(key.start_mark.line + 1, span(node, edits.lines)[1])
    comments = [line.split("#", 1)[1].strip() for line in edits.lines[first:last] if " #" in line]
    edits.replace(first, last, [])
    result.changes.append(
        f"{workflow.where(first + 1)}: the environment moved from job {job.id} to the publish job"
    )
    return "; ".join(comments)


# --- the new publish jobs ---------------------------------------------------------------------


def _plan_publish_jobs(
    workflow: Workflow,
    uploads: list[Upload],
    edits: Edits,
    result: Plan,
    environment: str,
    project_name: str,
    uses: Callable[[str], str],
    comment: str = "",
    afters: list[After] | None = None,
) -> None:
    if not uploads:
        return
    jobs = workflow.jobs()
    taken = {j.id for j in jobs}
    last = jobs[-1]
    indent = line_indent(edits.lines[last.key.start_mark.line])
    at = span(last.node, edits.lines)[1]
    new: list[str] = []
    by_target: dict[str, list[Upload]] = {}
    for upload in uploads:
        by_target.setdefault(upload.target, []).append(upload)
    ids: dict[str, str] = {}
    gated = {
        target: any(new_jobs.gates(jobs, u.job) or new_jobs.tested(jobs, u.job) for u in group)
        for target, group in by_target.items()
    }
    called = called_tests.Called()
    if not all(gated.values()):
        called = called_tests.plan_calls(workflow, _tested_elsewhere(workflow), taken)
        ungated = {_job_condition(workflow, u) for t, g in by_target.items() if not gated[t] for u in g}
        condition = ungated.pop() if len(ungated) == 1 else ""
        for call in called.calls:
            new += called_tests.call_job_lines(indent, call, condition)
            result.added_jobs.append(call.job_id)
            result.others.append((call.path, call.text, call.newline))
            if call.text != Workflow(call.path).text:
                result.changes.append(
                    f".github/workflows/{call.path.name}: `workflow_call` added to its triggers (nothing else), "
                    f"so that {workflow.path.name} can run it before a release"
                )
            result.changes.append(
                f"{workflow.where(at + 1)}: added job {call.job_id}: it runs {call.path.name}'s tests, and the "
                "upload waits for them"
            )
        result.notes += called.reasons
    for target in sorted(by_target, key=lambda t: t != TESTPYPI_UPLOAD_URL):  # TestPyPI first
        group = by_target[target]
        base = "publish-to-testpypi" if target else "publish-to-pypi"
        job_id = base if base not in taken else f"{base}-trusted"
        ids[target] = job_id
        builders = list(dict.fromkeys(u.job.id for u in group))
        gates = list(dict.fromkeys(g for u in group for g in new_jobs.gates(jobs, u.job)))
        if not gated[target]:
            gates += [call.job_id for call in called.calls]
        needs = [*builders, *gates]
        # A TestPyPI upload that ran before the PyPI one in the same job, and could fail it, still does.
        if not target and TESTPYPI_UPLOAD_URL in by_target:
            test_uploads = by_target[TESTPYPI_UPLOAD_URL]
            if any(
                t.job is u.job and t.line < u.line and t.stops_later_uploads
                for t in test_uploads
                for u in group
            ):
                needs.append(ids[TESTPYPI_UPLOAD_URL])
        conditions = list(dict.fromkeys(_job_condition(workflow, u) for u in group))
        condition = conditions[0] if len(conditions) == 1 else " || ".join(f"({c})" for c in conditions if c)
        # A condition lifted from a job reads `needs.X` of that job's needs: the publish job needs X too.
        needs += [n for n in needs_read(condition) if n not in needs]
        inputs = {k: v for u in group for k, v in u.inputs.items()}
        env_name = environment if not target else "testpypi"
        site = "https://test.pypi.org" if target else "https://pypi.org"
        new += new_jobs.publish_job_lines(
            indent,
            job_id,
            needs,
            condition,
            f"{env_name}  # {comment}" if comment and not target else env_name,
            f"{site}/project/{project_name}/",
            target,
            inputs,
            [result.artifacts[b] for b in builders],
            uses,
        )
        result.added_jobs.append(job_id)
        result.changes.append(
            f"{workflow.where(at + 1)}: added job {job_id}: it alone may request an OIDC token, in environment "
            f"{env_name}, and uploads what {', '.join(builders)} built"
        )
        if not gates and not gated[target]:
            result.notes.append(
                f"No tests gate {job_id}: no job of {workflow.path.name} runs tests"
                + (" and no other workflow could be called for them" if called.reasons else "")
                + ", so nothing stops a release whose tests fail. Add the test job to this workflow and list it "
                "under the publish job's needs."
            )
        if target:
            result.testpypi = True
    for after in afters or []:
        job_id = f"{after.job.id}-after-release"
        new += after_job_lines(indent, after, ids[after.target], uses)
        result.added_jobs.append(job_id)
        result.moved[job_id] = after.job.id
    edits.insert(at, new)


def _tested_elsewhere(workflow: Workflow) -> list[Workflow]:
    """The project's other workflows that run tests (a test job there does not gate this one)."""
    root = workflow.path.parents[2]
    found = []
    try:
        files = workflow_files(root)
    except RetrofitRefusal:
        return []
    # A workflow that a job here already calls gates this one through that job: not called twice.
    called = {
        scalar(job.get("uses")).split("@")[0].removeprefix("./.github/workflows/") for job in workflow.jobs()
    }
    for path in files:
        if path.name == workflow.path.name or path.name in called:
            continue
        try:
            other = Workflow(path)
            if any(job.runs_tests() for job in other.jobs()):
                found.append(other)
        except (RetrofitRefusal, OSError):
            continue
    return found


# What the template's own publish.yml (retrofit=add) looks like to the call planner: it runs
# for releases, under a workflow-level concurrency group.
_ADDED_PUBLISH_YML = "on:\n  release:\nconcurrency:\n  group: publish\njobs: {}\n"


def tests_calls(root: Path) -> called_tests.Called:
    """retrofit=add: the project's workflows that run tests, which the added publish.yml calls
    before each release (each gains ``workflow_call``), and why any other is not called."""
    try:
        others = [w for w in read_workflows(root) if any(j.runs_tests() for j in w.jobs())]
    except (RetrofitRefusal, OSError):
        return called_tests.Called()
    release = Workflow(root / ".github" / "workflows" / "publish.yml", _ADDED_PUBLISH_YML)
    return called_tests.plan_calls(release, others, {"build", "publish", "publish-testpypi"})


def _job_condition(workflow: Workflow, upload: Upload) -> str:
    condition, reason = new_jobs.job_condition(
        expression(upload.job.get("if")), upload.condition, workflow.triggers()
    )
    if reason:
        raise RetrofitRefusal(f"{workflow.where(upload.line)}: {reason}")
    return condition


def _check_result(workflow: Workflow, result: Plan) -> None:
    """The new text must be valid YAML in which every upload is a Trusted Publishing job."""
    try:
        after = Workflow(workflow.path, result.text)
    except RetrofitRefusal:  # pragma: no cover - a bug here must never reach a user's file
        raise RetrofitRefusal(f"{workflow.where(1)}: the upgrade would not be valid YAML.") from None
    for job in after.publishing_jobs():
        if job.get("environment") is None or not has_id_token(job.get("permissions")):
            raise RetrofitRefusal(  # pragma: no cover - as above
                f"{workflow.where(job.key.start_mark.line + 1)}: an upload is left outside a Trusted "
                "Publishing job; retrofit this workflow by hand (see the README)."
            )
    if after.mentions_pypi_token():
        line = after.mentions_pypi_token()
        raise RetrofitRefusal(
            f"{workflow.where(line)}: a PyPI token still reaches this workflow after the upload moved; remove "
            "it (or tell us how it is used), commit, and run copier again."
        )


# --- before anything is written -------------------------------------------------------------


def _obstacle(root: Path, workflows: list[Workflow]) -> str:
    """What stops the retrofit before any plan is made ("" for nothing)."""
    for workflow in workflows:
        if reason := writable_error(workflow.path):
            return reason
    if len(workflows) > 1:
        uploads = ", ".join(workflow.where(workflow.first_upload_line()) for workflow in workflows)
        return (
            f"Two workflows publish to PyPI (uploads at {uploads}), and PyPI trusts one workflow file per "
            "publisher. If they publish one project, move its uploads into one of these workflows; if they "
            "publish different projects, each needs a trusted publisher of its own: retrofit them by hand "
            "(documentation: Existing project). Then commit, and run copier again."
        )
    for workflow in read_workflows(root):
        if reason := recognise.obstacle(workflow):
            return reason
        if not workflow.publishing_jobs() and (line := workflow.mentions_pypi_token()):
            return (
                f"{workflow.where(line)}: a PyPI token reaches a step this template cannot read "
                "(a custom script?). Replace that upload with `twine upload dist/*` or "
                f"{PUBLISH_ACTION}, commit, and run copier again; or retrofit by hand (see README)."
            )
    return ""


# Answers a plan is made with before they are known (at the retrofit question): what the owner
# must read (secrets, notes, TestPyPI) and whether it can be made do not depend on them.
_PLACEHOLDER_ENVIRONMENT, _PLACEHOLDER_PROJECT = "release", "x"


def _placeholder_uses(action: str) -> str:
    return f"{action}@v0"


# One plan per workflow text and one check per state of the workflow files, for the run: the
# question's default, its validator and the after-copy message share them.
_PLANNED: dict[tuple[str, str], Plan | RetrofitRefusal] = {}
_CHECKED: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}
# How many plans this loading of the module made (tests/test_plan_once.py counts them).
plans_made = 0


def planned(workflow: Workflow) -> Plan:
    """The plan of ``workflow`` with the placeholder answers, made once per text and reused."""
    key = (str(workflow.path), workflow.text)
    if key not in _PLANNED:
        try:
            _PLANNED[key] = plan(
                workflow,
                environment=_PLACEHOLDER_ENVIRONMENT,
                project_name=_PLACEHOLDER_PROJECT,
                uses=_placeholder_uses,
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
        workflows = publishing_workflows(root)
        reason = _obstacle(root, workflows)
        for workflow in workflows if not reason else ():
            try:
                planned(workflow)
            except RetrofitRefusal as refusal:
                reason = str(refusal)
                break
        _CHECKED[key] = reason
    return _CHECKED[key]


def upgrade(root: Path, *, environment: str, project_name: str, uses: Callable[[str], str]) -> Plan | None:
    """Plan the upgrade of the project's publishing workflow with the answers (None when there
    is none): every check of ``check``, and one plan."""
    workflows = publishing_workflows(root)
    if reason := _obstacle(root, workflows):
        raise RetrofitRefusal(reason)
    if not workflows:
        return None
    return plan(workflows[0], environment=environment, project_name=project_name, uses=uses)
