"""`dsim crd`: print the CustomResourceDefinitions generated from the models (kubectl-apply-able YAML)."""

from __future__ import annotations

import click

from model.crd import aibrix_podautoscaler_crd, all_crds, budaiscaler_crd, disaggregatedservice_crd
from model.yamlio import dump_documents


@click.command(name="crd")
@click.option(
    "--kind",
    type=click.Choice(["all", "DisaggregatedService", "BudAIScaler", "PodAutoscaler"]),
    default="all",
    show_default=True,
    help="Which CustomResourceDefinition to print.",
)
def crd(kind: str) -> None:
    """Print CustomResourceDefinition YAML for DisaggregatedService, BudAIScaler and AIBrix's
    PodAutoscaler (autoscaling.aibrix.ai/v1alpha1, the reference autoscaler)."""
    if kind == "DisaggregatedService":
        docs = [disaggregatedservice_crd()]
    elif kind == "BudAIScaler":
        docs = [budaiscaler_crd()]
    elif kind == "PodAutoscaler":
        docs = [aibrix_podautoscaler_crd()]
    else:
        docs = all_crds()
    click.echo(dump_documents(docs), nl=False)
