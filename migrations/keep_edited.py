"""Keep every file that `copier update` deleted although its owner had changed it.

Copier deletes each file the project's old version rendered and the new one does not: a
template release that drops a file, or an answer change (`-d cli=none`, `-d docs=none`). It
deletes the file whatever the owner did to it. Run after every update (see `_migrations` in
copier.yml), this script looks at what the update deleted; only then does it render the old
version once more, with the answers the project recorded, in a temporary folder, and each
deleted file whose committed content is not what that render made is restored from the
last commit, with a line that says so. A file that is exactly what the template made stays
deleted, as copier intends.

Usage: keep_edited.py ANSWERS_FILE TEMPLATE (copier's local copy of the template).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from extensions import folder

from ._migration import Refusal, git, restore_from_last_commit, run


def deleted_files() -> list[str]:
    """Files the update deleted (extensions/folder.py: copier.yml asks the same before it
    starts this script at all)."""
    return folder.deleted_files(Path.cwd())


def recorded_answers(answers_file: str) -> dict[str, Any]:
    # `HEAD:./name`: relative to this folder, which may be a subfolder of the repository.
    done = git("show", f"HEAD:./{answers_file}")
    if done.returncode != 0:
        raise Refusal(f"{answers_file} is not in the last commit, so the old version cannot be rendered.")
    answers = yaml.safe_load(done.stdout.decode("utf-8"))
    if not isinstance(answers, dict) or not answers.get("_commit"):
        raise Refusal(f"{answers_file} in the last commit records no template version (_commit).")
    return answers


def render_old(template: str, answers: dict[str, Any], where: Path) -> None:
    """The project's old version, as copier rendered it before this update."""
    from copier import run_copy
    from copier._main import _operation

    # Inside an update the template's questions take the recorded answers as they are
    # (extensions/destination.py reads this): mark this render as part of one.
    _operation.set("update")
    run_copy(
        template,
        where,
        data={key: value for key, value in answers.items() if not key.startswith("_")},
        vcs_ref=str(answers["_commit"]),
        defaults=True,
        overwrite=True,
        quiet=True,
        skip_tasks=True,
        unsafe=True,
    )


def keep_edited(answers_file: str, template: str) -> list[str]:
    deleted = deleted_files()
    if not deleted:
        return []
    answers = recorded_answers(answers_file)
    with tempfile.TemporaryDirectory(prefix="copier-python-lib-old-") as folder:
        old = Path(folder) / "project"
        try:
            render_old(template, answers, old)
        except Exception as error:  # noqa: BLE001 - any failure: keep every deleted file
            print(f"(the old version could not be rendered: {error}; every deleted file is kept)")
            old = Path(folder) / "missing"
        edited = []
        for name in deleted:
            committed = git("show", f"HEAD:./{name}").stdout
            rendered = old / name
            if rendered.is_file() and rendered.read_bytes() == committed:
                continue  # exactly what the template made: deleted, as copier intends
            edited.append(name)
        kept = restore_from_last_commit(edited)
    return [
        f"kept {name}: you changed it, and the template no longer makes it with these answers; "
        "delete it yourself if you no longer need it"
        for name in kept
    ]


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: keep_edited.py ANSWERS_FILE TEMPLATE")
    if not deleted_files():
        sys.exit(0)  # the update deleted nothing: nothing to say
    sys.exit(run("keep-edited", lambda: keep_edited(sys.argv[1], sys.argv[2])))
