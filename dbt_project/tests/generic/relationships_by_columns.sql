{#
    `relationships` for a key of several columns (dbt's built-in test takes one column):
    every row of the model whose key columns are all set must find a row of `to` with
    the same values in `to_columns` (same order; compared as row values). Rows with a
    NULL key part are not checked, as with the built-in test. Returns the missing keys
    with their row counts.
#}
{% test relationships_by_columns(model, columns, to, to_columns) %}
{%- set child_columns = "child." ~ columns | join(", child.") %}

-- `model` may be a filtered subquery with its own alias (`where` config).
with child as (

    select * from {{ model }}

)

select
    {{ child_columns }},
    count(*) as occurrences
from child
where
    {{ child_columns | replace(",", " is not null and") }} is not null
    and not exists (
        select 1
        from {{ to }} as parent
        where ({{ child_columns }}) = (parent.{{ to_columns | join(", parent.") }})
    )
group by all

{% endtest %}
