{#
    One row per user and wallet over ALL history. On DuckDB an incremental run
    recomputes only the users the run can have changed (window_users) and replaces their
    rows (meta.run_rows `window_users`, macros/portable.sql); their totals still come from
    all their history. On Spark (a plain Parquet table, no DELETE) it is rebuilt whole.
#}

with

wallets as (

    select * from {{ ref('stg_lake__wallets') }}

),

transactions as (

    select * from {{ ref('wallet_transactions') }}
    {% if is_incremental() %}
        -- Only the users this run can have changed (replace_window replaces their rows).
        where user_id in (
            -- A transaction in the window now (the window's days were just rebuilt).
            select window_rows.user_id from {{ ref('wallet_transactions') }} as window_rows
            where {{ run_window_predicate('window_rows.local_date') }}
            union
            -- A transaction in the window before this run: their row spans the window.
            select ledger.user_id from {{ this }} as ledger
            where {{ ledger_spans_window_predicate() }}
            union
            -- Their wallet's name in the snapshot changed since their row was built.
            select ledger.user_id from {{ this }} as ledger
            left join wallets
                on ledger.wallet_id = wallets.wallet_id
            where ledger.wallet_name is distinct from wallets.wallet_name
        )
    {% endif %}

),

user_totals as (

    select
        wallet_id,
        user_id,
        {{ points_by_type() }},
        sum(balance_effect) as available_balance,
        -- UTC instants: local wall-clock times are not monotonic across a DST fall-back.
        min(occurred_at) as first_transaction_at,
        max(occurred_at) as last_transaction_at

    from transactions
    group by wallet_id, user_id

),

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
