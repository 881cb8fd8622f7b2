with

failed_events as (

    select * from {{ ref('int_reward_events_enriched') }}
    where
        status = 'FAILED'
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
        error_code,
        error_message,
        occurred_at as error_at,
        occurred_at_local as error_at_local,
        local_date

    from failed_events

)

select * from final
order by error_at, event_id
