"""`retrain`: the history plus matured outcomes -> a new training set -> `train` and its gate.
What the outcomes change is printed first (and, with `--dry-run`, only that); an outcome that
reuses a history row's id for another initiative stops the command unless told what to do."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scalepredict.cli.common import CatalogueFile, catalogue_or_fail, fail, load_valid
from scalepredict.cli.monitor import _scorings, matured_rows
from scalepredict.cli.render import console, count

if TYPE_CHECKING:
    from scalepredict.catalogue import Catalogue
    from scalepredict.data.training_set import TrainingSetChange

SHOWN = 5  # collisions listed by id; the rest counted


def change_lines(
    change: TrainingSetChange, counts: dict[str, int], funded_only: bool, cat: Catalogue
) -> list[str]:
    """What the outcomes do to the training set, one line per kind, with the reason."""
    from scalepredict.data.training_set import identifying_fields

    names = identifying_fields(cat)
    what = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    fate = {
        "refuse": "refused",
        "replace": "replacing history (--replace-history)",
        "keep": "excluded, the history rows kept (--keep-history)",
    }[change.on_collision]
    lines = [
        count(change.history, "history row"),
        f"{count(len(change.added), 'row')} added (initiatives new to the history)",
        f"{len(change.replaced)} replacing history (the same initiative: its outcome or "
        "answers changed)",
        f"{len(change.unchanged)} unchanged (already in the history as they are)",
    ]
    if change.collisions:
        lines.append(
            f"{count(len(change.collisions), 'id collision')} (a history row's id with another "
            f"{what}): " + fate
        )
        lines += [f"    {c.describe()}" for c in change.collisions[:SHOWN]]
        if len(change.collisions) > SHOWN:
            lines.append(f"    ... and {len(change.collisions) - SHOWN} more")
    lines.append(f"{counts['pending']} excluded as pending (no outcome yet, horizon not passed)")
    if funded_only:
        lines.append(f"{counts['not_funded']} excluded as not funded (--funded-only)")
    if not change.refused:
        lines.append(f"= {count(len(change.frame), 'training row')}")
    return lines


def retrain(
    data: Annotated[
        Path | None, typer.Option(help="Labelled history CSV/Parquet (default: the config's).")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="Training configuration YAML.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Where to write the new training set (CSV/Parquet).")
    ] = None,
    funded_only: Annotated[
        bool, typer.Option("--funded-only", help="Only outcomes of funded initiatives.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Only print what would change; write and train nothing."),
    ] = False,
    replace_history: Annotated[
        bool,
        typer.Option(
            "--replace-history",
            help="An outcome whose id is a history row's, with another city, stage or date, "
            "replaces that row.",
        ),
    ] = False,
    keep_history: Annotated[
        bool,
        typer.Option(
            "--keep-history",
            help="Such an outcome is left out and the history row kept.",
        ),
    ] = False,
    require_promotion: Annotated[
        bool, typer.Option("--require-promotion", help="Exit 3 when not promoted.")
    ] = False,
    catalogue: CatalogueFile = None,
) -> None:
    """The history plus every outcome past the horizon -> a new training set, trained and sent
    through the promotion gate as `train` does. An outcome of an initiative in the history
    replaces its row; one that only shares its id (another city, stage or date) stops the
    command (exit 2) unless --replace-history or --keep-history says what to do."""
    from scalepredict.cli.model import train
    from scalepredict.data.tables import write_table
    from scalepredict.data.training_set import OnCollision, merge_outcomes
    from scalepredict.data.validation import InvalidAssessmentError, parse_assessments
    from scalepredict.model.config import TrainConfig
    from scalepredict.settings import get_settings, project_root

    if replace_history and keep_history:
        raise fail("--replace-history and --keep-history exclude each other")
    settings = get_settings()
    cat = catalogue_or_fail(catalogue)
    config = config or settings.training_config
    if data is None:
        try:
            cfg_data = Path(TrainConfig.from_yaml(config).data)
        except (OSError, ValueError, TypeError) as e:
            raise fail(f"{config}: {e}") from None
        data = cfg_data if cfg_data.is_absolute() else project_root() / cfg_data
    history = load_valid(data, cat, labelled=True)
    rows, counts = matured_rows(_scorings(settings, cat, None, None), cat, funded_only)
    try:  # typed as the history is, so that equal answers compare equal
        new = parse_assessments(rows, cat, "the recorded outcomes") if len(rows) else rows
    except InvalidAssessmentError as e:
        raise fail(f"the recorded outcomes cannot be used: {e}") from None
    policy: OnCollision = "replace" if replace_history else "keep" if keep_history else "refuse"
    change = merge_outcomes(history, new, cat, policy)
    target = out or settings.monitor_dir.parent / f"retrain-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv"
    head = "dry run, nothing written or trained" if dry_run else str(target)
    console.print(f"training set ({head}):", highlight=False, soft_wrap=True)
    for line in change_lines(change, counts, funded_only, cat):  # unwrapped: one line each
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    if change.refused:
        n = len(change.collisions)
        raise fail(
            f"{count(n, 'outcome')} {'reuses' if n == 1 else 'reuse'} the id of another "
            "initiative in the history; nothing was written or trained. Give them ids of their "
            "own, or rerun with --replace-history (they replace those history rows) or "
            "--keep-history (they are left out)"
        )
    if dry_run:
        return
    write_table(change.frame, target)
    train(
        data=target,
        config=config,
        if_missing=False,
        require_promotion=require_promotion,
        catalogue=catalogue,
    )
