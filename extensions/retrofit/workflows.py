"""Reading an existing project's GitHub workflows: which ones upload to PyPI, and how.

The first step of a retrofit (read -> plan -> write): upgrade.py plans the edits from what this module reads. Workflows are read only when they are regular UTF-8
files of bounded size inside the project; anything else raises ``RetrofitRefusal``
naming the file, before anything is written. Standard library and PyYAML only.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from pathlib import Path

import yaml

PUBLISH_ACTION = "pypa/gh-action-pypi-publish"
PYPI_UPLOAD_URLS = {
    "https://upload.pypi.org/legacy/",
    "https://upload.pypi.org/legacy",
    "https://pypi.org/legacy/",
}
TESTPYPI_UPLOAD_URL = "https://test.pypi.org/legacy/"
# A command that uploads, at the start of a shell line: twine, or a tool's publish command,
# run directly or through python -m, uv run / uvx, pipx run.
_RUNNER = r"(?:(?:python3?\s+-m|uv\s+run(?:\s+--?[\w-]+(?:[ =][^\s-]\S*)?)*|uvx|pipx\s+run)\s+)?"
UPLOAD = re.compile(
    _RUNNER + r"(?:twine\s+upload\b|(?:poetry|hatch|uv|flit|pdm)\s+publish\b|maturin\s+(?:upload|publish)\b)"
)
UPLOAD_ANYWHERE = re.compile(
    r"\btwine\s+upload\b|\b(?:poetry|hatch|uv|flit|pdm)\s+publish\b|\bmaturin\s+(?:upload|publish)\b"
)
MATURIN_ACTION = "pyo3/maturin-action"
SECRET = re.compile(r"\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}")
# Inside a `${{ }}` expression, every way to read a secret: `secrets.X`, `secrets['X']`,
# `secrets["X"]` (in `||`, `&&`, `format()`... alike), and the whole context (`toJSON(secrets)`).
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_SECRET_READ = re.compile(
    r"""\bsecrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\2\s*\])"""
)
_WHOLE_SECRETS = re.compile(r"\bsecrets\b(?!\s*[.\[])")
# What `secrets_read` lists for an expression that hands every secret on.
ALL_SECRETS = "*"


def github_token(name: str) -> bool:
    """GitHub's own token: `secrets.GITHUB_TOKEN`, in any case (secret names ignore case, and
    `github_token` is a name GitHub reserves)."""
    return name.upper() == "GITHUB_TOKEN"


def secrets_read(text: str) -> list[str]:
    """The secrets ``text`` reads in its `${{ }}` expressions, in order, each once; ``ALL_SECRETS``
    where an expression reads the whole context."""
    found: list[str] = []
    for expression in EXPRESSION.findall(text):
        for match in _SECRET_READ.finditer(expression):
            found.append(match.group(1) or match.group(3))
        if _WHOLE_SECRETS.search(_SECRET_READ.sub("", expression)):
            found.append(ALL_SECRETS)
    return list(dict.fromkeys(found))


_TESTS = re.compile(
    r"pytest|unittest|\b(?:tox|nox)\b|\bhatch (?:test|run\b.*\btests?\b)|\bmake test\b|\bjust test\b"
)


# A step that runs a script of the repository, or a make target.
_SCRIPT = re.compile(r"^(?:(?:ba|z)?sh\s+|\./)([\w./-]+)")
_MAKE = re.compile(r"^make\s+(?:-\S+\s+)*([A-Za-z_][\w.-]*)")
MAX_SCRIPT_BYTES = 200_000


def repository_text(root: Path, name: str) -> str:
    """The text of a regular file of the repository ("" for anything else: a link, a folder,
    a path out of it, a large or unreadable file)."""
    path = root / name
    try:
        if path.is_symlink() or not path.resolve().is_relative_to(root.resolve()) or not path.is_file():
            return ""
        if path.stat().st_size > MAX_SCRIPT_BYTES:
            return ""
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


class RetrofitRefusal(Exception):
    """The workflow cannot be upgraded safely; nothing was changed."""


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


def _shows_nothing_to_pypi(raw: bytes) -> bool:
    """A workflow's bytes, read with every undecodable byte replaced, hold no upload, no publish
    action and no secret at all: whatever it does, it does not publish to PyPI."""
    text = raw.decode("utf-8", errors="replace")
    return not (UPLOAD_ANYWHERE.search(text) or PUBLISH_ACTION in text or secrets_read(text))


def read_workflows(root: Path) -> list[Workflow]:
    """Every workflow of the project, read. A file that is not UTF-8 and shows nothing that could
    publish (no upload, no publish action, no secret) is passed over: it cannot be edited, and
    no retrofit or update needs to (any other unreadable file is refused, naming it)."""
    found = []
    for path in workflow_files(root):
        try:
            found.append(Workflow(path))
        except RetrofitRefusal:
            if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_WORKFLOW_BYTES:
                raise
            raw = path.read_bytes()
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                if _shows_nothing_to_pypi(raw):
                    continue
            raise
    return found


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
            f"({MAX_WORKFLOW_BYTES}); retrofit it by hand (the template's documentation: Existing project)."
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
    raw = path.read_bytes()
    crlf = raw.count(b"\r\n")
    if crlf and crlf != raw.count(b"\n"):
        line = next(n for n, text in enumerate(raw.split(b"\n"), 1) if not text.endswith(b"\r"))
        return (
            f".github/workflows/{path.name}:{line}: mixed line ends (CRLF and LF), which an edit would make "
            "all one kind. Convert the file to one kind, commit, and run copier again."
        )
    return ""


def get(node: yaml.Node | None, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k, v
    return None


def scalar(node: yaml.Node | None) -> str:
    return node.value if isinstance(node, yaml.ScalarNode) else ""


@dataclass
class Step:
    node: yaml.MappingNode

    def get(self, key: str) -> yaml.Node | None:
        found = get(self.node, key)
        return found[1] if found else None

    @property
    def uses(self) -> str:
        return scalar(self.get("uses"))

    @property
    def run(self) -> str:
        return scalar(self.get("run"))

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1

    @property
    def node_text(self) -> str:
        """Every scalar of the step, one per line (what it hands on, wherever it is written)."""
        found, todo = [], [self.node]
        while todo:
            node = todo.pop()
            if isinstance(node, yaml.ScalarNode):
                found.append(node.value)
            elif isinstance(node, yaml.MappingNode):
                todo += [v for pair in node.value for v in pair]
            elif isinstance(node, yaml.SequenceNode):
                todo += node.value
        return "\n".join(found)

    @property
    def uploads(self) -> bool:
        """An upload the retrofit converts: the publish action, PyO3/maturin-action's `command:
        upload`, or an upload command in `run:`."""
        if self.uses.split("@")[0].lower() == MATURIN_ACTION:
            command = get(self.get("with"), "command")
            return command is not None and scalar(command[1]) in ("upload", "publish")
        return self.uses.startswith(PUBLISH_ACTION + "@") or bool(UPLOAD_ANYWHERE.search(self.run))


@dataclass
class Job:
    id: str
    key: yaml.ScalarNode
    node: yaml.MappingNode
    # The workflows folder it was read from: a job that calls a workflow of this repository
    # runs what that workflow runs.
    folder: Path | None = None

    def get(self, key: str) -> yaml.Node | None:
        found = get(self.node, key)
        return found[1] if found else None

    @property
    def steps(self) -> list[Step]:
        steps = self.get("steps")
        if not isinstance(steps, yaml.SequenceNode):
            return []
        return [Step(s) for s in steps.value if isinstance(s, yaml.MappingNode)]

    def upload_steps(self) -> list[Step]:
        return [s for s in self.steps if s.uploads]

    def runs_tests(self, depth: int = 0) -> bool:
        """A step runs tests: a test command, or a build that tests what it builds
        (cibuildwheel's CIBW_TEST_COMMAND, set on the step or the job); or the job calls a
        workflow of this repository that runs tests."""
        env = [self.get("env"), *(s.get("env") for s in self.steps)]
        tested_build = any(get(e, "CIBW_TEST_COMMAND") for e in env if isinstance(e, yaml.MappingNode))
        return (
            tested_build
            or any(_TESTS.search(s.run) or self._script_tests(s.run) for s in self.steps)
            or self._calls_tests(depth)
        )

    def _script_tests(self, run: str) -> bool:
        """The step runs a script or a make target of the repository whose text runs tests
        (`bash scripts/test.sh`, `./ci/check`, `make check`)."""
        if self.folder is None or not run:
            return False
        root = self.folder.parents[1]
        for command in (line.strip() for line in run.splitlines()):
            if script := _SCRIPT.match(command):
                if _TESTS.search(repository_text(root, script.group(1))):
                    return True
            elif target := _MAKE.match(command):
                recipe = re.search(
                    rf"^{re.escape(target.group(1))}\s*:[^\n]*\n((?:\t[^\n]*\n?)*)",
                    repository_text(root, "Makefile"),
                    re.MULTILINE,
                )
                if recipe and _TESTS.search(recipe.group(1)):
                    return True
        return False

    def _calls_tests(self, depth: int) -> bool:
        called = scalar(self.get("uses")).split("@")[0]
        if self.folder is None or not called.startswith("./.github/workflows/") or depth > 3:
            return False
        try:
            workflow = Workflow(self.folder / called.removeprefix("./.github/workflows/"))
        except (RetrofitRefusal, OSError):
            return False
        return any(job.runs_tests(depth + 1) for job in workflow.jobs())

    def needs(self) -> list[str]:
        node = self.get("needs")
        if isinstance(node, yaml.ScalarNode):
            return [node.value]
        if isinstance(node, yaml.SequenceNode):
            return [scalar(n) for n in node.value]
        return []


def _compose(text: str) -> yaml.Node | None:
    """The YAML node tree of a workflow. A tab where PyYAML wants a space (`key:\tvalue`),
    which GitHub reads, is read as that space: each character keeps its line and column, so
    that the edits, made on the text itself, land where they should."""
    try:
        return yaml.compose(text)
    except yaml.YAMLError as error:
        if "\t" not in str(error) and "\\t" not in str(error):
            raise
        return yaml.compose(text.replace("\t", " "))


def _duplicate_key(root: yaml.Node | None) -> tuple[yaml.ScalarNode, yaml.ScalarNode] | None:
    """(the second, the first) of a key set twice in one mapping; each node is looked at once
    (aliases repeat nodes). Merge keys (`<<`) are YAML's own and may repeat."""
    seen: set[int] = set()
    todo = [root] if root is not None else []
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: dict[str, yaml.ScalarNode] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                    if key.value in keys:
                        return key, keys[key.value]
                    keys[key.value] = key
                todo.append(value)
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
    return None


class Workflow:
    def __init__(self, path: Path, text: str | None = None) -> None:
        self.path = path
        self.newline = "\n"
        if text is None:
            text, self.newline = read_workflow(path)
        self.text = text.replace("\r\n", "\n")
        try:
            self.root = _compose(self.text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            raise RetrofitRefusal(
                f"{self.where(mark.line + 1 if mark else 1)}: not valid YAML ({error})."
            ) from None
        except RecursionError:
            raise RetrofitRefusal(
                f"{self.where(1)}: nested too deeply to read (thousands of levels); retrofit it by hand "
                "(the template's documentation: Existing project)."
            ) from None

        if duplicate := _duplicate_key(self.root):
            key, first = duplicate
            raise RetrofitRefusal(
                f"{self.where(key.start_mark.line + 1)}: `{key.value}` is set twice in one mapping (first at "
                f"line {first.start_mark.line + 1}); GitHub refuses such a workflow, and which one a reader "
                "keeps is a guess. Remove one, commit, and run copier again."
            )

    def where(self, line: int) -> str:
        return f".github/workflows/{self.path.name}:{line}"

    def jobs(self) -> list[Job]:
        found = get(self.root, "jobs")
        if not found or not isinstance(found[1], yaml.MappingNode):
            return []
        return [
            Job(k.value, k, v, self.path.parent) for k, v in found[1].value if isinstance(v, yaml.MappingNode)
        ]

    def triggers(self) -> set[str]:
        """The events the workflow runs on; a push of tags only is "push-tags"."""
        found = get(self.root, "on")
        if found is None:
            return set()
        node = found[1]
        if isinstance(node, yaml.ScalarNode):
            return {node.value}
        if isinstance(node, yaml.SequenceNode):
            return {scalar(n) for n in node.value}
        names = set()
        for key, value in node.value:
            name = scalar(key)
            if (
                name == "push"
                and isinstance(value, yaml.MappingNode)
                and get(value, "tags")
                and not (get(value, "branches") or get(value, "branches-ignore"))
            ):
                name = "push-tags"
            names.add(name)
        return names

    def publishing_jobs(self) -> list[Job]:
        return [j for j in self.jobs() if j.upload_steps()]

    def first_upload_line(self) -> int:
        """The line of the first upload step (1 when there is none)."""
        return min((step.line for job in self.publishing_jobs() for step in job.upload_steps()), default=1)


_PUBLISHING: dict[tuple[str, tuple[tuple[str, int, int], ...]], list[Workflow]] = {}


def publishing_workflows(root: Path) -> list[Workflow]:
    """The workflows that upload to PyPI (parsed once per state of the workflow files)."""
    files = workflow_files(root)
    key = (str(root), tuple((f.name, f.lstat().st_mtime_ns, f.lstat().st_size) for f in files))
    if key not in _PUBLISHING:
        _PUBLISHING[key] = [w for w in read_workflows(root) if w.publishing_jobs()]
    return _PUBLISHING[key]


def get_root(workflow: Workflow, key: str) -> yaml.Node | None:
    found = get(workflow.root, key)
    return found[1] if found else None


def has_id_token(node: yaml.Node | None) -> bool:
    if isinstance(node, yaml.ScalarNode):
        return scalar(node) == "write-all"
    found = get(node, "id-token")
    return found is not None and scalar(found[1]) == "write"


# --- where a node is, in lines -----------------------------------------------------------


def end_line(node: yaml.Node) -> int:
    """The line index just after ``node``'s last line (PyYAML's end marks of block
    collections point at the next token, so they are worked out from the last child)."""
    if isinstance(node, yaml.ScalarNode):
        if node.style in ("|", ">"):
            return node.end_mark.line + (1 if node.end_mark.column > 0 else 0)
        return node.end_mark.line + 1
    if getattr(node, "flow_style", False) or not node.value:
        return node.end_mark.line + 1
    last = node.value[-1][1] if isinstance(node, yaml.MappingNode) else node.value[-1]
    return max(end_line(last), node.start_mark.line + 1)


def span(node: yaml.Node, lines: list[str]) -> tuple[int, int]:
    """[first, last) line indexes of ``node``."""
    return node.start_mark.line, end_line(node)
