"""The whole deployment: bucket, table, queues, secret, one Lambda per API module behind an HTTP API, the ingest
consumer (and the OCR function it invokes), and the streaming completions function behind a function URL. Settings come from cdk.json context."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.route_map import route_table
from infra.stacks import compliance
from infra.stacks.bundles import Bundles, Mode, bundle_mode
from infra.stacks.cdk_helpers import explain_cdk_helpers
from infra.stacks.connectors import ConnectorScheduler
from infra.stacks.console import WebConsole
from infra.stacks.function_specs import INGEST, OCR, api_function, with_local_embedder
from infra.stacks.functions import RagflowFunction, SharedResources
from infra.stacks.http_api import THROTTLE_BURST, THROTTLE_RATE, RagflowHttpApi
from infra.stacks.queues import TaskQueues
from infra.stacks.secrets import ProviderKeyKey, ProviderSecret
from infra.stacks.storage import AccessLogBucket, FileBucket
from infra.stacks.streaming import StreamingCompletions
from infra.stacks.table import MetadataTable

# context key → (environment variable, default); see cdk.json
MODEL_SETTINGS = {
    "embedding_model": ("EMBEDDING_MODEL", "text-embedding-3-small@OpenAI"),
    "embedding_base_url": ("EMBEDDING_BASE_URL", "https://api.openai.com/v1"),
    "llm_model": ("LLM_MODEL", "gpt-4o-mini"),
    "llm_base_url": ("LLM_BASE_URL", "https://api.openai.com/v1"),
    "rerank_base_url": ("RERANK_BASE_URL", ""),
    "pinecone_host": ("PINECONE_HOST", ""),
    "drop_folder_tenant": ("DROP_FOLDER_TENANT", ""),
    "log_level": ("LOG_LEVEL", "INFO"),
}
# parse tasks of up to 12 PDF pages each (~12 s when OCR'd), or whole small documents: the tasks of a batch are
# embedded and written together (one embedding call, one write of the chunks and of the keyword statistics), so a
# burst of small files costs about what embedding them costs, and the dataset's shared items (keyword statistics,
# counts) are written once per batch: 50 one-chunk documents take ~10 DynamoDB items each, 20 took ~12. The handler
# queues again the tasks it cannot start in the first two thirds of its time, so 50 page-range tasks are safe too.
INGEST_BATCH_SIZE = 50
INGEST_BATCHING_WINDOW_S = 2  # a burst's messages gather for two seconds into one invocation
INGEST_MAX_CONCURRENCY = 20  # caps parallel parsing, i.e. the request rate at the embedding API and Pinecone
LOG_RETENTION = logs.RetentionDays.ONE_MONTH  # every function's log group and the API's access log


def _optional_int(value: Any) -> int | None:
    return None if value is None or str(value).strip() in ("", "none", "null") else int(value)


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")


class RagflowStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, bundles: Mode | None = None, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        ctx = self.node.try_get_context
        settings = {env: str(ctx(key) if ctx(key) is not None else default) for key, (env, default) in MODEL_SETTINGS.items()}
        settings["POWERTOOLS_METRICS_NAMESPACE"] = "ragflow-serverless"
        settings["DATA_DIR"] = "/tmp/ragflow"  # the only writable path on Lambda
        snap_start = _flag(ctx("snap_start"), False)  # for the chat and agent functions only
        # with no hosted embedding API the builtin model embeds queries too: those functions carry its layer
        local_embedder = _flag(ctx("local_embedder"), not settings["EMBEDDING_BASE_URL"])
        cors_origins = [str(o) for o in (ctx("cors_origins") or ["*"])]
        mode = bundle_mode(bundles)
        if not settings["PINECONE_HOST"]:
            # without Pinecone each function would keep vectors in its own /tmp: retrieval would find nothing
            message = ("No pinecone_host in cdk.json context: set it (or deploy with "
                       "-c pinecone_host=https://<index>.svc.<project>.pinecone.io)")
            if mode == "require":  # a deploy: refuse
                Annotations.of(self).add_error(message)
            else:
                Annotations.of(self).add_warning_v2("ragflow:pinecone-host", message)

        table = MetadataTable(self, "Metadata").table
        access_logs = AccessLogBucket(self, "AccessLogs").bucket
        files = FileBucket(self, "Storage", cors_origins=cors_origins, access_logs=access_logs)
        queues = TaskQueues(self, "Queues", consumer_timeout_s=INGEST.timeout_s, alarm_email=str(ctx("alarm_email") or ""))
        files.notify_drop_folder(queues.tasks)
        secret = ProviderSecret(self, "ProviderKeys").secret
        shared = SharedResources(
            table=table, bucket=files.bucket, tasks=queues.tasks, secret=secret,
            provider_key=ProviderKeyKey(self, "ProviderKeyKey").key,
            bundles=Bundles(self, "Bundles", mode=mode), environment=settings,
            log_retention=LOG_RETENTION,
        )

        routes = route_table()
        modules = sorted({module for _, _, module in routes})
        api_functions = {
            m: RagflowFunction(self, with_local_embedder(api_function(m), local_embedder), shared, snap_start=snap_start)
            for m in modules
        }
        http = RagflowHttpApi(self, "Http", routes=routes, targets={m: f.target for m, f in api_functions.items()},
                              cors_origins=cors_origins, log_retention=LOG_RETENTION,
                              throttle_rate=float(ctx("api_throttle_rate") or THROTTLE_RATE),
                              throttle_burst=int(ctx("api_throttle_burst") or THROTTLE_BURST))

        ocr = RagflowFunction(self, OCR, shared, snap_start=False, unreserved_because=compliance.INGEST_CONCURRENCY)
        ingest = RagflowFunction(self, with_local_embedder(INGEST, local_embedder), shared, snap_start=False,
                                 unreserved_because=compliance.INGEST_CONCURRENCY)
        ingest.function.add_environment("OCR_FUNCTION_NAME", ocr.function.function_name)
        ocr.function.add_environment("OCR_WORKERS", "1")  # one page a call: that page gets both vCPUs
        # the function itself (ragcore/adapters/lambda_ocr.py invokes it unqualified), not grant_invoke's ARN:*
        ingest.function.add_to_role_policy(iam.PolicyStatement(
            actions=["lambda:InvokeFunction"], resources=[ocr.function.function_arn]))
        ingest.function.add_event_source(sources.SqsEventSource(
            queues.tasks, batch_size=INGEST_BATCH_SIZE, max_concurrency=INGEST_MAX_CONCURRENCY,
            max_batching_window=Duration.seconds(INGEST_BATCHING_WINDOW_S), report_batch_item_failures=True,
        ))
        ConnectorScheduler(self, "Connectors", shared=shared)
        stream = StreamingCompletions(self, "Streaming", shared=shared, cors_origins=cors_origins,
                                      adapter_version=int(ctx("lwa_layer_version") or 25),
                                      reserved_concurrency=_optional_int(ctx("stream_reserved_concurrency")))

        # CDK's own deploy-time functions (S3 notifications, console upload, bucket emptying) log here
        helper_logs = logs.LogGroup(self, "HelperLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)
        compliance.checkov_skip(helper_logs, "CKV_AWS_158", compliance.LOGS_DEFAULT_ENCRYPTION)
        WebConsole(self, "Console", api=http.api, stream_url=stream.url.url, access_logs=access_logs,
                   helper_logs=helper_logs, web_acl_arn=str(ctx("cloudfront_web_acl_arn") or ""))
        explain_cdk_helpers(self, helper_logs)

        CfnOutput(self, "HttpApiUrl", value=http.api.api_endpoint,
                  description="base URL for ragflow-sdk, curl and the OpenAPI routes (/api/v1/...)")
        CfnOutput(self, "CompletionsUrl", value=stream.url.url,
                  description="streaming completions; OpenAI SDK base_url = <this>api/v1/chats_openai/<chat_id>")
        CfnOutput(self, "DropBucket", value=files.bucket.bucket_name,
                  description="drop files under s3://<this>/inbox/<dataset name>/ to ingest them")
        CfnOutput(self, "ProviderSecretArn", value=secret.secret_arn,
                  description="put provider keys here (JSON): PINECONE_API_KEY, LLM_API_KEY, EMBEDDING_API_KEY")
        CfnOutput(self, "TableName", value=table.table_name,
                  description="for `TABLE_NAME=<this> RAGFLOW_RUNTIME=aws ragflow-serverless apikey create`")
        CfnOutput(self, "DeadLetterQueueUrl", value=queues.dead_letters.queue_url,
                  description="tasks and drop-folder events that failed 3 times")
