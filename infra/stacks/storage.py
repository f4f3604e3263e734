"""The bucket: documents' and files' blobs, presigned uploads, and the inbox/ drop folder."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

INBOX_PREFIX = "inbox/"  # functions/ingest/handler.py INBOX: files dropped under inbox/<dataset>/ are ingested


class FileBucket(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, cors_origins: list[str]) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self, "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,  # users' files outlive the stack
            # browsers PUT large files straight to S3 with the presigned URLs of .../documents/upload_url
            cors=[s3.CorsRule(
                allowed_methods=[s3.HttpMethods.PUT], allowed_origins=cors_origins,
                allowed_headers=["*"], exposed_headers=["ETag"], max_age=3000,
            )],
            lifecycle_rules=[s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(1))],
        )

    def notify_drop_folder(self, queue: sqs.IQueue) -> None:
        """Files put into or removed from inbox/ become SQS messages for the ingest function."""
        destination = s3n.SqsDestination(queue)
        only_inbox = s3.NotificationKeyFilter(prefix=INBOX_PREFIX)
        self.bucket.add_event_notification(s3.EventType.OBJECT_CREATED, destination, only_inbox)
        self.bucket.add_event_notification(s3.EventType.OBJECT_REMOVED, destination, only_inbox)
