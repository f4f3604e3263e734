"""The streaming function's process: uvicorn serving the completion routes on $PORT.

On AWS it runs under the Lambda Web Adapter behind a function URL with invoke mode RESPONSE_STREAM, so SSE
frames reach the client as they are produced (Mangum would buffer the whole reply).
"""

from __future__ import annotations

from ragcore.api.app import create_app
from ragcore.config import get_settings

from functions.completions.routes import public_router, router

app = create_app([router, public_router], title="ragflow-serverless completions")


def main() -> None:
    import uvicorn  # only the streaming function's process serves with it; the Mangum handler imports this module too

    settings = get_settings()
    uvicorn.run(app, host="0.0.0.0", port=settings.port, log_level=settings.log_level.lower(), access_log=False)  # noqa: S104


if __name__ == "__main__":
    main()
