"""The directory as Open Referral HSDS 3.0 data, so that other platforms can list the
alliance's projects: the members as organizations, the projects as services, with their
eligibility in plain Chinese (organizations.describe) and the regions they cover as service
areas.

Ids are UUIDs derived from the members' short names and the projects' codes (uuid5), the
same on every run and every server, as HSDS asks of an id that others link to.
"""

from __future__ import annotations

import uuid

from django.utils.translation import gettext as _
from django.utils.translation import override
from rest_framework import serializers

from organizations import regions, selectors
from organizations.describe import describe_grant, describe_rules
from organizations.eligibility import ProjectRules
from organizations.models import AidProject, MemberOrganization

HSDS_VERSION = "3.0"
SERVICE_STATUSES = ["active", "inactive"]
# Fixed once (uuid5 of the URL namespace and "urn:aid-alliance:hsds"): never change it, or
# every id that other platforms stored changes with it.
NAMESPACE = uuid.UUID("ac64d715-e789-5c6c-ad3a-a0045316188b")


def hsds_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def _organization(member: MemberOrganization) -> dict:
    organization = {
        "id": hsds_id("organization", member.short_name),
        "name": member.name_zh,
        "alternate_name": member.name_en,
        "description": _("A member of the Children's Serious-Illness Aid Alliance (%(kind)s).")
        % {"kind": member.get_kind_display()},
    }
    if member.contact_email:
        organization["email"] = member.contact_email
    return organization


def _service_areas(project: AidProject, rules: ProjectRules | None) -> list[dict]:
    service_id = hsds_id("service", project.code)
    codes = rules.region_codes if rules else ()
    if not codes:
        return [
            {
                "id": hsds_id("service-area", project.code, "CN"),
                "service_id": service_id,
                "name": str(_("All of China")),
                "description": str(_("All of China")),
            }
        ]
    template = (
        _("household registered in {places}")
        if rules.region_basis == "household"
        else _("treated at a hospital in {places}")
    )
    return [
        {
            "id": hsds_id("service-area", project.code, code),
            "service_id": service_id,
            "name": regions.name_of(code),
            "description": str(template).format(places=regions.name_of(code)),
        }
        for code in codes
    ]


def _service(project: AidProject, rules: ProjectRules | None, member, labels) -> dict:
    grant_label = str(_("Grant"))
    rows = (
        [(str(label), str(text)) for label, text in describe_rules(rules, labels)] if rules else []
    )
    eligibility = str(_("; ")).join(
        f"{label}：{text}" for label, text in rows if label != grant_label
    )
    description = project.description or str(project.get_kind_display())
    if rules and rules.kind == AidProject.Kind.GRANT:
        description = f"{description}：{describe_grant(rules)}"
    service = {
        "id": hsds_id("service", project.code),
        "organization_id": hsds_id("organization", member.short_name),
        "name": project.name_zh,
        "alternate_name": project.name_en,
        "description": description,
        "status": "active" if project.is_open else "inactive",
        "eligibility_description": eligibility,
        "alert": "{}：{}".format(
            _("Demo data"),
            _(
                "The project rules shown here are illustrative values for demonstration, "
                "not the organisations' real terms."
            ),
        ),
        "service_areas": _service_areas(project, rules),
    }
    if rules is not None:
        service["minimum_age"] = float(rules.min_age_years)
        if rules.until_birthday is not None:
            service["maximum_age"] = rules.until_birthday
    return service


def directory_hsds(*, labels: dict[str, str] | None = None) -> dict:
    """Every active member and its projects, in Chinese, the language of the directory."""
    with override("zh-hans"):
        labels = selectors.category_labels() if labels is None else labels
        organizations, services = [], []
        for member, projects in selectors.directory_members():
            organizations.append(_organization(member))
            services += [_service(p.project, p.rules, member, labels) for p in projects]
    return {"version": HSDS_VERSION, "organizations": organizations, "services": services}


# --- the shapes, for the OpenAPI schema (the HSDS 3.0 fields this export fills) -------------


class HsdsOrganizationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    alternate_name = serializers.CharField()
    description = serializers.CharField()
    email = serializers.EmailField(required=False)


class HsdsServiceAreaSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    service_id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()


class HsdsServiceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    organization_id = serializers.UUIDField()
    name = serializers.CharField()
    alternate_name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=SERVICE_STATUSES)
    eligibility_description = serializers.CharField()
    alert = serializers.CharField(help_text="The directory's values are demo data.")
    minimum_age = serializers.FloatField(required=False, help_text="Years.")
    maximum_age = serializers.IntegerField(
        required=False, help_text="The birthday the age limit refers to (see the description)."
    )
    service_areas = HsdsServiceAreaSerializer(many=True)


class HsdsDirectorySerializer(serializers.Serializer):
    version = serializers.CharField()
    organizations = HsdsOrganizationSerializer(many=True)
    services = HsdsServiceSerializer(many=True)
