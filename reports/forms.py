from django import forms
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.translation import gettext_lazy as _

from reports.models import ReportRun
from reports.periods import CHINA, FIRST_YEAR, LAST_YEAR, PeriodError, parse_period


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


def _year_choices() -> list[tuple[str, str]]:
    # The alliance's records start in 2020; next year too, for plans and forecasts.
    this_year = timezone.localtime(timezone.now(), CHINA).year
    return [(str(year), str(year)) for year in range(this_year + 1, max(FIRST_YEAR, 2020) - 1, -1)]


def _part_choices() -> list[tuple[str, object]]:
    quarters = [
        (
            f"Q{n}",
            _("Quarter %(quarter)s (%(first)s–%(last)s)")
            % {"quarter": n, "first": MONTHS[3 * n - 2], "last": MONTHS[3 * n]},
        )
        for n in range(1, 5)
    ]
    months = [(f"{n:02d}", MONTHS[n]) for n in range(1, 13)]
    return [
        ("", _("The whole year")),
        (_("Quarters"), quarters),
        (_("Months"), months),
    ]


class PeriodPickerForm(forms.Form):
    """The dashboard's period as two selects, a year then a quarter or a month (issue 16).

    A link with ?period=2026-Q4 (the older text box, the download links) still works: it
    fills the two selects; an unreadable one is refused at `period` with how to write it."""

    year = forms.ChoiceField(label=_("Year"), choices=_year_choices)
    part = forms.ChoiceField(label=_("Quarter or month"), choices=_part_choices, required=False)
    period = forms.CharField(required=False, widget=forms.HiddenInput)  # the older links

    def __init__(self, data=None, **kwargs):
        self.link_error = None
        if data is not None and "year" not in data and "period" in data:
            try:
                period = parse_period(data.get("period"))
            except PeriodError as exc:
                self.link_error = str(exc)
                data = {"year": "", "part": "", "period": str(data.get("period"))[:20]}
            else:
                part = {"year": "", "quarter": f"Q{period.number}", "month": f"{period.number:02d}"}
                data = {"year": str(period.year), "part": part[period.kind]}
        super().__init__(data, **kwargs)
        if self.link_error:
            self.fields["year"].required = False  # the one message is how to write the period
        year = str(self.data.get("year") or "")
        if year.isdigit() and FIRST_YEAR <= int(year) <= LAST_YEAR:
            # A link may name a year outside the usual list (a plan for 2099): it is valid.
            choices = list(self.fields["year"].choices)
            if year not in {value for value, _label in choices}:
                self.fields["year"].choices = sorted([*choices, (year, year)], reverse=True)

    def clean(self):
        data = super().clean()
        if self.link_error:
            self.add_error("period", forms.ValidationError(self.link_error, code="period"))
            return data
        year, part = data.get("year"), data.get("part") or ""
        if year:
            data["period"] = parse_period(f"{year}-{part}" if part else year)
        return data


class DownloadForm(PeriodForm):
    format = forms.ChoiceField(label=_("Format"), choices=ReportRun.Format.choices)
    full = forms.BooleanField(label=_("Full ID numbers"), required=False)


class RunForm(DownloadForm):
    kind = forms.ChoiceField(label=_("Report"), choices=ReportRun.Kind.choices)
