# tests/corpus/http_server.py - Python's threading HTTP server for
# scripts/corpus: serves DIRECTORY on 127.0.0.1:PORT, a thread per
# connection, and writes its process id to PIDFILE once it listens.
#   python3 http_server.py PORT DIRECTORY PIDFILE
import functools
import http.server
import os
import sys

port, directory, pidfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
with open(pidfile, "w") as f:
    f.write(f"{os.getpid()}\n")
server.serve_forever()
