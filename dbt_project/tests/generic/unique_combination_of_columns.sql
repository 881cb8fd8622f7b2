{#
    The primary key of a model whose grain is several columns (dbt_utils has the same
    test; packages cannot be fetched on the build machine). Fails on every key value that
    occurs more than once, and on keys with a NULL part.
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{%- set key_columns = combination_of_columns | join(", ") %}

select
    {{ key_columns }},
    count(*) as occurrences
from {{ model }}
group by {{ key_columns }}
having
    count(*) > 1
    or {{ combination_of_columns | join(" is null or ") }} is null

{% endtest %}
