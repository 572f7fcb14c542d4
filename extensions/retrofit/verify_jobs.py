"""verify.py's checks of one job at a time, on the plain values of the old and new workflow.

- a job that built and uploaded (isolated): its uploads became one artifact of exactly the
  files they named, and nothing else changed but its login and environment;
- a job converted in place: it gained its environment and `id-token: write`, kept every
  permission, lost its login, and its upload became trusted; every other step is unchanged;
- a job the plan added: a minimal publish job, downloading only the distributions of the jobs
  it needs.

Standard library only; the values come from verify.data().
"""

from __future__ import annotations

import re
from typing import Any

from . import credentials
from .plan import Plan
from .upload_command import artifact_path, builds_too, split_upload, upload_files, with_build
from .workflows import PUBLISH_ACTION, UPLOAD_ANYWHERE, secrets_read

ARTIFACT_UPLOAD = "actions/upload-artifact@"
ARTIFACT_DOWNLOAD = "actions/download-artifact@"
PUBLISH = PUBLISH_ACTION + "@"
_EXPRESSION = re.compile(r"^\$\{\{\s*(.*?)\s*\}\}$", re.DOTALL)
# Keys of a job that uploaded which the plan may change: its steps, login variables, the
# environment (which moves to the publish job, or is added in place) and permissions (in place).
EDITED_KEYS = {"steps", "env", "environment", "permissions"}
_LOGIN_OPTIONS = {"-u", "--username", "--user", "-p", "-P", "--password", "-t", "--token", "-a", "--auth"}
_WORDS = re.compile(r"""(?:"[^"]*"|'[^']*'|\$\{\{(?:[^}]|\}(?!\}))*\}\}|\$(?!\{\{)|[^\s"'$])+""")
_NO_OIDC = re.compile(r"\b(?:poetry|hatch|flit)\s+publish\b")
_PUBLISH_INPUTS = {"packages-dir", "repository-url", "skip-existing"}


class Failed(Exception):
    """One job fails a check: (what broke, the job)."""


# --- values -----------------------------------------------------------------------------------


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def steps_of(job: Any) -> list[dict[str, Any]]:
    steps = mapping(job).get("steps")
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def uses_of(step: dict[str, Any]) -> str:
    return str(step.get("uses") or "")


def is_upload(step: dict[str, Any]) -> bool:
    uses = uses_of(step).split("@")[0].lower()
    if uses == "pyo3/maturin-action":
        return str(mapping(step.get("with")).get("command")) in ("upload", "publish")
    return uses_of(step).startswith(PUBLISH) or bool(UPLOAD_ANYWHERE.search(str(step.get("run") or "")))


def needs_of(job: Any) -> list[str]:
    needs = mapping(job).get("needs")
    return [needs] if isinstance(needs, str) else [str(n) for n in needs] if isinstance(needs, list) else []


def id_token(permissions: Any) -> bool:
    return permissions == "write-all" or mapping(permissions).get("id-token") == "write"


def without(value: Any, keys: set[str]) -> Any:
    return {k: v for k, v in value.items() if k not in keys} if isinstance(value, dict) else value


def login_vars_only(before: Any, after: Any, known: set[str]) -> bool:
    """``after``'s `env` is ``before``'s less variables that hold a PyPI login (or gone with the
    last of them)."""
    old, new = mapping(before).get("env"), mapping(after).get("env")
    if old == new:
        return True
    if not isinstance(old, dict):
        return False
    kept = {
        k: v
        for k, v in old.items()
        if not (credentials.PYPI_VARIABLE.match(k) or credentials.credential_in(str(v), known))
    }
    return new == kept or (new is None and not kept)


def condition_of(value: Any) -> str:
    text = str(value or "").strip()
    match = _EXPRESSION.match(text)
    return " ".join((match.group(1) if match else text).split())


def any_of(conditions: list[str]) -> str:
    unique = list(dict.fromkeys(conditions))
    return unique[0] if len(unique) == 1 else " || ".join(f"({c})" for c in unique)


def artifact_name(step: dict[str, Any]) -> str:
    return str(mapping(step.get("with")).get("name") or "")


def run_lines(step: dict[str, Any]) -> list[str]:
    return [line.strip() for line in str(step.get("run") or "").splitlines() if line.strip()]


def hands_login_only(step: dict[str, Any], known: set[str]) -> bool:
    lines = [line for line in run_lines(step) if not line.startswith("#")]
    return bool(lines) and all(credentials.hands_login(line, known) for line in lines)


def target_of(step: dict[str, Any], *envs: Any) -> str:
    """The index an upload step goes to: "testpypi" or "pypi" (``envs``: the variables of its
    job and workflow, which upload tools read too)."""
    text = str(step.get("run") or "") + str(mapping(step.get("with")).get("repository-url") or "")
    text += str(mapping(step.get("with")).get("repository_url") or "")
    for env in (*envs, step.get("env")):
        text += " ".join(f"{k}={v}" for k, v in mapping(env).items() if "REPO" in k or k.endswith("_URL"))
    if "test.pypi.org" in text or re.search(
        r"(?:-r|--repository|_REPOSITORY|_REPO)[ =]+(?:testpypi|test)\b", text
    ):
        return "testpypi"
    return "pypi"


# --- a job that built and uploaded, isolated ----------------------------------------------------------


def _run_step_kept(before: dict[str, Any], after: dict[str, Any], known: set[str]) -> bool:
    """``after`` is the run step ``before`` less its upload commands (a build chained before one
    is kept), lines that handed the login on, and login variables."""
    if without(before, {"run", "env"}) != without(after, {"run", "env"}) or not login_vars_only(
        before, after, known
    ):
        return False
    old, new = run_lines(before), run_lines(after)
    removed = [line for line in old if line not in new]
    uploads = [line for line in removed if UPLOAD_ANYWHERE.search(line)]
    if any(line not in uploads and not credentials.hands_login(line, known) for line in removed):
        return False
    # A line that held an upload keeps what ran before it, and the build its command also did
    # (`poetry publish --build` -> `poetry build`).
    kept = set()
    for upload in uploads:
        before_upload, command = split_upload(upload)
        before_upload = credentials.strip_prefix(before_upload, known)
        kept.add(" && ".join(c for c in (before_upload, builds_too(command or "")) if c))
    return all(line in kept for line in new if line not in old)


def expected_files(job: dict[str, Any]) -> str:
    """What the artifact of an isolated job must keep: the files its uploads named (each upload
    command's files, from its working folder; the publish action's whole packages-dir)."""
    files: list[str] = []
    default = str(mapping(mapping(job.get("defaults")).get("run")).get("working-directory") or "")
    for step in steps_of(job):
        if not is_upload(step):
            continue
        if uses_of(step).startswith(PUBLISH):
            inputs = mapping(step.get("with"))
            folder = str(inputs.get("packages-dir") or inputs.get("packages_dir") or "dist/")
            files.append(folder.rstrip("/") + "/*")
            continue
        folder = str(step.get("working-directory") or default)
        prefix = "" if folder in ("", ".", "./") else folder.rstrip("/") + "/"
        for line in run_lines(step):
            if found := UPLOAD_ANYWHERE.search(line):
                command = split_upload(line)[1] or line[found.start() :]
                named = upload_files(credentials.strip_login("twine", command)) or []
                files += [prefix + name for name in named]
    return artifact_path(list(dict.fromkeys(files)))


def _check_kept_steps(
    job_id: str, old: list[dict[str, Any]], rest: list[dict[str, Any]], known: set[str]
) -> None:
    """The steps of an isolated job besides its artifact: the owner's, in order, less its
    uploads and the lines that handed their login on."""
    if any(is_upload(s) for s in rest):
        raise Failed(f"job {job_id} still uploads", job_id)
    at = 0
    for index, step in enumerate(old):
        if at < len(rest) and (rest[at] == step or _run_step_kept(step, rest[at], known)):
            at += 1
        elif not is_upload(step) and not hands_login_only(step, known):
            raise Failed(f"job {job_id}: its step {index + 1} changed or went, and it is no upload", job_id)
    if at != len(rest):
        raise Failed(f"job {job_id} gained a step besides its artifact", job_id)
    if any(not str(s.get("run") or "").strip() and "uses" not in s for s in rest):
        raise Failed(f"job {job_id} has a step that neither runs nor uses anything", job_id)


def check_builder(
    job_id: str, before: dict[str, Any], after: dict[str, Any], name: str, known: set[str]
) -> None:
    """A job that built and uploaded: its uploads became one artifact of exactly what they
    uploaded, and nothing else changed."""
    if without(before, EDITED_KEYS) != without(after, EDITED_KEYS) or not login_vars_only(
        before, after, known
    ):
        raise Failed(f"job {job_id} changed beyond its upload", job_id)
    # Its environment moves to the publish job, or stays as it was.
    environment_ok = after.get("environment") is None or after.get("environment") == before.get("environment")
    if before.get("permissions") != after.get("permissions") or not environment_ok:
        raise Failed(f"job {job_id}'s permissions or environment changed", job_id)
    if id_token(after.get("permissions")):
        raise Failed(f"job {job_id} runs the project's code and may request an OIDC token", job_id)
    old, new = steps_of(before), steps_of(after)
    last_upload = max(i for i, s in enumerate(old) if is_upload(s))
    if last_upload != len(old) - 1:
        raise Failed(f"job {job_id} ran steps after its upload; it cannot be split", job_id)
    kept = [
        i for i, s in enumerate(new) if uses_of(s).startswith(ARTIFACT_UPLOAD) and artifact_name(s) == name
    ]
    if len(kept) != 1:
        raise Failed(f"job {job_id} should keep its distributions as one artifact, {name}", job_id)
    artifact, rest = new[kept[0]], [s for i, s in enumerate(new) if i != kept[0]]
    _check_kept_steps(job_id, old, rest, known)
    if kept[0] != len(new) - 1:
        raise Failed(f"job {job_id} keeps its distributions before its last upload", job_id)
    conditions = [condition_of(s.get("if")) for s in old if is_upload(s)]
    if condition_of(artifact.get("if")) != ("" if "" in conditions else any_of(conditions)):
        raise Failed(f"job {job_id} keeps its distributions where no upload ran", job_id)
    path = str(mapping(artifact.get("with")).get("path") or "").strip()
    if path != expected_files(before):
        raise Failed(
            f"job {job_id} keeps {path!r} for the publish job, not what it uploaded ({expected_files(before)!r})",
            job_id,
        )


# --- a job converted in place ------------------------------------------------------------------------


def _publish_step_kept(before: dict[str, Any], after: dict[str, Any], known: set[str]) -> bool:
    """The publish action's step, now on the pinned ref and without user or password."""
    if without(before, {"uses", "with", "env"}) != without(after, {"uses", "with", "env"}):
        return False
    inputs = without(mapping(before.get("with")), {"user", "username", "password"})
    return (
        uses_of(after).startswith(PUBLISH)
        and mapping(after.get("with")) == inputs
        and login_vars_only(before, after, known)
    )


def _words(line: str) -> list[str]:
    return _WORDS.findall(line)


def _line_lost_login_only(old: str, new: str, known: set[str]) -> bool:
    """``new`` is ``old`` less the words that gave a login: `-p VALUE`, `--password=VALUE`,
    `TWINE_PASSWORD=VALUE` before the command."""
    old_words, new_words = _words(old), _words(new)
    at, skip = 0, False
    for word in old_words:
        if skip:
            skip = False
        elif at < len(new_words) and word == new_words[at]:
            at += 1
        elif word in _LOGIN_OPTIONS:
            skip = True
        elif ("=" in word and word.split("=", 1)[0] in _LOGIN_OPTIONS) or (
            re.fullmatch(r"[A-Za-z_]\w*=.+", word)
            and (
                credentials.PYPI_VARIABLE.match(word.split("=", 1)[0])
                or credentials.credential_in(word, known)
            )
        ):
            continue
        else:
            return False
    return at == len(new_words)


def _run_step_converted(before: dict[str, Any], after: dict[str, Any], known: set[str]) -> bool:
    """An upload's run step, converted in place: login options, login lines and variables gone;
    `poetry|hatch|flit publish` replaced by the build it also did (or nothing)."""
    if without(before, {"run", "env"}) != without(after, {"run", "env"}) or not login_vars_only(
        before, after, known
    ):
        return False
    old = [line for line in run_lines(before) if not credentials.hands_login(line, known)]
    new = run_lines(after)
    if len(old) != len(new) + sum(1 for line in old if _NO_OIDC.search(line) and not _kept_part(line, known)):
        return False
    at = 0
    for line in old:
        if _NO_OIDC.search(line):
            part = _kept_part(line, known)
            if part:
                if at >= len(new) or new[at] != part:
                    return False
                at += 1
            continue
        if at >= len(new) or not (
            new[at] == line or (UPLOAD_ANYWHERE.search(line) and _line_lost_login_only(line, new[at], known))
        ):
            return False
        at += 1
    return at == len(new)


def _kept_part(line: str, known: set[str]) -> str:
    """What stays of a `poetry|hatch|flit publish` line: what ran before it, and its build."""
    found = _NO_OIDC.search(line)
    assert found is not None
    return with_build(
        credentials.strip_prefix(line[: found.start()], known), builds_too(line[found.start() :])
    )


def _is_publish_action(step: dict[str, Any], condition: Any) -> bool:
    return (
        uses_of(step).startswith(PUBLISH)
        and set(step) <= {"name", "if", "uses", "with"}
        and set(mapping(step.get("with"))) <= _PUBLISH_INPUTS
        and condition_of(step.get("if")) == condition_of(condition)
    )


def check_in_place(
    job_id: str, before: dict[str, Any], after: dict[str, Any], root_permissions: Any, plan: Plan
) -> None:
    """A job converted where it is: environment and `id-token: write` added (no environment
    where the plan says the job runs for more than releases), every permission it had kept
    (explicit), its login gone, its uploads trusted, every other step as it was."""
    known = plan.credentials
    if without(before, EDITED_KEYS) != without(after, EDITED_KEYS) or not login_vars_only(
        before, after, known
    ):
        raise Failed(f"job {job_id} changed beyond its upload", job_id)
    bare = job_id in plan.without_environment
    if before.get("environment") not in (None, after.get("environment")) or not (
        after.get("environment") or bare
    ):
        raise Failed(f"job {job_id} has no environment, or another one", job_id)
    _check_kept_permissions(
        job_id, before.get("permissions", root_permissions), after.get("permissions"), plan
    )
    _check_converted_steps(job_id, steps_of(before), steps_of(after), known)
    if any(credentials.credential_in(str(s), known) for s in steps_of(after)):
        raise Failed(f"job {job_id} still reads the PyPI login", job_id)


def _check_kept_permissions(job_id: str, had: Any, permissions: Any, plan: Plan) -> None:
    if not id_token(permissions):
        raise Failed(f"job {job_id} lacks `id-token: write`", job_id)
    if had == "write-all":
        return
    if had == "read-all":
        wanted = {s: "read" for s in _READ_ALL}
    elif had is not None:
        wanted = without(had, {"id-token"})
    else:
        wanted = dict(line.split(": ", 1) for line in plan.explicit.get(job_id, []))
    if without(permissions, {"id-token"}) != wanted:
        raise Failed(f"job {job_id} did not keep the permissions it had", job_id)


def _check_converted_steps(
    job_id: str, old: list[dict[str, Any]], new: list[dict[str, Any]], known: set[str]
) -> None:
    """The owner's steps, in order: each as it was, or its upload made trusted (and a tool's
    `publish` followed by the publish action), or gone where it only handed the login on."""
    at = 0
    for step in old:
        current = new[at] if at < len(new) else None
        no_oidc = bool(_NO_OIDC.search(str(step.get("run") or "")))
        if current is not None and _step_kept_in_place(step, current, known):
            at += 1
            if no_oidc:
                if at >= len(new) or not _is_publish_action(new[at], step.get("if")):
                    raise Failed(f"job {job_id}: the publish action does not follow its build", job_id)
                at += 1
        elif current is not None and no_oidc and _is_publish_action(current, step.get("if")):
            at += 1  # the step did only that upload: the publish action took its place
        elif not hands_login_only(step, known):
            raise Failed(f"job {job_id}'s steps changed beyond its upload and login", job_id)
    if at != len(new):
        raise Failed(f"job {job_id} gained a step", job_id)


def _step_kept_in_place(step: dict[str, Any], current: dict[str, Any], known: set[str]) -> bool:
    return (
        current == step
        or (without(step, {"env"}) == without(current, {"env"}) and login_vars_only(step, current, known))
        or (uses_of(step).startswith(PUBLISH) and _publish_step_kept(step, current, known))
        or ("run" in step and is_upload(step) and _run_step_converted(step, current, known))
    )


_READ_ALL = ("actions", "checks", "contents", "deployments", "discussions", "issues", "packages", "pages",
             "pull-requests", "repository-projects", "security-events", "statuses")  # fmt: skip


# --- the jobs the plan adds -----------------------------------------------------------------------------


def check_publish_job(job_id: str, job: dict[str, Any]) -> None:
    steps = steps_of(job)
    if not steps or not uses_of(steps[-1]).startswith(PUBLISH):
        raise Failed(f"job {job_id} does not upload with {PUBLISH_ACTION}", job_id)
    if any("run" in s or not uses_of(s).startswith((ARTIFACT_DOWNLOAD, PUBLISH)) for s in steps):
        raise Failed(f"job {job_id} runs more than a download and the upload", job_id)
    if not job.get("environment") or not id_token(job.get("permissions")):
        raise Failed(f"job {job_id} lacks its environment or `id-token: write`", job_id)
    if job.get("permissions") != {"id-token": "write"}:
        raise Failed(f"job {job_id} is granted more than `id-token: write`", job_id)


def _could_match(pattern: str, name: str) -> bool:
    """Whether the artifact ``name`` (it may hold expressions) can match a download's
    ``pattern``: a literal prefix and a trailing `*`, as the plan writes them."""
    prefix = pattern.removesuffix("*")
    literal = name.split("${{", 1)[0]
    if "${{" in name:
        return literal.startswith(prefix) or prefix.startswith(literal)
    return name.startswith(prefix)


def check_downloads(job_id: str, jobs: dict[str, Any], plan: Plan) -> None:
    needed = set(needs_of(jobs[job_id]))
    ours = {name: builder for builder, name in plan.artifacts.items()}
    made = [
        (j, artifact_name(s))
        for j, job in jobs.items()
        for s in steps_of(job)
        if uses_of(s).startswith(ARTIFACT_UPLOAD)
    ]
    for name in ours:
        if [n for _, n in made].count(name) != 1:
            raise Failed(f"the artifact name {name} is made by more than one step", job_id)
    for step in steps_of(jobs[job_id]):
        if not uses_of(step).startswith(ARTIFACT_DOWNLOAD):
            continue
        inputs = mapping(step.get("with"))
        name, pattern = str(inputs.get("name") or ""), str(inputs.get("pattern") or "")
        if name and not pattern:
            # GitHub refuses a second artifact of one name in a run, so an exact name is one artifact.
            wrong = ours.get(name) not in needed
        elif pattern and not name:
            matched = [(j, n) for j, n in made if _could_match(pattern, n)]
            wrong = not matched or any(ours.get(n) != j or j not in needed for j, n in matched)
        else:
            wrong = True
        if wrong:
            raise Failed(
                f"job {job_id} downloads `{name or pattern or 'every artifact'}`, which is not only the "
                "distributions of the jobs it needs",
                job_id,
            )


def secrets_left(text: str, known: set[str]) -> list[str]:
    """The PyPI logins a workflow's text still reads (comments aside)."""
    code = "\n".join(re.sub(r"(?:^|\s)#.*$", "", line) for line in text.splitlines())
    return sorted({n for n in secrets_read(code) if n in known or credentials.pypi_secret(n)})
