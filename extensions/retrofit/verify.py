"""Check a retrofit's plan against the workflow it came from, before anything is written.

The plan step (upgrade.py) edits lines; this step reads the result as GitHub would and
compares it with the original, so that an edit the planner got wrong is refused instead of
written. Whatever the planner did, these must hold:

1. every job of the original is still there; a job with no upload is unchanged, and a job
   that uploaded changed only where its upload, its token variables or its environment were;
   every other key of the workflow is unchanged (its `env` may lose token variables only);
2. each job the plan added is a minimal publish job (it downloads and uploads with the
   publish action and nothing else, and holds the environment and `id-token: write` alone) or
   a call of the project's tests workflow; neither a job that builds nor a call may request a
   token (a job the retrofit did not touch keeps what its owner gave it);
3. a publish job waits for tests (a job that runs them, or a call of a tests workflow), or
   the plan tells the owner that nothing gates it;
4. an `if:` of a job the plan wrote or edited reads `needs.X` only of a job it needs;
5. the distributions a publish job downloads are the artifacts of the jobs it needs, by exact
   name or by a pattern that no other artifact of the workflow can match; each kept artifact
   is made once, after every step up to the last upload, and only where an upload ran;
6. no secret the upload used is left;
7. a tests workflow the plan edits differs only by `workflow_call` among its triggers.

Standard library and PyYAML only: it runs inside copier.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .owner_jobs import TOKEN_CONFIG, TOKEN_ENV, builds_too, split_upload
from .plan import Plan
from .workflows import PUBLISH_ACTION, SECRET, UPLOAD_ANYWHERE, RetrofitRefusal, Workflow

# A workflow whose aliases expand to more values than this is refused, not expanded.
MAX_VALUES = 200_000
ARTIFACT_UPLOAD = "actions/upload-artifact@"
ARTIFACT_DOWNLOAD = "actions/download-artifact@"
_PUBLISH = PUBLISH_ACTION + "@"
_NEEDS = re.compile(r"\bneeds\s*(?:\.\s*([A-Za-z_][\w-]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])")
_EXPRESSION = re.compile(r"^\$\{\{\s*(.*?)\s*\}\}$", re.DOTALL)
# Keys of a job that uploaded which the plan may change: its steps, token variables, the
# environment that moves to the publish job, and permissions where it is granted in place.
_EDITED_KEYS = {"steps", "env", "environment", "permissions"}


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
    for key in old.keys() | new.keys():
        if (
            key != "jobs"
            and old.get(key) != new.get(key)
            and not (key == "env" and _token_vars_only(old, new))
        ):
            raise check.fail(f"the workflow's `{key}` changed")
    old_jobs, new_jobs = _mapping(old.get("jobs")), _mapping(new.get("jobs"))
    if gone := [j for j in old_jobs if j not in new_jobs]:
        raise check.fail(f"job {gone[0]} is gone")
    added = [j for j in new_jobs if j not in old_jobs]
    if sorted(added) != sorted(plan.added_jobs):
        raise check.fail(f"it adds the jobs {sorted(added)}, not the planned {sorted(plan.added_jobs)}")
    uploaders = [j for j, job in old_jobs.items() if any(_is_upload(s) for s in _steps(job))]
    publishers = [j for j in added if _steps(new_jobs[j]) and j not in plan.moved]
    # The steps a building job ran after its upload, now in a job of their own (none elsewhere).
    moved_steps = {plan.moved[j]: _moved_steps(check, j, new_jobs, plan) for j in plan.moved if j in new_jobs}
    for job_id, job in old_jobs.items():
        if job_id not in uploaders:
            if new_jobs[job_id] != job:
                raise check.fail(f"job {job_id}, which uploads nothing, changed", job_id)
        elif job_id in plan.artifacts:
            _check_builder(
                check,
                job_id,
                job,
                _mapping(new_jobs[job_id]),
                plan.artifacts[job_id],
                moved_steps.get(job_id, []),
            )
        else:
            _check_in_place(check, job_id, job, _mapping(new_jobs[job_id]))
            publishers.append(job_id)
    for job_id in added:
        job = new_jobs[job_id]
        if job_id in publishers:
            _check_publish_job(check, job_id, job)
        elif job_id in plan.moved:
            if not set(_needs(job)) & set(publishers) or _id_token(job.get("permissions")):
                raise check.fail(
                    f"job {job_id} does not wait for a publish job, or may request a token", job_id
                )
        elif not str(job.get("uses", "")).startswith("./.github/workflows/") or _id_token(
            job.get("permissions")
        ):
            raise check.fail(
                f"added job {job_id} is neither a publish job nor a call of a tests workflow", job_id
            )
    for job_id in [*added, *uploaders]:
        _check_needs_read(check, job_id, new_jobs)
    for job_id in publishers:
        _check_gate(check, job_id, new_jobs, after, plan)
        if job_id in added:
            _check_downloads(check, job_id, new_jobs, plan)
    code = "\n".join(line.split("#", 1)[0] for line in plan.text.splitlines())
    if left := sorted(set(plan.secrets) & set(SECRET.findall(code))):
        raise check.fail(f"the secret {left[0]} that the upload used is still read")
    for path, text, _ in plan.others:
        _check_called_tests(path, text)


# --- values -------------------------------------------------------------------------------------


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _steps(job: Any) -> list[dict[str, Any]]:
    steps = _mapping(job).get("steps")
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def _uses(step: dict[str, Any]) -> str:
    return str(step.get("uses") or "")


def _is_upload(step: dict[str, Any]) -> bool:
    return _uses(step).startswith(_PUBLISH) or bool(UPLOAD_ANYWHERE.search(str(step.get("run") or "")))


def _needs(job: Any) -> list[str]:
    needs = _mapping(job).get("needs")
    return [needs] if isinstance(needs, str) else [str(n) for n in needs] if isinstance(needs, list) else []


def _id_token(permissions: Any) -> bool:
    return permissions == "write-all" or _mapping(permissions).get("id-token") == "write"


def _without(value: Any, keys: set[str]) -> Any:
    return {k: v for k, v in value.items() if k not in keys} if isinstance(value, dict) else value


def _token_vars_only(before: Any, after: Any) -> bool:
    """``after``'s `env` is ``before``'s less token variables (or gone with the last of them)."""
    old, new = _mapping(before).get("env"), _mapping(after).get("env")
    if old == new:
        return True
    kept = _without(old, TOKEN_ENV)
    return isinstance(old, dict) and (new == kept or (new is None and not kept))


def _condition(value: Any) -> str:
    text = str(value or "").strip()
    match = _EXPRESSION.match(text)
    return " ".join((match.group(1) if match else text).split())


def _any_of(conditions: list[str]) -> str:
    unique = list(dict.fromkeys(conditions))
    return unique[0] if len(unique) == 1 else " || ".join(f"({c})" for c in unique)


def _artifact_name(step: dict[str, Any]) -> str:
    return str(_mapping(step.get("with")).get("name") or "")


# --- the owner's jobs ---------------------------------------------------------------------------


def _run_lines(step: dict[str, Any]) -> list[str]:
    return [line.strip() for line in str(step.get("run") or "").splitlines() if line.strip()]


def _run_step_kept(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """``after`` is the run step ``before`` less its upload commands (a build chained before one
    is kept), token configuration lines and token variables."""
    if _without(before, {"run", "env"}) != _without(after, {"run", "env"}) or not _token_vars_only(
        before, after
    ):
        return False
    old, new = _run_lines(before), _run_lines(after)
    removed = [line for line in old if line not in new]
    uploads = [line for line in removed if UPLOAD_ANYWHERE.search(line)]
    if any(line not in uploads and not TOKEN_CONFIG.match(line) for line in removed):
        return False
    # A line that held an upload keeps what ran before it, and the build its command also did
    # (`poetry publish --build` -> `poetry build`).
    kept = set()
    for upload in uploads:
        before_upload, command = split_upload(upload)
        kept.add(" && ".join(c for c in (before_upload, builds_too(command or "")) if c))
    return all(line in kept for line in new if line not in old)


def _configures_token_only(step: dict[str, Any]) -> bool:
    lines = [line for line in _run_lines(step) if not line.startswith("#")]
    return bool(lines) and all(TOKEN_CONFIG.match(line) for line in lines)


def _moved_steps(check: _Check, job_id: str, jobs: dict[str, Any], plan: Plan) -> list[dict[str, Any]]:
    """The owner's steps in an added job that holds what ran after an upload: after a checkout
    (without the token) and the download of the building job's artifact, and nothing else."""
    steps = _steps(jobs[job_id])
    if steps and _uses(steps[0]).startswith("actions/checkout@"):
        if _mapping(steps[0].get("with")) != {"persist-credentials": "false"}:
            raise check.fail(f"job {job_id} checks out the repository with its token", job_id)
        steps = steps[1:]
    artifact = plan.artifacts.get(plan.moved[job_id], "")
    if not steps or not _uses(steps[0]).startswith(ARTIFACT_DOWNLOAD) or _artifact_name(steps[0]) != artifact:
        raise check.fail(
            f"job {job_id} does not start from the distributions of {plan.moved[job_id]}", job_id
        )
    return steps[1:]


def _check_builder(
    check: _Check,
    job_id: str,
    before: dict[str, Any],
    after: dict[str, Any],
    name: str,
    moved: list[dict[str, Any]],
) -> None:
    """A job that built and uploaded: its uploads became one artifact of what it built, and the
    steps after its last upload (``moved``, as they now are in a job of their own) went there."""
    if _without(before, _EDITED_KEYS) != _without(after, _EDITED_KEYS) or not _token_vars_only(before, after):
        raise check.fail(f"job {job_id} changed beyond its upload", job_id)
    # Its environment moves to the publish job, or stays as it was.
    environment_ok = after.get("environment") is None or after.get("environment") == before.get("environment")
    if before.get("permissions") != after.get("permissions") or not environment_ok:
        raise check.fail(f"job {job_id}'s permissions or environment changed", job_id)
    if _id_token(after.get("permissions")):
        raise check.fail(f"job {job_id} runs the project's code and may request an OIDC token", job_id)
    old, new = _steps(before), _steps(after)
    last_upload = max(i for i, s in enumerate(old) if _is_upload(s))
    # What ran after the upload still runs after it: in a job that needs the publish job.
    if old[last_upload + 1 :] != moved:
        raise check.fail(
            f"job {job_id}: the steps after its upload did not move, as they were, after it", job_id
        )
    old = old[: last_upload + 1]
    kept = [
        i for i, s in enumerate(new) if _uses(s).startswith(ARTIFACT_UPLOAD) and _artifact_name(s) == name
    ]
    if len(kept) != 1:
        raise check.fail(f"job {job_id} should keep its distributions as one artifact, {name}", job_id)
    artifact, rest = new[kept[0]], [s for i, s in enumerate(new) if i != kept[0]]
    if any(_is_upload(s) for s in rest):
        raise check.fail(f"job {job_id} still uploads", job_id)
    at, up_to_last = 0, 0
    for index, step in enumerate(old):
        if at < len(rest) and (rest[at] == step or _run_step_kept(step, rest[at])):
            at += 1
            up_to_last += index <= last_upload
        elif not _is_upload(step) and not _configures_token_only(step):
            raise check.fail(
                f"job {job_id}: its step {index + 1} changed or went, and it is no upload", job_id
            )
    if at != len(rest):
        raise check.fail(f"job {job_id} gained a step besides its artifact", job_id)
    if any(not str(s.get("run") or "").strip() and "uses" not in s for s in rest):
        raise check.fail(f"job {job_id} has a step that neither runs nor uses anything", job_id)
    if kept[0] < up_to_last:
        raise check.fail(f"job {job_id} keeps its distributions before its last upload", job_id)
    conditions = [_condition(s.get("if")) for s in old if _is_upload(s)]
    if _condition(artifact.get("if")) != ("" if "" in conditions else _any_of(conditions)):
        raise check.fail(f"job {job_id} keeps its distributions where no upload ran", job_id)


def _publish_step_kept(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """The publish action's step, now on the pinned ref and without user or password."""
    if _without(before, {"uses", "with", "env"}) != _without(after, {"uses", "with", "env"}):
        return False
    inputs = _without(_mapping(before.get("with")), {"user", "username", "password"})
    return (
        _uses(after).startswith(_PUBLISH)
        and _mapping(after.get("with")) == inputs
        and _token_vars_only(before, after)
    )


def _check_in_place(check: _Check, job_id: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    """A job that only downloads and uploads, granted Trusted Publishing where it is."""
    if _without(before, _EDITED_KEYS) != _without(after, _EDITED_KEYS) or not _token_vars_only(before, after):
        raise check.fail(f"job {job_id} changed beyond its upload", job_id)
    if before.get("environment") not in (None, after.get("environment")) or not after.get("environment"):
        raise check.fail(f"job {job_id} has no environment, or another one", job_id)
    permissions = before.get("permissions")
    if permissions is not None and _without(permissions, {"id-token"}) != _without(
        after.get("permissions"), {"id-token"}
    ):
        raise check.fail(f"job {job_id} lost permissions", job_id)
    old, new = _steps(before), _steps(after)
    if len(old) != len(new) or not all(
        o == n or (_uses(o).startswith(_PUBLISH) and _publish_step_kept(o, n))
        for o, n in zip(old, new, strict=True)
    ):
        raise check.fail(f"job {job_id}'s steps changed beyond the publish action's password and ref", job_id)
    _check_publish_job(check, job_id, after, alone=False)


# --- the jobs the plan adds ---------------------------------------------------------------------


def _check_publish_job(check: _Check, job_id: str, job: dict[str, Any], alone: bool = True) -> None:
    steps = _steps(job)
    if not steps or not _uses(steps[-1]).startswith(_PUBLISH):
        raise check.fail(f"job {job_id} does not upload with {PUBLISH_ACTION}", job_id)
    if any("run" in s or not _uses(s).startswith((ARTIFACT_DOWNLOAD, _PUBLISH)) for s in steps):
        raise check.fail(f"job {job_id} runs more than a download and the upload", job_id)
    if not job.get("environment") or not _id_token(job.get("permissions")):
        raise check.fail(f"job {job_id} lacks its environment or `id-token: write`", job_id)
    if alone and job.get("permissions") != {"id-token": "write"}:
        raise check.fail(f"job {job_id} is granted more than `id-token: write`", job_id)


def needs_read(condition: str) -> list[str]:
    """The jobs whose outputs or result ``condition`` reads (`needs.X`, `needs['X']`)."""
    return list(dict.fromkeys(m.group(1) or m.group(2) for m in _NEEDS.finditer(condition)))


def _check_needs_read(check: _Check, job_id: str, jobs: dict[str, Any]) -> None:
    job, needs = _mapping(jobs[job_id]), _needs(jobs[job_id])
    if missing := [n for n in needs if n not in jobs]:
        raise check.fail(f"job {job_id} needs {missing[0]}, which does not exist", job_id)
    for condition in [job.get("if"), *(s.get("if") for s in _steps(job))]:
        for name in needs_read(str(condition or "")):
            if name not in needs:
                raise check.fail(f"job {job_id} reads needs.{name} but does not need {name}", job_id)


def _closure(job_id: str, jobs: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    todo = _needs(jobs[job_id])
    while todo:
        if (name := todo.pop()) not in seen and name in jobs:
            seen.add(name)
            todo += _needs(jobs[name])
    return seen


def _check_gate(check: _Check, job_id: str, jobs: dict[str, Any], after: Workflow, plan: Plan) -> None:
    testers = {job.id for job in after.jobs() if job.runs_tests()}
    calls = {
        j for j, job in jobs.items() if str(_mapping(job).get("uses", "")).startswith("./.github/workflows/")
    }
    if not _closure(job_id, jobs) & (testers | calls) and not any(
        f"No tests gate {job_id}" in note for note in plan.notes
    ):
        raise check.fail(f"nothing gates {job_id} and the message would not say so", job_id)


def _could_match(pattern: str, name: str) -> bool:
    """Whether the artifact ``name`` (it may hold expressions) can match a download's
    ``pattern``: a literal prefix and a trailing `*`, as the plan writes them."""
    prefix = pattern.removesuffix("*")
    literal = name.split("${{", 1)[0]
    if "${{" in name:
        return literal.startswith(prefix) or prefix.startswith(literal)
    return name.startswith(prefix)


def _check_downloads(check: _Check, job_id: str, jobs: dict[str, Any], plan: Plan) -> None:
    needed = set(_needs(jobs[job_id]))
    ours = {name: builder for builder, name in plan.artifacts.items()}
    made = [
        (j, _artifact_name(s))
        for j, job in jobs.items()
        for s in _steps(job)
        if _uses(s).startswith(ARTIFACT_UPLOAD)
    ]
    for name in ours:
        if [n for _, n in made].count(name) != 1:
            raise check.fail(f"the artifact name {name} is made by more than one step", job_id)
    for step in _steps(jobs[job_id]):
        if not _uses(step).startswith(ARTIFACT_DOWNLOAD):
            continue
        inputs = _mapping(step.get("with"))
        name, pattern = str(inputs.get("name") or ""), str(inputs.get("pattern") or "")
        if name and not pattern:
            # GitHub refuses a second artifact of one name in a run, so an exact name is one artifact.
            wrong = ours.get(name) not in needed
        elif pattern and not name:
            matched = [(j, n) for j, n in made if _could_match(pattern, n)]
            wrong = not matched or any(ours.get(n) != j or j not in needed for j, n in matched)
        else:
            wrong = True
        if wrong:
            raise check.fail(
                f"job {job_id} downloads `{name or pattern or 'every artifact'}`, which is not only the "
                "distributions of the jobs it needs",
                job_id,
            )


# --- the tests workflow a release calls ---------------------------------------------------------


def _triggers(on: Any) -> dict[str, Any]:
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {str(t): None for t in on}
    return _mapping(on)


def _check_called_tests(path: Path, text: str) -> None:
    before = Workflow(path)
    _, old, new = _read(before, text)
    check = _Check(before, {})
    old_on, new_on = _triggers(old.get("on")), _triggers(new.get("on"))
    if _without(old, {"on"}) != _without(new, {"on"}):
        raise check.fail("the tests workflow changed beyond its triggers")
    if (
        _without(new_on, {"workflow_call"}) != _without(old_on, {"workflow_call"})
        or "workflow_call" not in new_on
    ):
        raise check.fail("the tests workflow's triggers changed beyond `workflow_call`")
