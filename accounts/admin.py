from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from accounts.models import ApiToken, Membership, Organisation, User
from audit.admin import AuditedModelAdmin


class LifesUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class LifesUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("organisation",)


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    add_form = LifesUserCreationForm
    form = LifesUserChangeForm
    audit_fields = (
        "email",
        "full_name",
        "orcid",
        "is_active",
        "is_staff",
        "is_superuser",
        "is_auditor",
        "is_machine",
    )
    list_display = ("email", "full_name", "is_staff", "is_auditor", "is_machine", "is_active")
    list_filter = ("is_staff", "is_auditor", "is_machine", "is_active")
    search_fields = ("email", "full_name", "orcid")
    ordering = ("email",)
    inlines = (MembershipInline,)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "orcid")}),
        (
            "Roles",
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "is_auditor",
                    "is_machine",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )


@admin.register(Organisation)
class OrganisationAdmin(AuditedModelAdmin):
    list_display = ("name", "kind", "country", "is_for_profit", "ror_id")
    list_filter = ("kind", "is_for_profit", "country")
    search_fields = ("name", "ror_id")


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ("user", "organisation", "role", "is_primary")
    list_filter = ("role",)
    search_fields = ("user__email", "organisation__name")
    autocomplete_fields = ("user", "organisation")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued and revoked through the services (profile page or API), not here."""

    list_display = (
        "name",
        "user",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    readonly_fields = [f.name for f in ApiToken._meta.fields]
    search_fields = ("user__email", "name", "prefix")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
