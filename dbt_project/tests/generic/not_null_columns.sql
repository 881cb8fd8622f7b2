{#
    The columns of a model that must never be NULL, as ONE test (named not_null_<model>
    in the YAML). dbt's `not_null` is one test per column, and each test is a dbt node and
    a Dagster asset check with a fixed cost of tens of ms in every daily run; one test
    per model checks the same columns in one pass (49 tests -> 17). Fails on every row
    with a NULL in any of them, the columns shown.
#}
{% test not_null_columns(model, column_names) %}

select {{ column_names | join(", ") }}
from {{ model }}
where {{ column_names | join(" is null or ") }} is null

{% endtest %}
