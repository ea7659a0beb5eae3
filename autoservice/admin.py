from django.contrib import admin

from .models import Membership, Shop


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["created_at"]


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "region", "phone", "is_active", "created_at"]
    list_filter = ["is_active", "region", "timezone"]
    search_fields = ["name", "slug", "address", "phone", "email"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "shop", "role", "created_at"]
    list_filter = ["role", "shop"]
    list_select_related = ["user", "shop"]
    search_fields = ["user__username", "user__email", "user__last_name", "shop__name"]
    autocomplete_fields = ["user", "shop"]
    readonly_fields = ["created_at"]
