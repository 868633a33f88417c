"""Deterministic demo data for a realistic online shop with planted personas.

    python -m segmentation_pipeline.demo_data --users 20000 --seed 42 --out data/landing

writes `users`, `orders`, `order_items`, `reviews` and `events/part-*` to the
landing folder and the hidden truth (`user_personas.csv`: user_id, persona) to a
separate folder (default: the `demo_truth` sibling of the landing folder).

Determinism: users are generated in fixed-size blocks of BLOCK_USERS. The
catalogue uses `SeedSequence(seed).spawn(2)[0]`, block b uses
`SeedSequence(seed).spawn(2)[1].spawn(...)[b]` (constructed directly via
`spawn_key`), and blocks are processed in order, so the files depend only on
the seed, the number of users and the as-of date - never on the wall clock.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa

from segmentation_pipeline.demo_data.catalog import build_catalog
from segmentation_pipeline.demo_data.events import generate_events
from segmentation_pipeline.demo_data.orders import generate_orders
from segmentation_pipeline.demo_data.personas import PERSONA_NAMES, PersonaArrays
from segmentation_pipeline.demo_data.reviews import generate_reviews
from segmentation_pipeline.demo_data.timeline import end_of_day
from segmentation_pipeline.demo_data.users import generate_users
from segmentation_pipeline.demo_data.writer import LandingWriter, write_truth

__all__ = ["generate", "PERSONA_NAMES", "BLOCK_USERS", "DEFAULT_AS_OF"]

BLOCK_USERS = 50_000
DEFAULT_AS_OF = "2026-06-30"


def default_truth_dir(out_dir: str | Path) -> Path:
    """`data/landing` -> `data/demo_truth`."""
    return Path(out_dir).resolve().parent / "demo_truth"


def block_rng(seed: int, block: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, block)))


def generate(
    users: int,
    seed: int = 42,
    out_dir: str | Path = "data/landing",
    truth_dir: str | Path | None = None,
    as_of: str | dt.date = DEFAULT_AS_OF,
    fmt: str = "csv",
    *,
    block_users: int = BLOCK_USERS,
) -> dict:
    """Generate the demo shop and return a summary (row counts, paths, personas).

    `block_users` only exists for tests; changing it changes the random stream.
    """
    if users < 1:
        raise ValueError("users must be >= 1")
    as_of_date = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    end = end_of_day(as_of_date)
    out_dir = Path(out_dir)
    truth_dir = Path(truth_dir) if truth_dir is not None else default_truth_dir(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if truth_dir.resolve().is_relative_to(out_dir.resolve()):
        raise ValueError("the truth folder must not be inside the landing folder")

    params = PersonaArrays()
    catalog = build_catalog(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,))))
    writer = LandingWriter(out_dir, fmt)
    counts = dict.fromkeys(("users", "orders", "order_items", "reviews", "sessions", "events"), 0)
    truth_ids, truth_personas = [], []
    try:
        for block, first in enumerate(range(0, users, block_users)):
            rng = block_rng(seed, block)
            n = min(block_users, users - first)
            ub = generate_users(rng, params, first + 1, n, users, end, as_of_date.year)
            ob = generate_orders(rng, params, catalog, ub, counts["orders"] + 1, end)
            reviews = generate_reviews(rng, params, catalog, ub, ob, counts["reviews"] + 1, end)
            events, n_sessions = generate_events(
                rng, params, catalog, ub, ob, counts["sessions"] + 1, counts["events"] + 1, end
            )
            writer.write("users", ub.table)
            writer.write("orders", ob.orders)
            writer.write("order_items", ob.items)
            writer.write("reviews", reviews)
            writer.write_event_part(events)
            truth_ids.append(ub.user_id)
            truth_personas.append(ub.persona)
            counts["users"] += n
            counts["orders"] += ob.orders.num_rows
            counts["order_items"] += ob.items.num_rows
            counts["reviews"] += reviews.num_rows
            counts["sessions"] += n_sessions
            counts["events"] += events.num_rows
        files = writer.commit()
    except BaseException:
        writer.abort()
        raise

    persona = np.concatenate(truth_personas)
    truth = pa.table(
        {
            "user_id": pa.chunked_array(truth_ids),
            "persona": pa.array(PERSONA_NAMES, pa.string()).take(pa.array(persona)),
        }
    )
    truth_path = write_truth(truth_dir, truth)
    return {
        **counts,
        "event_parts": len(writer.event_parts),
        "personas": {name: int((persona == i).sum()) for i, name in enumerate(PERSONA_NAMES)},
        "seed": seed,
        "as_of": as_of_date.isoformat(),
        "format": fmt,
        "out_dir": str(out_dir),
        "files": files,
        "truth_file": str(truth_path),
    }
