with

source as (

    select * from {{ source('lake', 'coupon_redemptions') }}

),

renamed as (

    select
        redemption_id,
        coupon_code,
        campaign_id,
        user_id,
        benefit,
        discount_amount,
        cashback_points,
        redeemed_at,
        {{ to_account_timestamp('redeemed_at') }} as redeemed_at_local,
        {{ to_account_date('redeemed_at') }} as local_date,
        cast(utc_date as date) as utc_date,
        _file as source_file,
        _line as source_line

    from source

)

select * from renamed
