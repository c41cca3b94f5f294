from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from aid_alliance.text import PlainTextField
from organizations import second_factor, services
from organizations.accounts import AdminLoginForm
from organizations.models import (
    AccountEvent,
    AidProject,
    DiseaseCategory,
    MemberOrganization,
    RuleSet,
    User,
)

# The admin is behind the same login lockout as the staff pages, and the same second factor
# (organizations.second_factor.SecondFactorMiddleware sends an admin session without its
# code to /accounts/otp/).
admin.site.login_form = AdminLoginForm
# django-otp's own device admin would show every user's key (and so their codes) to an
# administrator: devices are enrolled by their owner only, and reset from the users' list.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
admin.site.site_header = _("Children's Serious-Illness Aid Alliance")
admin.site.site_title = _("Alliance administration")


class SecretariatAccess:
    """The secretariat edits the directory and manages users (standard.md §5); only an
    administrator deletes. Names and texts of the directory are the public's: normalised,
    invisible characters refused, as on the case forms (aid_alliance.text)."""

    formfield_overrides = {
        models.CharField: {"form_class": PlainTextField},
        models.TextField: {"form_class": PlainTextField},
        models.SlugField: {},  # codes keep Django's slug field and its message
    }

    def _allowed(self, request):
        user = request.user
        return user.is_active and (user.is_superuser or user.is_secretariat)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request, *args):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(MemberOrganization)
class MemberOrganizationAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ["number", "short_name", "name_zh", "kind", "is_executive", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name_zh", "name_en", "short_name"]


@admin.register(DiseaseCategory)
class DiseaseCategoryAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "icd_codes", "sort_order"]
    search_fields = ["code", "name_zh", "name_en"]


class RuleVersionInline(admin.TabularInline):
    model = RuleSet
    fields = ["version", "created_at", "created_by", "change_note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-version"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or request.user.is_secretariat


@admin.register(AidProject)
class AidProjectAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ["code", "name_zh", "member", "kind", "is_open", "rules_version"]
    list_filter = ["kind", "is_open", "member"]
    search_fields = ["code", "name_zh", "name_en"]
    list_select_related = ["member", "current_rules"]
    readonly_fields = ["current_rules"]
    inlines = [RuleVersionInline]

    @admin.display(description=_("rules version"))
    def rules_version(self, project):
        return project.current_rules.version if project.current_rules else None


@admin.register(RuleSet)
class RuleSetAdmin(SecretariatAccess, admin.ModelAdmin):
    """Saving rules always publishes a new version; the version edited stays as it was."""

    list_display = ["project", "version", "grant_method", "created_at", "created_by"]
    list_filter = ["project__member", "grant_method"]
    list_select_related = ["project", "created_by"]
    readonly_fields = ["version", "created_at", "created_by"]
    search_fields = ["project__code", "project__name_zh"]
    fieldsets = [
        (None, {"fields": ["project", "version", "change_note", "created_at", "created_by"]}),
        (_("Eligibility"), {"fields": RuleSet.ELIGIBILITY_FIELDS}),
        (_("Grant"), {"fields": RuleSet.GRANT_FIELDS}),
    ]

    def save_model(self, request, obj, form, change):
        services.rules_publish(
            rules=obj, by=request.user, note=form.cleaned_data.get("change_note")
        )

    def has_delete_permission(self, request, obj=None):
        # Decisions record the version they used: versions are never deleted.
        return False


@admin.register(User)
class UserAdmin(SecretariatAccess, DjangoUserAdmin):
    list_display = [
        "username",
        "get_full_name",
        "organization",
        "role",
        "is_active",
        "has_second_factor",
    ]
    actions = ["reset_second_factor"]
    list_filter = ["role", "organization", "is_active"]
    list_select_related = ["organization"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("Alliance role"), {"fields": ["organization", "role"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["username", "password1", "password2", "organization", "role"],
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ()
        # The secretariat manages staff but cannot make administrators.
        return (
            "is_superuser",
            "user_permissions",
            "groups",
            "is_staff",
            "last_login",
            "date_joined",
        )

    def get_queryset(self, request):
        enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        queryset = super().get_queryset(request).annotate(second_factor=Exists(enrolled))
        if request.user.is_superuser:
            return queryset
        return queryset.filter(is_superuser=False)

    @admin.display(description=_("second factor"), boolean=True, ordering="second_factor")
    def has_second_factor(self, obj):
        return obj.second_factor

    def has_reset_second_factor_permission(self, request):
        return request.user.is_superuser

    @admin.action(
        description=_("Reset the second factor (lost phone): enrol again at the next login"),
        permissions=["reset_second_factor"],
    )
    def reset_second_factor(self, request, queryset):
        users = list(queryset)
        for user in users:
            second_factor.reset(user=user, by=request.user)
        self.message_user(
            request,
            ngettext(
                "Second factor reset for %(count)d user.",
                "Second factor reset for %(count)d users.",
                len(users),
            )
            % {"count": len(users)},
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        obj.is_staff = obj.is_superuser or obj.role == User.Role.SECRETARIAT
        super().save_model(request, obj, form, change)


@admin.register(AccountEvent)
class AccountEventAdmin(admin.ModelAdmin):
    """Second factors enrolled and reset: a record, read by administrators and the
    secretariat, written only by organizations.second_factor."""

    list_display = ["at", "user", "kind", "by", "note"]
    list_filter = ["kind"]
    search_fields = ["user__username", "by__username"]
    list_select_related = ["user", "by"]
    date_hierarchy = "at"

    def has_module_permission(self, request):
        return request.user.is_active and (request.user.is_superuser or request.user.is_secretariat)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
