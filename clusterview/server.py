"""The WSGI app: the page, its CSS and JavaScript, and /state.json.

No framework: four routes. ``source`` is a LiveCluster or a Replay; both answer
``state(query)`` with a JSON-ready dict.
"""
from __future__ import annotations

import json
import os
from urllib.parse import parse_qsl

from gevent.pywsgi import WSGIServer

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
FILES = {"/": ("index.html", "text/html; charset=utf-8"),
         "/view.css": ("view.css", "text/css; charset=utf-8"),
         "/view.js": ("view.js", "application/javascript; charset=utf-8")}


def make_app(source):
    def app(environ, start_response):
        path = environ.get("PATH_INFO", "/")
        if path == "/state.json":
            query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
            body = json.dumps(source.state(query), separators=(",", ":")).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Cache-Control", "no-store"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        if path in FILES:
            name, content_type = FILES[path]
            with open(os.path.join(STATIC, name), "rb") as f:
                body = f.read()
            start_response("200 OK", [("Content-Type", content_type),
                                      ("Content-Length", str(len(body)))])
            return [body]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    return app


def serve(source, host: str, port: int) -> WSGIServer:
    server = WSGIServer((host, port), make_app(source), log=None)
    server.start()
    return server
