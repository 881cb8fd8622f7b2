{#
    The enum columns of a model, each with its accepted values, as ONE test (named
    accepted_values_<model> in the YAML): what dbt's `accepted_values` checks per column
    (a NULL passes), in one pass over the model instead of one test per column, each a
    dbt node and a Dagster asset check with a fixed cost in every daily run (35 tests ->
    11). Fails on every row with a value outside its column's list, the columns shown.
#}
{% test accepted_values_columns(model, values_by_column) %}

select {{ values_by_column.keys() | join(", ") }}
from {{ model }}
where
    {% for column, values in values_by_column.items() -%}
        {{ column }} not in ('{{ values | join("', '") }}')
        {%- if not loop.last %} or {% endif %}
    {% endfor %}

{% endtest %}
