{#
    The account timezone is the only timezone downstream of the lake. The warehouse
    session runs in UTC (profiles.yml), so every conversion is spelled out:
    `to_account_timestamp` (macros/portable.sql: the engines spell it differently) gives
    the wall-clock time in that zone; its date is the account-timezone day.
#}

{% macro to_account_date(column_name) -%}
    cast({{ to_account_timestamp(column_name) }} as date)
{%- endmacro %}
