"""Per-segment association rules with real mlxtend (Apriori on dense baskets, FP-growth on sparse) on a shop with a planted rule."""

from __future__ import annotations

import pandas as pd
import pytest

from segmentation_pipeline.ml.associations import COLUMNS, mine_segment_rules

TENTS, BAGS, LANTERN, SNACKS = "tents", "sleeping bags", "lantern", "snacks"


def _segment(segment_id: int, n: int, with_tents: int, tents_and_bags: int, bags_only: int, lantern: int = 0):
    """n baskets: `with_tents` hold tents (`tents_and_bags` of them also bags, the first `lantern` of
    those also a lantern), `bags_only` hold bags without tents, the rest only snacks."""
    rows = []
    for basket in range(n):
        if basket < with_tents:
            items = [TENTS, TENTS]  # a duplicate line in the basket counts once
            if basket < tents_and_bags:
                items.append(BAGS)
            if basket < lantern:
                items.append(LANTERN)
        elif basket < with_tents + bags_only:
            items = [BAGS]
        else:
            items = [SNACKS]
        rows += [(segment_id, f"b{basket}", item) for item in items]  # basket ids repeat across segments
    return rows


@pytest.fixture
def baskets() -> pd.DataFrame:
    # Segment 1: 25 of 100 baskets hold tents, 80% of those (20) also sleeping bags, against a
    # 20% base rate elsewhere (15 of 75); 10 tent+bag baskets also hold a lantern.
    # Segment 2: same item rates but independent: 20% of tent baskets hold bags (5 of 25).
    # Segment 3: the rule holds in every basket but there are only 5 baskets.
    rows = _segment(1, 100, 25, 20, 15, lantern=10) + _segment(2, 100, 25, 5, 15) + _segment(3, 5, 5, 5, 0)
    return pd.DataFrame(rows, columns=["segment_id", "basket_id", "item"])


def _rule(rules: pd.DataFrame, segment: int, antecedent: str, consequent: str) -> pd.Series:
    match = rules[(rules.segment_id == segment) & (rules.antecedent == antecedent) & (rules.consequent == consequent)]
    assert len(match) == 1, rules
    return match.iloc[0]


def test_planted_rule_is_found_with_hand_computed_metrics(baskets):
    rules = mine_segment_rules(baskets, min_support=0.1, min_confidence=0.5, max_len=2)
    rule = _rule(rules, 1, TENTS, BAGS)
    # support = 20/100; confidence = 20/25; lift = 0.8 / P(bags) = 0.8 / (35/100)
    assert (rule.support, rule.confidence, rule.lift) == (0.2, 0.8, round(0.8 / 0.35, 4))
    assert (rule.baskets, rule.rule_baskets) == (100, 20)
    reverse = _rule(rules, 1, BAGS, TENTS)  # confidence 20/35, lift (20/35) / (25/100)
    assert (reverse.confidence, reverse.lift) == (round(20 / 35, 4), round(0.8 / 0.35, 4))
    assert 2 not in set(rules.segment_id)  # pair support 5/100 < 0.1 and confidence 0.2 < 0.5
    assert 3 not in set(rules.segment_id)  # 5 baskets < min_baskets
    assert rules.columns.tolist() == COLUMNS and (rules.antecedent.str.count(r"\+") == 0).all()


def test_segment_two_rule_has_lift_one_when_thresholds_allow(baskets):
    rules = mine_segment_rules(baskets, min_support=0.05, min_confidence=0.2, max_len=2)
    rule = _rule(rules, 2, TENTS, BAGS)
    assert (rule.support, rule.confidence, rule.lift, rule.rule_baskets) == (0.05, 0.2, 1.0, 5)


def test_thresholds_filter(baskets):
    strict = mine_segment_rules(baskets, min_support=0.1, min_confidence=0.6, max_len=2)
    # lifts: lantern->tents 1/0.25 = 4; lantern->bags 1/0.35 and tents->bags 0.8/0.35 tie, confidence decides
    assert strict[["segment_id", "antecedent", "consequent", "confidence"]].values.tolist() == [
        [1, LANTERN, TENTS, 1.0], [1, LANTERN, BAGS, 1.0], [1, TENTS, BAGS, 0.8]]
    assert mine_segment_rules(baskets, min_support=0.21, min_confidence=0.1, max_len=3).empty


def test_three_item_rules_and_ordering(baskets):
    rules = mine_segment_rules(baskets, min_support=0.1, min_confidence=0.5, max_len=3)
    top = rules.iloc[0]
    # lantern (10 baskets) always comes with tents and bags (20 baskets): lift 1 / 0.2 = 5
    assert (top.antecedent, top.consequent, top.confidence, top.lift) == (LANTERN, f"{BAGS} + {TENTS}", 1.0, 5.0)
    second = rules.iloc[1]  # same lift, lower confidence (10/20)
    assert (second.antecedent, second.consequent, second.confidence, second.lift) == (f"{BAGS} + {TENTS}", LANTERN,
                                                                                      0.5, 5.0)
    assert rules.lift.is_monotonic_decreasing
    assert mine_segment_rules(baskets, 0.1, 0.5, max_len=2).antecedent.str.contains(r"\+").sum() == 0
    shuffled = baskets.sample(frac=1, random_state=3).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine_segment_rules(shuffled, 0.1, 0.5, max_len=3), rules)


def test_small_segments_are_skipped_unless_min_baskets_allows(baskets):
    assert 3 not in set(mine_segment_rules(baskets, 0.1, 0.5).segment_id)
    small = mine_segment_rules(baskets, 0.1, 0.5, min_baskets=5)
    assert _rule(small, 3, TENTS, BAGS).confidence == 1.0 and _rule(small, 3, TENTS, BAGS).baskets == 5


def test_empty_input_and_no_rules_keep_columns_and_dtypes(baskets):
    empty_in = pd.DataFrame({"segment_id": pd.Series(dtype="int64"), "basket_id": pd.Series(dtype="str"),
                             "item": pd.Series(dtype="str")})
    for result in (mine_segment_rules(empty_in, 0.1, 0.5),
                   mine_segment_rules(baskets, 0.99, 0.5),
                   mine_segment_rules(baskets, 0.1, 0.5, min_baskets=1000)):
        assert result.empty and result.columns.tolist() == COLUMNS
        assert result.dtypes.astype(str).tolist() == ["int64", "str", "str", "float64", "float64", "float64",
                                                      "int64", "int64"]
    found = mine_segment_rules(baskets, 0.1, 0.5)
    assert found.dtypes.astype(str).tolist() == ["int64", "str", "str", "float64", "float64", "float64",
                                                 "int64", "int64"]


def test_sparse_fp_growth_finds_the_same_rules_as_dense_apriori(baskets, monkeypatch):
    import segmentation_pipeline.ml.associations as associations

    dense = mine_segment_rules(baskets, min_support=0.05, min_confidence=0.1, max_len=3)
    monkeypatch.setattr(associations, "DENSE_CELLS", 0)  # every segment's matrix counts as large
    sparse = mine_segment_rules(baskets, min_support=0.05, min_confidence=0.1, max_len=3)
    assert len(dense) > 5 and {len(a.split(" + ")) for a in dense["antecedent"]} == {1, 2}
    pd.testing.assert_frame_equal(sparse, dense)
