"""How the areas are wired: one module per area of ragcore.services, each building that area's services from the
container's adapters and the services of the areas below it. Each factory imports its service on first call, so a
function imports only what its routes use (cold starts stay small)."""
