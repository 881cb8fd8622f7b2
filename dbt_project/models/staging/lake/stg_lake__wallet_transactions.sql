with

source as (

    select * from {{ source('lake', 'wallet_transactions') }}

),

renamed as (

    select
        transaction_id,
        wallet_id,
        user_id,
        transaction_type,
        transaction_source,
        points,
        campaign_id,
        coupon_code,
        reference_transaction_id,
        expires_at,
        occurred_at,
        {{ to_account_timestamp('occurred_at') }} as occurred_at_local,
        {{ to_account_date('occurred_at') }} as local_date,
        cast(utc_date as date) as utc_date,
        _file as source_file,
        _line as source_line

    from source

)

select * from renamed
