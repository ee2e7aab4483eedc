"""A small OAuth 2 / OIDC token endpoint for tests: the client credentials grant (RFC 6749
section 4.4) with the client id and secret in HTTP Basic, issuing RS256 JWTs signed with a key
made at start (PyJWT and cryptography from PyPI). The public key is written to a file, so that a
SASL front can verify the tokens.

Prints "listening PORT" once ready and "issued N" for every token.

usage: oidc.py PORT PUBLIC_KEY_OUT CLIENT_ID CLIENT_SECRET AUDIENCE LIFETIME_S [SCOPE]
"""
import base64
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

port, key_out, client_id, client_secret, audience, lifetime = sys.argv[1:7]
scope_wanted = sys.argv[7] if len(sys.argv) > 7 else ""
lifetime = int(lifetime)
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
with open(key_out, "wb") as f:
    f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo))
issued = 0
lock = threading.Lock()


def say(line):
    print(line, flush=True)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        global issued
        if self.path != "/token":
            return self.answer(404, {"error": "not_found"})
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        auth = self.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(("%s:%s" % (client_id, client_secret)).encode()).decode()
        if auth != expected:
            say("refused: client credentials")
            return self.answer(401, {"error": "invalid_client", "error_description": "bad client credentials"})
        if form.get("grant_type") != "client_credentials":
            return self.answer(400, {"error": "unsupported_grant_type"})
        if scope_wanted and form.get("scope") != scope_wanted:
            return self.answer(400, {"error": "invalid_scope", "error_description": "scope %r" % form.get("scope")})
        now = int(time.time())
        with lock:
            issued += 1
            n = issued
        token = jwt.encode({"iss": "http://127.0.0.1:%s" % port, "sub": client_id, "aud": audience,
                            "scope": form.get("scope", ""), "iat": now, "exp": now + lifetime, "jti": str(n)},
                           key, algorithm="RS256")
        say("issued %d" % n)
        self.answer(200, {"access_token": token, "token_type": "Bearer", "expires_in": lifetime})


server = ThreadingHTTPServer(("127.0.0.1", int(port)), Handler)
say("listening %s" % port)
server.serve_forever()
