{#
    The account timezone is the only timezone downstream of the lake. The warehouse
    session runs in UTC (profiles.yml), so every conversion is spelled out here:
    `timezone(zone, timestamptz)` gives the wall-clock TIMESTAMP in that zone, which
    handles DST changes and non-hour offsets (e.g. Asia/Kathmandu, +05:45).
#}

{% macro to_account_timestamp(column_name) -%}
    timezone('{{ var("account_timezone") }}', {{ column_name }})
{%- endmacro %}

{% macro to_account_date(column_name) -%}
    cast({{ to_account_timestamp(column_name) }} as date)
{%- endmacro %}
