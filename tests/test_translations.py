"""Every user-facing string marked for translation has a Simplified Chinese translation."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["aid_alliance", "organizations", "cases", "reports", "templates", "locale", "manage.py"]


def _entries(po_text: str):
    """(msgid, msgstr, flags) of each entry of a .po file (plural forms joined)."""
    entries, flags, msgid, msgstr, current = [], "", [], [], None
    for line in po_text.splitlines() + [""]:
        if not line.strip():
            if msgid:
                entries.append(("".join(msgid), "".join(msgstr), flags))
            flags, msgid, msgstr, current = "", [], [], None
        elif line.startswith("#,"):
            flags = line
        elif line.startswith("#"):
            continue
        elif line.startswith("msgid_plural"):
            current = None
        elif line.startswith("msgid "):
            current = msgid
            msgid.append(line[7:-1])
        elif line.startswith("msgstr"):
            current = msgstr
            msgstr.append(line.split(" ", 1)[1][1:-1])
        elif line.startswith('"') and current is not None:
            current.append(line[1:-1])
    return [e for e in entries if e[0]]


def test_every_marked_string_is_translated_into_chinese(tmp_path):
    # Extract the strings afresh from a copy of the sources, so a newly marked string
    # without a translation fails here even if nobody re-ran makemessages.
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    shutil.copy(ROOT / "aid_alliance" / "settings.py", tmp_path / "aid_alliance" / "settings.py")
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "-v0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "true", "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    po = (tmp_path / "locale/zh_Hans/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    untranslated = [msgid for msgid, msgstr, _ in _entries(po) if not msgstr]
    fuzzy = [msgid for msgid, _, flags in _entries(po) if "fuzzy" in flags]
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:20]}"
    assert not fuzzy, f"fuzzy translations: {fuzzy[:20]}"
