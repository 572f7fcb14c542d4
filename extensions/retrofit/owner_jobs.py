"""The plan's edits to the owner's own jobs: the upload step becomes an artifact of what the
job built, the token variables and configuration go, and an upload-only job is granted
Trusted Publishing in place. Each function records its line edits in ``Edits`` and what
changed in the ``Plan``; upgrade.py places the new publish jobs after them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import yaml

from . import credentials
from .plan import CannotIsolate, Run, Upload
from .upload_command import artifact_path, builds_too, dist_folders, split_upload, upload_files
from .workflows import (
    ALL_SECRETS,
    PUBLISH_ACTION,
    PYPI_UPLOAD_URLS,
    TESTPYPI_UPLOAD_URL,
    UPLOAD_ANYWHERE,
    Job,
    RetrofitRefusal,
    Step,
    Workflow,
    get,
    scalar,
    secrets_read,
    span,
)

# A shell line that hands a token to a tool's configuration rather than to the upload.
TOKEN_CONFIG = credentials.POETRY_LOGIN
# Shell keywords that make an upload conditional inside a run: block.
_SHELL_FLOW = re.compile(r"^\s*(?:if|then|else|elif|fi|for|while|until|do|done|case|esac)\b")
# The action's inputs that keep their meaning in the new publish job.
_KEPT_INPUTS = ("skip-existing", "verbose", "print-hash", "verify-metadata", "attestations")


def expression(node: yaml.Node | None) -> str:
    text = scalar(node).strip()
    match = re.fullmatch(r"\$\{\{\s*(.*?)\s*\}\}", text, re.DOTALL)
    return match.group(1) if match else text


# Where each upload tool reads the index to upload to from its environment.
_INDEX_VARIABLES = (
    "TWINE_REPOSITORY_URL",
    "TWINE_REPOSITORY",
    "UV_PUBLISH_URL",
    "FLIT_INDEX_URL",
    "PDM_PUBLISH_REPO",
    "HATCH_INDEX_REPO",
    "MATURIN_REPOSITORY_URL",
    "MATURIN_REPOSITORY",
)


def _upload_target(workflow: Workflow, step: Step, line_no: int, command: str, job: Job | None = None) -> str:
    """The index an upload goes to: "" for PyPI, the TestPyPI URL, or a refusal. Read from the
    command's options, the step's inputs, and the variables of the step, its job and the
    workflow that upload tools read."""
    url = ""
    for env in (get_root_env(workflow), job.get("env") if job else None, step.get("env")):
        for name in _INDEX_VARIABLES:
            if env is not None and (found := get(env, name)):
                url = scalar(found[1])
    match = re.search(r"(?:--repository-url|--repository|--publish-url|-r|--repo)[ =](\S+)", command)
    if match:
        url = match.group(1).strip("'\"")
    with_node = step.get("with")
    if with_node is not None and (
        found := get(with_node, "repository-url") or get(with_node, "repository_url")
    ):
        url = scalar(found[1])
    if not url or url in PYPI_UPLOAD_URLS or url in ("pypi", "main"):
        return ""
    if url in {"testpypi", "test", TESTPYPI_UPLOAD_URL, TESTPYPI_UPLOAD_URL.rstrip("/")}:
        return TESTPYPI_UPLOAD_URL
    if "${{" in url:
        raise RetrofitRefusal(
            f"{workflow.where(line_no)}: the upload goes to the index `{url}` names, which only GitHub knows at "
            "run time; a trusted publisher is registered on one index. Write the index's address (PyPI's or "
            "TestPyPI's) in the workflow, commit, and run copier again."
        )
    raise RetrofitRefusal(
        f"{workflow.where(line_no)}: the upload goes to {url}, not to PyPI: Trusted Publishing here is for PyPI "
        "and TestPyPI. Leave this workflow as it is (or move the private upload to its own "
        "workflow), commit, and run copier again."
    )


def get_root_env(workflow: Workflow) -> yaml.Node | None:
    found = get(workflow.root, "env")
    return found[1] if found else None


def target_of(workflow: Workflow, step: Step, job: Job | None = None) -> str:
    """Where the publish action's ``step`` uploads: "" for PyPI, else TestPyPI's URL."""
    return _upload_target(workflow, step, step.line, "", job)


def packages_dir(step: Step) -> str:
    """The folder the publish action's ``step`` uploads (its `packages-dir`, dist/ by default)."""
    found = get(step.get("with"), "packages-dir") or get(step.get("with"), "packages_dir")
    return scalar(found[1]).rstrip("/") + "/" if found else "dist/"


def _working_directory(job: Job, step: Step) -> str:
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
        *(
            [f"{inner}  path: |", *(f"{inner}    {p}" for p in path.splitlines())]
            if "\n" in path
            else [f"{inner}  path: {path}"]
        ),
        f"{inner}  if-no-files-found: error",
    ]
    return lines


# Artifact names hold the job's id after a dot, which no job id can hold: the publish job's
# download of one job's artifacts can match no other job's (`build.*` is not `build-dev`).
ARTIFACT_PREFIX = "python-distributions."


def artifact_name(job: Job) -> str:
    """The artifact a job that built keeps its distributions in (one per matrix leg)."""
    base = ARTIFACT_PREFIX + job.id
    strategy = job.get("strategy")
    if strategy is not None and get(strategy, "matrix"):
        return base + ".${{ strategy.job-index }}"
    return base


# --- the plan -------------------------------------------------------------------------------


def plan_upload_step(run: Run, job: Job, step: Step) -> Upload:
    """Take the upload out of ``step`` (the whole step, or its upload lines). ``CannotIsolate``
    where the upload cannot be cut out of its step exactly (the job is converted in place)."""
    if step.uses:
        return _take_action_upload(run, job, step)
    return _take_run_upload(run, job, step)


def _take_action_upload(run: Run, job: Job, step: Step) -> Upload:
    """The publish action's step goes; its inputs that keep their meaning go with the upload."""
    workflow, result = run.workflow, run.result
    inputs, packages = {}, "dist/"
    with_node = step.get("with")
    for key, value in with_node.value if isinstance(with_node, yaml.MappingNode) else []:
        name = scalar(key)
        if name in ("password", "user", "username"):
            result.secrets += credentials.credential_in(
                scalar(value), run.known | set(secrets_read(scalar(value)))
            )
        elif name.replace("_", "-") in _KEPT_INPUTS:  # the action reads both spellings
            inputs[name.replace("_", "-")] = scalar(value)
        elif name in ("packages-dir", "packages_dir"):
            packages = scalar(value).rstrip("/") + "/"
    target = _upload_target(workflow, step, step.line, "", job)
    run.edits.replace(*span(step.node, run.edits.lines), [])
    result.changes.append(
        f"{workflow.where(step.line)}: the upload ({step.uses.split('#')[0].strip()}) moved to its own job"
    )
    condition, continues = expression(step.get("if")), scalar(step.get("continue-on-error")).lower() == "true"
    return Upload(job, step.line, target, packages, condition, inputs, not continues, [packages + "*"])


def _take_run_upload(run: Run, job: Job, step: Step) -> Upload:
    """The upload lines of a `run:` step go (what ran before one on its line stays, and the build
    a tool's `publish` also did); the whole step where nothing else is left."""
    workflow, edits, result, known = run.workflow, run.edits, run.result, run.known
    lines = edits.lines
    run_node = step.get("run")
    assert isinstance(run_node, yaml.ScalarNode)  # an upload command is a run: step's text
    r_start, r_end = span(run_node, lines)
    block = run_node.style in ("|", ">")
    body = range(r_start + 1, r_end) if block else range(r_start, r_start + 1)
    remaining, flow = 0, False
    taken = Upload(job, step.line, "", "dist/", expression(step.get("if")), {}, True, ["dist/*"])
    taken.stops_later_uploads = scalar(step.get("continue-on-error")).lower() != "true"
    line_edits: list[tuple[int, list[str]]] = []
    for index in body:
        command = lines[index].strip() if block else run_node.value.strip()
        flow = flow or bool(_SHELL_FLOW.match(command))
        if command and block and credentials.hands_login(command, known):
            result.secrets += credentials.credential_in(command, known)
            line_edits.append((index, []))
        elif not command or command.startswith("#") or not UPLOAD_ANYWHERE.search(command):
            remaining += bool(command and not command.startswith("#"))
        else:
            if flow:
                raise CannotIsolate(
                    f"{workflow.where(index + 1)}: the upload is inside shell control flow (if/for/case...)"
                )
            keep = _take_upload_line(run, job, step, index, command, taken)
            remaining += bool(keep)
            new = lines[index].replace(command if block else run_node.value.strip(), keep).rstrip("\n")
            line_edits.append((index, [new] if keep else []))
    if not remaining:
        edits.replace(
            *span(step.node, lines), []
        )  # nothing else in the step: the artifact step takes its place
        env = step.get("env")
        if isinstance(env, yaml.MappingNode):
            result.secrets += [n for _, v in env.value for n in credentials.credential_in(scalar(v), known)]
    else:
        for index, new_lines in line_edits:
            edits.replace(index, index + 1, new_lines)
        remove_keys(run, step.get("env"), step.node)
    result.changes.append(f"{workflow.where(step.line)}: the upload moved to its own job")
    return taken


def _take_upload_line(run: Run, job: Job, step: Step, index: int, command: str, taken: Upload) -> str:
    """One upload command of a `run:` step: where it uploads and what (into ``taken``), and what
    stays of its line. ``CannotIsolate`` where that cannot be told exactly."""
    where = run.workflow.where(index + 1)
    before, upload = split_upload(command)
    if upload is None:
        raise CannotIsolate(
            f"{where}: the upload is part of a longer shell command (a pipe, ||, or a command after it)"
        )
    taken.target = _upload_target(run.workflow, step, index + 1, upload, job) or taken.target
    found = upload_files(credentials.strip_login("twine", upload))
    folders = dist_folders(credentials.strip_login("twine", upload))
    if found is None or len(folders) != 1 or folders == ["./"]:
        what = (
            f"several folders ({', '.join(folders)})"
            if len(folders) > 1
            else "files of the working folder itself"
            if folders
            else "files a shell variable names, or a line the shell could not parse"
        )
        raise CannotIsolate(f"{where}: the upload reads {what}")
    prefix = _working_directory(job, step)
    taken.dist, taken.files = prefix + folders[0], [prefix + name for name in found]
    if "--skip-existing" in upload:
        taken.inputs["skip-existing"] = "true"
    run.result.secrets += credentials.credential_in(upload, run.known)
    return " && ".join(c for c in (credentials.strip_prefix(before, run.known), builds_too(upload)) if c)


def publishes_only(job: Job) -> bool:
    """A Linux job whose every step downloads artifacts or uploads them with the publish action."""
    runner = scalar(job.get("runs-on"))
    return runner.startswith("ubuntu-") and all(
        step.uses.startswith((PUBLISH_ACTION + "@", "actions/download-artifact@")) for step in job.steps
    )


def strip_password(run: Run, step: Step) -> None:
    """The publish action's step, on the pinned release and without user or password."""
    workflow, edits, result = run.workflow, run.edits, run.result
    _pin_publish_action(run, step)
    with_node = step.get("with")
    if not isinstance(with_node, yaml.MappingNode):
        return
    tokens = [(k, v) for k, v in with_node.value if scalar(k) in ("user", "password", "username")]
    if not tokens:
        return
    for _, value in tokens:
        result.secrets += [name for name in secrets_read(scalar(value)) if name != ALL_SECRETS]
    if len(tokens) == len(with_node.value):
        key = next(k for k, v in step.node.value if v is with_node)
        edits.replace(key.start_mark.line, span(with_node, edits.lines)[1], [])
    else:
        for key, value in tokens:
            edits.replace(key.start_mark.line, max(key.start_mark.line + 1, span(value, edits.lines)[1]), [])
    result.changes.append(f"{workflow.where(step.line)}: {PUBLISH_ACTION} uses no password any more")


def _pin_publish_action(run: Run, step: Step) -> None:
    """An upload step of the publish action on another ref than the pinned one moves to it."""
    workflow, edits, result = run.workflow, run.edits, run.result
    node = step.get("uses")
    pinned = run.uses(PUBLISH_ACTION)
    if node is None or step.uses.split("#")[0].strip() == pinned.split("#")[0].strip():
        return
    line = edits.lines[node.start_mark.line]
    old = step.uses
    if old not in line:
        return
    edits.replace(node.start_mark.line, node.start_mark.line + 1, [line.replace(old, pinned, 1).rstrip("\n")])
    result.changes.append(f"{workflow.where(step.line)}: {old.split('#')[0].strip()} -> {pinned}")


def plan_artifact(run: Run, job: Job, uploads: list[Upload]) -> None:
    """The owner's job keeps what it built as an artifact, where its last upload was (what a
    later step built is kept too), and only where an upload ran."""
    workflow, edits, result, uses = run.workflow, run.edits, run.result, run.uses
    if not uploads:
        return
    last = max(uploads, key=lambda u: u.line)
    step = next(s for s in job.steps if s.line == last.line)
    lines = edits.lines
    start, end = span(step.node, lines)
    dash = (
        lines[start].index("-") if lines[start].lstrip().startswith("-") else step.node.start_mark.column - 2
    )
    conditions = list(dict.fromkeys(" ".join(u.condition.split()) for u in uploads))
    if "" in conditions:
        condition = ""
    elif len(conditions) == 1:
        condition = conditions[0]
    else:
        condition = " || ".join(f"({c})" for c in conditions)
    name = artifact_name(job)
    # Exactly the files the uploads named (the wheels alone, where only they were uploaded).
    path = artifact_path(list(dict.fromkeys(f for u in uploads for f in u.files)))
    edits.insert(end, _artifact_step(lines[start][:dash], name, path, condition, uses))
    result.artifacts[job.id] = name
    result.kept_files[job.id] = path
    result.changes.append(
        f"{workflow.where(step.line)}: job {job.id} keeps {path.replace(chr(10), ', ')} as the artifact {name}"
    )


def drop_login_lines(run: Run, step: Step) -> bool:
    """Shell lines whose only work is to hand the PyPI login on (`export TWINE_PASSWORD=...`,
    `poetry config pypi-token.pypi ...`) go; so does a step that did nothing else (True: the
    whole step went, and no other edit may touch its lines)."""
    workflow, edits, result, known = run.workflow, run.edits, run.result, run.known
    run_node = step.get("run")
    if not isinstance(run_node, yaml.ScalarNode):
        return False
    start, end = span(run_node, edits.lines)
    block = run_node.style in ("|", ">")
    body = range(start + 1, end) if block else range(start, start + 1)
    commands = {
        index: (edits.lines[index].strip() if block else run_node.value.strip())
        for index in body
        if edits.lines[index].strip() and not edits.lines[index].strip().startswith("#")
    }
    logins = [index for index, command in commands.items() if credentials.hands_login(command, known)]
    for index in logins:
        result.secrets += credentials.credential_in(commands[index], known)
    if logins and len(logins) == len(commands):
        edits.replace(*span(step.node, edits.lines), [])
        result.secrets += [
            n for n in secrets_read(step.node_text) if n in known or credentials.pypi_secret(n)
        ]
        result.changes.append(f"{workflow.where(step.line)}: removed the step that handed on the PyPI login")
        return True
    for index in logins:
        edits.replace(index, index + 1, [])
        result.changes.append(f"{workflow.where(index + 1)}: removed a line that handed on the PyPI login")
    return False


def remove_keys(run: Run, env: yaml.Node | None, parent: yaml.Node | None) -> None:
    """The variables of an `env:` that hold a PyPI login go: a variable an upload tool reads its
    login from, or one whose value reads the login (the whole `env:` where nothing else is left)."""
    workflow, edits, result, known = run.workflow, run.edits, run.result, run.known
    if not isinstance(env, yaml.MappingNode) or not isinstance(parent, yaml.MappingNode):
        return
    lines = edits.lines
    tokens = [
        (k, v)
        for k, v in env.value
        if credentials.PYPI_VARIABLE.match(scalar(k)) or credentials.credential_in(scalar(v), known)
    ]
    if not tokens:
        return
    for _, v in tokens:
        result.secrets += credentials.credential_in(scalar(v), known)
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
