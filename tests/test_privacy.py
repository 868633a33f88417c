"""Pseudonyms (real DuckDB UDF), small-group suppression, Laplace noise and the privacy/analytics config."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys

import duckdb
import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.config import ConfigError, load_config
from segmentation_pipeline.privacy import (
    add_laplace_noise,
    id_secret_from_env,
    pseudonymiser,
    register_pseudonym_function,
    suppress_small_groups,
)

IDS = ["u1", "u2", "ünïcode-42", ""]


def _tokens(secret: str | None, ids: list[str | None] = IDS) -> list[str | None]:
    con = duckdb.connect()
    register_pseudonym_function(con, secret)
    con.execute("create table ids (i int, user_id varchar)")
    con.executemany("insert into ids values (?, ?)", list(enumerate(ids)))
    return [row[0] for row in con.execute("select pseudonym(user_id) from ids order by i").fetchall()]


def test_pseudonym_is_hmac_sha256_and_stable_across_connections():
    first, second = _tokens("s3cret"), _tokens("s3cret")
    assert first == second
    assert first == [hmac.new(b"s3cret", i.encode(), hashlib.sha256).hexdigest() for i in IDS]
    assert all(len(t) == 64 and t == t.lower() for t in first)
    assert _tokens("other") != first and len(set(_tokens("other")) & set(first)) == 0


def test_pseudonym_is_stable_across_processes():
    code = (
        "import duckdb; from segmentation_pipeline.privacy import register_pseudonym_function as r; "
        "c = duckdb.connect(); r(c, 's3cret'); print(c.sql(\"select pseudonym('u1')\").fetchone()[0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == _tokens("s3cret", ["u1"])[0]


def test_no_secret_is_identity_and_null_passes_through():
    assert _tokens(None) == IDS and _tokens("") == IDS
    assert _tokens("s3cret", ["u1", None, "u2"])[1] is None
    assert _tokens(None, ["u1", None])[1] is None
    assert pseudonymiser("s3cret")(["u1", None]) == [hmac.new(b"s3cret", b"u1", hashlib.sha256).hexdigest(), None]
    assert pseudonymiser(None)(["u1", None]) == ["u1", None]


def test_pseudonym_on_100k_ids_in_sql():
    con = duckdb.connect()
    register_pseudonym_function(con, "k", name="pid")
    con.execute("create table users as select 'user_' || i as user_id from range(100000) t(i)")
    distinct, length, sample = con.execute(
        "select count(distinct pid(user_id)), min(length(pid(user_id))), "
        "max(pid(user_id)) filter (where user_id = 'user_77') from users"
    ).fetchone()
    assert distinct == 100_000 and length == 64
    assert sample == hmac.new(b"k", b"user_77", hashlib.sha256).hexdigest()


def test_id_secret_from_env():
    assert id_secret_from_env({"SEGMENTATION_ID_SECRET": "x"}) == "x"
    assert id_secret_from_env({"SEGMENTATION_ID_SECRET": ""}) is None
    assert id_secret_from_env({}) is None


def test_suppress_small_groups():
    frame = pd.DataFrame({"segment": list("abcde"), "users": [10, 9, 50, np.nan, 1]}, index=[5, 6, 7, 8, 9])
    kept, dropped = suppress_small_groups(frame, "users", 10)
    assert kept["segment"].tolist() == ["a", "c"] and dropped == 3 and kept.index.tolist() == [0, 1]
    all_rows, none_dropped = suppress_small_groups(frame, "users", 1)
    assert len(all_rows) == 5 and none_dropped == 0


def _counts(n: int = 20_000) -> pd.DataFrame:
    return pd.DataFrame({"users": np.full(n, 1000, dtype="int64"), "revenue": np.full(n, 50_000.0), "name": "x"})


def test_laplace_off_returns_unchanged_copy():
    frame = _counts(10)
    for epsilon in (None, 0, -1):
        out = add_laplace_noise(frame, {"users": 1}, epsilon, seed=1)
        pd.testing.assert_frame_equal(out, frame)
        assert out is not frame


def test_laplace_is_deterministic_and_keeps_integers():
    frame = _counts(100)
    a = add_laplace_noise(frame, {"users": 1, "revenue": 1000}, 0.5, seed=3)
    b = add_laplace_noise(frame, {"revenue": 1000, "users": 1}, 0.5, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert a["users"].dtype == "int64" and not a["users"].equals(frame["users"])
    assert not add_laplace_noise(frame, {"users": 1}, 0.5, seed=4)["users"].equals(a["users"])


@pytest.mark.parametrize(("column", "sensitivity", "epsilon"), [("revenue", 1000.0, 1.0), ("revenue", 1000.0, 10.0),
                                                                ("users", 1.0, 0.1)])
def test_laplace_mean_absolute_error_is_sensitivity_over_epsilon(column, sensitivity, epsilon):
    frame = _counts()
    noisy = add_laplace_noise(frame, {column: sensitivity}, epsilon, seed=0)
    error = (noisy[column] - frame[column]).abs().mean()
    assert error == pytest.approx(sensitivity / epsilon, rel=0.05)


def test_laplace_never_negative():
    frame = pd.DataFrame({"users": np.zeros(5000, dtype="int64"), "revenue": np.zeros(5000)})
    noisy = add_laplace_noise(frame, {"users": 1, "revenue": 1000}, 0.1, seed=0)
    assert (noisy["users"] >= 0).all() and (noisy["revenue"] >= 0).all() and noisy["revenue"].max() > 0
    with pytest.raises(KeyError, match="absent"):
        add_laplace_noise(frame, {"absent": 1}, 1.0, seed=0)


def test_privacy_and_analytics_config(tmp_path):
    defaults = load_config(tmp_path / "absent.yaml")
    assert defaults.privacy.min_group_size == 10 and defaults.privacy.dp_epsilon is None
    assert defaults.privacy.dp_revenue_cap == 1000.0 and defaults.analytics.exports_format == "csv"
    path = tmp_path / "segmentation.yaml"
    path.write_text(
        "privacy: {min_group_size: 5, dp_epsilon: 0.5, dp_revenue_cap: 250, dp_seed: 7}\n"
        "analytics: {association_min_support: 0.05, association_min_confidence: 0.5, association_max_len: 2,"
        " exports_format: parquet}\n"
    )
    config = load_config(path)
    assert (config.privacy.min_group_size, config.privacy.dp_epsilon, config.privacy.dp_seed) == (5, 0.5, 7)
    assert config.analytics.association_max_len == 2 and config.analytics.exports_format == "parquet"
    for bad, key in [
        ("privacy: {min_group_size: 0}", "privacy.min_group_size"),
        ("privacy: {dp_epsilon: 0}", "privacy.dp_epsilon"),
        ("privacy: {dp_revenue_cap: -1}", "privacy.dp_revenue_cap"),
        ("privacy: {epsilon: 1}", "privacy.epsilon"),
        ("analytics: {association_min_support: 0}", "analytics.association_min_support"),
        ("analytics: {association_min_confidence: 1.5}", "analytics.association_min_confidence"),
        ("analytics: {association_max_len: 1}", "analytics.association_max_len"),
        ("analytics: {exports_format: xlsx}", "analytics.exports_format"),
    ]:
        path.write_text(bad + "\n")
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            load_config(path)


def test_repository_yaml_parses():
    from pathlib import Path

    config = load_config(Path(__file__).resolve().parents[1] / "segmentation.yaml")
    assert config.privacy.min_group_size == 10 and config.analytics.association_max_len == 3
