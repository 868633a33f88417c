"""Segmentation models: plain scikit-learn code with no Dagster imports."""
