"""A stand-in for dbt's `adapter` object in sqlfluff's jinja templater (see .sqlfluff).

The jinja templater has no dbt adapter, so `adapter.dispatch(name, namespace)` in
macros/portable.sql would not render. Here it resolves to the DuckDB implementation
(`duckdb__<name>`), the default engine's SQL, which is what sqlfluff lints.
"""

from jinja2 import pass_context
from jinja2.runtime import Context


@pass_context
def dispatch(context: Context, macro_name: str, macro_namespace: str | None = None):
    """The DuckDB implementation of a dispatched macro, as dbt-duckdb would pick it."""
    return context.resolve(f"duckdb__{macro_name}")
