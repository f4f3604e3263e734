"""Chat channels: a chat assistant answering on a messaging platform (RAGFlow's chat_channel_api), serverless.

Offers ChannelService (the channels: create, list, get, update, delete, each one's runtime; credentials sealed with
the provider-key cipher, shown masked; the webhook registered where the platform's API allows), ChannelWebhooks (a
platform's delivery on the channel's public webhook route: verified, claimed once, queued, acknowledged at once)
and ChannelReplies (a queued delivery answered by the bound chat assistant, citations as footnotes, in the
platform's thread). It needs a Platform per kind (ragcore.domain.channels; the adapters are
ragcore.adapters.channels) and the conversation area (chats, their sessions, completions).
"""
