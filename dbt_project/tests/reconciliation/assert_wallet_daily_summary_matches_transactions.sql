-- Shown in Dagster as an asset check of wallet_daily_summary (a singular test reading several
-- models has no single model of its own).
{{ config(meta={'dagster': {'ref': {'name': 'wallet_daily_summary'}}}) }}

-- Each wallet-day of wallet_daily_summary carries exactly the totals of that day's rows
-- in wallet_transactions (a filled day: zeros), and every transaction day has its
-- summary row. A row here is a wallet-day where the two disagree. Checked from min_date on:
-- the days this run rewrote in both models (earlier days were checked when written).

with

transaction_days as (

    select
        wallet_id,
        local_date,
        sum(points) filter (where transaction_type = 'CREDIT') as points_credited,
        sum(points) filter (where transaction_type = 'DEBIT') as points_debited,
        sum(points) filter (where transaction_type = 'EXPIRED') as points_expired,
        sum(points) filter (where transaction_type = 'PROMISED') as points_promised,
        sum(points) filter (where transaction_type = 'REVERSE') as points_reversed,
        sum(points) filter (where transaction_type = 'REFUND') as points_refunded,
        sum(balance_effect) as net_change,
        count(distinct user_id) as transacting_users

    from {{ ref('wallet_transactions') }}
    where {{ run_window_predicate('local_date', through_latest=true) }}
    group by wallet_id, local_date

),

summary_days as (

    select * from {{ ref('wallet_daily_summary') }}
    where {{ run_window_predicate('local_date', through_latest=true) }}

),

compared as (

    -- Summary columns are tested not null: a NULL here means the row is missing.
    select
        summary_days.wallet_id is null as missing_in_summary,
        coalesce(summary_days.wallet_id, transaction_days.wallet_id) as wallet_id,
        coalesce(summary_days.local_date, transaction_days.local_date) as local_date,
        summary_days.points_credited != coalesce(transaction_days.points_credited, 0)
        or summary_days.points_debited != coalesce(transaction_days.points_debited, 0)
        or summary_days.points_expired != coalesce(transaction_days.points_expired, 0)
        or summary_days.points_promised != coalesce(transaction_days.points_promised, 0)
        or summary_days.points_reversed != coalesce(transaction_days.points_reversed, 0)
        or summary_days.points_refunded != coalesce(transaction_days.points_refunded, 0)
        or summary_days.net_change != coalesce(transaction_days.net_change, 0)
        or summary_days.transacting_users != coalesce(transaction_days.transacting_users, 0)
            as totals_differ

    from summary_days
    full outer join transaction_days
        on
            summary_days.wallet_id = transaction_days.wallet_id
            and summary_days.local_date = transaction_days.local_date

)

select * from compared
where missing_in_summary or totals_differ
