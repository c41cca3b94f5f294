"""The alliance directory (standard.md §1) and its staff users (§5)."""

from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aid_alliance.money import ZERO
from organizations import eligibility, regions


class MemberOrganization(models.Model):
    """成员机构: a charity that reviews and funds the alliance's applications."""

    class Kind(models.TextChoices):
        FOUNDATION = "foundation", _("Foundation")
        CARE_CENTRE = "care_centre", _("Care centre")
        OTHER = "other", _("Other")

    number = models.PositiveSmallIntegerField(_("member number"), unique=True)
    short_name = models.SlugField(_("short name"), max_length=20, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=150)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.FOUNDATION)
    # The directory's version (organizations.directory_cache): any save moves it.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    is_executive = models.BooleanField(_("rotating executive"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    review_days = models.PositiveSmallIntegerField(
        _("days to decide"),
        default=30,
        help_text=_("A review with no decision this many days after routing expires."),
    )
    # Issue 17: a member may want the treating hospital to have confirmed the diagnosis,
    # treatment and estimate (D01-D03, D07, D08) before any of its reviewers approves.
    require_hospital_confirmation = models.BooleanField(
        _("require hospital confirmation before approving"),
        default=False,
        help_text=_(
            "Approving is refused until the treating hospital has confirmed or corrected "
            "the medical sections."
        ),
    )

    class Meta:
        verbose_name = _("member organisation")
        verbose_name_plural = _("member organisations")
        ordering = ["number"]
        constraints = [
            # One member serves as the rotating executive at a time (standard.md, background).
            models.UniqueConstraint(
                fields=["is_executive"],
                condition=Q(is_executive=True),
                name="organizations_one_rotating_executive",
            ),
        ]

    def __str__(self):
        # In the reader's language: choices, filters and admin lists name it so (issue 16).
        return str(eligibility.bilingual(self.name_zh, self.name_en or self.name_zh))


class DiseaseCategory(models.Model):
    """救助病种: one of the alliance's disease categories and the ICD-10 codes it covers."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    # The directory's version (organizations.directory_cache): any save moves it.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=150)
    icd_codes = models.JSONField(
        _("ICD-10 codes and ranges"),
        default=list,
        help_text=_('A list such as ["C91-C95"], ["D66", "D67", "D68.0"].'),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("disease category")
        verbose_name_plural = _("disease categories")
        ordering = ["sort_order", "code"]

    def __str__(self):
        # In the reader's language: choices, filters and admin lists name it so (issue 16).
        return str(eligibility.bilingual(self.name_zh, self.name_en or self.name_zh))

    def clean(self):
        try:
            eligibility.parse_icd_items(self.icd_codes)
        except ValueError as exc:
            raise ValidationError({"icd_codes": str(exc)}) from None

    def covers_icd(self, code: str) -> bool:
        return eligibility.icd_matches(code, self.icd_codes)


class AidProjectQuerySet(models.QuerySet):
    def with_rules(self):
        return self.select_related("member", "current_rules")

    def open(self):
        return self.filter(is_open=True, member__is_active=True)


class AidProject(models.Model):
    """救助项目: what one member offers, under its current eligibility and grant rules."""

    class Kind(models.TextChoices):
        GRANT = "grant", _("Grant (money)")
        IN_KIND = "in_kind", _("In kind")
        SERVICE = "service", _("Service")

    code = models.SlugField(_("code"), max_length=20, unique=True)
    member = models.ForeignKey(
        MemberOrganization,
        on_delete=models.PROTECT,
        related_name="projects",
        verbose_name=_("member organisation"),
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=150)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    description = models.TextField(_("description"), blank=True)
    annual_budget = models.DecimalField(
        _("annual budget (yuan)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
    )
    is_open = models.BooleanField(_("open for applications"), default=True)
    # The directory's version (organizations.directory_cache): any save moves it.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # The rule version decisions are made under now; earlier versions stay for the record.
    current_rules = models.OneToOneField(
        "RuleSet",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current rules"),
    )

    objects = AidProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("aid project")
        verbose_name_plural = _("aid projects")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(annual_budget__isnull=True) | Q(annual_budget__gte=0),
                name="organizations_project_budget_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.code} {eligibility.bilingual(self.name_zh, self.name_en or self.name_zh)}"


def _decimal_or_none(value):
    return None if value is None else Decimal(value)


class RuleSet(models.Model):
    """One version of a project's eligibility and grant rules (standard.md §1).

    A version is never edited once saved: a change is saved as the next version
    (services.rules_publish), so a decision can always say which rules it used.
    The list fields hold codes checked in clean(); their meaning is that of the rule
    fields in organizations/data/demo-directory.yaml.
    """

    class RegionBasis(models.TextChoices):
        ANY = "", _("All of China")
        HOUSEHOLD = "household", _("Household registration (A07)")
        TREATING_HOSPITAL = "treating_hospital", _("Treating hospital (D06)")

    class Registration(models.TextChoices):
        ANY = "", _("Any")
        RURAL = "rural", _("Rural")
        URBAN = "urban", _("Urban")

    class GrantMethod(models.TextChoices):
        NONE = "", _("No money grant (in kind or service)")
        FIXED = "fixed", _("Fixed amount")
        BY_TREATMENT = "by_treatment", _("Amount by treatment")
        TIERS = "tiers", _("Amount by tier of out-of-pocket cost")
        PERCENT = "percent", _("Percentage of out-of-pocket cost")
        UP_TO = "up_to", _("Up to a cap the reviewer chooses within")

    class Payee(models.TextChoices):
        HOSPITAL = "hospital", _("Hospital")
        GUARDIAN = "guardian", _("Guardian")

    # The fields that make a version: two versions with equal values are the same rules.
    ELIGIBILITY_FIELDS = (
        "min_age_years",
        "until_birthday",
        "until_inclusive",
        "categories",
        "icd_codes",
        "region_basis",
        "region_codes",
        "registration",
        "economic_flags",
        "per_capita_max",
        "treatment_conditions",
        "once_per_child",
    )
    GRANT_FIELDS = (
        "grant_method",
        "grant_amount",
        "treatment_amounts",
        "tiers",
        "above_top",
        "percent",
        "cumulative_cap",
        "payee",
    )

    project = models.ForeignKey(
        AidProject,
        on_delete=models.CASCADE,
        related_name="rule_versions",
        verbose_name=_("project"),
    )
    version = models.PositiveIntegerField(_("version"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        "User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    change_note = models.CharField(_("what changed"), max_length=200, blank=True)

    # Eligibility
    min_age_years = models.DecimalField(
        _("minimum age (years)"),
        max_digits=4,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("18"))],
        help_text=_("Eligible from the date this long after birth; 0.5 means 6 months."),
    )
    until_birthday = models.PositiveSmallIntegerField(
        _("eligible until birthday"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("N: eligible only before the N-th birthday, or up to it if inclusive."),
    )
    until_inclusive = models.BooleanField(_("including that birthday"), default=False)
    categories = models.JSONField(_("disease categories"), default=list, blank=True)
    icd_codes = models.JSONField(_("ICD-10 codes and ranges"), default=list, blank=True)
    region_basis = models.CharField(
        _("region basis"), max_length=20, choices=RegionBasis, blank=True, default=""
    )
    region_codes = models.JSONField(
        _("province or prefecture codes"),
        default=list,
        blank=True,
        help_text=_('2-digit province or 4-digit prefecture codes, e.g. ["45", "5101"].'),
    )
    registration = models.CharField(
        _("household registration type"), max_length=10, choices=Registration, blank=True
    )
    economic_flags = models.JSONField(_("economic status (any of)"), default=list, blank=True)
    per_capita_max = models.DecimalField(
        _("maximum per-capita income (yuan a year)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
    )
    treatment_conditions = models.JSONField(_("treatment conditions"), default=list, blank=True)
    once_per_child = models.BooleanField(_("one grant per child per disease"), default=False)

    # Grant
    grant_method = models.CharField(
        _("grant rule"), max_length=20, choices=GrantMethod, blank=True, default=""
    )
    grant_amount = models.DecimalField(
        _("amount or cap (yuan)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
        help_text=_("The fixed amount, or the cap of an up-to grant."),
    )
    treatment_amounts = models.JSONField(
        _("amount by treatment"),
        default=dict,
        blank=True,
        help_text=_('For example {"chemotherapy": 30000, "transplant": 50000}.'),
    )
    tiers = models.JSONField(
        _("tiers"),
        default=list,
        blank=True,
        help_text=_("[low (exclusive), high (inclusive), amount] on out-of-pocket cost."),
    )
    above_top = models.DecimalField(
        _("amount above the top tier"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
    )
    percent = models.DecimalField(
        _("rate of out-of-pocket cost"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("1"))],
        help_text=_("0.5 means 50%."),
    )
    cumulative_cap = models.DecimalField(
        _("cap per child, all years"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO)],
    )
    payee = models.CharField(_("paid to"), max_length=10, choices=Payee, blank=True)

    class Meta:
        verbose_name = _("rule version")
        verbose_name_plural = _("rule versions")
        ordering = ["project__code", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "version"], name="organizations_ruleset_one_per_version"
            ),
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | Q(percent__gte=0, percent__lte=1),
                name="organizations_ruleset_percent_in_0_1",
            ),
            models.CheckConstraint(
                condition=Q(min_age_years__gte=0), name="organizations_ruleset_min_age_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.project.code} v{self.version}"

    def clean(self):
        try:
            self.to_engine(project_code=self.project.code if self.project_id else "?")
        except eligibility.RuleError as exc:
            raise ValidationError({exc.field: exc.message}) from None
        known = set(DiseaseCategory.objects.values_list("code", flat=True))
        unknown = [code for code in self.categories if code not in known]
        if unknown:
            raise ValidationError(
                {"categories": _("Unknown disease categories: %s") % ", ".join(unknown)}
            )
        bad_regions = [code for code in self.region_codes if not regions.is_prefix(code)]
        if bad_regions:
            raise ValidationError(
                {
                    "region_codes": _("Not a province or prefecture code: %s")
                    % ", ".join(bad_regions)
                }
            )
        if self.region_codes and not self.region_basis:
            raise ValidationError({"region_basis": _("Say which region the codes apply to.")})
        if self.project_id and self.grant_method and self.project.kind != AidProject.Kind.GRANT:
            raise ValidationError(
                {"grant_method": _("Only grant projects have a money grant rule.")}
            )

    def to_engine(
        self, project_code: str, project_kind: str | None = None
    ) -> eligibility.ProjectRules:
        """The pure engine's view of this rule version (raises RuleError when malformed)."""
        return eligibility.ProjectRules.build(
            code=project_code,
            kind=project_kind or (self.project.kind if self.project_id else "grant"),
            version=self.version or 0,
            min_age_years=Decimal(self.min_age_years or 0),
            until_birthday=self.until_birthday,
            until_inclusive=self.until_inclusive,
            categories=self.categories,
            icd=self.icd_codes,
            region_basis=self.region_basis,
            region_codes=self.region_codes,
            registration=self.registration,
            economic_flags=self.economic_flags,
            per_capita_max=_decimal_or_none(self.per_capita_max),
            treatment=self.treatment_conditions,
            once_per_child=self.once_per_child,
            grant_method=self.grant_method,
            grant_amount=_decimal_or_none(self.grant_amount),
            treatment_amounts=self.treatment_amounts,
            tiers=self.tiers,
            above_top=_decimal_or_none(self.above_top),
            percent=_decimal_or_none(self.percent),
            cumulative_cap=_decimal_or_none(self.cumulative_cap),
            payee=self.payee,
        )


class Hospital(models.Model):
    """医院: a hospital of the alliance's directory (issue 17), named as the treating
    hospital (D06) of applications; its staff confirm their patients' medical sections."""

    class Level(models.TextChoices):
        # The National Health Commission's grading (医院等级).
        GRADE_3A = "3a", _("Grade III, class A")
        GRADE_3B = "3b", _("Grade III, class B")
        GRADE_3C = "3c", _("Grade III, class C")
        GRADE_2A = "2a", _("Grade II, class A")
        GRADE_2B = "2b", _("Grade II, class B")
        GRADE_2C = "2c", _("Grade II, class C")
        GRADE_1 = "1", _("Grade I")
        UNGRADED = "none", _("Not graded")

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    # A GB/T 2260 6-digit code, as the applications' region fields (organizations.regions).
    region = models.CharField(_("region"), max_length=6)
    level = models.CharField(_("level"), max_length=4, choices=Level, default=Level.GRADE_3A)
    is_childrens = models.BooleanField(_("children's hospital"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    is_demo = models.BooleanField(_("demo data"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("hospital")
        verbose_name_plural = _("hospitals")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(region__regex=r"^[0-9]{6}$"), name="organizations_hospital_region_code"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.region and not regions.exists(self.region):
            raise ValidationError({"region": _("Not a GB/T 2260 region code.")})


class HospitalEvent(models.Model):
    """A change to the hospital directory by the secretariat (organizations.services):
    who created or changed which entry, and what changed (field -> [before, after])."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Hospital added")
        CHANGED = "changed", _("Hospital changed")

    hospital = models.ForeignKey(
        Hospital, on_delete=models.CASCADE, related_name="events", verbose_name=_("hospital")
    )
    kind = models.CharField(_("event"), max_length=10, choices=Kind)
    by = models.ForeignKey(
        "User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changes = models.JSONField(default=dict, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("hospital event")
        verbose_name_plural = _("hospital events")
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.hospital_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class User(AbstractUser):
    """A staff user: belongs to one member organisation or to the secretariat (§5).

    Administrators are superusers with no role. Families have no account.
    """

    class Role(models.TextChoices):
        CASEWORKER = "caseworker", _("Caseworker")
        REVIEWER = "reviewer", _("Reviewer")
        SECRETARIAT = "secretariat", _("Secretariat")
        HOSPITAL_STAFF = "hospital_staff", _("Hospital staff")

    organization = models.ForeignKey(
        MemberOrganization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("member organisation"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role, blank=True)
    # Hospital staff (医院社工/医务人员, issue 17) belong to one hospital of the directory.
    hospital = models.ForeignKey(
        Hospital,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("hospital"),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Caseworkers and reviewers belong to a member; the secretariat belongs to the
            # alliance itself; a user without a role (an administrator) has no member.
            # Hospital staff belong to a hospital and to no member.
            models.CheckConstraint(
                condition=(
                    Q(role__in=["caseworker", "reviewer"], organization__isnull=False)
                    | Q(role__in=["secretariat", "", "hospital_staff"], organization__isnull=True)
                ),
                name="organizations_user_role_matches_member",
            ),
            models.CheckConstraint(
                condition=(
                    Q(role="hospital_staff", hospital__isnull=False)
                    | (~Q(role="hospital_staff") & Q(hospital__isnull=True))
                ),
                name="organizations_user_hospital_staff_has_hospital",
            ),
        ]

    @property
    def is_member_staff(self) -> bool:
        return self.role in (self.Role.CASEWORKER, self.Role.REVIEWER)

    @property
    def is_secretariat(self) -> bool:
        return self.role == self.Role.SECRETARIAT

    @property
    def is_hospital_staff(self) -> bool:
        return self.role == self.Role.HOSPITAL_STAFF and self.hospital_id is not None

    def clean(self):
        super().clean()
        if self.role in (self.Role.CASEWORKER, self.Role.REVIEWER) and not self.organization_id:
            raise ValidationError(
                {"organization": _("Caseworkers and reviewers belong to a member.")}
            )
        if self.role not in (self.Role.CASEWORKER, self.Role.REVIEWER) and self.organization_id:
            raise ValidationError(
                {"organization": _("Only caseworkers and reviewers belong to a member.")}
            )
        if self.role == self.Role.HOSPITAL_STAFF and not self.hospital_id:
            raise ValidationError({"hospital": _("Hospital staff belong to a hospital.")})
        if self.role != self.Role.HOSPITAL_STAFF and self.hospital_id:
            raise ValidationError({"hospital": _("Only hospital staff belong to a hospital.")})


class RateLimitHit(models.Model):
    """One counted request of a rate-limited scope (organizations.ratelimit): a staff login
    try, a family status lookup, a password reset request.

    In the database, not in process memory, so that the limits hold across app servers. A
    hit counts against up to two keys at once (a user name and an address, say); both are
    keyed hashes: enough to count, useless to read.
    """

    scope = models.CharField(max_length=30)
    first_key = models.CharField(max_length=64)
    # Empty when the hit has one key (e.g. a status lookup with no readable reference).
    second_key = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            # The counts of a limit, per key, over the window that ends now; the purge.
            models.Index(fields=["scope", "first_key", "at"], name="org_ratelimit_first_at"),
            models.Index(fields=["scope", "second_key", "at"], name="org_ratelimit_second_at"),
            models.Index(fields=["scope", "at"], name="org_ratelimit_scope_at"),
        ]

    def __str__(self):
        return f"{self.scope} {self.first_key[:8]} {self.second_key[:8]} {self.at:%H:%M:%S}"


class AccountEvent(models.Model):
    """A change to a staff account (§5): created, its role or member changed, (de)activated,
    a password set, a second factor enrolled or reset.

    `by` is who did it: an administrator, or the user themselves when enrolling; empty for
    the server's command line (`manage.py otp_reset`, `load_demo`), whose `note` then names
    the operating-system account that ran it. Each row keeps the user's role and member
    before and after, so a move from member 1 to member 2 is read by the reviewers of both,
    and a later change to the user does not rewrite what was recorded.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Account created")
        ROLE_CHANGED = "role_changed", _("Role changed")
        MOVED = "moved", _("Moved to another member")
        ACTIVATED = "activated", _("Account activated")
        DEACTIVATED = "deactivated", _("Account deactivated")
        PASSWORD_SET = "password_set", _("Password set by an administrator")
        PASSWORD_REMOVED = "password_removed", _("Password sign-in disabled")
        ADMINISTRATOR_GRANTED = "administrator_granted", _("Made an administrator")
        ADMINISTRATOR_REVOKED = "administrator_revoked", _("Administrator rights removed")
        DETAILS_CHANGED = "details_changed", _("Name or e-mail changed")
        SECOND_FACTOR_ENROLLED = "second_factor_enrolled", _("Second factor enrolled")
        SECOND_FACTOR_RESET = "second_factor_reset", _("Second factor reset")
        API_TOKEN_CREATED = "api_token_created", _("API token created")
        API_TOKEN_REVOKED = "api_token_revoked", _("API token revoked")

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="account_events", verbose_name=_("user")
    )
    kind = models.CharField(_("event"), max_length=40, choices=Kind)
    by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    role_before = models.CharField(_("role before"), max_length=20, choices=User.Role, blank=True)
    role_after = models.CharField(_("role after"), max_length=20, choices=User.Role, blank=True)
    organization_before = models.ForeignKey(
        MemberOrganization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("member before"),
    )
    organization_after = models.ForeignKey(
        MemberOrganization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("member after"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("account event")
        verbose_name_plural = _("account events")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["user", "at"], name="org_accountevent_user_at"),
            # A member's page reads the events of accounts that were, or became, its own.
            models.Index(fields=["organization_after", "at"], name="org_accountevent_after_at"),
            models.Index(fields=["organization_before", "at"], name="org_accountevent_before_at"),
        ]

    def __str__(self):
        return f"{self.user} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    @property
    def role_changed(self) -> bool:
        return self.role_before != self.role_after

    @property
    def organization_changed(self) -> bool:
        return self.organization_before_id != self.organization_after_id


class ApiToken(models.Model):
    """A member system's key to the API (organizations.tokens), owned by one staff user.

    Only the SHA-256 of the secret is stored: the secret is shown once, when it is made. A
    token acts as its user, never more; a read token cannot change anything.
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read only")
        READ_WRITE = "read_write", _("Read and write")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    # The secret's first characters: enough to tell tokens apart, useless to sign in.
    prefix = models.CharField(_("prefix"), max_length=8)
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.prefix}… {self.name}"
