"""Lambda functions from their specs: runtime, layers, environment, tracing, logs and least-privilege grants."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.stacks.bundles import ARCHITECTURE, RUNTIME, Bundles
from infra.stacks.function_specs import FunctionSpec


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
                 snap_start: bool, extra_layers: list[lambda_.ILayerVersion] | None = None) -> None:
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
        self.function = lambda_.Function(
            self, "Function",
            runtime=RUNTIME, architecture=ARCHITECTURE, handler=spec.handler, code=shared.bundles.app_code(),
            layers=[*(shared.bundles.layer(layer) for layer in spec.layers), *(extra_layers or [])],
            memory_size=spec.memory_mb, timeout=Duration.seconds(spec.timeout_s),
            environment=environment, tracing=lambda_.Tracing.ACTIVE,
            log_group=logs.LogGroup(self, "Logs", retention=shared.log_retention, removal_policy=RemovalPolicy.DESTROY),
            # SnapStart (opt-in, chat and agent functions): Lambda imports the handler once when a version is
            # published and restores that snapshot on a cold start. Safe here: ids come from uuid4 (os.urandom, fresh
            # after restore) and the container opens clients and reads the secret lazily, on the first request.
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if use_snap_start else None,
            description=f"ragflow-serverless {spec.name}",
        )
        self.target: lambda_.IFunction = self.function
        if use_snap_start:  # snapshots exist only for published versions: callers invoke an alias of one
            self.target = lambda_.Alias(self, "Live", alias_name="live", version=self.function.current_version)
            Annotations.of(self.function).acknowledge_warning(
                "@aws-cdk/aws-lambda:snapStartRequirePublish", "every deploy publishes a version behind the live alias")
        self._grant(spec, shared)

    def _grant(self, spec: FunctionSpec, shared: SharedResources) -> None:
        if spec.stateless:
            return
        shared.table.grant_read_write_data(self.function)
        shared.secret.grant_read(self.function)
        # S3 by hand: CDK's grant_read_write also hands out s3:List*, GetBucket*, PutObjectRetention… The adapter
        # (ragcore/adapters/s3_blobs.py) calls get/put/delete/head object and list_objects_v2; ListBucket also makes
        # a missing key answer 404 instead of 403, which get() and exists() rely on.
        objects = shared.bucket.arn_for_objects("*")
        if spec.bucket == "read_write":
            self.function.add_to_role_policy(iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], resources=[objects]))
            self.function.add_to_role_policy(iam.PolicyStatement(
                actions=["s3:ListBucket"], resources=[shared.bucket.bucket_arn]))
        elif spec.bucket == "delete":
            self.function.add_to_role_policy(iam.PolicyStatement(actions=["s3:DeleteObject"], resources=[objects]))
        if spec.sends_tasks:
            shared.tasks.grant_send_messages(self.function)
        if spec.provider_keys:
            # the three calls the envelope cipher makes; not kms:ReEncrypt* or kms:GenerateDataKeyWithoutPlaintext
            self.function.add_to_role_policy(iam.PolicyStatement(
                actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], resources=[shared.provider_key.key_arn]))
