"""Conversation: chat assistants and what is said to them.

Offers: `chats.ChatService` (assistants and sessions), `completion.CompletionService` (retrieve → prompt → model →
answer with citations, streamed or not), `openai_request` (the OpenAI-compatible request's checks),
`memories.MemoryService`, `search_apps.SearchAppService`.
"""
