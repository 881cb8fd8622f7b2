with

transactions as (

    select * from {{ ref('wallet_transactions') }}

),

wallets as (

    select * from {{ ref('stg_lake__wallets') }}

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
