with

source as (

    select * from {{ source('lake', 'voucher_lists') }}

),

renamed as (

    select
        partner_id,
        list_tag,
        name as list_name,
        status as list_status

    from source

)

select * from renamed
