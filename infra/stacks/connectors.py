"""The connector scheduler on AWS: an EventBridge rule calls the tick function every minute; it reads one page of
the due index (a store query in due order, never a scan of all connectors) and queues each due run's sync step on
the task queue, where the ingest function runs it a page at a time."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

from infra.stacks import compliance
from infra.stacks.function_specs import CONNECTOR_TICK
from infra.stacks.functions import RagflowFunction, SharedResources


class ConnectorScheduler(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, shared: SharedResources) -> None:
        super().__init__(scope, construct_id)
        self.tick = RagflowFunction(self, CONNECTOR_TICK, shared, snap_start=False,
                                    unreserved_because=compliance.TICK_CONCURRENCY)
        # the one function invoked asynchronously (by the rule): its own reason replaces the API functions' one
        compliance.checkov_skip(self.tick.function, "CKV_AWS_116", compliance.SCHEDULED_TICK)
        events.Rule(self, "EveryMinute", schedule=events.Schedule.rate(Duration.minutes(1)),
                    description="ragflow-serverless: start the connectors' due sync runs",
                    targets=[targets.LambdaFunction(self.tick.function, retry_attempts=0)])
