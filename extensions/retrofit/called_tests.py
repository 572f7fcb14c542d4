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
from .workflows import RetrofitRefusal, Workflow, end_line, get, scalar, writable_error

# What a call would read differently from the workflow's own events. In `if:` conditions the
# ref too: a job run only for a branch is skipped under a tag's release, and passes vacuously.
# A property is read with a dot or an index (`github['event_name']`, `secrets["X"]`), and a
# whole context can be handed on (`toJSON(secrets)`): inside an expression, each form counts.
_KEY = r"""(?:\.\s*|\[\s*['"])"""
_EVENT_CONTEXT = re.compile(
    rf"\bgithub\s*{_KEY}(?:event_name|event\b|head_ref|base_ref)"
    rf"|\binputs\s*{_KEY}"
    rf"|\bsecrets\s*{_KEY}(?!GITHUB_TOKEN\b)\w+"
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
    # The tests read repository secrets (a coverage token): the call hands them on, as a push does.
    inherit: bool = False


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
        reason = writable_error(workflow.path) or _call_changes(workflow, publishing)
        if reason:
            result.reasons.append(f"{where} was not called before the release: {reason}")
            continue
        text = _with_workflow_call(workflow)
        if text is None:
            result.reasons.append(
                f"{where} was not called before the release: its `on:` is written in a form this template "
                "does not edit (a flow mapping, a list over several lines, an alias or a merge key). Add `workflow_call:` to its "
                "triggers by hand and call it from the publish job's needs."
            )
            continue
        base = "tests" if "tests" not in taken else f"tests-{workflow.path.stem}"
        job_id = base if base not in taken else f"{base}-before-release"
        taken.add(job_id)
        inherit = _reads_secrets(workflow)
        result.calls.append(
            Call(workflow.path, text, workflow.newline, job_id, _permissions(workflow), inherit)
        )
    return result


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
    if call.inherit:
        # A push gives the tests the repository's secrets; a call gives them only when told to.
        lines.append(f"{body}secrets: inherit  # zizmor: ignore[secrets-inherit]")
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
                f"job on these tests by hand (see the README)."
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


# A read of one repository secret: the same under a call that inherits them as on a push.
_SECRET_READ = re.compile(rf"secrets\s*{_KEY}(?!GITHUB_TOKEN\b)\w+")


def _reads_secrets(workflow: Workflow) -> bool:
    return any(
        (found := _reads_event(node.value, in_if)) and _SECRET_READ.fullmatch(found)
        for node, _, in_if in _scalars(workflow.root)
    )


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


def _with_workflow_call(workflow: Workflow) -> str | None:
    """The workflow's text with ``workflow_call`` among its triggers (None: a form not edited)."""
    found = get(workflow.root, "on")
    if found is None:
        return None
    key, node = found
    if node.start_mark.line < key.start_mark.line:
        return None  # `on: *alias`: the triggers lie elsewhere in the file, maybe shared
    lines = workflow.text.splitlines(keepends=True)
    if isinstance(node, yaml.MappingNode) and get(node, "workflow_call"):
        return workflow.text
    if isinstance(node, yaml.SequenceNode) and "workflow_call" in {scalar(n) for n in node.value}:
        return workflow.text
    if isinstance(node, yaml.ScalarNode) and node.value == "workflow_call":
        return workflow.text
    if isinstance(node, yaml.ScalarNode):
        if node.start_mark.line != node.end_mark.line:
            return None
        line = lines[node.start_mark.line]
        start, end = node.start_mark.column, node.end_mark.column
        lines[node.start_mark.line] = f"{line[:start]}[{line[start:end]}, workflow_call]{line[end:]}"
    elif getattr(node, "flow_style", False):
        if not isinstance(node, yaml.SequenceNode) or node.start_mark.line != node.end_mark.line:
            return None
        line = lines[node.start_mark.line]
        close = node.end_mark.column - 1
        if line[close] != "]":
            return None
        lines[node.start_mark.line] = f"{line[:close].rstrip()}, workflow_call{line[close:]}"
    elif node.value:
        first = node.value[0] if isinstance(node, yaml.SequenceNode) else node.value[0][0]
        last = node.value[-1] if isinstance(node, yaml.SequenceNode) else node.value[-1][1]
        merges = isinstance(node, yaml.MappingNode) and any(scalar(k) == "<<" for k, _ in node.value)
        if last.start_mark.line < first.start_mark.line or merges:
            return None  # an alias or a merge key: its node lies elsewhere in the file
        at = end_line(node)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"  # a file that ends without a line end: the new line goes after it
        pad = " " * first.start_mark.column
        if isinstance(node, yaml.SequenceNode):
            dash = lines[first.start_mark.line]
            pad = dash[: len(dash) - len(dash.lstrip())]
            lines.insert(at, f"{pad}- workflow_call\n")
        else:
            lines.insert(at, f"{pad}workflow_call:\n")
    else:
        return None
    text = "".join(lines)
    try:
        Workflow(workflow.path, text)
    except RetrofitRefusal:  # pragma: no cover - a bug here must never reach a user's file
        return None
    return text
