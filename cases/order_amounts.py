"""The amounts of one parsed order: discounts, taxes and totals per line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from supportdesk.money import allocate, from_minor

if TYPE_CHECKING:
    from cases.shopify_export import ParsedOrder


def allocate_order_amounts(order: ParsedOrder) -> int:
    """Share discounts, taxes and rounding out to the lines; return what is left.

    Shopify's totals obey: total = sum(price × quantity) − discount amount +
    shipping + duties + taxes, where taxes are left out when the prices
    already include them. The Subtotal is the items' value after their
    discounts (tips excluded), so the part of the discount amount that the
    Subtotal does not explain was taken off shipping. Without a Subtotal, or
    when shipping is too small for that part, the discount goes to the items
    first and only what exceeds them to shipping.

    The items' discount is shared in proportion to each line's value after
    its own discount, and taxes charged on top go to the taxable lines in
    proportion to their value after discounts. A difference of up to one minor
    unit per line is rounding and is shared over the lines. The return value
    is the rest of the difference between the file's Total and the sum of the
    lines, shipping and duties: 0 when the order adds up.
    """
    lines = order.lines
    gross = [line.unit_price_minor * line.quantity for line in lines]
    own_discounts = [
        min(line.line_discount_minor, value)
        for line, value in zip(lines, gross, strict=True)
    ]
    after_own = [value - own for value, own in zip(gross, own_discounts, strict=True)]
    # Tips are outside the Subtotal and take no share of the discount.
    weights = [
        0 if line.is_tip else value
        for line, value in zip(lines, after_own, strict=True)
    ]
    # NOTE: no real export at hand has a non-zero Lineitem discount, so the
    # assumption that the Discount Amount includes it is untested on real data.
    order_discount = max(0, order.discount_minor - sum(own_discounts))
    on_items = min(order_discount, sum(weights))
    if order.subtotal_minor is not None:
        explained = sum(weights) - order.subtotal_minor
        rest = order_discount - explained
        if 0 <= explained <= on_items and rest <= order.shipping_minor:
            on_items = explained
    on_shipping = min(order_discount - on_items, order.shipping_minor)
    order.shipping_minor -= on_shipping

    shared = allocate(on_items, weights)
    nets = [value - share for value, share in zip(after_own, shared, strict=True)]
    for line, own, share in zip(lines, own_discounts, shared, strict=True):
        line.discount_minor = own + share

    charges_without_tax = sum(nets) + order.shipping_minor + order.duties_minor
    if order.total_minor is None:
        order.total_minor = charges_without_tax + order.taxes_minor
    order.taxes_included = (
        order.taxes_minor > 0 and order.total_minor == charges_without_tax
    )
    # NOTE: tax charged on shipping is shared over the lines too, because the
    # export does not say how much of Taxes was on shipping.
    added_tax = 0 if order.taxes_included else order.taxes_minor
    tax_weights = [
        net if line.taxable and not line.is_tip else 0
        for line, net in zip(lines, nets, strict=True)
    ]
    if not any(tax_weights):
        tax_weights = nets
    taxes = allocate(added_tax, tax_weights)
    for line, net, tax in zip(lines, nets, taxes, strict=True):
        line.tax_minor = tax
        line.total_minor = net + tax

    residue = order.total_minor - (charges_without_tax + added_tax)
    line_totals = [line.total_minor for line in lines]
    if 0 < abs(residue) <= len(lines) and residue + sum(line_totals) >= 0:
        for line, share in zip(lines, allocate(residue, line_totals), strict=True):
            line.total_minor += share
            line.discount_minor -= share
        residue = 0
    return residue


def total_mismatch(order: ParsedOrder, residue: int) -> str:
    """Return the error message for an order whose Total does not add up."""

    def amount(minor: int) -> str:
        return str(from_minor(minor, order.currency))

    if order.total_minor is None:
        raise ValueError(
            f"Order {order.number} has no Total; call allocate_order_amounts() first."
        )
    items = sum(line.unit_price_minor * line.quantity for line in order.lines)
    expected = order.total_minor - residue
    if order.taxes_included:
        taxes = "the taxes included in the prices"
    else:
        taxes = f"taxes ({amount(order.taxes_minor)})"
    return (
        f"Order {order.number}: the Total {amount(order.total_minor)} does not add "
        f"up. The items ({amount(items)}) less the discount "
        f"({amount(order.discount_minor)}) plus shipping "
        f"({amount(order.shipping_minor)}), duties ({amount(order.duties_minor)}) "
        f"and {taxes} come to {amount(expected)}. Check this order's amounts in the "
        "shop and export it again."
    )
