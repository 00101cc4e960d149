"""The `scalepredict` command line: an edge that parses arguments, calls the package and
formats; one module per command group (`data`, `model`, `monitor`, `retrain`, `score`, `keys`,
`audit`, `outcomes`, `serve`)."""

from __future__ import annotations

import typer

from scalepredict.cli import data, model, monitor, retrain, score, serve
from scalepredict.cli.audit import audit_app
from scalepredict.cli.catalogue import catalogue_app
from scalepredict.cli.keys import keys_app
from scalepredict.cli.outcomes import outcomes_app

app = typer.Typer(
    name="scalepredict",
    help=(
        "ScalePredict: predict whether a smart-city AI+IoT initiative scales past its pilot, "
        "explain why, and say what to do about it."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
for command in (
    data.validate,
    data.generate,
    data.template,
    model.train,
    model.evaluate,
    model.promote,
    monitor.monitor,
    retrain.retrain,
    score.explain,
    score.score,
    serve.serve,
    serve.settings,
    serve.status,
):
    app.command()(command)
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(outcomes_app, name="outcomes")

if __name__ == "__main__":
    app()
