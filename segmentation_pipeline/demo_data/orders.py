"""The `orders` and `order_items` tables.

Amounts are computed in integer cents, so an order's `amount` is exactly the
sum of its items' `quantity * unit_price`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from segmentation_pipeline.demo_data.catalog import Catalog, format_ids
from segmentation_pipeline.demo_data.personas import PersonaArrays, nbinom, pick_rows
from segmentation_pipeline.demo_data.timeline import SESSION_MARGIN, sample_times, to_timestamp
from segmentation_pipeline.demo_data.users import UserBlock

STATUSES = ("completed", "cancelled", "refunded")
ORDER_COLUMNS = ("order_id", "user_id", "ordered_at", "amount", "status", "items")
ITEM_COLUMNS = ("order_id", "product_id", "category", "quantity", "unit_price")
MAX_ITEMS = 8


@dataclass(frozen=True)
class OrderBlock:
    user: np.ndarray  # block-local user index per order
    time: np.ndarray  # epoch seconds of the purchase
    status: np.ndarray  # index into STATUSES
    item_start: np.ndarray  # first row in the items arrays per order
    n_items: np.ndarray
    item_product: np.ndarray  # product index per item row
    item_category: np.ndarray
    order_id: pa.Array
    orders: pa.Table
    items: pa.Table


def generate_orders(
    rng: np.random.Generator,
    pa_: PersonaArrays,
    catalog: Catalog,
    users: UserBlock,
    first_number: int,
    end: int,
) -> OrderBlock:
    p = users.persona
    n_orders = pa_.min_orders[p].astype(np.int64) + nbinom(rng, pa_.orders_mean[p], pa_.orders_r[p])
    user = np.repeat(np.arange(len(users.persona)), n_orders)
    persona = users.persona[user]
    time = sample_times(
        rng,
        users.signup[user] + SESSION_MARGIN,
        users.active_end[user] - SESSION_MARGIN,
        pa_.recent_share[persona],
        end,
    )
    time = time[np.lexsort((time, user))]  # `user` is already sorted
    n = len(user)

    u = rng.random(n)
    cancel, refund = pa_.cancel_rate[persona], pa_.refund_rate[persona]
    status = np.where(u < cancel, 1, np.where(u < cancel + refund, 2, 0))

    # Item lines: several per order, categories drawn from the persona's taste.
    n_items = 1 + np.minimum(rng.poisson(pa_.extra_items[persona]), MAX_ITEMS - 1)
    item_order = np.repeat(np.arange(n), n_items)
    item_start = np.concatenate([[0], np.cumsum(n_items)[:-1]]).astype(np.int64)
    item_persona = persona[item_order]
    category = pick_rows(rng, pa_.categories, item_persona)
    product = catalog.pick(rng, category, pa_.price_tier[item_persona])
    quantity = 1 + np.minimum(rng.poisson(pa_.extra_qty[item_persona]), 9)
    # One line per product in an order (the order_items grain): repeated picks add to the quantity.
    key = item_order.astype(np.int64) * (int(product.max()) + 1) + product
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    if len(first) < len(key):
        keep = np.sort(first)
        quantity = np.bincount(inverse, weights=quantity).astype(np.int64)[inverse[keep]]
        item_order, item_persona = item_order[keep], item_persona[keep]
        category, product = category[keep], product[keep]
        n_items = np.bincount(item_order, minlength=n).astype(n_items.dtype)
        item_start = np.concatenate([[0], np.cumsum(n_items)[:-1]]).astype(np.int64)
    lo, hi = pa_.discount_min[persona], pa_.discount_max[persona]
    discount = np.where(rng.random(n) < 0.8, lo + rng.random(n) * (hi - lo), 1.0)
    unit_cents = np.maximum(1, np.round(catalog.price_cents[product] * discount[item_order])).astype(np.int64)
    amount_cents = np.bincount(item_order, weights=quantity * unit_cents, minlength=n)
    amount_cents = np.round(amount_cents).astype(np.int64)

    order_id = format_ids("o", first_number + np.arange(n, dtype=np.int64), 9)
    orders = pa.table(
        {
            "order_id": order_id,
            "user_id": users.user_id.take(pa.array(user)),
            "ordered_at": to_timestamp(time),
            "amount": pa.array(amount_cents / 100.0, pa.float64()),
            "status": pa.array(STATUSES, pa.string()).take(pa.array(status)),
            "items": pa.array(n_items, pa.int64()),
        }
    )
    items = pa.table(
        {
            "order_id": order_id.take(pa.array(item_order)),
            "product_id": catalog.product_id(product),
            "category": catalog.category(category),
            "quantity": pa.array(quantity, pa.int64()),
            "unit_price": pa.array(unit_cents / 100.0, pa.float64()),
        }
    )
    return OrderBlock(
        user=user,
        time=time,
        status=status,
        item_start=item_start,
        n_items=n_items,
        item_product=product,
        item_category=category,
        order_id=order_id,
        orders=orders,
        items=items,
    )
