"""Accounts: who calls and on whose behalf.

Offers: `tenants.TenantService` (tenants, API keys, beta tokens: resolving a key to its tenant),
`users.UserService` (registration, login sessions, the login lock), `teams.TeamService` (team membership, the
team datasets a user may read, `read_shared`), `passwords` (RAGFlow's password transport and argon2id hashes).
"""
