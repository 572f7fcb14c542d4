"""copier-python-lib's own code: what copier's Jinja calls while it renders a project.

A package loaded by path by extensions/load.py (the one place that does so), under a name of
its own per template folder; the modules within use ordinary relative imports. The retrofit
(extensions/retrofit/) is imported only for a folder that holds an existing project.
"""
