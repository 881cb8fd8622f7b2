with

transactions as (

    select * from {{ ref('int_wallet_transactions_signed') }}
    {% if is_incremental() %}
        where
            {{ lake_folders_predicate('utc_date') }}
            and {{ run_window_predicate('local_date') }}
    {% endif %}

),

wallets as (

    select * from {{ ref('stg_lake__wallets') }}

),

final as (

    select
        transactions.transaction_id,
        transactions.wallet_id,
        wallets.wallet_name,
        transactions.user_id,
        transactions.transaction_type,
        transactions.transaction_source,
        transactions.points,
        transactions.balance_effect,
        transactions.campaign_id,
        transactions.coupon_code,
        transactions.reference_transaction_id,
        transactions.expires_at,
        transactions.occurred_at,
        transactions.occurred_at_local,
        transactions.local_date

    from transactions
    left join wallets
        on transactions.wallet_id = wallets.wallet_id

)

select * from final
order by occurred_at, transaction_id
