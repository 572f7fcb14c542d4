#!/usr/bin/env python3
"""Benchmarks of copier-python-lib: render, update, the rendered CI loop, the test suite.

    python benchmarks/run.py                 # everything, results also in benchmarks/RESULTS.md
    python benchmarks/run.py --runs 3 --skip-suite

Each figure is the median of several runs; each ratio is the median of the ratios of
pairs of runs made side by side by this one process (the floor's, then ours), so that the
machine's speed, and a slow moment of it, cancels out. The
"floor" is copier itself rendering a one-file, one-question template: its start-up,
git and file work, which no template can avoid. The "same-size floor" is copier rendering a
template with this one's number of questions and files and no logic at all, in a repository
that holds this one's other files too: what copier spends per question and per file (and
cloning the repository), so that the ratio to it is what this template's own logic
(extensions, templated defaults, paths and excludes) costs. Every repository here is packed.
Needs the test dependencies (`python -m pip install --group test`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# The goals are against the same-size floors (copier at this template's size, no logic): the
# one-file floor alone already costs more than 1.15x at this size (issue 32).
GOALS = {"render": 1.15, "update": 1.3}
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}


def sh(cmd: list[str | Path], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(c) for c in cmd], cwd=cwd, env=env or ENV, check=True, capture_output=True, text=True)


def timed(cmd: list[str | Path], cwd: Path | None = None, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    sh(cmd, cwd, env)
    return time.perf_counter() - start


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def git_repo(path: Path, tag: str) -> Path:
    sh(["git", "init", "-q", path])
    sh(["git", "-C", path, "add", "-A"])
    sh(["git", "-C", path, "commit", "-q", "-m", tag])
    sh(["git", "-C", path, "tag", tag])
    # Packed, as a clone from GitHub is: copier clones the template for each run, and a
    # repository with a loose file per object costs every template more than users see.
    sh(["git", "-C", path, "repack", "-a", "-d", "-q"])
    return path


def floor_template(path: Path) -> Path:
    (path / "template").mkdir(parents=True)
    (path / "copier.yml").write_text("_subdirectory: template\nname:\n  type: str\n  default: x\n")
    (path / "template" / "README.md.jinja").write_text("# {{ name }}\n")
    (path / "template" / "{{_copier_conf.answers_file}}.jinja").write_text(
        "{{ _copier_answers|to_nice_yaml }}"
    )
    return git_repo(path, "v1.0.0")


def sized_floor_template(path: Path, ours: Path, work: Path) -> Path:
    """copier's floor at this template's size: as many questions as copier.yml asks (each with
    a plain help text and default) and as many files as a default render writes (each with
    every answer), but no logic: no extensions, no templated defaults, paths or excludes.
    What copier itself spends per question and per file; the rest of a render is ours.

    The repository around the template is ours, file for file (extensions, tests, docs),
    unused: copier clones and checks out a template's whole repository, then deletes it, for
    each render (twice more for an update), and that costs by the number of files in it
    (200 files take about 0.15 s more than 25 here), whatever the template does with them."""
    config = yaml.safe_load((ours / "copier.yml").read_text(encoding="utf-8"))
    questions = [key for key in config if not key.startswith("_")]
    sh(copy_v1(ours, work / "sized-count", *OUR_ANSWERS))
    files = [p for p in (work / "sized-count").rglob("*") if p.is_file() and ".git" not in p.parts]
    (path / "template").mkdir(parents=True)
    (path / "copier.yml").write_text(
        "_subdirectory: template\n"
        + "".join(
            f"q{i}:\n  type: str\n  help: Question {i} of the size-matched floor\n  default: a{i}\n"
            for i in range(len(questions))
        )
    )
    body = "".join(f"{{{{ q{i} }}}}\n" for i in range(len(questions)))
    for i in range(len(files) - 1):
        (path / "template" / f"file{i}.txt.jinja").write_text(body)
    (path / "template" / "{{_copier_conf.answers_file}}.jinja").write_text(
        "{{ _copier_answers|to_nice_yaml }}"
    )
    for file in ours.rglob("*"):
        relative = file.relative_to(ours)
        if (
            file.is_file()
            and relative.parts[0] not in (".git", "template")
            and relative != Path("copier.yml")
        ):
            (path / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, path / relative)
    return git_repo(path, "v1.0.0")


def this_template(path: Path) -> Path:
    shutil.copytree(
        ROOT,
        path,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "__pycache__",
            ".pytest_cache",
            ".ruff_cache",
            ".mypy_cache",
            ".hypothesis",
            "site",
        ),
    )
    return git_repo(path, "v1.0.0")


def release_v2(template: Path, file: str) -> None:
    with (template / "template" / file).open("a") as f:
        f.write("\n<!-- v2 -->\n")
    sh(["git", "-C", template, "commit", "-q", "-am", "v2"])
    sh(["git", "-C", template, "tag", "v2.0.0"])


COPIER = [sys.executable, "-m", "copier"]
# The two answers the README's command gives; the floor template needs none.
OUR_ANSWERS = ["-d", "project_name=acme-widgets", "-d", "github_owner=acme"]


def copy_v1(template: Path, dest: Path, *data: str) -> list[str | Path]:
    """The copier command that renders the template's v1.0.0 with defaults and these -d answers."""
    return [*COPIER, "copy", "--trust", "--defaults", "--quiet", "--vcs-ref=v1.0.0", *data, template, dest]


def paired(floor: list[float], ours: list[float]) -> tuple[float, float, float]:
    """Medians of the floor's and our runs, and the median of the ratios of runs made side by side
    (so that a slow moment of the machine weighs on both runs of a pair)."""
    return median(floor), median(ours), median([o / f for f, o in zip(floor, ours, strict=True)])


def bench_render(
    work: Path, runs: int, floor: Path, sized: Path, ours: Path
) -> tuple[float, float, float, float, float, float]:
    """Medians of the floor's, the size-matched floor's and our renders; the paired ratios
    of ours to each floor, and of the size-matched floor to the floor."""
    samples: dict[str, list[float]] = {"floor": [], "sized": [], "ours": []}
    for i in range(runs + 1):  # the first round warms the disk cache and is dropped
        for name, template, data in (
            ("floor", floor, []),
            ("sized", sized, []),
            ("ours", ours, OUR_ANSWERS),
        ):
            dest = work / f"render-{name}-{i}"
            t = timed(copy_v1(template, dest, *data))
            if i:
                samples[name].append(t)
    f, o, ratio = paired(samples["floor"], samples["ours"])
    s, _, sized_ratio = paired(samples["sized"], samples["ours"])
    _, _, size_cost = paired(samples["floor"], samples["sized"])
    return f, s, o, ratio, sized_ratio, size_cost


def bench_update(
    work: Path, runs: int, floor: Path, sized: Path, ours: Path
) -> tuple[float, float, float, float, float]:
    """Medians of the floor's, the same-size floor's and our updates from v1 to v2 (each template's
    v2 changes one file the same way); the paired ratios of ours to each floor."""
    projects = {}
    for name, template, data in (("floor", floor, []), ("sized", sized, []), ("ours", ours, OUR_ANSWERS)):
        projects[name] = work / f"update-{name}"
        sh(copy_v1(template, projects[name], *data))
        git_repo(projects[name], "start")
    samples: dict[str, list[float]] = {"floor": [], "sized": [], "ours": []}
    for i in range(runs + 1):
        for name, project in projects.items():
            sh(["git", "-C", project, "reset", "-q", "--hard", "start"])
            sh(["git", "-C", project, "clean", "-qfdx"])
            t = timed(
                [*COPIER, "update", "--trust", "--defaults", "--quiet", "--vcs-ref=v2.0.0"], cwd=project
            )
            if i:
                samples[name].append(t)
    f, o, ratio = paired(samples["floor"], samples["ours"])
    s, _, sized_ratio = paired(samples["sized"], samples["ours"])
    return f, s, o, ratio, sized_ratio


def bench_ci_loop(work: Path, runs: int, ours: Path) -> tuple[float, float]:
    """The rendered workflows' commands (test job, then build job), with a warm cache."""
    results = {}
    for installer in ("pip", "uv"):
        project = work / f"ci-{installer}"
        sh(copy_v1(ours, project, *OUR_ANSWERS, "-d", f"ci_installer={installer}"))
        env = {
            **ENV,
            "PATH": f"{BIN}{os.pathsep}{ENV['PATH']}",
            "UV_PYTHON": sys.executable,
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_CACHE_DIR": str(work / "uv-cache"),
        }
        samples = []
        for i in range(runs + 1):  # round 0 fills the caches
            for leftover in (".venv", "venv", "dist"):
                shutil.rmtree(project / leftover, ignore_errors=True)
            (project / "uv.lock").unlink(missing_ok=True)
            start = time.perf_counter()
            if installer == "pip":
                sh([sys.executable, "-m", "venv", project / "venv"], env=env)
                python = project / "venv" / "bin" / "python"
                sh([python, "-m", "pip", "install", "-q", "-e", ".[test]"], project, env)
                sh([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, env)
                sh([python, "-m", "pip", "install", "-q", "build"], project, env)
                sh([python, "-m", "build", "-o", "dist"], project, env)
            else:
                sh(
                    ["uv", "run", "--no-dev", "--extra", "test", "pytest", "-q", "-p", "no:cacheprovider"],
                    project,
                    env,
                )
                sh(["uv", "build"], project, env)
            if i:
                samples.append(time.perf_counter() - start)
        results[installer] = median(samples)
    return results["pip"], results["uv"]


def bench_suite() -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2"], cwd=ROOT, env=ENV, check=True, capture_output=True
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="measured runs per figure (default 5)")
    parser.add_argument("--skip-suite", action="store_true", help="do not time the template's own test suite")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="cpl-bench-") as tmp:
        work = Path(tmp)
        floor, ours = floor_template(work / "floor"), this_template(work / "ours")
        sized = sized_floor_template(work / "sized", ours, work)
        f, s, o, ratio, sized_ratio, size_cost = bench_render(work, args.runs, floor, sized, ours)
        rows.append(("render: copier copy --defaults", f"{o:.2f} s", f"floor {f:.2f} s", f"{ratio:.2f}x"))
        rows.append(
            (
                "render, against copier at this size",
                f"{o:.2f} s",
                f"same-size floor {s:.2f} s ({size_cost:.2f}x the floor)",
                f"{sized_ratio:.2f}x (goal <= {GOALS['render']}x)",
            )
        )
        release_v2(floor, "README.md.jinja")
        release_v2(sized, "file0.txt.jinja")
        release_v2(ours, "README.md.jinja")
        f, s, o, ratio, sized_ratio = bench_update(work, args.runs, floor, sized, ours)
        rows.append(("update: copier update v1 -> v2", f"{o:.2f} s", f"floor {f:.2f} s", f"{ratio:.2f}x"))
        rows.append(
            (
                "update, against copier at this size",
                f"{o:.2f} s",
                f"same-size update floor {s:.2f} s",
                f"{sized_ratio:.2f}x (goal <= {GOALS['update']}x)",
            )
        )
        pip, uv = bench_ci_loop(work, max(1, args.runs // 2), ours)
        rows.append(
            (
                "rendered CI loop (install, tests, build)",
                f"pip {pip:.2f} s",
                f"uv {uv:.2f} s",
                f"pip/uv {pip / uv:.2f}x",
            )
        )
    if not args.skip_suite:
        rows.append(("template test suite, 2 workers", f"{bench_suite():.0f} s", "", "goal <= 480 s"))
    table = [
        "| what | figure | compared with | ratio |",
        "|---|---|---|---|",
        *(f"| {' | '.join(r)} |" for r in rows),
    ]
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; copier {version('copier')}, "
        f"copier-template-extensions {version('copier-template-extensions')}, uv {version('uv')}, pip {version('pip')}"
    )
    report = "\n".join(
        [f"Measured {dt.date.today().isoformat()} on {machine}; median of {args.runs} runs.", "", *table]
    )
    print(report)
    if not args.no_write:
        (ROOT / "benchmarks" / "RESULTS.md").write_text(
            "# Benchmark results\n\nWritten by `python benchmarks/run.py`; see that script for what each figure "
            "measures.\n\n" + report + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
