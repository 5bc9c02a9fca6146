"""Product types by SKU, read from the shop's products export."""

from __future__ import annotations

from django.db import models


class CatalogVariant(models.Model):
    """The product type of one SKU.

    Shopify's orders export names the SKU of each line item but not its
    product type, so the type comes from the products export (its "Type" and
    "Variant SKU" columns), loaded with ``manage.py import_product_types``.
    """

    sku = models.CharField(max_length=200, unique=True)
    product_type = models.CharField(max_length=255, blank=True)
    product_title = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} ({self.product_type or 'no type'})"
