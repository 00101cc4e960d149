"""`python -m scalepredict.cli`: the same commands as the `scalepredict` script."""

from scalepredict.cli import app

app(prog_name="scalepredict")
