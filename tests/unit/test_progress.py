"""The materialize progress: dbt's `N of M` lines read from its log."""

from orchestration.progress import dbt_progress


def test_dbt_progress_counts_finished_nodes_of_the_current_invocation():
    text = (
        b"02:33:10  Running with dbt=1.11.16\n"
        b"02:33:11  1 of 162 START sql view model main.stg_lake__wallets .... [RUN]\n"
        b"02:33:11  1 of 162 OK created sql view model main.stg_lake__wallets [OK in 0.1s]\n"
        b"02:33:12  2 of 162 PASS not_null_wallets_wallet_id ........ [PASS in 0.0s]\n"
        b"02:33:12  3 of 162 START test unique_wallets_wallet_id ........ [RUN]\n"
    )
    assert dbt_progress(text) == (2, 162)


def test_no_dbt_lines_is_no_figure():
    assert dbt_progress(b"nothing from dbt yet\n") is None
