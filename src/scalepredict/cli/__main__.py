"""`python -m scalepredict.cli`: the same as the `scalepredict` command."""

from scalepredict.cli import app

app()
