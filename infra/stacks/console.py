"""The web console on AWS: the same static files `make serve` serves (shared/ragcore/console), in a private bucket
behind CloudFront. CloudFront also forwards /api/* to the HTTP API, so the console calls the API on its own origin
exactly as it does locally; only streamed completions go to their function URL, named in the config.json written
next to the files."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Fn, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "shared" / "ragcore" / "console"


class WebConsole(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, api: apigw.HttpApi, stream_url: str) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self, "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,  # read by CloudFront only (origin access control)
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.DESTROY,  # nothing but the console's own files, redeployed by every deploy
            auto_delete_objects=True,
        )
        api_host = Fn.select(2, Fn.split("/", api.api_endpoint))  # https://<id>.execute-api.<region>.amazonaws.com
        self.distribution = cloudfront.Distribution(
            self, "Distribution",
            comment="ragflow-serverless web console and /api/v1",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
            ),
            additional_behaviors={
                "/api/*": cloudfront.BehaviorOptions(
                    origin=origins.HttpOrigin(api_host, protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY),
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,  # every answer is per key: never cached
                    # the Authorization header and query strings reach the API; Host stays the API's own
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                ),
            },
        )
        s3deploy.BucketDeployment(
            self, "Files",
            sources=[
                s3deploy.Source.asset(str(CONSOLE_DIR), exclude=["config.json"]),
                # API Gateway buffers responses: streamed answers come from the completions function's URL
                s3deploy.Source.json_data("config.json", {"api_base": "", "stream_base": stream_url}),
            ],
            destination_bucket=self.bucket,
            distribution=self.distribution,
            distribution_paths=["/*"],
        )
        CfnOutput(scope, "ConsoleUrl", value=f"https://{self.distribution.distribution_domain_name}/",
                  description="the web console (log in with an API key); it calls the API through the same host")
