"""The second rung of the retrofit: an uploading job moves to Trusted Publishing where it is.

Where moving the upload into a job of its own would change what runs after it, or how (steps
after the upload, jobs that wait for it while the upload has a condition of its own, an
upload inside shell logic), the job itself is converted, as PyPI's documentation and most
maintainers do it:

- it gains an ``environment`` (its own stays) and job-level ``id-token: write``, keeping every
  permission it had, made explicit (where it had the repository's defaults, the scopes its
  steps are seen to need: the message says which);
- its PyPI login goes, with all its plumbing: the action's ``password``, an upload's login
  options, the variables that hold one (at every level), and the lines that only hand one on;
- the upload becomes trusted: the publish action without a password (on the pinned release);
  twine (6.1 or newer: it finds the OIDC token itself), ``uv publish``, ``pdm publish`` and
  ``maturin upload`` without a login; ``poetry``, ``hatch`` and ``flit publish``, which cannot
  use OIDC, become their build command followed by the publish action, in the same place.

Every other step, condition, output and their order stay byte for byte (verify.py checks it).
Part of the plan step; upgrade.py's Planner calls ``convert``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from . import credentials
from .owner_jobs import drop_login_lines, expression, remove_keys, strip_password
from .plan import Edits, Run
from .plan import indent as line_indent
from .upload_command import builds_too, with_build
from .workflows import (
    PUBLISH_ACTION,
    UPLOAD_ANYWHERE,
    Job,
    RetrofitRefusal,
    Step,
    Workflow,
    get,
    has_id_token,
    scalar,
    secrets_read,
    span,
)

# The tools whose upload cannot use OIDC: each becomes its build (what the command also
# built; nothing when it only uploaded) and the publish action.
_NO_OIDC = re.compile(r"\b(poetry|hatch|flit)\s+publish\b")
# Every upload command, with its tool: the first word of what uploads.
_TOOL = re.compile(
    r"\b(twine)\s+upload\b|\b(uv|pdm|poetry|hatch|flit)\s+publish\b|\b(maturin)\s+(?:upload|publish)\b"
)
_MATURIN = re.compile(r"\bmaturin\s+(?:upload|publish)\b")
# twine finds GitHub's OIDC token by itself from 6.1 on.
_TWINE_SPEC = re.compile(r"""\btwine\s*(==|~=|<=|<|>=|>)\s*(\d+(?:\.\d+)*)""")
_READ_ALL = ("actions", "checks", "contents", "deployments", "discussions", "issues", "packages", "pages",
             "pull-requests", "repository-projects", "security-events", "statuses")  # fmt: skip
# What a job's steps are seen to need of GitHub's token, where the job had the repository's
# default permissions (which a job-level `permissions:` replaces).
_NEEDS_WRITE = (
    (
        re.compile(
            r"JamesIves/github-pages-deploy-action|softprops/action-gh-release|ncipollo/release-action|actions/create-release|"
            r"actions/upload-release-asset|svenstaro/upload-release-action|peaceiris/actions-gh-pages|"
            r"stefanzweifel/git-auto-commit-action|EndBug/add-and-commit",
            re.IGNORECASE,
        ),
        "contents",
    ),
    (re.compile(r"peter-evans/create-pull-request", re.IGNORECASE), "pull-requests"),
    (re.compile(r"actions/deploy-pages", re.IGNORECASE), "pages"),
    (re.compile(r"actions/attest", re.IGNORECASE), "attestations"),
)
_RUN_NEEDS_WRITE = (
    (
        re.compile(
            r"^\s*(?:gh\s+release\s+(?:create|upload|edit|delete)|git\s+push\b|ghp-import\b.*\s-p\b"
            r"|mkdocs\s+gh-deploy|mike\s+deploy\b.*--push)",
            re.MULTILINE,
        ),
        "contents",
    ),
    (re.compile(r"^\s*gh\s+pr\s+(?:create|edit|merge|comment)", re.MULTILINE), "pull-requests"),
    (re.compile(r"^\s*gh\s+issue\s+(?:create|edit|comment|close)", re.MULTILINE), "issues"),
    (re.compile(r"\bdocker\s+push\s+ghcr\.io", re.MULTILINE), "packages"),
)
GRANT = "id-token: write  # Trusted Publishing: this job may request an upload token"


@dataclass
class Converted:
    """What converting one job in place did, for the publishers and the message."""

    job: str
    environment: str
    targets: set[str]  # "" for PyPI, else TestPyPI's URL
    why: str
    explicit: list[str]  # the permissions written where the job had the repository's defaults


def _linux(job: Job) -> bool:
    runner = job.get("runs-on")
    labels = [scalar(n) for n in runner.value] if isinstance(runner, yaml.SequenceNode) else [scalar(runner)]
    return any(label.startswith("ubuntu-") or label in ("ubuntu-latest", "linux") for label in labels)


def convert(run: Run, job: Job, why: str, targets: dict[int, str]) -> Converted:
    """Convert ``job`` in place (see the module). ``targets``: the index each upload step of the
    job goes to, by line."""
    for step in job.steps:
        replaced = False
        if step.uses.startswith(PUBLISH_ACTION + "@"):
            strip_password(run, step)
        elif step.run and (UPLOAD_ANYWHERE.search(step.run) or _MATURIN.search(step.run)):
            replaced = _convert_run(run, job, step, targets.get(step.line, ""))
        if not replaced and not drop_login_lines(run, step):
            remove_keys(run, step.get("env"), step.node)
    remove_keys(run, job.get("env"), job.node)
    _twine_is_new_enough(run.workflow, job)
    job_targets = set(targets.values()) or {""}
    name = _environment(run, job, job_targets)
    explicit = _permissions(run, job)
    run.result.changes.append(
        f"{run.workflow.where(job.key.start_mark.line + 1)}: job {job.id} publishes with Trusted Publishing "
        f"where it is (in place: {why})"
    )
    return Converted(job.id, name, job_targets, why, explicit)


# --- the upload -------------------------------------------------------------------------------


def _convert_run(run: Run, job: Job, step: Step, target: str) -> bool:
    """Each upload command of a `run:` step loses its login; `poetry|hatch|flit publish` becomes
    their build and the publish action. True when the whole step was replaced (it did nothing
    but that upload and the lines that handed the login on)."""
    workflow, edits, result, known = run.workflow, run.edits, run.result, run.known
    run_node = step.get("run")
    assert isinstance(run_node, yaml.ScalarNode)
    lines = edits.lines
    start, end = span(run_node, lines)
    block = run_node.style in ("|", ">")
    body = list(range(start + 1, end) if block else range(start, start + 1))
    commands = [
        i
        for i in body
        if lines[i].strip()
        and not lines[i].strip().startswith("#")
        and not (block and credentials.hands_login(lines[i].strip(), known))
    ]
    replaced = False
    for index in commands:
        line = lines[index]
        found = _TOOL.search(line)
        if not found:
            continue
        tool = next(group for group in found.groups() if group)
        result.secrets += credentials.credential_in(line, known)
        where = workflow.where(index + 1)
        if tool in ("poetry", "hatch", "flit"):
            action_lines = _publish_action_lines(run, job, step, index, commands, target)
            build = builds_too(line[found.start() :])
            value = 0 if block else run_node.start_mark.column  # where a one-line `run:` value starts
            cut = line.rstrip("\n")[value : found.start()]
            new = with_build(credentials.strip_prefix(cut, known), build)
            if block:
                new_line = (line_indent(line) + new) if new else None
            else:
                new_line = line[:value] + new if new else None
            if new_line is None and len(commands) == 1:
                edits.replace(*span(step.node, lines), action_lines)  # the step did nothing else
                replaced = True
                result.secrets += [
                    n
                    for n in secrets_read("".join(lines[slice(*span(step.node, lines))]))
                    if n in known or credentials.pypi_secret(n)
                ]
            else:
                edits.replace(index, index + 1, [] if new_line is None else [new_line.rstrip("\n")])
                at = span(step.node, lines)[1]
                while at > index + 1 and not lines[at - 1].strip():
                    at -= 1  # before the blank lines a block scalar ends with: they stay between steps
                edits.insert(at, action_lines)
            result.changes.append(
                f"{where}: `{tool} publish` cannot use Trusted Publishing: it became "
                f"{'`' + build + '` and ' if build else ''}{PUBLISH_ACTION}, in the same place"
            )
            continue
        upload = line[found.start() :]
        new_upload = credentials.strip_login(tool, upload.rstrip("\n"))
        new = credentials.strip_prefix(line[: found.start()], known) + new_upload
        if new.rstrip() != line.rstrip("\n").rstrip():
            edits.replace(index, index + 1, [new.rstrip()])
            result.changes.append(f"{where}: the upload ({tool}) gives no login: Trusted Publishing")
    return replaced


def _publish_action_lines(
    run: Run, job: Job, step: Step, index: int, commands: list[int], target: str
) -> list[str]:
    """The publish action's step that takes the place of `poetry|hatch|flit publish` (``index``:
    its line; ``commands``: the lines of its step that run a command)."""
    lines, where, uses = run.edits.lines, run.workflow.where(index + 1), run.uses
    line = lines[index]
    if not _linux(job):
        raise RetrofitRefusal(
            f"{where}: this upload cannot use Trusted Publishing by itself, and the publish action that "
            f"replaces it runs on Linux only; job {job.id} runs on {scalar(job.get('runs-on')) or 'another runner'}. "
            "Upload from a Linux job (or with `twine upload dist/*`), commit, and run copier again."
        )
    if index != commands[-1] or re.search(r"\|\||(?<!\|)\|(?!\|)", line):
        raise RetrofitRefusal(
            f"{where}: the upload is not the last command of its step; the publish action that replaces it "
            "must come after it. Put the upload last in its step, commit, and run copier again."
        )
    if re.search(r"\s(?:-r|--repository)[ =]", line) and not target:
        raise RetrofitRefusal(
            f"{where}: the upload names a repository this template cannot read; Trusted Publishing here is for "
            "PyPI and TestPyPI. Upload to PyPI (or TestPyPI), commit, and run copier again."
        )
    first = lines[span(step.node, lines)[0]]
    dash = (
        first[: first.index("-")]
        if first.lstrip().startswith("-")
        else " " * max(step.node.start_mark.column - 2, 0)
    )
    inner = dash + "  "
    new = [f"{dash}- name: Publish to {'TestPyPI' if target else 'PyPI'} (Trusted Publishing)"]
    condition = expression(step.get("if"))
    if condition:
        new.append(f"{inner}if: {condition}")
    new.append(f"{inner}uses: {uses(PUBLISH_ACTION)}")
    folder = scalar(step.get("working-directory"))
    with_lines = []
    if folder and folder not in (".", "./"):
        with_lines.append(f"{inner}  packages-dir: {folder.rstrip('/')}/dist/")
    if target:
        with_lines.append(f"{inner}  repository-url: {target}")
    if "--skip-existing" in line:
        with_lines.append(f"{inner}  skip-existing: true")
    if with_lines:
        new += [f"{inner}with:", *with_lines]
    return new


def _twine_is_new_enough(workflow: Workflow, job: Job) -> None:
    """A twine older than 6.1 cannot find the OIDC token: refuse a job that installs one."""
    if not any(re.search(r"\btwine\s+upload\b", step.run) for step in job.steps):
        return
    for step in job.steps:
        for offset, line in enumerate(step.run.splitlines()):
            if not re.search(r"\b(?:pip3?|uv\s+pip|pipx)\s+install\b", line):
                continue
            for op, version in _TWINE_SPEC.findall(line):
                numbers = tuple(int(n) for n in version.split("."))
                if (op in ("==", "<=", "~=") and numbers < (6, 1)) or (op == "<" and numbers <= (6, 1)):
                    raise RetrofitRefusal(
                        f"{workflow.where(step.line + offset + 1)}: it installs twine {op}{version}, which cannot "
                        "use Trusted Publishing (twine 6.1 and newer can). Allow twine>=6.1, commit, and run "
                        "copier again."
                    )


# --- environment and permissions -----------------------------------------------------------------


def _environment(run: Run, job: Job, targets: set[str]) -> str:
    """The job's environment: its own, or the answer's (TestPyPI's where it uploads there only),
    or none where it runs for more than releases."""
    workflow, edits, result, project_name = run.workflow, run.edits, run.result, run.project
    found = job.get("environment")
    if found is not None:
        named = get(found, "name")
        value = scalar(named[1] if named else found)
        if not value or "${{" in value:
            raise RetrofitRefusal(
                f"{workflow.where(found.start_mark.line + 1)}: job {job.id}'s environment is named by an "
                "expression; PyPI's trusted publisher names one environment. Name it plainly, commit, and "
                "run copier again."
            )
        return value
    if _runs_for_more_than_releases(workflow, job):
        # Every pull request and push would wait for the environment's approval: none is added,
        # and the publisher names none (the message says so, and why).
        result.without_environment.add(job.id)
        result.notes.append(
            f"Job {job.id} of {workflow.path.name} also runs for pull requests or pushes, not only for releases: "
            "an environment on it would hold each of those runs for approval, so it gets none, and its trusted "
            "publisher names no environment (leave PyPI's field empty). Any run of this workflow can then "
            "request an upload token; to keep that to releases, isolate the upload (documentation: Existing "
            'project, "Isolating an upload converted in place") and give its job an environment.'
        )
        return ""
    testpypi_only = targets == {t for t in targets if t}
    name: str = "testpypi" if testpypi_only else run.environment
    site = "https://test.pypi.org" if testpypi_only else "https://pypi.org"
    indent = line_indent(edits.lines[job.node.value[0][0].start_mark.line])
    runs_on = get(job.node, "runs-on")
    at = span(runs_on[1], edits.lines)[1] if runs_on else job.key.start_mark.line + 1
    edits.insert(
        at,
        [
            f"{indent}environment:",
            f"{indent}  name: {name}",
            f"{indent}  url: {site}/project/{project_name}/",
        ],
    )
    result.changes.append(
        f"{workflow.where(job.key.start_mark.line + 1)}: job {job.id} runs in environment {name}"
    )
    return name


# Events that run a workflow for releases only (a tag push is `push-tags`, see workflows.py).
_RELEASE_EVENTS = {"release", "push-tags", "workflow_dispatch", "schedule", "workflow_call"}
_EVENT_IN_IF = re.compile(r"github\.(?:event_name|ref|ref_name|ref_type|event\.)|startsWith")


def _runs_for_more_than_releases(workflow: Workflow, job: Job) -> bool:
    """The job runs for pull requests or branch pushes too: its workflow runs on them, and its
    own `if:` reads no event or ref that could keep it to releases."""
    return bool(workflow.triggers() - _RELEASE_EVENTS) and not _EVENT_IN_IF.search(scalar(job.get("if")))


def _permissions(run: Run, job: Job) -> list[str]:
    """Job-level `id-token: write`, every permission the job had kept and written out. Returns
    the scopes written where the job had the repository's defaults (the message names them)."""
    workflow, edits, result = run.workflow, run.edits, run.result
    indent = line_indent(edits.lines[job.node.value[0][0].start_mark.line])
    own = get(job.node, "permissions")
    if own and has_id_token(own[1]):
        return []  # the job's own permissions grant it already: left as they are, comments and all
    source = own[1] if own else _root_permissions(workflow)
    explicit: list[str] = []
    if isinstance(source, yaml.ScalarNode) and source.value == "write-all":
        return []  # write-all holds id-token: write already
    if isinstance(source, yaml.MappingNode) and not source.flow_style:
        # The owner's lines as written, comments and all (re-indented where they come from the
        # workflow's own `permissions:`); only an `id-token` line of theirs is replaced.
        lines, pad = edits.lines, len(indent) + 2
        kept = []
        for k, v in source.value:
            if scalar(k) == "id-token":
                continue
            for line in lines[k.start_mark.line : max(k.start_mark.line + 1, span(v, lines)[1])]:
                kept.append(
                    " " * max(pad + len(line) - len(line.lstrip()) - k.start_mark.column, 0) + line.strip()
                )
        new = [f"{indent}permissions:", f"{indent}  {GRANT}", *kept]
        _write_permissions(edits, job, own, new)
        result.changes.append(
            f"{workflow.where(job.key.start_mark.line + 1)}: job {job.id} may request an OIDC token (id-token: write)"
        )
        return explicit
    if isinstance(source, yaml.MappingNode):
        kept = [f"{scalar(k)}: {scalar(v)}" for k, v in source.value if scalar(k) != "id-token"]
    elif isinstance(source, yaml.ScalarNode) and source.value == "read-all":
        kept = [f"{scope}: read" for scope in _READ_ALL]
    elif source is not None:
        kept = []  # `permissions: {}`: nothing else
    else:
        seen = _seen_needs(job)
        explicit = [f"{scope}: {level}" for scope, (level, _) in seen.items()]
        kept = [f"{scope}: {level}{f'  # {why}' if why else ''}" for scope, (level, why) in seen.items()]
    lines = [f"{indent}permissions:", f"{indent}  {GRANT}", *(f"{indent}  {line}" for line in kept)]
    _write_permissions(edits, job, own, lines)
    result.changes.append(
        f"{workflow.where(job.key.start_mark.line + 1)}: job {job.id} may request an OIDC token (id-token: write)"
    )
    return explicit


def _write_permissions(
    edits: Edits, job: Job, own: tuple[yaml.Node, yaml.Node] | None, lines: list[str]
) -> None:
    if own:
        edits.replace(
            own[0].start_mark.line, max(own[0].start_mark.line + 1, span(own[1], edits.lines)[1]), lines
        )
    else:
        runs_on = get(job.node, "runs-on")
        at = span(runs_on[1], edits.lines)[1] if runs_on else job.key.start_mark.line + 1
        edits.insert(at, lines)


def _root_permissions(workflow: Workflow) -> yaml.Node | None:
    found = get(workflow.root, "permissions")
    return found[1] if found else None


def _seen_needs(job: Job) -> dict[str, tuple[str, str]]:
    """The scopes a job's steps are seen to need, for a job that had the repository's defaults:
    scope -> (level, what needs it). A write scope says what needs it, so that a reader (and
    zizmor's undocumented-permissions audit) sees why the job may write."""
    needs: dict[str, tuple[str, str]] = {}
    for step in job.steps:
        if step.uses.startswith("actions/checkout@") or re.search(
            r"github\.token|secrets\.github_token", step.node_text, re.IGNORECASE
        ):
            needs.setdefault("contents", ("read", ""))
        for pattern, scope in _NEEDS_WRITE:
            if found := pattern.search(step.uses):
                needs[scope] = ("write", f"for {found.group(0)}")
        for pattern, scope in _RUN_NEEDS_WRITE:
            if found := pattern.search(step.run):
                needs[scope] = ("write", f"for `{' '.join(found.group(0).split()[:3])}`")
    return dict(sorted(needs.items()))


def workflow_grant(run: Run) -> None:
    """Take `id-token: write` off the workflow's own `permissions:` (with it, every job could
    request an upload token). A workflow whose permissions were only that keeps
    `permissions: {}`, so that no job gains a scope it did not have."""
    workflow, edits, result = run.workflow, run.edits, run.result
    found = get(workflow.root, "permissions")
    if found is None:
        return
    key, node = found
    if isinstance(node, yaml.ScalarNode) and node.value == "write-all":
        raise RetrofitRefusal(
            f"{workflow.where(key.start_mark.line + 1)}: the workflow grants every job `write-all`, with which "
            "any job may request an upload token. List the permissions its jobs need, commit, and run copier again."
        )
    if not isinstance(node, yaml.MappingNode) or not has_id_token(node):
        return
    lines = edits.lines
    first, end = key.start_mark.line, max(key.start_mark.line + 1, span(node, lines)[1])
    others = [(k, v) for k, v in node.value if scalar(k) != "id-token"]
    if not others:
        new = [lines[first][: key.start_mark.column] + "permissions: {}"]
    else:
        new = [lines[first].rstrip("\n")] + [
            line.rstrip("\n")
            for k, v in others
            for line in lines[k.start_mark.line : max(k.start_mark.line + 1, span(v, lines)[1])]
        ]
    edits.replace(first, end, new)
    result.changes.append(
        f"{workflow.where(first + 1)}: `id-token: write` left the workflow's permissions: only the jobs that "
        "publish may request an upload token"
    )
