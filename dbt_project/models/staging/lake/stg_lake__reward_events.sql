with

source as (

    select * from {{ source('lake', 'reward_events') }}

),

renamed as (

    select
        event_id,
        campaign_id,
        user_id,
        reward_type,
        status,
        occurred_at,
        {{ to_account_timestamp('occurred_at') }} as occurred_at_local,
        {{ to_account_date('occurred_at') }} as local_date,
        wallet_id,
        points,
        coupon_code,
        partner_id,
        list_tag,
        voucher_code,
        webhook_status,
        credits,
        error_code,
        error_message,
        cast(utc_date as date) as utc_date,
        _file as source_file,
        _line as source_line

    from source

)

select * from renamed
