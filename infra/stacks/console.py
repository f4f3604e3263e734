"""The web console on AWS: the same static files `make serve` serves (shared/ragcore/console), in a private bucket
behind CloudFront. CloudFront also forwards /api/* to the HTTP API, so the console calls the API on its own origin
exactly as it does locally; only streamed completions go to their function URL, named in the config.json written
next to the files. The console bucket's S3 access logs and CloudFront's standard logs go to the access-log bucket."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Fn, RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.stacks import compliance
from infra.stacks.storage import private_bucket

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "shared" / "ragcore" / "console"


class WebConsole(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, api: apigw.HttpApi, stream_url: str,
                 access_logs: s3.IBucket, helper_logs: logs.ILogGroup, web_acl_arn: str = "") -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(  # read by CloudFront only (origin access control)
            self, "Bucket",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.DESTROY,  # nothing but the console's own files, redeployed by every deploy
            auto_delete_objects=True,
            server_access_logs_bucket=access_logs, server_access_logs_prefix="s3/console/",
        )
        compliance.checkov_skip(self.bucket, "CKV_AWS_21", compliance.VERSIONING_CONSOLE)
        api_host = Fn.select(2, Fn.split("/", api.api_endpoint))  # https://<id>.execute-api.<region>.amazonaws.com
        self.distribution = cloudfront.Distribution(
            self, "Distribution",
            comment="ragflow-serverless web console and /api/v1",
            default_root_object="index.html",
            enable_logging=True, log_bucket=access_logs, log_file_prefix="cloudfront/",
            web_acl_id=web_acl_arn or None,  # a WAFv2 web ACL of scope CLOUDFRONT (us-east-1), when the deployment has one
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
        deployment = s3deploy.BucketDeployment(
            self, "Files",
            sources=[
                s3deploy.Source.asset(str(CONSOLE_DIR), exclude=["config.json"]),
                # API Gateway buffers responses: streamed answers come from the completions function's URL
                s3deploy.Source.json_data("config.json", {"api_base": "", "stream_base": stream_url}),
            ],
            destination_bucket=self.bucket,
            distribution=self.distribution,
            distribution_paths=["/*"],
            log_group=helper_logs,
        )
        # the uploader's policy, as BucketDeployment writes it: the console bucket and CDK's asset bucket only
        console_bucket = Stack.of(self).get_logical_id(compliance.cfn_of(self.bucket))
        for finding in ("Action::s3:Abort*", "Action::s3:DeleteObject*", "Action::s3:GetBucket*",
                        "Action::s3:GetObject*", "Action::s3:List*", f"Resource::<{console_bucket}.Arn>/*",
                        "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*",
                        "Resource::*"):
            compliance.acknowledge(deployment.handler_role, f"AwsSolutions-IAM5[{finding}]", compliance.CDK_HELPER_POLICY)
        compliance.checkov_skip(deployment.handler_role.node.find_child("DefaultPolicy"), "CKV_AWS_111",
                                compliance.CDK_HELPER_POLICY)
        compliance.acknowledge(self.distribution, "AwsSolutions-CFR1", compliance.NO_GEO_RESTRICTION)
        compliance.acknowledge(self.distribution, "AwsSolutions-CFR4", compliance.DEFAULT_CERTIFICATE)
        compliance.checkov_skip(self.distribution, "CKV_AWS_174", compliance.DEFAULT_CERTIFICATE)
        if not web_acl_arn:
            compliance.acknowledge(self.distribution, "AwsSolutions-CFR2", compliance.NO_WAF)
            compliance.checkov_skip(self.distribution, "CKV_AWS_68", compliance.NO_WAF)
        CfnOutput(scope, "ConsoleUrl", value=f"https://{self.distribution.distribution_domain_name}/",
                  description="the web console (log in with an API key); it calls the API through the same host")
