"""System check: PDFs need a font with Chinese glyphs, or every character is an empty box."""

import shutil
import subprocess

from django.core import checks


def cjk_fonts() -> list[str]:
    """Font families fontconfig offers for Chinese (`fc-list :lang=zh family`)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        result = subprocess.run(  # noqa: S603 - a fixed command, no user input
            [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({line.strip() for line in result.stdout.splitlines() if line.strip()})


@checks.register()
def cjk_font_installed(app_configs=None, **kwargs):
    if cjk_fonts():
        return []
    return [
        checks.Warning(
            "No font with Chinese (CJK) glyphs is installed: the PDF reports and application "
            "forms would print every Chinese character as an empty box.",
            hint=(
                "Install Debian's fonts-noto-cjk (`make run` and `make test` do it through "
                "scripts/apt-ensure.sh; by hand: apt-get install fonts-noto-cjk), then check "
                "with `fc-list :lang=zh`."
            ),
            id="reports.W001",
        )
    ]
