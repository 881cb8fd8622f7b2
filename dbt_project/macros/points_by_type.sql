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

{#
    A user_ledger row's totals over a group of wallet_transactions rows: the six point
    totals, the balance, and the first and last transaction. One definition for the three
    places user_ledger.sql computes them (a full rebuild, the replaced days, the rows
    recomputed from all their history).
#}
{% macro ledger_totals() %}
    sum(balance_effect) as available_balance,
    -- UTC instants: local wall-clock times are not monotonic across a DST fall-back.
    min(occurred_at) as first_transaction_at,
    max(occurred_at) as last_transaction_at,
    {{ points_by_type() }}
{% endmacro %}
