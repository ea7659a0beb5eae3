from django.contrib import admin

from .models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "shop", "lead", "token", "created_at"]
    list_select_related = ["shop", "lead", "token"]
    search_fields = ["key"]
    readonly_fields = ["shop", "key", "body_sha256", "lead", "token", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False
