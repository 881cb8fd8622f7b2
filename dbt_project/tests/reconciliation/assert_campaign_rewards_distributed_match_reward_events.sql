-- Shown in Dagster as an asset check of campaign_daily_stats (a singular test reading several
-- models has no single model of its own).
{{ config(meta={'dagster': {'ref': {'name': 'campaign_daily_stats'}}}) }}

-- Over the run window (macros/run_window.sql: the days this run built), the
-- rewards_distributed of campaign_daily_stats add up, day by day, to the SUCCESS reward
-- events in the lake. A row here is a day where they disagree.

with

stats_days as (

    select
        local_date,
        sum(rewards_distributed) as rewards_distributed

    from {{ ref('campaign_daily_stats') }}
    where {{ run_window_predicate('local_date') }}
    group by local_date

),

event_days as (

    select
        local_date,
        count(*) as successful_events

    from {{ ref('stg_lake__reward_events') }}
    where
        status = 'SUCCESS'
        and {{ lake_folders_predicate('utc_date') }}
        and {{ run_window_predicate('local_date') }}
    group by local_date

),

compared as (

    select
        coalesce(stats_days.local_date, event_days.local_date) as local_date,
        coalesce(stats_days.rewards_distributed, 0) as rewards_distributed,
        coalesce(event_days.successful_events, 0) as successful_events

    from stats_days
    full outer join event_days
        on stats_days.local_date = event_days.local_date

)

select * from compared
where rewards_distributed != successful_events
