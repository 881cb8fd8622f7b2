{#
    The run window: account-timezone days var('min_date')..var('max_date'), inclusive.
    YAML may hand the vars over as dates or strings; `| string` makes both ISO text.
    `through_latest`: from min_date on, with no upper bound (wallet_daily_summary).
#}
{% macro run_window_predicate(local_date_column='local_date', through_latest=false) -%}
    {%- set min_date = var("min_date") | string -%}
    {%- set max_date = var("max_date") | string -%}
    {%- if min_date > max_date -%}
        {{ exceptions.raise_compiler_error(
            "empty run window: min_date " ~ min_date ~ " is after max_date " ~ max_date) }}
    {%- endif -%}
    {%- if through_latest -%}
        {{ local_date_column }} >= date '{{ min_date }}'
    {%- else -%}
        {{ local_date_column }} between date '{{ min_date }}' and date '{{ max_date }}'
    {%- endif -%}
{%- endmacro %}

{#
    The lake folders (UTC dates) that can hold events of the run window: an account day
    spans at most one UTC date on each side (offsets are within -12h..+14h). A filter on
    the hive partition column lets DuckDB skip every other folder without opening it.
#}
{% macro lake_folders_predicate(utc_date_column='utc_date') -%}
    {%- set min_date = var("min_date") | string -%}
    {%- set max_date = var("max_date") | string -%}
    {{ utc_date_column }} between date '{{ min_date }}' - 1 and date '{{ max_date }}' + 1
{%- endmacro %}
