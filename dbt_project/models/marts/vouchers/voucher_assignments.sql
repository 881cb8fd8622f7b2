with

assignments as (

    select * from {{ ref('stg_lake__voucher_assignments') }}
    {% if is_incremental() %}
        where
            {{ lake_folders_predicate('utc_date') }}
            and {{ run_window_predicate('local_date') }}
    {% endif %}

),

partners as (

    select * from {{ ref('stg_lake__partners') }}

),

voucher_lists as (

    select * from {{ ref('stg_lake__voucher_lists') }}

),

final as (

    select
        assignments.assignment_id,
        assignments.partner_id,
        partners.partner_name,
        assignments.list_tag,
        voucher_lists.list_name,
        assignments.voucher_code,
        assignments.user_id,
        assignments.campaign_id,
        assignments.assigned_at,
        assignments.assigned_at_local,
        assignments.local_date

    from assignments
    left join partners
        on assignments.partner_id = partners.partner_id
    left join voucher_lists
        on
            assignments.partner_id = voucher_lists.partner_id
            and assignments.list_tag = voucher_lists.list_tag

)

select * from final
order by assigned_at, assignment_id
