"""The pipeline labels churn in DuckDB (`churn_labels_sql`) with the rule of the pandas
`churn_labels` the models were validated with: the two must agree user for user."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from segmentation_pipeline.churn import churn_labels_sql
from segmentation_pipeline.ml import churn_labels

CUTOFF, HORIZON = date(2026, 4, 1), 30  # window: days 2026-04-02 .. 2026-05-01

ORDERS = [  # user, ordered_at, status: what decides the label
    ("on_cutoff_day", "2026-04-01 23:59:59", "completed"),  # before the window: churned
    ("first_day", "2026-04-02 00:00:00", "completed"),  # in: retained
    ("last_day", "2026-05-01 23:59:59", "completed"),  # in: retained
    ("after", "2026-05-02 00:00:00", "completed"),  # after: churned
    ("cancelled", "2026-04-10 10:00:00", "cancelled"),  # not completed: churned
    ("refunded", "2026-04-10 10:00:00", "refunded"),  # churned
    ("blank_status", "2026-04-10 10:00:00", None),  # blank counts as completed: retained
    ("mixed", "2026-04-10 10:00:00", "cancelled"),
    ("mixed", "2026-04-11 10:00:00", "completed"),  # one completed order suffices: retained
]
USERS = ["on_cutoff_day", "first_day", "last_day", "after", "cancelled", "refunded", "blank_status", "mixed",
         "never_ordered"]


def test_sql_labels_equal_the_pandas_rule():
    orders = pd.DataFrame(ORDERS, columns=["user_id", "ordered_at", "status"])
    orders["ordered_at"] = pd.to_datetime(orders["ordered_at"])
    expected = churn_labels(orders, USERS, CUTOFF, HORIZON)

    with duckdb.connect() as con:
        con.execute("CREATE SCHEMA staging")
        con.register("orders_frame", orders)
        con.execute("CREATE TABLE staging.stg_shop__orders AS SELECT * FROM orders_frame")
        con.execute("CREATE TABLE users AS SELECT unnest(?) AS user_id", [USERS])
        got = churn_labels_sql(con, "users", CUTOFF, HORIZON)

    assert got.sort_index().to_dict() == expected.sort_index().to_dict()
    assert got.to_dict() == {
        "on_cutoff_day": 1, "first_day": 0, "last_day": 0, "after": 1, "cancelled": 1, "refunded": 1,
        "blank_status": 0, "mixed": 0, "never_ordered": 1,
    }
