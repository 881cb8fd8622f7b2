with

campaigns as (

    select * from {{ ref('stg_lake__campaigns') }}

),

reward_events as (

    select * from {{ ref('stg_lake__reward_events') }}
    {% if is_incremental() %}
        where
            {{ lake_folders_predicate('utc_date') }}
            and {{ run_window_predicate('local_date') }}
    {% endif %}

),

redemptions as (

    select * from {{ ref('stg_lake__coupon_redemptions') }}
    {% if is_incremental() %}
        where
            {{ lake_folders_predicate('utc_date') }}
            and {{ run_window_predicate('local_date') }}
    {% endif %}

),

reward_event_days as (

    select
        campaign_id,
        local_date,
        count(*) filter (where status = 'SUCCESS') as successful_events,
        sum(points) filter (
            where status = 'SUCCESS' and reward_type = 'LOYALTY_POINTS'
        ) as points_given,
        count(*) filter (
            where status = 'SUCCESS' and reward_type = 'COUPON'
        ) as coupon_events,
        count(distinct coupon_code) filter (
            where status = 'SUCCESS' and reward_type = 'COUPON'
        ) as distinct_coupon_codes,
        count(*) filter (
            where status = 'SUCCESS' and reward_type = 'PARTNER_VOUCHER'
        ) as voucher_events,
        count(*) filter (
            where reward_type = 'CUSTOM_REWARD' and webhook_status = 'SENT'
        ) as webhooks_sent,
        count(*) filter (
            where reward_type = 'CUSTOM_REWARD' and webhook_status = 'FAILED'
        ) as webhooks_failed,
        sum(credits) filter (
            where reward_type = 'CUSTOM_REWARD' and webhook_status = 'SENT'
        ) as credits_sent

    from reward_events
    group by campaign_id, local_date

),

redemption_days as (

    select
        campaign_id,
        local_date,
        sum(discount_amount) filter (where benefit = 'DISCOUNT') as discount_amount,
        sum(cashback_points) filter (where benefit = 'CASHBACK') as cashback_points

    from redemptions
    group by campaign_id, local_date

),

activity_days as (

    select
        campaign_id,
        local_date
    from reward_event_days
    union
    select
        campaign_id,
        local_date
    from redemption_days

),

final as (

    -- A KPI that does not apply to the campaign's configuration is NULL; one that applies
    -- is 0 on a day without that activity.
    select
        activity_days.campaign_id,
        activity_days.local_date,
        campaigns.campaign_name,
        campaigns.reward_type,
        campaigns.coupon_type,
        campaigns.coupon_benefit,
        campaigns.custom_reward_kind,
        campaigns.segment_kind,
        coalesce(reward_event_days.successful_events, 0) as rewards_distributed,
        case
            when campaigns.reward_type = 'LOYALTY_POINTS'
                then cast(coalesce(reward_event_days.points_given, 0) as decimal(38, 2))
        end as points_distributed,
        case
            -- A single-code coupon hands out one code many times: count the hand-outs.
            -- A bulk series hands out a new code each time: count distinct codes.
            when campaigns.reward_type = 'COUPON' and campaigns.coupon_type = 'BULK'
                then coalesce(reward_event_days.distinct_coupon_codes, 0)
            when campaigns.reward_type = 'COUPON'
                then coalesce(reward_event_days.coupon_events, 0)
        end as coupons_distributed,
        case
            when campaigns.reward_type = 'COUPON' and campaigns.coupon_benefit = 'DISCOUNT'
                then cast(coalesce(redemption_days.discount_amount, 0) as decimal(38, 2))
        end as discount_redeemed,
        case
            when campaigns.reward_type = 'COUPON' and campaigns.coupon_benefit = 'CASHBACK'
                then cast(coalesce(redemption_days.cashback_points, 0) as decimal(38, 2))
        end as cashback_points_credited,
        case
            when campaigns.reward_type = 'PARTNER_VOUCHER'
                then coalesce(reward_event_days.voucher_events, 0)
        end as voucher_codes_distributed,
        case
            when campaigns.reward_type = 'CUSTOM_REWARD'
                then coalesce(reward_event_days.webhooks_sent, 0)
        end as webhook_sent,
        case
            when campaigns.reward_type = 'CUSTOM_REWARD'
                then coalesce(reward_event_days.webhooks_failed, 0)
        end as webhook_failed,
        case
            when
                campaigns.reward_type = 'CUSTOM_REWARD'
                and campaigns.custom_reward_kind = 'SELF_MANAGED_WALLET_CREDITS'
                then cast(coalesce(reward_event_days.credits_sent, 0) as decimal(38, 2))
        end as webhook_credits_rewarded

    from activity_days
    left join campaigns
        on activity_days.campaign_id = campaigns.campaign_id
    left join reward_event_days
        on
            activity_days.campaign_id = reward_event_days.campaign_id
            and activity_days.local_date = reward_event_days.local_date
    left join redemption_days
        on
            activity_days.campaign_id = redemption_days.campaign_id
            and activity_days.local_date = redemption_days.local_date

)

select * from final
order by local_date, campaign_id
