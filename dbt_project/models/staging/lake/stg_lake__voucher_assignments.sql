with

source as (

    select * from {{ source('lake', 'voucher_assignments') }}

),

renamed as (

    select
        assignment_id,
        partner_id,
        list_tag,
        voucher_code,
        user_id,
        campaign_id,
        assigned_at,
        {{ to_account_timestamp('assigned_at') }} as assigned_at_local,
        {{ to_account_date('assigned_at') }} as local_date,
        cast(utc_date as date) as utc_date,
        _file as source_file,
        _line as source_line

    from source

)

select * from renamed
