with

successful_events as (

    select * from {{ ref('int_reward_events_enriched') }}
    where
        status = 'SUCCESS'
        {% if is_incremental() %}
            and {{ lake_folders_predicate('utc_date') }}
            and {{ run_window_predicate('local_date') }}
        {% endif %}

),

final as (

    select
        event_id,
        campaign_id,
        campaign_name,
        user_id,
        reward_type,
        reward_value,
        points,
        coupon_code,
        partner_id,
        list_tag,
        voucher_code,
        credits,
        wallet_id,
        occurred_at as distributed_at,
        occurred_at_local as distributed_at_local,
        local_date,
        -- Appended later: a published mart only grows at the end.
        coupon_type,
        coupon_benefit,
        custom_reward_kind,
        segment_kind

    from successful_events

)

select * from final
order by distributed_at, event_id
