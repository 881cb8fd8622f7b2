with

source as (

    select * from {{ source('lake', 'partners') }}

),

renamed as (

    select
        partner_id,
        name as partner_name

    from source

)

select * from renamed
