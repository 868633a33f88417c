"""The naive baseline: customer segmentation the way the typical blog article does it.

Read every landing file with `pandas.read_csv`, build per-user features with pandas groupbys
(recency, frequency, monetary, average order value, tenure, sessions, events per type, basket
size, categories, reviews, refunds), log-transform and scale them with StandardScaler, run
scikit-learn K-Means for K = 2..8, pick K at the elbow of the inertia curve and write the labels.

It is written idiomatically (vectorised named aggregations, no per-group lambdas, scikit-learn
defaults), so it is a fair "one pandas script" reference rather than a straw man; it does none of
the pipeline's typing, quarantine, quality gates, model selection, classifier, churn model or
publishing. Run by the harness as a child process:

    python benchmarks/naive_baseline.py --data data/bench/100k/landing --out /tmp/labels.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import probes  # the script's own folder is sys.path[0]

del sys.path[0]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

K_VALUES = range(2, 9)
SEED = 42


def read_table(data: Path, name: str, dates: list[str]) -> pd.DataFrame:
    """`<name>.csv`, or every CSV in a `<name>/` folder (the events come in part files)."""
    single = data / f"{name}.csv"
    files = [single] if single.exists() else sorted((data / name).glob("*.csv"))
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_csv(f, parse_dates=dates) for f in files], ignore_index=True)


def build_features(users, orders, items, events, reviews) -> pd.DataFrame:
    snapshot = max(orders["ordered_at"].max(), events["occurred_at"].max()).normalize() + pd.Timedelta(days=1)
    completed = orders[orders["status"] == "completed"]
    rfm = completed.groupby("user_id").agg(
        last_order=("ordered_at", "max"),
        first_order=("ordered_at", "min"),
        frequency=("order_id", "nunique"),
        monetary=("amount", "sum"),
        avg_order_value=("amount", "mean"),
    )
    rfm["recency_days"] = (snapshot - rfm.pop("last_order")).dt.days
    rfm["days_since_first_order"] = (snapshot - rfm.pop("first_order")).dt.days
    refunds = orders.assign(refunded=orders["status"] == "refunded").groupby("user_id")["refunded"].mean()

    basket = items.merge(orders[["order_id", "user_id"]], on="order_id")
    baskets = basket.groupby("user_id").agg(
        items_bought=("quantity", "sum"), distinct_products=("product_id", "nunique"),
        distinct_categories=("category", "nunique"),
    )

    activity = events.groupby("user_id").agg(
        events=("event_id", "count"), sessions=("session_id", "nunique"), last_event=("occurred_at", "max"),
        avg_duration=("duration_seconds", "mean"),
    )
    activity["days_since_last_event"] = (snapshot - activity.pop("last_event")).dt.days
    activity["events_per_session"] = activity["events"] / activity["sessions"]
    per_type = events.pivot_table(index="user_id", columns="event_type", values="event_id", aggfunc="count", fill_value=0)
    per_type.columns = [f"n_{c}" for c in per_type.columns]

    ratings = reviews.groupby("user_id").agg(reviews=("review_id", "count"), avg_rating=("rating", "mean"))

    features = users.set_index("user_id")[["signup_at"]]
    features["tenure_days"] = (snapshot - features.pop("signup_at")).dt.days
    for part in (rfm, refunds.rename("refund_share"), baskets, activity, per_type, ratings):
        features = features.join(part, how="left")
    features["recency_days"] = features["recency_days"].fillna(features["tenure_days"])
    features["avg_rating"] = features["avg_rating"].fillna(features["avg_rating"].mean())
    return features.fillna(0)


def elbow(inertias: list[float]) -> int:
    """The K whose inertia is farthest below the straight line from the first to the last K."""
    ks, y = np.array(list(K_VALUES), dtype=float), np.array(inertias)
    line = y[0] + (y[-1] - y[0]) * (ks - ks[0]) / (ks[-1] - ks[0])
    return int(ks[np.argmax(line - y)])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)

    with probes.span("read_csv"):
        users = read_table(args.data, "users", ["signup_at"])
        orders = read_table(args.data, "orders", ["ordered_at"])
        items = read_table(args.data, "order_items", [])
        events = read_table(args.data, "events", ["occurred_at"])
        reviews = read_table(args.data, "reviews", ["created_at"])

    with probes.span("features") as info:
        features = build_features(users, orders, items, events, reviews)
        info.update(users=len(features), columns=len(features.columns))
        del users, orders, items, events, reviews

    with probes.span("scale_and_kmeans") as info:
        X = StandardScaler().fit_transform(np.log1p(features.clip(lower=0)))
        inertias = [KMeans(n_clusters=k, random_state=SEED).fit(X).inertia_ for k in K_VALUES]
        k = elbow(inertias)
        labels = KMeans(n_clusters=k, random_state=SEED).fit_predict(X)
        info.update(k=k, inertias=[round(i, 1) for i in inertias])

    with probes.span("write_labels"):
        pd.DataFrame({"user_id": features.index, "segment": labels}).to_csv(args.out, index=False)
    print(f"naive baseline: {len(features)} users, {features.shape[1]} features, k={k} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
