-- Shown in Dagster as an asset check of user_ledger (a singular test reading several
-- models has no single model of its own).
{{ config(meta={'dagster': {'ref': {'name': 'user_ledger'}}}) }}

-- Per wallet, the users' available balances in user_ledger add up to the wallet's
-- closing balance on its latest day in wallet_daily_summary. Both come from
-- wallet_transactions, all history; a row here names a wallet where they disagree or
-- that only one of the two models has.

with

ledger_balances as (

    select
        wallet_id,
        sum(available_balance) as ledger_balance

    from {{ ref('user_ledger') }}
    group by wallet_id

),

latest_closing_balances as (

    select
        wallet_id,
        closing_balance

    from {{ ref('wallet_daily_summary') }}
    qualify row_number() over (partition by wallet_id order by local_date desc) = 1

),

compared as (

    select
        ledger_balances.ledger_balance,
        latest_closing_balances.closing_balance,
        coalesce(ledger_balances.wallet_id, latest_closing_balances.wallet_id) as wallet_id

    from ledger_balances
    full outer join latest_closing_balances
        on ledger_balances.wallet_id = latest_closing_balances.wallet_id

)

select * from compared
where
    ledger_balance is null
    or closing_balance is null
    or ledger_balance != closing_balance
