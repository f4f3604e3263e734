#!/bin/sh
# The streaming function's entry under the Lambda Web Adapter: uvicorn on $PORT.
exec python -m functions.completions.server
