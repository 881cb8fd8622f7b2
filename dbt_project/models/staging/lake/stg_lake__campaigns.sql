with

source as (

    select * from {{ source('lake', 'campaigns') }}

),

renamed as (

    select
        campaign_id,
        name as campaign_name,
        reward_type,
        coupon_type,
        coupon_benefit,
        custom_reward_kind,
        segment_kind,
        status as campaign_status,
        wallet_id,
        start_at,
        end_at

    from source

)

select * from renamed
