"""The ML core on real `user_features` of a generated shop (6000 users, seed 42, as of 2026-06-30).

The pipeline runs twice in a session fixture: as of 2026-06-30 (segmentation, churn scoring)
and as of 2026-04-01 = as_of - 90 days (churn training features). Real scikit-learn, no mocks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from conftest import run_segmentation_job
from segmentation_pipeline.demo_data import generate
from segmentation_pipeline.ml import ChurnConfig, SegmentationConfig, churn_labels, score_churn, segment_users
from segmentation_pipeline.ml.artifacts import load_model, save_churn, save_segmentation
from segmentation_pipeline.ml.classifier import train_classifier
from segmentation_pipeline.ml.markdown import png_markdown
from segmentation_pipeline.ml.preprocessing import MODEL_FEATURES, RECENCY_CAP_DAYS
from segmentation_pipeline.ml.segmentation import assign_new_users
from segmentation_pipeline.ml.tags import TAGS

USERS, SEED, AS_OF, TRAIN_AS_OF, HORIZON = 6000, 42, "2026-06-30", "2026-04-01", 90
ENV = ("SEGMENTATION_DATA_DIR", "SEGMENTATION_WAREHOUSE", "SEGMENTATION_PUBLISHED_DB", "SEGMENTATION_CONFIG",
       "SEGMENTATION_AS_OF", "SEGMENTATION_MODELS_DIR", "SEGMENTATION_ID_SECRET")


@dataclass
class DemoShop:
    features: pd.DataFrame  # user_features as of AS_OF
    train_features: pd.DataFrame  # user_features as of TRAIN_AS_OF
    truth: np.ndarray  # planted persona per row of `features`
    orders: pd.DataFrame


def _user_features(root: Path, landing: Path, as_of: str | None) -> pd.DataFrame:
    saved = {name: os.environ.get(name) for name in ENV}
    root.mkdir()
    (root / "segmentation.yaml").write_text("clustering: {k_min: 2, k_max: 6, seed: 42}\n")
    try:
        for name in ENV:
            os.environ.pop(name, None)
        os.environ.update(SEGMENTATION_DATA_DIR=str(landing), SEGMENTATION_WAREHOUSE=str(root / "warehouse.duckdb"),
                          SEGMENTATION_PUBLISHED_DB=str(root / "segments.duckdb"),
                          SEGMENTATION_CONFIG=str(root / "segmentation.yaml"))
        if as_of:
            os.environ["SEGMENTATION_AS_OF"] = as_of
        result = run_segmentation_job()
        assert result.success, "the pipeline failed while preparing user_features"
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("SELECT * FROM marts.user_features ORDER BY user_id").fetch_df()


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> DemoShop:
    root = tmp_path_factory.mktemp("ml_demo")
    generate(users=USERS, seed=SEED, out_dir=root / "landing", truth_dir=root / "truth", as_of=AS_OF, fmt="csv")
    features = _user_features(root / "now", root / "landing", None)
    train_features = _user_features(root / "then", root / "landing", TRAIN_AS_OF)
    personas = pd.read_csv(root / "truth" / "user_personas.csv")
    truth = features[["user_id"]].merge(personas, on="user_id", how="left")["persona"].to_numpy()
    return DemoShop(features, train_features, truth, pd.read_csv(root / "landing" / "orders.csv"))


@pytest.fixture(scope="session")
def outcome(shop: DemoShop):
    return segment_users(shop.features, SegmentationConfig(), seed=SEED)


@pytest.fixture(scope="session")
def churn(shop: DemoShop):
    labels = churn_labels(shop.orders, shop.train_features["user_id"], date.fromisoformat(TRAIN_AS_OF), HORIZON)
    return score_churn(shop.train_features, labels, shop.features, ChurnConfig(horizon_days=HORIZON), seed=SEED)


def test_segments_recover_planted_personas_far_better_than_naive_kmeans(shop, outcome):
    ours = adjusted_rand_score(shop.truth, outcome.labels)
    raw = shop.features[MODEL_FEATURES].astype("float64").fillna(RECENCY_CAP_DAYS).to_numpy()
    naive = adjusted_rand_score(shop.truth, KMeans(outcome.k, n_init=4, random_state=SEED).fit_predict(raw))
    print(f"\n{USERS} users, seed {SEED}: {outcome.algorithm} K={outcome.k} ARI {ours:.3f}; "
          f"naive K-Means on raw features ARI {naive:.3f}; timings {outcome.timings}")
    assert outcome.config.pinned_k is None and outcome.config.pinned_algorithm is None  # chosen automatically
    assert ours >= 0.9
    assert ours - naive >= 0.2


def test_candidate_table_scores_every_algorithm_and_k(outcome):
    table = outcome.candidates
    assert set(table["algorithm"]) == {"kmeans", "gmm", "agglomerative", "hdbscan"}
    assert set(table.loc[table["algorithm"] == "kmeans", "k"]) == set(range(2, 9))
    for column in ("silhouette", "davies_bouldin", "calinski_harabasz", "inertia", "stability", "knee_k", "score"):
        assert column in table.columns
    assert table["chosen"].sum() == 1
    chosen = table[table["chosen"]].iloc[0]
    assert (chosen["algorithm"], chosen["k"]) == (outcome.algorithm, outcome.k)
    assert chosen["stability"] >= outcome.config.stability_floor
    assert chosen["score"] == table["score"].max()


def test_same_data_and_seed_give_identical_segments(shop, outcome):
    again = segment_users(shop.features, SegmentationConfig(), seed=SEED)
    assert np.array_equal(again.labels, outcome.labels)
    assert again.names == outcome.names
    pd.testing.assert_frame_equal(again.candidates.drop(columns="fit_seconds"),
                                  outcome.candidates.drop(columns="fit_seconds"))


def test_clustering_families_fitted_two_at_a_time_give_the_same_segments(shop, outcome):
    one = segment_users(shop.features, SegmentationConfig(fit_jobs=1, make_plots=False), seed=SEED)
    two = segment_users(shop.features, SegmentationConfig(fit_jobs=2, make_plots=False), seed=SEED)
    np.testing.assert_array_equal(one.labels, two.labels)
    np.testing.assert_array_equal(one.labels, outcome.labels)
    pd.testing.assert_frame_equal(one.candidates.drop(columns="fit_seconds"),
                                  two.candidates.drop(columns="fit_seconds"))


def test_segment_ids_are_ordered_by_size_and_names_unique_and_readable(outcome):
    sizes = outcome.segments.sort_values("segment_id")["users"].to_list()
    assert sizes == sorted(sizes, reverse=True)
    names = list(outcome.names.values())
    assert len(set(names)) == len(names) == outcome.k
    assert not any(name.strip().isdigit() or "segment" in name.lower() for name in names)
    assert {"High-value loyal", "Lapsed customers", "Window shoppers"} <= set(names)
    assert outcome.assignments["segment_name"].isin(names).all()


def test_value_tiers_and_tags_follow_their_rules(shop, outcome):
    a = outcome.assignments
    buyers = shop.features["frequency"].to_numpy() > 0
    assert set(a.loc[~buyers, "value_tier"]) == {"low"}
    assert set(a["value_tier"]) == {"high", "medium", "low"}
    assert all(set(tags) <= set(TAGS) for tags in a["tags"])
    vip = shop.truth == "vip"
    assert (a.loc[vip, "value_tier"] == "high").mean() > 0.9
    assert a.loc[shop.truth == "newcomer", "tags"].map(lambda t: "new" in t).mean() > 0.9
    assert a.loc[shop.truth == "lapsed", "tags"].map(lambda t: "churned" in t).mean() > 0.9


@pytest.mark.parametrize(("pins", "expected_algorithms"), [
    ({"pinned_k": 4, "pinned_algorithm": "agglomerative"}, {"agglomerative"}),
    ({"pinned_k": 6}, {"kmeans", "gmm", "agglomerative"}),
    ({"pinned_algorithm": "gmm", "k_max": 5}, {"gmm"}),
])
def test_pinned_k_and_algorithm_are_respected(shop, pins, expected_algorithms):
    config = SegmentationConfig(stability_refits=1, make_plots=False, classifier_sample_size=3000, classifier_folds=3,
                                importance_repeats=2, **pins)
    result = segment_users(shop.features, config, seed=SEED)
    assert set(result.candidates["algorithm"]) == expected_algorithms
    assert result.k == pins.get("pinned_k", result.k)
    assert result.algorithm == pins.get("pinned_algorithm", result.algorithm)
    assert len(np.unique(result.labels)) == result.k


def test_classifier_agrees_with_the_clustering_on_held_out_users(outcome):
    clf = outcome.classifier
    print(f"\nclassifiers:\n{clf.comparison.round(4).to_string()}\nheld-out: {clf.metrics()}")
    assert len(clf.comparison) == 5 and clf.comparison["chosen"].sum() == 1
    assert clf.macro_f1 >= 0.95 and clf.accuracy >= 0.95
    assert clf.confusion.shape == (outcome.k, outcome.k) and clf.confusion.to_numpy().sum() == len(clf.test_rows)
    confidence = outcome.assignments["segment_confidence"]
    assert confidence.between(0, 1).all() and confidence.mean() > 0.9


def test_classifier_folds_fitted_two_at_a_time_give_the_same_classifier(shop, outcome):
    config = replace(SegmentationConfig(), seed=SEED, make_plots=False)
    one = train_classifier(shop.features, outcome.labels, replace(config, fit_jobs=1))
    two = train_classifier(shop.features, outcome.labels, replace(config, fit_jobs=2))
    pd.testing.assert_frame_equal(one.comparison.drop(columns="seconds"), two.comparison.drop(columns="seconds"))
    np.testing.assert_array_equal(one.oof_proba, two.oof_proba)
    assert one.name == two.name and (one.accuracy, one.macro_f1) == (two.accuracy, two.macro_f1)


def test_new_users_are_assigned_by_the_classifier(shop, outcome):
    newcomers = shop.features.sample(300, random_state=SEED)
    assigned = assign_new_users(outcome.model, outcome.classifier.model, newcomers, outcome.tag_cutoffs)
    expected = outcome.model.predict(newcomers) + 1
    assert (assigned["segment_id"].to_numpy() == expected).mean() > 0.95
    assert assigned["segment_name"].isin(list(outcome.names.values())).all()


def test_explanations_profiles_importance_and_surrogate_rules(outcome):
    assert set(outcome.profiles["segment"]) == set(range(outcome.k))
    assert {"mean", "median", "population_mean", "population_median", "median_z"} <= set(outcome.profiles.columns)
    assert set(outcome.importance["feature"]) == set(MODEL_FEATURES)
    assert outcome.importance["importance"].iloc[0] > 0.01
    rules = outcome.surrogate.rule_strings
    print("\nsurrogate rules (fidelity %.3f):\n" % outcome.surrogate.fidelity + "\n".join(rules))
    assert rules and all(isinstance(r, str) and " → " in r for r in rules)
    assert {r.split(" → ")[1] for r in rules} <= set(outcome.names.values())
    assert 0.85 <= outcome.surrogate.fidelity <= 1.0


def test_churn_model_beats_the_recency_baseline_and_scores_everyone(shop, churn):
    m = churn.metrics
    print(f"\nchurn: {m}")
    assert m["roc_auc"] >= m["baseline_roc_auc"] + 0.03
    assert m["pr_auc"] > m["baseline_pr_auc"] and m["brier"] < m["baseline_brier"]
    assert len(churn.scores) == len(shop.features)  # includes users unknown at the training date
    assert churn.scores["churn_probability"].between(0, 1).all()
    never_ordered = shop.features["frequency"].to_numpy() == 0
    assert churn.scores.loc[never_ordered, "churn_probability"].notna().all()
    assert set(churn.reliability["model"]) == {"gradient_boosting", "recency_baseline"}


def test_churn_model_is_the_same_on_one_thread_and_on_two(shop, churn):
    labels = churn_labels(shop.orders, shop.train_features["user_id"], date.fromisoformat(TRAIN_AS_OF), HORIZON)
    config = ChurnConfig(horizon_days=HORIZON, threads=1, make_plots=False)
    single = score_churn(shop.train_features, labels, shop.features, config, seed=SEED)
    two = score_churn(shop.train_features, labels, shop.features, replace(config, threads=2), seed=SEED)
    assert churn.config.threads is None  # the default: every core
    pd.testing.assert_frame_equal(single.scores, two.scores)
    pd.testing.assert_frame_equal(single.scores, churn.scores)
    assert single.metrics == two.metrics


def test_every_plot_renders(outcome, churn):
    figures = {**outcome.plots, **{f"churn_{k}": v for k, v in churn.plots.items()}}
    assert set(figures) == {"selection", "projection", "profile_heatmap", "feature_importance", "churn_roc",
                            "churn_reliability", "churn_importance"}
    for name, png in figures.items():
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000, name
    assert png_markdown(figures["selection"], "scores").startswith("![scores](data:image/png;base64,iVBOR")


def churn_model_input(shop: DemoShop, churn) -> pd.DataFrame:
    return shop.features[churn.features].astype("float64")


def test_models_are_saved_with_cards_and_reload(tmp_path, shop, outcome, churn):
    versions = save_segmentation(tmp_path, outcome, date.fromisoformat(AS_OF))
    churn_version = save_churn(tmp_path, churn, date.fromisoformat(AS_OF))
    saved, card = load_model(tmp_path, versions["segmentation"])
    assert card["parameters"]["k"] == outcome.k and card["algorithm"] == outcome.algorithm
    assert card["features"] == MODEL_FEATURES and "scikit-learn" in card["libraries"]
    assert np.array_equal(saved["segment_model"].predict(shop.features), outcome.labels)
    classifier, clf_card = load_model(tmp_path, versions["classifier"])
    assert clf_card["metrics"]["test_macro_f1"] == round(outcome.classifier.macro_f1, 4)
    churn_model, churn_card = load_model(tmp_path, churn_version)
    assert churn_card["data_window"]["training_features_as_of"] == TRAIN_AS_OF
    assert churn_card["metrics"]["roc_auc"] == churn.metrics["roc_auc"]
    assert np.allclose(churn_model["model"].predict_proba(churn_model_input(shop, churn))[:, 1],
                       churn.scores["churn_probability"], atol=1e-4)
