from django.contrib import admin

from .models import Notification, OutboxEmail


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["recipient", "actor"]


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin):
    list_display = ["notification", "recipient", "frequency", "state", "send_after", "attempts", "sent_at"]
    list_filter = ["state", "frequency"]
    raw_id_fields = ["notification", "recipient"]
