"""The synthesized CloudFormation template (offline, aws_cdk.assertions): wiring, keys, permissions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def template() -> Iterator[Any]:
    from aws_cdk.assertions import Template

    from infra.app import build_app

    app = build_app()
    yield Template.from_stack(app.node.find_child("RagflowServerless"))  # type: ignore[arg-type]


def resources(template: Any, kind: str) -> dict[str, Any]:
    return dict(template.find_resources(kind))


def function_of_module(template: Any, module: str) -> str:
    for logical, res in resources(template, "AWS::Lambda::Function").items():
        if res["Properties"].get("Handler") == f"functions.{module}.handler.handler":
            return str(logical)
    raise AssertionError(f"no function for {module}")


def test_every_route_goes_to_its_modules_function(template: Any) -> None:
    from infra.route_map import route_table

    table = route_table()
    assert ("POST", "/api/v1/datasets", "datasets") in table
    assert ("POST", "/api/v1/chats_openai/{chat_id}/chat/completions", "completions") in table
    routes = {r["Properties"]["RouteKey"]: r["Properties"]["Target"] for r in resources(template, "AWS::ApiGatewayV2::Route").values()}
    integrations = resources(template, "AWS::ApiGatewayV2::Integration")
    aliases = resources(template, "AWS::Lambda::Alias")
    assert len(routes) == len(table)
    for method, path, module in table:
        target = json.dumps(routes[f"{method} {path}"])
        integration = next(v for k, v in integrations.items() if k in target)
        alias_ref = json.dumps(integration["Properties"]["IntegrationUri"])
        alias = next(v for k, v in aliases.items() if k in alias_ref)
        assert function_of_module(template, module) in json.dumps(alias["Properties"]["FunctionName"]), (method, path)


def test_drop_folder_and_task_queue_wiring(template: Any) -> None:
    [notifications] = resources(template, "Custom::S3BucketNotifications").values()
    queue_configs = notifications["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert {c["Events"][0] for c in queue_configs} == {"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}
    assert all(c["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "inbox/"}] for c in queue_configs)
    [mapping] = resources(template, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert function_of_module(template, "ingest") in json.dumps(mapping["Properties"]["FunctionName"])
    queues = resources(template, "AWS::SQS::Queue")
    main = next(q for q in queues.values() if "RedrivePolicy" in q["Properties"])
    assert main["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 3
    ingest = resources(template, "AWS::Lambda::Function")[function_of_module(template, "ingest")]
    assert main["Properties"]["VisibilityTimeout"] >= ingest["Properties"]["Timeout"] * 6
    assert resources(template, "AWS::CloudWatch::Alarm")


def test_streaming_function_url(template: Any) -> None:
    [url] = resources(template, "AWS::Lambda::Url").values()
    assert url["Properties"]["InvokeMode"] == "RESPONSE_STREAM"
    stream = next(f for f in resources(template, "AWS::Lambda::Function").values() if f["Properties"].get("Handler") == "run.sh")
    env = stream["Properties"]["Environment"]["Variables"]
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap" and env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert any("LambdaAdapterLayerArm64" in json.dumps(layer) for layer in stream["Properties"]["Layers"])


def test_table_keys_match_the_code(template: Any) -> None:
    from ragcore.adapters import table_schema

    [table] = resources(template, "AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert props["KeySchema"] == table_schema.KEY_SCHEMA
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        table_schema.ATTRIBUTE_DEFINITIONS, key=lambda a: a["AttributeName"])
    [gsi] = props["GlobalSecondaryIndexes"]
    expected = table_schema.GLOBAL_SECONDARY_INDEXES[0]
    assert gsi["IndexName"] == expected["IndexName"] and gsi["KeySchema"] == expected["KeySchema"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_bucket_is_private_and_encrypted(template: Any) -> None:
    [bucket] = resources(template, "AWS::S3::Bucket").values()
    block = bucket["Properties"]["PublicAccessBlockConfiguration"]
    assert all(block[k] for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"))
    assert bucket["Properties"]["BucketEncryption"]


def test_functions_are_arm64_python312_traced(template: Any) -> None:
    for name, fn in resources(template, "AWS::Lambda::Function").items():
        props = fn["Properties"]
        if "BucketNotificationsHandler" in name:
            continue  # CDK's own helper
        assert props["Architectures"] == ["arm64"], name
        assert props["Runtime"] in ("python3.12", "python3.13", "python3.14"), name
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        assert props["Environment"]["Variables"]["RAGFLOW_RUNTIME"] == "aws"


def test_iam_is_scoped(template: Any) -> None:
    for name, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert "*" not in actions, name
            assert not any(a in ("s3:*", "dynamodb:*", "sqs:*", "secretsmanager:*") for a in actions), (name, actions)
    datasets_role = json.dumps(resources(template, "AWS::IAM::Policy"))
    assert "sqs:SendMessage" in datasets_role
    chats_policy = next(p for p in resources(template, "AWS::IAM::Policy").values()
                        if "ChatsFunctionServiceRole" in json.dumps(p["Properties"]["Roles"]))
    assert "s3:PutObject" not in json.dumps(chats_policy)  # chats never write files


def test_outputs(template: Any) -> None:
    outputs = template.to_json()["Outputs"]
    assert {"HttpApiUrl", "CompletionsUrl", "DropBucket"} <= set(outputs)
