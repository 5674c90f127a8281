"""Admin: staff create groups and set their rules here; members and owners are managed on /g/<name>
(or here, for a first owner)."""

from django.contrib import admin

from .models import Group, JoinRequest, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    raw_id_fields = ["user"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "full_name", "visibility", "join_mode", "mentionable", "messageable"]
    list_filter = ["visibility", "join_mode"]
    search_fields = ["name", "full_name"]
    inlines = [MembershipInline]


@admin.register(JoinRequest)
class JoinRequestAdmin(admin.ModelAdmin):
    list_display = ["group", "user", "created_at"]
    raw_id_fields = ["user"]
