"""`ml.churn_scores` has the same column types whether the churn model scored the users or could not
be trained yet (too little history): a SQL reader's query must not depend on which night it is."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from segmentation_pipeline.churn import _write, unscored
from segmentation_pipeline.ml.churn import score_frame
from segmentation_pipeline.settings import load_settings

USERS = pd.Series(["u1", "u2", "u3"])


def _column_types(settings) -> dict[str, str]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return dict(con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'ml' AND table_name = 'churn_scores' ORDER BY ordinal_position"
        ).fetchall())


def test_unscored_users_have_the_column_types_of_scored_ones(tmp_path):
    (tmp_path / "segmentation.yaml").write_text("")  # the defaults
    settings = load_settings({"SEGMENTATION_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
                              "SEGMENTATION_CONFIG": str(tmp_path / "segmentation.yaml")})
    _write(settings, score_frame(USERS.to_numpy(), np.array([0.9, 0.5, 0.1])).assign(churn_model_version="churn-v1"))
    scored = _column_types(settings)
    assert scored == {"user_id": "VARCHAR", "churn_probability": "DOUBLE", "churn_risk": "VARCHAR",
                      "churn_model_version": "VARCHAR"}

    _write(settings, unscored(USERS))
    assert _column_types(settings) == scored  # were INTEGER for the last two: columns of untyped nulls
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        rows = con.execute("SELECT * FROM ml.churn_scores ORDER BY user_id").fetchall()
    assert rows == [("u1", None, None, None), ("u2", None, None, None), ("u3", None, None, None)]
