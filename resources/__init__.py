"""Implementations behind the domain's protocols, and their Dagster resources.

`storage*.py` implement `promo.storage.Storage` (local, S3, GCS, Azure); `warehouse.py`
reads the marts dbt built; `dbt.py` is the dbt project and command line;
`dagster_resources.py` the configurable resources the assets receive. `dbt_lake_s3.py` is
loaded by dbt itself (a dbt-duckdb plugin), so this package imports nothing heavy here.
"""
