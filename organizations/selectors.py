"""Named reads of the directory."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q

from organizations.eligibility import ProjectRules, bilingual
from organizations.models import (
    AccountEvent,
    AidProject,
    DiseaseCategory,
    MemberOrganization,
    User,
)


def category_labels() -> dict[str, str]:
    """Category code -> a lazy name in the reader's language (one query)."""
    return {
        code: bilingual(zh, en)
        for code, zh, en in DiseaseCategory.objects.values_list("code", "name_zh", "name_en")
    }


@dataclass(frozen=True)
class DirectoryProject:
    project: AidProject
    rules: ProjectRules | None


def project_rules(project: AidProject) -> ProjectRules | None:
    if project.current_rules is None:
        return None
    return project.current_rules.to_engine(project_code=project.code, project_kind=project.kind)


def open_projects_rules() -> list[ProjectRules]:
    """Current rules of every open project of an active member (one query)."""
    projects = AidProject.objects.open().with_rules().filter(current_rules__isnull=False)
    return [project_rules(p) for p in projects]


def directory_members() -> list[tuple[MemberOrganization, list[DirectoryProject]]]:
    """Active members with their projects and current rules (two queries)."""
    members = MemberOrganization.objects.filter(is_active=True).prefetch_related(
        Prefetch(
            "projects",
            queryset=AidProject.objects.select_related("current_rules").order_by("code"),
        )
    )
    return [
        (member, [DirectoryProject(p, project_rules(p)) for p in member.projects.all()])
        for member in members
    ]


def member_contacts() -> list[MemberOrganization]:
    """The active members with their contact phone and e-mail, for a family who must call
    one without the page saying which member holds their application."""
    return list(
        MemberOrganization.objects.filter(is_active=True).only(
            "number", "name_zh", "name_en", "contact_name", "contact_phone", "contact_email"
        )
    )


def directory_summary() -> dict[str, int]:
    counts = MemberOrganization.objects.filter(is_active=True).aggregate(
        members=Count("id", distinct=True),
        projects=Count("projects", filter=Q(projects__is_open=True), distinct=True),
    )
    counts["categories"] = DiseaseCategory.objects.count()
    return counts


def projects_covering(
    queryset, *, category: str | None = None, region: str | None = None
) -> list[int]:
    """Ids of the projects in `queryset` whose current rules cover a category and/or region.

    The engine's own rule objects decide, so the API filter and the pre-check can never
    disagree about what a project covers. The directory is small (the field's 160+
    projects at most), so this reads it once.
    """
    ids = []
    for project in queryset.select_related("current_rules"):
        rules = project_rules(project)
        if rules is None:
            continue
        if category and not rules.covers_category(category):
            continue
        if region and rules.region_codes and not rules.covers_region(region):
            continue
        ids.append(project.pk)
    return ids


def staff_of(member: MemberOrganization):
    return User.objects.filter(organization=member, is_active=True).order_by("role", "username")


def account_events_of(member: MemberOrganization):
    """Events of accounts that belonged to the member before or after the change: a move
    from one member to another shows on both members' pages (standard.md §5)."""
    return (
        AccountEvent.objects.filter(Q(organization_after=member) | Q(organization_before=member))
        .select_related("user", "by", "organization_before", "organization_after")
        .order_by("-at", "-pk")
    )
