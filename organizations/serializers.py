from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aid_alliance import money
from organizations import selectors
from organizations.describe import describe_rules
from organizations.eligibility import ECONOMIC_FLAGS, REGISTRATIONS, STAGES, TREATMENTS, Applicant
from organizations.forms import facts_errors, region_error
from organizations.models import AidProject, DiseaseCategory, MemberOrganization


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = MemberOrganization
        fields = ["number", "short_name", "name_zh", "name_en", "kind", "is_executive"]


class RuleRowSerializer(serializers.Serializer):
    label = serializers.CharField()
    text = serializers.CharField()


class ProjectSerializer(serializers.ModelSerializer):
    member = serializers.SlugRelatedField(slug_field="short_name", read_only=True)
    rules_version = serializers.IntegerField(source="current_rules.version", allow_null=True)
    categories = serializers.SerializerMethodField()
    rules = serializers.SerializerMethodField()

    class Meta:
        model = AidProject
        fields = [
            "code",
            "member",
            "name_zh",
            "name_en",
            "kind",
            "is_open",
            "annual_budget",
            "rules_version",
            "categories",
            "rules",
        ]

    def get_categories(self, project) -> list[str]:
        rules = selectors.project_rules(project)
        return list(rules.categories) if rules else []

    @extend_schema_field(RuleRowSerializer(many=True))
    def get_rules(self, project):
        """The current rules in plain words, in the language of the request."""
        rules = selectors.project_rules(project)
        if rules is None:
            return []
        if "labels" not in self.context:
            self.context["labels"] = selectors.category_labels()
        return [
            {"label": str(label), "text": str(text)}
            for label, text in describe_rules(rules, self.context["labels"])
        ]


class TreatmentPlanField(serializers.DictField):
    child = serializers.ChoiceField(choices=list(STAGES))

    def to_internal_value(self, data):
        plan = super().to_internal_value(data)
        unknown = [name for name in plan if name not in TREATMENTS]
        if unknown:
            raise serializers.ValidationError(
                _("Unknown treatments: %(names)s. Use: %(known)s.")
                % {"names": ", ".join(unknown), "known": ", ".join(TREATMENTS)}
            )
        if not plan:
            raise serializers.ValidationError(_("Give at least one treatment and its stage."))
        return plan


class EligibilityRequestSerializer(serializers.Serializer):
    """One applicant, with exactly the field names of the golden cases file."""

    dob = serializers.DateField(help_text="A05 date of birth")
    application_date = serializers.DateField(
        required=False, help_text="Defaults to today (Asia/Shanghai)."
    )
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=DiseaseCategory.objects.all(), help_text="D01 category code"
    )
    icd = serializers.CharField(max_length=16, help_text="D02 ICD-10 code, e.g. C91.0")
    household_region = serializers.CharField(max_length=6, help_text="A07 GB/T 2260 code")
    registration = serializers.ChoiceField(choices=list(REGISTRATIONS), help_text="A08")
    hospital_region = serializers.CharField(max_length=6, help_text="region of D06")
    flags = serializers.ListField(
        child=serializers.ChoiceField(choices=list(ECONOMIC_FLAGS)), required=False, default=list
    )
    household_size = serializers.IntegerField(min_value=1, max_value=30, help_text="C01")
    household_income = serializers.DecimalField(help_text="C02, yuan a year", **money.AMOUNT)
    plan = TreatmentPlanField(help_text="D07: treatment -> planned | in_progress | done")
    estimated_cost = serializers.DecimalField(help_text="D08, yuan", **money.AMOUNT)
    coverage = serializers.DecimalField(
        default=Decimal("0"), help_text="sum of E02", **money.AMOUNT
    )
    other_aid = serializers.DecimalField(
        default=Decimal("0"), help_text="sum of E03", **money.AMOUNT
    )
    earlier_grants = serializers.DictField(
        child=serializers.DecimalField(**money.AMOUNT),
        required=False,
        default=dict,
        help_text="What the child already received, by project code.",
    )

    def validate_household_region(self, value):
        return self._region(value)

    def validate_hospital_region(self, value):
        return self._region(value)

    def _region(self, value):
        message = region_error(value)
        if message:
            raise serializers.ValidationError(message)
        return value

    def validate(self, attrs):
        attrs.setdefault("application_date", timezone.localdate())
        errors = facts_errors(
            dob=attrs["dob"],
            application_date=attrs["application_date"],
            category=attrs["category"],
            icd=attrs["icd"],
        )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def applicant(self) -> Applicant:
        data = dict(self.validated_data)
        data["category"] = data["category"].code
        data["flags"] = frozenset(data["flags"])
        return Applicant(**data)


class ReasonSerializer(serializers.Serializer):
    kind = serializers.CharField()
    zh = serializers.CharField()
    en = serializers.CharField()


class ProjectResultSerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    suggested = serializers.IntegerField(
        allow_null=True, help_text="Whole yuan; null for in-kind and service projects."
    )
    fails = serializers.ListField(child=serializers.CharField())
    reasons = ReasonSerializer(many=True)
    rules_version = serializers.IntegerField()

    def to_representation(self, result):
        return result.as_data()


class EligibilityResponseSerializer(serializers.Serializer):
    results = serializers.DictField(child=ProjectResultSerializer(), help_text="By project code.")
