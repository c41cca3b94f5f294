from django import forms
from django.utils.translation import gettext_lazy as _

from reports.models import ReportRun
from reports.periods import PeriodError, parse_period


class PeriodField(forms.CharField):
    """A month (2026-11), a quarter (2026-Q4) or a year (2026), cleaned to a Period."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Period"))
        kwargs.setdefault("max_length", 10)
        kwargs.setdefault(
            "help_text", _("A month (2026-11), a quarter (2026-Q4) or a year (2026).")
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            return parse_period(value)
        except PeriodError as exc:
            raise forms.ValidationError(str(exc), code="period") from None


class PeriodForm(forms.Form):
    period = PeriodField()


class DownloadForm(PeriodForm):
    format = forms.ChoiceField(label=_("Format"), choices=ReportRun.Format.choices)
    full = forms.BooleanField(label=_("Full ID numbers"), required=False)


class RunForm(DownloadForm):
    kind = forms.ChoiceField(label=_("Report"), choices=ReportRun.Kind.choices)
