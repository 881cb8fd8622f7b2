{#
    The primary key of a day-partitioned mart, checked where a run can break it: every
    id of the rows this run wrote (the model's meta.run_rows) occurs once in the WHOLE
    table. A plain `unique` scoped to the window would miss a copy on a day outside it (a
    record whose day changed upstream, rebuilt on its new day only); a whole-table
    `unique` would group all history on every run. This is one pass over the id column,
    probing the window's ids. Fails on every such id, with its count. It reads the model
    whole (no `where`) and picks the run's rows itself.
#}
{% test unique_across_days(model, column_name) %}
{{ config(where="") }}
{%- set run_rows = run_rows_predicate(model) or "1 = 1" %}

select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} in (
    select run_rows.{{ column_name }} from {{ model }} as run_rows
    where {{ run_rows }}
)
group by {{ column_name }}
having count(*) > 1

{% endtest %}
