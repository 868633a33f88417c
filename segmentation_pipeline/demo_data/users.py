"""The `users` table and each user's hidden persona and active window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from segmentation_pipeline.demo_data.catalog import format_ids
from segmentation_pipeline.demo_data.personas import CHANNELS, PERSONAS, PersonaArrays, pick_rows
from segmentation_pipeline.demo_data.pii import GENDER_WEIGHTS, GENDERS, fake_people
from segmentation_pipeline.demo_data.timeline import DAY, SESSION_MARGIN, to_timestamp

USER_COLUMNS = (
    "user_id", "signup_at", "country", "birth_year", "gender", "acquisition_channel",
    "email", "phone", "full_name", "address",
)


@dataclass(frozen=True)
class UserBlock:
    persona: np.ndarray  # int64 persona index per user
    signup: np.ndarray  # epoch seconds
    active_end: np.ndarray  # epoch seconds; no activity after this
    user_id: pa.Array
    table: pa.Table


def user_id_width(total_users: int) -> int:
    return max(7, len(str(total_users)))


def generate_users(
    rng: np.random.Generator,
    pa_: PersonaArrays,
    first_number: int,
    n: int,
    total_users: int,
    end: int,
    as_of_year: int,
) -> UserBlock:
    numbers = np.arange(first_number, first_number + n, dtype=np.int64)
    shares = np.array([p.share for p in PERSONAS])
    persona = rng.choice(len(PERSONAS), n, p=shares / shares.sum()).astype(np.int64)

    inactive = pa_.inactive_min[persona] + rng.random(n) * (pa_.inactive_max - pa_.inactive_min)[persona]
    active_end = end - (inactive * DAY).astype(np.int64)
    tenure = pa_.tenure_min[persona] + rng.random(n) * (pa_.tenure_max - pa_.tenure_min)[persona]
    signup = active_end - (tenure * DAY).astype(np.int64)
    # Everybody signs up early enough for one full session before the end.
    signup = np.minimum(signup, active_end - 2 * SESSION_MARGIN)

    age = np.clip(np.round(rng.normal(pa_.age_mean[persona], 11.0)), 18, 85).astype(np.int64)
    birth_year = as_of_year - age - (rng.random(n) < 0.5)
    gender = rng.choice(len(GENDERS), n, p=np.array(GENDER_WEIGHTS) / sum(GENDER_WEIGHTS))
    channel = pick_rows(rng, pa_.channels, persona)
    people = fake_people(rng, numbers, gender)

    user_id = format_ids("u", numbers, user_id_width(total_users))
    table = pa.table(
        {
            "user_id": user_id,
            "signup_at": to_timestamp(signup),
            "country": people["country"],
            "birth_year": pa.array(birth_year, pa.int64()),
            "gender": pa.array(GENDERS, pa.string()).take(pa.array(gender)),
            "acquisition_channel": pa.array(CHANNELS, pa.string()).take(pa.array(channel)),
            "email": people["email"],
            "phone": people["phone"],
            "full_name": people["full_name"],
            "address": people["address"],
        }
    )
    assert tuple(table.column_names) == USER_COLUMNS
    return UserBlock(persona, signup, active_end, user_id, table)
