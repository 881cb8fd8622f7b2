"""The Reports page in a real headless Chromium (Debian's, through Playwright), against the
real service: sign in with a token, the form's fields following the chosen types, errors
next to their fields, a report created through the form becoming Created without a reload,
its download equal to the CLI's file for the same spec; a reader sees no create or delete
controls. Screenshots land in tests/artifacts/screenshots/ (docs/screenshots/ holds copies
that were looked at)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import READER, WRITER

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
SPEC = {
    "name": "Everyday points, through the page",
    "promotion_type": "promo_campaigns",
    "report_type": "reward_assignment",
    "filters": {"campaign_id": "cmp_everyday_points"},
    "date_range": {"start": "2026-10-22", "end": "2026-10-28"},
    "delivery": {"destination": "download"},
    "frequency": "one_time",
}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def sign_in(browser, service, user):
    page = browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page.goto(service.url + "/")
    assert page.url.endswith("/signin")
    page.fill("#token", service.tokens[user])
    page.click("button[type=submit]")
    page.wait_for_url(service.url + "/")
    return page


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / name)


def test_create_through_the_form_watch_it_become_created_and_download_it(
    browser, service, tmp_path
):
    page = sign_in(browser, service, WRITER)
    cookie = next(c for c in page.context.cookies() if c["name"] == "promo_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.click("#create-report")
    # fields follow the types: a snapshot has no date range; vouchers list tags per partner
    page.select_option("#f-promotion", "loyalty_wallet")
    page.select_option("#f-report", "user_ledger_summary")
    assert page.locator("#f-wallet_id").is_visible()
    page.click("#next")
    assert not page.locator('[data-field="date_range"]').is_visible()
    page.select_option("#f-frequency", "weekly")
    assert page.locator("#f-day").is_visible()
    assert page.locator("#f-destination option").all_inner_texts() == [
        "reports-bucket (Amazon S3: reports-bucket/)",
        "bi-bucket (Amazon S3: bi-bucket/)",
        "bi-gcs (Google Cloud Storage: promo-bi-gcs/exports/)",
    ]
    page.click("#back")
    page.select_option("#f-promotion", "partner_vouchers")
    page.select_option("#f-report", "voucher_assignment_logs")
    page.select_option("#f-partner_id", "prt_cinemax")
    tags = page.locator("#f-list_tag option").all_inner_texts()
    assert tags == ["Select a list", "Movie ticket"]
    # errors next to their fields
    page.select_option("#f-promotion", "promo_campaigns")
    page.select_option("#f-report", "reward_assignment")
    page.click("#next")
    page.select_option("#f-frequency", "one_time")
    page.click("#export")
    name_error = page.locator('[data-field="name"] .error')
    name_error.wait_for()
    assert "must not be empty" in name_error.inner_text()
    assert "required" in page.locator('[data-field="filters.campaign_id"] .error').inner_text()
    # now the real thing
    page.fill("#f-name", SPEC["name"])
    page.select_option("#f-campaign_id", "cmp_everyday_points")
    shot(page, "report_page_create_setup.png")
    page.click("#next")
    page.select_option("#f-preset", "custom")
    page.fill("#f-start", "2026-10-22")
    page.fill("#f-end", "2026-10-28")
    shot(page, "report_page_create_delivery.png")
    assert page.locator("#f-destination").input_value() == "download"
    page.click("#export")
    page.locator("#notice", has_text="Report export created").wait_for(timeout=120_000)
    row = page.locator("table[data-kind=one_time] tr", has_text=SPEC["name"])
    row.locator("td[data-col=status]", has_text=re.compile("Creating|Created")).wait_for()
    row.locator("td[data-col=status]", has_text="Created").wait_for(timeout=300_000)
    shot(page, "report_page_list.png")
    with page.expect_download() as info:
        row.locator("a.download").click()
    download = info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    # a read-only view of the configuration
    row.locator("td.open").click()
    assert '"campaign_id": "cmp_everyday_points"' in page.locator("#details pre").inner_text()
    shot(page, "report_page_details.png")
    page.close()
    expected = cli_file(service, tmp_path)
    assert saved.name == expected.name
    assert saved.read_bytes() == expected.read_bytes()


def cli_file(service, tmp_path) -> Path:
    spec = tmp_path / "page-spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    done = service.cli("report", "--user", WRITER, "create", "--spec", str(spec))
    assert done.returncode == 0, done.stderr[-2000:]
    return Path(done.stdout.strip().splitlines()[-1])


def test_a_reader_sees_no_create_or_delete_controls(browser, service):
    writer = service.client(WRITER)
    recurring = {**SPEC, "name": "Weekly points for BI", "frequency": {"interval": "weekly",
                 "delivery_day": "monday"}, "delivery": {"destination": "s3",
                 "bucket": "bi-bucket"}}  # fmt: skip
    del recurring["date_range"]
    assert writer.post("/api/reports", json=recurring).status_code == 201
    page = sign_in(browser, service, READER)
    assert page.locator("#create-report").count() == 0
    page.click("[data-tab=recurring]")
    row = page.locator("table[data-kind=recurring] tr", has_text="Weekly points for BI")
    row.wait_for()
    assert row.locator("button").count() == 0
    assert "Weekly on Monday" in row.inner_text()
    shot(page, "report_page_reader_recurring.png")
    page.close()
    writer_page = sign_in(browser, service, WRITER)
    writer_page.click("[data-tab=recurring]")
    row = writer_page.locator("table[data-kind=recurring] tr", has_text="Weekly points for BI")
    row.locator("button.delete").click()
    writer_page.locator("#confirm-yes").click()
    row.wait_for(state="detached", timeout=600_000)  # the schedule stops through dagster-graphql
    writer_page.close()


def test_sign_in_refuses_an_unknown_token(browser, service):
    page = browser.new_page()
    page.goto(service.url + "/signin")
    page.fill("#token", "prt_00000000_" + "x" * 43)
    page.click("button[type=submit]")
    assert "Unknown or revoked token" in page.locator(".error").inner_text()
    page.close()


def keep_screenshots() -> None:
    """Copy the screenshots that were looked at into docs/ (run by hand)."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    for name in SCREENSHOTS.glob("report_page_*.png"):
        shutil.copy(name, docs / name.name)
