"""The HTTP API (API Gateway v2): every route the code declares, each to its module's function, on a throttled
$default stage that writes an access log."""

from __future__ import annotations

import json

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw_v1
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.stacks import compliance

METHODS = {m.value: m for m in apigw.HttpMethod}
# Requests per second across all routes (steady and burst); cdk.json context api_throttle_rate / api_throttle_burst.
# Far above one team's use, low enough that a leaked key or a runaway client can't run up the Lambda bill.
THROTTLE_RATE = 100
THROTTLE_BURST = 200
# One JSON line per request: who (source IP), what (route, status, latency) and the id that links it to the
# function's own log lines; never the Authorization header or the body.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey", "status": "$context.status", "protocol": "$context.protocol",
    "responseLength": "$context.responseLength", "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency", "integrationError": "$context.integrationErrorMessage",
    "userAgent": "$context.identity.userAgent",
}


@jsii.implements(apigw.IAccessLogSettings)
class JsonAccessLog:
    """IAccessLogSettings is a jsii interface (no struct to fill in): ACCESS_LOG_FIELDS as one JSON line."""

    def __init__(self, destination: apigw.IAccessLogDestination) -> None:
        self._destination = destination

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw_v1.AccessLogFormat:
        return apigw_v1.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS))


class RagflowHttpApi(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, routes: list[tuple[str, str, str]],
                 targets: dict[str, lambda_.IFunction], cors_origins: list[str], log_retention: logs.RetentionDays,
                 throttle_rate: float = THROTTLE_RATE, throttle_burst: int = THROTTLE_BURST) -> None:
        super().__init__(scope, construct_id)
        self.api = apigw.HttpApi(
            self, "Api", description="RAGFlow-compatible HTTP API (/api/v1)",
            cors_preflight=apigw.CorsPreflightOptions(
                allow_origins=cors_origins, allow_headers=["authorization", "content-type"],
                allow_methods=[apigw.CorsHttpMethod.ANY], max_age=Duration.hours(1),
            ),
            create_default_stage=False,  # made below, with throttling and an access log
        )
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY)
        compliance.checkov_skip(self.access_logs, "CKV_AWS_158", compliance.LOGS_DEFAULT_ENCRYPTION)
        # the id HttpApi gives its own default stage, so deployed stacks update the stage instead of replacing it
        self.stage = apigw.HttpStage(
            self.api, "DefaultStage", http_api=self.api, stage_name="$default", auto_deploy=True,
            throttle=apigw.ThrottleSettings(rate_limit=throttle_rate, burst_limit=throttle_burst),
            access_log_settings=JsonAccessLog(apigw.LogGroupLogDestination(self.access_logs)),
        )
        compliance.acknowledge(self.api, "AwsSolutions-APIG4", compliance.API_KEY_AUTH)
        # one integration (and one invoke permission for the whole API, not one per route) per module
        self.integrations = {
            module: integrations.HttpLambdaIntegration(
                f"{module.title()}Integration", target, scope_permission_to_route=False)
            for module, target in targets.items()
        }
        for method, path, module in routes:
            self.api.add_routes(path=path, methods=[METHODS[method]], integration=self.integrations[module])
