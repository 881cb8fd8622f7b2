{#
    Everything in this project that DuckDB (the default engine) and Spark spell
    differently: one macro per real difference, dispatched on the target's adapter, with
    the two implementations side by side. The models call only the first macro of each
    pair; the rest of their SQL is accepted by both engines (README.md, "Portable SQL").
#}

{#
    1. Account time. Both sessions run in UTC (profiles.yml); `column_name` is a UTC
    instant (DuckDB TIMESTAMPTZ, Spark TIMESTAMP). The result is the wall-clock time in the
    account timezone, without a zone (DuckDB TIMESTAMP, Spark TIMESTAMP_NTZ), right across
    DST changes and in non-hour offsets (Asia/Kathmandu, +05:45).
#}
{% macro to_account_timestamp(column_name) -%}
    {{ return(adapter.dispatch('to_account_timestamp', 'promo')(column_name)) }}
{%- endmacro %}

{% macro duckdb__to_account_timestamp(column_name) -%}
    timezone('{{ var("account_timezone") }}', {{ column_name }})
{%- endmacro %}

{% macro spark__to_account_timestamp(column_name) -%}
    {#- from_utc_timestamp shifts the instant by the zone's offset: read back in a UTC
        session, the shifted value is the local wall-clock time. -#}
    cast(from_utc_timestamp({{ column_name }}, '{{ var("account_timezone") }}') as timestamp_ntz)
{%- endmacro %}

{#
    2. A series of days: one row per day from `first_day` to `last_day` (inclusive) for
    each row of the relations before it in the FROM clause, as `alias.column` (cast it to
    a date). Written as the whole join clause because Spark's generator is not a table.
#}
{% macro cross_join_day_series(first_day, last_day, alias, column) -%}
    {%- set implementation = adapter.dispatch('cross_join_day_series', 'promo') -%}
    {{ return(implementation(first_day, last_day, alias, column)) }}
{%- endmacro %}

{% macro duckdb__cross_join_day_series(first_day, last_day, alias, column) -%}
    cross join generate_series({{ first_day }}, {{ last_day }}, interval 1 day) as {{ alias }} ({{ column }})
{%- endmacro %}

{% macro spark__cross_join_day_series(first_day, last_day, alias, column) -%}
    lateral view explode(sequence({{ first_day }}, {{ last_day }}, interval 1 day)) {{ alias }} as {{ column }}
{%- endmacro %}

{#
    3. Replacing the run window of an incremental mart (dbt_project.yml picks the
    strategy per engine). What a run replaces is the model's `meta.run_rows`
    (macros/run_window.sql: the window's days, or every day from min_date on for
    wallet_daily_summary); the model must select exactly those rows (same macro) or the
    unique tests fail. The built-in `delete+insert` keyed on local_date, or a bare
    partition overwrite, replaces only the days present in the NEW rows: a day that lost
    all its rows upstream (its lake records quarantined on re-ingestion) would keep stale
    rows forever.

    DuckDB: the custom strategy `replace_window` deletes those rows and inserts the new
    ones, in the transaction of the model's build; with `meta.keep_replaced_rows` it first
    keeps the rows it deletes (macros/replaced_rows.sql). For user_ledger
    (`window_users`) it deletes the rows of every user and wallet the model updated, and
    of every one with kept rows of `meta.changes_from` (one whose rows all went away has
    no new row).
#}
{% macro get_incremental_replace_window_sql(arg_dict) %}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set source = arg_dict["temp_relation"] -%}
    {%- set run_rows = (config.get("meta") or {}).get("run_rows") -%}
    {%- if run_rows == "window_users" -%}
        {%- set kept = replaced_rows_relation(ref(config.get("meta")["changes_from"])) -%}
        {%- set predicate = "(wallet_id, user_id) in (select wallet_id, user_id from " ~ source
            ~ ") or (wallet_id, user_id) in (select wallet_id, user_id from " ~ kept
            ~ " where not is_window)" -%}
    {%- else -%}
        {%- set predicate = run_rows_predicate_of(run_rows) -%}
    {%- endif -%}
    {%- if not predicate -%}
        {{ exceptions.raise_compiler_error(this ~ ": replace_window needs meta.run_rows") }}
    {%- endif -%}
    {%- set dest_cols_csv = get_quoted_csv(arg_dict["dest_columns"] | map(attribute="name")) -%}
    {%- if (config.get("meta") or {}).get("keep_replaced_rows") %}
        {{ keep_replaced_rows_sql(target, predicate) }}
    {%- endif %}

    delete from {{ target }}
    where {{ predicate }};

    insert into {{ target }} ({{ dest_cols_csv }})
    select {{ dest_cols_csv }}
    from {{ source }}
{% endmacro %}

{#
    Spark: dbt-spark accepts only its own strategies and plain Parquet tables refuse
    DELETE, so marts are partitioned by local_date and built with `insert_overwrite`,
    which overwrites the partitions present in the new rows. This pre-hook (every mart
    has it) first drops the window's partitions that exist, so a window day with no new
    rows ends up empty as on DuckDB. Not atomic: a failed build leaves the window's
    days missing until the next run (Delta's `replace_where` on Databricks is).
#}
{% macro clear_run_window() -%}
    {{ return(adapter.dispatch('clear_run_window', 'promo')()) }}
{%- endmacro %}

{% macro duckdb__clear_run_window() -%}
    {#- nothing: replace_window deletes the window itself -#}
{%- endmacro %}

{% macro spark__clear_run_window() -%}
    {%- if execute and is_incremental() -%}
        {%- set predicate = run_rows_predicate_of((config.get("meta") or {}).get("run_rows")) -%}
        {%- set days = run_query(
            "select distinct cast(local_date as string) from " ~ this ~ " where " ~ predicate
        ).columns[0].values() -%}
        {%- if days | length > 0 -%}
            alter table {{ this }} drop if exists
            {%- for day in days %}
                partition (local_date = '{{ day }}'){{ "," if not loop.last }}
            {%- endfor %}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#
    4. The lake as the `lake` source. DuckDB reads it in place through each source
    table's `external_location` (read_parquet, _lake__sources.yml). On Spark this
    on-run-start hook (re)creates one view per source table (`lake.<table>`) over the
    table's `meta.lake_path` (Spark lists the hive folders on every query, so new UTC
    folders need no partition repair, and `utc_date` comes back as a DATE).
#}
{% macro register_lake() -%}
    {{ return(adapter.dispatch('register_lake', 'promo')()) }}
{%- endmacro %}

{% macro duckdb__register_lake() -%}
    {#- nothing: external_location -#}
{%- endmacro %}

{% macro spark__register_lake() -%}
    {%- if execute -%}
        {%- set tables = graph.sources.values() | selectattr("source_name", "==", "lake") | list -%}
        {%- for schema in tables | map(attribute="schema") | unique -%}
            {%- do run_query("create schema if not exists " ~ schema) -%}
        {%- endfor -%}
        {%- for table in tables -%}
            {%- do run_query(
                "create or replace view " ~ table.schema ~ "." ~ table.identifier
                ~ " as select * from parquet.`" ~ var("lake_dir") ~ "/" ~ table.meta.lake_path ~ "`"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
