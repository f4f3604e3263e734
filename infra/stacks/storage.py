"""The buckets: documents' and files' blobs (presigned uploads, the inbox/ drop folder), and the access-log bucket
that receives the S3 server access logs of every bucket and the console's CloudFront logs."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.stacks import compliance

ACCESS_LOG_DAYS = 90  # who fetched or changed what: kept a quarter, then expired
INBOX_PREFIX = "inbox/"  # functions/ingest/handler.py INBOX: files dropped under inbox/<dataset>/ are ingested


def private_bucket(scope: Construct, construct_id: str, **props: Any) -> s3.Bucket:
    """Every bucket of the stack: no public access, encrypted at rest (SSE-S3), TLS-only bucket policy."""
    return s3.Bucket(scope, construct_id, block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                     encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True, **props)


class AccessLogBucket(Construct):
    """Where S3 server access logs and CloudFront standard logs land. Both deliver through ACLs (the log-delivery
    group and CloudFront's awslogsdelivery account), so this one bucket keeps ACLs on; the public access block
    still refuses any public grant, and objects written with bucket-owner-full-control belong to the bucket owner.
    SSE-S3: server access logging cannot write to a KMS-encrypted bucket."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(
            self, "Bucket",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            removal_policy=RemovalPolicy.RETAIN,  # audit evidence outlives the stack; it expires on its own
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(ACCESS_LOG_DAYS),
                                              abort_incomplete_multipart_upload_after=Duration.days(1))],
        )
        compliance.checkov_skips(self.bucket, {"CKV_AWS_18": compliance.LOG_BUCKET_ITSELF,
                                               "CKV_AWS_21": compliance.LOG_BUCKET_ITSELF})


class FileBucket(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, cors_origins: list[str], access_logs: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(
            self, "Bucket",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,  # users' files outlive the stack
            # browsers PUT large files straight to S3 with the presigned URLs of .../documents/upload_url
            cors=[s3.CorsRule(
                allowed_methods=[s3.HttpMethods.PUT], allowed_origins=cors_origins,
                allowed_headers=["*"], exposed_headers=["ETag"], max_age=3000,
            )],
            lifecycle_rules=[s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(1))],
            server_access_logs_bucket=access_logs, server_access_logs_prefix="s3/files/",
        )
        compliance.checkov_skip(self.bucket, "CKV_AWS_21", compliance.VERSIONING_FILES)

    def notify_drop_folder(self, queue: sqs.IQueue) -> None:
        """Files put into or removed from inbox/ become SQS messages for the ingest function."""
        destination = s3n.SqsDestination(queue)
        only_inbox = s3.NotificationKeyFilter(prefix=INBOX_PREFIX)
        self.bucket.add_event_notification(s3.EventType.OBJECT_CREATED, destination, only_inbox)
        self.bucket.add_event_notification(s3.EventType.OBJECT_REMOVED, destination, only_inbox)
