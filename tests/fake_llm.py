"""A small local server that speaks the OpenAI chat-completions protocol and replies with
fixed text: it stands in for the user's model server (Ollama, vLLM, llama.cpp, a hosted
API) in the tests, not for our code. Streaming (server-sent events) and plain replies."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeLLMServer:
    """`reply`: the text the "model" writes. `status`: answer every request with this HTTP
    error instead (404, 429, 500...). `delay`: seconds before the reply starts."""

    def __init__(self, model: str = "fake-model") -> None:
        self.model = model
        self.reply = ""
        self.status: int | None = None
        self.delay = 0.0
        self.error_message: str | None = None  # the text of an error reply
        self.hang_up = False  # stop in the middle of the reply, as a crashing server does
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(
                    {"body": body, "headers": {k.lower(): v for k, v in self.headers.items()}}
                )
                if not self.path.endswith("/chat/completions"):
                    return self._error(404, "no such endpoint")
                time.sleep(server.delay)
                if server.status:
                    return self._error(
                        server.status, server.error_message or f"error {server.status}"
                    )
                if body.get("model") != server.model:
                    return self._error(404, f"model '{body.get('model')}' not found")
                if body.get("stream"):
                    return self._stream(server.reply)
                if server.hang_up:
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    self.wfile.write(b'{"id": "chatcmpl-fake", "choi')
                    self.close_connection = True
                    return
                self._json(200, _completion(server.model, server.reply))

            def _json(self, status: int, data: dict) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _error(self, status: int, message: str) -> None:
                self._json(status, {"error": {"message": message, "type": "error"}})

            def _stream(self, text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                if server.hang_up:  # promise more than is sent, then close
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    self._event(_chunk(server.model, {"content": text[:20]}, None))
                    self.close_connection = True
                    return
                self.end_headers()
                pieces = [text[i : i + 7] for i in range(0, len(text), 7)]
                for piece in pieces:
                    self._event(_chunk(server.model, {"content": piece}, None))
                self._event(_chunk(server.model, {}, "stop"))
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, data: dict) -> None:
                self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _completion(model: str, text: str) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(model: str, delta: dict, finish: str | None) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
