"""Every write to the directory and its users goes through these functions."""

from __future__ import annotations

import getpass
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations import auth_backends, directory_cache
from organizations.models import (
    AccountEvent,
    AidProject,
    DiseaseCategory,
    Hospital,
    HospitalEvent,
    MemberOrganization,
    RuleSet,
    User,
)

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
    created = {"members": 0, "categories": 0, "projects": 0, "rule_versions": 0, "hospitals": 0}
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
    ).update(is_executive=False, updated_at=timezone.now())  # a save would move it too
    auth_backends.member_changed(sender=MemberOrganization)  # update() sends no post_save
    directory_cache.directory_changed(sender=MemberOrganization)
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
    created["hospitals"] = hospitals_load(rows=data.get("hospitals", []), by=by)
    return created


# Staff accounts (standard.md §5): "the administrator creates and changes staff accounts";
# the secretariat reads them and does neither. Every function below takes the acting user
# and refuses anyone but an active administrator; `by=None` is the server's command line
# (load_demo, fixtures), which is recorded with the operating-system account that ran it.
# `by` has no default, so a page or the admin cannot forget to pass it.


def require_administrator(by: User | None) -> None:
    if by is not None and not (by.is_active and by.is_superuser):
        raise PermissionDenied(_("Only an administrator creates and changes staff accounts."))


def _command_line_note() -> str:
    try:
        account = getpass.getuser()
    except (KeyError, OSError):
        account = "?"
    return f"command line, as {account}"  # a record, not a UI text


def account_event_record(
    *,
    user: User,
    kind: AccountEvent.Kind,
    by: User | None,
    role_before: str | None = None,
    organization_before: MemberOrganization | None | Literal[False] = False,
    note: str = "",
) -> AccountEvent:
    """The one writer of account events: the user's role and member after the change are
    read from `user`; before it, they are the same unless given (a creation has none)."""
    if by is None and not note:
        note = _command_line_note()
    return AccountEvent.objects.create(
        user=user,
        kind=kind,
        by=by,
        role_before=user.role if role_before is None else role_before,
        role_after=user.role,
        organization_before_id=(
            user.organization_id
            if organization_before is False
            else getattr(organization_before, "pk", None)
        ),
        organization_after_id=user.organization_id,
        note=note[:200],
    )


def _locked(user: User) -> User:
    """The row, locked: two administrators saving one account cannot lose a change or
    record an event whose "before" is stale."""
    return User.objects.select_for_update().get(pk=user.pk)


def _staff_flag(user: User) -> bool:
    # Admin access follows the role (§5): the secretariat and administrators only.
    return user.is_superuser or user.role == User.Role.SECRETARIAT


@transaction.atomic
def user_create(
    *,
    by: User | None,
    username: str,
    password: str | None,
    role: str,
    organization: MemberOrganization | None = None,
    is_superuser: bool = False,
    **fields,
) -> User:
    """Create a staff user with a role (§5); `password=None` creates one who cannot sign in
    with a password until an administrator sets one."""
    require_administrator(by)
    user = User(
        username=username,
        role=role,
        organization=organization,
        is_superuser=is_superuser,
        **fields,
    )
    user.is_staff = _staff_flag(user)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    account_event_record(
        user=user,
        kind=AccountEvent.Kind.CREATED,
        by=by,
        role_before="",
        organization_before=None,
        note="administrator" if is_superuser else "",
    )
    return user


@transaction.atomic
def user_assign(
    *,
    user: User,
    role: str,
    organization: MemberOrganization | None,
    by: User | None,
    hospital: Hospital | None = None,
) -> User:
    """Give the user a role, and a member for caseworkers and reviewers (a hospital for
    hospital staff): one event, "role changed" (which may move them too) or "moved";
    nothing when all stay."""
    require_administrator(by)
    user = _locked(user)
    role_before, organization_before = user.role, user.organization
    hospital_before = user.hospital_id
    if (
        role == role_before
        and getattr(organization, "pk", None) == user.organization_id
        and getattr(hospital, "pk", None) == hospital_before
    ):
        return user
    user.role, user.organization, user.hospital = role, organization, hospital
    user.is_staff = _staff_flag(user)
    user.full_clean(exclude=["password"])
    user.save(update_fields=["role", "organization", "hospital", "is_staff"])
    account_event_record(
        user=user,
        kind=(AccountEvent.Kind.ROLE_CHANGED if role != role_before else AccountEvent.Kind.MOVED),
        by=by,
        role_before=role_before,
        organization_before=organization_before,
        note=f"hospital: {hospital.code}" if hospital is not None else "",
    )
    return user


@transaction.atomic
def user_set_active(*, user: User, is_active: bool, by: User | None) -> User:
    """Deactivate (they cannot sign in; their history stays theirs) or reactivate."""
    require_administrator(by)
    user = _locked(user)
    if user.is_active == is_active:
        return user
    user.is_active = is_active
    user.save(update_fields=["is_active"])
    kind = AccountEvent.Kind.ACTIVATED if is_active else AccountEvent.Kind.DEACTIVATED
    account_event_record(user=user, kind=kind, by=by)
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str | None, by: User | None) -> User:
    """Set the user's password (the form checked its strength), or with `None` turn
    password sign-in off."""
    require_administrator(by)
    user = _locked(user)
    if password is None:
        user.set_unusable_password()
        kind = AccountEvent.Kind.PASSWORD_REMOVED
    else:
        user.set_password(password)
        kind = AccountEvent.Kind.PASSWORD_SET
    user.save(update_fields=["password"])
    account_event_record(user=user, kind=kind, by=by)
    return user


@transaction.atomic
def user_set_administrator(*, user: User, is_superuser: bool, by: User | None) -> User:
    require_administrator(by)
    user = _locked(user)
    if user.is_superuser == is_superuser:
        return user
    user.is_superuser = is_superuser
    user.is_staff = _staff_flag(user)
    user.save(update_fields=["is_superuser", "is_staff"])
    kind = (
        AccountEvent.Kind.ADMINISTRATOR_GRANTED
        if is_superuser
        else AccountEvent.Kind.ADMINISTRATOR_REVOKED
    )
    account_event_record(user=user, kind=kind, by=by)
    return user


USER_DETAILS = ("username", "first_name", "last_name", "email")


@transaction.atomic
def user_change_details(*, user: User, by: User | None, **details: str) -> User:
    """Change the user name, names or e-mail; the note says which, old → new."""
    require_administrator(by)
    unknown = set(details) - set(USER_DETAILS)
    if unknown:
        raise TypeError(f"not account details: {sorted(unknown)}")
    user = _locked(user)
    changed = {k: (getattr(user, k), v) for k, v in details.items() if getattr(user, k) != v}
    if not changed:
        return user
    for name, (_old, new) in changed.items():
        setattr(user, name, new)
    user.full_clean(exclude=["password"])
    user.save(update_fields=list(changed))
    note = "; ".join(f"{name}: {old} → {new}" for name, (old, new) in changed.items())
    account_event_record(user=user, kind=AccountEvent.Kind.DETAILS_CHANGED, by=by, note=note)
    return user


# --- the hospital directory (issue 17): the secretariat edits it (§5) ----------------------------

HOSPITAL_FIELDS = ("code", "name", "region", "level", "is_childrens", "is_active", "is_demo")


def require_directory_editor(by: User | None) -> None:
    """The secretariat and administrators edit the directory; None is the command line."""
    if by is not None and not (by.is_active and (by.is_superuser or by.is_secretariat)):
        raise PermissionDenied(_("Only the secretariat edits the hospital directory."))


@transaction.atomic
def hospital_create(*, by: User | None, note: str = "", **fields: Any) -> Hospital:
    """A new hospital in the directory, checked (a real GB/T 2260 region), with its event."""
    require_directory_editor(by)
    unknown = set(fields) - set(HOSPITAL_FIELDS)
    if unknown:
        raise TypeError(f"not hospital fields: {sorted(unknown)}")
    hospital = Hospital(**fields)
    hospital.full_clean()
    hospital.save()
    HospitalEvent.objects.create(
        hospital=hospital,
        kind=HospitalEvent.Kind.CREATED,
        by=by,
        changes={name: ["", str(getattr(hospital, name))] for name in HOSPITAL_FIELDS},
        note=(note or ("" if by is not None else _command_line_note()))[:200],
    )
    return hospital


@transaction.atomic
def hospital_update(
    *, hospital: Hospital, by: User | None, note: str = "", **fields: Any
) -> Hospital:
    """Change a directory entry; one event with what changed, none when nothing did."""
    require_directory_editor(by)
    unknown = set(fields) - set(HOSPITAL_FIELDS)
    if unknown:
        raise TypeError(f"not hospital fields: {sorted(unknown)}")
    hospital = Hospital.objects.select_for_update().get(pk=hospital.pk)
    changes = {
        name: [str(getattr(hospital, name)), str(value)]
        for name, value in fields.items()
        if getattr(hospital, name) != value
    }
    if not changes:
        return hospital
    for name, value in fields.items():
        setattr(hospital, name, value)
    hospital.full_clean()
    hospital.save()
    HospitalEvent.objects.create(
        hospital=hospital,
        kind=HospitalEvent.Kind.CHANGED,
        by=by,
        changes=changes,
        note=(note or ("" if by is not None else _command_line_note()))[:200],
    )
    return hospital


def hospitals_load(*, rows: list[dict], by: User | None = None) -> int:
    """The directory file's hospitals (load_demo): created, or updated to the file; returns
    how many were created."""
    created = 0
    existing = {hospital.code: hospital for hospital in Hospital.objects.all()}
    for row in rows:
        fields = {
            "name": row["name"],
            "region": str(row["region"]),
            "level": row.get("level", Hospital.Level.GRADE_3A),
            "is_childrens": bool(row.get("childrens", False)),
            "is_active": bool(row.get("active", True)),
            "is_demo": bool(row.get("demo", True)),
        }
        if row["code"] in existing:
            hospital_update(hospital=existing[row["code"]], by=by, note="directory file", **fields)
        else:
            hospital_create(by=by, note="directory file", code=row["code"], **fields)
            created += 1
    return created
