{#
    The column rules of a model as ONE test (named column_values_<model> in the YAML):
    the columns that must never be NULL (`not_null`), and the enum columns with their
    accepted values (`accepted_values`; a NULL passes, as with dbt's `accepted_values`,
    unless the column is in `not_null` too). The same checks as dbt's per-column
    `not_null` and `accepted_values`, in one pass over the model: every test is a dbt
    node and a Dagster asset check with a fixed cost of tens of ms in every daily run
    (84 such tests -> 27 -> 16). Fails on every row that breaks any rule, the columns
    shown.
#}
{% test column_values(model, not_null, accepted_values={}) %}
    {%- set shown = not_null + (accepted_values.keys() | reject("in", not_null) | list) %}
    {%- set broken = [] %}
    {%- for column in not_null %}{% do broken.append(column ~ " is null") %}{% endfor %}
    {%- for column, values in accepted_values.items() %}
        {%- do broken.append(column ~ " not in ('" ~ values | join("', '") ~ "')") %}
    {%- endfor %}

select {{ shown | join(", ") }}
from {{ model }}
where {{ broken | join(" or ") }}

{% endtest %}
