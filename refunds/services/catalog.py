"""Product types by SKU, imported from Shopify's products export."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from typing import IO

from django.db import transaction
from django.utils import timezone

from refunds.models import CatalogVariant
from supportdesk.errors import DomainError

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("Handle", "Type", "Variant SKU")


@dataclass
class CatalogSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    without_sku: int = 0


def product_types_import(stream: IO[bytes]) -> CatalogSummary:
    """Store the product type of every SKU in a Shopify products export.

    The export has one row per variant. Only a product's first row fills
    "Title" and "Type", and later rows of the same "Handle" leave them blank.
    Those rows take the type from the first. Rows without a SKU are counted
    and skipped, because order lines are matched to types by SKU.
    """
    try:
        text = stream.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DomainError(
            f"The products file is not UTF-8 (byte offset {exc.start}). Export it "
            "again from the shop."
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [
        name for name in REQUIRED_COLUMNS if name not in (reader.fieldnames or [])
    ]
    if missing:
        raise DomainError(
            f"The products file lacks the column(s) {', '.join(missing)}. Use the "
            "shop's products export."
        )
    summary = CatalogSummary()
    products: dict[str, tuple[str, str]] = {}
    types: dict[str, tuple[str, str]] = {}
    for row in reader:
        handle = row["Handle"].strip()
        if handle not in products or row.get("Title", "").strip():
            products[handle] = (row.get("Title", "").strip(), row["Type"].strip())
        sku = row["Variant SKU"].strip().lstrip("'")
        if not sku:
            summary.without_sku += 1
            continue
        title, product_type = products[handle]
        types[sku] = (product_type[:255], title[:255])

    with transaction.atomic():
        existing = {v.sku: v for v in CatalogVariant.objects.filter(sku__in=types)}
        to_create, to_update = [], []
        for sku, (product_type, title) in types.items():
            variant = existing.get(sku)
            if variant is None:
                to_create.append(
                    CatalogVariant(
                        sku=sku, product_type=product_type, product_title=title
                    )
                )
            elif (variant.product_type, variant.product_title) != (product_type, title):
                variant.product_type, variant.product_title = product_type, title
                variant.updated_at = timezone.now()
                to_update.append(variant)
            else:
                summary.unchanged += 1
        CatalogVariant.objects.bulk_create(to_create, batch_size=500)
        CatalogVariant.objects.bulk_update(
            to_update, ["product_type", "product_title", "updated_at"], batch_size=500
        )
    summary.created, summary.updated = len(to_create), len(to_update)
    logger.info(
        "Imported product types for %s SKUs", len(types), extra=summary.__dict__
    )
    return summary
