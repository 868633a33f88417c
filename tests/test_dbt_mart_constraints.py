"""The marts' column rules are constraints of the tables themselves (real dbt build, real DuckDB).

`user_features` and `user_rfm_segments` have enforced contracts: their not-null, range and
accepted-value rules are NOT NULL and CHECK constraints that DuckDB applies while dbt builds the
table, instead of dbt tests that read the table after it was written (one Dagster asset check each).
A model that would write a NULL or an out-of-range value fails its build, names the column, and the
table of the last good build stays in place.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from test_dbt_user_features import AS_OF, project_dir, query_df, run_dbt, warehouse  # noqa: F401  (fixtures)

MARTS = ("user_features", "user_rfm_segments")


def declared(model: str) -> tuple[set[str], int]:
    """The columns declared NOT NULL and the number of CHECK rules in the model's YAML."""
    path = Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "marts" / f"{model}.yml"
    columns = yaml.safe_load(path.read_text())["models"][0]["columns"]
    types = [(c["name"], rule["type"]) for c in columns for rule in c.get("constraints", [])]
    return {name for name, kind in types if kind == "not_null"}, sum(kind == "check" for _, kind in types)


def test_the_built_tables_carry_the_declared_rules(warehouse):
    for model in MARTS:
        not_null, checks = declared(model)
        assert len(not_null) > 3 and checks > 3, model  # the YAML was read
        found = query_df(warehouse, f"""
            select constraint_type, constraint_column_names[1] as column_name
            from duckdb_constraints() where schema_name = 'marts' and table_name = '{model}'""")
        assert set(found.column_name[found.constraint_type == "NOT NULL"]) == not_null, model
        assert (found.constraint_type == "CHECK").sum() == checks, model


def test_a_null_feature_fails_the_build_and_keeps_the_last_table(project_dir, warehouse, tmp_path):
    before = query_df(warehouse, "select * from marts.user_features order by user_id")
    broken = tmp_path / "dbt_project"
    shutil.copytree(project_dir, broken, ignore=shutil.ignore_patterns("target", "logs"))
    model = broken / "models" / "marts" / "user_features.sql"
    sql = model.read_text()
    assert "cast(coalesce(orders.monetary, 0) as double) as monetary" in sql
    # A bug that leaves non-buyers' monetary NULL (u2 never ordered).
    model.write_text(sql.replace("coalesce(orders.monetary, 0)", "nullif(coalesce(orders.monetary, 0), 0)"))

    result = run_dbt(broken, warehouse, tmp_path, "build", "--select", "user_features",
                     "--vars", f'{{"as_of_date": "{AS_OF}"}}')

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Failure in model user_features" in output, output[-3000:]
    # dbt builds into user_features__dbt_tmp and swaps it in only when the insert succeeded.
    assert "NOT NULL constraint failed: user_features__dbt_tmp.monetary" in output, output[-3000:]
    after = query_df(warehouse, "select * from marts.user_features order by user_id")
    assert after.equals(before) and after.monetary.notna().all()


def test_the_scores_table_refuses_an_out_of_range_score(warehouse):
    with duckdb.connect(str(warehouse)) as con:
        row = con.execute("select * from marts.user_rfm_segments where r_score is not null limit 1").fetchone()
        columns = [d[0] for d in con.description]
        values = dict(zip(columns, row)) | {"user_id": "someone-else", "r_score": 6}
        with pytest.raises(duckdb.ConstraintException, match="r_score"):
            con.execute(f"insert into marts.user_rfm_segments ({', '.join(columns)}) values "
                        f"({', '.join('?' for _ in columns)})", list(values.values()))
