"""The sandbox's REST API: GitHub's paths served from the state as a WSGI app (``dispatch.make_wsgi_app``).

``dispatch`` does what every request shares; ``routes`` is the table of what is served; the handlers
are grouped by resource (``apps``, ``repos``, ``people``, ``issues``, ``comments``, ``labels``,
``reactions``) and see a request as a ``call.Call``.
"""
