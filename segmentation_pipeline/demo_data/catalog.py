"""The product catalogue: products per category with heavy-tailed list prices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmentation_pipeline.demo_data.personas import CATEGORIES

PRODUCTS_PER_CATEGORY = 250

# (median list price in EUR, lognormal sigma) per category, order of CATEGORIES.
PRICE_PARAMS = {
    "electronics": (110.0, 0.8),
    "fashion": (38.0, 0.6),
    "home": (32.0, 0.7),
    "beauty": (16.0, 0.55),
    "sports": (42.0, 0.7),
    "books": (13.0, 0.4),
    "toys": (21.0, 0.6),
    "grocery": (6.0, 0.5),
    "garden": (28.0, 0.7),
    "jewelry": (85.0, 0.75),
}


@dataclass(frozen=True)
class Catalog:
    """Products sorted by category, then by price (cheapest first)."""

    price_cents: np.ndarray  # int64, one per product
    product_ids: pa.Array  # string, one per product ("p00001" ...)
    category_names: pa.Array  # string, one per category

    def pick(self, rng: np.random.Generator, category: np.ndarray, tier: np.ndarray) -> np.ndarray:
        """One product index per row: within `category`, position u**tier
        along the price ladder (tier > 1 favours cheap products, < 1 pricey ones)."""
        u = rng.random(len(category)) ** tier
        within = np.minimum((u * PRODUCTS_PER_CATEGORY).astype(np.int64), PRODUCTS_PER_CATEGORY - 1)
        return category * PRODUCTS_PER_CATEGORY + within

    def product_id(self, product: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
        mask = None if valid is None else ~valid
        return self.product_ids.take(pa.array(product, mask=mask))

    def category(self, category: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
        mask = None if valid is None else ~valid
        return self.category_names.take(pa.array(category, mask=mask))


def build_catalog(rng: np.random.Generator) -> Catalog:
    prices = []
    for name in CATEGORIES:
        median, sigma = PRICE_PARAMS[name]
        p = np.exp(rng.normal(np.log(median), sigma, PRODUCTS_PER_CATEGORY))
        # Shop-style prices: x.99 / x.49 endings, at least 0.99.
        p = np.maximum(np.floor(p), 0) + np.where(rng.random(PRODUCTS_PER_CATEGORY) < 0.7, 0.99, 0.49)
        prices.append(np.sort(np.round(p * 100).astype(np.int64)))
    n = PRODUCTS_PER_CATEGORY * len(CATEGORIES)
    return Catalog(
        price_cents=np.concatenate(prices),
        product_ids=format_ids("p", rng.permutation(n) + 1, 5),  # ids do not reveal price
        category_names=pa.array(CATEGORIES, pa.string()),
    )


def format_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Vectorised `f"{prefix}{n:0{width}d}"` (wider numbers are not truncated)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")
