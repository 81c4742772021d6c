"""Every UI string of the page scripts has its Simplified Chinese translation (djangojs catalogue)."""

from __future__ import annotations

import gettext
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPTS = sorted((ROOT / "frontend/src").glob("*/*.js"))
CATALOGUE = ROOT / "labapp/locale/zh_Hans/LC_MESSAGES/djangojs.mo"
GETTEXT_CALL = re.compile(r'\bgettext\("((?:[^"\\]|\\.)*)"\)')


def test_every_script_string_is_translated():
    with open(CATALOGUE, "rb") as f:
        zh = gettext.GNUTranslations(f)
    strings = {json.loads(f'"{m}"') for p in SCRIPTS for m in GETTEXT_CALL.findall(p.read_text())}
    assert len(strings) > 100  # the scripts were found and read
    # A translation may equal its source ("MTU"): the catalogue must hold a non-empty one.
    missing = sorted(s for s in strings if not zh._catalog.get(s))
    assert not missing, missing
