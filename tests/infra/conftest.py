"""One CDK app per test session (placeholder assets: independent of layers/build), shared by the template tests
and the AWS checks: building it is most of their time."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def app() -> Any:
    from infra.app import build_app

    return build_app(bundles="placeholder")


@pytest.fixture(scope="session")
def template(app: Any) -> Any:
    from aws_cdk.assertions import Template

    from infra.app import STACK_NAME

    return Template.from_stack(app.node.find_child(STACK_NAME))
