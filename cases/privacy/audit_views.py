"""The secretariat's search of the access record (§5: who saw which child's data, when)."""

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from cases import audit, references
from cases.models import Application
from organizations.models import User

PAGE_SIZE = 50


class AccessSearchForm(forms.Form):
    reference = forms.CharField(label=_("Reference number"), max_length=30, required=False)
    username = forms.CharField(label=_("User name"), max_length=150, required=False)
    view = forms.CharField(label=_("View"), max_length=40, required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_reference(self):
        text = self.cleaned_data["reference"].strip()
        if text and not references.normalize_reference(text):
            raise forms.ValidationError(_("This is not a reference number like DB-2026-7K3M9Q."))
        return references.normalize_reference(text) if text else ""


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


@login_required
@require_GET
def access_records(request):
    user = request.user
    if not (user.is_secretariat or user.is_superuser):
        raise PermissionDenied
    form = AccessSearchForm(request.GET or None)
    lookups = {}
    if form.is_valid():
        data = form.cleaned_data
        # The application and the person by their id, found first: PostgreSQL then plans
        # each part for that id (its own statistics), not for any id joined in, which it
        # took for a seq scan of the records where one application had many (issue 18).
        if data["reference"]:
            lookups["application_id__in"] = list(
                Application.objects.filter(reference=data["reference"]).values_list("pk", flat=True)
            )
        if data["username"]:
            lookups["user_id__in"] = list(
                User.objects.filter(username=data["username"].strip()).values_list("pk", flat=True)
            )
        if data["view"]:
            lookups["view"] = data["view"].strip()
        if data["since"]:
            lookups["at__gte"] = _day_start(data["since"])
        if data["until"]:
            lookups["at__lt"] = _day_start(data["until"] + timedelta(days=1))
    records = audit.records_matching(related=("application", "user"), **lookups)
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/access_records.html",
        {"form": form, "page": page, "head": audit.chain_head()},
    )
