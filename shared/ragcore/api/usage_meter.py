"""Reports what each request read and wrote in the metadata store: a debug log line everywhere and, on AWS, the
CloudWatch metrics ItemsRead / ItemsWritten (Powertools' embedded metric format, per route), so a list or a
retrieval that starts reading more than its page shows up in production as it does in the tests; StoreRetries
counts the requests the store sent again because the table was throttling or contended (a hot dataset)."""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ragcore import usage

log = logging.getLogger("ragcore.usage")


class UsageMeter:
    def __init__(self, app: ASGIApp, *, publish: bool, namespace: str) -> None:
        self.app = app
        self.publish = publish
        self.namespace = namespace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        meter = usage.start()
        try:
            await self.app(scope, receive, send)
        finally:
            route = f"{scope.get('method', '')} {getattr(scope.get('route'), 'path', scope.get('path', ''))}"
            log.debug("store usage route=%r items_read=%d items_written=%d retries=%d", route, meter.items_read,
                      meter.items_written, meter.retries)
            if self.publish and (meter.items_read or meter.items_written or meter.retries):
                _publish(self.namespace, route, meter)


def _publish(namespace: str, route: str, meter: usage.Meter) -> None:
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    metric: Any
    for name, value in (("ItemsRead", meter.items_read), ("ItemsWritten", meter.items_written), ("StoreRetries", meter.retries)):
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=namespace) as metric:
            metric.add_dimension(name="route", value=route)
