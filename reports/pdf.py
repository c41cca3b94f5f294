"""PDFs drawn by WeasyPrint from HTML templates: the alliance report and one application.

Chinese text needs a font with CJK glyphs: the templates ask fontconfig for Noto Sans CJK
(Debian's fonts-noto-cjk, provisioned by `make run` / `make test`; reports/checks.py warns
when none is installed). WeasyPrint embeds only the glyphs used (a subset through
libharfbuzz-subset), so a report stays small although the font file is large.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cases import documents
from cases.intake import services
from cases.intake.forms import SECTION_FORMS
from cases.models import Application
from cases.standard import SECTIONS
from reports.charts import report_charts
from reports.periods import CHINA
from reports.selectors import Figures
from reports.tables import definitions, report_tables


def css_string(text: str) -> str:
    """`text` as a quoted CSS string, safe inside a <style> element."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ")
    return f'"{escaped}"'


def page_counter() -> SafeString:
    """ "Page 3 of 12" in the active language, as CSS content with the page counters."""
    marker = _("Page %(page)s of %(pages)s") % {"page": "\0page\0", "pages": "\0pages\0"}
    parts = []
    for piece in marker.split("\0"):
        if piece in ("page", "pages"):
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(css_string(piece))
    return mark_safe(" ".join(parts))  # noqa: S308 - built from css_string() and counters


def _footer(first: str, generated_at) -> SafeString:
    moment = timezone.localtime(generated_at, CHINA).strftime("%Y-%m-%d %H:%M")
    text = _("%(what)s · generated %(moment)s (Beijing time)") % {"what": first, "moment": moment}
    return mark_safe(css_string(text))  # noqa: S308 - css_string() escapes


def _html_language() -> str:
    return "en" if (translation.get_language() or "").startswith("en") else "zh-Hans"


def render(template: str, context: dict, target=None, *, progress=None) -> bytes | None:
    # Imported here: loading WeasyPrint takes a second, which every manage.py command and
    # worker start would pay through the URL configuration otherwise.
    from weasyprint import HTML

    html = render_to_string(template, {"html_language": _html_language(), **context})
    document = HTML(string=html).render()  # layout: most of the time
    if progress is not None:
        progress(80)
    return document.write_pdf(target)


def alliance_report_pdf(figures: Figures, target=None, *, progress=None) -> bytes | None:
    """The alliance report for the figures' period, in the active language."""
    period_label = figures.period.label()
    return render(
        "reports/report_pdf.html",
        {
            "figures": figures,
            "period_label": period_label,
            "tables": report_tables(figures),
            "charts": report_charts(figures),
            "definitions": definitions(),
            "footer": _footer(f"{period_label} ({figures.period.code})", figures.generated_at),
            "page_counter": page_counter(),
        },
        target,
        progress=progress,
    )


def application_pdf(application: Application, *, revealed: frozenset[str] = frozenset()) -> bytes:
    """The unified form (standard.md §2, sections A–H) filled in, for a member on paper; ID
    and bank numbers masked but those `revealed` (cases.reveal)."""
    forms = {key: services.section_form(application, key) for key in SECTION_FORMS}
    return render(
        "reports/application_pdf.html",
        {
            "application": application,
            "sections": SECTIONS,
            "forms": forms,
            "revealed": revealed,
            "missing": documents.missing(application),
            "footer": _footer(application.reference, timezone.now()),
            "page_counter": page_counter(),
        },
    )
