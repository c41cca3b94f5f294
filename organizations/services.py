"""Every write to the directory and its users goes through these functions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max

from organizations.models import AidProject, DiseaseCategory, MemberOrganization, RuleSet, User

RULE_FIELDS = RuleSet.ELIGIBILITY_FIELDS + RuleSet.GRANT_FIELDS


def _comparable(value: Any) -> Any:
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return Decimal(str(value)).normalize()
    if isinstance(value, list | tuple):
        return [_comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    return value


def rules_values(rules: RuleSet) -> dict[str, Any]:
    return {name: _comparable(getattr(rules, name)) for name in RULE_FIELDS}


@transaction.atomic
def rules_publish(*, rules: RuleSet, by: User | None, note: str = "") -> RuleSet:
    """Save `rules` as the project's next rule version and make it the current one.

    A saved version is never overwritten: decisions record the version they used
    (standard.md §1), so an edit becomes version n+1 and the old row stays as it was.
    """
    # Lock the project so two editors cannot both publish "version 3".
    project = AidProject.objects.select_for_update().get(pk=rules.project_id)
    latest = project.rule_versions.aggregate(n=Max("version"))["n"] or 0
    rules.pk = None
    rules._state.adding = True
    rules.version = latest + 1
    rules.created_by = by
    rules.change_note = note or rules.change_note
    rules.full_clean()
    rules.save()
    project.current_rules = rules
    project.save(update_fields=["current_rules"])
    return rules


def _decimal(value) -> Decimal | None:
    # YAML reads 0.8 as a float: go through its text so 0.8 stays exactly 0.8.
    return None if value is None else Decimal(str(value))


def _rules_from_yaml(project: AidProject, eligibility: dict, grant: dict | None) -> RuleSet:
    age = eligibility.get("age", {})
    diseases = eligibility.get("diseases", {})
    region = eligibility.get("region", {})
    economic = eligibility.get("economic", {})
    grant = grant or {}
    method = next(
        (m for m in ("fixed", "by_treatment", "tiers", "percent", "up_to") if m in grant), ""
    )
    return RuleSet(
        project=project,
        min_age_years=Decimal(str(age.get("min_years", 0))),
        until_birthday=age.get("until_birthday"),
        until_inclusive=bool(age.get("inclusive", False)),
        categories=list(diseases.get("categories", [])),
        icd_codes=list(diseases.get("icd", [])),
        region_basis=region.get("basis", ""),
        region_codes=list(region.get("codes", [])),
        registration=eligibility.get("registration", ""),
        economic_flags=list(economic.get("any_of", [])),
        per_capita_max=_decimal(economic.get("per_capita_max")),
        treatment_conditions=list(eligibility.get("treatment", [])),
        once_per_child=bool(eligibility.get("once_per_child", False)),
        grant_method=method,
        grant_amount=_decimal(grant.get("fixed", grant.get("up_to"))),
        treatment_amounts=grant.get("by_treatment", {}),
        tiers=grant.get("tiers", []),
        above_top=_decimal(grant.get("above_top")),
        percent=_decimal(grant.get("percent")),
        cumulative_cap=_decimal(grant.get("cumulative_cap")),
        payee=grant.get("payee", ""),
    )


@transaction.atomic
def directory_load(*, data: dict, by: User | None = None) -> dict[str, int]:
    """Create or update members, categories and projects from a directory file.

    Idempotent: loading the same file twice changes nothing; a project whose rules
    differ from its current version gets a new version. Returns what was created.
    """
    created = {"members": 0, "categories": 0, "projects": 0, "rule_versions": 0}
    for order, row in enumerate(data["categories"]):
        _obj, new = DiseaseCategory.objects.update_or_create(
            code=row["code"],
            defaults={
                "name_zh": row["zh"],
                "name_en": row["en"],
                "icd_codes": list(row["icd"]),
                "sort_order": order,
            },
        )
        created["categories"] += new
    members = {}
    # Clear the executive flag first so that moving it cannot trip the one-executive
    # constraint half-way through the loop.
    executive_numbers = {row["n"] for row in data["members"] if row.get("executive")}
    MemberOrganization.objects.filter(is_executive=True).exclude(
        number__in=executive_numbers
    ).update(is_executive=False)
    for row in data["members"]:
        members[row["n"]], new = MemberOrganization.objects.update_or_create(
            number=row["n"],
            defaults={
                "short_name": row["short"].lower(),
                "name_zh": row["zh"],
                "name_en": row["en"],
                # The file does not say; a 中心 (centre) is not a foundation.
                "kind": (
                    MemberOrganization.Kind.CARE_CENTRE
                    if row["zh"].endswith("中心")
                    else MemberOrganization.Kind.FOUNDATION
                ),
                "is_executive": bool(row.get("executive", False)),
                **{
                    f"contact_{key}": value
                    for key, value in (row.get("contact") or {}).items()
                    if key in ("name", "phone", "email")
                },
            },
        )
        created["members"] += new
    for row in data["projects"]:
        project, new = AidProject.objects.update_or_create(
            code=row["code"],
            defaults={
                "member": members[row["member"]],
                "name_zh": row["zh"],
                "name_en": row["en"],
                "kind": row["kind"],
            },
        )
        created["projects"] += new
        rules = _rules_from_yaml(project, row.get("eligibility", {}), row.get("grant"))
        current = project.current_rules
        if current is None or rules_values(current) != rules_values(rules):
            rules_publish(rules=rules, by=by, note="directory file")
            created["rule_versions"] += 1
    return created


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str,
    organization: MemberOrganization | None = None,
    is_superuser: bool = False,
    **fields,
) -> User:
    """Create a staff user with a role (§5); the secretariat and admins may enter the admin."""
    user = User(
        username=username,
        role=role,
        organization=organization,
        is_superuser=is_superuser,
        is_staff=is_superuser or role == User.Role.SECRETARIAT,
        **fields,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user
