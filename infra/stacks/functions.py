"""Lambda functions from their specs: runtime, layers, environment, tracing, logs and least-privilege grants.

Each function has a role of its own with no managed policy: it may write its own log group, send traces, and use
exactly the table, secret, bucket, queue and key actions its code calls (function_specs.py says which).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Annotations, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from ragcore.adapters import table_schema

from infra.stacks import compliance
from infra.stacks.bundles import ARCHITECTURE, RUNTIME, Bundles
from infra.stacks.function_specs import FunctionSpec

# What ragcore/adapters/dynamodb_store.py (the only code that touches the table) calls: get_item, batch_get_item,
# query (the base table and its GSIs), put_item, update_item, delete_item, batch_writer (BatchWriteItem) and
# transact_write_items, which IAM authorizes item by item as PutItem/UpdateItem/DeleteItem. No Scan, no
# DescribeTable, no streams, no PartiQL (tests/infra/test_stack.py reads the adapter to keep this list honest).
TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
                 "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
# ragcore/adapters/s3_blobs.py: put/get/delete(_objects)/head object and list_objects_v2; presigned PUT URLs are
# signed with the function's role, so uploads need PutObject too. ListBucket also makes a missing key answer 404
# instead of 403, which get() and exists() rely on.
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")


@dataclass
class SharedResources:
    table: dynamodb.ITable
    bucket: s3.IBucket
    tasks: sqs.IQueue
    secret: secretsmanager.ISecret
    provider_key: kms.IKey  # wraps the data keys of tenants' provider API keys
    bundles: Bundles
    environment: dict[str, str]  # settings every function shares (models, Pinecone host, log level…)
    log_retention: logs.RetentionDays


def construct_name(spec: FunctionSpec) -> str:
    return "".join(part.title() for part in spec.name.split("-")) + "Function"


class RagflowFunction(Construct):
    """One function; `target` is what callers invoke: the `live` alias when SnapStart is on, else the function."""

    def __init__(self, scope: Construct, spec: FunctionSpec, shared: SharedResources, *,
                 snap_start: bool, extra_layers: list[lambda_.ILayerVersion] | None = None,
                 reserved_concurrency: int | None = None, unreserved_because: str = compliance.API_STAGE_THROTTLE) -> None:
        """reserved_concurrency caps the function; without one, unreserved_because says what limits it instead."""
        name = construct_name(spec)
        super().__init__(scope, name)
        self.spec = spec
        environment = {
            **shared.environment,
            "RAGFLOW_RUNTIME": "aws",
            "TABLE_NAME": shared.table.table_name,
            "BUCKET_NAME": shared.bucket.bucket_name,
            "TASK_QUEUE_URL": shared.tasks.queue_url,
            "PROVIDER_SECRET_ARN": shared.secret.secret_arn,
            "POWERTOOLS_SERVICE_NAME": spec.name,
        }
        if spec.provider_keys:  # only the functions granted the key know it (the others fail clearly if asked)
            environment["PROVIDER_KEY_KMS_KEY_ID"] = shared.provider_key.key_arn
        use_snap_start = snap_start and spec.snap_start
        self.log_group = logs.LogGroup(self, "Logs", retention=shared.log_retention, removal_policy=RemovalPolicy.DESTROY)
        # its own role, without AWSLambdaBasicExecutionRole (logs:CreateLogGroup/… on every log group in the account)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             description=f"ragflow-serverless {spec.name}: its log group and the data its code uses")
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[self.log_group.log_group_arn]))
        self.function = lambda_.Function(
            self, "Function",
            runtime=RUNTIME, architecture=ARCHITECTURE, handler=spec.handler, code=shared.bundles.app_code(),
            layers=[*(shared.bundles.layer(layer) for layer in spec.layers), *(extra_layers or [])],
            memory_size=spec.memory_mb, timeout=Duration.seconds(spec.timeout_s),
            environment=environment, tracing=lambda_.Tracing.ACTIVE, role=self.role, log_group=self.log_group,
            # SnapStart (opt-in, chat and agent functions): Lambda imports the handler once when a version is
            # published and restores that snapshot on a cold start. Safe here: ids come from uuid4 (os.urandom, fresh
            # after restore) and the container opens clients and reads the secret lazily, on the first request.
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if use_snap_start else None,
            description=f"ragflow-serverless {spec.name}",
            reserved_concurrent_executions=reserved_concurrency,
        )
        self.target: lambda_.IFunction = self.function
        if use_snap_start:  # snapshots exist only for published versions: callers invoke an alias of one
            self.target = lambda_.Alias(self, "Live", alias_name="live", version=self.function.current_version)
            Annotations.of(self.function).acknowledge_warning(
                "@aws-cdk/aws-lambda:snapStartRequirePublish", "every deploy publishes a version behind the live alias")
        self._grant(spec, shared)
        self._explain_checks()
        if reserved_concurrency is None:
            compliance.checkov_skip(self.function, "CKV_AWS_115", unreserved_because)

    def _grant(self, spec: FunctionSpec, shared: SharedResources) -> None:
        if spec.stateless:
            return
        # by hand, not CDK's grant_* helpers: those add actions the code never calls (Scan, DescribeTable,
        # s3:List*, GetBucket*, sqs:GetQueueAttributes…) and the table's every index as index/*
        table = shared.table.table_arn
        self.function.add_to_role_policy(iam.PolicyStatement(actions=list(TABLE_ACTIONS), resources=[table]))
        self.function.add_to_role_policy(iam.PolicyStatement(
            actions=["dynamodb:Query"],
            resources=[f"{table}/index/{index['IndexName']}" for index in table_schema.GLOBAL_SECONDARY_INDEXES]))
        # ragcore/adapters/secrets.py: get_secret_value only
        self.function.add_to_role_policy(iam.PolicyStatement(
            actions=["secretsmanager:GetSecretValue"], resources=[shared.secret.secret_arn]))
        objects = shared.bucket.arn_for_objects("*")
        if spec.bucket == "read_write":
            self.function.add_to_role_policy(iam.PolicyStatement(actions=list(OBJECT_ACTIONS), resources=[objects]))
            self.function.add_to_role_policy(iam.PolicyStatement(
                actions=["s3:ListBucket"], resources=[shared.bucket.bucket_arn]))
        elif spec.bucket == "delete":
            self.function.add_to_role_policy(iam.PolicyStatement(actions=["s3:DeleteObject"], resources=[objects]))
        if spec.bucket != "none":
            bucket_id = Stack.of(self).get_logical_id(compliance.cfn_of(shared.bucket))
            compliance.acknowledge(self.role, f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/*]",
                                   compliance.BUCKET_OBJECTS)
        if spec.sends_tasks:  # ragcore/adapters/sqs_queue.py: send_message and send_message_batch (both SendMessage)
            self.function.add_to_role_policy(iam.PolicyStatement(
                actions=["sqs:SendMessage"], resources=[shared.tasks.queue_arn]))
        if spec.provider_keys:
            # the three calls the envelope cipher makes; not kms:ReEncrypt* or kms:GenerateDataKeyWithoutPlaintext
            self.function.add_to_role_policy(iam.PolicyStatement(
                actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], resources=[shared.provider_key.key_arn]))

    def _explain_checks(self) -> None:
        compliance.acknowledge(self.role, "AwsSolutions-IAM5[Resource::*]", compliance.XRAY_WILDCARD)
        compliance.acknowledge(self.function, "AwsSolutions-L1", compliance.RUNTIME)
        compliance.checkov_skips(self.function, {
            "CKV_AWS_116": compliance.SYNC_ONLY, "CKV_AWS_117": compliance.NO_VPC,
            "CKV_AWS_173": compliance.ENV_NOT_SECRET,
        })
        compliance.checkov_skip(self.log_group, "CKV_AWS_158", compliance.LOGS_DEFAULT_ENCRYPTION)
