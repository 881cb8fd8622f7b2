{#
    The run window: account-timezone days, first and last inclusive, as ISO text.
    The orchestrator sets them in the dbt process's environment (PROMO_DBT_MIN_DATE,
    PROMO_DBT_MAX_DATE; promo/dbt_vars.py says why not --vars); by hand, the vars
    min_date/max_date work too (the environment wins). Neither set: all history.

    Read only while executing, never while parsing: dbt saves what it parsed and the next
    run reuses it (partial parsing), so a window read at parse time would be the window of
    the run that last parsed the file. Hence no window in a model's config() either
    (wallet_daily_summary says `replace_from_window_start` instead of a predicate).
#}
{% macro run_window_days() -%}
    {%- if not execute -%}
        {{ return(["1970-01-01", "2999-12-31"]) }}
    {%- endif -%}
    {%- set first = env_var("PROMO_DBT_MIN_DATE", var("min_date") | string) -%}
    {%- set last = env_var("PROMO_DBT_MAX_DATE", var("max_date") | string) -%}
    {%- if first > last -%}
        {{ exceptions.raise_compiler_error(
            "empty run window: min_date " ~ first ~ " is after max_date " ~ last) }}
    {%- endif -%}
    {{ return([first, last]) }}
{%- endmacro %}

{#
    The window as a predicate on an account-timezone day column.
    `through_latest`: from min_date on, with no upper bound (wallet_daily_summary).
#}
{% macro run_window_predicate(local_date_column='local_date', through_latest=false) -%}
    {%- set first, last = run_window_days() -%}
    {%- if through_latest -%}
        {{ local_date_column }} >= date '{{ first }}'
    {%- else -%}
        {{ local_date_column }} between date '{{ first }}' and date '{{ last }}'
    {%- endif -%}
{%- endmacro %}

{#
    The lake folders (UTC dates) that can hold events of the run window: an account day
    spans at most one UTC date on each side (offsets are within -12h..+14h). A filter on
    the hive partition column lets DuckDB skip every other folder without opening it.
#}
{% macro lake_folders_predicate(utc_date_column='utc_date') -%}
    {%- set first, last = run_window_days() -%}
    {{ utc_date_column }} between date '{{ first }}' - 1 and date '{{ last }}' + 1
{%- endmacro %}

{#
    The rows of a model that a run rewrites, from the model's `meta.run_rows`
    (dbt_project.yml), as a predicate on the model's columns: `window` (local_date in the
    window), `from_window_start` (local_date >= min_date: wallet_daily_summary),
    `lake_window` (views over the lake: the window's days in the window's folders), or
    none (every row). `window_users` (user_ledger, DuckDB: the users whose rows the run
    replaces, macros/portable.sql) is none here: the ledger holds one row per user and
    wallet, and its tests read it whole.
#}
{% macro run_rows_predicate_of(run_rows) -%}
    {%- if run_rows == "window" -%}
        {{ return(run_window_predicate("local_date")) }}
    {%- elif run_rows == "from_window_start" -%}
        {{ return(run_window_predicate("local_date", through_latest=true)) }}
    {%- elif run_rows == "lake_window" -%}
        {{ return(lake_folders_predicate("utc_date") ~ " and " ~ run_window_predicate("local_date")) }}
    {%- elif run_rows is none or run_rows == "window_users" -%}
        {{ return(none) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("unknown meta.run_rows: " ~ run_rows) }}
{%- endmacro %}

{#  The same for the model behind `relation` (a relation as tests receive it). #}
{% macro run_rows_predicate(relation) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set models = graph.nodes.values() | selectattr("resource_type", "equalto", "model") -%}
    {%- set node = models | selectattr("alias", "equalto", relation.identifier) | first -%}
    {{ return(run_rows_predicate_of((node.config.meta or {}).get("run_rows") if node else none)) }}
{%- endmacro %}

{#
    dbt's generic tests read their model through this macro; the project overrides
    dbt's version to give `where: __run_rows__` (dbt_project.yml, every data test) its
    meaning: the rows of the model that this run wrote (run_rows_predicate), so a daily
    run tests its day, not all history. A placeholder, because dbt renders `where` while
    parsing, when the window is not known (run_window_days). Any other `where` is used
    as written; a model without run rows is read whole.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get("where") -%}
    {%- if where and "__run_rows__" in where -%}
        {%- set predicate = run_rows_predicate(relation) -%}
        {%- set where = where | replace("__run_rows__", predicate) if predicate else none -%}
    {%- endif -%}
    {%- if where -%}
        {{ return("(select * from " ~ relation ~ " where " ~ where ~ ") dbt_subquery") }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
