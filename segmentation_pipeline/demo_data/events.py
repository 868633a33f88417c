"""The `events` table: clickstream sessions.

Every user has a signup session (starting at signup), some browse sessions, and
one session per order that ends add_to_cart -> checkout -> purchase, with the
purchase event at exactly the order's `ordered_at`. Some browse sessions end in
an abandoned checkout. All shapes are built with flat numpy arrays.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from segmentation_pipeline.demo_data.catalog import Catalog, format_ids
from segmentation_pipeline.demo_data.orders import OrderBlock
from segmentation_pipeline.demo_data.personas import PersonaArrays, nbinom, pick_rows
from segmentation_pipeline.demo_data.timeline import SESSION_MARGIN, sample_times, to_timestamp
from segmentation_pipeline.demo_data.users import UserBlock

EVENT_TYPES = ("page_view", "product_view", "search", "add_to_cart", "checkout", "purchase", "login")
PAGE_VIEW, PRODUCT_VIEW, SEARCH, ADD_TO_CART, CHECKOUT, PURCHASE, LOGIN = range(7)
EVENT_COLUMNS = (
    "event_id", "user_id", "session_id", "event_type", "occurred_at",
    "product_id", "category", "duration_seconds",
)
MAX_MID_EVENTS = 24
MAX_GAP_SECONDS = 300  # (1 + 24 + 3) events * 300 s stays below SESSION_MARGIN
LOGIN_SHARE = 0.4


def _starts(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)


def _sessions(
    rng: np.random.Generator, pa_: PersonaArrays, users: UserBlock, orders: OrderBlock, end: int
) -> dict[str, np.ndarray]:
    """Session-level arrays, ordered by user, then by anchor time (the start of a
    browse session, the purchase time of an order session)."""
    p = users.persona
    n_browse = 1 + pa_.min_browse[p].astype(np.int64) + nbinom(rng, pa_.browse_mean[p], pa_.browse_r[p])
    b_user = np.repeat(np.arange(len(p)), n_browse)
    b_start = sample_times(
        rng, users.signup[b_user], users.active_end[b_user] - SESSION_MARGIN, pa_.recent_share[p[b_user]], end
    )
    b_start[_starts(n_browse)] = users.signup + rng.integers(0, 60, len(p))  # the signup session

    user = np.concatenate([b_user, orders.user])
    order = np.concatenate([np.full(len(b_user), -1), np.arange(len(orders.user))])
    anchor = np.concatenate([b_start, orders.time])  # start, or purchase time for orders
    perm = np.lexsort((anchor, user))
    user, order, anchor = user[perm], order[perm], anchor[perm]
    persona = p[user]
    is_order = order >= 0
    n_mid = 1 + np.minimum(rng.poisson(pa_.mid_events[persona]), MAX_MID_EVENTS - 1)
    abandoned = ~is_order & (rng.random(len(user)) < pa_.abandon_rate[persona])
    return {
        "user": user, "order": order, "anchor": anchor, "persona": persona,
        "is_order": is_order, "abandoned": abandoned,
        "n_events": 1 + n_mid + 3 * is_order + 2 * abandoned,
    }


def generate_events(
    rng: np.random.Generator,
    pa_: PersonaArrays,
    catalog: Catalog,
    users: UserBlock,
    orders: OrderBlock,
    first_session: int,
    first_event: int,
    end: int,
) -> tuple[pa.Table, int]:
    s = _sessions(rng, pa_, users, orders, end)
    n_sessions, n_ev = len(s["user"]), s["n_events"]

    # --- events, flat: position from the start and from the end of a session
    ev_sess = np.repeat(np.arange(n_sessions), n_ev)
    sess_first = _starts(n_ev)
    pos = np.arange(len(ev_sess)) - sess_first[ev_sess]
    rpos = n_ev[ev_sess] - 1 - pos
    ev_persona = s["persona"][ev_sess]

    etype = pick_rows(rng, pa_.mix, ev_persona)  # page/product view, search, cart
    etype[sess_first] = np.where(rng.random(n_sessions) < LOGIN_SHARE, LOGIN, PAGE_VIEW)
    m_order = s["is_order"][ev_sess] & (rpos < 3)
    etype[m_order] = np.array([PURCHASE, CHECKOUT, ADD_TO_CART])[rpos[m_order]]
    m_abandon = s["abandoned"][ev_sess] & (rpos < 2)
    etype[m_abandon] = np.array([CHECKOUT, ADD_TO_CART])[rpos[m_abandon]]

    category = pick_rows(rng, pa_.categories, ev_persona)
    product = catalog.pick(rng, category, pa_.price_tier[ev_persona])
    # The cart event of an order session adds the order's first item.
    m_cart = np.flatnonzero(m_order & (rpos == 2))
    first_item = orders.item_start[s["order"][ev_sess[m_cart]]]
    product[m_cart] = orders.item_product[first_item]
    category[m_cart] = orders.item_category[first_item]
    del m_order, m_abandon, m_cart, first_item

    # --- timing: gaps within a session; order sessions end at the order time
    gap = np.minimum(2 + rng.exponential(pa_.gap_seconds[ev_persona]), MAX_GAP_SECONDS).astype(np.int64)
    del ev_persona, pos
    gap[sess_first] = 0
    offset = np.cumsum(gap)
    offset -= offset[sess_first][ev_sess]
    last_offset = offset[sess_first + n_ev - 1]
    start = np.where(s["is_order"], s["anchor"] - last_offset, s["anchor"])
    occurred = start[ev_sess] + offset
    del offset
    duration = np.empty_like(gap)  # time until the next event; a dwell time for the last
    duration[:-1] = gap[1:]
    last = np.flatnonzero(rpos == 0)
    duration[last] = 3 + rng.exponential(30.0, len(last)).astype(np.int64)
    del gap, rpos, last

    has_product = (etype == PRODUCT_VIEW) | (etype == ADD_TO_CART)
    has_category = has_product | (etype == SEARCH)
    session_ids = format_ids("s", first_session + np.arange(n_sessions, dtype=np.int64), 10)
    table = pa.table(
        {
            "event_id": format_ids("e", first_event + np.arange(len(ev_sess), dtype=np.int64), 10),
            "user_id": users.user_id.take(pa.array(s["user"][ev_sess])),
            "session_id": session_ids.take(pa.array(ev_sess)),
            "event_type": pa.array(EVENT_TYPES, pa.string()).take(pa.array(etype)),
            "occurred_at": to_timestamp(occurred),
            "product_id": catalog.product_id(product, has_product),
            "category": catalog.category(category, has_category),
            "duration_seconds": pa.array(duration, pa.int64()),
        }
    )
    return table, n_sessions
