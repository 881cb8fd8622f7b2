with

transactions as (

    select * from {{ ref('stg_lake__wallet_transactions') }}

),

signed as (

    select
        *,
        -- The effect on the user's AVAILABLE balance (raw contract): PROMISED points
        -- only announce a future credit, so they do not move it.
        case
            when transaction_type in ('CREDIT', 'REFUND') then points
            when transaction_type in ('DEBIT', 'EXPIRED', 'REVERSE') then -points
            when transaction_type = 'PROMISED' then cast(0 as decimal(18, 2))
        end as balance_effect

    from transactions

)

select * from signed
