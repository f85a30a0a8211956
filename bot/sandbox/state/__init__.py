"""The sandbox's state: the in-memory GitHub that the API serves and the tests seed and act on.

``sandbox.Sandbox`` is the whole of it; each other module is one concern of it (see ``sandbox.py``).
"""
