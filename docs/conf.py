"""Sphinx configuration. Build: ``tox -e docs`` (warnings are errors)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

project = "rangeqs"
author = "The rangeqs developers"
copyright = "2026, The rangeqs developers"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "examples/__init__.py"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = "rangeqs"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True}

# No intersphinx: the build machines have no network, and a failed
# inventory fetch would be a warning, which the build treats as an error.
# Signatures name Django's classes and typing helpers, which no inventory
# documents here (intersphinx is off): they are not broken references.
nitpick_ignore_regex = [
    (
        "py:class",
        r"QuerySet|Manager|Model|Q|_Row|PlanName|BaseDatabaseWrapper|datetime\.datetime",
    )
]
