from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Organisation, OrganisationDomain, User


class OrganisationDomainInline(admin.TabularInline):
    model = OrganisationDomain
    extra = 1


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "country", "metropolis_region", "is_member"]
    search_fields = ["name", "short_name", "country"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OrganisationDomainInline]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = [
        "username",
        "display_name",
        "organisation",
        "verification_state",
        "is_moderator",
        "is_staff",
    ]
    list_filter = ["verification_state", "is_moderator", "is_staff"]
    fieldsets = BaseUserAdmin.fieldsets + (
        (
            "Official",
            {"fields": ["display_name", "position", "department", "organisation", "is_moderator"]},
        ),
    )
