"""Configuration errors name the file, the key and what is allowed."""

from __future__ import annotations

import pytest

from segmentation_pipeline.config import ConfigError, load_config
from segmentation_pipeline.settings import load_settings


def test_missing_file_means_defaults(tmp_path):
    config = load_config(tmp_path / "absent.yaml")
    assert config.clustering.k_min == 2 and config.orders.columns == {}


def test_unknown_key_is_named(tmp_path):
    path = tmp_path / "segmentation.yaml"
    path.write_text("order: {path: x.csv}\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(path) in str(error.value) and "order" in str(error.value) and "orders" in str(error.value)


def test_bad_as_of_and_missing_config_file(tmp_path):
    (tmp_path / "ok.yaml").write_text("as_of: 2026-06-30\n")
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        load_settings({"SEGMENTATION_AS_OF": "30/06/2026", "SEGMENTATION_CONFIG": str(tmp_path / "ok.yaml")})
    assert load_settings({"SEGMENTATION_CONFIG": str(tmp_path / "ok.yaml")}).as_of_override.isoformat() == "2026-06-30"
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({"SEGMENTATION_CONFIG": str(tmp_path / "none.yaml")})
