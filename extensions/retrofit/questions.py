"""How an existing project comes to the template (retrofit), for copier's questions: the
``retrofit`` answer derived from the destination and every check that can refuse it, the
publishing workflow's name and environment, what the project already declares, and what the
retrofit did, for the messages.

Reached through extensions/destination.py (the run's one record of the destination), which
answers a new project's questions itself and imports this module only for a folder that holds
a project or workflows. Refusals that must stop copier before it writes anything raise
copier's ``UserMessageError`` (a plain message, no traceback). Nothing here writes a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from copier.errors import UserMessageError

from ..folder import (
    PROJECT_FILES,
    PUBLISH_WORKFLOW,
    answered_retrofit,
    answers_path,
    enclosing_repository,
    git,
    is_existing_project,
    other_template,
)
from . import project, recognise
from .upgrade import PLACEHOLDER_ENVIRONMENT, PLACEHOLDER_PROJECT, check, planned, tests_calls
from .workflows import RetrofitRefusal, Workflow, get, publishing_workflows, read_workflows, scalar


def derived_mode(path: Path) -> str:
    """On copy, the only answer ``retrofit`` may have, without the checks that can refuse it:
    what the destination holds (no project, a project, a project with a workflow that
    publishes). On update it is the recorded answer (destination.py)."""
    if not is_existing_project(path):
        return "no"
    try:
        return "upgrade" if publishing_workflows(path) else "add"
    except RetrofitRefusal:
        return "upgrade"  # the question's default says why it cannot be retrofitted


def retrofit_default(conf: Any) -> str:
    """On copy, how the project in the destination comes to the template: "no" (a new one),
    "add" or "upgrade".

    Derived, never asked: the destination decides (never a committed answers file, which
    anyone can edit), and every check runs; a project that cannot be retrofitted now stops
    copier here, with copier's plain message (no traceback) saying what to do. (On update it
    is what the project recorded when it was made: destination.py.)
    """
    path = Path(str(conf["dst_path"]))
    mode = "no"
    try:
        if is_existing_project(path):
            mode = "upgrade" if publishing_workflows(path) else "add"
        elif (path / ".github" / "workflows").is_dir():
            if publishing_workflows(path):
                raise UserMessageError(_subfolder_refusal(path))
            # A workflow that publishes in a way the retrofit does not convert: no new library
            # is rendered over a project that releases (its README, its LICENSE...).
            for workflow in read_workflows(path):
                if reason := recognise.obstacle(workflow):
                    raise UserMessageError(
                        f"{reason} (This folder holds no pyproject.toml, setup.py or setup.cfg, and copier "
                        "will not render a new library over a project that releases.)"
                    )
        reason = retrofit_error(conf, mode)
    except RetrofitRefusal as refusal:
        reason = str(refusal)
    if reason:
        raise UserMessageError(reason)
    return mode


def _link_out_of(path: Path) -> Path | None:
    """A symbolic link at the top of the project or in .github that leads outside it (copier
    9.10 refuses those with a traceback; reading one, such as a LICENSE linked to /dev/zero,
    could read forever)."""
    top = path.resolve()
    places = [path, path / ".github", path / ".github" / "workflows"]
    for place in places:
        if not place.is_dir() or place.is_symlink():
            continue  # a linked .github folder is refused by the workflow reader, naming it
        for entry in sorted(place.iterdir()):
            if entry.is_symlink() and not entry.resolve().is_relative_to(top):
                return entry
    return None


def _subfolder_refusal(path: Path) -> str:
    """A repository that publishes a package kept in a subfolder (a monorepo)."""
    packages = sorted(
        str(p.parent.relative_to(path))
        for depth in ("*", "*/*", "*/*/*")
        for name in PROJECT_FILES
        for p in path.glob(f"{depth}/{name}")
        if p.is_file() and ".git" not in p.parts
    )
    where = f" ({', '.join(dict.fromkeys(packages))})" if packages else ""
    uploads = [w.where(w.first_upload_line()) for w in publishing_workflows(path)]
    return (
        f"{', '.join(uploads)} uploads to PyPI, but this repository holds no pyproject.toml, setup.py or "
        f"setup.cfg at its top: the package lives in a subfolder{where}. This template retrofits a project "
        "whose package is at the top of the repository; it will not render a new library over this one. "
        "Retrofit the workflow by hand (documentation: Existing project)."
    )


def main_workflow(root: Path) -> Workflow | None:
    """The workflow that publishes the project's releases, of those that upload: the one that
    runs for a release or a tag and uploads to PyPI, else the first that uploads to PyPI, else
    the first (by name). Every other one gets a trusted publisher of its own too."""
    found = publishing_workflows(root)

    def rank(workflow: Workflow) -> tuple[int, int, str]:
        plan = planned(workflow)
        to_pypi = any(p.index == "pypi" for p in plan.publishers)
        releases = bool(workflow.triggers() & {"release", "push-tags"})
        return (not (to_pypi and releases), not to_pypi, workflow.path.name)

    try:
        return min(found, key=rank) if found else None
    except RetrofitRefusal:
        return found[0] if found else None


def publish_workflow_default(root: str | Path) -> str:
    if not is_existing_project(root):
        return PUBLISH_WORKFLOW
    try:
        main = main_workflow(Path(str(root)))
    except RetrofitRefusal:
        return PUBLISH_WORKFLOW
    return main.path.name if main else PUBLISH_WORKFLOW


def publish_workflow_error(name: str, root: str | Path) -> str:
    """The workflow PyPI will trust must be one that publishes: on copy into an existing
    project, a name is refused unless it is the file name of a workflow that uploads."""
    try:
        found = publishing_workflows(Path(str(root)))
    except RetrofitRefusal:
        return ""  # the retrofit's own refusal says what is wrong
    names = [w.path.name for w in found]
    if names and name not in names:
        return (
            f".github/workflows/{names[0]} is the workflow that publishes, so it is the one "
            f"PyPI must trust, not {name}: leave out -d publish_workflow."
            if len(names) == 1
            else f"{name} does not publish; the workflows that do are {', '.join(names)}: leave out -d publish_workflow."
        )
    return ""


def existing_environment(root: str | Path) -> str:
    if not is_existing_project(root):
        return ""
    try:
        main = main_workflow(Path(str(root)))
    except RetrofitRefusal:
        return ""
    for job in main.publishing_jobs() if main else []:
        node = job.get("environment")
        if node is not None:
            name = get(node, "name")
            return scalar(name[1] if name else node)
    return ""


# One refusal after another, in the order a person must fix them (git first, then what is in
# the tree): a flat list of checks reads best as it is.
def retrofit_error(conf: Any, mode: str) -> str:  # noqa: C901
    """On copy, why ``mode`` cannot be applied to the destination now; "" when it can."""
    path = Path(str(conf["dst_path"]))
    answers = answers_path(conf)
    if not is_existing_project(path):
        if mode == "no":
            return ""
        return (
            f"{path} holds no project (no pyproject.toml, setup.py or setup.cfg): "
            "retrofit=add and retrofit=upgrade are for existing projects only."
        )
    if mode == "no":
        return (
            f"{path} holds an existing project: a new project cannot be rendered over it. "
            "Leave out -d retrofit=no; the template then keeps the project's own files."
        )
    if other := other_template(answers):
        # Copier would write this template's answers over another template's.
        return (
            f"{answers.name} records the answers of {other}, another template this project came from. "
            "Keep them: run the same command with `-a .copier-answers.pylib.yml` (any other name works), "
            "so that each template has an answers file of its own."
        )
    for made in dict.fromkeys([answers, *sorted(path.glob(".copier-answers*.yml"))]):
        if other_template(made):
            continue  # another template's answers say nothing about this one
        if made.is_file() and answered_retrofit(made) == "no":
            return (
                f"{made} says this project was made from a template as a new project. If it was, bring "
                f"in template releases with `copier update --trust -a {made.name}`; if not, delete "
                f"{made.name}, commit, and run this command again."
            )
    if link := _link_out_of(path):
        return (
            f"{link.relative_to(path)} is a symbolic link to {link.readlink()}, outside the project. "
            "Copier writes and reads the files here, and never outside the project: replace the link with "
            "the file itself (or remove it), commit, and run copier again."
        )
    if git(path, "rev-parse", "--is-inside-work-tree").returncode != 0:
        return (
            f"{path} is not a git repository. A retrofit changes files in place: run `git init && git add -A "
            "&& git commit -m 'Before Trusted Publishing'` first, so every change can be reviewed and undone."
        )
    if top := enclosing_repository(path):
        return (
            f"{path} is a subfolder of the git repository {top}: GitHub runs only the workflows in "
            f"{top}/.github/workflows, so a retrofit here would change nothing GitHub runs. Retrofit the "
            "release workflow of the repository by hand (documentation: Existing project)."
        )
    if git(path, "status", "--porcelain", "--untracked-files=all").stdout.strip():
        return (
            f"{path} has uncommitted changes. Commit or stash them first, so that the retrofit's changes "
            "can be reviewed with `git diff` and undone."
        )
    # Every workflow is accounted for first: one that publishes in a way the retrofit does not
    # convert is refused for what it is, never taken for "no publishing workflow".
    if reason := check(path):
        return reason
    if mode == "add" and (taken := path / ".github" / "workflows" / PUBLISH_WORKFLOW).exists():
        return (
            f".github/workflows/{PUBLISH_WORKFLOW} exists and does not publish to PyPI; the retrofit adds "
            "its publishing workflow under that name (PyPI trusts it by name). Rename yours "
            f"(git mv {taken.relative_to(path)} .github/workflows/OTHER.yml), commit, and run copier again."
        )
    if in_the_way := fork_files_in_the_way(conf.get("src_path"), path):
        held = in_the_way[0]
        return (
            f"{held} is already in this project, with other content than the file of that name this "
            "template (an organisation's fork) adds: copier would stop there, halfway through. Move the "
            f"project's aside (git mv {held} {held}.own), commit, and run copier again; or give the "
            "fork's file a name no project holds."
        )
    if mode == "upgrade":
        return (
            ""
            if publishing_workflows(path)
            else ("No workflow here publishes to PyPI: answer retrofit=add to add publish.yml.")
        )
    if publishing_workflows(path):
        return "A workflow here already publishes to PyPI: answer retrofit=upgrade to upgrade it in place."
    return ""


def fork_files_in_the_way(source: Any, path: Path) -> list[str]:
    """The files an organisation's fork adds in the places upstream keeps free for it (a name
    starting `org-` or `org_` in the template folder, or inside a folder so named:
    docs/organisation-forks.md) that the project already holds with other content, or where it
    holds a file in place of one of their folders: copier would stop there after writing the
    files before them. A `.jinja` file counts when the project holds its name at all (its content
    needs the answers); one whose path is itself templated is passed over. Upstream ships none
    (test_fork.py)."""
    if source is None:
        return []
    template = Path(str(source)) / "template"
    taken = []
    for file in sorted(template.rglob("*")):
        relative = file.relative_to(template)
        if not file.is_file() or not any(part.startswith(("org-", "org_")) for part in relative.parts):
            continue
        if any(c in str(relative) for c in "{}"):
            continue
        name = relative.as_posix().removesuffix(".jinja")
        held = path / name
        if any(
            folder.is_symlink() or folder.is_file()
            for folder in list(held.parents)[: len(relative.parts) - 1]
        ):
            taken.append(name)  # a file of the project's where the fork has a folder
        elif (held.is_symlink() or held.exists()) and (
            file.suffix == ".jinja" or not held.is_file() or held.read_bytes() != file.read_bytes()
        ):
            taken.append(name)
    return taken


def retrofit_report(root: str | Path, project_name: str, environment: str) -> dict[str, Any]:
    """What the retrofit of the project's publishing workflows (as of the last commit) did, for
    the message and RELEASING.md: the secrets it no longer uses, notes the owner must read,
    whether a TestPyPI publisher is needed, each trusted publisher (project, workflow,
    environment, index), and the jobs converted in place; and, of the publishers, their
    workflows and environments (each once, in order) and whether one names no environment."""
    empty: dict[str, Any] = {
        "secrets": [],
        "notes": [],
        "testpypi": False,
        "publishers": [],
        "in_place": [],
        "workflows": [],
        "environments": [],
        "unbound": False,
    }
    path = Path(str(root))
    folder = path / ".github" / "workflows"
    report: dict[str, Any] = {**empty}
    try:
        names = [w.path.name for w in publishing_workflows(path)]
    except RetrofitRefusal:
        return empty
    for name in names:
        done = git(path, "show", f"HEAD:./.github/workflows/{name}")
        if done.returncode != 0:
            continue
        try:
            # The plan the question made, with stand-ins for the answers, put in their place here:
            # one plan per workflow for the whole run.
            made = planned(Workflow(folder / name, done.stdout))
        except RetrofitRefusal:
            return empty
        report["secrets"] = sorted({*report["secrets"], *made.secrets})
        report["notes"] += [
            note.replace(PLACEHOLDER_PROJECT, str(project_name)).replace(
                PLACEHOLDER_ENVIRONMENT, str(environment)
            )
            for note in made.notes
        ]
        report["testpypi"] = report["testpypi"] or made.testpypi
        report["in_place"] += [f"{name}: {job}" for job in made.in_place if job not in made.publish_only]
        if made.text == done.stdout:
            continue  # already on Trusted Publishing: its publisher is registered
        for publisher in made.publishers:
            entry = {
                "project": str(project_name)
                if publisher.project == PLACEHOLDER_PROJECT
                else publisher.project,
                "workflow": publisher.workflow,
                "environment": str(environment)
                if publisher.environment == PLACEHOLDER_ENVIRONMENT
                else publisher.environment,
                "index": publisher.index,
            }
            if entry not in report["publishers"]:
                report["publishers"].append(entry)
    publishers = report["publishers"]
    report["workflows"] = list(dict.fromkeys(p["workflow"] for p in publishers))
    report["environments"] = list(dict.fromkeys(p["environment"] for p in publishers if p["environment"]))
    report["unbound"] = any(not p["environment"] for p in publishers)
    return report


_TRIGGER_WORDS = {
    "release": "a release on GitHub",
    "push-tags": "a pushed tag",
    "push": "every push",
    "pull_request": "every pull request",
    "workflow_dispatch": "a manual run",
    "schedule": "a schedule",
}


def workflow_triggers(root: str | Path, name: str) -> str:
    """What starts a project's workflow, in words, for RELEASING.md ("its own triggers" if unreadable)."""
    try:
        triggers = Workflow(Path(str(root)) / ".github" / "workflows" / name).triggers()
    except (RetrofitRefusal, OSError):
        return "its own triggers"
    words = [_TRIGGER_WORDS.get(t, f"`{t}`") for t in sorted(triggers)]
    return ", ".join(words) or "its own triggers"


def _patterns(on: Any, event: str, key: str) -> list[str]:
    found = get(on, event)
    values = get(found[1], key) if found else None
    node = values[1] if values else None
    if isinstance(node, yaml.SequenceNode):
        return [scalar(n) for n in node.value if scalar(n)]
    return [scalar(node)] if scalar(node) else []


def _quoted(patterns: list[str]) -> str:
    return ", ".join(f"`{p}`" for p in patterns)


def release_refs(root: str | Path, name: str) -> dict[str, str]:
    """How the project's own workflow is started for a release, in words: ``restrict`` (which
    tags or branches its environment should allow) and ``how`` (what the owner does to release).
    Read from the workflow's triggers: a project whose tags are `2.2.1` or who releases from a
    branch is never told to allow only `v*` or to draft a GitHub release."""
    try:
        workflow = Workflow(Path(str(root)) / ".github" / "workflows" / name)
    except (RetrofitRefusal, OSError):
        return {
            "restrict": "the tags or branches your releases come from",
            "how": "the way it started before",
        }
    on = get(workflow.root, "on")
    node = on[1] if on else None
    tags, branches = _patterns(node, "push", "tags"), _patterns(node, "push", "branches")
    triggers = workflow.triggers()
    if "release" in triggers:
        return {"restrict": "the tags your releases carry", "how": ""}  # "" : a release on GitHub
    if tags:
        return {
            "restrict": f"the tags it releases ({_quoted(tags)})",
            "how": f"push a tag matching {_quoted(tags)}",
        }
    if branches:
        return {
            "restrict": f"the branches it releases from ({_quoted(branches)})",
            "how": f"push to {_quoted(branches)}",
        }
    if "workflow_dispatch" in triggers:
        return {
            "restrict": "the branch you release from",
            "how": f"run the workflow {name} from the repository's Actions tab",
        }
    return {"restrict": "the tags or branches your releases come from", "how": "the way it started before"}


def tests_call(root: str | Path) -> dict[str, Any]:
    """retrofit=add: the tests workflows the added publish.yml calls before a release (name,
    job id, the calling job's permissions), and why any other is not called."""
    path = Path(str(root))
    if not is_existing_project(path):
        return {"calls": [], "reasons": []}
    called = tests_calls(path)
    calls = [
        {"name": c.path.name, "job_id": c.job_id, "permissions": c.permissions, "secrets": c.secrets}
        for c in called.calls
    ]
    return {"calls": calls, "reasons": called.reasons}


def metadata(root: Path) -> dict[str, str]:
    """What the project in ``root`` already declares (name, description, licence...): a project
    file that cannot be read stops copier with what to do."""
    try:
        return project.metadata(root)
    except project.ProjectFileError as error:
        raise UserMessageError(str(error)) from None


def existing_import_name(root: str | Path, project_name: str) -> str:
    return project.import_name(Path(str(root)), str(project_name))
