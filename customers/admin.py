from django.contrib import admin

from .models import Car, Customer, CustomerEvent, CustomerPhone


class CustomerPhoneInline(admin.TabularInline):
    model = CustomerPhone
    extra = 0
    exclude = ["shop"]


class CarInline(admin.TabularInline):
    model = Car
    extra = 0
    exclude = ["shop"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "shop", "manager", "last_seen_at"]
    list_filter = ["shop"]
    search_fields = ["name", "phones__phone", "cars__plate", "cars__vin"]
    raw_id_fields = ["consent", "merged_into", "manager"]
    readonly_fields = ["page_token", "created_at"]
    inlines = [CustomerPhoneInline, CarInline]


@admin.register(CustomerEvent)
class CustomerEventAdmin(admin.ModelAdmin):
    list_display = ["customer", "kind", "actor", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["customer", "actor"]
    readonly_fields = ["created_at"]
