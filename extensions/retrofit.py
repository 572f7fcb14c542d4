"""Upgrade an existing token-based PyPI publishing workflow to Trusted Publishing, in place.

The workflow is edited as text, line by line, so that every comment, step, job,
trigger and env var the owner wrote stays where it was; PyYAML's node positions say
which lines to touch. What changes, in the job that uploads:

- a ``twine upload`` (or ``poetry/hatch/uv/flit/pdm publish``) becomes a
  ``pypa/gh-action-pypi-publish`` step; that action's ``user:`` and ``password:`` go;
- ``python setup.py sdist bdist_wheel`` becomes ``python -m build``;
- the job gets ``environment``, job-level ``permissions: id-token: write`` and
  ``needs`` the job that runs the tests (a test job is added when there is none);
- ``TWINE_USERNAME``/``TWINE_PASSWORD`` env entries go.

Anything it cannot read safely (an upload inside a custom script, a private index,
two publishing workflows, ...) raises ``RetrofitRefusal`` naming the file and line,
before anything is written. Standard library and PyYAML only.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PUBLISH_ACTION = "pypa/gh-action-pypi-publish"
PYPI_UPLOAD_URLS = {
    "https://upload.pypi.org/legacy/",
    "https://upload.pypi.org/legacy",
    "https://pypi.org/legacy/",
}
TESTPYPI_UPLOAD_URL = "https://test.pypi.org/legacy/"
_UPLOAD = re.compile(r"^(?:python3?\s+-m\s+)?twine\s+upload\b|^(?:poetry|hatch|uv|flit|pdm)\s+publish\b")
_UPLOAD_ANYWHERE = re.compile(r"\btwine\s+upload\b|\b(?:poetry|hatch|uv|flit|pdm)\s+publish\b")
_SECRET = re.compile(r"\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}")
_SETUP_PY_BUILD = re.compile(r"python3?\s+setup\.py\s+(?:(?:sdist|bdist_wheel)\b\s*)+")
_TESTS = re.compile(r"pytest|unittest|\b(?:tox|nox)\b|\bhatch (?:test|run\b.*\btests?\b)|\bmake test\b")
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


class RetrofitRefusal(Exception):
    """The workflow cannot be upgraded safely; nothing was changed."""


@dataclass
class Plan:
    """What upgrading one workflow does: its new text (with "\n" line ends; written back
    with the file's own, ``newline``), the changes, the secrets it drops."""

    path: Path
    text: str
    changes: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    newline: str = "\n"


# --- reading workflows -------------------------------------------------------------------

# A workflow larger than this is not something a person wrote: refuse rather than read it.
MAX_WORKFLOW_BYTES = 1_000_000


def workflow_files(root: Path) -> list[Path]:
    """The workflow files, once the folder is known to be the project's own (not a link)."""
    for folder in (root / ".github", root / ".github" / "workflows"):
        if folder.is_symlink():
            raise RetrofitRefusal(
                f"{folder.relative_to(root)} is a symbolic link (to {folder.readlink()}): the retrofit "
                "edits workflows in place and never writes outside the project. Replace the link with "
                "the folder itself, commit, and run copier again."
            )
    folder = root / ".github" / "workflows"
    return sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]) if folder.is_dir() else []


def read_workflow(path: Path) -> tuple[str, str]:
    """(text with "\n" line ends, the file's own line end) of a workflow that is a regular,
    UTF-8 file of reasonable size inside the project; RetrofitRefusal otherwise."""
    where = f".github/workflows/{path.name}"
    if path.is_symlink():
        raise RetrofitRefusal(
            f"{where} is a symbolic link (to {path.readlink()}): the retrofit edits workflows in place "
            "and never writes outside the project. Replace the link with the file itself, commit, "
            "and run copier again."
        )
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise RetrofitRefusal(f"{where} is not a regular file: make it one, commit, and run copier again.")
    if info.st_size > MAX_WORKFLOW_BYTES:
        raise RetrofitRefusal(
            f"{where} is {info.st_size} bytes, more than a workflow this template reads "
            f"({MAX_WORKFLOW_BYTES}); retrofit it by hand (see the README)."
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise RetrofitRefusal(
            f"{where}:{line}: not UTF-8 text (byte 0x{raw[error.start]:02x}). Save the file as UTF-8, "
            "commit, and run copier again."
        ) from None
    newline = "\r\n" if "\r\n" in text else "\n"
    return text.replace("\r\n", "\n"), newline


def writable_error(path: Path) -> str:
    """Why the retrofit could not write ``path`` in place ("" when it can)."""
    if not path.stat().st_mode & stat.S_IWUSR:
        return (
            f".github/workflows/{path.name} is read-only: make it writable (chmod u+w), commit, "
            "and run copier again."
        )
    return ""


def _get(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k, v
    return None


def _scalar(node: yaml.Node | None) -> str:
    return node.value if isinstance(node, yaml.ScalarNode) else ""


@dataclass
class _Step:
    node: yaml.MappingNode

    def get(self, key: str) -> yaml.Node | None:
        found = _get(self.node, key)
        return found[1] if found else None

    @property
    def uses(self) -> str:
        return _scalar(self.get("uses"))

    @property
    def run(self) -> str:
        return _scalar(self.get("run"))

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1


@dataclass
class _Job:
    id: str
    key: yaml.ScalarNode
    node: yaml.MappingNode

    def get(self, key: str) -> yaml.Node | None:
        found = _get(self.node, key)
        return found[1] if found else None

    @property
    def steps(self) -> list[_Step]:
        steps = self.get("steps")
        if not isinstance(steps, yaml.SequenceNode):
            return []
        return [_Step(s) for s in steps.value if isinstance(s, yaml.MappingNode)]

    def upload_steps(self) -> list[_Step]:
        return [
            s for s in self.steps if s.uses.startswith(PUBLISH_ACTION + "@") or _UPLOAD_ANYWHERE.search(s.run)
        ]

    def runs_tests(self) -> bool:
        return any(_TESTS.search(s.run) for s in self.steps)

    def needs(self) -> list[str]:
        node = self.get("needs")
        if isinstance(node, yaml.ScalarNode):
            return [node.value]
        if isinstance(node, yaml.SequenceNode):
            return [_scalar(n) for n in node.value]
        return []


class Workflow:
    def __init__(self, path: Path, text: str | None = None) -> None:
        self.path = path
        self.newline = "\n"
        if text is None:
            text, self.newline = read_workflow(path)
        self.text = text.replace("\r\n", "\n")
        try:
            self.root = yaml.compose(self.text)
        except yaml.YAMLError as error:
            raise RetrofitRefusal(f"{self.where(1)}: not valid YAML ({error}).") from None

    def where(self, line: int) -> str:
        return f".github/workflows/{self.path.name}:{line}"

    def jobs(self) -> list[_Job]:
        found = _get(self.root, "jobs")
        if not found or not isinstance(found[1], yaml.MappingNode):
            return []
        return [_Job(k.value, k, v) for k, v in found[1].value if isinstance(v, yaml.MappingNode)]

    def publishing_jobs(self) -> list[_Job]:
        return [j for j in self.jobs() if j.upload_steps()]

    def mentions_pypi_token(self) -> int:
        """The first line that hands a PyPI-looking secret to something, or 0."""
        for number, line in enumerate(self.text.splitlines(), 1):
            stripped = line.split("#", 1)[0]
            names = _SECRET.findall(stripped)
            if any("PYPI" in n.upper() or "TWINE" in n.upper() for n in names) or re.search(
                r"\bTWINE_PASSWORD\s*:", stripped
            ):
                return number
        return 0


_PUBLISHING: dict[tuple[str, tuple[tuple[str, int, int], ...]], list[Workflow]] = {}


def publishing_workflows(root: Path) -> list[Workflow]:
    """The workflows that upload to PyPI (parsed once per state of the workflow files)."""
    files = workflow_files(root)
    key = (str(root), tuple((f.name, f.lstat().st_mtime_ns, f.lstat().st_size) for f in files))
    if key not in _PUBLISHING:
        _PUBLISHING[key] = [w for w in map(Workflow, files) if w.publishing_jobs()]
    return _PUBLISHING[key]


def is_trusted(workflow: Workflow) -> bool:
    """Already on Trusted Publishing: every upload is the action without a password, with id-token."""
    for job in workflow.publishing_jobs():
        for step in job.upload_steps():
            with_node = step.get("with")
            if not step.uses or (with_node is not None and _get(with_node, "password")):
                return False
        if not _has_id_token(job.get("permissions")) and not _has_id_token(
            _get_root(workflow, "permissions")
        ):
            return False
    return True


def _get_root(workflow: Workflow, key: str) -> yaml.Node | None:
    found = _get(workflow.root, key)
    return found[1] if found else None


def _has_id_token(node: yaml.Node | None) -> bool:
    if isinstance(node, yaml.ScalarNode):
        return node.value == "write-all"
    return (
        _scalar(_get(node, "id-token")[1]) == "write"
        if node is not None and _get(node, "id-token")
        else False
    )


def check(root: Path) -> str:
    """Why the project's release cannot be retrofitted, or "" (nothing is written)."""
    workflows = publishing_workflows(root)
    for workflow in workflows:
        if reason := writable_error(workflow.path):
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
            plan(
                workflow,
                environment="release",
                project_name="x",
                python_versions=["3.12"],
                uses=lambda action: f"{action}@v0",
                install="-e .",
            )
        except RetrofitRefusal as refusal:
            return str(refusal)
    return ""


# --- editing -------------------------------------------------------------------------------


def _end(node: yaml.Node) -> int:
    """The line index just after ``node``'s last line (PyYAML's end marks of block
    collections point at the next token, so they are worked out from the last child)."""
    if isinstance(node, yaml.ScalarNode):
        if node.style in ("|", ">"):
            return node.end_mark.line + (1 if node.end_mark.column > 0 else 0)
        return node.end_mark.line + 1
    if getattr(node, "flow_style", False) or not node.value:
        return node.end_mark.line + 1
    last = node.value[-1][1] if isinstance(node, yaml.MappingNode) else node.value[-1]
    return max(_end(last), node.start_mark.line + 1)


def _span(node: yaml.Node, lines: list[str]) -> tuple[int, int]:
    """[first, last) line indexes of ``node``."""
    return node.start_mark.line, _end(node)


class _Edits:
    """Line edits applied bottom-up so that earlier line numbers stay valid."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        if self.lines and not self.lines[-1].endswith("\n"):
            self.lines[-1] += "\n"
        self.edits: list[tuple[int, int, list[str], int]] = []

    def replace(self, start: int, end: int, new: list[str]) -> None:
        self.edits.append((start, end, [line + "\n" for line in new], len(self.edits)))

    def insert(self, at: int, new: list[str]) -> None:
        self.replace(at, at, new)

    def apply(self) -> str:
        lines = list(self.lines)
        # Bottom-up; at the same line a removal goes before an insertion, so that the
        # insertion is not swallowed by it.
        for start, end, new, _ in sorted(self.edits, key=lambda e: (e[0], e[1], e[3]), reverse=True):
            lines[start:end] = new
        return "".join(lines)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _upload_target(workflow: Workflow, step: _Step, line_no: int, command: str) -> str:
    """The index an upload goes to: "" for PyPI, the TestPyPI URL, or a refusal."""
    url = ""
    match = re.search(r"(?:--repository-url|--repository|-r|--repo)[ =](\S+)", command)
    if match:
        url = match.group(1).strip("'\"")
    env = step.get("env")
    if env is not None and (found := _get(env, "TWINE_REPOSITORY_URL")):
        url = _scalar(found[1])
    with_node = step.get("with")
    if with_node is not None and (
        found := _get(with_node, "repository-url") or _get(with_node, "repository_url")
    ):
        url = _scalar(found[1])
    if not url or url in PYPI_UPLOAD_URLS or url == "pypi":
        return ""
    if url in {"testpypi", TESTPYPI_UPLOAD_URL, TESTPYPI_UPLOAD_URL.rstrip("/")}:
        return TESTPYPI_UPLOAD_URL
    raise RetrofitRefusal(
        f"{workflow.where(line_no)} uploads to {url}, not to PyPI: Trusted Publishing here is for PyPI "
        "and TestPyPI. Leave this workflow as it is (answer retrofit=add, or move the private upload "
        "to its own workflow), commit, and run copier again."
    )


def _action_step(prefix: str, name: str, condition: str, uses: str, target: str) -> list[str]:
    lines = [f"{prefix}- name: {name}"]
    inner = " " * (len(prefix) + 2)
    if condition:
        lines.append(f"{inner}if: {condition}")
    lines.append(f"{inner}uses: {uses}")
    if target:
        lines += [f"{inner}with:", f"{inner}  repository-url: {target}"]
    return lines


def test_job_lines(
    job_id: str, indent: str, python_versions: list[str], install: str, uses: Callable[[str], str]
) -> list[str]:
    """A job that runs the tests over the Python matrix (for a workflow that has none)."""
    body, step = indent + "  ", indent + "    "
    versions = ", ".join(f'"{v}"' for v in python_versions)
    return [
        f"{indent}{job_id}:",
        f"{body}name: Test before publishing",
        f"{body}runs-on: ubuntu-latest",
        f"{body}timeout-minutes: 15",
        f"{body}permissions:",
        f"{body}  contents: read",
        f"{body}strategy:",
        f"{body}  fail-fast: false",
        f"{body}  matrix:",
        f"{body}    python-version: [{versions}]",
        f"{body}steps:",
        f"{step}- uses: {uses('actions/checkout')}",
        f"{step}  with:",
        f"{step}    persist-credentials: false",
        f"{step}- uses: {uses('actions/setup-python')}",
        f"{step}  with:",
        f"{step}    python-version: ${{{{ matrix.python-version }}}}",
        f"{step}- name: Install the package and its test requirements",
        f"{step}  run: python -m pip install {install}",
        f"{step}- name: Run the tests",
        f"{step}  run: python -m pytest",
        "",
    ]


def plan(
    workflow: Workflow,
    *,
    environment: str,
    project_name: str,
    python_versions: list[str],
    uses: Callable[[str], str],
    install: str,
) -> Plan:
    """Work out the upgraded text of ``workflow``; raises RetrofitRefusal before any write."""
    result = Plan(workflow.path, workflow.text, newline=workflow.newline)
    if is_trusted(workflow):
        return result
    edits = _Edits(workflow.text)
    lines = edits.lines
    jobs = workflow.jobs()
    job_ids = {j.id for j in jobs}
    publishing = workflow.publishing_jobs()
    all_runs = "\n".join(s.run for j in publishing for s in j.steps)

    keeps_twine = bool(re.search(r"\btwine[ \t]+(?!upload\b)\w", all_runs))
    for job in publishing:
        has_checkout = any(s.uses.startswith("actions/checkout@") for s in job.steps)
        job_runs = "\n".join(s.run for s in job.steps)
        installs_build = bool(re.search(r"\bpip3?\s+install\b.*\b(build|twine)\b", job_runs))
        for step in job.upload_steps():
            _plan_upload_step(workflow, job, step, edits, result, uses)
        # python setup.py sdist bdist_wheel -> python -m build; twine is no longer needed.
        for step in job.steps:
            run_node = step.get("run")
            if run_node is None:
                continue
            start, end = _span(run_node, lines)
            for index in range(start, end):
                line = lines[index]
                if _SETUP_PY_BUILD.search(line):
                    command = (
                        "python -m build "
                        if installs_build
                        else "python -m pip install build && python -m build "
                    )
                    edits.replace(index, index + 1, [_SETUP_PY_BUILD.sub(command, line).rstrip()])
                    result.changes.append(
                        f"{workflow.where(index + 1)}: python setup.py sdist bdist_wheel -> python -m build"
                    )
                elif re.search(r"\bpip3?\s+install\b", line) and re.search(r"\btwine\b", line):
                    stripped = line.rstrip("\n")
                    if keeps_twine:
                        new = stripped if re.search(r"\bbuild\b", stripped) else stripped + " build"
                    elif re.search(r"\bbuild\b", stripped):
                        new = re.sub(r"\s+twine\b", "", stripped)
                    else:
                        new = re.sub(r"\btwine\b", "build", stripped)
                    if new != stripped:
                        edits.replace(index, index + 1, [new])
                        result.changes.append(
                            f"{workflow.where(index + 1)}: installs build (twine is not needed)"
                        )
        _plan_job_env(workflow, job, edits, result)
        _plan_environment_and_permissions(
            workflow, job, edits, result, environment, project_name, has_checkout
        )
        _plan_needs(workflow, job, jobs, job_ids, edits, result, python_versions, uses, install)
    _plan_token_env(workflow, _get_root(workflow, "env"), edits, result)
    result.text = edits.apply()
    result.secrets = sorted(set(result.secrets))
    try:
        yaml.safe_load(result.text)
    except yaml.YAMLError as error:  # pragma: no cover - a bug here must never reach a user's file
        raise RetrofitRefusal(
            f"{workflow.where(1)}: the upgrade would not be valid YAML ({error})."
        ) from None
    return result


def _plan_upload_step(
    workflow: Workflow, job: _Job, step: _Step, edits: _Edits, result: Plan, uses: Callable[[str], str]
) -> None:
    lines = edits.lines
    start, end = _span(step.node, lines)
    dash = (
        lines[start].index("-") if lines[start].lstrip().startswith("-") else step.node.start_mark.column - 2
    )
    prefix = lines[start][:dash]
    if step.uses:
        target = _upload_target(workflow, step, step.line, "")
        with_node = step.get("with")
        if with_node is None:
            return
        removed = []
        for key in ("user", "password", "username"):
            found = _get(with_node, key)
            if found:
                k_start = found[0].start_mark.line
                removed.append(
                    (k_start, _span(found[1], lines)[1] if found[1].end_mark.line > k_start else k_start + 1)
                )
                result.secrets += _SECRET.findall(_scalar(found[1]))
        if not removed:
            return
        remaining = [k for k, _ in with_node.value if _scalar(k) not in ("user", "password", "username")]
        if not remaining:
            with_key = next(k for k, v in step.node.value if v is with_node)
            edits.replace(with_key.start_mark.line, _span(with_node, lines)[1], [])
        else:
            for a, b in removed:
                edits.replace(a, b, [])
        result.changes.append(f"{workflow.where(step.line)}: {PUBLISH_ACTION} uses no password any more")
        return
    # A run: step. Which of its lines upload?
    run_node = step.get("run")
    assert run_node is not None
    r_start, r_end = _span(run_node, lines)
    block = run_node.style in ("|", ">")
    body = range(r_start + 1, r_end) if block else range(r_start, r_start + 1)
    upload_lines, other_lines = [], []
    target = ""
    builds: dict[int, str] = {}
    for index in body:
        command = lines[index].strip() if block else run_node.value.strip()
        if not command or command.startswith("#"):
            continue
        if _UPLOAD_ANYWHERE.search(command):
            if not _UPLOAD.match(command) or re.search(r"&&|\|\||;|\|", command):
                raise RetrofitRefusal(
                    f"{workflow.where(index + 1)}: the upload is part of a longer shell command this template "
                    f"cannot rewrite safely. Put `twine upload dist/*` on a line of its own, commit, and run copier again."
                )
            target = _upload_target(workflow, step, index + 1, command) or target
            result.secrets += _SECRET.findall(command)
            upload_lines.append(index)
            if build := _builds_too(command):  # e.g. poetry publish --build: keep the build
                builds[index] = build
        else:
            other_lines.append(index)
    env = step.get("env")
    if env is not None:
        result.secrets += [
            n for k, v in env.value if _scalar(k) in _TOKEN_ENV for n in _SECRET.findall(_scalar(v))
        ]
    name = _scalar(step.get("name")) or "Publish to PyPI"
    condition = _scalar(step.get("if"))
    action = _action_step(
        prefix,
        name if not (other_lines or builds) else "Publish to PyPI",
        condition,
        uses(PUBLISH_ACTION),
        target,
    )
    if not other_lines and not builds:
        edits.replace(start, end, action)
        result.changes.append(
            f"{workflow.where(step.line)}: the token upload is now {PUBLISH_ACTION} (no token)"
        )
        return
    for index in upload_lines:
        if index in builds:
            if block:
                edits.replace(index, index + 1, [_indent(lines[index]) + builds[index]])
            else:
                edits.replace(
                    index,
                    index + 1,
                    [lines[index].replace(run_node.value.strip(), builds[index]).rstrip("\n")],
                )
        else:
            edits.replace(index, index + 1, [])
    if env is not None:
        _remove_token_keys(env, edits, result, workflow, step_level=True, parent=step.node)
    edits.insert(end, action)
    result.changes.append(
        f"{workflow.where(upload_lines[0] + 1)}: the token upload moved to a new {PUBLISH_ACTION} step (no token)"
    )


def _builds_too(command: str) -> str:
    """The build a publishing command also did, to keep when its upload is replaced."""
    if re.match(r"poetry\s+publish\b.*--build\b", command):
        return "poetry build"
    if re.match(r"flit\s+publish\b", command):
        return "flit build"
    if re.match(r"pdm\s+publish\b", command) and "--no-build" not in command:
        return "pdm build"
    return ""


def _remove_token_keys(
    env: yaml.Node,
    edits: _Edits,
    result: Plan,
    workflow: Workflow,
    *,
    step_level: bool,
    parent: yaml.MappingNode,
) -> None:
    if not isinstance(env, yaml.MappingNode):
        return
    lines = edits.lines
    tokens = [(k, v) for k, v in env.value if _scalar(k) in _TOKEN_ENV]
    if not tokens:
        return
    for _, v in tokens:
        result.secrets += _SECRET.findall(_scalar(v))
    if len(tokens) == len(env.value):
        env_key = next(k for k, v in parent.value if v is env)
        edits.replace(env_key.start_mark.line, _span(env, lines)[1], [])
    else:
        for k, v in tokens:
            edits.replace(k.start_mark.line, max(k.start_mark.line + 1, _span(v, lines)[1]), [])
    names = ", ".join(_scalar(k) for k, _ in tokens)
    result.changes.append(f"{workflow.where(env.start_mark.line)}: removed the token variables {names}")


def _plan_job_env(workflow: Workflow, job: _Job, edits: _Edits, result: Plan) -> None:
    env = job.get("env")
    if env is not None:
        _remove_token_keys(env, edits, result, workflow, step_level=False, parent=job.node)


def _plan_token_env(workflow: Workflow, env: yaml.Node | None, edits: _Edits, result: Plan) -> None:
    if env is not None and isinstance(workflow.root, yaml.MappingNode):
        _remove_token_keys(env, edits, result, workflow, step_level=False, parent=workflow.root)


def _body_indent(job: _Job, lines: list[str]) -> str:
    first_key = job.node.value[0][0]
    return _indent(lines[first_key.start_mark.line])


def _plan_environment_and_permissions(
    workflow: Workflow,
    job: _Job,
    edits: _Edits,
    result: Plan,
    environment: str,
    project_name: str,
    has_checkout: bool,
) -> None:
    lines = edits.lines
    indent = _body_indent(job, lines)
    runs_on = _get(job.node, "runs-on")
    at = _span(runs_on[1], lines)[1] if runs_on else job.key.start_mark.line + 1
    new: list[str] = []
    if job.get("environment") is None:
        new += [
            f"{indent}environment:",
            f"{indent}  name: {environment}",
            f"{indent}  url: https://pypi.org/project/{project_name}/",
        ]
        result.changes.append(
            f"{workflow.where(job.key.start_mark.line + 1)}: job {job.id} runs in environment {environment}"
        )
    permissions = _get(job.node, "permissions")
    grant = ["id-token: write  # Trusted Publishing: PyPI's short-lived token"]
    if has_checkout:
        grant.append("contents: read  # check out the code")
    if permissions is None:
        new += [f"{indent}permissions:", *(f"{indent}  {g}" for g in grant)]
        result.changes.append(
            f"{workflow.where(job.key.start_mark.line + 1)}: job {job.id} may request an OIDC token (id-token: write)"
        )
    elif not _has_id_token(permissions[1]):
        node = permissions[1]
        if isinstance(node, yaml.MappingNode) and node.flow_style is False and node.value:
            child = _indent(lines[node.value[0][0].start_mark.line])
            edits.insert(permissions[0].start_mark.line + 1, [f"{child}{grant[0]}"])
        elif isinstance(node, yaml.MappingNode):  # {} or {contents: read}
            existing = [
                f"{indent}  {_scalar(k)}: {_scalar(v)}" for k, v in node.value if _scalar(k) != "id-token"
            ]
            edits.replace(
                permissions[0].start_mark.line,
                permissions[0].start_mark.line + 1,
                [f"{indent}permissions:", f"{indent}  {grant[0]}", *existing],
            )
        else:
            raise RetrofitRefusal(
                f"{workflow.where(permissions[0].start_mark.line + 1)}: job {job.id} has "
                f"`permissions: {_scalar(node)}`; list the permissions it needs instead, commit, and run copier again."
            )
        result.changes.append(
            f"{workflow.where(permissions[0].start_mark.line + 1)}: job {job.id} may request an OIDC token (id-token: write)"
        )
    if new:
        edits.insert(at, new)


def _plan_needs(
    workflow: Workflow,
    job: _Job,
    jobs: list[_Job],
    job_ids: set[str],
    edits: _Edits,
    result: Plan,
    python_versions: list[str],
    uses: Callable[[str], str],
    install: str,
) -> None:
    lines = edits.lines
    by_id = {j.id: j for j in jobs}

    def upstream(j: _Job) -> Iterator[_Job]:
        seen, todo = set(), list(j.needs())
        while todo:
            name = todo.pop()
            if name in seen or name not in by_id:
                continue
            seen.add(name)
            yield by_id[name]
            todo += by_id[name].needs()

    if job.runs_tests() or any(u.runs_tests() for u in upstream(job)):
        return
    testers = [
        j for j in jobs if j.runs_tests() and j is not job and job.id not in [u.id for u in upstream(j)]
    ]
    if testers:
        test_id = testers[0].id
    else:
        test_id = next(n for n in ("test", "tests", "test-before-publish", "pytest") if n not in job_ids)
        key_line = job.key.start_mark.line
        edits.insert(
            key_line, test_job_lines(test_id, _indent(lines[key_line]), python_versions, install, uses)
        )
        result.changes.append(
            f"{workflow.where(key_line + 1)}: added job {test_id}: the tests on Python "
            f"{', '.join(python_versions)}"
        )
    indent = _body_indent(job, lines)
    found = _get(job.node, "needs")
    if found is None:
        edits.insert(job.key.start_mark.line + 1, [f"{indent}needs: {test_id}"])
    else:
        key, node = found
        if isinstance(node, yaml.SequenceNode) and not node.flow_style:
            item_line = lines[node.value[0].start_mark.line]
            edits.insert(_span(node, lines)[1], [f"{_indent(item_line)}- {test_id}"])
        else:
            names = [*job.needs(), test_id]
            edits.replace(
                key.start_mark.line,
                _span(node, lines)[1]
                if node.end_mark.line > key.start_mark.line
                else key.start_mark.line + 1,
                [f"{indent}needs: [{', '.join(names)}]"],
            )
    result.changes.append(f"{workflow.where(job.key.start_mark.line + 1)}: job {job.id} needs {test_id}")


def upgrade(root: Path, **kwargs: Any) -> Plan | None:
    """Plan the upgrade of the project's publishing workflow (None when there is none)."""
    if reason := check(root):
        raise RetrofitRefusal(reason)
    workflows = publishing_workflows(root)
    if not workflows:
        return None
    return plan(workflows[0], **kwargs)
