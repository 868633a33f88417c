{#-
    Incremental row checks: on a night that only adds landing files, the
    models in models/staging/base (base_shop__<table>s_checked) re-check only
    the rows whose verdict can have changed, and end up exactly as a full
    rebuild would (tests/test_incremental_row_checks.py).

    A row's verdict depends only on the rows with the same key (compared as
    typed, see dq_delivered_rows: exact duplicates, key_is_repeated and
    duplicate_id_conflict all look within one key), on the rules (model and
    macro SQL, vars, seeds) and, for future_timestamp, on the run's time. So
    an incremental build re-checks every row, old or new, whose key occurs in
    a landing file loaded since the last build, plus every key with a row that
    failed future_timestamp (the cut-off moves forward each night): it deletes
    those keys' rows and inserts their fresh verdicts, computed over all raw
    rows with those keys (strategy recheck_keys). Every other row is kept.

    Bookkeeping: staging._checked_tables, one row per checked table, says
    which landing files, as (file, loaded_at) of raw._landing_files, and which
    rules_signature its verdicts were computed from. A new file is one in
    raw._landing_files but not in that list. The build is a full rebuild, as
    with `dbt build --full-refresh`, when the table or its bookkeeping row does
    not exist, raw._landing_files does not exist (raw tables not loaded by the
    ingestion), the rules signature changed, or a file it was built from was
    withdrawn or reloaded (its (file, loaded_at) is gone from the manifest; a
    whole-table reload gives every file a new loaded_at). To force one on the
    next run, delete the table's row from staging._checked_tables.

    Wiring (dbt_project.yml, models/staging/base): materialized incremental,
    incremental_strategy recheck_keys, unique_key = the model's key (set in
    the model), on-run-start create_checked_tables, post-hook
    record_checked_files. The models pass their source through
    rows_to_check. should_full_refresh (below) overrides dbt's built-in macro
    so that dbt's incremental materialization takes its full-refresh path
    when the bookkeeping says the table is stale.
-#}

{#- The bookkeeping table (schema staging, beside the checked tables). -#}
{% macro checked_tables_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='staging', identifier='_checked_tables')) }}
{%- endmacro %}

{#-
    on-run-start: create the bookkeeping table once per run, before any model
    runs. Created by the checked models' own post-hooks instead, two of them
    running in parallel on a new warehouse would both create it, and DuckDB
    fails the second with a write-write conflict.
-#}
{% macro create_checked_tables() -%}
    create schema if not exists {{ checked_tables_relation().without_identifier() }};
    create table if not exists {{ checked_tables_relation() }} (
        model varchar,                  -- the checked model, e.g. base_shop__events_checked
        source_table varchar,           -- its raw table, e.g. events
        rules_signature varchar,        -- row_checks_signature() of the build
        files struct(file varchar, loaded_at timestamp)[],  -- raw._landing_files rows covered
        last_build varchar,             -- 'full' or 'incremental'
        full_rebuild_reason varchar,    -- why the last build was full (NULL if incremental)
        built_at timestamp              -- the run's run_started_at (UTC)
    )
{%- endmacro %}

{#-
    A hash of everything the verdicts depend on besides the raw rows and the
    run's time: the model SQL, the project macros it calls (transitively, so
    data_quality.sql, cleaning.sql, ... and this file), the values of the vars
    those read (e.g. amount_ceiling), the content of the seeds it reads (e.g.
    accepted_event_types), and the dbt and DuckDB versions.
-#}
{% macro row_checks_signature() -%}
    {%- set parts = [model.raw_code, dbt_version] -%}
    {%- set pending = model.depends_on.macros | list -%}
    {%- set seen = [] -%}
    {#- Jinja's for loop also visits the items appended while it runs: a worklist. -#}
    {%- for unique_id in pending -%}
        {%- if unique_id not in seen and unique_id.startswith('macro.' ~ project_name ~ '.') -%}
            {%- do seen.append(unique_id) -%}
            {%- set called = context[unique_id.split('.')[-1]].macro -%}
            {%- do parts.append(called.macro_sql) -%}
            {%- do pending.extend(called.depends_on.macros) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set var_names = [] -%}
    {%- for text in parts -%}
        {%- for name in modules.re.findall("var\(\s*['\"](\w+)['\"]", text) -%}
            {%- if name not in var_names -%}{%- do var_names.append(name) -%}{%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for name in var_names | sort -%}
        {%- do parts.append(name ~ '=' ~ var(name, '')) -%}
    {%- endfor -%}
    {%- set content_query -%}
        select version()
        {%- for unique_id in model.depends_on.nodes if unique_id.startswith('seed.') %}
            {%- set seed = graph.nodes[unique_id] %}
        union all
        select md5(coalesce(string_agg(seed_row::varchar, chr(10) order by seed_row::varchar), ''))
        from {{ api.Relation.create(database=seed.database, schema=seed.schema, identifier=seed.alias) }} as seed_row
        {%- endfor %}
    {%- endset -%}
    {%- for row in run_query(content_query) -%}
        {%- do parts.append(row[0]) -%}
    {%- endfor -%}
    {{ return(local_md5(parts | join('\n--\n'))) }}
{%- endmacro %}

{#- The model's raw table (its only source), e.g. `events`. -#}
{% macro checked_source_table() -%}
    {%- if model.sources | length != 1 -%}
        {{ exceptions.raise_compiler_error(model.name ~ ": a checked model reads exactly one raw table, found " ~ model.sources) }}
    {%- endif -%}
    {{ return(model.sources[0][1]) }}
{%- endmacro %}

{#-
    What the bookkeeping says about the current model's table:
    {full_rebuild_reason: why it must be rebuilt in full (none: incremental),
     new_files: landing files loaded since its last build,
     signature: row_checks_signature(), has_landing_files: raw._landing_files exists}.
    Reads raw._landing_files and staging._checked_tables; call only when `execute`.
-#}
{% macro checked_table_state() -%}
    {%- set existing = run_query(
        "select table_schema || '.' || table_name from information_schema.tables"
        ~ " where table_catalog = current_database() and (table_schema, table_name) in (('raw', '_landing_files'), ('staging', '_checked_tables'),"
        ~ " ('" ~ this.schema ~ "', '" ~ this.identifier ~ "'))"
    ).columns[0].values() -%}
    {%- set state = {
        'full_rebuild_reason': none,
        'new_files': [],
        'signature': row_checks_signature(),
        'has_landing_files': 'raw._landing_files' in existing,
    } -%}
    {%- set recorded = [] if 'staging._checked_tables' not in existing else run_query(
        "select rules_signature from " ~ checked_tables_relation() ~ " where model = '" ~ model.name ~ "'"
    ).columns[0].values() -%}
    {%- if this.schema ~ '.' ~ this.identifier not in existing -%}
        {%- do state.update({'full_rebuild_reason': 'first build'}) -%}
    {%- elif not state.has_landing_files -%}
        {%- do state.update({'full_rebuild_reason': 'no raw._landing_files (raw tables not loaded by the ingestion)'}) -%}
    {%- elif recorded | length == 0 -%}
        {%- do state.update({'full_rebuild_reason': 'no record in staging._checked_tables (first build)'}) -%}
    {%- elif recorded[0] != state.signature -%}
        {%- do state.update({'full_rebuild_reason': 'rules changed (model or macro SQL, vars, seeds or versions)'}) -%}
    {%- endif -%}
    {%- if state.full_rebuild_reason is not none -%}
        {{ return(state) }}
    {%- endif -%}
    {%- set changes -%}
        with
        covered as (
            select unnest(files, recursive := true)
            from {{ checked_tables_relation() }}
            where model = '{{ model.name }}'
        ),
        landed as (
            select file, loaded_at from raw._landing_files where table_name = '{{ checked_source_table() }}'
        )
        select 'gone' as change, file from (select file, loaded_at from covered except select file, loaded_at from landed)
        union all
        select 'new', file from (select file, loaded_at from landed except select file, loaded_at from covered)
        order by change, file
    {%- endset -%}
    {%- set gone = [] -%}
    {%- for row in run_query(changes) -%}
        {%- do (gone if row[0] == 'gone' else state.new_files).append(row[1]) -%}
    {%- endfor -%}
    {%- if gone -%}
        {%- do state.update({'full_rebuild_reason': 'file(s) withdrawn or reloaded since the last build: ' ~ gone | join(', ')}) -%}
    {%- endif -%}
    {{ return(state) }}
{%- endmacro %}

{#-
    Override of dbt's built-in should_full_refresh (the incremental
    materialization and is_incremental() ask it): also true for a checked
    model whose bookkeeping says it is stale (checked_table_state). Every
    other node gets dbt's answer (--full-refresh, or its full_refresh config).
-#}
{% macro should_full_refresh() -%}
    {%- set asked = dbt.should_full_refresh() -%}
    {%- if not asked and execute and config.get('incremental_strategy') == 'recheck_keys' -%}
        {{ return(checked_table_state().full_rebuild_reason is not none) }}
    {%- endif -%}
    {{ return(asked) }}
{%- endmacro %}

{#-
    The raw rows a checked model must (re-)check: `relation` itself in a full
    build; in an incremental build, its rows whose `key` (compared as typed,
    like dq_delivered_rows: NULL/blank keys are one key) occurs in a new
    landing file or in a row of the table that failed future_timestamp. Only
    `columns` and the lineage columns are selected (users: no PII).

    The key columns must keep their names in the checked table (event_id, ...),
    typed with clean_cast(<column>, 'varchar').

    The rows are found in two parts: every row of the new files (all their
    keys are re-checked), and the earlier rows whose key is to be re-checked.
    Those are looked up in the checked table itself, which holds every earlier
    raw row with its key already cleaned, and fetched from `relation` by their
    lineage (_source_file, _source_row): cleaning the key of every raw row
    again took 5 s of a night at 1M users. The checked table keeps
    _source_file trimmed, so a table with a landing file whose name starts or
    ends with whitespace falls back to cleaning every raw key.
-#}
{% macro rows_to_check(relation, columns, key) -%}
    {%- if not is_incremental() -%}
        {%- if execute -%}
            {%- set reason = 'dbt --full-refresh' if dbt.should_full_refresh() else checked_table_state().full_rebuild_reason -%}
            {%- do log(model.name ~ ': full rebuild (' ~ reason ~ ')', info=true) -%}
        {%- endif -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set new_files = checked_table_state().new_files -%}
    {%- do log(model.name ~ ': incremental, re-checking the keys of ' ~ new_files | length
        ~ ' new file(s) and of future_timestamp rows', info=true) -%}
    {%- set padded_names = run_query(
        "select count(*) from raw._landing_files where table_name = '" ~ checked_source_table()
        ~ "' and file <> trim(file)"
    ).columns[0].values()[0] -%}
    {%- set selected = [] -%}
    {%- for column in columns -%}{%- do selected.append(adapter.quote(column)) -%}{%- endfor -%}
    {%- do selected.extend(['_source_file', '_source_row']) -%}
    {%- set new_file_list -%}
        ({% for file in new_files %}'{{ file | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- endset -%}
    {%- set keys_to_check -%}
        (
            -- keys delivered in a new file: their old rows may now be duplicates or conflicts
            {%- if new_files %}
            select
                {%- for column in key %}
                {{ clean_cast(adapter.quote(column), 'varchar') }} as key_{{ loop.index }}{{ ',' if not loop.last }}
                {%- endfor %}
            from {{ relation }}
            where _source_file in {{ new_file_list }}
            union
            {%- endif %}
            -- keys with a row that was in the future at the last build: the cut-off has moved
            select
                {%- for column in key %}
                {{ adapter.quote(column) }} as key_{{ loop.index }}{{ ',' if not loop.last }}
                {%- endfor %}
            from {{ this }}
            where quarantine_reason = 'future_timestamp'
        ) as keys_to_check
    {%- endset -%}
    {%- set query -%}
    (
        {%- if padded_names > 0 %}
        select {{ selected | join(', ') }}
        from {{ relation }} as delivered
        semi join {{ keys_to_check }}
            on {% for column in key -%}
                keys_to_check.key_{{ loop.index }} is not distinct from {{ clean_cast('delivered.' ~ adapter.quote(column), 'varchar') }}
                {{- ' and ' if not loop.last }}
            {%- endfor %}
        {%- else %}
        {%- if new_files %}
        -- the new files' rows: every key they deliver is re-checked
        select {{ selected | join(', ') }}
        from {{ relation }}
        where _source_file in {{ new_file_list }}
        union all
        {%- endif %}
        -- earlier rows with a key to re-check, found by their cleaned key in the checked table
        select delivered.{{ selected | join(', delivered.') }}
        from {{ relation }} as delivered
        semi join (
            select checked._source_file, checked._source_row
            from {{ this }} as checked
            semi join {{ keys_to_check }}
                on {% for column in key -%}
                    keys_to_check.key_{{ loop.index }} is not distinct from checked.{{ adapter.quote(column) }}
                    {{- ' and ' if not loop.last }}
                {%- endfor %}
        ) as earlier
            on earlier._source_file = delivered._source_file and earlier._source_row = delivered._source_row
        {%- endif %}
    )
    {%- endset -%}
    {{ return(query) }}
{%- endmacro %}

{#-
    Incremental strategy recheck_keys (config incremental_strategy): delete
    every row of the table whose `unique_key` (the model's key) is among the
    freshly checked rows, then insert those rows. Like dbt's delete+insert,
    but NULL keys match NULL keys (is not distinct from), as in the rules.
-#}
{% macro get_incremental_recheck_keys_sql(arg_dict) -%}
    {%- set target_relation = arg_dict['target_relation'] -%}
    {%- set checked_rows = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set column_list = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target_relation }} as checked
    where exists (
        select 1
        from {{ checked_rows }} as rechecked
        where {% for column in key -%}
            rechecked.{{ adapter.quote(column) }} is not distinct from checked.{{ adapter.quote(column) }}
            {{- ' and ' if not loop.last }}
        {%- endfor %}
    );

    insert into {{ target_relation }} ({{ column_list }})
    select {{ column_list }} from {{ checked_rows }}
{%- endmacro %}

{#-
    post-hook: record in staging._checked_tables what the table now covers:
    every file raw._landing_files lists for its raw table (an incremental
    build has added the new ones to what it covered), and the rules signature.
    Runs in the model's transaction, so the table and its record commit together.
-#}
{% macro record_checked_files() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set state = checked_table_state() -%}
    {%- set reason = 'dbt --full-refresh' if dbt.should_full_refresh() else state.full_rebuild_reason -%}
    delete from {{ checked_tables_relation() }} where model = '{{ model.name }}';
    insert into {{ checked_tables_relation() }}
    select
        '{{ model.name }}',
        '{{ checked_source_table() }}',
        '{{ state.signature }}',
        {%- if state.has_landing_files %}
        (
            select coalesce(list({'file': file, 'loaded_at': loaded_at} order by file), [])
            from raw._landing_files
            where table_name = '{{ checked_source_table() }}'
        ),
        {%- else %}
        [],
        {%- endif %}
        '{{ 'incremental' if reason is none else 'full' }}',
        {{ "'" ~ reason | replace("'", "''") ~ "'" if reason is not none else 'null' }},
        timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}'
{%- endmacro %}
