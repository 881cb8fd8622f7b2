with

source as (

    select * from {{ source('lake', 'wallets') }}

),

renamed as (

    select
        wallet_id,
        name as wallet_name,
        status as wallet_status

    from source

)

select * from renamed
