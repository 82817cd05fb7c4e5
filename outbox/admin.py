from django.contrib import admin

from outbox.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only: operators look here for effects that keep failing (``last_error``)."""

    list_display = ("pk", "effect", "key", "created_at", "attempts", "acknowledged_at")
    list_filter = ("effect",)
    search_fields = ("key", "effect")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
