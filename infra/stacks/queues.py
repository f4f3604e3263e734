"""The task queue (parse tasks and drop-folder events) with its dead-letter queue and an alarm on it. Both queues
are encrypted at rest (SSE-SQS) and refuse plain-HTTP requests."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.stacks import compliance

MAX_RECEIVE_COUNT = 3  # a message that fails three times is poison: park it in the DLQ
# AWS: for a Lambda event source, visibility timeout >= 6 x the function timeout (retries + batching window)
VISIBILITY_PER_FUNCTION_TIMEOUT = 6


class TaskQueues(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, consumer_timeout_s: int, alarm_email: str = "") -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = sqs.Queue(
            self, "DeadLetters", retention_period=Duration.days(14), enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
        )
        self.tasks = sqs.Queue(
            self, "Tasks",
            visibility_timeout=Duration.seconds(consumer_timeout_s * VISIBILITY_PER_FUNCTION_TIMEOUT),
            retention_period=Duration.days(4), enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=MAX_RECEIVE_COUNT, queue=self.dead_letters),
        )
        for queue in (self.dead_letters, self.tasks):
            compliance.checkov_skip(queue, "CKV_AWS_27", compliance.SSE_SQS)
        self.dead_letter_alarm = cloudwatch.Alarm(
            self, "DeadLettersAlarm",
            metric=self.dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"),
            threshold=1, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"Parse tasks or drop-folder events failed {MAX_RECEIVE_COUNT} times and wait in the DLQ",
        )
        if alarm_email:  # otherwise the alarm shows in the CloudWatch console only
            topic = sns.Topic(self, "Alarms", display_name="ragflow-serverless alarms", enforce_ssl=True)
            topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
            compliance.checkov_skip(topic, "CKV_AWS_26", compliance.SNS_ALARMS)
            self.dead_letter_alarm.add_alarm_action(actions.SnsAction(topic))
