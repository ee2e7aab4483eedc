"""A small OAuth 2 / OIDC token endpoint for tests: the client credentials grant (RFC 6749
section 4.4), issuing RS256 JWTs signed with a key made at start (PyJWT and cryptography from
PyPI). The public key is written to a file, so that a SASL front can verify the tokens.

The client proves itself with its id and secret in HTTP Basic (client_secret_basic), or with a
JWT client assertion (private_key_jwt, RFC 7523 section 2.2) verified with PyJWT against the
client's registered public keys: signature, issuer and subject the client id, audience this
endpoint's URL, expiry, and a jti never seen before (a replayed assertion is refused). The
client's key pairs are made at start and their private keys written beside the public key file,
for the client under test: client-rsa.pem (RS256/PS256), client-ec.pem (ES256), and
stranger.pem (a key this endpoint does not know); with client-assertion.jwt, an assertion made
here with client-rsa.pem, valid for an hour.

Prints "listening PORT" once ready, "issued N" for every token, and "assertion ok ALG kid=KID"
for every assertion accepted.

usage: oidc.py PORT PUBLIC_KEY_OUT CLIENT_ID CLIENT_SECRET AUDIENCE LIFETIME_S [SCOPE]
"""
import base64
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

port, key_out, client_id, client_secret, audience, lifetime = sys.argv[1:7]
scope_wanted = sys.argv[7] if len(sys.argv) > 7 else ""
lifetime = int(lifetime)
token_url = "http://127.0.0.1:%s/token" % port
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
with open(key_out, "wb") as f:
    f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo))


def write_private(name, private):
    path = os.path.join(os.path.dirname(os.path.abspath(key_out)), name)
    with open(path, "wb") as f:
        f.write(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return path


client_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
client_ec = ec.generate_private_key(ec.SECP256R1())
write_private("client-rsa.pem", client_rsa)
write_private("client-ec.pem", client_ec)
write_private("stranger.pem", rsa.generate_private_key(public_exponent=65537, key_size=2048))
client_public = {"RS": client_rsa.public_key(), "PS": client_rsa.public_key(), "ES": client_ec.public_key()}
with open(os.path.join(os.path.dirname(os.path.abspath(key_out)), "client-assertion.jwt"), "w") as f:
    now = int(time.time())
    f.write(jwt.encode({"iss": client_id, "sub": client_id, "aud": token_url, "iat": now,
                        "exp": now + 3600, "jti": "made-by-the-endpoint"}, client_rsa, algorithm="RS256"))
issued = 0
seen_jti = set()
lock = threading.Lock()


def check_assertion(form):
    """None when the form's client assertion proves the client, else why not."""
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        return "client_assertion_type %r" % form.get("client_assertion_type")
    assertion = form.get("client_assertion", "")
    try:
        header = jwt.get_unverified_header(assertion)
        alg = header.get("alg", "")
        public = client_public.get(alg[:2])
        if public is None:
            return "no registered key for %r" % alg
        claims = jwt.decode(assertion, public, algorithms=[alg], audience=token_url, issuer=client_id,
                            options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]})
    except jwt.PyJWTError as e:
        return "assertion: %s" % e
    if claims["sub"] != client_id or form.get("client_id", client_id) != client_id:
        return "assertion for another client"
    with lock:
        if claims["jti"] in seen_jti:
            return "assertion replayed"
        seen_jti.add(claims["jti"])
    say("assertion ok %s kid=%s" % (alg, header.get("kid", "")))
    return None


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
        if "client_assertion" in form:
            why = check_assertion(form)
            if why:
                say("refused: %s" % why)
                return self.answer(401, {"error": "invalid_client", "error_description": why})
        else:
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
