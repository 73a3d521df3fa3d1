"""A CPython ThreadingHTTPServer that counts its requests in memory: GET / answers the count,
this request included. It listens on 127.0.0.1 on a port the kernel picks and says
"ready port=N" once it serves."""
import http.server


class Counter(http.server.BaseHTTPRequestHandler):
    count = 0

    def do_GET(self):
        Counter.count += 1
        body = f"{Counter.count}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counter)
print(f"ready port={server.server_address[1]}", flush=True)
server.serve_forever()
