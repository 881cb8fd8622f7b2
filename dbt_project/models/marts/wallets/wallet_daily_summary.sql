{#
    A closing balance depends on every earlier day, so a run for [min_date, max_date]
    replaces EVERY day from min_date on (not only up to max_date): re-running an early
    day leaves the later closing balances right (meta.run_rows `from_window_start`,
    dbt_project.yml).

    An incremental run reads wallet_transactions from min_date on only: the days before
    are not the run's to change, so the balance they leave is the closing balance this
    mart already holds for each wallet's last day before min_date (opening_balances). A
    daily run then costs a day, not all history (at 10M transactions: ~2.9 s -> a day's
    rows), and the rows are those a full rebuild gives (tests/integration/test_daily_runs.py).
#}

with

transactions as (

    select * from {{ ref('wallet_transactions') }}
    {% if is_incremental() %}
        where {{ run_window_predicate('local_date', through_latest=true) }}
    {% endif %}

),

wallets as (

    select * from {{ ref('stg_lake__wallets') }}

),

daily_totals as (

    select
        wallet_id,
        local_date,
        {{ points_by_type() }},
        sum(balance_effect) as net_change,
        count(distinct user_id) as transacting_users

    from transactions
    group by wallet_id, local_date

),

{% if is_incremental() %}
    opening_days as (

        -- Each wallet's last day before the window in this mart.
        select
            wallet_id,
            max(local_date) as last_local_date

        from {{ this }}
        where not ({{ run_window_predicate('local_date', through_latest=true) }})
        group by wallet_id

    ),

    opening_balances as (

        select
            opening_days.wallet_id,
            opening_days.last_local_date,
            previous.closing_balance as opening_balance

        from opening_days
        inner join {{ this }} as previous
            on
                opening_days.wallet_id = previous.wallet_id
                and opening_days.last_local_date = previous.local_date

    ),
{% endif %}

first_days as (

    -- The first day to write: the wallet's first transaction day or, in an incremental
    -- run, the day after its last row before the window (normally min_date; earlier when
    -- days between were never built, which a rebuild fills with zeros too).
    select
        wallet_id,
        local_date as first_local_date

    from daily_totals
    {% if is_incremental() %}
        union all
        select
            wallet_id,
            last_local_date + 1 as first_local_date

        from opening_balances
    {% endif %}

),

wallet_first_days as (

    select
        wallet_id,
        min(first_local_date) as first_local_date

    from first_days
    group by wallet_id

),

latest_day as (

    -- Of all history: a window emptied upstream can end the series before min_date.
    select max(local_date) as latest_local_date

    from {{ ref('wallet_transactions') }}

),

wallet_days as (

    select
        wallet_first_days.wallet_id,
        cast(day_starts.day_start as date) as local_date

    from wallet_first_days
    cross join latest_day
    {{ cross_join_day_series(
        'wallet_first_days.first_local_date',
        'latest_day.latest_local_date',
        'day_starts',
        'day_start'
    ) }}

),

daily_balances as (

    select
        wallet_days.wallet_id,
        wallet_days.local_date,
        cast(coalesce(daily_totals.points_credited, 0) as decimal(38, 2)) as points_credited,
        cast(coalesce(daily_totals.points_debited, 0) as decimal(38, 2)) as points_debited,
        cast(coalesce(daily_totals.points_expired, 0) as decimal(38, 2)) as points_expired,
        cast(coalesce(daily_totals.points_promised, 0) as decimal(38, 2)) as points_promised,
        cast(coalesce(daily_totals.points_reversed, 0) as decimal(38, 2)) as points_reversed,
        cast(coalesce(daily_totals.points_refunded, 0) as decimal(38, 2)) as points_refunded,
        cast(coalesce(daily_totals.net_change, 0) as decimal(38, 2)) as net_change,
        cast(
            {% if is_incremental() %}
                coalesce(opening_balances.opening_balance, 0)
                +
            {% endif %}
            sum(coalesce(daily_totals.net_change, 0)) over (
                partition by wallet_days.wallet_id
                order by wallet_days.local_date
                rows between unbounded preceding and current row
            ) as decimal(38, 2)
        ) as closing_balance,
        coalesce(daily_totals.transacting_users, 0) as transacting_users

    from wallet_days
    left join daily_totals
        on
            wallet_days.wallet_id = daily_totals.wallet_id
            and wallet_days.local_date = daily_totals.local_date
    {% if is_incremental() %}
        left join opening_balances
            on wallet_days.wallet_id = opening_balances.wallet_id
    {% endif %}

),

final as (

    select
        daily_balances.wallet_id,
        wallets.wallet_name,
        daily_balances.local_date,
        daily_balances.points_credited,
        daily_balances.points_debited,
        daily_balances.points_expired,
        daily_balances.points_promised,
        daily_balances.points_reversed,
        daily_balances.points_refunded,
        daily_balances.net_change,
        daily_balances.closing_balance,
        daily_balances.transacting_users

    from daily_balances
    left join wallets
        on daily_balances.wallet_id = wallets.wallet_id

)

select * from final
order by local_date, wallet_id
