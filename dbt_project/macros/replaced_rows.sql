{#
    The rows an incremental run replaced, kept for a model that updates from the change
    instead of re-reading all history (user_ledger: macros/portable.sql, item 3). A model
    with `meta.keep_replaced_rows` (wallet_transactions) has replace_window copy the rows
    it is about to delete to `<model>__replaced`, plus one row per replacement with
    `is_window` set and the run window in `run_min_date`/`run_max_date` (a window that
    held no rows is a change too). It happens in the transaction of the replacement.
    The consumer applies what it finds and empties the table in its own transaction
    (clear_replaced_rows), so a replacement whose consumer did not run yet (a run stopped
    between the two) waits for the next run. DuckDB only: on Spark user_ledger is
    rebuilt whole and nothing is kept.
#}
{% macro replaced_rows_relation(relation) -%}
    {{ return(relation.incorporate(path={"identifier": relation.identifier ~ "__replaced"})) }}
{%- endmacro %}

{% macro create_replaced_rows_table(relation) -%}
    create table if not exists {{ replaced_rows_relation(relation) }} as
    select
        false as is_window,
        cast(null as date) as run_min_date,
        cast(null as date) as run_max_date,
        *
    from {{ relation }}
    limit 0
{%- endmacro %}

{% macro keep_replaced_rows_sql(relation, predicate) -%}
    {%- set first, last = run_window_days() -%}
    {%- set kept = replaced_rows_relation(relation) -%}
    {{ create_replaced_rows_table(relation) }};

    insert into {{ kept }} (is_window, run_min_date, run_max_date)
    values (true, date '{{ first }}', date '{{ last }}');

    insert into {{ kept }}
    select false, date '{{ first }}', date '{{ last }}', *
    from {{ relation }}
    where {{ predicate }};
{%- endmacro %}

{#
    What the consumer finds, read while it compiles: the number of replacements kept and
    the days they span. The table exists once a replacement was kept (before that: none).
#}
{% macro replaced_rows_summary(relation) -%}
    {%- set kept = replaced_rows_relation(relation) -%}
    {%- if not execute -%}
        {#- sqlfluff renders the models without a warehouse: one replacement. -#}
        {{ return({
            "relation": kept, "replacements": 1, "first": "1970-01-01", "last": "2999-12-31"
        }) }}
    {%- endif -%}
    {%- set found = run_query(
        "select count(*) from information_schema.tables where table_schema = '"
        ~ kept.schema ~ "' and table_name = '" ~ kept.identifier ~ "'"
    ).columns[0].values()[0] -%}
    {%- if found == 0 -%}
        {{ return({"relation": kept, "replacements": 0, "first": none, "last": none}) }}
    {%- endif -%}
    {%- set row = run_query(
        "select count(*) filter (where is_window), cast(min(run_min_date) as varchar),"
        ~ " cast(max(run_max_date) as varchar) from " ~ kept
    ).rows[0] -%}
    {{ return({"relation": kept, "replacements": row[0], "first": row[1], "last": row[2]}) }}
{%- endmacro %}

{#  The consumer's hooks: the table exists before it reads it, and is empty after. #}
{% macro prepare_replaced_rows(model_name) -%}
    {{ return(adapter.dispatch('prepare_replaced_rows', 'promo')(model_name)) }}
{%- endmacro %}

{% macro duckdb__prepare_replaced_rows(model_name) -%}
    {{ create_replaced_rows_table(ref(model_name)) }}
{%- endmacro %}

{% macro spark__prepare_replaced_rows(model_name) -%}
    {#- nothing: no rows are kept on Spark -#}
{%- endmacro %}

{% macro clear_replaced_rows(model_name) -%}
    {{ return(adapter.dispatch('clear_replaced_rows', 'promo')(model_name)) }}
{%- endmacro %}

{% macro duckdb__clear_replaced_rows(model_name) -%}
    delete from {{ replaced_rows_relation(ref(model_name)) }}
{%- endmacro %}

{% macro spark__clear_replaced_rows(model_name) -%}
    {#- nothing: no rows are kept on Spark -#}
{%- endmacro %}
