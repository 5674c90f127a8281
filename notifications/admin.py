from django.contrib import admin

from core import page_cache

from .models import Notification, OutboxEmail, OutboxJob, OutboxMessage


@admin.register(Notification)
class NotificationAdmin(page_cache.DropsPagesAdmin, admin.ModelAdmin):
    list_display = ["title", "recipient", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["recipient", "actor"]


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin):
    list_display = ["notification", "recipient", "frequency", "state", "send_after", "attempts", "sent_at"]
    list_filter = ["state", "frequency"]
    raw_id_fields = ["notification", "recipient"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["kind", "to", "urgent", "state", "send_after", "attempts", "sent_at"]
    list_filter = ["state", "urgent", "kind"]
    search_fields = ["to", "message_id"]
    readonly_fields = ["message_id", "dedupe_key", "message"]


@admin.register(OutboxJob)
class OutboxJobAdmin(admin.ModelAdmin):
    list_display = ["handler", "state", "progress", "urgent", "attempts", "created_at", "done_at"]
    list_filter = ["state", "handler"]
