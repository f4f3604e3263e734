"""aws-cdk-lib's own deploy-time functions: the S3 notifications handler, the console uploader (BucketDeployment)
and the console bucket's emptier (autoDeleteObjects). Their code, roles and runtimes are CDK's; the stack gives
them a log group with retention and states, once, why their findings stand."""

from __future__ import annotations

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_logs as logs

from infra.stacks import compliance

NOTIFICATIONS = "BucketNotificationsHandler"
AUTO_DELETE = "Custom::S3AutoDeleteObjectsCustomResourceProvider"
DEPLOYMENT = "Custom::CDKBucketDeployment"
BASIC_EXECUTION_ROLE = ("AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                        "AWSLambdaBasicExecutionRole]")


def explain_cdk_helpers(stack: Stack, log_group: logs.ILogGroup) -> None:
    for helper in compliance.find_helpers(stack, (NOTIFICATIONS, AUTO_DELETE, DEPLOYMENT)):
        deployment = helper.node.id.startswith(DEPLOYMENT)
        if not helper.node.id.startswith(AUTO_DELETE):  # that one's role is a raw CfnResource, which nag skips
            compliance.acknowledge(helper, BASIC_EXECUTION_ROLE, compliance.CDK_HELPER)
        if deployment:  # a python runtime CDK picks
            compliance.acknowledge(helper, "AwsSolutions-L1", compliance.CDK_HELPER)
        functions = [c for c in helper.node.find_all()
                     if isinstance(c, CfnResource) and c.cfn_resource_type == "AWS::Lambda::Function"]
        for function in functions:
            compliance.checkov_skips(function, {
                "CKV_AWS_115": compliance.CDK_HELPER, "CKV_AWS_116": compliance.CDK_HELPER,
                "CKV_AWS_117": compliance.CDK_HELPER,
            })
            if deployment:  # the only helper with environment variables (the others have none to encrypt)
                compliance.checkov_skip(function, "CKV_AWS_173", compliance.CDK_HELPER)
            else:  # BucketDeployment takes its log group as a prop
                function.add_property_override("LoggingConfig.LogGroup", log_group.log_group_name)
