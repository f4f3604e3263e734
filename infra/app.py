"""The CDK app: `python infra/app.py` synthesizes cdk.out/ offline (no account, no CLI, no Docker).

RAGFLOW_BUNDLES (auto | require | placeholder) says which code assets to package: see infra/stacks/bundles.py.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "shared"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import aws_cdk as cdk  # noqa: E402

from infra.stacks.bundles import Mode  # noqa: E402
from infra.stacks.ragflow_stack import RagflowStack  # noqa: E402

STACK_NAME = "RagflowServerless"


def cdk_json_context() -> dict[str, object]:
    """cdk.json's context: the CLI passes it (plus -c overrides, which win) but `python infra/app.py` alone must read it."""
    context = json.loads((ROOT / "cdk.json").read_text()).get("context", {})
    return dict(context) if isinstance(context, dict) else {}


def build_app(outdir: str | None = None, *, bundles: Mode | None = None, context: dict[str, object] | None = None) -> cdk.App:
    merged = {**cdk_json_context(), **(context or {})}
    app = cdk.App(outdir=outdir, context=merged) if outdir else cdk.App(context=merged)
    RagflowStack(
        app, STACK_NAME, bundles=bundles,
        description="ragflow-serverless: a RAGFlow-compatible RAG API on Lambda, DynamoDB, S3, SQS and Pinecone",
        # account/region from the CLI's credentials at deploy time; left unresolved (tokens) for an offline synth
        env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
    )
    return app


if __name__ == "__main__":
    # the CDK CLI tells the app where to write (CDK_OUTDIR); run alone (`make synth`), write ./cdk.out
    build_app(None if os.environ.get("CDK_OUTDIR") else str(ROOT / "cdk.out")).synth()
