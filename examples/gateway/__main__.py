"""python -m examples.gateway: the sample message gateway on 127.0.0.1:8100."""

import uvicorn

from examples.gateway.app import from_environment

uvicorn.run(from_environment(), host="127.0.0.1", port=8100)
