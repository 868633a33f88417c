"""Planted behavioural personas of the demo shop.

Each persona is a set of distribution parameters. `persona_arrays()` turns the
list into numpy arrays indexed by persona id, so the generators can look up
per-user parameters with fancy indexing instead of Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

CATEGORIES = (
    "electronics", "fashion", "home", "beauty", "sports",
    "books", "toys", "grocery", "garden", "jewelry",
)


@dataclass(frozen=True)
class Persona:
    name: str
    share: float
    # Lifetime: signup lies `tenure_days` before the end of activity; activity
    # ends `inactive_days` before as-of (0 = still active).
    tenure_min: float
    tenure_max: float
    inactive_min: float
    inactive_max: float
    # Counts: a floor plus a negative binomial with this mean and dispersion r,
    # for orders and for browse sessions (besides the signup session).
    min_orders: float
    min_browse: float
    orders_mean: float
    orders_r: float
    browse_mean: float
    browse_r: float
    # Share of sessions/orders placed in the last 90 days (the rest is spread
    # uniformly over the whole active window).
    recent_share: float
    # Session shape: extra middle events ~ Poisson, mean gap between events (s),
    # chance that a browse session contains an abandoned checkout.
    mid_events: float
    gap_seconds: float
    abandon_rate: float
    # Middle-event mix: page_view, product_view, search, add_to_cart.
    mix: tuple[float, float, float, float]
    # Basket: extra item lines ~ Poisson, extra quantity ~ Poisson, price tier
    # exponent (>1 cheap products, <1 expensive ones), discount range.
    extra_items: float
    extra_qty: float
    price_tier: float
    discount_min: float
    discount_max: float
    # Order outcome and reviews.
    cancel_rate: float
    refund_rate: float
    review_rate: float
    ratings: tuple[float, float, float, float, float]
    # Category preference weights (order of CATEGORIES).
    categories: tuple[float, ...]
    # Demographics: mean age, acquisition channel weights (order of CHANNELS).
    age_mean: float
    channels: tuple[float, ...]


CHANNELS = ("organic_search", "paid_search", "social", "referral", "email", "affiliate", "direct")

PERSONAS: tuple[Persona, ...] = (
    # vip: frequent buyer of pricey items, recent, many quick sessions, glowing reviews
    Persona(
        name="vip", share=0.10,
        tenure_min=400, tenure_max=1400, inactive_min=0, inactive_max=0,
        min_orders=8, orders_mean=10, orders_r=10, min_browse=2, browse_mean=3, browse_r=6,
        recent_share=0.4,
        mid_events=1.5, gap_seconds=40, abandon_rate=0.03, mix=(0.25, 0.55, 0.12, 0.08),
        extra_items=1.3, extra_qty=0.3, price_tier=0.5, discount_min=0.95, discount_max=1.0,
        cancel_rate=0.02, refund_rate=0.02, review_rate=0.35, ratings=(0.01, 0.02, 0.05, 0.27, 0.65),
        categories=(0.22, 0.2, 0.12, 0.1, 0.08, 0.04, 0.03, 0.02, 0.05, 0.14),
        age_mean=44, channels=(0.3, 0.1, 0.05, 0.2, 0.2, 0.0, 0.15),
    ),
    # bargain_hunter: many small discounted cheap orders, many refunds, searches, harsh reviews
    Persona(
        name="bargain_hunter", share=0.20,
        tenure_min=200, tenure_max=1100, inactive_min=0, inactive_max=0,
        min_orders=3, orders_mean=5, orders_r=8, min_browse=2, browse_mean=2, browse_r=5,
        recent_share=0.4,
        mid_events=2.0, gap_seconds=25, abandon_rate=0.05, mix=(0.2, 0.4, 0.35, 0.05),
        extra_items=1.0, extra_qty=0.5, price_tier=4.0, discount_min=0.5, discount_max=0.85,
        cancel_rate=0.05, refund_rate=0.25, review_rate=0.2, ratings=(0.15, 0.2, 0.3, 0.22, 0.13),
        categories=(0.02, 0.1, 0.08, 0.18, 0.04, 0.14, 0.12, 0.28, 0.04, 0.0),
        age_mean=36, channels=(0.15, 0.15, 0.15, 0.05, 0.15, 0.3, 0.05),
    ),
    # newcomer: signed up in the last 30 days, 0-2 orders, a few sessions
    Persona(
        name="newcomer", share=0.15,
        tenure_min=0.2, tenure_max=30, inactive_min=0, inactive_max=0,
        min_orders=0, orders_mean=0.65, orders_r=50, min_browse=0, browse_mean=2.0, browse_r=5,
        recent_share=1.0,
        mid_events=2.0, gap_seconds=45, abandon_rate=0.05, mix=(0.4, 0.35, 0.2, 0.05),
        extra_items=0.5, extra_qty=0.2, price_tier=1.0, discount_min=0.85, discount_max=1.0,
        cancel_rate=0.04, refund_rate=0.02, review_rate=0.15, ratings=(0.05, 0.07, 0.2, 0.35, 0.33),
        categories=(0.12, 0.16, 0.12, 0.12, 0.1, 0.1, 0.08, 0.08, 0.06, 0.06),
        age_mean=29, channels=(0.15, 0.25, 0.35, 0.1, 0.0, 0.1, 0.05),
    ),
    # lapsed: bought regularly 1-3 years ago, nothing at all in the last 200+ days
    Persona(
        name="lapsed", share=0.25,
        tenure_min=250, tenure_max=900, inactive_min=200, inactive_max=600,
        min_orders=2, orders_mean=2.5, orders_r=8, min_browse=0, browse_mean=1.5, browse_r=4,
        recent_share=0.0,
        mid_events=1.2, gap_seconds=45, abandon_rate=0.03, mix=(0.35, 0.4, 0.2, 0.05),
        extra_items=1.0, extra_qty=0.3, price_tier=1.0, discount_min=0.85, discount_max=1.0,
        cancel_rate=0.04, refund_rate=0.06, review_rate=0.1, ratings=(0.08, 0.1, 0.22, 0.35, 0.25),
        categories=(0.12, 0.15, 0.15, 0.1, 0.12, 0.1, 0.08, 0.08, 0.06, 0.04),
        age_mean=41, channels=(0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1),
    ),
    # window_shopper: long sessions of views, carts, abandoned checkouts; almost never buys
    Persona(
        name="window_shopper", share=0.30,
        tenure_min=180, tenure_max=900, inactive_min=0, inactive_max=0,
        min_orders=0, orders_mean=0.08, orders_r=50, min_browse=4, browse_mean=3.0, browse_r=6,
        recent_share=0.5,
        mid_events=3.0, gap_seconds=50, abandon_rate=0.15, mix=(0.12, 0.5, 0.1, 0.28),
        extra_items=0.3, extra_qty=0.1, price_tier=1.0, discount_min=0.9, discount_max=1.0,
        cancel_rate=0.05, refund_rate=0.03, review_rate=0.3, ratings=(0.05, 0.1, 0.25, 0.35, 0.25),
        categories=(0.2, 0.25, 0.12, 0.1, 0.08, 0.05, 0.05, 0.02, 0.05, 0.08),
        age_mean=31, channels=(0.25, 0.1, 0.35, 0.05, 0.05, 0.05, 0.15),
    ),
)

PERSONA_NAMES: tuple[str, ...] = tuple(p.name for p in PERSONAS)


class PersonaArrays:
    """Every numeric Persona field as an array indexed by persona id."""

    def __init__(self, personas: tuple[Persona, ...] = PERSONAS):
        for f in fields(Persona):
            if f.name == "name":
                continue
            values = np.array([getattr(p, f.name) for p in personas], dtype=np.float64)
            if values.ndim == 2:  # probability vectors -> normalised cumulative rows
                values = np.cumsum(values / values.sum(axis=1, keepdims=True), axis=1)
                values[:, -1] = 1.0
            setattr(self, f.name, values)


def pick_rows(rng: np.random.Generator, cum: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Sample one column index per entry of `rows` from cumulative rows `cum[rows]`."""
    u = rng.random(len(rows))
    out = np.empty(len(rows), dtype=np.int64)
    for k in range(cum.shape[0]):  # loop over personas, not rows
        mask = rows == k
        out[mask] = np.searchsorted(cum[k], u[mask], side="right")
    return np.minimum(out, cum.shape[1] - 1)


def nbinom(rng: np.random.Generator, mean: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Negative binomial counts with the given mean and dispersion (vectorised)."""
    return rng.negative_binomial(r, r / (r + mean)).astype(np.int64)
