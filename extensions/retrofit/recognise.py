"""Recognise every step that could publish, or refuse: the read step's account of credentials.

A workflow that runs for more than pull requests and hands a credential to a step, or runs
something that uploads, must be understood whole before the retrofit chooses what to do.
Each such step is one of:

- a known upload that the plan converts (workflows.py: twine, the publish action, the
  `publish` command of poetry, hatch, uv, flit and pdm, maturin and maturin-action);
- a known upload the retrofit does not convert (`setup.py upload`, a release tool that
  uploads by itself): refused, naming the tool;
- a known use of a credential that is not an upload to PyPI (coverage, container
  registries, notifications, GitHub's own CLI and release actions): kept as it is;
- a step in a job that never has the distributions (it builds none, downloads none and
  uploads none): kept as it is, whatever it is given.

Anything else that is handed a PyPI login (a secret named for PyPI, or any secret handed to a
variable an upload tool reads), or that runs code of the repository that uploads (a script, a
make, tox, nox or just target whose text holds an upload) in a job that has the distributions,
uploads in code the workflow does not show: the retrofit refuses, naming the file and line. So
it never adds a second publisher beside one it did not see. Other credentials beside the
distributions (coverage, docs hosts, conda, registries, chat, Homebrew) are no upload to PyPI.
Standard library and PyYAML only.
"""

from __future__ import annotations

import re

import yaml

from .credentials import PYPI_VARIABLE, hands_login, pypi_secret
from .workflows import (
    ALL_SECRETS,
    PUBLISH_ACTION,
    UPLOAD_ANYWHERE,
    Job,
    Step,
    Workflow,
    get,
    github_token,
    repository_text,
    scalar,
    secrets_read,
)

# Events of a workflow that cannot release: anything else (a tag, a release, a push, a
# dispatch, a schedule, a call) may.
_NOT_RELEASING = {"pull_request", "merge_group", "issues", "issue_comment", "pull_request_review"}
# A secret that looks like a credential; GitHub's own token cannot upload to PyPI.
_CREDENTIAL = re.compile(r"TOKEN|PASSWORD|PASS|_KEY$|AUTH|SECRET", re.IGNORECASE)
# Uploads this retrofit does not convert, by command and by action.
_OTHER_UPLOAD_COMMANDS = [
    (re.compile(r"\bsetup\.py\b[^\n]*\bupload\b"), "`setup.py upload`"),
    (re.compile(r"\bsemantic-release\b[^\n]*\bpublish\b"), "python-semantic-release's `publish`"),
]
_RELEASE_TOOLS = ("relekang/python-semantic-release", "python-semantic-release/python-semantic-release")
# Actions that build the distributions; a job with one has them.
_BUILD_ACTIONS = ("pypa/cibuildwheel", "pyo3/maturin-action", "hynek/build-and-inspect-python-package")
_BUILD_COMMAND = re.compile(
    r"\b(?:python3?\s+-m\s+build|pyproject-build|(?:uv|poetry|hatch|flit|pdm|maturin)\s+build|pip3?\s+wheel"
    r"|setup\.py\b[^\n]*\b(?:sdist|bdist_wheel)|cibuildwheel)\b"
)
# Known uses of a credential that are not an upload to PyPI, kept as they are.
_OTHER_USES = (
    "actions/checkout",
    "codecov/",
    "coverallsapp/",
    "docker/login-action",
    "docker/build-push-action",
    "slackapi/",
    "peaceiris/actions-gh-pages",
    "softprops/action-gh-release",
    "ncipollo/release-action",
    "actions/create-release",
    "actions/upload-release-asset",
)
# Shell commands that use a credential for GitHub itself.
_GITHUB_COMMAND = re.compile(r"^(?:gh|git)\s")


def _releases(workflow: Workflow) -> bool:
    return bool(workflow.triggers() - _NOT_RELEASING)


def _secrets(node: yaml.Node | None) -> list[str]:
    """The secrets a node's text hands on (every scalar below it, in any expression form)."""
    found: list[str] = []
    todo = [node] if node is not None else []
    seen = 0
    while todo and seen < 10_000:  # aliases can repeat a node: a bound, not a traversal of every path
        item = todo.pop()
        seen += 1
        if isinstance(item, yaml.ScalarNode):
            found += secrets_read(item.value)
        elif isinstance(item, yaml.MappingNode):
            todo += [v for pair in item.value for v in pair]
        elif isinstance(item, yaml.SequenceNode):
            todo += item.value
    return list(dict.fromkeys(found))


def _pypi_variables(node: yaml.Node | None) -> list[str]:
    if not isinstance(node, yaml.MappingNode):
        return []
    return [scalar(k) for k, v in node.value if PYPI_VARIABLE.match(scalar(k)) and secrets_read(scalar(v))]


def _has_distributions(job: Job) -> bool:
    """The job builds, downloads or uploads the distributions at some step."""
    for step in job.steps:
        uses = step.uses.split("@")[0].lower()
        if uses.startswith(_BUILD_ACTIONS) or uses == "actions/download-artifact":
            return True
        if (
            step.uses.startswith(PUBLISH_ACTION + "@")
            or UPLOAD_ANYWHERE.search(step.run)
            or _BUILD_COMMAND.search(step.run)
        ):
            return True
    return False


def _credentials(names: list[str]) -> list[str]:
    """The secrets among ``names`` that look like credentials (GitHub's own token is none; the
    whole context, handed on at once, holds every credential)."""
    return [n for n in names if n == ALL_SECRETS or (_CREDENTIAL.search(n) and not github_token(n))]


def _other_use(step: Step) -> bool:
    """A credential's known use that is not an upload to PyPI."""
    uses = step.uses.split("@")[0].lower()
    if uses:
        return uses.startswith(_OTHER_USES)
    commands = [c.strip() for c in step.run.splitlines() if c.strip() and not c.strip().startswith("#")]
    return bool(commands) and all(_GITHUB_COMMAND.match(c) for c in commands)


def _what(step: Step) -> str:
    if step.uses:
        return f"the action {step.uses.split('@')[0]}"
    first = next((c.strip() for c in step.run.splitlines() if c.strip()), "")
    return f"`{first[:60]}`"


def _inherited(workflow: Workflow, who: str, steps: list[Step], env: yaml.Node | None, line: int) -> str:
    """A PyPI credential set in an `env:` that every step of the job inherits, where no step is an
    upload this template knows: something else reads it."""
    pypi = _pypi_variables(env) + [s for s in _secrets(env) if pypi_secret(s)]
    if not pypi or any(step.uploads for step in steps):
        return ""
    return (
        f"{workflow.where(line)}: {pypi[0]} is set for every step of {who}, and none of them is an "
        "upload this template knows, so a script or tool there reads it and this template cannot tell what "
        "it does. Upload with `twine upload dist/*` or pypa/gh-action-pypi-publish, commit, and run copier "
        "again; or retrofit by hand (documentation: Existing project)."
    )


def obstacle(workflow: Workflow) -> str:
    """Why ``workflow`` cannot be retrofitted as it is read ("" when every step that could
    publish is accounted for): the first unaccounted step, with its file and line."""
    if not _releases(workflow):
        return ""
    jobs = workflow.jobs()
    for job in jobs:
        if reason := _reusable(workflow, job):
            return reason
        distributions = _has_distributions(job)
        for step in job.steps:
            if reason := _step_obstacle(workflow, job, step, distributions):
                return reason
        env = get(job.node, "env")
        if env and (
            reason := _inherited(workflow, f"job {job.id}", job.steps, env[1], env[0].start_mark.line + 1)
        ):
            return reason
    root_env = get(workflow.root, "env")
    every_step = [step for job in jobs for step in job.steps]
    if root_env and (
        reason := _inherited(
            workflow, "the workflow", every_step, root_env[1], root_env[0].start_mark.line + 1
        )
    ):
        return reason
    return ""


_PUBLISHING_NAME = re.compile(
    r"pypi|publish|upload|wheel|dist|package|deploy|release(?!-drafter)", re.IGNORECASE
)


def _reusable(workflow: Workflow, job: Job) -> str:
    reusable = scalar(job.get("uses"))
    if not reusable or reusable.startswith("./"):
        return ""  # a workflow of this repository is read as one of its own files
    handed = _credentials(_secrets(job.get("secrets")))
    if not handed and scalar(job.get("secrets")) != "inherit":
        return ""
    # Given a PyPI login, or any secrets by a workflow that publishes by its name: it may upload.
    # A review bot or a changelog generator handed the secrets is no upload to PyPI.
    if not any(pypi_secret(name) for name in handed) and not _PUBLISHING_NAME.search(reusable.split("@")[0]):
        return ""
    return (
        f"{workflow.where(job.key.start_mark.line + 1)}: job {job.id} calls {reusable}, another repository's "
        "workflow, with your secrets; this template cannot read it to tell whether it uploads to PyPI. "
        "Retrofit that workflow by hand (documentation: Existing project)."
    )


def _step_obstacle(workflow: Workflow, job: Job, step: Step, distributions: bool) -> str:
    where = workflow.where(step.line)
    for pattern, tool in _OTHER_UPLOAD_COMMANDS:
        if pattern.search(step.run):
            return (
                f"{where}: {tool} uploads to PyPI in a way this template does not convert. Build with it, "
                "upload with `twine upload dist/*` or pypa/gh-action-pypi-publish instead, commit, and run "
                "copier again (the retrofit then moves that upload to Trusted Publishing)."
            )
    uses = step.uses.split("@")[0].lower()
    credentials = _credentials(_secrets(step.node))
    if uses.startswith(_RELEASE_TOOLS) and credentials:
        return (
            f"{where}: {step.uses.split('@')[0]} is given secrets.{credentials[0]} and can upload to PyPI by "
            "itself; this template will not guess what it does. Retrofit by hand (documentation: Existing project)."
        )
    if step.uploads or not credentials or _other_use(step):
        return ""
    commands = [c.strip() for c in step.run.splitlines() if c.strip() and not c.strip().startswith("#")]
    if commands and all(hands_login(c, set()) for c in commands) and any(s.uploads for s in job.steps):
        return ""  # it hands the login to the job's own upload (`poetry config pypi-token.pypi ...`)
    # Every secret at once (toJSON(secrets)) holds a PyPI login, if there is one: it could upload
    # in a job that has the distributions.
    pypi = [s for s in credentials if pypi_secret(s) or (s == ALL_SECRETS and distributions)]
    pypi += _pypi_variables(step.get("env"))
    if pypi:
        handed = (
            "every secret (toJSON(secrets))" if pypi[0] == ALL_SECRETS else f"a PyPI credential ({pypi[0]})"
        )
        return (
            f"{where}: {_what(step)} is handed {handed} and this template cannot read what it does with it (a "
            "script, a make, tox or nox target, an action it does not know), so it may upload in code the "
            "workflow does not show. Upload with `twine upload dist/*` or pypa/gh-action-pypi-publish instead, "
            "commit, and run copier again; or retrofit by hand (documentation: Existing project)."
        )
    if distributions and (code := _code_that_uploads(workflow, step)):
        return (
            f"{where}: {_what(step)} is handed secrets.{credentials[0]} in job {job.id}, which has the "
            f"distributions, and runs {code}, which uploads: the upload happens in code the workflow does not "
            "show. Upload from the workflow (`twine upload dist/*` or pypa/gh-action-pypi-publish), commit, and "
            "run copier again; or retrofit by hand (documentation: Existing project)."
        )
    return ""


# A command that runs code of the repository: a script, or a make, just, tox or nox target.
_SCRIPT = re.compile(r"^(?:(?:ba|z)?sh\s+|python3?\s+|\./)([\w./-]+)")
_TARGET = re.compile(r"^(make|just)\s+(?:-\S+\s+)*([A-Za-z_][\w.-]*)")
_RUNNER_FILE = re.compile(r"^(tox|nox)\b")


def _code_that_uploads(workflow: Workflow, step: Step) -> str:
    """The file of the repository (and its line) that a step runs and whose text uploads ("" for
    none): a script, the recipe of a make or just target, tox.ini or noxfile.py."""
    root = workflow.path.parents[2]
    for command in (line.strip() for line in step.run.splitlines()):
        name, part = "", ""
        if match := _SCRIPT.match(command):
            name = match.group(1)
        elif match := _TARGET.match(command):
            name = "Makefile" if match.group(1) == "make" else "justfile"
            recipe = re.search(
                rf"^{re.escape(match.group(2))}\s*:[^\n]*\n((?:[ \t]+[^\n]*\n?)*)",
                repository_text(root, name),
                re.MULTILINE,
            )
            part = recipe.group(0) if recipe else ""
        elif match := _RUNNER_FILE.match(command):
            name = "tox.ini" if match.group(1) == "tox" else "noxfile.py"
        if not name:
            continue
        text = repository_text(root, name)
        if found := UPLOAD_ANYWHERE.search(part or text):
            offset = text.find(part) if part else 0
            return f"{name}:{text[: offset + found.start()].count(chr(10)) + 1}"
    return ""
