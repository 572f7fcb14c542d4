"""The jobs a retrofit writes: the minimal Trusted Publishing job, when it runs and what it
waits for.

Pure functions over text and the jobs that workflows.py reads; upgrade.py places what
they return.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .workflows import PUBLISH_ACTION, Job

# `name.` at the start of a context reference: github.ref, matrix.os, steps.x.outputs...
_CONTEXT = re.compile(r"\b([a-z_]+)\.[A-Za-z_*]")
# What a separate job can read; anything else (matrix, steps, env, runner...) belongs to the
# job that built.
_JOB_LEVEL = {"github", "inputs", "vars", "needs"}
# Triggers of a workflow that runs only to release.
RELEASE_ONLY = {"release", "workflow_dispatch", "push-tags"}


def conjuncts(condition: str) -> list[str]:
    """The parts of ``a && b && c`` at the top level (not inside parentheses or quotes)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(condition):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and condition.startswith("&&", i):
            parts.append(condition[start:i].strip())
            start = i + 2
    parts.append(condition[start:].strip())
    return [p for p in parts if p]


def job_condition(job_if: str, upload_if: str, triggers: set[str]) -> tuple[str, str]:
    """(the publish job's `if:`, why there can be none): the owner job's own condition and the
    parts of the upload's that a separate job can evaluate (the event, inputs, vars). The parts
    that read what only the building job knows (a matrix leg, a step's output) stay on its
    artifact step, so only that leg's files reach the publish job. There can be none where no
    part about the event is left and the workflow runs for more than releases."""
    parts = [job_if] if job_if else []
    parts += [part for part in conjuncts(upload_if) if not set(_CONTEXT.findall(part)) - _JOB_LEVEL]
    if upload_if and not parts and triggers - RELEASE_ONLY:
        return "", (
            f"the upload runs only `if: {upload_if}`, which reads what only the job that builds knows, and "
            "the workflow also runs for more than releases: a separate publish job could not tell when to "
            "run. Add the event to the condition (for example startsWith(github.ref, 'refs/tags/')), commit, "
            "and run copier again."
        )
    if len(parts) > 1:
        return " && ".join(f"({p})" if "||" in p else p for p in parts), ""
    return (parts[0] if parts else ""), ""


def _upstream(jobs: dict[str, Job], job: Job) -> Iterator[Job]:
    seen, todo = set(), list(job.needs())
    while todo:
        name = todo.pop()
        if name in seen or name not in jobs:
            continue
        seen.add(name)
        yield jobs[name]
        todo += jobs[name].needs()


def tested(all_jobs: Iterable[Job], job: Job) -> bool:
    """Whether ``job`` runs tests or waits for a job that does."""
    jobs = {j.id: j for j in all_jobs}
    return job.runs_tests() or any(u.runs_tests() for u in _upstream(jobs, job))


def gates(all_jobs: Iterable[Job], job: Job) -> list[str]:
    """The jobs a publish job needs besides ``job`` (the one that built): the workflow's
    tests, where it runs them and ``job`` does not already wait for them."""
    jobs = {j.id: j for j in all_jobs}
    if tested(jobs.values(), job):
        return []
    testers = [j for j in jobs.values() if j.runs_tests() and j is not job and job not in _upstream(jobs, j)]
    return [testers[0].id] if testers else []


@dataclass
class PublishJob:
    """A publish job the plan adds: what it waits for, when it runs, where it uploads, what."""

    job_id: str
    needs: list[str]
    condition: str
    environment: str  # its line's value (a comment may follow the name)
    url: str  # the project's page on the index
    target: str  # "" for PyPI, else TestPyPI's upload URL
    inputs: dict[str, str]  # the publish action's inputs the original upload gave
    # The artifact name of each job that built (one with `${{ strategy.job-index }}` is one per
    # matrix leg, downloaded by its prefix).
    artifacts: list[str]


def publish_job_lines(indent: str, job: PublishJob, uses: Callable[[str], str]) -> list[str]:
    """The publish job's lines."""
    job_id, needs, condition, environment = job.job_id, job.needs, job.condition, job.environment
    url, target, inputs, artifacts = job.url, job.target, job.inputs, job.artifacts
    body, step = indent + "  ", indent + "    "
    lines = [
        "",
        f"{indent}{job_id}:",
        f"{body}name: Publish to {'TestPyPI' if target else 'PyPI'} (Trusted Publishing)",
        f"{body}needs: [{', '.join(needs)}]",
    ]
    if condition:
        lines.append(f"{body}if: {condition}")
    lines += [
        f"{body}runs-on: ubuntu-latest",
        f"{body}timeout-minutes: 10",
        f"{body}environment:",
        f"{body}  name: {environment}",
        f"{body}  url: {url}",
        f"{body}permissions:",
        f"{body}  id-token: write  # Trusted Publishing: only this job may request an upload token",
        f"{body}steps:",
    ]
    for name in artifacts:
        legs = "${{" in name
        lines += [
            f"{step}- name: Download the distributions",
            f"{step}  uses: {uses('actions/download-artifact')}",
            f"{step}  with:",
            f"{step}    {'pattern' if legs else 'name'}: {name.split('${{')[0] + '*' if legs else name}",
            f"{step}    path: dist/",
            *([f"{step}    merge-multiple: true"] if legs else []),
        ]
    lines += [
        f"{step}- name: Publish to {'TestPyPI' if target else 'PyPI'}",
        f"{step}  uses: {uses(PUBLISH_ACTION)}",
    ]
    with_lines = [f"{step}    repository-url: {target}"] if target else []
    with_lines += [f"{step}    {k}: {v}" for k, v in inputs.items()]
    if with_lines:
        lines += [f"{step}  with:", *with_lines]
    return lines
