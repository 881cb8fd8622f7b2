{#
    The six per-type point totals a wallet report shows, as aggregate columns (a NULL
    sum means no transaction of that type in the group). One definition for the marts
    that show them; the reconciliation tests keep their own explicit sums on purpose: a
    test must not share the code it checks.
#}
{% macro points_by_type(points='points', type_column='transaction_type') %}
    sum({{ points }}) filter (where {{ type_column }} = 'CREDIT') as points_credited,
    sum({{ points }}) filter (where {{ type_column }} = 'DEBIT') as points_debited,
    sum({{ points }}) filter (where {{ type_column }} = 'EXPIRED') as points_expired,
    sum({{ points }}) filter (where {{ type_column }} = 'PROMISED') as points_promised,
    sum({{ points }}) filter (where {{ type_column }} = 'REVERSE') as points_reversed,
    sum({{ points }}) filter (where {{ type_column }} = 'REFUND') as points_refunded
{% endmacro %}
