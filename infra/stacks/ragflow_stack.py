"""The whole deployment: storage, queues, secrets, one Lambda per API module behind an HTTP API, the ingest
consumer, and the streaming completions function behind a function URL."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_secretsmanager as secrets
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from ragcore.adapters.table_schema import (
    GSI_PARENT,
    GSI_PARENT_PK,
    GSI_PARENT_SK,
    PARTITION_KEY,
    SORT_KEY,
)

from infra.route_map import route_table
from infra.stacks.settings import LWA_LAYER, SENDS_TASKS, SIZES, USES_BUCKET

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "layers" / "build"
PLACEHOLDER = ROOT / "layers" / "placeholder"
METHODS = {m.value: m for m in apigw.HttpMethod}


def asset(name: str) -> lambda_.Code:
    """The built bundle when layers/build.py has run; otherwise a placeholder, so synth stays offline and fast."""
    built = BUILD / name
    return lambda_.Code.from_asset(str(built if built.is_dir() else PLACEHOLDER))


class RagflowStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        ctx = self.node.try_get_context

        table = dynamodb.Table(
            self, "Metadata",
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True),
            removal_policy=RemovalPolicy.RETAIN,
        )
        table.add_global_secondary_index(
            index_name=GSI_PARENT,
            partition_key=dynamodb.Attribute(name=GSI_PARENT_PK, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=GSI_PARENT_SK, type=dynamodb.AttributeType.STRING),
        )
        bucket = s3.Bucket(
            self, "Files",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True, versioned=False, removal_policy=RemovalPolicy.RETAIN,
            cors=[s3.CorsRule(allowed_methods=[s3.HttpMethods.PUT], allowed_origins=["*"], allowed_headers=["*"], max_age=3000)],
        )
        ingest_size = SIZES["ingest"]
        dlq = sqs.Queue(self, "TasksDLQ", retention_period=Duration.days(14), enforce_ssl=True)
        # visibility ≥ 6 × the consumer's timeout, as AWS advises for Lambda event sources
        tasks = sqs.Queue(
            self, "Tasks", visibility_timeout=Duration.seconds(ingest_size.timeout_s * 6), enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=3, queue=dlq),
        )
        bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(tasks), s3.NotificationKeyFilter(prefix="inbox/"))
        bucket.add_event_notification(s3.EventType.OBJECT_REMOVED, s3n.SqsDestination(tasks), s3.NotificationKeyFilter(prefix="inbox/"))
        cloudwatch.Alarm(
            self, "DeadLettersAlarm", metric=dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(5)),
            threshold=1, evaluation_periods=1, alarm_description="Parse tasks or drop-folder events failed 3 times",
        )
        provider_secret = secrets.Secret(self, "ProviderKeys", description="PINECONE_API_KEY, LLM_API_KEY, EMBEDDING_API_KEY (JSON)")

        deps = lambda_.LayerVersion(
            self, "Dependencies", code=asset("deps"), compatible_runtimes=[lambda_.Runtime.PYTHON_3_13],
            compatible_architectures=[lambda_.Architecture.ARM_64], description="third-party packages (no local model)",
        )
        env = {
            "RAGFLOW_RUNTIME": "aws", "TABLE_NAME": table.table_name, "BUCKET_NAME": bucket.bucket_name,
            "TASK_QUEUE_URL": tasks.queue_url, "PROVIDER_SECRET_ARN": provider_secret.secret_arn,
            "POWERTOOLS_METRICS_NAMESPACE": "ragflow-serverless", "LOG_LEVEL": "INFO", "DATA_DIR": "/tmp/var",
            "EMBEDDING_MODEL": str(ctx("embedding_model") or "text-embedding-3-small@OpenAI"),
            "EMBEDDING_BASE_URL": str(ctx("embedding_base_url") or ""), "LLM_BASE_URL": str(ctx("llm_base_url") or ""),
            "LLM_MODEL": str(ctx("llm_model") or ""), "PINECONE_HOST": str(ctx("pinecone_host") or ""),
        }

        def function(name: str, handler: str, *, layers: list[lambda_.ILayerVersion] | None = None, **extra: object) -> lambda_.Function:
            size = SIZES[name]
            fn = lambda_.Function(
                self, f"{name.title()}Function", runtime=lambda_.Runtime.PYTHON_3_13, architecture=lambda_.Architecture.ARM_64,
                handler=handler, code=asset("app"), layers=layers or [deps], memory_size=size.memory_mb,
                timeout=Duration.seconds(size.timeout_s), tracing=lambda_.Tracing.ACTIVE,
                environment={**env, "POWERTOOLS_SERVICE_NAME": name},
                log_group=logs.LogGroup(self, f"{name.title()}Logs", retention=logs.RetentionDays.ONE_MONTH,
                                        removal_policy=RemovalPolicy.DESTROY),
                **extra,  # type: ignore[arg-type]
            )
            table.grant_read_write_data(fn)
            provider_secret.grant_read(fn)
            if name in USES_BUCKET:
                bucket.grant_read_write(fn)
            if name in SENDS_TASKS:
                tasks.grant_send_messages(fn)
            return fn

        http = apigw.HttpApi(self, "Api", description="RAGFlow-compatible /api/v1",
                             cors_preflight=apigw.CorsPreflightOptions(allow_origins=["*"], allow_headers=["*"],
                                                                      allow_methods=[apigw.CorsHttpMethod.ANY]))
        aliases: dict[str, lambda_.Alias] = {}
        routes = route_table()
        for module in sorted({m for _, _, m in routes}):
            # SnapStart restores an initialised snapshot instead of importing FastAPI and boto3 on each cold start
            fn = function(module, f"functions.{module}.handler.handler", snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS)
            aliases[module] = lambda_.Alias(self, f"{module.title()}Live", alias_name="live", version=fn.current_version)
        integration_of = {m: integrations.HttpLambdaIntegration(f"{m.title()}Integration", a) for m, a in aliases.items()}
        for method, path, module in routes:
            http.add_routes(path=path, methods=[METHODS[method]], integration=integration_of[module])

        ingest = function("ingest", "functions.ingest.handler.handler")
        ingest.add_event_source(sources.SqsEventSource(tasks, batch_size=5, report_batch_item_failures=True))

        # Streaming completions: uvicorn under the Lambda Web Adapter, reply streamed through a function URL.
        stream = function(
            "stream", "run.sh",
            layers=[deps, lambda_.LayerVersion.from_layer_version_arn(self, "WebAdapter", LWA_LAYER.format(region=self.region))],
        )
        stream.add_environment("AWS_LAMBDA_EXEC_WRAPPER", "/opt/bootstrap")
        stream.add_environment("AWS_LWA_INVOKE_MODE", "response_stream")
        stream.add_environment("PORT", "8000")
        # Our own API keys authenticate every request, as on the HTTP API, so the URL itself is public (auth NONE).
        url = stream.add_function_url(
            auth_type=lambda_.FunctionUrlAuthType.NONE, invoke_mode=lambda_.InvokeMode.RESPONSE_STREAM,
            cors=lambda_.FunctionUrlCorsOptions(allowed_origins=["*"], allowed_headers=["*"], allowed_methods=[lambda_.HttpMethod.ALL]),
        )

        CfnOutput(self, "HttpApiUrl", value=http.api_endpoint, description="base_url for ragflow-sdk and curl")
        CfnOutput(self, "CompletionsUrl", value=url.url, description="streaming completions; OpenAI SDK base_url = <this>api/v1/chats_openai/<chat_id>")
        CfnOutput(self, "DropBucket", value=bucket.bucket_name, description="drop files under inbox/<dataset>/")
        CfnOutput(self, "ProviderSecretArn", value=provider_secret.secret_arn, description="put provider keys here (JSON)")
