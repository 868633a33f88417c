"""A supervised segment classifier trained on the cluster labels.

It assigns users who appear between re-clusterings and gives `segment_confidence`. Five
candidates, each a Pipeline (the same preprocessing as the clustering, then the model), are
compared by stratified K-fold cross-validated macro F1 on a training split of (a sample of) the
users; the best is refitted on the whole training split and measured on the held-out split
(accuracy, macro F1, confusion matrix).

segment_confidence = the classifier's predicted probability of the user's assigned segment.
For users in the training split it is the out-of-fold probability (from the cross-validation
fold that did not see the user), so no user is scored by a model trained on them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

from segmentation_pipeline.ml.algorithms import sample_rows
from segmentation_pipeline.ml.config import SegmentationConfig
from segmentation_pipeline.ml.preprocessing import MODEL_FEATURES, build_preprocessor, numeric_frame


def candidate_classifiers(config: SegmentationConfig) -> dict[str, Pipeline]:
    seed = config.seed
    models = {
        "decision_tree": DecisionTreeClassifier(max_depth=8, min_samples_leaf=5, random_state=seed),
        "logistic_regression": LogisticRegression(max_iter=2000, C=1.0),
        "gaussian_nb": GaussianNB(),
        "random_forest": RandomForestClassifier(n_estimators=100, min_samples_leaf=2, random_state=seed, n_jobs=1),
        "hist_gradient_boosting": HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1,
                                                                 early_stopping=False, random_state=seed),
    }
    return {
        name: Pipeline([("preprocess", build_preprocessor(config.winsor_quantiles, None, seed)), ("model", model)])
        for name, model in models.items()
    }


@dataclass
class ClassifierResult:
    name: str
    model: Pipeline  # fitted on the training split; input: user_features columns
    comparison: pd.DataFrame  # one row per candidate: cv macro F1 (mean, sd), cv accuracy, seconds
    accuracy: float  # held-out
    macro_f1: float  # held-out
    confusion: pd.DataFrame  # held-out; rows = cluster segment, columns = predicted segment
    train_rows: np.ndarray  # positions (in the features given) of the training split
    test_rows: np.ndarray  # positions of the held-out split
    oof_proba: np.ndarray = field(repr=False)  # out-of-fold probabilities of the training rows
    classes: np.ndarray = field(default_factory=lambda: np.array([]))

    def metrics(self) -> dict[str, float | str]:
        best = self.comparison.set_index("classifier").loc[self.name]
        return {
            "classifier": self.name,
            "cv_macro_f1": round(float(best["cv_macro_f1"]), 4),
            "test_accuracy": round(self.accuracy, 4),
            "test_macro_f1": round(self.macro_f1, 4),
            "train_users": int(len(self.train_rows)),
            "test_users": int(len(self.test_rows)),
        }


def _split(labels: np.ndarray, config: SegmentationConfig) -> tuple[np.ndarray, np.ndarray]:
    rows = sample_rows(len(labels), config.classifier_sample_size, config.seed)
    try:  # stratified when every segment can appear on both sides, else a plain random split
        train, test = train_test_split(rows, test_size=config.test_share, random_state=config.seed,
                                       stratify=labels[rows])
    except ValueError:
        train, test = train_test_split(rows, test_size=config.test_share, random_state=config.seed)
    return np.sort(train), np.sort(test)


def train_classifier(features: pd.DataFrame, labels: np.ndarray, config: SegmentationConfig) -> ClassifierResult:
    """Compare the candidates by cross-validated macro F1, keep the best, measure it on held-out users."""
    X = numeric_frame(features, MODEL_FEATURES)
    y = np.asarray(labels)
    train, test = _split(y, config)
    counts = np.bincount(y[train])
    folds = int(max(2, min(config.classifier_folds, counts[counts > 0].min())))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    classes = np.unique(y[train])
    splits = list(cv.split(train, y[train]))

    def fold(pipeline: Pipeline, fit_idx: np.ndarray, val_idx: np.ndarray) -> np.ndarray:
        with threadpool_limits(limits=config.threads):  # OpenMP limits are per thread
            model = clone(pipeline).fit(X.iloc[train[fit_idx]], y[train[fit_idx]])
            fold_proba = np.zeros((len(val_idx), len(classes)))
            fold_proba[:, np.searchsorted(classes, model.classes_)] = model.predict_proba(X.iloc[train[val_idx]])
        return fold_proba

    rows, oof = [], {}
    # Folds are independent fits, so fitting them a few at a time gives the same numbers.
    with Parallel(n_jobs=config.parallel_fits, backend="threading") as parallel:
        for name, pipeline in candidate_classifiers(config).items():
            started, proba = time.perf_counter(), np.zeros((len(train), len(classes)))
            f1s, accs = [], []
            fold_probas = parallel(delayed(fold)(pipeline, fit_idx, val_idx) for fit_idx, val_idx in splits)
            for (_, val_idx), fold_proba in zip(splits, fold_probas):
                proba[val_idx] = fold_proba
                predicted = classes[fold_proba.argmax(axis=1)]
                f1s.append(f1_score(y[train[val_idx]], predicted, average="macro"))
                accs.append(accuracy_score(y[train[val_idx]], predicted))
            oof[name] = proba
            rows.append({"classifier": name, "cv_macro_f1": float(np.mean(f1s)),
                         "cv_macro_f1_sd": float(np.std(f1s)), "cv_accuracy": float(np.mean(accs)),
                         "seconds": round(time.perf_counter() - started, 2)})
    comparison = pd.DataFrame(rows)
    best = comparison.sort_values("cv_macro_f1", ascending=False, kind="stable").iloc[0]["classifier"]
    comparison["chosen"] = comparison["classifier"] == best
    model = clone(candidate_classifiers(config)[best]).fit(X.iloc[train], y[train])
    predicted = model.predict(X.iloc[test])
    confusion = pd.DataFrame(
        confusion_matrix(y[test], predicted, labels=classes),
        index=pd.Index(classes, name="segment"), columns=pd.Index(classes, name="predicted"),
    )
    return ClassifierResult(
        name=best, model=model, comparison=comparison,
        accuracy=float(accuracy_score(y[test], predicted)),
        macro_f1=float(f1_score(y[test], predicted, average="macro")),
        confusion=confusion, train_rows=train, test_rows=test, oof_proba=oof[best], classes=classes,
    )


def predict_proba(model: Pipeline, features: pd.DataFrame, batch_size: int = 200_000) -> np.ndarray:
    X = numeric_frame(features, MODEL_FEATURES)
    return np.vstack([model.predict_proba(X.iloc[i:i + batch_size]) for i in range(0, max(len(X), 1), batch_size)])


def segment_confidence(result: ClassifierResult, features: pd.DataFrame, labels: np.ndarray) -> np.ndarray:
    """P(assigned segment) per user: out-of-fold for training users, the fitted model for the rest."""
    labels = np.asarray(labels)
    proba = predict_proba(result.model, features)
    classes = result.model.classes_
    position = np.searchsorted(classes, labels).clip(0, len(classes) - 1)
    confidence = np.where(classes[position] == labels, proba[np.arange(len(labels)), position], 0.0)
    oof_columns = np.searchsorted(result.classes, labels[result.train_rows])
    confidence[result.train_rows] = result.oof_proba[np.arange(len(result.train_rows)), oof_columns]
    return np.clip(confidence, 0.0, 1.0)
