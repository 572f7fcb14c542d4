"""Steps a building job ran after its upload: part of the retrofit's plan step.

After the retrofit the upload runs in the publish job, after the building job; a step that
followed the upload there (a GitHub release, an announcement) would run before it. Such steps
move, as written, to a job of their own that needs the publish job; where that would change
when or where they run, the retrofit refuses. upgrade.py places the job; verify.py checks it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import yaml

from .owner_jobs import TOKEN_ENV, expression
from .plan import Edits, Plan, Upload
from .workflows import Job, RetrofitRefusal, Workflow, get, scalar, span


@dataclass
class After:
    """Steps of a building job that ran after its upload: they move to a job of their own that
    needs the publish job, so that they still run after it (a GitHub release, an announcement)."""

    job: Job
    target: str  # the index of the last upload: the publish job they wait for
    lines: list[str]  # the steps' own lines (and the comments just above them), as written
    runs_on: str
    permissions: list[str]  # the building job's `permissions:` lines, as written
    checkout: bool  # the building job checked out the repository
    artifact: str
    path: str


def plan_after_steps(
    workflow: Workflow, job: Job, uploads: list[Upload], edits: Edits, result: Plan
) -> After | None:
    """Move the steps after the job's last upload out of it; refuse where the move would change
    when or where they run."""
    last = max(uploads, key=lambda u: u.line)
    after = [s for s in job.steps if s.line > last.line]
    if not after:
        return None
    where = workflow.where(after[0].line)
    what = f"job {job.id} runs steps after its upload (from line {after[0].line})"
    for key in ("strategy", "container", "services", "defaults"):
        if job.get(key) is not None:
            raise RetrofitRefusal(
                f"{where}: {what}, and it has `{key}:`, which a job of their own would not repeat. Move those "
                "steps before the upload or into a job that needs this one, commit, and run copier again."
            )
    env = job.get("env")
    if isinstance(env, yaml.MappingNode) and any(scalar(k) not in TOKEN_ENV for k, _ in env.value):
        raise RetrofitRefusal(
            f"{where}: {what}, and the job sets `env:` for them, which a job of their own would not repeat. "
            "Move those steps before the upload, commit, and run copier again."
        )
    runs_on = job.get("runs-on")
    for step in after:
        text = "".join(edits.lines[slice(*span(step.node, edits.lines))])
        if re.search(r"\bsteps\s*\.", text):
            raise RetrofitRefusal(
                f"{workflow.where(step.line)}: {what}; this one reads an earlier step's outputs, which a job "
                "of its own would not have. Move it before the upload, commit, and run copier again."
            )
        condition = " ".join(expression(step.get("if")).split())
        if last.condition and condition != " ".join(last.condition.split()):
            raise RetrofitRefusal(
                f"{workflow.where(step.line)}: {what}; this one ran whether or not the upload did (the upload "
                f"ran only `if: {last.condition}`), which a job after the publish job cannot repeat. Give it "
                "the upload's condition or move it before the upload, commit, and run copier again."
            )
    if not isinstance(runs_on, yaml.ScalarNode):
        raise RetrofitRefusal(
            f"{where}: {what}, on a runner written over several lines; move them before the upload."
        )
    first = span(after[0].node, edits.lines)[0]
    while first > 0 and edits.lines[first - 1].strip().startswith("#"):
        first -= 1  # the comments just above the first moved step go with it
    end = span(after[-1].node, edits.lines)[1]
    lines = [line.rstrip("\n") for line in edits.lines[first:end]]
    edits.replace(first, end, [])
    permissions = get(job.node, "permissions")
    kept = (
        [
            line.rstrip("\n")
            for line in edits.lines[permissions[0].start_mark.line : span(permissions[1], edits.lines)[1]]
        ]
        if permissions
        else []
    )
    result.changes.append(
        f"{where}: the steps job {job.id} ran after its upload moved to job {job.id}-after-release, which runs "
        "after the publish job"
    )
    return After(
        job,
        last.target,
        lines,
        runs_on.value,
        kept,
        any(s.uses.startswith("actions/checkout@") for s in job.steps),
        result.artifacts[job.id],
        last.dist,
    )


def after_job_lines(indent: str, after: After, needs: str, uses: Callable[[str], str]) -> list[str]:
    body = indent + "  "
    # The moved steps keep their lines: the added ones take the same indentation.
    first = next(line for line in after.lines if line.lstrip().startswith("-"))
    step = first[: len(first) - len(first.lstrip())]
    lines = [
        "",
        f"{indent}{after.job.id}-after-release:",
        f"{body}name: After the release ({after.job.id})",
        f"{body}needs: [{needs}]",
        f"{body}runs-on: {after.runs_on}",
        *after.permissions,
        f"{body}steps:",
    ]
    if after.checkout:
        lines += [
            f"{step}- uses: {uses('actions/checkout')}",
            f"{step}  with:",
            f"{step}    persist-credentials: false",
        ]
    lines += [
        f"{step}- name: Download the distributions",
        f"{step}  uses: {uses('actions/download-artifact')}",
        f"{step}  with:",
        f"{step}    name: {after.artifact}",
        f"{step}    path: {after.path}",
    ]
    return lines + after.lines
