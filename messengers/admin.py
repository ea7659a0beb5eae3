from django.contrib import admin

from .models import ChatLink, LinkCode, MessengerBot


@admin.register(MessengerBot)
class MessengerBotAdmin(admin.ModelAdmin):
    # The token is a secret: never listed, never shown in the form (the manager's page sets it).
    list_display = ["shop", "kind", "enabled", "bot_username", "checked_at"]
    list_filter = ["kind", "enabled"]
    list_select_related = ["shop"]
    search_fields = ["shop__name", "bot_username"]
    exclude = ["token"]
    readonly_fields = ["bot_username", "checked_at", "updates_marker"]


@admin.register(ChatLink)
class ChatLinkAdmin(admin.ModelAdmin):
    list_display = ["membership", "kind", "state", "on_duty", "linked_at", "broken_at"]
    list_filter = ["kind", "state", "on_duty"]
    list_select_related = ["membership__user", "membership__shop"]
    search_fields = ["membership__user__last_name", "chat_name"]
    readonly_fields = ["chat_id", "linked_at", "broken_at", "broken_reason"]


@admin.register(LinkCode)
class LinkCodeAdmin(admin.ModelAdmin):
    list_display = ["membership", "kind", "expires_at", "used_at"]
    list_select_related = ["membership__user"]
    exclude = ["code"]
    readonly_fields = ["expires_at", "used_at"]
