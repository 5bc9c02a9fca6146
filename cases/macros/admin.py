from django.contrib import admin

from cases.macros.models import Macro


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ["name", "set_status", "add_tags", "is_active", "updated_at"]
    list_filter = ["is_active", "set_status"]
    search_fields = ["name", "body"]
    fields = ["name", "body", "set_status", "add_tags", "is_active"]
