"""The landing contract: which tables exist and which columns each must or may have."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableContract:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    keep_extra_columns: bool = False  # users: extra (PII) columns stay in `raw` only
    is_required: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


CONTRACTS: dict[str, TableContract] = {
    c.name: c
    for c in (
        TableContract(
            "orders",
            required=("order_id", "user_id", "ordered_at", "amount"),
            optional=("status", "items"),
            is_required=True,
        ),
        TableContract(
            "order_items",
            required=("order_id", "product_id", "category", "quantity", "unit_price"),
        ),
        TableContract(
            "events",
            required=("event_id", "user_id", "event_type", "occurred_at"),
            optional=("session_id", "product_id", "category", "duration_seconds"),
        ),
        TableContract(
            "users",
            required=("user_id", "signup_at"),
            optional=("country", "birth_year", "gender", "acquisition_channel"),
            keep_extra_columns=True,
        ),
        TableContract(
            "reviews",
            required=("review_id", "user_id", "rating", "text", "created_at"),
            optional=("product_id",),
        ),
    )
}
