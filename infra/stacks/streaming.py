"""Streaming completions: uvicorn under the Lambda Web Adapter behind a function URL in RESPONSE_STREAM mode.

An HTTP API buffers the whole reply (and Mangum does too), so SSE tokens would arrive at the end; a function
URL with invoke mode RESPONSE_STREAM passes them on as uvicorn writes them.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.stacks import compliance
from infra.stacks.function_specs import STREAM
from infra.stacks.functions import RagflowFunction, SharedResources

# Published by AWS (awslabs/aws-lambda-web-adapter) in every commercial region; a string, so synth stays offline.
WEB_ADAPTER_LAYER = "arn:aws:lambda:{region}:753240598075:layer:LambdaAdapterLayerArm64:{version}"
PORT = "8000"


class StreamingCompletions(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, shared: SharedResources, adapter_version: int,
                 cors_origins: list[str], reserved_concurrency: int | None = None) -> None:
        super().__init__(scope, construct_id)
        adapter = lambda_.LayerVersion.from_layer_version_arn(
            self, "WebAdapter", WEB_ADAPTER_LAYER.format(region=Stack.of(self).region, version=adapter_version))
        # No SnapStart: the snapshot would hold uvicorn's listening socket and the adapter's readiness state.
        # a function URL has no stage to throttle: reserved concurrency is its only cap (opt-in, see compliance.py)
        self.fn = RagflowFunction(self, STREAM, shared, snap_start=False, extra_layers=[adapter],
                                  reserved_concurrency=reserved_concurrency,
                                  unreserved_because=compliance.STREAM_CONCURRENCY)
        for name, value in {
            "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",  # the adapter starts run.sh, then relays invokes over HTTP
            "AWS_LWA_INVOKE_MODE": "response_stream",
            "AWS_LWA_READINESS_CHECK_PROTOCOL": "tcp",  # ready once uvicorn accepts connections
            "PORT": PORT,
        }.items():
            self.fn.function.add_environment(name, value)
        # Auth NONE: like the HTTP API, every completion route requires our own Bearer API key (checked against
        # the table by the app); IAM auth would force every client (OpenAI SDK, ragflow-sdk, curl) to SigV4-sign.
        self.url = self.fn.function.add_function_url(
            auth_type=lambda_.FunctionUrlAuthType.NONE,
            invoke_mode=lambda_.InvokeMode.RESPONSE_STREAM,
            cors=lambda_.FunctionUrlCorsOptions(
                allowed_origins=cors_origins, allowed_headers=["authorization", "content-type"],
                allowed_methods=[lambda_.HttpMethod.POST], max_age=Duration.hours(1),
            ),
        )
        compliance.checkov_skip(self.url, "CKV_AWS_258", compliance.STREAM_URL_AUTH)
