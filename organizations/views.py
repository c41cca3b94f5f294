from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from aid_alliance.error_summary import form_error_summary
from organizations import directory_cache, regions, selectors
from organizations.eligibility import TREATMENTS, evaluate
from organizations.forms import PrecheckForm
from organizations.models import AidProject, MemberOrganization, User


@require_GET
def directory(request):
    """Public: every member and project, with the rules written out in plain words."""
    return render(
        request,
        "organizations/directory.html",
        {
            "members": selectors.directory_members(),
            "labels": selectors.category_labels(),
        },
    )


@require_GET
def project_detail(request, code):
    project = get_object_or_404(AidProject.objects.with_rules(), code=code)
    versions = project.rule_versions.select_related("created_by").order_by("-version")
    return render(
        request,
        "organizations/project_detail.html",
        {
            "project": project,
            "rules": selectors.project_rules(project),
            "versions": versions,
            "labels": selectors.category_labels(),
        },
    )


@require_http_methods(["GET", "POST"])
def precheck(request):
    """Public pre-check: which projects could help, roughly how much, and why not the others."""
    form = PrecheckForm(request.POST or None)
    results = None
    if request.method == "POST" and form.is_valid():
        state = directory_cache.directory_state()
        results = evaluate(
            form.applicant(),
            directory_cache.open_projects_rules(state),
            category_labels=state.labels,
            region_label=regions.name_of,
        )
    grouped = _group_results(results)
    context = {
        "form": form,
        "results": grouped,
        **_callback_context(form, grouped),
        # The GOV.UK error summary: every field in error, linked to its input.
        "errors": form_error_summary(
            form,
            whole_form_anchor=form["plan_" + next(iter(TREATMENTS))].auto_id,
            whole_form_label=_("Treatment plan"),
        )
        if form.errors
        else [],
    }
    template = "organizations/precheck.html"
    if request.htmx and request.method == "POST":
        template = "organizations/_precheck_results.html"
    return render(request, template, context)


def _callback_context(form, grouped) -> dict:
    """The members whose projects could help, each once, for "ask this member to call me"
    (issue 17), with what the pre-check already knows: the household's region, the illness."""
    if not grouped:
        return {}
    members = list(
        {project.member_id: project.member for project, _ in grouped["eligible"]}.values()
    )
    data = form.cleaned_data
    query = urlencode(
        {
            "region": form.applicant().household_region,
            "category": data["category"].code if data.get("category") else "",
        }
    )
    return {"callback_members": members, "callback_query": query}


def _group_results(results):
    if results is None:
        return None
    projects = {p.code: p for p in AidProject.objects.select_related("member")}
    rows = [(projects[code], result) for code, result in results.items()]
    return {
        "eligible": [row for row in rows if row[1].eligible],
        "not_eligible": [row for row in rows if not row[1].eligible],
    }


@require_GET
def region_options(request):
    """The <option>s below a chosen province or city, for the chained region selects."""
    prefix = request.GET.get("prefix", "")
    level = "county" if request.GET.get("level") == "county" else "prefecture"
    if prefix not in PrecheckForm.region_prefixes:
        return HttpResponseBadRequest()
    parent = request.GET.get(f"{prefix}_{'prefecture' if level == 'county' else 'province'}", "")
    options = regions.children(parent) if parent.isdigit() and len(parent) in (2, 4) else []
    return render(
        request,
        "organizations/_region_options.html",
        {
            "options": options,
            "level": level,
            # A new province also empties the county list.
            "reset": f"id_{prefix}_county" if level == "prefecture" else "",
        },
    )


def get_member_for(user: User, short_name: str) -> MemberOrganization:
    """The member `short_name` if the user may see its workspace; 404 for another member's
    staff (they must not learn even that the page exists), 403 for users without a role."""
    member = get_object_or_404(MemberOrganization, short_name=short_name)
    if user.is_superuser or user.is_secretariat:
        return member
    if not user.is_member_staff:
        raise PermissionDenied
    if user.organization_id != member.pk:
        raise Http404
    return member


def get_member_accounts_for(user: User, short_name: str) -> MemberOrganization:
    """The member whose account events the user may read: its reviewers, the secretariat
    and administrators. Its caseworkers get 403 (the page exists for them, it is not
    theirs to read); another member's staff 404, as for the workspace."""
    member = get_member_for(user, short_name)
    if user.is_member_staff and user.role != User.Role.REVIEWER:
        raise PermissionDenied
    return member


def may_read_account_events(user: User) -> bool:
    return user.is_superuser or user.is_secretariat or user.role == User.Role.REVIEWER


ACCOUNT_EVENTS_PAGE_SIZE = 50


@login_required
@require_GET
def member_workspace(request, short_name):
    """A member's own page: its staff and its projects (its staff and the secretariat)."""
    member = get_member_for(request.user, short_name)
    return render(
        request,
        "organizations/member_workspace.html",
        {
            "member": member,
            "staff": selectors.staff_of(member),
            "projects": member.projects.select_related("current_rules").order_by("code"),
            "may_read_account_events": may_read_account_events(request.user),
        },
    )


@login_required
@require_GET
def member_account_events(request, short_name):
    """Who created, changed, moved or deactivated the member's accounts, and when (§5)."""
    member = get_member_accounts_for(request.user, short_name)
    page = Paginator(selectors.account_events_of(member), ACCOUNT_EVENTS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request, "organizations/member_account_events.html", {"member": member, "page": page}
    )
