"""Product types by SKU, read from the shop's products export."""

from __future__ import annotations

from django.contrib import admin

from refunds.models import CatalogVariant


@admin.register(CatalogVariant)
class CatalogVariantAdmin(admin.ModelAdmin):
    list_display = ["sku", "product_type", "product_title", "updated_at"]
    list_filter = ["product_type"]
    search_fields = ["sku", "product_type", "product_title"]
