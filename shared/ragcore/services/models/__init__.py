"""Models: the providers a tenant configured, and which model serves each request.

Offers: `catalogue` (the provider catalogue as data), `providers.ModelProviderService` (providers, instances with
their encrypted keys, an instance's models, connection checks), `tenant_models.TenantModels` (resolving a model
reference to what calls it, the tenant's default models), `routing.ModelRouter` (the rules choosing between the
deployment's own models and the tenant's: embedder, chat model, reranker, vision), `audio.AudioService`
(speech and transcription), `names` (model references and types).
"""
