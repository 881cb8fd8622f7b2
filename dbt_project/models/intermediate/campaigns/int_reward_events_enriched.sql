with

reward_events as (

    select * from {{ ref('stg_lake__reward_events') }}

),

campaigns as (

    select * from {{ ref('stg_lake__campaigns') }}

),

enriched as (

    select
        reward_events.*,
        campaigns.campaign_name,
        campaigns.coupon_type,
        campaigns.coupon_benefit,
        campaigns.custom_reward_kind,
        campaigns.segment_kind,
        -- What the user received, as text, whatever the reward type (report column
        -- `reward_value`). NULL for a custom reward without credits (physical/digital).
        case reward_events.reward_type
            when 'LOYALTY_POINTS' then cast(reward_events.points as string)
            when 'COUPON' then reward_events.coupon_code
            when 'PARTNER_VOUCHER' then reward_events.voucher_code
            when 'CUSTOM_REWARD' then cast(reward_events.credits as string)
        end as reward_value

    from reward_events
    left join campaigns
        on reward_events.campaign_id = campaigns.campaign_id

)

select * from enriched
