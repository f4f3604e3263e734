"""The synthesized CloudFormation template (offline, aws_cdk.assertions): wiring, keys, permissions, outputs.

One synth per test session (~10 s, the `template` fixture of conftest.py); the placeholder assets keep it
independent of layers/build.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.route_map import api_path, lambda_modules, route_table

DATA_SERVICES = ("s3:", "dynamodb:", "sqs:", "secretsmanager:")
CDK_HELPERS = ("CustomCDKBucketDeployment", "CustomS3AutoDeleteObjects")


def resources(template: Any, kind: str) -> dict[str, Any]:
    return dict(template.find_resources(kind))


def refs(value: Any) -> set[str]:
    """Logical ids a template value points at (Ref / Fn::GetAtt), however deeply nested."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt" and isinstance(inner, list):
                found.add(str(inner[0]))
            else:
                found |= refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= refs(inner)
    return found


def only(ids: set[str], pool: dict[str, Any]) -> str:
    [hit] = ids & set(pool)
    return hit


def function_id(template: Any, handler: str) -> str:
    [logical] = [k for k, v in resources(template, "AWS::Lambda::Function").items() if v["Properties"].get("Handler") == handler]
    return str(logical)


def module_function(template: Any, module: str) -> str:
    return function_id(template, f"functions.{module}.handler.handler")


def our_functions(template: Any) -> dict[str, Any]:
    """Every function of ours (CDK adds its own helpers: S3 notifications, the console's upload and bucket emptying)."""
    return {k: v for k, v in resources(template, "AWS::Lambda::Function").items()
            if "BucketNotificationsHandler" not in k and not k.startswith(CDK_HELPERS)}


def policy_of(template: Any, function: str) -> list[dict[str, Any]]:
    role = only(refs(resources(template, "AWS::Lambda::Function")[function]["Properties"]["Role"]),
                resources(template, "AWS::IAM::Role"))
    statements: list[dict[str, Any]] = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if role in refs(policy["Properties"]["Roles"]):
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def bucket_ids(template: Any) -> dict[str, str]:
    """files (presigned PUTs: CORS), logs (where the others' access logs go) and console (the rest)."""
    buckets = resources(template, "AWS::S3::Bucket")
    [files] = [k for k, v in buckets.items() if "CorsConfiguration" in v["Properties"]]
    [logs] = {only(refs(v["Properties"]["LoggingConfiguration"]), buckets) for v in buckets.values()
              if "LoggingConfiguration" in v["Properties"]}
    [console] = set(buckets) - {files, logs}
    return {"files": files, "logs": logs, "console": console}


def actions(statements: list[dict[str, Any]]) -> set[str]:
    out: set[str] = set()
    for s in statements:
        out |= set(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    return out


# ---- routes ---------------------------------------------------------------------------------------------------

def test_route_table_comes_from_the_routers() -> None:
    table = route_table()
    assert len(table) <= 300  # an HTTP API's default quota of routes
    assert ("POST", "/api/v1/datasets", "datasets") in table
    assert ("GET", "/api/v1/system/healthz", "system") in table  # health, accounts and providers: a function of their own
    assert ("GET", "/v1/system/healthz", "system") in table  # the legacy health check
    assert ("POST", "/api/v1/auth/login", "system") in table
    assert ("POST", "/api/v1/chats_openai/{chat_id}/chat/completions", "completions") in table
    assert {m for _, _, m in table} == set(lambda_modules())
    assert len(table) == len({(method, path) for method, path, _ in table})  # one owner per route
    assert all(path.startswith("/") and "{proxy+}" not in path[:-8] for _, path, _ in table)


def test_params_that_are_not_whole_segments_become_greedy_proxies() -> None:
    assert api_path("/api/v1/datasets/{dataset_id}/documents") == "/api/v1/datasets/{dataset_id}/documents"
    assert api_path("/api/v1/messages/{memory_id}:{message_id}") == "/api/v1/messages/{proxy+}"
    assert api_path("/api/v1/messages/{memory_id}:{message_id}/content") == "/api/v1/messages/{proxy+}"
    assert api_path("/files/{file_path:path}") == "/files/{proxy+}"


def test_every_route_goes_to_its_modules_function(template: Any) -> None:
    table = route_table()
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in resources(template, "AWS::ApiGatewayV2::Route").values()}
    assert set(routes) == {f"{method} {path}" for method, path, _ in table}
    integrations = resources(template, "AWS::ApiGatewayV2::Integration")
    assert len(integrations) == len(lambda_modules())  # one integration per module, shared by its routes
    for method, path, module in table:
        integration = integrations[only(refs(routes[f"{method} {path}"]["Target"]), integrations)]
        assert integration["Properties"]["PayloadFormatVersion"] == "2.0"
        assert module_function(template, module) in refs(integration["Properties"]["IntegrationUri"]), (method, path)


def test_functions_start_cold_without_snapshots_by_default(template: Any) -> None:
    # idle costs nothing: no SnapStart snapshot is billed unless the deployment asks for one
    assert all("SnapStart" not in f["Properties"] for f in our_functions(template).values())
    assert not resources(template, "AWS::Lambda::Alias")
    # API Gateway may invoke each function, from this API only
    permissions = [p["Properties"] for p in resources(template, "AWS::Lambda::Permission").values()
                   if p["Properties"]["Principal"] == "apigateway.amazonaws.com"]
    assert len(permissions) == len(lambda_modules())
    assert {only(refs(p["FunctionName"]), our_functions(template)) for p in permissions} == {
        module_function(template, m) for m in lambda_modules()}


def test_options_snap_start_for_chat_and_agents_api_throttles_and_a_cap_on_the_stream_url() -> None:
    from aws_cdk.assertions import Template

    from infra.app import STACK_NAME, build_app

    app = build_app(bundles="placeholder", context={
        "snap_start": "true", "api_throttle_rate": 7, "api_throttle_burst": "9", "stream_reserved_concurrency": "25"})
    template = Template.from_stack(app.node.find_child(STACK_NAME))  # type: ignore[arg-type]
    [stage] = resources(template, "AWS::ApiGatewayV2::Stage").values()
    assert stage["Properties"]["DefaultRouteSettings"] == {"ThrottlingRateLimit": 7, "ThrottlingBurstLimit": 9}
    stream = resources(template, "AWS::Lambda::Function")[function_id(template, "run.sh")]
    assert stream["Properties"]["ReservedConcurrentExecutions"] == 25  # the function URL's only throttle
    assert "CKV_AWS_115" not in json.dumps(stream.get("Metadata", {}))  # capped: no skip left to explain
    functions = resources(template, "AWS::Lambda::Function")
    snapshots = {m for m in lambda_modules() if "SnapStart" in functions[module_function(template, m)]["Properties"]}
    assert snapshots == {"chats", "completions", "agents"}
    aliases = resources(template, "AWS::Lambda::Alias")
    integrations = resources(template, "AWS::ApiGatewayV2::Integration")
    for module in lambda_modules():
        [integration] = [i for i in integrations.values() if refs(i["Properties"]["IntegrationUri"]) & (
            {module_function(template, module)} | {a for a, v in aliases.items()
                                                    if module_function(template, module) in refs(v["Properties"]["FunctionName"])})]
        alias_ids = refs(integration["Properties"]["IntegrationUri"]) & set(aliases)
        # a snapshot exists only for a published version: those functions are invoked through their live alias
        assert bool(alias_ids) == (module in snapshots), module
        assert all(aliases[a]["Properties"]["Name"] == "live" for a in alias_ids)


# ---- drop folder, queue, ingest -------------------------------------------------------------------------------

def test_inbox_events_reach_the_ingest_function_through_the_task_queue(template: Any) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    [tasks] = [k for k, q in queues.items() if "RedrivePolicy" in q["Properties"]]
    [notifications] = resources(template, "Custom::S3BucketNotifications").values()
    configs = notifications["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert sorted(c["Events"][0] for c in configs) == ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
    for config in configs:
        assert config["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "inbox/"}]
        assert refs(config["QueueArn"]) == {tasks}
    [mapping] = resources(template, "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert refs(props["EventSourceArn"]) == {tasks}
    assert module_function(template, "ingest") in refs(props["FunctionName"])
    # S3 may send to the queue
    policies = [p["Properties"] for p in resources(template, "AWS::SQS::QueuePolicy").values() if tasks in refs(p["Properties"]["Queues"])]
    assert any(s.get("Principal") == {"Service": "s3.amazonaws.com"} and s["Effect"] == "Allow"
               for p in policies for s in p["PolicyDocument"]["Statement"])


def test_connector_tick_runs_every_minute_and_only_queues_runs(template: Any) -> None:
    tick = function_id(template, "functions.connectors.handler.tick")
    rules = [r["Properties"] for r in resources(template, "AWS::Events::Rule").values()
             if tick in refs(r["Properties"].get("Targets"))]
    assert [r["ScheduleExpression"] for r in rules] == ["rate(1 minute)"]
    grants = actions(policy_of(template, tick))
    assert {"sqs:SendMessage", "dynamodb:Query", "dynamodb:PutItem"} <= grants
    assert not {a for a in grants if a.startswith(("s3:", "kms:"))}  # it reads no file and no credential
    props = resources(template, "AWS::Lambda::Function")[tick]["Properties"]
    assert props["Timeout"] <= 29 and "PROVIDER_KEY_KMS_KEY_ID" not in props["Environment"]["Variables"]


def test_poison_messages_go_to_an_alarmed_dead_letter_queue(template: Any) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    [(tasks, main)] = [(k, q) for k, q in queues.items() if "RedrivePolicy" in q["Properties"]]
    [dlq] = set(queues) - {tasks}
    redrive = main["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == 3
    assert refs(redrive["deadLetterTargetArn"]) == {dlq}
    ingest = resources(template, "AWS::Lambda::Function")[module_function(template, "ingest")]
    assert main["Properties"]["VisibilityTimeout"] >= 6 * ingest["Properties"]["Timeout"]
    [alarm] = resources(template, "AWS::CloudWatch::Alarm").values()
    assert alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert refs(alarm["Properties"]["Dimensions"]) == {dlq}
    assert alarm["Properties"]["Threshold"] == 1


# ---- streaming ------------------------------------------------------------------------------------------------

def test_completions_stream_through_a_response_stream_function_url(template: Any) -> None:
    [url] = resources(template, "AWS::Lambda::Url").values()
    assert url["Properties"]["InvokeMode"] == "RESPONSE_STREAM"
    assert url["Properties"]["AuthType"] == "NONE"
    assert url["Properties"]["Cors"]["AllowMethods"] == ["POST"]
    stream = function_id(template, "run.sh")
    assert stream in refs(url["Properties"]["TargetFunctionArn"])
    props = resources(template, "AWS::Lambda::Function")[stream]["Properties"]
    env = props["Environment"]["Variables"]
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert env["PORT"] == "8000"
    assert any("753240598075:layer:LambdaAdapterLayerArm64:" in json.dumps(layer) for layer in props["Layers"])


def test_run_sh_starts_the_completions_server() -> None:
    import importlib.util
    import sys
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("layers_build", Path(__file__).parents[2] / "layers" / "build.py")
    assert spec and spec.loader
    build = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = build  # dataclasses look their module up while the file executes
    spec.loader.exec_module(build)
    assert "exec python -m functions.completions.server" in build.RUN_SH
    assert importlib.util.find_spec("functions.completions.server") is not None


# ---- data -----------------------------------------------------------------------------------------------------

def test_table_keys_and_indexes_are_the_codes(template: Any) -> None:
    from ragcore.adapters import table_schema

    [table] = resources(template, "AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert props["KeySchema"] == table_schema.KEY_SCHEMA
    by_name = lambda items: sorted(items, key=lambda a: a["AttributeName"])  # noqa: E731
    assert by_name(props["AttributeDefinitions"]) == by_name(table_schema.ATTRIBUTE_DEFINITIONS)
    assert props["GlobalSecondaryIndexes"] == table_schema.GLOBAL_SECONDARY_INDEXES
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["DeletionPolicy"] == "Retain"


def test_bucket_is_private_encrypted_and_accepts_presigned_puts(template: Any) -> None:
    bucket_id = bucket_ids(template)["files"]
    bucket = resources(template, "AWS::S3::Bucket")[bucket_id]
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"}
    [cors] = props["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["PUT"]
    [policy] = [p for p in resources(template, "AWS::S3::BucketPolicy").values() if bucket_id in refs(p["Properties"]["Bucket"])]
    [deny] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert bucket["DeletionPolicy"] == "Retain"


def test_provider_secret_holds_the_keys_the_code_reads(template: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcore.adapters import secrets as secrets_adapter
    from ragcore.bootstrap import container
    from ragcore.config import Settings

    from infra.stacks.secrets import PROVIDER_KEYS

    [secret] = resources(template, "AWS::SecretsManager::Secret").values()
    assert json.loads(secret["Properties"]["SecretString"]) == dict.fromkeys(PROVIDER_KEYS, "")
    # every key of the secret reaches a setting (a renamed key would silently be ignored)
    monkeypatch.setattr(secrets_adapter, "load_secret", lambda arn, endpoint=None: {k: f"value-{k}" for k in PROVIDER_KEYS})
    settings = container.with_provider_secrets(Settings(provider_secret_arn="arn:aws:secretsmanager:x"))
    assert {getattr(settings, k.lower()) for k in PROVIDER_KEYS} == {f"value-{k}" for k in PROVIDER_KEYS}


# ---- functions ------------------------------------------------------------------------------------------------

def test_every_function_is_arm64_python313_traced_and_logged(template: Any) -> None:
    log_groups = resources(template, "AWS::Logs::LogGroup")
    functions = our_functions(template)
    assert len(functions) == len(lambda_modules()) + 4  # + ingest + ocr + stream + the connectors' tick
    for name, fn in functions.items():
        props = fn["Properties"]
        assert props["Architectures"] == ["arm64"], name
        assert props["Runtime"] == "python3.13", name
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        group = log_groups[only(refs(props["LoggingConfig"]["LogGroup"]), log_groups)]
        assert group["Properties"]["RetentionInDays"] == 30
        env = props["Environment"]["Variables"]
        assert env["RAGFLOW_RUNTIME"] == "aws"
        assert {"TABLE_NAME", "BUCKET_NAME", "TASK_QUEUE_URL", "PROVIDER_SECRET_ARN", "POWERTOOLS_SERVICE_NAME",
                "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL"} <= set(env), name
        background = "ingest" in name.lower() or "ocr" in name.lower()  # not behind the HTTP API's 30 s
        assert props["Timeout"] <= (29 if props["Handler"].startswith("functions.") and not background else 900)


def test_layers_keep_parsers_and_the_local_model_out_of_the_api_functions(template: Any) -> None:
    layers = resources(template, "AWS::Lambda::LayerVersion")
    by_description = {k: v["Properties"]["Description"] for k, v in layers.items()}
    functions = resources(template, "AWS::Lambda::Function")

    def layer_kinds(function: str) -> list[str]:
        out = []
        for layer in functions[function]["Properties"]["Layers"]:
            ids = refs(layer) & set(layers)
            out += [by_description[i].split()[0] for i in ids]
        return sorted(out)

    for module in lambda_modules():
        assert layer_kinds(module_function(template, module)) == ["FastAPI,"], module  # core only
    assert len(layer_kinds(module_function(template, "ingest"))) == 3
    assert layer_kinds(module_function(template, "ocr")) == ["DeepDOC's", "OCR:"]  # the OCR and layout models ride alone


def test_the_ingest_function_invokes_the_ocr_function_which_touches_no_data(template: Any) -> None:
    ingest, ocr = module_function(template, "ingest"), module_function(template, "ocr")
    env = resources(template, "AWS::Lambda::Function")[ingest]["Properties"]["Environment"]["Variables"]
    assert refs(env["OCR_FUNCTION_NAME"]) == {ocr}
    invokes = [s for s in policy_of(template, ingest) if "lambda:InvokeFunction" in actions([s])]
    # the unqualified function only (lambda_ocr.py invokes it by name), not grant_invoke's "<arn>:*" versions
    assert [s["Resource"] for s in invokes] == [{"Fn::GetAtt": [ocr, "Arn"]}]
    assert actions(invokes) == {"lambda:InvokeFunction"}
    assert not {a for a in actions(policy_of(template, ocr)) if a.startswith(DATA_SERVICES)}
    props = resources(template, "AWS::Lambda::Function")[ocr]["Properties"]
    assert props["MemorySize"] >= 3008 and props["Timeout"] <= 120
    assert props["Environment"]["Variables"]["OCR_WORKERS"] == "1"  # one page a call gets every vCPU


def test_local_embedder_layer_rides_with_the_functions_that_embed_when_asked() -> None:
    from infra.stacks.function_specs import API_FUNCTIONS, INGEST, with_local_embedder

    assert with_local_embedder(API_FUNCTIONS["retrieval"], True).layers == ("core", "embed")
    assert with_local_embedder(API_FUNCTIONS["retrieval"], False).layers == ("core",)
    assert with_local_embedder(API_FUNCTIONS["documents"], True).layers == ("core",)  # never embeds
    assert with_local_embedder(API_FUNCTIONS["datasets"], True).layers == ("core", "embed")  # its embedding check
    assert with_local_embedder(INGEST, True).layers == ("core", "parsers", "embed")


def test_iam_grants_only_what_each_function_uses(template: Any) -> None:
    for name, policy in resources(template, "AWS::IAM::Policy").items():
        if name.startswith(CDK_HELPERS):  # CDK's uploader of the console files: see test_console_*
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            acts = actions([statement])
            assert "*" not in acts, name
            wild = [a for a in acts if a.startswith(DATA_SERVICES) and "*" in a]
            assert not wild, (name, wild)

    def grants(module: str) -> set[str]:
        return actions(policy_of(template, module_function(template, module)))

    for module in lambda_modules():
        assert {"dynamodb:GetItem", "dynamodb:PutItem", "secretsmanager:GetSecretValue"} <= grants(module)
    assert not {a for a in grants("ocr") if a.startswith(DATA_SERVICES)}
    assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "sqs:SendMessage"} <= grants("documents")
    assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "sqs:SendMessage", "sqs:ReceiveMessage"} <= grants("ingest")
    assert {a for a in grants("datasets") if a.startswith("s3:")} == {"s3:DeleteObject"}  # purging a dataset's blobs
    for module in ("chats", "retrieval", "chunks", "completions"):
        assert not {a for a in grants(module) if a.startswith(("s3:", "sqs:"))}, module
    senders = {m for m in lambda_modules() if "sqs:SendMessage" in grants(m)}
    # parse tasks; index builds; connector sync runs; chat channels' answers
    assert senders == {"documents", "datasets", "connectors", "chat_channels"}


def test_provider_keys_kms_key_is_rotated_retained_and_granted_only_where_keys_are_used(template: Any) -> None:
    [(key_id, key)] = resources(template, "AWS::KMS::Key").items()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain" and key["UpdateReplacePolicy"] == "Retain"
    kms_actions = {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"}
    users = {"datasets", "chunks", "retrieval", "chats", "completions", "agents", "memories", "searches", "connectors",
             "chat_channels", "mcp", "system"}
    functions = {m: module_function(template, m) for m in lambda_modules()}
    functions["ingest"] = module_function(template, "ingest")
    functions["stream"] = function_id(template, "run.sh")
    for module, logical in functions.items():
        statements = [s for s in policy_of(template, logical) if key_id in refs(s.get("Resource"))]
        env = resources(template, "AWS::Lambda::Function")[logical]["Properties"]["Environment"]["Variables"]
        if module in users | {"ingest", "stream"}:
            assert actions(statements) == kms_actions, module  # exactly the envelope cipher's three calls
            assert key_id in refs(env["PROVIDER_KEY_KMS_KEY_ID"]), module
        else:  # documents, files: no provider key, no KMS key, and no id to use it by
            assert not statements and "PROVIDER_KEY_KMS_KEY_ID" not in env, module
            assert not {a for a in actions(policy_of(template, logical)) if a.startswith("kms:")}, module


def test_outputs(template: Any) -> None:
    assert len(template.to_json()["Resources"]) <= 450  # CloudFormation stops at 500 resources a stack
    outputs = template.to_json()["Outputs"]
    assert {"HttpApiUrl", "CompletionsUrl", "DropBucket", "ProviderSecretArn", "TableName"} <= set(outputs)
    assert "Url" in json.dumps(outputs["CompletionsUrl"]["Value"])


# ---- code assets ----------------------------------------------------------------------------------------------

def test_synth_uses_built_bundles_the_placeholder_or_refuses(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.stacks import bundles

    monkeypatch.setattr(bundles, "BUILD", tmp_path)
    assert bundles.bundle_dir("core", "auto") == bundles.PLACEHOLDER
    with pytest.raises(bundles.BundleMissing, match="layers/build.py"):
        bundles.bundle_dir("core", "require")
    (tmp_path / "core" / "python").mkdir(parents=True)
    assert bundles.bundle_dir("core", "require") == tmp_path / "core"
    assert bundles.bundle_dir("core", "placeholder") == bundles.PLACEHOLDER
    assert bundles.bundle_mode("require") == "require"
    with pytest.raises(ValueError):
        bundles.bundle_mode("sometimes")


def test_a_deploy_refuses_without_a_pinecone_host_and_alarms_mail_when_asked(
        template: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from aws_cdk.assertions import Annotations, Match, Template

    from infra.app import STACK_NAME, build_app
    from infra.stacks import bundles

    env = next(iter(our_functions(template).values()))["Properties"]["Environment"]["Variables"]
    assert env["PINECONE_HOST"] == "" and env["EMBEDDING_BASE_URL"]  # cdk.json's context reached the functions
    for name in ("app", "core", "parsers", "embed", "layout", "ocr"):  # "built" bundles, so require mode gets to the check
        (tmp_path / name).mkdir()
        (tmp_path / name / "marker.txt").write_text(name)
    monkeypatch.setattr(bundles, "BUILD", tmp_path)
    stack = build_app(bundles="require", context={"alarm_email": "ops@example.com"}).node.find_child(STACK_NAME)
    Annotations.from_stack(stack).has_error("*", Match.string_like_regexp("No pinecone_host"))  # type: ignore[arg-type]
    # with an alarm_email, the dead-letter alarm mails it
    other = Template.from_stack(stack)  # type: ignore[arg-type]
    [subscription] = other.find_resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email" and subscription["Properties"]["Endpoint"] == "ops@example.com"
    [alarm] = other.find_resources("AWS::CloudWatch::Alarm").values()
    assert refs(alarm["Properties"]["AlarmActions"]) == refs(subscription["Properties"]["TopicArn"])
    assert not resources(template, "AWS::SNS::Topic")  # none by default


# ---- web console ----------------------------------------------------------------------------------------------

def test_console_is_a_private_bucket_behind_cloudfront_that_forwards_the_api(template: Any) -> None:
    from infra.stacks.console import CONSOLE_DIR

    assert (CONSOLE_DIR / "index.html").is_file()
    buckets = resources(template, "AWS::S3::Bucket")
    console_bucket = bucket_ids(template)["console"]
    assert buckets[console_bucket]["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    [dist] = resources(template, "AWS::CloudFront::Distribution").values()
    config = dist["Properties"]["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    by_id = {o["Id"]: o for o in config["Origins"]}
    default = by_id[config["DefaultCacheBehavior"]["TargetOriginId"]]
    assert console_bucket in refs(default["DomainName"]) and "OriginAccessControlId" in default
    [api] = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= set(api["AllowedMethods"])
    assert api["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled: answers are per key
    [http_api] = resources(template, "AWS::ApiGatewayV2::Api")
    assert http_api in refs(by_id[api["TargetOriginId"]]["DomainName"])
    # CloudFront alone reads the console bucket
    [policy] = [p for p in resources(template, "AWS::S3::BucketPolicy").values() if console_bucket in refs(p["Properties"]["Bucket"])]
    readers = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow" and "s3:GetObject" in actions([s])]
    assert readers and all(s["Principal"] == {"Service": "cloudfront.amazonaws.com"} for s in readers)


def test_console_files_and_their_config_are_deployed_to_its_bucket(template: Any) -> None:
    [deployment] = resources(template, "Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]
    buckets = resources(template, "AWS::S3::Bucket")
    console_bucket = bucket_ids(template)["console"]
    assert console_bucket in refs(props["DestinationBucketName"])
    assert len(props["SourceObjectKeys"]) == 2  # the folder and config.json
    # config.json names the streaming function's URL (API Gateway would buffer a streamed answer)
    urls = resources(template, "AWS::Lambda::Url")
    assert refs(props["SourceMarkers"]) & set(urls)
    assert props["DistributionPaths"] == ["/*"]  # a deploy invalidates the old files
    outputs = template.to_json()["Outputs"]
    assert "ConsoleUrl" in outputs
    # the uploader's grants stay on the console bucket and the asset bucket: never the users' files or the table
    files_bucket = bucket_ids(template)["files"]
    assert set(buckets) > {files_bucket, console_bucket}
    for name, policy in resources(template, "AWS::IAM::Policy").items():
        if name.startswith("CustomCDKBucketDeployment"):
            assert files_bucket not in refs(policy) and not refs(policy) & set(resources(template, "AWS::DynamoDB::Table"))


# ---- AWS best practices (the properties behind tests/infra/test_aws_checks.py) --------------------------------

def test_every_table_bucket_and_queue_is_encrypted_at_rest(template: Any) -> None:
    tables = resources(template, "AWS::DynamoDB::Table").values()
    assert tables and all(t["Properties"]["SSESpecification"] == {"SSEEnabled": True} for t in tables)  # KMS, aws/dynamodb
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 3
    for name, bucket in buckets.items():
        [rule] = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms"), name
    queues = resources(template, "AWS::SQS::Queue")
    assert len(queues) == 2  # the task queue and its DLQ
    for name, queue in queues.items():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, name
    [secret] = resources(template, "AWS::SecretsManager::Secret").values()
    assert "KmsKeyId" not in secret["Properties"]  # aws/secretsmanager: readable by GetSecretValue grants alone


def test_every_bucket_and_queue_refuses_plain_http(template: Any) -> None:
    def denies_insecure(policy: dict[str, Any]) -> bool:
        return any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                   and s["Principal"] == {"AWS": "*"} for s in policy["Statement"])

    bucket_policies = resources(template, "AWS::S3::BucketPolicy").values()
    for bucket in resources(template, "AWS::S3::Bucket"):
        assert any(bucket in refs(p["Properties"]["Bucket"]) and denies_insecure(p["Properties"]["PolicyDocument"])
                   for p in bucket_policies), bucket
    queue_policies = resources(template, "AWS::SQS::QueuePolicy").values()
    for queue in resources(template, "AWS::SQS::Queue"):
        assert any(queue in refs(p["Properties"]["Queues"]) and denies_insecure(p["Properties"]["PolicyDocument"])
                   for p in queue_policies), queue


def test_buckets_and_the_console_distribution_write_access_logs(template: Any) -> None:
    ids = bucket_ids(template)
    buckets = resources(template, "AWS::S3::Bucket")
    for role, prefix in (("files", "s3/files/"), ("console", "s3/console/")):
        logging = buckets[ids[role]]["Properties"]["LoggingConfiguration"]
        assert refs(logging) == {ids["logs"]} and logging["LogFilePrefix"] == prefix
    logs = buckets[ids["logs"]]
    [rule] = logs["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 90 and logs["DeletionPolicy"] == "Retain"
    # both S3 log delivery and CloudFront's standard logs write through ACLs: the log bucket alone keeps them,
    # still behind the full public access block
    assert logs["Properties"]["AccessControl"] == "LogDeliveryWrite"
    assert all(logs["Properties"]["PublicAccessBlockConfiguration"].values())
    assert all(buckets[ids[r]]["Properties"]["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
               for r in ("files", "console"))
    [dist] = resources(template, "AWS::CloudFront::Distribution").values()
    logging = dist["Properties"]["DistributionConfig"]["Logging"]
    assert refs(logging["Bucket"]) == {ids["logs"]} and logging["Prefix"] == "cloudfront/"


def test_the_api_stage_is_throttled_and_access_logged(template: Any) -> None:
    from infra.stacks.http_api import ACCESS_LOG_FIELDS, THROTTLE_BURST, THROTTLE_RATE

    [stage] = resources(template, "AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "$default" and props["AutoDeploy"] is True
    assert props["DefaultRouteSettings"] == {"ThrottlingRateLimit": THROTTLE_RATE, "ThrottlingBurstLimit": THROTTLE_BURST}
    log_groups = resources(template, "AWS::Logs::LogGroup")
    group = only(refs(props["AccessLogSettings"]["DestinationArn"]), log_groups)
    assert log_groups[group]["Properties"]["RetentionInDays"] == 30
    fields = json.loads(props["AccessLogSettings"]["Format"])
    assert fields == ACCESS_LOG_FIELDS and fields["requestId"] == "$context.requestId"
    assert not [v for v in fields.values() if "authorization" in v.lower() or "body" in v.lower()]


def test_every_function_log_group_expires_cdks_helpers_included(template: Any) -> None:
    log_groups = resources(template, "AWS::Logs::LogGroup")
    functions = resources(template, "AWS::Lambda::Function")
    assert len(functions) > len(our_functions(template))  # CDK's helpers are in this list too
    for name, fn in functions.items():
        group = only(refs(fn["Properties"]["LoggingConfig"]["LogGroup"]), log_groups)
        assert log_groups[group]["Properties"]["RetentionInDays"] == 30, name


def test_queues_park_poison_messages_and_no_function_is_invoked_asynchronously(template: Any) -> None:
    from pathlib import Path

    queues = resources(template, "AWS::SQS::Queue")
    dead_letter_targets = {only(refs(q["Properties"]["RedrivePolicy"]), queues)
                           for q in queues.values() if "RedrivePolicy" in q["Properties"]}
    for name, queue in queues.items():  # each queue has a DLQ or is one
        assert "RedrivePolicy" in queue["Properties"] or name in dead_letter_targets, name
    # a Lambda DLQ / on-failure destination only catches asynchronous invokes: the only function-to-function call
    # (ingest → OCR) waits for its answer, and nothing else invokes our functions but API Gateway, the function URL
    # and the SQS event source
    code = (Path(__file__).parents[2] / "shared" / "ragcore" / "adapters" / "lambda_ocr.py").read_text()
    assert 'InvocationType="RequestResponse"' in code and '"Event"' not in code
    assert not resources(template, "AWS::Lambda::EventInvokeConfig")
    [notifications] = resources(template, "Custom::S3BucketNotifications").values()
    assert set(notifications["Properties"]["NotificationConfiguration"]) == {"QueueConfigurations"}  # S3 → SQS only


def test_function_roles_carry_no_managed_policy_and_write_only_their_own_logs(template: Any) -> None:
    roles = resources(template, "AWS::IAM::Role")
    for name, fn in our_functions(template).items():
        role = only(refs(fn["Properties"]["Role"]), roles)
        assert "ManagedPolicyArns" not in roles[role]["Properties"], name  # no AWSLambdaBasicExecutionRole
        statements = policy_of(template, name)
        [logs] = [s for s in statements if actions([s]) & {"logs:CreateLogStream", "logs:PutLogEvents"}]
        assert actions([logs]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
        assert refs(logs["Resource"]) == refs(fn["Properties"]["LoggingConfig"]["LogGroup"]), name
        # the one statement on Resource '*': X-Ray, which has no resource-level permissions
        anywhere = [s for s in statements if s["Resource"] == "*"]
        assert actions(anywhere) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, name


def test_table_actions_are_exactly_the_adapters_calls_on_the_table_and_its_named_indexes(template: Any) -> None:
    import re
    from pathlib import Path

    from ragcore.adapters import table_schema

    from infra.stacks.functions import TABLE_ACTIONS

    # boto3 calls in the modules that touch the table → the IAM actions that authorize them
    iam_of = {"get_item": {"GetItem"}, "batch_get_item": {"BatchGetItem"}, "query": {"Query"}, "put_item": {"PutItem"},
              "update_item": {"UpdateItem"}, "delete_item": {"DeleteItem"}, "batch_writer": {"BatchWriteItem"},
              "batch_write_item": {"BatchWriteItem"}, "scan": {"Scan"}, "describe_table": {"DescribeTable"},
              "transact_get_items": {"GetItem"}, "execute_statement": {"PartiQLSelect"},
              "transact_write_items": set()}  # authorized item by item: its Put/Update/Delete entries below
    adapters = Path(__file__).parents[2] / "shared" / "ragcore" / "adapters"
    code = "\n".join(p.read_text() for p in sorted(adapters.glob("dynamodb_*.py")))  # the store and its retried calls
    called = set(re.findall(r"\.(\w+)[(,]", code)) & set(iam_of)  # called, or handed to the retry wrapper
    assert {"get_item", "query", "transact_write_items"} <= called  # the scan found the adapter's calls
    needed = {f"dynamodb:{a}" for c in called for a in iam_of[c]}
    needed |= {f"dynamodb:{verb}Item" for verb in ("Put", "Update", "Delete") if f'"{verb}": ' in code}
    needed |= {"dynamodb:ConditionCheckItem"} if '"ConditionCheck"' in code else set()
    assert needed == set(TABLE_ACTIONS)

    [table] = resources(template, "AWS::DynamoDB::Table")
    index_names = {i["IndexName"] for i in table_schema.GLOBAL_SECONDARY_INDEXES}
    for name in our_functions(template):
        on_table = [s for s in policy_of(template, name) if table in refs(s["Resource"])]
        if not on_table:
            continue  # the OCR function
        assert actions(on_table) == set(TABLE_ACTIONS), name
        resources_named = json.dumps([s["Resource"] for s in on_table])
        assert "/index/*" not in resources_named, name
        assert {n for n in index_names if f"/index/{n}" in resources_named} == index_names, name
        secret = [s for s in policy_of(template, name) if actions([s]) & {"secretsmanager:GetSecretValue"}]
        assert actions(secret) == {"secretsmanager:GetSecretValue"}, name  # no DescribeSecret: never called
