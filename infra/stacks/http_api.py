"""The HTTP API (API Gateway v2): every route the code declares, each to its module's function."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

METHODS = {m.value: m for m in apigw.HttpMethod}


class RagflowHttpApi(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, routes: list[tuple[str, str, str]],
                 targets: dict[str, lambda_.IFunction], cors_origins: list[str]) -> None:
        super().__init__(scope, construct_id)
        self.api = apigw.HttpApi(
            self, "Api", description="RAGFlow-compatible HTTP API (/api/v1)",
            cors_preflight=apigw.CorsPreflightOptions(
                allow_origins=cors_origins, allow_headers=["authorization", "content-type"],
                allow_methods=[apigw.CorsHttpMethod.ANY], max_age=Duration.hours(1),
            ),
        )
        # one integration (and one invoke permission for the whole API, not one per route) per module
        self.integrations = {
            module: integrations.HttpLambdaIntegration(
                f"{module.title()}Integration", target, scope_permission_to_route=False)
            for module, target in targets.items()
        }
        for method, path, module in routes:
            self.api.add_routes(path=path, methods=[METHODS[method]], integration=self.integrations[module])
