"""What the Dagster catalog shows about every asset beyond its definition: who owns it
(`PROMO_ASSET_OWNER`) and where its code is (the file and line of the function that
builds it; a link into the repository when `PROMO_GIT_URL` is set)."""

from __future__ import annotations

from collections.abc import Sequence

from dagster import (
    AnchorBasedFilePathMapping,
    AssetsDefinition,
    link_code_references_to_git,
    with_source_code_references,
)

from orchestration.settings import REPO_ROOT, Settings


def with_owner(assets: Sequence[AssetsDefinition], owner: str) -> list[AssetsDefinition]:
    """Every asset of every definition owned by `owner` (an email or `team:<name>`)."""
    return [a.map_asset_specs(lambda spec: spec.replace_attributes(owners=[owner])) for a in assets]


def catalogued(assets: Sequence[AssetsDefinition], settings: Settings) -> list:
    """Owners and code references on every asset."""
    assets = with_source_code_references(with_owner(assets, settings.asset_owner))
    if settings.git_url:
        assets = link_code_references_to_git(
            assets,
            git_url=settings.git_url,
            git_branch=settings.git_branch,
            file_path_mapping=AnchorBasedFilePathMapping(
                local_file_anchor=REPO_ROOT, file_anchor_path_in_repository=""
            ),
        )
    return list(assets)
