"""A SASL front for a test broker: listens (with TLS when given a certificate), answers
SaslHandshake and SaslAuthenticate itself, verifying the client's credentials with a library
not written by burrow-rs, then passes every byte to and from the broker behind it.

Mechanism `msk-iam`: SASL OAUTHBEARER with an MSK IAM token (aws-msk-iam-sasl-signer's
format). The token's presigned URL is signed again with botocore's own SigV4QueryAuth for the
time, region and key the token names, using the secret given here, and must carry the same
signature, be for kafka-cluster:Connect, and be fresh (signed within 5 minutes, 900 s expiry).

Mechanism `oauthbearer`: SASL OAUTHBEARER (RFC 7628) with a JWT, verified with PyJWT against
the RS256 public key given (signature, expiry, audience), with the SASL extension given present.
The session ends when the token expires.

Mechanism `plain`: SASL PLAIN, the user and password compared with the ones given.

Mechanisms `scram-sha-256` and `scram-sha-512`: the server side of SCRAM is scramp's
(PyPI `scramp`), with the user's salted password made by scramp from the password given
(4096 iterations). `scram-sha-256-lie` (and -512-): a server that knows the password but sends a
server-final message with a wrong signature (`v=`), which a client must refuse.

Sessions, as a broker with connections.max.reauth.ms keeps them (KIP-368): `--session-ms N`
ends every session N ms after authentication (and a token's session when the token expires, if
sooner). SaslAuthenticate v1+ tells the client the session's lifetime; the first request after the
session ended closes the connection unanswered ("session expired"), as Kafka does.

`--connections N` takes N connections, then closes every new one at once ("refused:
connection N"), as a broker that went away for new clients while open connections live on.

Requests before authentication other than ApiVersions, SaslHandshake and SaslAuthenticate close
the connection, as a broker does. Prints "listening PORT" once ready, and one line per
authentication ("auth ok ..." / "auth failed: ...").

usage: sasl_front.py LISTEN_PORT UPSTREAM_HOST:PORT MECHANISM [--cert C --key K] [--session-ms N] [--connections N] [ARGS...]
  msk-iam ARGS: ACCESS_KEY_ID SECRET_ACCESS_KEY
  plain, scram-sha-256[-lie], scram-sha-512[-lie] ARGS: USER PASSWORD
  oauthbearer ARGS: PUBLIC_KEY_PEM AUDIENCE [EXTENSION=VALUE]
"""
import asyncio
import base64
import datetime
import ssl
import struct
import sys
import time
import urllib.parse
from unittest import mock

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
UNSUPPORTED_SASL_MECHANISM, SASL_AUTHENTICATION_FAILED = 33, 58


def say(line):
    print(line, flush=True)


def uvarint(data, i):
    shift = value = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def put_uvarint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def parse_header(frame):
    """api key, version, correlation id, offset of the body (request header v1/v2)."""
    api, version, corr = struct.unpack(">hhi", frame[:8])
    (n,) = struct.unpack(">h", frame[8:10])
    i = 10 + max(n, 0)
    flexible = (api == SASL_AUTHENTICATE and version >= 2) or (api == SASL_HANDSHAKE and version >= 2)
    if flexible:
        tags, i = uvarint(frame, i)
        for _ in range(tags):
            _, i = uvarint(frame, i)
            size, i = uvarint(frame, i)
            i += size
    return api, version, corr, i, flexible


def verify_msk_iam(message, key_id, secret):
    """None when the OAUTHBEARER message carries a valid MSK IAM token, else why not."""
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    text = message.decode("utf-8", "replace")
    if not text.startswith("n,,\x01auth=Bearer ") or not text.endswith("\x01\x01"):
        return "not an OAUTHBEARER client-first message"
    token = text[len("n,,\x01auth=Bearer "):-2]
    try:
        url = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except Exception as e:  # noqa: BLE001
        return "token is not base64url: %s" % e
    parts = urllib.parse.urlsplit(url)
    params = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    if params.get("Action") != "kafka-cluster:Connect":
        return "action is %r" % params.get("Action")
    if params.get("X-Amz-Expires") != "900":
        return "expires is %r" % params.get("X-Amz-Expires")
    credential = params.get("X-Amz-Credential", "").split("/")
    if len(credential) != 5 or credential[0] != key_id or credential[3] != "kafka-cluster":
        return "credential scope is %r" % params.get("X-Amz-Credential")
    region = credential[2]
    if parts.netloc != "kafka.%s.amazonaws.com" % region:
        return "host is %r" % parts.netloc
    signed = datetime.datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    age = time.time() - signed.replace(tzinfo=datetime.timezone.utc).timestamp()
    if not -300 <= age <= 300:
        return "signed %d s ago" % age
    request = AWSRequest(method="GET", url="https://%s/" % parts.netloc,
                         params={"Action": "kafka-cluster:Connect"})
    creds = Credentials(key_id, secret, params.get("X-Amz-Security-Token"))
    with mock.patch("botocore.auth.datetime") as clock:
        clock.datetime.utcnow.return_value = signed
        SigV4QueryAuth(creds, "kafka-cluster", region, expires=900).add_auth(request)
    expected = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.prepare().url).query))
    if expected.get("X-Amz-Signature") != params.get("X-Amz-Signature"):
        return "signature does not verify"
    return None


class Session:
    """One connection's authentication: step() takes a client message and returns
    (server message, error or None, done)."""

    def __init__(self, front):
        self.front = front
        self.scram = None
        self.expires_at = None

    def started(self):
        """The client authenticated: the session ends at the front's session length, or when
        its token expires if sooner."""
        if self.front.session_ms is not None:
            end = time.time() + self.front.session_ms / 1000
            self.expires_at = end if self.expires_at is None else min(self.expires_at, end)

    def lifetime_ms(self):
        """What SaslAuthenticate v1+ says of the session: its milliseconds left, 0 for none."""
        if self.expires_at is None:
            return 0
        return max(1, int((self.expires_at - time.time()) * 1000))

    def step(self, message):
        mech, args = self.front.mechanism, self.front.args
        if mech == "msk-iam":
            return b"", verify_msk_iam(message, args[0], args[1]), True
        if mech == "plain":
            parts = message.split(b"\x00")
            if len(parts) != 3:
                return b"", "not a PLAIN message", True
            user, password = parts[1].decode("utf-8", "replace"), parts[2].decode("utf-8", "replace")
            ok = user == args[0] and password == args[1]
            return b"", None if ok else "wrong user or password for %r" % user, True
        if mech.startswith("scram-"):
            return self.scram_step(message)
        if mech == "oauthbearer":
            return self.oauthbearer(message)
        return b"", "unknown mechanism", True

    def oauthbearer(self, message):
        import jwt

        text = message.decode("utf-8", "replace")
        if not text.startswith("n,,\x01") or not text.endswith("\x01\x01"):
            return b"", "not an OAUTHBEARER client message", True
        fields = dict(f.split("=", 1) for f in text[4:-2].split("\x01") if "=" in f)
        auth = fields.pop("auth", "")
        if not auth.startswith("Bearer "):
            return b"", "no bearer token", True
        public_key, audience = self.front.args[0], self.front.args[1]
        with open(public_key, "rb") as f:
            key = f.read()
        try:
            claims = jwt.decode(auth[len("Bearer "):], key, algorithms=["RS256"], audience=audience,
                                options={"require": ["exp", "aud"]})
        except jwt.PyJWTError as e:
            return b'{"status":"invalid_token"}', "token: %s" % e, True
        for wanted in self.front.args[2:]:
            k, v = wanted.split("=", 1)
            if fields.get(k) != v:
                return b'{"status":"invalid_request"}', "extension %s is %r" % (k, fields.get(k)), True
        self.expires_at = claims["exp"]
        return b"", None, True

    def scram_step(self, message):
        from scramp import ScramException

        text = message.decode("utf-8", "replace")
        try:
            if self.scram is None:
                self.scram = self.front.scram_mechanism().make_server(self.front.scram_auth_info)
                self.scram.set_client_first(text)
                return self.scram.get_server_first().encode(), None, False
            self.scram.set_client_final(text)
            final = self.scram.get_server_final()
            if self.front.mechanism.endswith("-lie"):
                final = "v=" + base64.b64encode(b"\x00" * 32).decode()
            return final.encode(), None, True
        except ScramException as e:
            return (e.server_error or "").encode(), "scram: %s" % e, True


class Front:
    def __init__(self, upstream, mechanism, args, session_ms=None, connections=None):
        self.upstream = upstream
        self.mechanism = mechanism
        self.args = args
        self.session_ms = session_ms
        self.connections = connections
        self.accepted = 0
        self._scram_info = None

    def wire_name(self):
        base = self.mechanism.removesuffix("-lie")
        return {
            "msk-iam": "OAUTHBEARER",
            "oauthbearer": "OAUTHBEARER",
            "plain": "PLAIN",
            "scram-sha-256": "SCRAM-SHA-256",
            "scram-sha-512": "SCRAM-SHA-512",
        }[base]

    def scram_mechanism(self):
        from scramp import ScramMechanism

        return ScramMechanism(self.wire_name())

    def scram_auth_info(self, username):
        if username != self.args[0]:
            raise KeyError(username)
        if self._scram_info is None:
            self._scram_info = self.scram_mechanism().make_auth_info(self.args[1], iteration_count=4096)
        return self._scram_info

    async def serve(self, reader, writer):
        self.accepted += 1
        if self.connections is not None and self.accepted > self.connections:
            say("refused: connection %d" % self.accepted)
            writer.close()
            return
        host, port = self.upstream.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        try:
            session = await self.authenticate(reader, writer, up_reader, up_writer)
            if session:
                await asyncio.gather(requests(reader, up_writer, session), pipe(up_reader, writer))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            for w in (writer, up_writer):
                w.close()

    async def authenticate(self, reader, writer, up_reader, up_writer):
        """Answers the handshake; the session once the client authenticated, else None."""
        session = Session(self)
        while True:
            (size,) = struct.unpack(">i", await reader.readexactly(4))
            frame = await reader.readexactly(size)
            api, version, corr, i, flexible = parse_header(frame)
            if api == API_VERSIONS:
                up_writer.write(struct.pack(">i", size) + frame)
                await up_writer.drain()
                (rsize,) = struct.unpack(">i", await up_reader.readexactly(4))
                writer.write(struct.pack(">i", rsize) + await up_reader.readexactly(rsize))
                await writer.drain()
            elif api == SASL_HANDSHAKE:
                (n,) = struct.unpack(">h", frame[i:i + 2])
                wanted = frame[i + 2:i + 2 + n].decode()
                code = 0 if wanted == self.wire_name() else UNSUPPORTED_SASL_MECHANISM
                name = self.wire_name().encode()
                body = struct.pack(">ihi", corr, code, 1) + struct.pack(">h", len(name)) + name
                writer.write(struct.pack(">i", len(body)) + body)
                await writer.drain()
                if code:
                    say("auth failed: mechanism %s" % wanted)
                    return None
            elif api == SASL_AUTHENTICATE:
                if flexible:
                    n, i = uvarint(frame, i)
                    auth = frame[i:i + n - 1]
                else:
                    (n,) = struct.unpack(">i", frame[i:i + 4])
                    auth = frame[i + 4:i + 4 + n]
                reply, why, done = session.step(bytes(auth))
                if done and not why:
                    session.started()
                lifetime = session.lifetime_ms() if done and not why else 0
                code = SASL_AUTHENTICATION_FAILED if why else 0
                message = ("authentication failed: " + why).encode() if why else None
                if flexible:
                    body = struct.pack(">i", corr) + b"\x00" + struct.pack(">h", code)
                    body += put_uvarint(len(message) + 1) + message if message else b"\x00"
                    body += put_uvarint(len(reply) + 1) + reply + struct.pack(">q", lifetime) + b"\x00"
                else:
                    body = struct.pack(">ih", corr, code)
                    body += struct.pack(">h", len(message)) + message if message else struct.pack(">h", -1)
                    body += struct.pack(">i", len(reply)) + reply
                    if version >= 1:
                        body += struct.pack(">q", lifetime)
                writer.write(struct.pack(">i", len(body)) + body)
                await writer.drain()
                if not done and not why:
                    continue
                say("auth failed: %s" % why if why else "auth ok")
                return None if why else session
            else:
                say("auth failed: request %d before authentication" % api)
                return None


async def requests(reader, writer, session):
    """Passes the client's requests on, frame by frame, until its session ends."""
    while True:
        try:
            head = await reader.readexactly(4)
        except asyncio.IncompleteReadError:
            writer.close()
            return
        (size,) = struct.unpack(">i", head)
        frame = await reader.readexactly(size)
        if session.expires_at is not None and time.time() >= session.expires_at:
            # Closing the broker's side ends the other pipe too, which closes the client's.
            say("session expired")
            writer.close()
            return
        writer.write(head + frame)
        await writer.drain()


async def pipe(reader, writer):
    while True:
        data = await reader.read(65536)
        if not data:
            writer.close()
            return
        writer.write(data)
        await writer.drain()


async def main():
    port, upstream, mechanism = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    options, rest, args = {}, [], iter(sys.argv[4:])
    for a in args:
        if a in ("--cert", "--key", "--session-ms", "--connections"):
            options[a] = next(args)
        else:
            rest.append(a)
    context = None
    if "--cert" in options:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(options["--cert"], options["--key"])
    session_ms = int(options["--session-ms"]) if "--session-ms" in options else None
    connections = int(options["--connections"]) if "--connections" in options else None
    front = Front(upstream, mechanism, rest, session_ms, connections)
    server = await asyncio.start_server(front.serve, "127.0.0.1", port, ssl=context)
    say("listening %d" % port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
