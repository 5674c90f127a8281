"""Admin: categories are managed here; topics and posts are shown read-only, because
every change to them goes through forum/services.py (moderators use the topic page)."""

from django.contrib import admin
from taggit.admin import TagAdmin
from taggit.models import Tag

from core import page_cache

from .models import Category, CategoryGroup, Post, Topic


class CategoryGroupInline(admin.TabularInline):
    """Restrict the category to groups (docs/groups.md): with any row, only their members and staff see it."""

    model = CategoryGroup
    extra = 1
    autocomplete_fields = ["group"]


@admin.register(Category)
class CategoryAdmin(page_cache.DropsPagesAdmin, admin.ModelAdmin):
    list_display = ["name", "parent", "slug", "read_access", "start_access", "group_restricted", "position"]
    list_filter = ["read_access", "start_access", "group_restricted"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "name_es", "name_fr", "slug"]
    inlines = [CategoryGroupInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The flag the lists read (services.restrict_category keeps it the same way).
        category = form.instance
        restricted = CategoryGroup.objects.filter(category=category).exists()
        Category.objects.filter(pk=category.pk).update(group_restricted=restricted)


admin.site.unregister(Tag)


@admin.register(Tag)
class ForumTagAdmin(page_cache.DropsPagesAdmin, TagAdmin):
    """django-taggit's tag admin; a tag renamed, merged or deleted here shows at once on every
    kept page and search (lists, topic pages and `tag:` searches show tags)."""

    def merge_tags_view(self, request):
        response = super().merge_tags_view(request)
        if request.method == "POST":
            page_cache.changed(site=True)
        return response


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Topic)
class TopicAdmin(ReadOnlyAdmin):
    list_display = ["title", "category", "status", "pin_scope", "posts_count", "last_posted_at"]
    list_filter = ["status", "pin_scope", "category"]
    search_fields = ["title"]
    list_select_related = ["category"]


@admin.register(Post)
class PostAdmin(ReadOnlyAdmin):
    list_display = ["topic", "number", "author", "state", "created_at"]
    list_filter = ["state"]
    list_select_related = ["topic", "author"]
    raw_id_fields = ["topic", "author", "reply_to"]
