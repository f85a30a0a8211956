"""The sandbox's state: the in-memory GitHub that the API serves and the tests seed and act on.

``sandbox.SandboxState`` is the whole of it; each other module is one concern of it (see ``sandbox.py``).
It knows nothing of the API that serves it: ``server.Sandbox`` is this state with its API.
"""
