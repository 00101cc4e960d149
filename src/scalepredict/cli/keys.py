"""`scalepredict keys`: API keys for the scoring service (only hashes are stored)."""

from __future__ import annotations

from typing import Annotated

import typer

from scalepredict.cli.common import fail, store_errors
from scalepredict.cli.render import console, err

keys_app = typer.Typer(
    help="API keys for the scoring service (only hashes are stored).", no_args_is_help=True
)


@keys_app.command("add")
def keys_add(
    name: Annotated[str, typer.Argument(help="Who holds the key (letters, digits, - or _).")],
    role: Annotated[
        str, typer.Option(help="scorer (score, plan), recorder (record outcomes) or admin.")
    ] = "scorer",
) -> None:
    """Create a key and print it once; only its SHA-256 hash is stored."""
    from scalepredict.settings import get_settings
    from scalepredict.store.database import describe
    from scalepredict.store.keys import ApiKeyError, add_key

    settings = get_settings()
    with store_errors():
        try:
            key = add_key(name, role, settings)
        except ApiKeyError as e:
            raise fail(str(e)) from None
    where = describe(settings.database_url)
    err.print(f"key for {name} ({role}) stored as a hash in {where}; it is shown only now:")
    print(key)


@keys_app.command("list")
def keys_list() -> None:
    """Names, roles and creation times (never keys)."""
    from scalepredict.settings import get_settings
    from scalepredict.store.keys import list_keys

    with store_errors():
        keys = list_keys(get_settings())
    for name, k in keys.items():
        console.print(f"{name}\t{k['role']}\t{k['created']}")


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument()]) -> None:
    """Delete a key; every replica refuses it within `key_cache_seconds` (at most 2 s)."""
    from scalepredict.settings import get_settings
    from scalepredict.store.keys import revoke_key

    with store_errors():
        revoked = revoke_key(name, get_settings())
    if not revoked:
        raise fail(f"no key named {name!r}")
    console.print(f"revoked {name}")
