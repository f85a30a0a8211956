"""The baseline for benchmarks/ingress.py: a bare Flask handler that only checks the HMAC.

Served by gunicorn with the project's bot/web/gunicorn_conf.py, exactly like the real service, so the
difference between the two is what Fund Bot's own ingress costs."""
import hashlib
import hmac
import os

from flask import Flask, request


def create_app() -> Flask:
    secret = os.environ["GITHUB_WEBHOOK_SECRET"].encode()
    app = Flask(__name__)

    @app.post("/webhook")
    def webhook():
        body = request.get_data()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
            return {"error": "bad signature"}, 401
        return {"status": "queued"}, 202

    return app
