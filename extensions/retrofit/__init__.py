"""The retrofit: an existing token-publishing project moves to Trusted Publishing in place.

Along its flow: read (workflows.py, project.py, uploads.py, upload_command.py), plan (upgrade.py, with the edits to the owner's jobs of owner_jobs.py,
called_tests.py and the new jobs' text of new_jobs.py, into the typed Plan of plan.py), write (write.py).
questions.py answers copier's questions from the same reads and plans, made once per run.
"""
