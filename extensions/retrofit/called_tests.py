"""Gate a release on tests that live in another workflow: call that workflow.

Part of the retrofit's plan step (upgrade.py). When the publishing workflow
runs no tests but another workflow of the project does, GitHub can run that workflow as
a job of the publishing one (a reusable workflow): its triggers gain ``workflow_call``
(the only edit to it) and the publishing workflow gets a job ``uses: ./.github/workflows/<it>``
that the publish job needs.

A call runs the workflow in the caller's context: ``github.event_name``, the event's
payload, ``inputs`` and ``secrets`` are the release's, not a push's or a pull request's,
and ``github.workflow`` is the caller's name, so two concurrency groups can deadlock.
A workflow whose meaning a call would change is not called; the reason goes to the
owner instead (``Called.reasons``), and nothing gates the release, as before.
Pure: it reads text and returns new text; the caller writes. Standard library and PyYAML.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..serialise import yaml_scalar
from .workflows import (
    ALL_SECRETS,
    RetrofitRefusal,
    Workflow,
    get,
    github_token,
    scalar,
    secrets_read,
    writable_error,
)

# What a call would read differently from the workflow's own events. In `if:` conditions the
# ref too: a job run only for a branch is skipped under a tag's release, and passes vacuously.
# A property is read with a dot or an index (`github['event_name']`, `secrets["X"]`), and a
# whole context can be handed on (`toJSON(secrets)`): inside an expression, each form counts.
_KEY = r"""(?:\.\s*|\[\s*['"])"""
_EVENT_CONTEXT = re.compile(
    rf"\bgithub\s*{_KEY}(?:event_name|event\b|head_ref|base_ref)"
    rf"|\binputs\s*{_KEY}"
    rf"|\bsecrets\s*{_KEY}(?!(?i:github_token)\b)\w+"
)
_EVENT_CONTEXT_IN_IF = re.compile(_EVENT_CONTEXT.pattern + rf"|\bgithub\s*{_KEY}ref(?:_name)?\b")
_WHOLE_CONTEXT = re.compile(r"\b(?:github|inputs|secrets)\b(?!\s*[.\[])")
_KEY_END = ".[ '\""
_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def _reads_event(text: str, in_if: bool) -> str:
    """What in ``text`` a call would read differently ("" for nothing)."""
    if match := (_EVENT_CONTEXT_IN_IF if in_if else _EVENT_CONTEXT).search(text):
        return match.group(0)
    for expression in [text] if in_if else _EXPRESSION.findall(text):
        if match := _WHOLE_CONTEXT.search(expression):
            return match.group(0)
    return ""


@dataclass
class Call:
    """One tests workflow the publishing workflow calls."""

    path: Path
    text: str  # its new text ("\n" line ends), or its text when it already allowed calls
    newline: str
    job_id: str
    permissions: list[str]  # the calling job's `permissions:` lines (what the workflow reads)
    # The repository secrets the tests read (a coverage token): the call passes these, by name,
    # as a push gives them (never `secrets: inherit`, which would hand every secret on).
    secrets: list[str] = field(default_factory=list)


@dataclass
class Called:
    calls: list[Call] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why a tests workflow was not called


def plan_calls(publishing: Workflow, others: list[Workflow], taken: set[str]) -> Called:
    """The calls that gate ``publishing`` on the tests of ``others`` (read workflows that run
    tests), with a reason for each one that cannot be called."""
    result = Called()
    for workflow in others:
        where = f".github/workflows/{workflow.path.name}"
        reason = writable_error(workflow.path) or _not_a_gate(workflow) or _call_changes(workflow, publishing)
        if reason:
            result.reasons.append(f"{where} was not called before the release: {reason}")
            continue
        secrets = _secrets_read(workflow)
        text = _with_workflow_call(workflow, secrets)
        if text is None:
            result.reasons.append(
                f"{where} was not called before the release: its `on:` is written in a form this template "
                "does not edit (a flow mapping, a list over several lines, an alias or a merge key"
                + (
                    ", or a `workflow_call:` that does not declare the secrets the tests read"
                    if secrets
                    else ""
                )
                + "). Add `workflow_call:` to its triggers by hand and call it from the publish job's needs."
            )
            continue
        base = "tests" if "tests" not in taken else f"tests-{workflow.path.stem}"
        job_id = base if base not in taken else f"{base}-before-release"
        taken.add(job_id)
        result.calls.append(
            Call(workflow.path, text, workflow.newline, job_id, _permissions(workflow), secrets)
        )
    return result


def verify_calls(called: Called) -> None:
    """Each tests workflow's new text differs from its own only by `workflow_call` among its
    triggers (verify.py), or RetrofitRefusal: nothing is written."""
    from .verify import check_called_tests

    for call in called.calls:
        if call.text != Workflow(call.path).text:
            check_called_tests(call.path, call.text)


def _not_a_gate(workflow: Workflow) -> str:
    """Why the tests of ``workflow`` cannot gate a release, whatever a call changes ("" if they can)."""
    runs = workflow.triggers() - {"workflow_call"}
    if runs and runs <= {"workflow_dispatch", "schedule"}:
        return "it runs only by hand or on a schedule, not on the pushes that a release comes from."
    for job in workflow.jobs():
        runner = job.get("runs-on")
        labels = (
            [scalar(n) for n in runner.value] if isinstance(runner, yaml.SequenceNode) else [scalar(runner)]
        )
        if any("self-hosted" in label for label in labels):
            return f"job {job.id} runs on a self-hosted runner, which a release cannot count on."
    for node in [get(workflow.root, "concurrency"), *((None, j.get("concurrency")) for j in workflow.jobs())]:
        group = node[1] if node else None
        text = " ".join(n.value for n, _, _ in _scalars(group, top=False)) if group is not None else ""
        # A group that holds the workflow's name (a call's is the caller's) or the run's own id is
        # the release's alone; one made of the ref or the event alone is shared with pushes.
        if _OWN_GROUP.search(text):
            continue
        if found := _SHARED_GROUP.search(text):
            return (
                f"its concurrency group reads `{found.group(0).rstrip(_KEY_END)}`, which a call from the release "
                "shares with pushes: a push during a release would cancel these tests and skip the upload."
            )
    return ""


# A concurrency group that a release's call would share with other runs, and one of its own.
_OWN_GROUP = re.compile(rf"\bgithub\s*{_KEY}(?:workflow\b|run_id|run_number)")
_SHARED_GROUP = re.compile(rf"\bgithub\s*{_KEY}(?:head_ref|ref|ref_name|event\b|event_name)")


def _secrets_read(workflow: Workflow) -> list[str]:
    """The repository secrets the tests read (GitHub's own token is always there)."""
    names: list[str] = []
    for node, _, _ in _scalars(workflow.root):
        names += [n for n in secrets_read(node.value) if n != ALL_SECRETS and not github_token(n)]
    return list(dict.fromkeys(names))


def call_job_lines(indent: str, call: Call, condition: str) -> list[str]:
    body = indent + "  "
    lines = [
        "",
        f"{indent}{call.job_id}:",
        f"{body}name: {yaml_scalar(f'Tests of {call.path.name}, before the release')}",
    ]
    if condition:
        lines.append(f"{body}if: {condition}")
    lines += [
        f"{body}permissions:",
        *(f"{body}  {line}" for line in call.permissions),
        # GitHub's newer `$/` form (2026-07-30) means the same here, a call from the same commit,
        # but actionlint and GitHub Enterprise Server do not read it yet: hence `./` and the ignore.
        f"{body}uses: {yaml_scalar('./.github/workflows/' + call.path.name)}  # zizmor: ignore[self-repository]",
    ]
    if call.secrets:
        # A push gives the tests the repository's secrets; a call gives only those it is handed.
        lines.append(f"{body}secrets:")
        lines += [f"{body}  {name}: ${{{{ secrets.{name} }}}}" for name in call.secrets]
    return lines


def _call_changes(workflow: Workflow, publishing: Workflow) -> str:
    """What a call from the release would change about ``workflow`` ("" when nothing)."""
    on = get(workflow.root, "on")
    if on is not None:
        call = get(on[1], "workflow_call")
        if call is not None and _requires_something(call[1]):
            return "it takes required inputs or secrets when called, which this template cannot supply."
    for node, key, in_if in _scalars(workflow.root):
        if (found := _reads_event(node.value, in_if)) and not _SECRET_READ.fullmatch(found):
            return (
                f"line {node.start_mark.line + 1} reads `{found.rstrip(_KEY_END)}`, which a call from "
                f"the release sees differently (the release's event, none of its secrets). Gate the publish "
                f"job on these tests by hand (the template's documentation: Existing project)."
            )
        if key == "permissions" and "write" in node.value:
            return (
                f"line {node.start_mark.line + 1} asks for write permissions, which a call would grant to "
                "the release run."
            )
    if _has_concurrency(workflow) and _has_concurrency(publishing):
        return (
            "both workflows set a concurrency group; in a call, github.workflow is the caller's, and GitHub "
            "cancels a run whose groups collide (a deadlock)."
        )
    return ""


# A read of one repository secret: the same under a call that passes it as on a push.
_SECRET_READ = re.compile(rf"secrets\s*{_KEY}(?!(?i:github_token)\b)\w+")


def _requires_something(node: yaml.Node) -> bool:
    for section in ("inputs", "secrets"):
        found = get(node, section)
        if found and isinstance(found[1], yaml.MappingNode):
            for _, spec in found[1].value:
                required = get(spec, "required")
                if required and scalar(required[1]).lower() == "true":
                    return True
    return False


def _scalars(
    node: yaml.Node | None,
    key: str = "",
    in_if: bool = False,
    top: bool = True,
    seen: set[tuple[int, str, bool]] | None = None,
) -> Iterator[tuple[yaml.ScalarNode, str, bool]]:
    """Every scalar outside the triggers and the concurrency groups, with the key it sits under
    (for a `permissions:` scalar or mapping value) and whether it is inside an `if:`. A node
    that aliases repeat is read once per place it can mean something different (a chain of
    aliases that doubles at each level once made this walk, and copier, hang)."""
    seen = set() if seen is None else seen
    if node is None or (id(node), key, in_if) in seen:
        return
    seen.add((id(node), key, in_if))
    if isinstance(node, yaml.ScalarNode):
        yield node, key, in_if
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            yield from _scalars(child, key, in_if, False, seen)
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            name = scalar(k)
            if (top and name == "on") or name == "concurrency":
                continue
            inner = "permissions" if key == "permissions" or name == "permissions" else ""
            yield from _scalars(v, inner, in_if or name == "if", False, seen)


def _has_concurrency(workflow: Workflow) -> bool:
    if get(workflow.root, "concurrency"):
        return True
    return any(job.get("concurrency") is not None for job in workflow.jobs())


def _permissions(workflow: Workflow) -> list[str]:
    """The calling job's permissions: every scope the workflow or its jobs read (a call may
    only narrow the caller's), else the least a test run needs."""
    nodes = [get(workflow.root, "permissions"), *((None, j.get("permissions")) for j in workflow.jobs())]
    scopes: dict[str, str] = {}
    for found in nodes:
        node = found[1] if found else None
        if isinstance(node, yaml.ScalarNode) and node.value == "read-all":
            return [
                "contents: read",
                "actions: read",
                "checks: read",
                "packages: read",
                "pull-requests: read",
            ]
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if scalar(v) == "read":
                    scopes[scalar(k)] = "read"
    scopes.setdefault("contents", "read")
    return [f"{scope}: {level}" for scope, level in sorted(scopes.items())]


def _with_workflow_call(workflow: Workflow, secrets: list[str] | None = None) -> str | None:
    """The workflow's text with ``workflow_call`` among its triggers, declaring ``secrets`` (the
    ones the tests read, which a call passes by name); None: a form not edited."""
    secrets = secrets or []
    found = get(workflow.root, "on")
    if found is None:
        return None
    key, node = found
    if node.start_mark.line < key.start_mark.line:
        return None  # `on: *alias`: the triggers lie elsewhere in the file, maybe shared
    if (callable_already := _already_callable(workflow, node, secrets)) is not None:
        return callable_already or None
    lines = workflow.text.splitlines(keepends=True)
    one_line = isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False)
    if one_line and secrets:
        edited = _as_mapping(lines, key, node, secrets)
    elif one_line:
        edited = _one_more_event(lines, node)
    elif node.value:
        edited = _one_more_line(workflow, lines, key, node, secrets)
    else:
        edited = False
    if not edited:
        return None
    text = "".join(lines)
    try:
        Workflow(workflow.path, text)
    except RetrofitRefusal:  # pragma: no cover - a bug here must never reach a user's file
        return None
    return text


def _already_callable(workflow: Workflow, node: yaml.Node, secrets: list[str]) -> str | None:
    """The text as it is, where `workflow_call` is a trigger already and declares ``secrets``;
    "" where it is one but does not; None where it is none."""
    existing = get(node, "workflow_call") if isinstance(node, yaml.MappingNode) else None
    if existing is not None:
        declared = get(existing[1], "secrets")
        names = (
            {scalar(k) for k, _ in declared[1].value}
            if declared and isinstance(declared[1], yaml.MappingNode)
            else set()
        )
        return workflow.text if set(secrets) <= names else ""
    listed = (
        {scalar(n) for n in node.value}
        if isinstance(node, yaml.SequenceNode)
        else {scalar(node)}
        if isinstance(node, yaml.ScalarNode)
        else set()
    )
    if "workflow_call" in listed:
        return workflow.text if not secrets else ""
    return None


def _as_mapping(lines: list[str], key: yaml.Node, node: yaml.Node, secrets: list[str]) -> bool:
    """`on: push` or `on: [push, pull_request]`, which hold no declarations: the same events,
    written as a mapping, and `workflow_call` declaring ``secrets``."""
    if not isinstance(node, (yaml.ScalarNode, yaml.SequenceNode)):
        return False  # a flow mapping of events: not edited
    if node.start_mark.line != node.end_mark.line or node.start_mark.line != key.start_mark.line:
        return False
    line = lines[key.start_mark.line]
    if line[node.end_mark.column :].strip() and not line[node.end_mark.column :].strip().startswith("#"):
        return False
    pad = " " * (key.start_mark.column + 2)
    events = [node.value] if isinstance(node, yaml.ScalarNode) else [scalar(n) for n in node.value]
    new = [line[: node.start_mark.column].rstrip() + line[node.end_mark.column :]]
    new += [f"{pad}{event}:\n" for event in events]
    new += [f"{pad}workflow_call:\n", *_declarations(pad, secrets)]
    lines[key.start_mark.line : key.start_mark.line + 1] = new
    return True


def _declarations(pad: str, secrets: list[str]) -> list[str]:
    if not secrets:
        return []
    return [
        f"{pad}  secrets:\n",
        *(t for n in secrets for t in (f"{pad}    {n}:\n", f"{pad}      required: false\n")),
    ]


def _one_more_event(lines: list[str], node: yaml.Node) -> bool:
    """`on: push` -> `on: [push, workflow_call]`; `on: [a, b]` -> `on: [a, b, workflow_call]`."""
    if node.start_mark.line != node.end_mark.line:
        return False
    line = lines[node.start_mark.line]
    if isinstance(node, yaml.ScalarNode):
        start, end = node.start_mark.column, node.end_mark.column
        lines[node.start_mark.line] = f"{line[:start]}[{line[start:end]}, workflow_call]{line[end:]}"
        return True
    close = node.end_mark.column - 1
    if not isinstance(node, yaml.SequenceNode) or line[close] != "]":
        return False
    lines[node.start_mark.line] = f"{line[:close].rstrip()}, workflow_call{line[close:]}"
    return True


def _one_more_line(
    workflow: Workflow, lines: list[str], key: yaml.Node, node: yaml.Node, secrets: list[str]
) -> bool:
    """A block of events gains a line of its own after its last (`workflow_call:`, with the
    declarations), or a list of them `- workflow_call`."""
    first = node.value[0] if isinstance(node, yaml.SequenceNode) else node.value[0][0]
    merges = isinstance(node, yaml.MappingNode) and any(scalar(k) == "<<" for k, _ in node.value)
    if merges or (isinstance(node, yaml.SequenceNode) and secrets):
        return False  # a merge key's triggers lie elsewhere; a list of names holds no declarations
    at = _after_block(workflow, key, lines)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"  # a file that ends without a line end: the new line goes after it
    if isinstance(node, yaml.SequenceNode):
        dash = lines[first.start_mark.line]
        lines[at:at] = [f"{dash[: len(dash) - len(dash.lstrip())]}- workflow_call\n"]
    else:
        pad = " " * first.start_mark.column
        lines[at:at] = [f"{pad}workflow_call:\n", *_declarations(pad, secrets)]
    return True


def _after_block(workflow: Workflow, key: yaml.Node, lines: list[str]) -> int:
    """The line index just after the block of the top-level key ``key``: where the next
    top-level key starts (or the file ends), before the blank and comment lines above it. (The
    end marks of a block that ends in an alias point at the anchor, elsewhere in the file.)"""
    keys = [k for k, _ in workflow.root.value] if isinstance(workflow.root, yaml.MappingNode) else []
    later = [k.start_mark.line for k in keys if k.start_mark.line > key.start_mark.line]
    at = min(later) if later else len(lines)
    while at > key.start_mark.line + 1 and (
        not lines[at - 1].strip() or lines[at - 1].lstrip().startswith("#")
    ):
        at -= 1
    return at
