"""The `reviews` table: ratings with short template texts that match them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmentation_pipeline.demo_data.catalog import Catalog, format_ids
from segmentation_pipeline.demo_data.orders import OrderBlock
from segmentation_pipeline.demo_data.personas import PersonaArrays, pick_rows
from segmentation_pipeline.demo_data.timeline import DAY, HOUR, to_timestamp
from segmentation_pipeline.demo_data.users import UserBlock

REVIEW_COLUMNS = ("review_id", "user_id", "product_id", "rating", "text", "created_at")

# (openers, details) per rating 1..5; a text is "<opener>, <detail>".
TEMPLATES = {
    1: (
        ("Terrible", "Very disappointed", "Complete waste of money", "Awful quality", "Do not buy"),
        ("broke after a week", "arrived damaged", "nothing like the pictures",
         "customer service never replied", "returned it straight away", "stopped working after two days"),
    ),
    2: (
        ("Not great", "Rather disappointing", "Poor value", "Below expectations", "Meh"),
        ("cheap materials", "delivery took ages", "smaller than described",
         "started falling apart quickly", "the colour was off", "would not buy again"),
    ),
    3: (
        ("It's okay", "Average product", "Decent but not great", "Does the job", "Mixed feelings"),
        ("delivery was a bit slow", "a bit overpriced", "quality could be better",
         "fine for the price", "nothing special", "packaging was damaged but item fine"),
    ),
    4: (
        ("Good quality", "Very nice", "Happy with it", "Solid product", "Pretty good"),
        ("fast delivery", "good value for money", "works as described",
         "minor flaws but recommended", "nice design", "would buy again"),
    ),
    5: (
        ("Great quality", "Absolutely love it", "Excellent product", "Exceeded my expectations",
         "Perfect", "Fantastic value"),
        ("fast delivery", "highly recommend", "works exactly as described", "arrived well packaged",
         "my family loves it", "best purchase this year"),
    ),
}


def _phrase_table(which: int) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """All phrases of one kind in one array, with offset and count per rating."""
    lists = [TEMPLATES[r][which] for r in range(1, 6)]
    sizes = np.array([len(x) for x in lists])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return pa.array([p for x in lists for p in x], pa.string()), offsets, sizes


def review_texts(rng: np.random.Generator, rating: np.ndarray) -> pa.Array:
    parts = []
    for which in (0, 1):
        phrases, offsets, sizes = _phrase_table(which)
        r = rating - 1
        idx = offsets[r] + (rng.random(len(rating)) * sizes[r]).astype(np.int64)
        parts.append(phrases.take(pa.array(idx)))
    return pc.binary_join_element_wise(
        pc.binary_join_element_wise(parts[0], parts[1], ", "), ".", ""
    )


def generate_reviews(
    rng: np.random.Generator,
    pa_: PersonaArrays,
    catalog: Catalog,
    users: UserBlock,
    orders: OrderBlock,
    first_number: int,
    end: int,
) -> pa.Table:
    persona = users.persona[orders.user]
    n = len(persona)
    # Reviews come a few days after the order (delivery); recent orders may not
    # have one yet, cancelled orders never do.
    delay = (1.0 + rng.lognormal(np.log(4.0), 0.7, n)) * DAY + rng.integers(0, 12 * HOUR, n)
    created = orders.time + delay.astype(np.int64)
    wants = rng.random(n) < pa_.review_rate[persona]
    keep = wants & (orders.status != 1) & (created <= end)

    rating = 1 + pick_rows(rng, pa_.ratings, persona)
    # A refunded order rarely earns more than two stars.
    rating = np.where(orders.status == 2, np.minimum(rating, 1 + rng.integers(0, 2, n)), rating)
    item = orders.item_start + (rng.random(n) * orders.n_items).astype(np.int64)

    idx = np.flatnonzero(keep)
    rating, product, created = rating[idx], orders.item_product[item[idx]], created[idx]
    return pa.table(
        {
            "review_id": format_ids("r", first_number + np.arange(len(idx), dtype=np.int64), 9),
            "user_id": users.user_id.take(pa.array(orders.user[idx])),
            "product_id": catalog.product_id(product),
            "rating": pa.array(rating, pa.int64()),
            "text": review_texts(rng, rating),
            "created_at": to_timestamp(created),
        }
    )
