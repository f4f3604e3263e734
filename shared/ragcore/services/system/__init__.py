"""System: the service looking at itself.

Offers: `status` (component health for /system/status, runtime log levels), `conversation_stats.ConversationStats`
(daily conversation counters kept as conversations happen), `langfuse.LangfuseService` (per-tenant Langfuse keys
and traces of completions).
"""
