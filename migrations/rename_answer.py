"""Carry an answer over to a question's new name, so `copier update --defaults` keeps it.

Usage (from copier.yml, in the "before" stage so the new name is read afterwards):

    _migrations:
      - version: "2.0.0"
        when: "{{ _stage == 'before' }}"
        command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/extensions/load.py",
                  "rename_answer", "{{ _copier_conf.answers_file }}", "old_name", "new_name"]
"""

from __future__ import annotations

import sys
from pathlib import Path

from ._migration import Refusal, load_answers, run, save_answers


def rename(answers_file: Path, old: str, new: str) -> list[str]:
    answers = load_answers(answers_file)
    if old not in answers:
        return []  # already renamed, or never answered: the new question's default applies
    if new in answers and answers[new] != answers[old]:
        raise Refusal(
            f"{answers_file} has both {old}: {answers[old]!r} and {new}: {answers[new]!r}, and they differ.\n"
            f"Delete the one you do not want (git restores it if needed), commit, and run copier update again."
        )
    answers[new] = answers.pop(old)
    save_answers(answers_file, answers)
    return [f"answer {old}: {answers[new]!r} is now {new} in {answers_file}"]


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: rename_answer.py ANSWERS_FILE OLD_NAME NEW_NAME")
    answers_file, old, new = sys.argv[1:]
    sys.exit(run("rename_answer", lambda: rename(Path(answers_file), old, new)))
