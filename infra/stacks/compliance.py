"""The reviewed exceptions to AWS's own checks, each with the reason it stands (docs/aws_checks.md lists them all).

cdk-nag (AwsSolutions pack): `acknowledge` records `Validations.of(construct).acknowledge(...)` on the narrowest
construct the finding is on; an IAM5 finding is acknowledged one wildcard at a time (`AwsSolutions-IAM5[Resource::…]`).
checkov: `checkov_skip` writes `Metadata: {"checkov": {"skip": [{"id", "comment"}]}}` on the CloudFormation resource.
Reasons are shared constants, so one reason reads the same on every resource it covers.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import Construct, IConstruct

# ---- reasons ---------------------------------------------------------------------------------------------------
XRAY_WILDCARD = ("Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level "
                 "permissions, so AWS requires Resource '*' for them (and only them).")
BUCKET_OBJECTS = ("Object actions on this bucket's objects only: keys are tenant/dataset/document ids made at run "
                  "time, so no narrower prefix exists; the actions are listed one by one (no s3:* or s3:Get*).")
API_KEY_AUTH = ("RAGFlow's contract: every /api/v1 route checks the caller's Bearer API key against the table in "
                "the app itself (and login/register/health are public by design, as are the agent and chat-channel "
                "webhooks, which check their caller's own signature or token); an API Gateway authorizer would "
                "duplicate that check on every request and break RAGFlow clients.")
RUNTIME = ("The function bundles are built for CPython 3.13 (layers/build.py downloads cp313 arm64 wheels); moving "
           "to a newer runtime means rebuilding and re-testing every bundle, done as its own change.")
SECRET_ROTATION = ("The secret holds third-party provider API keys (Pinecone, LLM, embedding): they are rotated at "
                   "the provider and pasted in; no Lambda can rotate them automatically.")
CDK_HELPER = ("A deploy-time helper function aws-cdk-lib adds (S3 notifications, console upload, emptying the "
              "console bucket): CDK writes its code, role and runtime; only CloudFormation invokes it, during "
              "deploys, and a failed run fails the deploy (nothing for a DLQ or a concurrency cap to catch); it "
              "calls AWS APIs only (no VPC to be in) and its environment holds no secret.")
CDK_HELPER_POLICY = ("aws-cdk-lib's console uploader, as BucketDeployment grants it: object and listing actions on "
                     "the console bucket and on CDK's own asset bucket only, and cloudfront:CreateInvalidation/"
                     "GetInvalidation (on '*', as CDK writes it) to refresh the console after an upload.")
NO_GEO_RESTRICTION = "A public, global console: no country is excluded."
NO_WAF = ("A WAF web ACL for CloudFront lives in us-east-1 and bills monthly; the API behind /api/* is throttled "
          "at its stage. Deployments that want one pass -c cloudfront_web_acl_arn=<arn>.")
DEFAULT_CERTIFICATE = ("The console is served on its *.cloudfront.net name, whose default certificate CloudFront "
                       "pins to the TLSv1 policy; raising it needs a custom domain and an ACM certificate.")
LOG_BUCKET_ITSELF = ("The access-log bucket itself: logging it would write its own access logs into itself (an "
                     "endless loop); its logs expire and are never read by the app.")
SSE_SQS = ("Encrypted at rest with SSE-SQS (SqsManagedSseEnabled); this check only accepts a KMS key. A KMS key "
           "here must be a customer-managed key whose policy lets S3 publish the drop-folder events (the AWS "
           "managed alias/aws/sqs key refuses S3), for no change in who can read the queue (IAM decides that).")
DYNAMODB_AWS_MANAGED_KEY = ("Encrypted with KMS through the AWS managed key aws/dynamodb (SSESpecification); a "
                            "customer-managed key adds a monthly fee and key grants to every function role, with "
                            "access still decided by the per-function IAM table grants.")
SECRET_AWS_MANAGED_KEY = ("Encrypted with the AWS managed key aws/secretsmanager; a customer-managed key would "
                          "need kms:Decrypt on every function role, while GetSecretValue on this one ARN already "
                          "decides who reads it.")
LOGS_DEFAULT_ENCRYPTION = ("CloudWatch Logs encrypts every log group at rest; the logs hold no secrets (provider "
                           "keys come from Secrets Manager and are never logged), so a KMS key adds cost only.")
ENV_NOT_SECRET = ("Lambda encrypts environment variables at rest; ours hold names, ARNs and URLs only (no secret: "
                  "provider keys are read from Secrets Manager at run time).")
NO_VPC = ("The functions call public endpoints only (DynamoDB, S3, SQS, Secrets Manager, KMS, Pinecone, model "
          "APIs); a VPC would need NAT gateways (a monthly cost per AZ) and protect no private resource.")
SYNC_ONLY = ("Never invoked asynchronously (API Gateway, the function URL and the ingest function's OCR calls are "
             "synchronous; the ingest function's failed SQS messages go to the task queue's DLQ), so a Lambda DLQ "
             "would never receive anything.")
SCHEDULED_TICK = ("Invoked asynchronously by its EventBridge rule only, once a minute, without retries: a failed "
                  "tick loses nothing (due connectors stay in the due index and the next minute's tick starts them), "
                  "so a DLQ would hold nothing worth replaying.")
TICK_CONCURRENCY = ("Invoked by its EventBridge rule only, once a minute, and a tick takes seconds; the sync work it "
                    "queues runs in the ingest function, capped by the SQS event source's maximum concurrency.")
API_STAGE_THROTTLE = ("Behind the HTTP API, whose stage throttles every route (api_throttle_rate/_burst); reserved "
                      "concurrency per function would carve the account's pool into slices and fails deploys on "
                      "accounts with the default low concurrency quota.")
INGEST_CONCURRENCY = ("Its concurrency is capped by the SQS event source's maximum concurrency (INGEST_MAX_"
                      "CONCURRENCY) and, for OCR, by the ingest function that alone may invoke it.")
STREAM_CONCURRENCY = ("Opt-in: -c stream_reserved_concurrency=N caps the public function URL; off by default because "
                      "reserving concurrency fails deploys on accounts with the default low concurrency quota.")
STREAM_URL_AUTH = ("The completions URL is called by OpenAI/RAGFlow clients with the app's own Bearer API key (checked "
                   "against the table before any work); IAM auth would force every client to SigV4-sign.")
VERSIONING_FILES = ("Deleting a document or file must really delete its bytes (tenants' data); versions would keep "
                    "them. The table is the record (point-in-time recovery on), blobs are re-uploadable sources.")
VERSIONING_CONSOLE = "Holds only the console's build output, re-uploaded by every deploy."
SNS_ALARMS = ("The optional alarm topic carries only 'DLQ not empty' alarms; CloudWatch alarms cannot publish to a "
              "topic encrypted with the AWS managed SNS key, and a customer-managed key would bill monthly for that.")


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """A cdk-nag finding on `scope` (and the constructs under it), e.g. 'AwsSolutions-IAM5[Resource::*]'."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def cfn_of(construct: IConstruct) -> CfnResource:
    if isinstance(construct, CfnResource):
        return construct
    child = construct.node.default_child
    if not isinstance(child, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource of its own")
    return child


def checkov_skip(construct: IConstruct, check: str, reason: str) -> None:
    """A checkov check skipped on this resource, with its reason (the template's Metadata.checkov.skip)."""
    resource = cfn_of(construct)
    current: Any = resource.get_metadata("checkov") or {}
    skips = [s for s in current.get("skip", []) if s["id"] != check]
    resource.add_metadata("checkov", {"skip": [*skips, {"id": check, "comment": reason}]})


def checkov_skips(construct: IConstruct, skips: dict[str, str]) -> None:
    for check, reason in skips.items():
        checkov_skip(construct, check, reason)


def find_helpers(scope: Construct, prefixes: tuple[str, ...]) -> list[IConstruct]:
    """The stack-level constructs aws-cdk-lib adds on its own (singletons whose ids start with a known prefix)."""
    return [c for c in scope.node.children if c.node.id.startswith(prefixes)]
