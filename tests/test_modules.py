"""Direct tests of the template's modules that the journeys reach only through copier: the
loader, the destination's facts, the retrofit's project reader, new jobs, calls and writer,
and the compiled-template memory of context.py. Real files and real git; no copier here."""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest
import tomllib
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2.sandbox import SandboxedEnvironment

from extensions import compiled, destination, folder
from extensions.load import package
from extensions.retrofit import called_tests, new_jobs, project, questions
from extensions.retrofit.plan import Plan
from extensions.retrofit.workflows import Workflow
from extensions.retrofit.write import write
from helpers import FIXTURES, TEMPLATE_DIR, commit_all, run

# --- load.py ---------------------------------------------------------------------------------


def test_the_loader_gives_each_template_folder_its_own_package(tmp_path: Path) -> None:
    here = package(TEMPLATE_DIR / "extensions")
    assert package(TEMPLATE_DIR / "extensions") is here  # once per folder
    other = tmp_path / "extensions"
    (other / "sub").mkdir(parents=True)
    (other / "__init__.py").write_text('"""Another release."""\n')
    (other / "sub" / "__init__.py").write_text("")
    (other / "names.py").write_text("from .sub import __name__ as SUB\nVALUE = 2\n")
    loaded = package(other)
    assert loaded is not here and loaded.__name__ != here.__name__
    assert loaded.__name__ + ".names" not in sys.modules  # nothing is imported before it is asked for
    names = importlib.import_module(".names", loaded.__name__)
    assert names.VALUE == 2 and loaded.__name__ + ".sub" == names.SUB  # relative imports work
    (other / "names.py").write_text("VALUE = 3\n# a new release in the same folder\n")
    assert package(other) is not loaded  # changed files: loaded afresh


def test_migrations_run_through_the_loader(tmp_path: Path) -> None:
    answers = tmp_path / ".copier-answers.yml"
    answers.write_text("old_name: kept\n")
    done = run(
        [
            sys.executable,
            TEMPLATE_DIR / "extensions" / "load.py",
            "rename_answer",
            answers,
            "old_name",
            "new_name",
        ]
    )
    assert "answer old_name: 'kept' is now new_name" in done.stdout
    assert "new_name: kept" in answers.read_text()


# --- folder.py and destination.py ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "found"),
    [
        ("https://github.com/acme/widgets.git", ("acme", "widgets")),
        ("git@github.com:acme/widgets", ("acme", "widgets")),
        ("https://gitlab.com/acme/widgets.git", None),
    ],
)
def test_github_repository_reads_https_and_ssh_remotes(url: str, found: tuple[str, str] | None) -> None:
    assert folder.github_repository(url) == found


def test_the_recorded_retrofit_answer(tmp_path: Path) -> None:
    answers = tmp_path / "a.yml"
    assert folder.answered_retrofit(answers) == "no"  # none recorded: a project made before the question
    answers.write_text("retrofit: upgrade\n")
    assert folder.answered_retrofit(answers) == "upgrade"
    answers.write_text("retrofit: [\n")
    with pytest.raises(Exception, match=r"a\.yml is not readable YAML"):
        folder.answered_retrofit(answers)
    conf = {"dst_path": tmp_path, "answers_file": ".copier-answers.pylib.yml"}
    assert folder.answers_path(conf) == tmp_path / ".copier-answers.pylib.yml"


def test_untracked_files_are_named_whatever_git_hides(tmp_path: Path) -> None:
    run(["git", "init", "-q", tmp_path])
    run(["git", "-C", tmp_path, "config", "status.showUntrackedFiles", "no"])
    assert folder.untracked_error(tmp_path) == ""
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "draft.md").write_text("mine\n")
    assert "notes/draft.md" in folder.untracked_error(tmp_path)


def test_a_project_in_a_subfolder_of_a_repository_sees_only_its_own_folder(tmp_path: Path) -> None:
    """A project kept in a subfolder of a larger repository: its untracked files are those of
    its own folder, named from it; the repository's top is known (GitHub runs only its
    workflows), and a retrofit there is refused before anything is written."""
    shutil.copytree(FIXTURES / "twine-release-setuppy", tmp_path / "packages" / "legacy")
    run(["git", "init", "-q", tmp_path])
    commit_all(tmp_path, "A repository with a package in a subfolder")
    package = tmp_path / "packages" / "legacy"
    (tmp_path / "elsewhere.txt").write_text("not the project's\n")
    assert folder.untracked_error(package) == ""
    (package / "notes.txt").write_text("mine\n")
    assert "(notes.txt)" in folder.untracked_error(package)
    (package / "notes.txt").unlink()
    assert folder.enclosing_repository(package) == str(tmp_path.resolve())
    assert folder.enclosing_repository(tmp_path) == ""
    conf: dict[str, Any] = {"dst_path": package, "answers_file": None, "data": {}}
    (tmp_path / "elsewhere.txt").unlink()
    reason = destination.destination(conf).mode_error("add")
    assert f"is a subfolder of the git repository {tmp_path.resolve()}" in reason


def test_a_new_project_is_answered_without_the_retrofit(tmp_path: Path) -> None:
    conf: dict[str, Any] = {"dst_path": tmp_path / "new", "answers_file": None, "data": {}}
    here = destination.destination(conf)
    assert here.new and not here.existing
    assert here.default_mode == here.mode == "no"
    assert here.mode_error("no") == ""
    assert here.choice_error("add") == "not what this folder holds"
    assert here.unchanged
    assert here.publish_workflow == "publish.yml"
    assert here.import_name("click") == "click_lib"
    assert here.tests_call == {"calls": [], "reasons": []}
    assert here.value("project_name") == "" and here.environment == "" and here.remote_owner == ""


def test_the_destination_is_read_once_per_run(tmp_path: Path) -> None:
    """One record per run (copier's ``data`` of the run, its folder, answers file and operation):
    every question, file and message of the run reads the same facts, read from the disk once;
    another run, even into the same folder, reads them again."""
    shutil.copytree(FIXTURES / "twine-release-setuppy", tmp_path / "project")
    conf: dict[str, Any] = {"dst_path": tmp_path / "project", "answers_file": None, "data": {}}
    here = destination.destination(conf)
    assert destination.destination(dict(conf)) is here  # a new LazyDict per render, the same run
    assert here.existing and not here.new
    assert here.value("project_name") == "acme-legacy"
    (tmp_path / "project" / "setup.py").unlink()
    (tmp_path / "project" / "setup.cfg").unlink()
    assert here.existing and here.value("project_name") == "acme-legacy"  # kept for the run
    again = destination.destination({**conf, "data": {}})  # the next run
    assert again is not here and not again.existing and again.value("project_name") == ""
    other = destination.destination({**conf, "answers_file": ".copier-answers.pylib.yml"})
    assert other is not here and other.answers == tmp_path / "project" / ".copier-answers.pylib.yml"


# --- the retrofit's reader, new jobs, calls and writer ----------------------------------------


def test_the_project_reader_takes_pep_621_metadata(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "acme-tools"\ndescription = "Tools."\nrequires-python = ">=3.11"\n'
        'license = "MIT"\nauthors = [{name = "Ada", email = "ada@example.com"}]\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    )
    (tmp_path / "src" / "acme_tools").mkdir(parents=True)
    (tmp_path / "src" / "acme_tools" / "__init__.py").write_text("")
    found = project.metadata(tmp_path)
    assert found["project_name"] == "acme-tools" and found["description"] == "Tools."
    assert found["python_min"] == "3.11" and found["license"] == "MIT"
    assert found["build_backend"] == "hatchling"
    assert (found["author_name"], found["author_email"]) == ("Ada", "ada@example.com")
    assert project.import_name(tmp_path, "acme-tools") == "acme_tools"


@pytest.mark.parametrize(
    ("files", "versioning"),
    [
        ({"pyproject.toml": '[project]\nname = "a"\nversion = "1.0"\n'}, None),
        (
            {"pyproject.toml": '[project]\nname = "a"\ndynamic = ["version"]\n[tool.setuptools_scm]\n'},
            "git",
        ),
        (
            {
                "pyproject.toml": '[build-system]\nrequires = ["setuptools>=64", "setuptools-scm>=8"]\n'
                '[project]\nname = "a"\ndynamic = ["version"]\n'
            },
            "git",
        ),
        (
            {
                "pyproject.toml": '[project]\nname = "a"\ndynamic = ["version"]\n[tool.hatch.version]\nsource = "vcs"\n'
            },
            "git",
        ),
        (
            {
                "pyproject.toml": '[project]\nname = "a"\ndynamic = ["version"]\n[tool.hatch.version]\npath = "a/__init__.py"\n'
            },
            None,
        ),
        (
            {
                "pyproject.toml": '[project]\nname = "a"\ndynamic = ["version"]\n[tool.pdm.version]\nsource = "scm"\n'
            },
            "git",
        ),
        (
            {
                "pyproject.toml": '[tool.poetry]\nname = "a"\n[tool.poetry-dynamic-versioning]\nenable = true\n'
            },
            "git",
        ),
        ({"setup.py": "from setuptools import setup\nsetup(name='a', use_scm_version=True)\n"}, "git"),
        (
            {"setup.py": "from setuptools import setup\n# use_scm_version=True one day\nsetup(name='a')\n"},
            None,
        ),
        ({"setup.cfg": "[metadata]\nname = a\n[versioneer]\nVCS = git\n"}, "git"),
        ({"pyproject.toml": 'project = "a"\ntool = 1\n[build-system]\nrequires = "setuptools-scm"\n'}, None),
        # setuptools-scm only chooses the sdist's files: the version is an attribute, or static.
        (
            {
                "pyproject.toml": '[build-system]\nrequires = ["setuptools", "setuptools-scm"]\n'
                '[project]\nname = "a"\ndynamic = ["version"]\n'
                '[tool.setuptools.dynamic]\nversion = {attr = "a.__version__"}\n'
            },
            None,
        ),
        ({"pyproject.toml": '[project]\nname = "a"\nversion = "1.0"\n[tool.setuptools_scm]\n'}, None),
        ({"pyproject.toml": '[project]\nname = "a"\ndynamic = ["version"]\n[tool.versioningit]\n'}, "git"),
        (
            {
                "pyproject.toml": '[project]\nname = "a"\ndynamic = ["version"]\n'
                '[tool.hatch.version]\nsource = "uv-dynamic-versioning"\n'
            },
            "git",
        ),
        (
            {
                "pyproject.toml": '[project]\nname = "a"\ndynamic = ["version"]\n',
                "hatch.toml": '[version]\nsource = "vcs"\n',
            },
            "git",
        ),
        (
            {
                "pyproject.toml": '[project]\nname = "a"\ndynamic = ["version"]\n'
                "[tool.setuptools-git-versioning]\nenabled = true\n"
            },
            "git",
        ),
        (
            {
                "pyproject.toml": '[project]\nname = "a"\ndynamic = ["version"]\n[tool.versioneer]\nVCS = "git"\n'
            },
            "git",
        ),
        ({"setup.py": "from setuptools import setup\nsetup(setup_requires=['pbr'], pbr=True)\n"}, "git"),
        (
            {
                "setup.py": "from setuptools import setup\nsetup(setup_requires=['pbr'], pbr=True)\n",
                "setup.cfg": "[metadata]\nname = a\nversion = 1.0\n",
            },
            None,
        ),
    ],
    ids=[
        "static",
        "scm-table",
        "scm-requires",
        "hatch-vcs",
        "hatch-path",
        "pdm-scm",
        "poetry-dv",
        "setup-py",
        "comment",
        "versioneer",
        "odd-types",
        "scm-for-files-only",
        "scm-table-static",
        "versioningit",
        "uv-dynamic-versioning",
        "hatch-toml",
        "setuptools-git-versioning",
        "versioneer-toml",
        "pbr",
        "pbr-version-in-cfg",
    ],
)
def test_the_project_reader_sees_a_version_from_git_tags(
    tmp_path: Path, files: dict[str, str], versioning: str | None
) -> None:
    """A project whose version comes from its git tags: the retrofit's publish.yml must fetch the
    tags before it builds (`versioning: git`); a version in a file is read as it is."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    pyproject = tomllib.loads(files.get("pyproject.toml", ""))
    assert project._version_from_git(tmp_path, pyproject) == (versioning == "git")
    assert project.metadata(tmp_path).get("versioning") == versioning


def test_the_project_reader_reads_values_of_the_wrong_type_as_nothing(tmp_path: Path) -> None:
    """A key of pyproject.toml that holds something other than what its tool expects (a string
    for a table or a list, a number in a list) says nothing: before, a traceback."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "a"\nauthors = "Ada"\nclassifiers = [{x = 1}]\nurls = ["u"]\n'
        'license = 3\n[tool]\npoetry = {authors = [1], dependencies = ["python"]}\nflit = "x"\n'
    )
    assert project.metadata(tmp_path)["project_name"] == "a"
    (tmp_path / "pyproject.toml").write_text('project = "a"\ntool = ["poetry"]\n')
    assert "project_name" not in project.metadata(tmp_path)


def test_a_fork_file_the_project_holds_otherwise_is_in_the_way(tmp_path: Path) -> None:
    """The retrofit's refusal before copier writes anything: the fork's `org-` files the project
    already holds with other content (copier would stop on them halfway through)."""
    fork, project = tmp_path / "fork", tmp_path / "project"
    files = {
        ".github/workflows/org-audit.yml": "same\n",  # held byte for byte: copier finds it identical
        ".github/workflows/org-lint.yml": "the fork's\n",  # held otherwise: in the way
        "org_notes.md.jinja": "{{ project_name }}\n",  # held at all: its content needs the answers
        "docs/org-guide.md": "new\n",  # not held
        "{{ project_name }}/org-x.txt": "templated\n",  # its path needs the answers
        "org-folder/file.txt": "the fork's\n",  # the project holds a file where the fork has a folder
        "README.md": "upstream's file\n",  # not a fork's name
    }
    for name, text in files.items():
        (fork / "template" / name).parent.mkdir(parents=True, exist_ok=True)
        (fork / "template" / name).write_text(text)
    held = {
        ".github/workflows/org-audit.yml": "same\n",
        ".github/workflows/org-lint.yml": "the project's\n",
        "org_notes.md": "acme\n",
        "org-folder": "a file\n",
        "README.md": "the project's\n",
    }
    for name, text in held.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    assert questions.fork_files_in_the_way(fork, project) == [
        ".github/workflows/org-lint.yml",
        "org-folder/file.txt",
        "org_notes.md",
    ]
    assert questions.fork_files_in_the_way(None, project) == []  # no template folder: nothing to compare
    assert questions.fork_files_in_the_way(TEMPLATE_DIR, project) == []  # upstream ships none


@pytest.mark.parametrize(
    ("job_if", "upload_if", "condition"),
    [
        ("", "startsWith(github.ref, 'refs/tags/')", "startsWith(github.ref, 'refs/tags/')"),
        ("github.repository == 'acme/x'", "matrix.os == 'ubuntu-latest'", "github.repository == 'acme/x'"),
    ],
)
def test_the_publish_job_keeps_what_a_separate_job_can_read(
    job_if: str, upload_if: str, condition: str
) -> None:
    assert new_jobs.job_condition(job_if, upload_if, {"push"}) == (condition, "")


def test_a_condition_only_the_building_job_knows_is_refused_where_more_than_releases_run() -> None:
    condition, reason = new_jobs.job_condition("", "matrix.python == '3.12'", {"push", "pull_request"})
    assert condition == "" and "only the job that builds knows" in reason
    assert new_jobs.job_condition("", "matrix.python == '3.12'", {"release"}) == ("", "")


def test_a_tests_workflow_is_called_with_workflow_call_added_and_nothing_else(tmp_path: Path) -> None:
    root = tmp_path / ".github" / "workflows"
    root.mkdir(parents=True)
    (root / "tests.yml").write_text(
        "on:\n  push:\n  pull_request:\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: python -m pytest\n"
    )
    tests = Workflow(root / "tests.yml")
    publishing = Workflow(root / "publish.yml", "on:\n  release:\njobs: {}\n")
    called = called_tests.plan_calls(publishing, [tests], set())
    assert [call.path.name for call in called.calls] == ["tests.yml"] and called.reasons == []
    text = called.calls[0].text
    assert "workflow_call:" in text
    assert text.replace("  workflow_call:\n", "") == tests.text


def test_the_writer_writes_only_what_changed_with_the_files_line_ends(tmp_path: Path) -> None:
    path = tmp_path / ".github" / "workflows" / "release.yml"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"on: push\r\njobs: {}\r\n")
    assert write([Plan(path, "on: push\njobs: {}\n", newline="\r\n")]) == []  # the same text
    changed = write([Plan(path, "on: release\njobs: {}\n", changes=["moved"], newline="\r\n")])
    assert changed == ["moved"] and path.read_bytes() == b"on: release\r\njobs: {}\r\n"


# --- context.py --------------------------------------------------------------------------------


def test_git_values_are_read_as_git_config_get_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keys copier.yml's defaults read come from one git process: the last value of a key
    wins, as with `git config --get`; a value may hold spaces; a missing key is ""."""
    from extensions import context

    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Old Name\n\tname = Jane Q. Doe\n[GitHub]\n\tuser = jane-doe\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    context._git_values.cache_clear()
    context._git_value.cache_clear()
    try:
        for key in ("user.name", "github.user", "user.email", "core.bare"):
            said = run(["git", "config", "--get", key], check=False).stdout.strip()
            assert context.git_config(key) == said
        assert context.git_config("user.name") == "Jane Q. Doe" and context.git_config("user.email") == ""
    finally:
        context._git_values.cache_clear()
        context._git_value.cache_clear()


def test_each_string_is_compiled_once_per_environment() -> None:
    env = jinja2.Environment()
    compiled.compile_once(env)
    assert env.from_string("{{ x }}") is env.from_string("{{ x }}")
    assert env.from_string("{{ x }}").render(x=1) == "1" and env.from_string("{{ x }}").render(x=2) == "2"
    assert env.from_string("yield {{ x }}") is not env.from_string(
        "yield {{ x }}"
    )  # copier's yield: as before
    with pytest.raises(TypeError):
        env.from_string(True)  # type: ignore[arg-type]  # copier relies on this for non-strings


def _counted(env: jinja2.Environment) -> list[str]:
    """The texts ``env`` compiles from now on."""
    compiles: list[str] = []
    compile_text = env.compile

    def counting(source: Any, *args: Any, **kwargs: Any) -> Any:
        compiles.append(str(source))
        return compile_text(source, *args, **kwargs)

    env.compile = counting  # type: ignore[method-assign]
    return compiles


def test_a_text_is_compiled_once_per_process_whichever_environment_asks(tmp_path: Path) -> None:
    """An update renders the template three times, each with an environment (and a clone) of
    its own: the second environment compiles none of the texts the first did, strings or files;
    a changed file, or an environment that compiles differently, compiles anew."""
    for clone in ("old", "new"):
        (tmp_path / clone).mkdir()
        (tmp_path / clone / "README.md.jinja").write_text("# {{ name }} " + str(tmp_path) + "\n")
    (tmp_path / "new" / "LICENSE.jinja").write_text("{{ name }} " + str(tmp_path) + " licence\n")
    first, second = (
        jinja2.Environment(loader=jinja2.FileSystemLoader(tmp_path / clone)) for clone in ("old", "new")
    )
    for env in (first, second):
        compiled.compile_once(env)
    text = "{{ name | upper }} " + str(tmp_path)
    assert first.from_string(text).render(name="a") == "A " + str(tmp_path)
    assert first.get_template("README.md.jinja").render(name="a") == f"# a {tmp_path}"
    compiles = _counted(second)
    lexed: list[str] = []
    lex = second._tokenize

    def lexing(source: str, *args: Any) -> Any:
        lexed.append(source)
        return lex(source, *args)

    second._tokenize = lexing  # type: ignore[method-assign,assignment]
    assert second.from_string(text).render(name="b") == "B " + str(tmp_path)
    assert second.get_template("README.md.jinja").render(name="b") == f"# b {tmp_path}"
    assert compiles == [] and lexed == []  # nor does it read the text again
    assert second.get_template("LICENSE.jinja").render(name="b") == f"b {tmp_path} licence"
    assert len(compiles) == 1  # a text the store has not seen
    other = jinja2.Environment(variable_start_string="[[", variable_end_string="]]")
    compiled.compile_once(other)
    compiles = _counted(other)
    assert other.from_string(text).render(name="c") == "{{ name | upper }} " + str(tmp_path)
    assert len(compiles) == 1  # compiled its own way


# Texts without Jinja syntax, with every line end Jinja knows and the characters of its syntax
# alone ("{", "%", "#" without their pair).
_PLAIN_TEXTS = (
    st.lists(st.sampled_from(["a", " ", "\n", "\r\n", "\r", "{", "}", "%", "#", "-", "é", "\t"]))
    .map("".join)
    .filter(lambda text: not any(marker in text for marker in ("{{", "{%", "{#")))
)
_SETTINGS = st.fixed_dictionaries(
    {
        "keep_trailing_newline": st.booleans(),  # copier's True, and Jinja's own False
        "newline_sequence": st.sampled_from(["\n", "\r\n", "\r"]),
        "trim_blocks": st.booleans(),
        "lstrip_blocks": st.booleans(),
    }
)


@settings(max_examples=300, deadline=None)
@given(text=_PLAIN_TEXTS, options=_SETTINGS)
def test_a_text_without_jinja_renders_as_jinja_renders_it(text: str, options: dict[str, Any]) -> None:
    """A text with none of the delimiters skips Jinja's compiler: what it renders is what Jinja
    renders, in copier's sandbox and in a plain environment, with any line-end settings."""
    for environment in (SandboxedEnvironment, jinja2.Environment):
        ours, jinjas = environment(**options), environment(**options)
        compiled.compile_once(ours)
        assert compiled.plain_text(ours, text) is not None
        assert ours.from_string(text).render(name="x") == jinjas.from_string(text).render(name="x")


def test_only_a_text_without_jinja_skips_the_compiler() -> None:
    env = SandboxedEnvironment(keep_trailing_newline=True)
    compiled.compile_once(env)
    assert env.from_string("The first plain text").render() == "The first plain text"
    compiles = _counted(env)
    for text in ("Help text of a question\n", "src", "{ not jinja }", "100% # of it"):
        assert env.from_string(text).render() == text
    assert compiles == []  # plain texts share the one template compiled before
    for text in ("{{ 1 + 1 }}", "{% if true %}2{% endif %}", "2{# note #}"):
        assert env.from_string(text).render() == "2" and compiled.plain_text(env, text) is None
    assert len(compiles) == 3
    other = jinja2.Environment(variable_start_string="[[", variable_end_string="]]")
    compiled.compile_once(other)
    assert compiled.plain_text(other, "{{ x }}") == "{{ x }}"  # not this environment's syntax
    assert (
        other.from_string("{{ x }}").render(x=1) == "{{ x }}"
        and other.from_string("[[ x ]]").render(x=1) == "1"
    )
    assert compiled.plain_text(jinja2.Environment(line_statement_prefix="#"), "# if") is None
    assert compiled.plain_text(jinja2.Environment(autoescape=True), "<b>") is None
    assert compiled.plain_text(jinja2.Environment(finalize=str), "text") is None


# Texts that differ in their literals: string literals in each place an expression takes one,
# and text between tags, with whitespace control around both.
_LITERALS = st.text(alphabet="ab %{}#-é\n", max_size=6)
_PIECES = st.one_of(
    _PLAIN_TEXTS,
    _LITERALS.map(lambda value: f"{{{{ {value!r} }}}}"),
    _LITERALS.map(lambda value: f"{{{{- x ~ {value!r} -}}}}"),
    _LITERALS.map(lambda value: f"{{{{ d[{value!r}] }}}}{{{{ f({value!r}, k={value!r}) }}}}"),
    _LITERALS.map(lambda value: f"{{{{ {value!r} if x else 'no' }}}}{{{{ y | default({value!r}) }}}}"),
    _LITERALS.map(lambda value: f"{{{{ x is sameas {value!r} }}}}{{{{ {value!r} 'b' }}}}"),
    _LITERALS.map(
        lambda value: f"{{% if x == {value!r} %}}yes{{% elif x %}} {value}\n{{% else %}}no{{%- endif %}}"
    ),
    _LITERALS.map(lambda value: f"{{%- for i in [{value!r}, 'b'] %}}{{{{ i }}}}-\n{{% endfor %}}"),
    _LITERALS.map(lambda value: f"{{% set y = {value!r} %}}{{{{ y }}}}{{% print {value!r} %}}"),
)


def _render_or_error(environment: jinja2.Environment, text: str) -> str:
    try:
        return environment.from_string(text).render(x="v", d={"a": 1}, f=lambda *a, **k: f"{a}{k}")
    except jinja2.TemplateError as error:
        return f"{type(error).__name__}: {error}"


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.lists(_PIECES, max_size=5).map("".join), min_size=1, max_size=4), options=_SETTINGS)
def test_texts_that_differ_in_their_literals_render_as_jinja_renders_them(
    texts: list[str], options: dict[str, Any]
) -> None:
    """Texts that share a shape share one compiled template, each literal a global: each still
    renders what Jinja renders, in copier's sandbox and in a plain environment."""
    for environment in (SandboxedEnvironment, jinja2.Environment):
        ours, jinjas = environment(**options), environment(**options)
        compiled.compile_once(ours)
        for text in texts:
            assert _render_or_error(ours, text) == _render_or_error(jinjas, text)


@pytest.mark.parametrize(
    "text",
    [
        "{% set 'a' = 1 %}",  # a literal where a name is assigned
        "{% for 'a' in x %}{% endfor %}",
        "{% macro m('a') %}{% endmacro %}",
        "{% with 'a' = 1 %}{% endwith %}",
        "{{ x.'a' }}",  # an attribute's name
        "{{ f('a'=1) }}",  # a keyword argument's name
        "{{ x | 'a' }}",  # a filter's name
        "{{ x is 'a' }}",  # a test's name
        "{% if x is not 'a' %}y{% endif %}",  # a test's name, where Jinja's compiler is lenient
        "{% if false %}{{ x is not 'a' }}{% endif %}",
        "{{ 'a' if x is not 'b' else 'c' }}",
        "{{ x 'a' }}",
        "{{ 'a }}",  # does not lex
        "{% trans %}a{% endtrans %}",  # an extension's tag
    ],
)
def test_a_literal_where_jinja_wants_a_name_fails_as_it_does_in_jinja(text: str) -> None:
    ours, jinjas = SandboxedEnvironment(), SandboxedEnvironment()
    compiled.compile_once(ours)
    said = _render_or_error(jinjas, text)
    assert said.startswith("TemplateSyntaxError") and _render_or_error(ours, text) == said


def test_texts_that_differ_in_their_literals_compile_once() -> None:
    env = SandboxedEnvironment(keep_trailing_newline=True)
    compiled.compile_once(env)
    compiles = _counted(env)
    env.globals["given"] = lambda name: name.upper()
    assert env.from_string("{{ given('docs') }}").render() == "DOCS"
    assert len(compiles) == 1
    assert env.from_string("{{ given('cli') }}").render() == "CLI"
    assert env.from_string("{% if x %}/LICENSE{% endif %}").render(x=1) == "/LICENSE"
    assert env.from_string("{% if x %}/README.md{% endif %}").render(x=1) == "/README.md"
    assert len(compiles) == 2
    for text in ("{{ given('docs') | lower }}", "{% if x %}/README.md{% endif %}x{{ y }}"):
        env.from_string(text)
    assert len(compiles) == 4  # another shape


def test_every_validator_names_its_own_question_in_one_shape() -> None:
    """A text question's validator is ``{{ refused('NAME') }}`` with its own name (a copied line
    that names another question would check the wrong rule), and all of them are one shape, so
    a render compiles one validator for them all."""
    config = yaml.safe_load((TEMPLATE_DIR / "copier.yml").read_text(encoding="utf-8"))
    questions = {key: value for key, value in config.items() if not key.startswith("_")}
    validators = {key: q["validator"] for key, q in questions.items() if "refused(" in q.get("validator", "")}
    assert validators == {key: f"{{{{ refused('{key}') }}}}" for key in validators}
    text_questions = {key for key, q in questions.items() if q["type"] == "str" and "choices" not in q}
    assert text_questions <= set(validators)
    env = SandboxedEnvironment()
    assert len({compiled.shape(env, text)[0] for text in validators.values()}) == 1  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "license: MIT\nauthor_name: [unclosed\n",
            "org.yml line 2 is not YAML (did not find expected ',' or ']')",
        ),
        (
            "license: MIT\n  docs: mkdocs: x\n",
            "org.yml line 2 is not YAML (mapping values are not allowed",
        ),
        (
            "- MIT\n- mkdocs\n",
            "org.yml must map question names to default values (like `license: MIT`), not hold a list",
        ),
        (b"license: \xff\n", "org.yml is not YAML ('utf-8' codec can't decode byte 0xff"),
    ],
)
def test_a_broken_org_file_says_where(tmp_path: Path, text: str | bytes, said: str) -> None:
    """A fork's maintainer edits org.yml by hand: a mistake gets a line and what to do, not a
    traceback."""
    from copier.errors import UserMessageError

    from extensions.context import read_org

    org = tmp_path / "org.yml"
    org.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(UserMessageError) as refused:
        read_org(org)
    assert str(refused.value).startswith(said) and str(refused.value).endswith(
        "fix it, then run copier again."
    )


def test_an_org_file_of_comments_only_sets_nothing(tmp_path: Path) -> None:
    from extensions.context import org_defaults, read_org

    org = tmp_path / "org.yml"
    org.write_text("# every default commented out\n")
    assert read_org(org) == {}
    org.write_text((TEMPLATE_DIR / "org.yml").read_text())
    assert read_org(org) == org_defaults() and "license" in org_defaults()


def test_a_refused_migration_never_says_nothing_changed(capsys: pytest.CaptureFixture[str]) -> None:
    """Copier runs a migration after it has written the update: a refusal says that this step
    changed nothing, and that what copier wrote is there to review (not "nothing was changed")."""
    from migrations._migration import Refusal
    from migrations._migration import run as run_migration

    def refuse() -> list[str]:
        raise Refusal("release.yml:3: the reason.")

    assert run_migration("retrofit", refuse) == 1
    said = capsys.readouterr().err
    assert "nothing was changed" not in said
    assert "it changed nothing itself. What copier wrote before it is in the working tree" in said
    assert said.rstrip().endswith("release.yml:3: the reason.")


def test_a_workflow_that_is_not_utf8_is_passed_over_only_when_it_shows_nothing_to_pypi(
    tmp_path: Path,
) -> None:
    from extensions.retrofit.workflows import RetrofitRefusal, read_workflows

    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "ci.yml").write_text(
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"
    )
    (folder / "latin1.yml").write_bytes("name: caf\xe9\non: push\njobs: {}\n".encode("latin-1"))
    assert [w.path.name for w in read_workflows(tmp_path)] == ["ci.yml"]
    (folder / "latin1.yml").write_bytes(
        "name: caf\xe9\non: push\njobs:\n  u:\n    steps:\n      - run: twine upload dist/*\n".encode(
            "latin-1"
        )
    )
    with pytest.raises(RetrofitRefusal, match=r"latin1\.yml:1: not UTF-8"):
        read_workflows(tmp_path)


def test_the_questions_for_new_projects_only_are_those_a_retrofit_is_not_asked() -> None:
    """answers.NEW_PROJECT_ONLY (refused when given to a retrofit) is exactly the questions whose
    `when` leaves out an existing project: a new such question is refused too, and nothing else."""
    from extensions import answers

    config = yaml.safe_load((TEMPLATE_DIR / "copier.yml").read_text(encoding="utf-8"))
    not_asked = {
        key
        for key, question in config.items()
        if not key.startswith("_") and "retrofit | default('no') == 'no'" in str(question.get("when", ""))
    }
    assert not_asked == answers.NEW_PROJECT_ONLY
