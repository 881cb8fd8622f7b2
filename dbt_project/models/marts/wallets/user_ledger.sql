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

{% if is_incremental() %}

window_users as (

    -- A transaction in the window now (the window's days were just rebuilt upstream).
    select user_id from {{ ref('wallet_transactions') }}
    where {{ run_window_predicate('local_date') }}

    union

    -- A transaction in the window before this run: its row spans the window.
    select user_id from {{ this }}
    where {{ ledger_spans_window_predicate() }}

    union

    -- Their wallet's name changed in the snapshot since their row was built.
    select ledger.user_id from {{ this }} as ledger
    left join wallets
        on ledger.wallet_id = wallets.wallet_id
    where ledger.wallet_name is distinct from wallets.wallet_name

),

{% endif %}

transactions as (

    select * from {{ ref('wallet_transactions') }}
    {% if is_incremental() %}
        where user_id in (select window_users.user_id from window_users)
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
