#!/usr/bin/env python3
"""A real SMTP server for the tests of central's alert e-mail: aiosmtpd with STARTTLS or TLS from the start, and
AUTH (PLAIN and LOGIN) that only works over TLS. Each message received is appended to --out with how it came:

    MESSAGE tls=<yes|no> user=<login or -> from=<sender> to=<recipients>
    <the message as sent>

Runs until SIGTERM. Usage:
  test-smtp-server.py --port N --out FILE [--mode plain|starttls|tls] [--cert PEM --key PEM] [--user U --password P]
"""
import argparse
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Recorder:
    def __init__(self, out: str, mode: str):
        self.out = out
        self.mode = mode

    async def handle_DATA(self, server, session, envelope):
        user = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else "-"
        tls = "yes" if self.mode == "tls" or session.ssl else "no"
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(f"MESSAGE tls={tls} user={user} from={envelope.mail_from} to={','.join(envelope.rcpt_tos)}\n")
            f.write(envelope.content.decode("utf-8", "replace") + "\n")
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--mode", choices=["plain", "starttls", "tls"], default="plain")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()

    context = None
    if args.mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user
              and auth_data.password.decode() == args.password)
        # handled=False: aiosmtpd answers 535 itself on a failure.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    options = {}
    if args.user:
        # With TLS from the start aiosmtpd does not see the connection as TLS for auth_require_tls: it is TLS anyway.
        options.update(authenticator=authenticator, auth_required=True, auth_require_tls=args.mode != "tls")
    if args.mode == "starttls":
        options.update(tls_context=context, require_starttls=True)
    elif args.mode == "tls":
        options.update(ssl_context=context)
    controller = Controller(Recorder(args.out, args.mode), hostname="127.0.0.1", port=args.port, **options)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
