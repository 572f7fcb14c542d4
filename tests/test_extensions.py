"""The derived values and rules of extensions/, tested directly with frozen dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import tomllib
import yaml
from hypothesis import given
from hypothesis import strategies as st
from packaging.utils import canonicalize_name

from extensions import backends, licenses, names, pythons

# --- Python versions --------------------------------------------------------------

NOV_2026 = dt.date(2026, 11, 24)


def test_default_min_skips_versions_past_end_of_life() -> None:
    # 3.10 reached its end of life in October 2026.
    assert pythons.default_min(NOV_2026) == "3.11"
    assert pythons.default_min(dt.date(2026, 10, 31)) == "3.10"
    assert pythons.default_min(dt.date(2027, 11, 1)) == "3.12"


def test_matrix_runs_from_the_minimum_to_the_newest_release() -> None:
    assert pythons.matrix("3.11", NOV_2026) == ["3.11", "3.12", "3.13", "3.14", "3.15"]
    # Before 3.15's release day, 3.14 is the newest.
    assert pythons.matrix("3.11", dt.date(2026, 9, 30)) == ["3.11", "3.12", "3.13", "3.14"]
    assert pythons.newest(NOV_2026) == "3.15"


def test_matrix_compares_versions_as_numbers_not_text() -> None:
    assert "3.9" not in pythons.matrix("3.10", NOV_2026)
    assert pythons.matrix("3.9", NOV_2026)[:2] == ["3.9", "3.10"]


def test_classifiers_name_every_version_of_the_matrix() -> None:
    classifiers = pythons.classifiers("3.13", NOV_2026)
    assert classifiers == [
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.13",
        "Programming Language :: Python :: 3.14",
        "Programming Language :: Python :: 3.15",
    ]


@pytest.mark.parametrize("value", ["3.16", "4.0", "3.11.2", "", "latest"])
def test_python_min_refuses_unknown_or_unreleased_versions(value: str) -> None:
    error = pythons.python_min_error(value, NOV_2026)
    assert "not a released CPython" in error
    assert "3.11" in error  # names the valid choices


@pytest.mark.parametrize("value", ["3.8", "3.6", "2.7"])
def test_python_min_says_an_old_release_is_past_its_end_of_life(value: str) -> None:
    """Once 3.8 was called "not a released CPython feature version": it was released, and is
    past its end of life."""
    error = pythons.python_min_error(value, NOV_2026)
    assert f"{value} is past its end of life" in error and "not a released" not in error
    assert "3.11" in error


def test_python_min_accepts_every_released_version() -> None:
    for version in pythons.released(NOV_2026):
        assert pythons.python_min_error(version, NOV_2026) == ""


def test_release_table_is_ordered_and_consistent() -> None:
    versions = [tuple(map(int, r.version.split("."))) for r in pythons.RELEASES]
    assert versions == sorted(versions)
    for release in pythons.RELEASES:
        assert release.released < release.end_of_life


# --- names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("project", "module"),
    [
        ("acme-widgets", "acme_widgets"),
        ("Acme.Widgets", "acme_widgets"),
        ("acme__w--x", "acme_w_x"),
        ("a", "a"),
    ],
)
def test_import_name_is_derived_from_the_pypi_name(project: str, module: str) -> None:
    assert names.import_name(project) == module


@given(st.text(alphabet="aZ09-_.é ", max_size=12))
def test_names_are_normalised_as_packaging_normalises_them(name: str) -> None:
    assert names.normalize(name) == canonicalize_name(name)


@pytest.mark.parametrize("name", ["acme-widgets", "A1", "x.y_z", "numpy2"])
def test_valid_pypi_names_are_accepted(name: str) -> None:
    assert names.project_name_error(name) == ""


@pytest.mark.parametrize("name", ["My Package!", "-acme", "acme-", "café", "", "a b", "acme/widgets"])
def test_invalid_pypi_names_are_refused_with_an_example(name: str) -> None:
    assert "acme-widgets" in names.project_name_error(name)


def test_pypi_names_of_standard_library_modules_are_refused() -> None:
    assert "standard library" in names.project_name_error("asyncio")


@pytest.mark.parametrize(
    ("name", "words"), [("class", "keyword"), ("json", "standard library"), ("1abc", "not a valid")]
)
def test_bad_import_names_are_refused(name: str, words: str) -> None:
    assert words in names.import_name_error(name)


@pytest.mark.parametrize("owner", ["acme", "acme-corp", "a", "A1-b2", "x" * 39])
def test_valid_github_owners(owner: str) -> None:
    assert names.github_owner_error(owner) == ""


@pytest.mark.parametrize("owner", ["acme.corp", "-acme", "acme-", "ac--me", "x" * 40, "", "a b"])
def test_invalid_github_owners_are_refused(owner: str) -> None:
    assert "acme-corp" in names.github_owner_error(owner)


@pytest.mark.parametrize("repo", ["..", "a b", "x" * 101, "widgets.git", ""])
def test_invalid_github_repos_are_refused(repo: str) -> None:
    assert "acme-widgets" in names.github_repo_error(repo)


@pytest.mark.parametrize("email", ["jane", "jane@", "@example.com", "jane@example", "a b@example.com"])
def test_invalid_emails_are_refused(email: str) -> None:
    assert "jane@example.com" in names.email_error(email)


@pytest.mark.parametrize("env", ["release", "pypi", "test-pypi", "prod_1"])
def test_valid_environment_names(env: str) -> None:
    assert names.environment_error(env) == ""


@pytest.mark.parametrize("env", ["", "my env", "rel:ease", "-release", "a/b"])
def test_invalid_environment_names_are_refused(env: str) -> None:
    assert "release" in names.environment_error(env)


# --- licenses and backends ----------------------------------------------------------


@pytest.mark.parametrize("spdx", list(licenses.LICENSES))
def test_every_license_has_a_full_text_with_holder_and_year(spdx: str) -> None:
    text = licenses.license_text(spdx, 2026, "Jane Doe")
    assert len(text) > 700
    if licenses.names_holder(spdx):
        assert "<year>" not in text and "<copyright holders>" not in text
        assert "2026" in text and "Jane Doe" in text
    else:
        # Apache, the GNU licenses and the MPL stay verbatim (their appendices are templates
        # for the project's own notices); the README carries the project's notice.
        source = (Path(licenses.__file__).with_name("licenses") / f"{spdx}.txt").read_text(encoding="utf-8")
        assert text == source.strip("\n") + "\n" and "Jane Doe" not in text


def test_unknown_license_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown license"):
        licenses.license_text("WTFPL", 2026, "x")


def test_license_choices_match_the_license_table(copier_yml: dict) -> None:
    assert set(copier_yml["license"]["choices"].values()) == set(licenses.LICENSES)


def test_backend_choices_match_the_backend_table(copier_yml: dict) -> None:
    # "other" records an existing project's own backend (a retrofit); a new project is refused it.
    values = {
        c["value"] if isinstance(c, dict) else c for c in copier_yml["build_backend"]["choices"].values()
    }
    assert values == {*backends.BACKENDS, "other"}


@pytest.mark.parametrize("name", list(backends.BACKENDS))
def test_backend_config_is_valid_toml(name: str) -> None:
    config = backends.backend(name).tool_config.format(import_name="acme_widgets")
    tomllib.loads(config)


@pytest.fixture(scope="module")
def copier_yml() -> dict:
    from helpers import TEMPLATE_DIR

    return yaml.safe_load((TEMPLATE_DIR / "copier.yml").read_text())


def test_a_docs_engine_newer_than_the_oldest_python_gets_a_marker() -> None:
    """Zensical runs on Python 3.11+: a project supporting 3.10 still locks (uv resolves the
    docs group for every supported Python); from 3.11 on, no marker."""
    from extensions import docs_engines

    zensical = docs_engines.ENGINES["zensical"]
    assert docs_engines.requirements(zensical, "3.10")[0] == 'zensical>=0.0.73; python_version >= "3.11"'
    assert docs_engines.requirements(zensical, "3.11") == list(zensical.requires)
    assert docs_engines.requirements(docs_engines.ENGINES["sphinx"], "3.10") == [
        "sphinx>=8.1",
        "furo>=2024.8.6",
        "myst-parser>=4.0",
    ]
