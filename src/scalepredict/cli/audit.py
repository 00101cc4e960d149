"""`scalepredict audit`: the audit trail of scored proposals."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scalepredict.cli.common import store_errors
from scalepredict.cli.render import console

audit_app = typer.Typer(help="The audit trail of scored proposals.", no_args_is_help=True)


@audit_app.command("export")
def audit_export(out: Annotated[Path, typer.Option(help="CSV file to write.")]) -> None:
    """Write every audit record (request id, key name, time, input, output, model) to CSV."""
    from scalepredict.settings import get_settings
    from scalepredict.store.audit import AuditLog
    from scalepredict.store.database import describe

    settings = get_settings()
    with store_errors():
        n = AuditLog(settings).export(out)
    console.print(f"wrote {n} record(s) from {describe(settings.database_url)} to {out}")
