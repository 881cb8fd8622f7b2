{#
    One row per user and wallet over ALL history. On DuckDB an incremental run updates
    only the users and wallets whose transactions changed since the ledger was built, from
    the change (meta.run_rows `window_users`, macros/portable.sql): each row's old totals,
    minus the rows wallet_transactions replaced (kept for this model:
    macros/replaced_rows.sql), plus the replaced days' rows now. A daily run then reads
    the day's rows, not the users' history (at 10M transactions the day's users hold 40 %
    of it: ~2.5 s). The few rows whose first or last transaction cannot be told that way
    (it was in the replaced days, which no longer hold any of the user's rows, and the
    user has rows on the other side) are recomputed from all their history, as is every
    touched row when more than one replacement waits (a run stopped before this model).
    On Spark (a plain Parquet table, no DELETE) it is rebuilt whole.
#}
{%- set types = ["credited", "debited", "expired", "promised", "reversed", "refunded"] -%}

with

wallets as (

    select * from {{ ref('stg_lake__wallets') }}

),

{% if is_incremental() %}
    {%- set changes = replaced_rows_summary(ref('wallet_transactions')) -%}
    {#- No replacement: an empty window (only renamed wallets change rows). -#}
    {%- set first_day = changes.first or "2999-12-31" -%}
    {%- set last_day = changes.last or "1970-01-01" -%}
    {%- set from_change = changes.replacements <= 1 -%}

    replaced_totals as (

        select
            wallet_id,
            user_id,
            {{ points_by_type() }},
            sum(balance_effect) as available_balance

        {% if changes.replacements > 0 %}
            from {{ changes.relation }}
            where not is_window
        {% else %}
            from {{ ref('wallet_transactions') }}
            where false
        {% endif %}
        group by wallet_id, user_id

    ),

    window_totals as (

        -- The replaced days now.
        select
            wallet_id,
            user_id,
            {{ ledger_totals() }}

        from {{ ref('wallet_transactions') }}
        where local_date between date '{{ first_day }}' and date '{{ last_day }}'
        group by wallet_id, user_id

    ),

    renamed as (

        -- Their wallet's name in the snapshot changed since their row was built.
        select
            ledger.wallet_id,
            ledger.user_id

        from {{ this }} as ledger
        left join wallets
            on ledger.wallet_id = wallets.wallet_id
        where ledger.wallet_name is distinct from wallets.wallet_name

    ),

    touched as (

        select
            wallet_id,
            user_id
        from replaced_totals
        union
        select
            wallet_id,
            user_id
        from window_totals
        union
        select
            wallet_id,
            user_id
        from renamed

    ),

    updated as (

        -- The rows before the replaced days come before any of theirs, the rows after
        -- come after: a first (last) transaction before (after) them stays, else it is
        -- the days' own, else unknown (NULL: recomputed below).
        select
            touched.wallet_id,
            touched.user_id,
            {% for type in types %}
                coalesce(ledger.points_{{ type }}, 0)
                - coalesce(replaced_totals.points_{{ type }}, 0)
                + coalesce(window_totals.points_{{ type }}, 0) as points_{{ type }},
            {% endfor %}
            coalesce(ledger.available_balance, 0)
            - coalesce(replaced_totals.available_balance, 0)
            + coalesce(window_totals.available_balance, 0) as available_balance,
            {% if from_change %}
                case
                    when cast(ledger.first_transaction_at_local as date) < date '{{ first_day }}'
                        then ledger.first_transaction_at
                    when window_totals.user_id is not null
                        then window_totals.first_transaction_at
                    when cast(ledger.first_transaction_at_local as date) > date '{{ last_day }}'
                        then ledger.first_transaction_at
                end as first_transaction_at,
                case
                    when cast(ledger.last_transaction_at_local as date) > date '{{ last_day }}'
                        then ledger.last_transaction_at
                    when window_totals.user_id is not null
                        then window_totals.last_transaction_at
                    when cast(ledger.last_transaction_at_local as date) < date '{{ first_day }}'
                        then ledger.last_transaction_at
                end as last_transaction_at,
                -- Rows left: some now in the days, or some before or after them.
                window_totals.user_id is not null
                or cast(ledger.first_transaction_at_local as date) < date '{{ first_day }}'
                or cast(ledger.last_transaction_at_local as date) > date '{{ last_day }}'
                    as has_transactions
            {% else %}
                cast(null as timestamptz) as first_transaction_at,
                cast(null as timestamptz) as last_transaction_at,
                true as has_transactions
            {% endif %}

        from touched
        left join {{ this }} as ledger
            on touched.wallet_id = ledger.wallet_id and touched.user_id = ledger.user_id
        left join replaced_totals
            on
                touched.wallet_id = replaced_totals.wallet_id
                and touched.user_id = replaced_totals.user_id
        left join window_totals
            on
                touched.wallet_id = window_totals.wallet_id
                and touched.user_id = window_totals.user_id

    ),

    recomputed as (

        select
            wallet_id,
            user_id,
            {{ ledger_totals() }}

        from {{ ref('wallet_transactions') }}
        where (wallet_id, user_id) in (
            select
                updated.wallet_id,
                updated.user_id
            from updated
            where
                updated.has_transactions
                and (updated.first_transaction_at is null or updated.last_transaction_at is null)
        )
        group by wallet_id, user_id

    ),

    user_totals as (

        select
            wallet_id,
            user_id,
            {% for type in types %}points_{{ type }},
            {% endfor %}
            available_balance,
            first_transaction_at,
            last_transaction_at

        from updated
        where
            has_transactions
            and first_transaction_at is not null
            and last_transaction_at is not null
        union all
        select
            wallet_id,
            user_id,
            {% for type in types %}points_{{ type }},
            {% endfor %}
            available_balance,
            first_transaction_at,
            last_transaction_at

        from recomputed

    ),
{% else %}
    user_totals as (

        select
            wallet_id,
            user_id,
            {{ ledger_totals() }}

        from {{ ref('wallet_transactions') }}
        group by wallet_id, user_id

    ),
{% endif %}

final as (

    select
        user_totals.user_id,
        user_totals.wallet_id,
        wallets.wallet_name,
        cast(coalesce(user_totals.points_credited, 0) as decimal(38, 2)) as points_credited,
        cast(coalesce(user_totals.points_debited, 0) as decimal(38, 2)) as points_debited,
        cast(coalesce(user_totals.points_expired, 0) as decimal(38, 2)) as points_expired,
        cast(coalesce(user_totals.points_promised, 0) as decimal(38, 2)) as points_promised,
        cast(coalesce(user_totals.points_reversed, 0) as decimal(38, 2)) as points_reversed,
        cast(coalesce(user_totals.points_refunded, 0) as decimal(38, 2)) as points_refunded,
        cast(user_totals.available_balance as decimal(38, 2)) as available_balance,
        -- Kept simple on purpose: every PROMISED point ever announced. The contract has no
        -- link from a later CREDIT back to its promise, so nothing is netted off.
        cast(coalesce(user_totals.points_promised, 0) as decimal(38, 2)) as promised_balance,
        user_totals.first_transaction_at,
        {{ to_account_timestamp('user_totals.first_transaction_at') }}
            as first_transaction_at_local,
        user_totals.last_transaction_at,
        {{ to_account_timestamp('user_totals.last_transaction_at') }}
            as last_transaction_at_local

    from user_totals
    left join wallets
        on user_totals.wallet_id = wallets.wallet_id

)

select * from final
order by wallet_id, user_id
