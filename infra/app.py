"""The CDK app: `python infra/app.py` synthesizes cdk.out/ offline (no account, no Docker)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "shared"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import aws_cdk as cdk  # noqa: E402

from infra.stacks.ragflow_stack import RagflowStack  # noqa: E402


def build_app(outdir: str | None = None) -> cdk.App:
    app = cdk.App(outdir=outdir) if outdir else cdk.App()
    RagflowStack(app, "RagflowServerless", description="ragflow-serverless: a RAGFlow-compatible API on Lambda")
    return app


if __name__ == "__main__":
    import os

    # the CDK CLI tells the app where to write; run alone (`make synth`), write ./cdk.out
    build_app(None if os.environ.get("CDK_OUTDIR") else str(ROOT / "cdk.out")).synth()
