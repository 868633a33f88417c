"""What an operator reads when a Great Expectations suite fails: the rows named by file and row
number, whatever index or dtypes the frame arrived with (GX runs for real on small frames)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from segmentation_pipeline.quality.frames import landing_frame
from segmentation_pipeline.quality.validate import gx_ready, run_suite

PARAMETERS = {"amount_ceiling": 1000.0, "allowed_event_types": [], "latest_allowed_timestamp": pd.Timestamp("2026-06-01")}


def _orders(rows: int) -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": [f"o{i}" for i in range(rows)],
        "user_id": [f"u{i}" for i in range(rows)],
        "ordered_at": pd.Timestamp("2026-05-01 10:00:00"),
        "amount": 12.5,
        "status": "completed",
        "quarantine_reason": None,
        "_source_file": "orders/orders.csv",
        "_source_row": np.arange(1, rows + 1, dtype="int32"),
    })


def test_failed_expectation_names_file_and_row_of_the_unexpected_rows(tmp_path: Path):
    frame = _orders(400)
    frame.loc[[7, 300], "amount"] = [-3.0, 5000.0]
    frame.loc[150, "status"] = "lost"
    # A sampled or filtered frame keeps the warehouse's row labels: they must not be taken for positions.
    frame.index = frame.index * 10 + 3

    verdict = run_suite(tmp_path / "gx", "landing_orders", frame, PARAMETERS, mostly=1.0)

    assert not verdict.success
    failed = {o.column: o for o in verdict.failed}
    assert set(failed) == {"amount", "status"}
    assert failed["amount"].unexpected_count == 2
    assert failed["amount"].sample == [
        {"amount": -3.0, "_source_file": "orders/orders.csv", "_source_row": 8},
        {"amount": 5000.0, "_source_file": "orders/orders.csv", "_source_row": 301},
    ]
    assert failed["status"].sample == [{"status": "lost", "_source_file": "orders/orders.csv", "_source_row": 151}]
    assert "_source_row': 301" in verdict.summary()


def test_many_tolerated_rows_still_report_five_examples(tmp_path: Path):
    frame = _orders(1000)
    frame.loc[frame.index % 2 == 0, "amount"] = -1.0  # 500 unexpected rows, tolerated by mostly=0.4

    verdict = run_suite(tmp_path / "gx", "landing_orders", frame, PARAMETERS, mostly=0.4)

    assert verdict.success
    amount = next(o for o in verdict.outcomes if o.column == "amount" and o.expectation.endswith("between"))
    assert amount.unexpected_count == 500
    assert [s["_source_row"] for s in amount.sample] == [1, 3, 5, 7, 9]


def test_frames_are_handed_to_gx_with_the_same_values_in_fast_dtypes():
    frame = pd.DataFrame(
        {"n": np.array([1, 2, 3], dtype="int32"), "x": [0.5, 1.0, 2.0], "tags": [["high_value", "new"], [], None],
         "name": ["a", "b", "c"]},
        index=[10, 20, 30],
    )
    ready = gx_ready(frame)
    assert ready["n"].dtype == "int64" and ready["n"].tolist() == [1, 2, 3]
    assert ready["x"].tolist() == [0.5, 1.0, 2.0]
    assert ready["tags"].tolist()[:2] == ["['high_value', 'new']", "[]"] and pd.isna(ready["tags"].iloc[2])
    assert ready["name"].tolist() == ["a", "b", "c"]
    assert list(ready.index) == [0, 1, 2]
    pd.util.hash_pandas_object(ready, index=True)  # GX fingerprints the batch this way; lists would make it pickle


def test_data_docs_index_lists_the_newest_results_only(tmp_path: Path):
    """Each validation rebuilds the Data Docs index; GX reads every listed result to do it unless the
    index is limited (expectations/great_expectations.yml), so a gate would slow down every night."""
    context_dir = tmp_path / "gx"
    run_suite(context_dir, "landing_orders", _orders(10), PARAMETERS, mostly=1.0)
    uncommitted = context_dir / "uncommitted"
    result = next((uncommitted / "validations" / "landing_orders").glob("*/*/*.json"))
    page = next((uncommitted / "data_docs" / "local_site" / "validations" / "landing_orders").glob("*/*/*.html"))
    for night in range(100):  # a hundred earlier nights: their stored results and rendered pages
        run_time = f"2025{1 + night // 28:02d}{1 + night % 28:02d}T020000.000000Z"
        for done in (result, page):
            copy = done.parents[1] / run_time / done.name
            copy.parent.mkdir()
            copy.write_bytes(done.read_bytes())

    run_suite(context_dir, "landing_orders", _orders(10), PARAMETERS, mostly=1.0)

    index = (uncommitted / "data_docs" / "local_site" / "index.html").read_text()
    assert index.count("validations/landing_orders/__none__/") == 70
    assert "__none__/20250101T020000" not in index  # the oldest night is left out of the index
    assert len(list((uncommitted / "validations").rglob("*.json"))) == 102  # but no result is deleted


def test_a_large_table_is_validated_on_a_repeatable_sample_of_about_the_limit():
    with duckdb.connect() as con:
        con.execute("CREATE SCHEMA staging")
        con.execute("""
            CREATE TABLE staging.base_shop__events_checked AS
            SELECT 'e' || i AS event_id, 'u' || (i % 97) AS user_id, 'page_view' AS event_type,
                   TIMESTAMP '2026-06-01' AS occurred_at, NULL AS quarantine_reason,
                   'events/part-' || (i // 100000) || '.csv' AS _source_file, i % 100000 + 1 AS _source_row
            FROM range(300000) AS t(i)
        """)
        sample = landing_frame(con, "events", max_rows=20_000)
        again = landing_frame(con, "events", max_rows=20_000)
        one_file = landing_frame(con, "events", max_rows=20_000, files=["events/part-1.csv"])
        small = landing_frame(con, "events", max_rows=500_000)
    assert sample.total_rows == 300_000 and 18_000 <= len(sample.data) <= 22_000
    assert sample.data.equals(again.data)  # the same rows, in the same order
    assert not sample.data.duplicated(["_source_file", "_source_row"]).any()
    # Spread over the table: each file gives about a third of the sample.
    assert sample.data["_source_file"].value_counts().between(5_500, 7_500).all()
    assert one_file.total_rows == 100_000 and set(one_file.data["_source_file"]) == {"events/part-1.csv"}
    assert 18_000 <= len(one_file.data) <= 22_000
    assert len(small.data) == small.total_rows == 300_000  # under the limit: every row


def test_data_docs_pages_compile_their_templates_once_and_render_as_gx_default_view(tmp_path: Path):
    """Every validation rebuilt its Data Docs pages with newly compiled Jinja templates (about 0.1 s each);
    the views named in great_expectations.yml share one template cache and render the same page."""
    import re

    import great_expectations as gx
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    from segmentation_pipeline.quality.docs_views import TEMPLATE_CACHE, CachedJinjaPageView

    TEMPLATE_CACHE._compiled.clear()
    frame = _orders(10)
    frame.loc[3, "amount"] = -1.0
    run_suite(tmp_path / "gx", "landing_orders", frame, PARAMETERS, mostly=1.0)
    assert TEMPLATE_CACHE._compiled, "the Data Docs site did not render with the cached views"

    store = gx.get_context(mode="file", context_root_dir=str(tmp_path / "gx")).validation_results_store
    (key,) = store.list_keys()

    def page(view) -> str:  # a fresh document each time: GX's views rewrite the document they render
        html = view.render(ValidationResultsPageRenderer().render(store.get(key)))
        return re.sub(r"\d{8}T\d{6}\.\d{6}Z|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "~", html)

    default = page(DefaultJinjaPageView())
    assert "amount" in default
    assert page(CachedJinjaPageView()) == default
    assert page(CachedJinjaPageView()) == default  # from the cached bytecode
