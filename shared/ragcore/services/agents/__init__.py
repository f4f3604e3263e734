"""Agents: RAGFlow's canvas DSL.

Offers: `service.AgentService` (agents, sessions, traces), `runs.AgentRunner` (a run of an agent, streamed),
`versions`, `webhooks.WebhookService`, `attachments`, `db_connection`, and `engine` (the DSL validated and executed:
components, executor, the tools a run may call).
"""
