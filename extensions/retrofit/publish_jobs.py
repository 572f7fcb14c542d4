"""The publish jobs of the uploads the ladder isolated (planner.py's first rung): one job per
index (TestPyPI first) that alone holds the environment and `id-token: write` and uploads what
the owner's jobs built; calls of the project's tests that gate them where no job here does;
and, for every job that waited for an upload, that publish job added to its needs. The plan
step after the ladder, on the same ``Run``."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from . import called_tests, new_jobs
from .owner_jobs import expression
from .plan import Edits, Run, Upload
from .plan import indent as line_indent
from .uploads import dependents
from .verify import needs_read
from .workflows import TESTPYPI_UPLOAD_URL, Job, RetrofitRefusal, Workflow, get, scalar, span, workflow_files


@dataclass
class Isolated:
    """What the first rung gathered: the uploads that move to publish jobs, and the owner's
    environment that gated them (with the comments of its lines), which the PyPI job takes."""

    uploads: list[Upload]
    environment: str = ""
    comment: str = ""


def add(run: Run, isolated: Isolated) -> None:
    """The new publish jobs of the isolated uploads (TestPyPI first), the calls of tests that
    gate them, and the publish jobs added to the needs of every job that waited for an upload."""
    if not isolated.uploads:
        return
    workflow, edits, result = run.workflow, run.edits, run.result
    jobs = workflow.jobs()
    taken = {j.id for j in jobs}
    last = jobs[-1]
    indent = line_indent(edits.lines[last.key.start_mark.line])
    at = span(last.node, edits.lines)[1]
    new: list[str] = []
    by_target: dict[str, list[Upload]] = {}
    for upload in isolated.uploads:
        by_target.setdefault(upload.target, []).append(upload)
    ids: dict[str, str] = {}
    gated = {
        target: any(new_jobs.gates(jobs, u.job) or new_jobs.tested(jobs, u.job) for u in group)
        for target, group in by_target.items()
    }
    called = called_tests.Called()
    if not all(gated.values()):
        called = called_tests.plan_calls(workflow, _tested_elsewhere(workflow), taken)
        ungated = {_condition(run, u) for t, g in by_target.items() if not gated[t] for u in g}
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
        if (
            not target
            and TESTPYPI_UPLOAD_URL in by_target
            and any(
                t.job is u.job
                and t.line < u.line
                and t.stops_later_uploads
                # ...and ran whenever the PyPI one did (a TestPyPI upload for tag pushes and a
                # PyPI one for releases: waiting for the skipped job would skip every release).
                and " ".join(t.condition.split()) in ("", " ".join(u.condition.split()))
                for t in by_target[TESTPYPI_UPLOAD_URL]
                for u in group
            )
        ):
            needs.append(ids[TESTPYPI_UPLOAD_URL])
        conditions = list(dict.fromkeys(_condition(run, u) for u in group))
        condition = conditions[0] if len(conditions) == 1 else " || ".join(f"({c})" for c in conditions if c)
        # A condition lifted from a job reads `needs.X` of that job's needs: the publish job needs X too.
        needs += [n for n in needs_read(condition) if n not in needs]
        inputs = {k: v for u in group for k, v in u.inputs.items()}
        env_name = (isolated.environment or run.environment) if not target else "testpypi"
        site = "https://test.pypi.org" if target else "https://pypi.org"
        new += new_jobs.publish_job_lines(
            indent,
            new_jobs.PublishJob(
                job_id,
                needs,
                condition,
                f"{env_name}  # {isolated.comment}" if isolated.comment and not target else env_name,
                f"{site}/project/{run.project}/",
                target,
                inputs,
                [result.artifacts[b] for b in builders],
            ),
            run.uses,
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
    edits.insert(at, new)
    _wait_for_publish_jobs(run, isolated.uploads, ids)


def _wait_for_publish_jobs(run: Run, uploads: list[Upload], ids: dict[str, str]) -> None:
    """Every job that needed a job whose upload moved ran after that upload: it now also
    needs the publish job(s) of that upload."""
    for builder in dict.fromkeys(u.job.id for u in uploads):
        added = [ids[t] for t in dict.fromkeys(u.target for u in uploads if u.job.id == builder)]
        for waiting in dependents(run.workflow, next(j for j in run.workflow.jobs() if j.id == builder)):
            known = run.result.waits.setdefault(waiting.id, [])
            more = [a for a in added if a not in known and a not in waiting.needs()]
            if more:
                add_needs(waiting, more, run.edits)
                known += more
                run.result.changes.append(
                    f"{run.workflow.where(waiting.key.start_mark.line + 1)}: job {waiting.id} now also waits for "
                    f"{', '.join(more)}, as it waited for the upload in {builder}"
                )


def _condition(run: Run, upload: Upload) -> str:
    condition, reason = new_jobs.job_condition(
        expression(upload.job.get("if")), upload.condition, run.workflow.triggers()
    )
    if reason:  # pragma: no cover - isolate() moved such a job in place
        raise RetrofitRefusal(f"{run.workflow.where(upload.line)}: {reason}")
    return condition


def add_needs(job: Job, more: list[str], edits: Edits) -> None:
    key, node = get(job.node, "needs") or (None, None)
    assert key is not None and node is not None
    lines = edits.lines
    if isinstance(node, yaml.ScalarNode):
        line = lines[node.start_mark.line]
        start, end = node.start_mark.column, node.end_mark.column
        edits.replace(
            node.start_mark.line,
            node.start_mark.line + 1,
            [f"{line[:start]}[{', '.join([node.value, *more])}]{line[end:]}".rstrip("\n")],
        )
    elif getattr(node, "flow_style", False):
        line_no = node.end_mark.line
        line = lines[line_no]
        close = node.end_mark.column - 1
        edits.replace(
            line_no, line_no + 1, [f"{line[:close].rstrip()}, {', '.join(more)}{line[close:]}".rstrip("\n")]
        )
    else:
        assert isinstance(node, yaml.SequenceNode)
        lastitem = node.value[-1]
        dash = lines[lastitem.start_mark.line]
        pad = dash[: len(dash) - len(dash.lstrip())]
        edits.insert(lastitem.end_mark.line + 1, [f"{pad}- {name}" for name in more])


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
