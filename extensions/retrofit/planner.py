"""Plan one workflow's move to Trusted Publishing: the ladder, one rung per uploading job.

1. **Isolated** where the job splits cleanly: its upload becomes an artifact of exactly the
   files it uploaded, and a new job, which holds the environment and `id-token: write` alone,
   downloads and uploads them with the pinned publish action (owner_jobs.py, publish_jobs.py,
   new_jobs.py).
   Jobs that waited for the upload now also wait for that job.
2. **In place** where isolating would change what runs after the upload, or how (steps after
   it, jobs that wait for an upload with a condition of its own, an upload inside shell
   logic...): the job itself gains the environment and the permission, and loses its login
   (in_place.py).
3. **Refused** (``RetrofitRefusal``, naming the file and line) only where the upload happens in
   code the workflow does not show, or the name PyPI receives cannot be known.

One ``Planner`` carries a run's state (the workflow, the line edits, the plan) through its
phases, from what uploads.py read of the workflow; verify.py then checks the result before
anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import yaml

from . import credentials, in_place, new_jobs, publish_jobs
from .owner_jobs import (
    drop_login_lines,
    expression,
    packages_dir,
    plan_artifact,
    plan_upload_step,
    publishes_only,
    remove_keys,
    target_of,
)
from .plan import CannotIsolate, Edits, Plan, Publisher, Run, Upload
from .upload_command import upload_files
from .uploads import (
    MATURIN_COMMAND,
    built_name,
    dependents,
    is_trusted,
    maturin_uploads,
    upload_credentials,
    uploading_jobs,
)
from .verify import verify
from .workflows import (
    UPLOAD_ANYWHERE,
    Job,
    RetrofitRefusal,
    Step,
    Workflow,
    get,
    get_root,
    github_token,
    has_id_token,
    read_workflows,
    scalar,
    span,
)


@dataclass
class Planner:
    """One workflow's plan, phase by phase (see the module). ``plan()`` runs them all."""

    workflow: Workflow
    environment: str
    project_name: str
    uses: Callable[[str], str]
    run: Run = field(init=False)  # what every step reads and edits: the text's edits, the plan...
    uploads: list[Upload] = field(default_factory=list)  # the isolated uploads
    converted: list[in_place.Converted] = field(default_factory=list)
    comment: str = ""  # on the owner's environment line, which moves to the publish job
    moved_environment: str = ""  # the owner's environment, which the publish job takes

    @property
    def edits(self) -> Edits:
        return self.run.edits

    @property
    def result(self) -> Plan:
        return self.run.result

    @property
    def name(self) -> str:
        return self.run.project

    def plan(self) -> Plan:
        workflow = self.workflow
        result = Plan(workflow.path, workflow.text, newline=workflow.newline)
        self.run = Run(workflow, Edits(workflow.text), result, self.uses, set(), self.environment, "")
        self.run.project = built_name(workflow, self.project_name)
        if is_trusted(workflow):
            self.result.publishers = publishers(workflow, self.name)
            return self.result
        self._refuse_a_reusable_workflow()
        self.run.known = upload_credentials(workflow)
        self.result.credentials = set(self.run.known)
        for job in uploading_jobs(workflow):
            self.job(job)
        self._one_project()
        remove_keys(self.run, get_root(workflow, "env"), workflow.root)
        in_place.workflow_grant(self.run)
        publish_jobs.add(self.run, publish_jobs.Isolated(self.uploads, self.moved_environment, self.comment))
        try:
            self.result.text = self.edits.apply()
        except RetrofitRefusal as refusal:
            raise RetrofitRefusal(f"{workflow.where(1)}: {refusal}") from None
        self.result.secrets = sorted({n for n in self.result.secrets if not github_token(n)})
        self._notes()
        verify(workflow, self.result)
        self.result.publishers = publishers(Workflow(workflow.path, self.result.text), self.name)
        return self.result

    # --- one uploading job: the ladder ----------------------------------------------------------

    def job(self, job: Job) -> None:
        why = self.isolation_obstacle(job)
        if not why:
            mark = self._checkpoint()
            try:
                self.isolate(job)
                return
            except CannotIsolate as reason:
                self._restore(mark)
                why = str(reason)
        self.convert(job, why)

    def isolation_obstacle(self, job: Job) -> str:
        """Why ``job``'s upload cannot move into a job of its own without changing what runs
        after it ("" when it can)."""
        workflow = self.workflow
        where = workflow.where(job.key.start_mark.line + 1)
        if publishes_only(job):
            return f"{where}: job {job.id} only downloads and uploads, so it is the publish job already"
        if maturin_uploads(job):
            return f"{where}: maturin uploads what it built in the same job"
        if has_id_token(job.get("permissions")):
            return f"{where}: job {job.id} already holds `id-token: write` itself"
        uploads = job.upload_steps()
        last = max(step.line for step in uploads)
        if after := [s for s in job.steps if s.line > last]:
            return f"{workflow.where(after[0].line)}: job {job.id} runs steps after its upload, in the same workspace"
        waiting = dependents(workflow, job)
        if waiting:
            conditions = {" ".join(expression(s.get("if")).split()) for s in uploads}
            if conditions != {""}:
                return (
                    f"{where}: job {', '.join(j.id for j in waiting)} waits for job {job.id}, whose upload runs "
                    "only under a condition of its own: a publish job that skips would skip them too"
                )
            if any(not _needs_editable(j) for j in waiting):
                return f"{where}: a job that waits for job {job.id} lists its needs in a form this template does not edit"
        return ""

    def isolate(self, job: Job) -> None:
        """The first rung: the upload moves to a publish job (``CannotIsolate`` leaves no edit)."""
        workflow, _edits, _result = self.workflow, self.edits, self.result
        uploads = [plan_upload_step(self.run, job, s) for s in job.upload_steps()]
        folders = {u.dist for u in uploads}
        if len(folders) > 1:
            raise CannotIsolate(
                f"{workflow.where(job.key.start_mark.line + 1)}: job {job.id} uploads from several folders "
                f"({', '.join(sorted(folders))})"
            )
        for upload in uploads:
            _, reason = new_jobs.job_condition(
                expression(job.get("if")), upload.condition, workflow.triggers()
            )
            if reason:
                raise CannotIsolate(f"{workflow.where(upload.line)}: {reason}")
        plan_artifact(self.run, job, uploads)
        upload_lines = {u.line for u in uploads}
        for step in job.steps:
            if step.line not in upload_lines and not drop_login_lines(self.run, step):
                remove_keys(self.run, step.get("env"), step.node)
        remove_keys(self.run, job.get("env"), job.node)
        comment, environment = self._move_environment(job)
        self.comment = comment or self.comment
        self.moved_environment = environment or self.moved_environment
        self.uploads += uploads

    def convert(self, job: Job, why: str) -> None:
        """The second rung: the job publishes with Trusted Publishing where it is."""
        targets = {
            step.line: target_of(self.workflow, step, job)
            if step.uses
            else _run_target(self.workflow, step, job)
            for step in job.upload_steps()
        }
        self.converted.append(in_place.convert(self.run, job, why, targets))
        self.result.in_place[job.id] = why
        self.result.explicit[job.id] = self.converted[-1].explicit
        if publishes_only(job):
            self.result.publish_only.add(job.id)

    def _checkpoint(self) -> tuple[int, ...]:
        r = self.result
        return len(self.edits.edits), len(r.changes), len(r.secrets), len(r.notes), len(self.uploads)

    def _restore(self, mark: tuple[int, ...]) -> None:
        """Undo what a failed isolation recorded (it adds to these lists, and to the artifacts)."""
        edits, changes, secrets, notes, uploads = mark
        r = self.result
        del self.edits.edits[edits:], r.changes[changes:], r.secrets[secrets:], r.notes[notes:]
        for job in [u.job.id for u in self.uploads[uploads:]] + list(r.artifacts):
            if job not in {u.job.id for u in self.uploads[:uploads]}:
                r.artifacts.pop(job, None)
                r.kept_files.pop(job, None)
        del self.uploads[uploads:]

    # --- the whole workflow ------------------------------------------------------------------------

    def _refuse_a_reusable_workflow(self) -> None:
        if "workflow_call" not in self.workflow.triggers():
            return
        name = self.workflow.path.name
        callers = []
        try:
            for other in read_workflows(self.workflow.path.parents[2]):
                if any(
                    scalar(j.get("uses")).split("@")[0] == f"./.github/workflows/{name}" for j in other.jobs()
                ):
                    callers.append(other.path.name)
        except RetrofitRefusal:
            pass
        called = f" ({', '.join(callers)} calls it)" if callers else ""
        raise RetrofitRefusal(
            f"{self.workflow.where(self.workflow.first_upload_line())}: this upload runs in a reusable workflow "
            f"(`on: workflow_call`){called}. PyPI cannot trust a reusable workflow as a publisher (its token names "
            "the calling workflow; pypi/warehouse#11096): move the uploading job into the workflow that calls it, "
            "commit, and run copier again."
        )

    def _one_project(self) -> None:
        """Projects are counted from what the PyPI uploads read: one package's sdist and wheels
        from several jobs or folders are one project; two packages' folders, or files named for
        two distributions, are two, each needing a trusted publisher of its own."""
        workflow = self.workflow
        projects: dict[str, list[int]] = {}
        sources = [(u.line, u.files, u.target) for u in self.uploads]
        for job in uploading_jobs(workflow):
            if job.id in self.result.in_place:
                for step in job.upload_steps():
                    files = [packages_dir(step) + "*"] if step.uses else _run_files(step)
                    target = target_of(workflow, step, job) if step.uses else _run_target(workflow, step, job)
                    sources.append((step.line, files, target))
        for line, files, target in sources:
            if target:
                continue
            for file in files:
                folder, _, name = file.rpartition("/")
                parts = folder.strip("/").split("/")
                root = "/".join(parts[:-1]) + "/" if len(parts) > 1 else "./"
                prefix = re.match(r"([A-Za-z0-9][A-Za-z0-9._]*)-", name)
                key = root + (f" ({re.sub(r'[-_.]+', '_', prefix.group(1)).lower()})" if prefix else "")
                projects.setdefault(key, []).append(line)
        if len(projects) > 1:
            found = "; ".join(
                f"{key} (line {', '.join(map(str, sorted(set(lines))))})"
                for key, lines in sorted(projects.items())
            )
            raise RetrofitRefusal(
                f"{workflow.where(min(min(lines) for lines in projects.values()))}: it uploads {len(projects)} "
                f"packages to PyPI ({found}); each is its own PyPI project and needs a trusted publisher of its own, "
                "which one retrofit cannot set up. Nothing was changed, so every release works as before; retrofit "
                "each project by hand (documentation: Existing project)."
            )

    def _move_environment(self, job: Job) -> tuple[str, str]:
        """The owner's environment gated the upload: it moves to the new publish job. Returns the
        comments written on its lines, which move with it, and its name."""
        found = get(job.node, "environment")
        if found is None:
            return "", ""
        key, node = found
        lines = self.edits.lines
        first, last = key.start_mark.line, max(key.start_mark.line + 1, span(node, lines)[1])
        comments = [line.split("#", 1)[1].strip() for line in lines[first:last] if " #" in line]
        self.edits.replace(first, last, [])
        self.result.changes.append(
            f"{self.workflow.where(first + 1)}: the environment moved from job {job.id} to the publish job"
        )
        name = get(node, "name")
        return "; ".join(comments), scalar(name[1] if name else node)

    def _notes(self) -> None:
        jobs = self.workflow.jobs()
        for converted in self.converted:
            job = next(j for j in jobs if j.id == converted.job)
            if not new_jobs.tested(jobs, job):
                self.result.notes.append(
                    f"No tests gate {job.id}: neither it nor a job it needs runs tests, so nothing stops a "
                    "release whose tests fail. Add the test job to this workflow and list it under the job's "
                    "needs."
                )
            if job.id in self.result.publish_only:
                continue  # it runs no code: the publish job it already was
            self.result.notes.append(
                f"Job {converted.job} of {self.workflow.path.name} was converted in place ({converted.why}): its own "
                "steps, which build and run this repository's code, now hold the permission to request an upload "
                'token. To isolate it later, see the documentation, Existing project, "Isolating an upload '
                'converted in place".'
            )
            if converted.explicit:
                self.result.notes.append(
                    f"Job {converted.job} had the repository's default token permissions; a job-level `permissions:` "
                    f"replaces them, so it now lists {', '.join(converted.explicit)} and id-token: write. Add any "
                    "other permission its steps need."
                )
        for waiting, added in self.result.waits.items():
            self.result.notes.append(
                f"Job {waiting} now waits for {', '.join(added)}: it ran after the upload before, and still does."
            )


def _needs_editable(job: Job) -> bool:
    found = get(job.node, "needs")
    if found is None:
        return False
    node = found[1]
    if node.start_mark.line < found[0].start_mark.line:
        return False  # an alias
    if isinstance(node, yaml.ScalarNode):
        return node.start_mark.line == node.end_mark.line and node.style in (None, "", "'", '"')
    if isinstance(node, yaml.SequenceNode):
        return all(
            isinstance(n, yaml.ScalarNode) and n.start_mark.line >= found[0].start_mark.line
            for n in node.value
        ) and bool(node.value)
    return False


def _run_target(workflow: Workflow, step: Step, job: Job | None = None) -> str:
    from .owner_jobs import _upload_target

    target = ""
    for offset, line in enumerate(step.run.splitlines()):
        if UPLOAD_ANYWHERE.search(line) or MATURIN_COMMAND.search(line):
            target = _upload_target(workflow, step, step.line + offset + 1, line, job) or target
    return target


def _run_files(step: Step) -> list[str]:
    """The files a step's upload commands name (as written)."""
    files: list[str] = []
    for line in step.run.splitlines():
        if found := UPLOAD_ANYWHERE.search(line):
            files += upload_files(credentials.strip_login("twine", line[found.start() :])) or []
    return files


def publishers(workflow: Workflow, project: str) -> list[Publisher]:
    """The trusted publishers a converted workflow needs: for each job that uploads (with
    `id-token: write`), its environment and the index it uploads to."""
    found: list[Publisher] = []
    for job in uploading_jobs(workflow):
        node = job.get("environment")
        name = get(node, "name") if node is not None else None
        environment = scalar(name[1] if name else node) if node is not None else ""
        targets = {
            target_of(workflow, s, job) if s.uses else _run_target(workflow, s, job)
            for s in job.upload_steps()
        }
        for target in sorted(targets or {""}):
            publisher = Publisher(project, workflow.path.name, environment, "testpypi" if target else "pypi")
            if publisher not in found:
                found.append(publisher)
    return found
