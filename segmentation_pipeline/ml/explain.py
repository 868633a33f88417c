"""Why users are in their segment: profiles, permutation importance and readable surrogate rules."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

from segmentation_pipeline.ml.algorithms import sample_rows
from segmentation_pipeline.ml.preprocessing import INTEGER_FEATURES, MODEL_FEATURES, PROFILE_FEATURES, numeric_frame

# feature -> (what a missing value means, what a known value means)
MISSING_MEANS = {"recency_days": ("never ordered", "has ordered"),
                 "mean_days_between_orders": ("fewer than 2 orders", "2+ orders"),
                 "mean_rating": ("no review", "has reviewed")}


def segment_profiles(features: pd.DataFrame, labels: np.ndarray, names: dict[int, str],
                     columns: list[str] | None = None) -> pd.DataFrame:
    """One row per (segment, feature): mean and median of the segment vs the whole population.

    `median_z` = (segment median - population median) / population standard deviation.
    """
    columns = [c for c in (columns or PROFILE_FEATURES) if c in features.columns]
    X = numeric_frame(features, columns)
    labels = np.asarray(labels)
    means = X.groupby(labels).mean()
    medians = X.groupby(labels).median()
    sizes = pd.Series(labels).value_counts()
    pop_mean, pop_median, pop_sd = X.mean(), X.median(), X.std(ddof=0).replace(0, np.nan)
    rows = []
    for segment in sorted(means.index):
        for column in columns:
            rows.append({
                "segment": int(segment),
                "segment_name": names.get(int(segment), str(segment)),
                "users": int(sizes[segment]),
                "feature": column,
                "mean": means.at[segment, column],
                "median": medians.at[segment, column],
                "population_mean": pop_mean[column],
                "population_median": pop_median[column],
                "median_z": (medians.at[segment, column] - pop_median[column]) / pop_sd[column],
            })
    return pd.DataFrame(rows)


def profile_matrix(profiles: pd.DataFrame, value: str = "median_z") -> pd.DataFrame:
    """Segments x features of `value` (for the heatmap), rows labelled by segment name."""
    wide = profiles.pivot_table(index=["segment", "segment_name"], columns="feature", values=value, sort=False)
    wide.index = [name for _, name in wide.index]
    return wide[[c for c in profiles["feature"].unique() if c in wide.columns]].fillna(0.0)


def classifier_importance(model: Pipeline, features: pd.DataFrame, labels: np.ndarray, rows: np.ndarray,
                          repeats: int = 5, sample_size: int = 5_000, seed: int = 42) -> pd.DataFrame:
    """Permutation importance (drop in macro F1) of the classifier on held-out `rows`."""
    rows = rows[sample_rows(len(rows), sample_size, seed)]
    X = numeric_frame(features, MODEL_FEATURES).iloc[rows]
    result = permutation_importance(model, X, np.asarray(labels)[rows], scoring="f1_macro", n_repeats=repeats,
                                    random_state=seed, n_jobs=1)
    table = pd.DataFrame({"feature": MODEL_FEATURES, "importance": result.importances_mean,
                          "importance_sd": result.importances_std})
    return table.sort_values(["importance", "feature"], ascending=[False, True], ignore_index=True)


@dataclass
class SurrogateRules:
    tree: DecisionTreeClassifier
    rules: pd.DataFrame  # one row per leaf: rule, segment, segment_name, users, purity
    fidelity: float  # share of held-out users whose surrogate segment equals their cluster segment
    train_fidelity: float
    depth: int

    @property
    def rule_strings(self) -> list[str]:
        return self.rules["rule"].tolist()


def _fmt(feature: str, value: float, upper: bool) -> str:
    if feature in INTEGER_FEATURES:
        return f"{int(np.floor(value))}"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _conditions(bounds: dict[str, list]) -> list[str]:
    parts = []
    for feature, (low, high, missing) in bounds.items():
        if_missing, if_known = MISSING_MEANS.get(feature, (f"{feature} missing", f"{feature} known"))
        if missing == "only":
            parts.append(if_missing)
            continue
        if low is None and high is None:
            parts.append(if_known)
            continue
        if low is not None and high is not None:
            text = f"{_fmt(feature, low, False)} < {feature} ≤ {_fmt(feature, high, True)}"
        elif high is not None:
            text = f"{feature} ≤ {_fmt(feature, high, True)}"
        else:
            text = f"{feature} > {_fmt(feature, low, False)}"
        if missing == "allowed":
            text = f"({text} or {if_missing})"
        parts.append(text)
    return parts


def _leaf_rules(tree: DecisionTreeClassifier, names: list[str], missing_nodes: set[int]) -> list[tuple[int, list[str]]]:
    t = tree.tree_
    go_left = getattr(t, "missing_go_to_left", np.zeros(t.node_count, dtype=bool))
    out: list[tuple[int, list[str]]] = []
    predicted = t.value[:, 0, :].argmax(axis=1)

    def one_class(node: int) -> bool:  # a subtree whose leaves all predict the same segment is one rule
        if t.children_left[node] == -1:
            return True
        return (one_class(t.children_left[node]) and one_class(t.children_right[node])
                and predicted[t.children_left[node]] == predicted[t.children_right[node]])

    def walk(node: int, bounds: dict[str, list]) -> None:
        if one_class(node):
            out.append((node, _conditions(bounds)))
            return
        feature, threshold = names[t.feature[node]], float(t.threshold[node])
        for child, is_left in ((t.children_left[node], True), (t.children_right[node], False)):
            low, high, missing = bounds.get(feature, [None, None, "allowed"])
            takes_missing = node in missing_nodes and bool(go_left[node]) == is_left
            if not np.isfinite(threshold):  # a split of missing vs known values
                missing = "only" if takes_missing else "excluded"
            elif is_left:
                high = threshold if high is None else min(high, threshold)
            else:
                low = threshold if low is None else max(low, threshold)
            if missing == "allowed" and not takes_missing:
                missing = "excluded"
            walk(child, {**bounds, feature: [low, high, missing]})

    walk(0, {})
    return out


def surrogate_rules(features: pd.DataFrame, labels: np.ndarray, names: dict[int, str], train_rows: np.ndarray,
                    test_rows: np.ndarray, depth: int = 4, seed: int = 42) -> SurrogateRules:
    """A shallow decision tree on the raw features that mimics the segments, as readable rules."""
    X = numeric_frame(features, MODEL_FEATURES)
    y = np.asarray(labels)
    leaf = max(5, int(0.01 * len(train_rows)))
    tree = DecisionTreeClassifier(max_depth=depth, min_samples_leaf=leaf, random_state=seed)
    tree.fit(X.iloc[train_rows], y[train_rows])
    missing_nodes: set[int] = set()
    for column in X.columns[X.iloc[train_rows].isna().any()]:
        nan_rows = X.iloc[train_rows][X.iloc[train_rows][column].isna()]
        reached = np.flatnonzero(np.asarray(tree.decision_path(nan_rows).sum(axis=0)).ravel() > 0)
        missing_nodes |= {int(n) for n in reached if tree.tree_.feature[n] == list(X.columns).index(column)}
    paths = tree.decision_path(X.iloc[train_rows]).tocsc()
    rows = []
    for node, conditions in _leaf_rules(tree, list(X.columns), missing_nodes):
        members = y[train_rows][paths[:, node].toarray().ravel() > 0]
        segment = int(tree.classes_[int(np.argmax(tree.tree_.value[node][0]))])
        name = names.get(segment, str(segment))
        rows.append({
            "rule": f"{' and '.join(conditions) or 'everyone'} → {name}",
            "segment": segment, "segment_name": name, "users": int(len(members)),
            "purity": float(np.mean(members == segment)) if len(members) else 0.0,
        })
    rules = pd.DataFrame(rows).sort_values(["segment", "users"], ascending=[True, False], ignore_index=True)
    return SurrogateRules(
        tree=tree, rules=rules, depth=depth,
        fidelity=float(np.mean(tree.predict(X.iloc[test_rows]) == y[test_rows])) if len(test_rows) else float("nan"),
        train_fidelity=float(np.mean(tree.predict(X.iloc[train_rows]) == y[train_rows])),
    )
