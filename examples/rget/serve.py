"""A tiny static server with single-Range support (206 + Content-Range, If-Range on the ETag) for the rget demo.

usage: python serve.py DIR PORTFILE   (listens on 127.0.0.1, a free port written to PORTFILE)
Python's own http.server ignores Range, which would only show rget's one-stream fallback.
"""

from __future__ import annotations

import contextlib
import re
import sys
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class RangeHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if not path.is_file() or m is None:
            super().do_GET()
            return
        data = path.read_bytes()
        etag = f'"{path.stat().st_mtime_ns:x}-{len(data):x}"'
        if self.headers.get("If-Range", etag) != etag:
            super().do_GET()
            return
        start = int(m.group(1))
        end = min(int(m.group(2) or len(data) - 1), len(data) - 1)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(end + 1 - start))
        self.send_header("ETag", etag)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client hung up: not our problem
            self.wfile.write(data[start : end + 1])


def main() -> None:
    directory, portfile = sys.argv[1], Path(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=directory))
    portfile.write_text(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
