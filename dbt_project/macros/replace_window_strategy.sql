{#
    Custom incremental strategy `replace_window`: delete the run window from the target,
    then insert the new rows of that window.

    Why not the built-in `delete+insert` with unique_key=local_date: it deletes only the
    days present in the NEW rows. A day that lost all its rows (e.g. its lake folder was
    re-ingested and its records quarantined) would keep its stale rows forever. Deleting
    the window itself makes a re-run of any day or range give the same mart as a full
    build, whatever the window held before.

    The window is `run_window_predicate()` unless the model sets `incremental_predicates`
    (wallet_daily_summary replaces every day from min_date on). The model must select
    exactly the rows of that window (same macro) or the unique tests fail.
#}
{% macro get_incremental_replace_window_sql(arg_dict) %}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set source = arg_dict["temp_relation"] -%}
    {%- set predicates = arg_dict["incremental_predicates"] or [run_window_predicate()] -%}
    {%- set dest_cols_csv = get_quoted_csv(arg_dict["dest_columns"] | map(attribute="name")) -%}

    delete from {{ target }}
    where {{ predicates | join("\n    and ") }};

    insert into {{ target }} ({{ dest_cols_csv }})
    select {{ dest_cols_csv }}
    from {{ source }}
{% endmacro %}
