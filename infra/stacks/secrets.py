"""One Secrets Manager secret, a JSON object of provider keys; functions read it once per cold start."""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy, SecretValue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.stacks import compliance

# the names ragcore.bootstrap.container.with_provider_secrets reads; an empty value means "not configured"
PROVIDER_KEYS = ["PINECONE_API_KEY", "LLM_API_KEY", "EMBEDDING_API_KEY", "RERANK_API_KEY"]


class ProviderSecret(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self, "Secret",
            description="Provider API keys (JSON): " + ", ".join(PROVIDER_KEYS),
            # Starts as a JSON object of EMPTY values (no key is in the template): the code parses the secret as
            # JSON, and a CloudFormation-generated random string would not parse. Users fill the values in, and
            # later deploys leave them alone as long as this template value does not change.
            secret_string_value=SecretValue.unsafe_plain_text(json.dumps(dict.fromkeys(PROVIDER_KEYS, ""))),
            removal_policy=RemovalPolicy.DESTROY,
        )
        compliance.acknowledge(self.secret, "AwsSolutions-SMG4", compliance.SECRET_ROTATION)
        compliance.checkov_skip(self.secret, "CKV_AWS_149", compliance.SECRET_AWS_MANAGED_KEY)


class ProviderKeyKey(Construct):
    """The KMS key whose data keys seal tenants' provider API keys (envelope encryption, ragcore/adapters/
    kms_cipher.py). Rotated yearly by KMS (old versions keep decrypting) and retained when the stack is deleted:
    losing it makes every stored provider key unreadable."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self, "Key", description="ragflow-serverless: wraps the data keys of tenants' provider API keys",
            enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN,
        )
