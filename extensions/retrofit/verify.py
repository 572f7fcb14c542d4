"""Check a retrofit's plan against the workflow it came from, before anything is written.

The plan step (planner.py) edits lines; this step reads the result as GitHub would and
compares it with the original, so that an edit the planner got wrong is refused instead of
written. Whatever the planner did, these must hold:

1. every job of the original is still there; a job with no upload is unchanged (but for the
   publish jobs a job that waited for an upload now also needs); every other key of the
   workflow is unchanged (its `env` may lose login variables, its `permissions` `id-token`);
2. a job that uploaded was either isolated (its uploads became one artifact of exactly the
   files they named) or converted in place (environment and `id-token: write` added, every
   permission kept, its login gone, its upload trusted, every other step as it was);
3. each job the plan added is a minimal publish job (it downloads and uploads with the
   publish action and nothing else, and holds the environment and `id-token: write` alone) or
   a call of the project's tests workflow;
4. a publish job waits for tests (a job that runs them, or a call of a tests workflow), or
   the plan tells the owner that nothing gates it;
5. an `if:` of a job the plan wrote or edited reads `needs.X` only of a job it needs;
6. the distributions a publish job downloads are the artifacts of the jobs it needs, by exact
   name or by a pattern that no other artifact of the workflow can match;
7. every job waits for the same uploads as before: the uploads that finished before it
   starts, over the `needs` graph, are the same;
8. no PyPI login the uploads used is read anywhere; `id-token: write` is held only by the jobs
   that publish (and, unchanged, by a job its owner gave it), never by the whole workflow;
9. a tests workflow the plan edits differs only by `workflow_call` among its triggers.

Standard library and PyYAML only: it runs inside copier.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .plan import Plan
from .verify_jobs import (
    Failed,
    check_builder,
    check_downloads,
    check_in_place,
    check_publish_job,
    id_token,
    is_upload,
    login_vars_only,
    mapping,
    needs_of,
    secrets_left,
    steps_of,
    target_of,
    without,
)
from .workflows import RetrofitRefusal, Workflow

# A workflow whose aliases expand to more values than this is refused, not expanded.
MAX_VALUES = 200_000
_NEEDS = re.compile(r"\bneeds\s*(?:\.\s*([A-Za-z_][\w-]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])")


class _TooBig(Exception):
    pass


def data(node: yaml.Node | None, budget: list[int] | None = None) -> Any:
    """The plain value of a composed YAML node, every scalar as its text (so that `on` stays
    a key and `3.10` stays 3.10), aliases expanded up to MAX_VALUES values."""
    budget = budget if budget is not None else [MAX_VALUES]
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooBig
    if isinstance(node, yaml.MappingNode):
        return {str(data(k, budget)): data(v, budget) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [data(n, budget) for n in node.value]
    return node.value if isinstance(node, yaml.ScalarNode) else None


class _Check:
    """One verification: the workflow it is about, for the refusal's file and line."""

    def __init__(self, workflow: Workflow, lines: dict[str, int]) -> None:
        self.workflow, self.lines = workflow, lines

    def fail(self, what: str, job: str = "") -> RetrofitRefusal:
        return RetrofitRefusal(
            f"{self.workflow.where(self.lines.get(job, 1))}: the retrofit would write an edit that fails "
            f"its own check ({what}), so it wrote nothing. Retrofit this workflow by hand (documentation: "
            "Existing project) and please report it to the template's maintainers."
        )


def _read(workflow: Workflow, text: str) -> tuple[Workflow, Any, Any]:
    try:
        after = Workflow(workflow.path, text)
    except RetrofitRefusal:
        raise _Check(workflow, {}).fail("the new text is not valid YAML") from None
    try:
        old, new = data(workflow.root), data(after.root)
    except _TooBig:
        raise RetrofitRefusal(
            f"{workflow.where(1)}: its YAML aliases expand to more than {MAX_VALUES} values, more than "
            "this template reads; retrofit it by hand (documentation: Existing project)."
        ) from None
    if not isinstance(old, dict) or not isinstance(new, dict):
        raise _Check(workflow, {}).fail("the workflow is not a mapping")
    return after, old, new


def verify(before: Workflow, plan: Plan) -> None:
    """Raise RetrofitRefusal (so that nothing is written) unless ``plan`` keeps every invariant
    of this module against ``before``."""
    after, old, new = _read(before, plan.text)
    check = _Check(before, {job.id: job.key.start_mark.line + 1 for job in after.jobs()})
    try:
        _verify(check, after, old, new, plan)
    except Failed as failed:
        what, job = failed.args
        raise check.fail(what, job) from None


def _verify(check: _Check, after: Workflow, old: Any, new: Any, plan: Plan) -> None:
    _check_workflow_keys(old, new, plan.credentials)
    old_jobs, new_jobs = mapping(old.get("jobs")), mapping(new.get("jobs"))
    if gone := [j for j in old_jobs if j not in new_jobs]:
        raise Failed(f"job {gone[0]} is gone", "")
    added = [j for j in new_jobs if j not in old_jobs]
    if sorted(added) != sorted(plan.added_jobs):
        raise Failed(f"it adds the jobs {sorted(added)}, not the planned {sorted(plan.added_jobs)}", "")
    publishers = [j for j in added if steps_of(new_jobs[j])] + _check_owner_jobs(
        old, old_jobs, new_jobs, plan
    )
    uploaders = [j for j, job in old_jobs.items() if any(is_upload(s) for s in steps_of(job))]
    for job_id in added:
        job = new_jobs[job_id]
        if job_id in publishers:
            check_publish_job(job_id, job)
        elif not str(job.get("uses", "")).startswith("./.github/workflows/") or id_token(
            job.get("permissions")
        ):
            raise Failed(
                f"added job {job_id} is neither a publish job nor a call of a tests workflow", job_id
            )
    for job_id in [*added, *uploaders, *plan.waits]:
        _check_needs_read(job_id, new_jobs)
    for job_id in publishers:
        _check_gate(job_id, new_jobs, after, plan)
        if job_id in added:
            check_downloads(job_id, new_jobs, plan)
    _check_tokens(old_jobs, new_jobs, publishers)
    _check_order(old_jobs, new_jobs, plan, publishers, old)
    if left := secrets_left(plan.text, plan.credentials):
        raise Failed(f"the secret {left[0]} that the upload used is still read", "")
    for path, text, _ in plan.others:
        check_called_tests(path, text)


def _check_workflow_keys(old: Any, new: Any, known: set[str]) -> None:
    """Every key of the workflow but its jobs is as it was: its `env` may lose login variables,
    its `permissions` `id-token`, which no longer reaches every job."""
    for key in old.keys() | new.keys():
        if key == "jobs" or old.get(key) == new.get(key):
            continue
        if key == "env" and login_vars_only(old, new, known):
            continue
        if key == "permissions" and _lost_id_token_only(old.get(key), new.get(key)):
            continue
        raise Failed(f"the workflow's `{key}` changed", "")
    if id_token(new.get("permissions")):
        raise Failed("every job of the workflow may still request an upload token", "")


def _check_owner_jobs(old: Any, old_jobs: dict[str, Any], new_jobs: dict[str, Any], plan: Plan) -> list[str]:
    """Each job of the owner's: unchanged (but for the publish jobs it now waits for), isolated,
    or converted in place. Returns the jobs converted in place, which publish."""
    converted = []
    for job_id, job in old_jobs.items():
        after = mapping(new_jobs[job_id])
        if not any(is_upload(s) for s in steps_of(job)):
            gained = set(needs_of(after)) - set(needs_of(job))
            if without(after, {"needs"}) != without(job, {"needs"}) or gained - set(
                plan.waits.get(job_id, [])
            ):
                raise Failed(f"job {job_id}, which uploads nothing, changed", job_id)
        elif job_id in plan.artifacts:
            check_builder(job_id, job, after, plan.artifacts[job_id], plan.credentials)
        elif job_id in plan.in_place:
            check_in_place(job_id, job, after, old.get("permissions"), plan)
            converted.append(job_id)
        else:
            raise Failed(f"job {job_id} uploads, and was neither isolated nor converted", job_id)
    return converted


def _check_tokens(old_jobs: dict[str, Any], new_jobs: dict[str, Any], publishers: list[str]) -> None:
    """Only a job that publishes may request an upload token (or one its owner gave it, unchanged)."""
    for job_id, job in new_jobs.items():
        if (
            id_token(mapping(job).get("permissions"))
            and job_id not in publishers
            and mapping(old_jobs.get(job_id)).get("permissions") != mapping(job).get("permissions")
        ):
            raise Failed(f"job {job_id} may request an upload token, and does not publish", job_id)


def _lost_id_token_only(before: Any, after: Any) -> bool:
    """The workflow's permissions lost `id-token: write` and nothing else (`{}` where that was all)."""
    if not isinstance(before, dict) or before.get("id-token") != "write":
        return False
    kept = without(before, {"id-token"})
    return after == kept or (not kept and after in ({}, "{}"))


# --- order: every job waits for the uploads it waited for ------------------------------------------


def _closure(job_id: str, jobs: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    todo = needs_of(jobs[job_id])
    while todo:
        if (name := todo.pop()) not in seen and name in jobs:
            seen.add(name)
            todo += needs_of(jobs[name])
    return seen


def _check_order(
    old_jobs: dict[str, Any],
    new_jobs: dict[str, Any],
    plan: Plan,
    publishers: list[str],
    envs: dict[str, Any],
) -> None:
    """For every job of the owner's, the uploads that finished before it starts (each named by
    the job that made it and its index) are the same before and after the plan."""

    root_env = envs.get("env")

    def made(jobs: dict[str, Any], job_id: str, new: bool) -> set[str]:
        job = jobs[job_id]
        if new and job_id in publishers and job_id not in old_jobs:
            target = "testpypi" if "test.pypi.org" in str(job) else "pypi"
            return {f"{b}:{target}" for b in needs_of(job) if b in plan.artifacts}
        if new and job_id in plan.artifacts:
            return set()  # its uploads are the publish jobs' now
        return {
            f"{job_id}:{target_of(s, root_env, mapping(job).get('env'))}"
            for s in steps_of(job)
            if is_upload(s)
        }

    for job_id in old_jobs:
        before = {u for j in _closure(job_id, old_jobs) for u in made(old_jobs, j, False)}
        after = {u for j in _closure(job_id, new_jobs) for u in made(new_jobs, j, True)}
        if before != after:
            raise Failed(
                f"job {job_id} no longer waits for the same uploads ({', '.join(sorted(before ^ after))})",
                job_id,
            )


# --- conditions and gates ------------------------------------------------------------------------------


def needs_read(condition: str) -> list[str]:
    """The jobs whose outputs or result ``condition`` reads (`needs.X`, `needs['X']`)."""
    return list(dict.fromkeys(m.group(1) or m.group(2) for m in _NEEDS.finditer(condition)))


def _check_needs_read(job_id: str, jobs: dict[str, Any]) -> None:
    job, needs = mapping(jobs[job_id]), needs_of(jobs[job_id])
    if missing := [n for n in needs if n not in jobs]:
        raise Failed(f"job {job_id} needs {missing[0]}, which does not exist", job_id)
    for condition in [job.get("if"), *(s.get("if") for s in steps_of(job))]:
        for name in needs_read(str(condition or "")):
            if name not in needs:
                raise Failed(f"job {job_id} reads needs.{name} but does not need {name}", job_id)


def _check_gate(job_id: str, jobs: dict[str, Any], after: Workflow, plan: Plan) -> None:
    testers = {job.id for job in after.jobs() if job.runs_tests()}
    calls = {
        j for j, job in jobs.items() if str(mapping(job).get("uses", "")).startswith("./.github/workflows/")
    }
    if job_id in testers:
        return
    if not _closure(job_id, jobs) & (testers | calls) and not any(
        f"No tests gate {job_id}" in note for note in plan.notes
    ):
        raise Failed(f"nothing gates {job_id} and the message would not say so", job_id)


# --- the tests workflow a release calls ---------------------------------------------------------


def _triggers(on: Any) -> dict[str, Any]:
    """The events of `on:`, each with its settings (None for none: `push`, `[push]` and `push:`
    are one trigger)."""
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {str(t): None for t in on}
    return {event: value if value not in ("", None) else None for event, value in mapping(on).items()}


def check_called_tests(path: Path, text: str) -> None:
    """A tests workflow a release calls differs only by `workflow_call` among its triggers."""
    before = Workflow(path)
    _, old, new = _read(before, text)
    check = _Check(before, {})
    old_on, new_on = _triggers(old.get("on")), _triggers(new.get("on"))
    if without(old, {"on"}) != without(new, {"on"}):
        raise check.fail("the tests workflow changed beyond its triggers")
    if (
        without(new_on, {"workflow_call"}) != without(old_on, {"workflow_call"})
        or "workflow_call" not in new_on
    ):
        raise check.fail("the tests workflow's triggers changed beyond `workflow_call`")
