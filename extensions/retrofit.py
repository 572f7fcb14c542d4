"""Plan the move of an existing token-based PyPI upload to Trusted Publishing, in place.

The second step of a retrofit (read -> plan -> write): extensions/workflows.py reads the
workflows, this module works out the new text of the one that publishes as a Plan
(extensions/plan.py; the new jobs' text comes from extensions/publish_jobs.py), and the
caller (migrations/trusted_publishing.py) writes it. The owner's jobs keep their
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

import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml


def _sibling(name: str) -> ModuleType:
    """A module beside this file, loaded by path (copier loads this file by path too)."""
    module_name = f"{__name__}_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, Path(__file__).with_name(f"{name}.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


_read = _sibling("workflows")
_plan = _sibling("plan")
Plan, _Upload, _Edits, _indent = _plan.Plan, _plan.Upload, _plan.Edits, _plan.indent
_jobs = _sibling("publish_jobs")
_called = _sibling("called_tests")
RetrofitRefusal = _read.RetrofitRefusal
Workflow = _read.Workflow
Job = _read.Job
Step = _read.Step
PUBLISH_ACTION = _read.PUBLISH_ACTION
TESTPYPI_UPLOAD_URL = _read.TESTPYPI_UPLOAD_URL
publishing_workflows = _read.publishing_workflows
workflow_files = _read.workflow_files
read_workflow = _read.read_workflow
is_trusted = _read.is_trusted
get, scalar, span = _read.get, _read.scalar, _read.span
SECRET = _read.SECRET

_TOKEN_ENV = {
    "TWINE_USERNAME",
    "TWINE_PASSWORD",
    "TWINE_TOKEN",
    "PYPI_TOKEN",
    "PYPI_API_TOKEN",
    "PYPI_PASSWORD",
    "POETRY_PYPI_TOKEN_PYPI",
    "HATCH_INDEX_AUTH",
    "HATCH_INDEX_USER",
    "UV_PUBLISH_TOKEN",
    "FLIT_PASSWORD",
    "FLIT_USERNAME",
    "PDM_PUBLISH_PASSWORD",
    "PDM_PUBLISH_USERNAME",
}
# A shell line that hands a token to a tool's configuration rather than to the upload.
_TOKEN_CONFIG = re.compile(r"^\s*poetry\s+config\s+(?:pypi-token\.\S+|http-basic\.\S+)\s")
# Shell keywords that make an upload conditional inside a run: block.
_SHELL_FLOW = re.compile(r"^\s*(?:if|then|else|elif|fi|for|while|until|do|done|case|esac)\b")
# The action's inputs that keep their meaning in the new publish job.
_KEPT_INPUTS = ("skip-existing", "verbose", "print-hash", "verify-metadata", "attestations")


def _condition(node: Any) -> str:
    text = scalar(node).strip()
    match = re.fullmatch(r"\$\{\{\s*(.*?)\s*\}\}", text, re.DOTALL)
    return match.group(1) if match else text


def _upload_target(workflow: Any, step: Any, line_no: int, command: str) -> str:
    """The index an upload goes to: "" for PyPI, the TestPyPI URL, or a refusal."""
    url = ""
    match = re.search(r"(?:--repository-url|--repository|--publish-url|-r|--repo)[ =](\S+)", command)
    if match:
        url = match.group(1).strip("'\"")
    env = step.get("env")
    if env is not None and (found := get(env, "TWINE_REPOSITORY_URL") or get(env, "UV_PUBLISH_URL")):
        url = scalar(found[1])
    with_node = step.get("with")
    if with_node is not None and (
        found := get(with_node, "repository-url") or get(with_node, "repository_url")
    ):
        url = scalar(found[1])
    if not url or url in _read.PYPI_UPLOAD_URLS or url == "pypi":
        return ""
    if url in {"testpypi", TESTPYPI_UPLOAD_URL, TESTPYPI_UPLOAD_URL.rstrip("/")}:
        return TESTPYPI_UPLOAD_URL
    raise RetrofitRefusal(
        f"{workflow.where(line_no)} uploads to {url}, not to PyPI: Trusted Publishing here is for PyPI "
        "and TestPyPI. Leave this workflow as it is (or move the private upload to its own "
        "workflow), commit, and run copier again."
    )


def _dist_folder(command: str) -> str:
    """The folder an upload command reads: twine's file arguments, else dist/."""
    if re.search(r"\btwine\s+upload\b", command):
        args = [a for a in command.split("upload", 1)[1].split() if not a.startswith("-")]
        for arg in args:
            folder = arg.strip("'\"").rsplit("/", 1)[0] if "/" in arg else ""
            if folder and "$" not in folder:
                return folder + "/"
    return "dist/"


def _working_directory(job: Any, step: Any) -> str:
    wd = scalar(step.get("working-directory"))
    if not wd:
        defaults = job.get("defaults")
        run = get(defaults, "run") if defaults is not None else None
        found = get(run[1], "working-directory") if run else None
        wd = scalar(found[1]) if found else ""
    return "" if wd in ("", ".", "./") else wd.rstrip("/") + "/"


def _artifact_step(
    prefix: str, name: str, path: str, condition: str, uses: Callable[[str], str]
) -> list[str]:
    inner = " " * (len(prefix) + 2)
    lines = [f"{prefix}- name: Keep the distributions for the publish job"]
    if condition:
        lines.append(f"{inner}if: {condition}")
    lines += [
        f"{inner}uses: {uses('actions/upload-artifact')}",
        f"{inner}with:",
        f"{inner}  name: {name}",
        f"{inner}  path: {path}",
        f"{inner}  if-no-files-found: error",
    ]
    return lines


def _artifact_name(job: Any) -> str:
    base = f"python-distributions-{job.id}"
    strategy = job.get("strategy")
    if strategy is not None and get(strategy, "matrix"):
        return base + "-${{ strategy.job-index }}"  # one artifact per matrix leg
    return base


# --- the plan -------------------------------------------------------------------------------


def plan(workflow: Any, *, environment: str, project_name: str, uses: Callable[[str], str]) -> Plan:
    """Work out the upgraded text of ``workflow``; raises RetrofitRefusal before any write."""
    result = Plan(workflow.path, workflow.text, newline=workflow.newline)
    if is_trusted(workflow):
        return result
    edits = _Edits(workflow.text)
    uploads: list[_Upload] = []
    comment = ""  # on the owner's environment line, which moves to the publish job
    for job in workflow.publishing_jobs():
        if _publishes_only(job):
            # It builds nothing and runs no project code (it downloads what other jobs built, or
            # an earlier retrofit made it): it becomes the Trusted Publishing job in place.
            for step in job.upload_steps():
                _strip_password(workflow, step, edits, result, uses)
            _grant_in_place(workflow, job, edits, result, environment, project_name)
            continue
        job_uploads = [_plan_upload_step(workflow, job, step, edits, result) for step in job.upload_steps()]
        folders = {u.dist for u in job_uploads}
        if len(folders) > 1:
            raise RetrofitRefusal(
                f"{workflow.where(job.key.start_mark.line + 1)}: job {job.id} uploads from several folders "
                f"({', '.join(sorted(folders))}); upload one folder, commit, and run copier again."
            )
        uploads += job_uploads
        _plan_artifact(workflow, job, job_uploads, edits, result, uses)
        _plan_token_lines(workflow, job, edits, result)
        _remove_token_keys(job.get("env"), job.node, workflow, edits, result)
        comment = _move_environment(workflow, job, edits, result) or comment
    folders = sorted({u.dist for u in uploads if u.target == ""})
    if len(folders) > 1:
        raise RetrofitRefusal(
            f"{workflow.where(1)}: it uploads to PyPI from several folders ({', '.join(folders)}): each is "
            "its own PyPI project, with its own trusted publisher, which this template cannot name for you. "
            "Retrofit this workflow by hand (see the README), or give each project its own workflow."
        )
    _remove_token_keys(_read.get_root(workflow, "env"), workflow.root, workflow, edits, result)
    _plan_publish_jobs(workflow, uploads, edits, result, environment, project_name, uses, comment)
    result.text = edits.apply()
    result.secrets = sorted(set(result.secrets))
    _check_result(workflow, result)
    return result


def _plan_upload_step(workflow: Any, job: Any, step: Any, edits: _Edits, result: Plan) -> _Upload:
    """Take the upload out of ``step`` (the whole step, or its upload lines)."""
    lines = edits.lines
    start, end = span(step.node, lines)
    condition = _condition(step.get("if"))
    continues = scalar(step.get("continue-on-error")).lower() == "true"
    if step.uses:
        with_node = step.get("with")
        inputs = {}
        packages = "dist/"
        if with_node is not None:
            for key, value in with_node.value:
                name = scalar(key)
                if name in ("password", "user", "username"):
                    result.secrets += SECRET.findall(scalar(value))
                elif name in _KEPT_INPUTS:
                    inputs[name] = scalar(value)
                elif name in ("packages-dir", "packages_dir"):
                    packages = scalar(value).rstrip("/") + "/"
        target = _upload_target(workflow, step, step.line, "")
        edits.replace(start, end, [])
        result.changes.append(
            f"{workflow.where(step.line)}: the upload ({step.uses.split('#')[0].strip()}) moved to its own job"
        )
        return _Upload(job, step.line, target, packages, condition, inputs, not continues)
    run_node = step.get("run")
    r_start, r_end = span(run_node, lines)
    block = run_node.style in ("|", ">")
    body = range(r_start + 1, r_end) if block else range(r_start, r_start + 1)
    remaining, flow = 0, False
    target, dist, inputs = "", "dist/", {}
    line_edits: list[tuple[int, list[str]]] = []
    for index in body:
        command = lines[index].strip() if block else run_node.value.strip()
        flow = flow or bool(_SHELL_FLOW.match(command))
        if not command or command.startswith("#") or not _read.UPLOAD_ANYWHERE.search(command):
            remaining += bool(command and not command.startswith("#"))
            continue
        if flow:
            raise RetrofitRefusal(
                f"{workflow.where(index + 1)}: the upload is inside shell control flow (if/for/case...); this "
                "template will not guess which branch to keep. Move the upload to a line of its own outside "
                "it, commit, and run copier again."
            )
        before, upload = _split_upload(command)
        if upload is None:
            raise RetrofitRefusal(
                f"{workflow.where(index + 1)}: the upload is part of a longer shell command (a pipe, ||, or a "
                "command after it); this template will not guess what to keep. Put the upload command on a "
                "line of its own, commit, and run copier again."
            )
        target = _upload_target(workflow, step, index + 1, upload) or target
        dist = _working_directory(job, step) + _dist_folder(upload)
        if "--skip-existing" in upload:
            inputs["skip-existing"] = "true"
        result.secrets += SECRET.findall(upload)
        keep = " && ".join(c for c in (before, _builds_too(upload)) if c)
        remaining += bool(keep)
        new = lines[index].replace(command if block else run_node.value.strip(), keep).rstrip("\n")
        line_edits.append((index, [new] if keep else []))
    env = step.get("env")
    if isinstance(env, yaml.MappingNode):
        result.secrets += [
            n for k, v in env.value if scalar(k) in _TOKEN_ENV for n in SECRET.findall(scalar(v))
        ]
    if not remaining:
        edits.replace(start, end, [])  # nothing else in the step: it goes, the artifact step takes its place
    else:
        for index, new_lines in line_edits:
            edits.replace(index, index + 1, new_lines)
        _remove_token_keys(env, step.node, workflow, edits, result)
    result.changes.append(f"{workflow.where(step.line)}: the upload moved to its own job")
    return _Upload(job, step.line, target, dist, condition, inputs, not continues)


def _publishes_only(job: Any) -> bool:
    """A Linux job whose every step downloads artifacts or uploads them with the publish action."""
    runner = scalar(job.get("runs-on"))
    return runner.startswith("ubuntu-") and all(
        step.uses.startswith((PUBLISH_ACTION + "@", "actions/download-artifact@")) for step in job.steps
    )


def _grant_in_place(
    workflow: Any, job: Any, edits: _Edits, result: Plan, environment: str, project_name: str
) -> None:
    """Environment and job-level `id-token: write` for a job that only publishes; the publish
    action's ref moves to the pinned release (an old ref such as @master has no Trusted Publishing)."""
    lines = edits.lines
    where = workflow.where(job.key.start_mark.line + 1)
    indent = _indent(lines[job.node.value[0][0].start_mark.line])
    runs_on = get(job.node, "runs-on")
    at = span(runs_on[1], lines)[1] if runs_on else job.key.start_mark.line + 1
    new = []
    if job.get("environment") is None:
        new += [
            f"{indent}environment:",
            f"{indent}  name: {environment}",
            f"{indent}  url: https://pypi.org/project/{project_name}/",
        ]
        result.changes.append(f"{where}: job {job.id} runs in environment {environment}")
    permissions = get(job.node, "permissions")
    grant = "id-token: write  # Trusted Publishing: only this job may request an upload token"
    if permissions is None:
        new += [f"{indent}permissions:", f"{indent}  {grant}"]
    elif not _read.has_id_token(permissions[1]):
        node = permissions[1]
        if not isinstance(node, yaml.MappingNode):
            raise RetrofitRefusal(
                f"{workflow.where(permissions[0].start_mark.line + 1)}: job {job.id} has `permissions: "
                f"{scalar(node)}`; list the permissions it needs instead, commit, and run copier again."
            )
        kept = [f"{indent}  {scalar(k)}: {scalar(v)}" for k, v in node.value if scalar(k) != "id-token"]
        edits.replace(
            permissions[0].start_mark.line,
            span(node, lines)[1],
            [f"{indent}permissions:", f"{indent}  {grant}", *kept],
        )
    if permissions is None or not _read.has_id_token(permissions[1]):
        result.changes.append(f"{where}: job {job.id} may request an OIDC token (id-token: write)")
    if new:
        edits.insert(at, new)


def _strip_password(
    workflow: Any, step: Any, edits: _Edits, result: Plan, uses: Callable[[str], str] | None = None
) -> None:
    if uses is not None:
        _pin_publish_action(workflow, step, edits, result, uses)
    with_node = step.get("with")
    if not isinstance(with_node, yaml.MappingNode):
        return
    tokens = [(k, v) for k, v in with_node.value if scalar(k) in ("user", "password", "username")]
    if not tokens:
        return
    for _, value in tokens:
        result.secrets += SECRET.findall(scalar(value))
    if len(tokens) == len(with_node.value):
        key = next(k for k, v in step.node.value if v is with_node)
        edits.replace(key.start_mark.line, span(with_node, edits.lines)[1], [])
    else:
        for key, value in tokens:
            edits.replace(key.start_mark.line, max(key.start_mark.line + 1, span(value, edits.lines)[1]), [])
    result.changes.append(f"{workflow.where(step.line)}: {PUBLISH_ACTION} uses no password any more")


def _pin_publish_action(
    workflow: Any, step: Any, edits: _Edits, result: Plan, uses: Callable[[str], str]
) -> None:
    """An upload step of the publish action on another ref than the pinned one moves to it."""
    node = step.get("uses")
    pinned = uses(PUBLISH_ACTION)
    if node is None or step.uses.split("#")[0].strip() == pinned.split("#")[0].strip():
        return
    line = edits.lines[node.start_mark.line]
    old = step.uses
    if old not in line:
        return
    edits.replace(node.start_mark.line, node.start_mark.line + 1, [line.replace(old, pinned, 1).rstrip("\n")])
    result.changes.append(f"{workflow.where(step.line)}: {old.split('#')[0].strip()} -> {pinned}")


def _split_upload(command: str) -> tuple[str, str | None]:
    """(what runs before the upload, the upload) of one shell line, cut at the last `&&` or
    `;`; (line, None) when the upload is not the line's last command or a pipe is involved."""
    command = command.rstrip().removesuffix(";").rstrip()
    if "||" in command or re.search(r"(?<!\|)\|(?!\|)", command):
        return command, None
    separators = list(re.finditer(r"\s*(?:&&|;)\s*", command))
    cut = separators[-1] if separators else None
    before, upload = (command[: cut.start()], command[cut.end() :]) if cut else ("", command)
    if _read.UPLOAD_ANYWHERE.search(before) or not _read.UPLOAD.match(upload):
        return command, None
    return before, upload


def _builds_too(command: str) -> str:
    """The build a publishing command also did, to keep when its upload is replaced."""
    if re.search(r"poetry\s+publish\b.*--build\b", command):
        return "poetry build"
    if re.search(r"flit\s+publish\b", command):
        return "flit build"
    if re.search(r"pdm\s+publish\b", command) and "--no-build" not in command:
        return "pdm build"
    return ""


def _plan_artifact(
    workflow: Any, job: Any, uploads: list[_Upload], edits: _Edits, result: Plan, uses: Callable[[str], str]
) -> None:
    """The owner's job keeps what it built as an artifact, where its first upload was."""
    if not uploads:
        return
    first = min(uploads, key=lambda u: u.line)
    step = next(s for s in job.steps if s.line == first.line)
    lines = edits.lines
    start, end = span(step.node, lines)
    dash = (
        lines[start].index("-") if lines[start].lstrip().startswith("-") else step.node.start_mark.column - 2
    )
    conditions = {u.condition for u in uploads}
    condition = conditions.pop() if len(conditions) == 1 else ""
    edits.insert(end, _artifact_step(lines[start][:dash], _artifact_name(job), first.dist, condition, uses))
    result.changes.append(
        f"{workflow.where(step.line)}: job {job.id} keeps {first.dist} as the artifact {_artifact_name(job)}"
    )


def _plan_token_lines(workflow: Any, job: Any, edits: _Edits, result: Plan) -> None:
    """`poetry config pypi-token.pypi ...`: a token handed to a tool's configuration goes too."""
    for step in job.steps:
        run_node = step.get("run")
        if run_node is None:
            continue
        r_start, r_end = span(run_node, edits.lines)
        for index in range(r_start, r_end):
            line = edits.lines[index]
            command = line.split("run:", 1)[1] if index == r_start and "run:" in line else line
            if _TOKEN_CONFIG.match(command):
                result.secrets += SECRET.findall(command)
                edits.replace(index, index + 1, [])
                result.changes.append(f"{workflow.where(index + 1)}: removed the token configuration")


def _remove_token_keys(env: Any, parent: Any, workflow: Any, edits: _Edits, result: Plan) -> None:
    if not isinstance(env, yaml.MappingNode) or not isinstance(parent, yaml.MappingNode):
        return
    lines = edits.lines
    tokens = [(k, v) for k, v in env.value if scalar(k) in _TOKEN_ENV]
    if not tokens:
        return
    for _, v in tokens:
        result.secrets += SECRET.findall(scalar(v))
    if len(tokens) == len(env.value):
        env_key = next(k for k, v in parent.value if v is env)
        edits.replace(env_key.start_mark.line, span(env, lines)[1], [])
    else:
        for k, v in tokens:
            edits.replace(k.start_mark.line, max(k.start_mark.line + 1, span(v, lines)[1]), [])
    names = ", ".join(scalar(k) for k, _ in tokens)
    change = f"{workflow.where(env.start_mark.line)}: removed the token variables {names}"
    if change not in result.changes:
        result.changes.append(change)


def _move_environment(workflow: Any, job: Any, edits: _Edits, result: Plan) -> str:
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
    workflow: Any,
    uploads: list[_Upload],
    edits: _Edits,
    result: Plan,
    environment: str,
    project_name: str,
    uses: Callable[[str], str],
    comment: str = "",
) -> None:
    if not uploads:
        return
    jobs = workflow.jobs()
    taken = {j.id for j in jobs}
    last = jobs[-1]
    indent = _indent(edits.lines[last.key.start_mark.line])
    at = span(last.node, edits.lines)[1]
    new: list[str] = []
    by_target: dict[str, list[_Upload]] = {}
    for upload in uploads:
        by_target.setdefault(upload.target, []).append(upload)
    ids: dict[str, str] = {}
    gated = {
        target: any(_jobs.gates(jobs, u.job) or _jobs.tested(jobs, u.job) for u in group)
        for target, group in by_target.items()
    }
    called = _called.Called()
    if not all(gated.values()):
        called = _called.plan_calls(workflow, _tested_elsewhere(workflow), taken, _read)
        ungated = {_job_condition(workflow, u) for t, g in by_target.items() if not gated[t] for u in g}
        condition = ungated.pop() if len(ungated) == 1 else ""
        for call in called.calls:
            new += _called.call_job_lines(indent, call, condition)
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
        gates = list(dict.fromkeys(g for u in group for g in _jobs.gates(jobs, u.job)))
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
        inputs = {k: v for u in group for k, v in u.inputs.items()}
        env_name = environment if not target else "testpypi"
        site = "https://test.pypi.org" if target else "https://pypi.org"
        new += _jobs.publish_job_lines(
            indent,
            job_id,
            needs,
            condition,
            f"{env_name}  # {comment}" if comment and not target else env_name,
            f"{site}/project/{project_name}/",
            target,
            inputs,
            builders,
            uses,
        )
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


def _tested_elsewhere(workflow: Any) -> list[Any]:
    """The project's other workflows that run tests (a test job there does not gate this one)."""
    root = workflow.path.parents[2]
    found = []
    try:
        files = workflow_files(root)
    except RetrofitRefusal:
        return []
    for path in files:
        if path.name == workflow.path.name:
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


def tests_calls(root: Path) -> Any:
    """retrofit=add: the project's workflows that run tests, which the added publish.yml calls
    before each release (each gains ``workflow_call``), and why any other is not called."""
    try:
        others = [w for w in map(Workflow, workflow_files(root)) if any(j.runs_tests() for j in w.jobs())]
    except (RetrofitRefusal, OSError):
        return _called.Called()
    release = Workflow(root / ".github" / "workflows" / "publish.yml", _ADDED_PUBLISH_YML)
    return _called.plan_calls(release, others, {"build", "publish", "publish-testpypi"}, _read)


def _job_condition(workflow: Any, upload: _Upload) -> str:
    condition, reason = _jobs.job_condition(
        _condition(upload.job.get("if")), upload.condition, workflow.triggers()
    )
    if reason:
        raise RetrofitRefusal(f"{workflow.where(upload.line)}: {reason}")
    return condition


def _check_result(workflow: Any, result: Plan) -> None:
    """The new text must be valid YAML in which every upload is a Trusted Publishing job."""
    try:
        after = Workflow(workflow.path, result.text)
    except RetrofitRefusal:  # pragma: no cover - a bug here must never reach a user's file
        raise RetrofitRefusal(f"{workflow.where(1)}: the upgrade would not be valid YAML.") from None
    for job in after.publishing_jobs():
        if job.get("environment") is None or not _read.has_id_token(job.get("permissions")):
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


def check(root: Path) -> str:
    """Why the project's release cannot be retrofitted, or "" (nothing is written)."""
    workflows = publishing_workflows(root)
    for workflow in workflows:
        if reason := _read.writable_error(workflow.path):
            return reason
    if len(workflows) > 1:
        names = ", ".join(f".github/workflows/{w.path.name}" for w in workflows)
        return (
            f"Two workflows publish to PyPI ({names}); PyPI trusts one workflow file per publisher. "
            "Keep one (delete or stop the other from uploading), commit, and run copier again."
        )
    for workflow in map(Workflow, workflow_files(root)):
        if not workflow.publishing_jobs() and (line := workflow.mentions_pypi_token()):
            return (
                f"{workflow.where(line)} hands a PyPI token to a step this template cannot read "
                "(a custom script?). Replace that upload with `twine upload dist/*` or "
                f"{PUBLISH_ACTION}, commit, and run copier again; or retrofit by hand (see README)."
            )
    for workflow in workflows:
        try:
            plan(workflow, environment="release", project_name="x", uses=lambda action: f"{action}@v0")
        except RetrofitRefusal as refusal:
            return str(refusal)
    return ""


def upgrade(root: Path, **kwargs: Any) -> Plan | None:
    """Plan the upgrade of the project's publishing workflow (None when there is none)."""
    if reason := check(root):
        raise RetrofitRefusal(reason)
    workflows = publishing_workflows(root)
    if not workflows:
        return None
    return plan(workflows[0], **kwargs)
