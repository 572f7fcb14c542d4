"""What a workflow uploads, read before anything is planned: its uploading jobs, the secrets
their uploads read, whether it is already on Trusted Publishing, the name PyPI receives (a
name a step rewrites before the build, or a package built from a subfolder), and which jobs
run before and after an upload.

The read step of the retrofit's flow (read -> plan -> verify -> write): planner.py plans
from these facts; nothing here edits a line.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from . import credentials
from .workflows import (
    MATURIN_ACTION,
    PUBLISH_ACTION,
    UPLOAD_ANYWHERE,
    Job,
    RetrofitRefusal,
    Step,
    Workflow,
    get_root,
    github_token,
    has_id_token,
    scalar,
    secrets_read,
)

MATURIN_COMMAND = re.compile(r"\bmaturin\s+(?:upload|publish)\b")
# A command that edits the package's metadata file, and what it may set the name to.
_METADATA_EDIT = re.compile(
    r"\b(?:sed|perl|toml|tomlq|yq|python3?|jq)\b[^\n]*(?:pyproject\.toml|setup\.cfg|setup\.py)"
)
_SED_NAME = re.compile(r"""(?:^|[\s'"])s([/|#:,@])[^\n]*?\bname\b[^\n]*?\1([^\n]*?)\1""")
_NAME_VALUE = re.compile(r"""\bname\s*=\s*\\?["']([A-Za-z0-9][A-Za-z0-9._-]*)\\?["']""")


def maturin_uploads(job: Job) -> list[Step]:
    """maturin's own uploads: `maturin upload|publish`, or PyO3/maturin-action's `command: upload`."""
    return [
        s
        for s in job.upload_steps()
        if s.uses.split("@")[0].lower() == MATURIN_ACTION or MATURIN_COMMAND.search(s.run)
    ]


def uploading_jobs(workflow: Workflow) -> list[Job]:
    return workflow.publishing_jobs()


def upload_credentials(workflow: Workflow) -> set[str]:
    """The secrets the workflow's uploads read: the action's login, the upload commands' own
    options, the variables upload tools read (at every level), and the lines that hand one on;
    and every secret named like a PyPI login."""
    found: set[str] = set()
    for job in uploading_jobs(workflow):
        for step in job.steps:
            inputs = step.get("with")
            if step.uses.startswith(PUBLISH_ACTION + "@") and isinstance(inputs, yaml.MappingNode):
                for key, value in inputs.value:
                    if scalar(key) in ("password", "user", "username"):
                        found.update(secrets_read(scalar(value)))
            for line in step.run.splitlines():
                if (
                    UPLOAD_ANYWHERE.search(line)
                    or MATURIN_COMMAND.search(line)
                    or credentials.hands_login(line, set())
                ):
                    found.update(secrets_read(line))
            found.update(_login_variables(step.get("env")))
        found.update(_login_variables(job.get("env")))
    found.update(_login_variables(get_root(workflow, "env")))
    found.update(name for name in secrets_read(workflow.text) if credentials.pypi_secret(name))
    found = {name for name in found if not github_token(name)}
    return found


def is_trusted(workflow: Workflow) -> bool:
    """Already on Trusted Publishing: every job that uploads may request the OIDC token and is
    given no PyPI login at all (maturin-action with its token in `env:` is not)."""
    root = get_root(workflow, "permissions")
    for job in uploading_jobs(workflow):
        if not (
            has_id_token(job.get("permissions")) or (job.get("permissions") is None and has_id_token(root))
        ):
            return False
        texts = [step.node_text for step in job.steps] + [scalar(v) for _, v in _pairs(job.get("env"))]
        texts += [scalar(v) for _, v in _pairs(get_root(workflow, "env"))]
        if any(credentials.credential_in(text, set()) for text in texts):
            return False
        if _login_variables(job.get("env")) or any(_login_variables(step.get("env")) for step in job.steps):
            return False
        for step in job.upload_steps():
            inputs = step.get("with")
            if isinstance(inputs, yaml.MappingNode) and any(scalar(k) == "password" for k, _ in inputs.value):
                return False
            if any(
                credentials.strip_login(tool, line) != line
                for line in step.run.splitlines()
                for tool in ("twine", "uv")
            ):
                return False
    return True


def _pairs(node: yaml.Node | None) -> list[tuple[yaml.Node, yaml.Node]]:
    return list(node.value) if isinstance(node, yaml.MappingNode) else []


def _login_variables(env: yaml.Node | None) -> set[str]:
    if not isinstance(env, yaml.MappingNode):
        return set()
    return {
        name
        for key, value in env.value
        if credentials.PYPI_VARIABLE.match(scalar(key))
        for name in secrets_read(scalar(value))
    }


def built_name(workflow: Workflow, project_name: str) -> str:
    """The name PyPI receives from this workflow: the metadata's, unless a step rewrites it
    before the build (a nightly `sed` to `NAME-nightly`), then the literal it writes; refused
    where a step rewrites it in a way this template cannot read."""
    for job in uploading_jobs(workflow):
        for step in [s for j in _upstream(workflow, job) for s in j.steps] + job.steps:
            for offset, line in enumerate(step.run.splitlines()):
                if not _METADATA_EDIT.search(line) or not re.search(r"\bname\b", line):
                    continue
                sed = _SED_NAME.search(line)
                value = _NAME_VALUE.search(sed.group(2)) if sed else None
                if value:
                    return value.group(1)
                raise RetrofitRefusal(
                    f"{workflow.where(step.line + offset + 1)}: this step rewrites the package's name before the "
                    "build, so the name PyPI receives is not the one the metadata says, and this template cannot "
                    "tell it; a trusted publisher under the wrong name never matches. Write the new name as a "
                    'literal (`sed -i \'s/name = "a"/name = "a-nightly"/\' pyproject.toml`), or retrofit by hand '
                    "(documentation: Existing project)."
                )
    return _subfolder_name(workflow) or project_name


# Actions that build a package (the folder they are given is the package's).
_BUILDERS = ("pyo3/maturin-action", "pypa/cibuildwheel", "hynek/build-and-inspect-python-package")
# A word that may name a folder of the repository (`plugins/x`, `./packages/core/`).
_FOLDER_WORD = re.compile(
    r"(?<![\w$/.-])\.?/?([A-Za-z0-9_][\w.-]*(?:/[\w.-]+)+|[A-Za-z0-9_][\w.-]*)/?(?![\w/])"
)


def _subfolder_name(workflow: Workflow) -> str:
    """The package a workflow builds from a subfolder of the repository that is a project of its
    own (`tox -e build -- plugins/x`, `working-directory: packages/core`): its own metadata's
    name. "" where it builds the top-level project; refused where the name cannot be read or
    it builds several."""
    from . import project

    root = workflow.path.parents[2]
    found: dict[str, int] = {}
    for job in uploading_jobs(workflow):
        for step in [s for j in _upstream(workflow, job) for s in j.steps] + job.steps:
            if step.uses and not step.uses.split("@")[0].lower().startswith(_BUILDERS):
                continue  # an artifact, a cache, a checkout: no build
            words = _FOLDER_WORD.findall(step.node_text)
            for word in words:
                folder = word.strip("/")
                if (root / folder).is_file():
                    folder = str(Path(folder).parent)  # --manifest-path sub/Cargo.toml
                for tail in ("/dist", "/wheelhouse"):
                    folder = folder.removesuffix(tail)
                if folder not in ("", ".", ".github") and any(
                    (root / folder / n).is_file() for n in ("pyproject.toml", "setup.py", "setup.cfg")
                ):
                    found.setdefault(folder, step.line)
    if not found:
        return ""
    if len(found) > 1:
        folders = ", ".join(sorted(found))
        raise RetrofitRefusal(
            f"{workflow.where(min(found.values()))}: it builds packages from several folders ({folders}); each is a "
            "PyPI project of its own, with a trusted publisher of its own. Retrofit it by hand (documentation: "
            "Existing project)."
        )
    [(folder, line)] = found.items()
    try:
        name = project.metadata(root / folder).get("project_name", "")
    except project.ProjectFileError:
        name = ""
    if not name:
        raise RetrofitRefusal(
            f"{workflow.where(line)}: it builds the package in {folder}/, whose files name no package this template "
            "can read, so the name PyPI receives is unknown. Retrofit it by hand (documentation: Existing project)."
        )
    return name


def _upstream(workflow: Workflow, job: Job) -> list[Job]:
    jobs = {j.id: j for j in workflow.jobs()}
    seen: dict[str, Job] = {}
    todo = list(job.needs())
    while todo:
        name = todo.pop()
        if name in jobs and name not in seen:
            seen[name] = jobs[name]
            todo += jobs[name].needs()
    return list(seen.values())


def dependents(workflow: Workflow, job: Job) -> list[Job]:
    """The jobs that list ``job`` under `needs:` (they ran after its upload)."""
    return [j for j in workflow.jobs() if job.id in j.needs()]
