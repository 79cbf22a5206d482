"""A real SMTP server for the tests (tests/api/support/mail.rs): receives what credvault sends
and appends each message, decoded, as one JSON line to OUT_FILE.

usage: smtp_sink.py PORT PORT_FILE OUT_FILE   (PORT 0 = any free port)

Once listening on 127.0.0.1 it writes its port to PORT_FILE. Any AUTH PLAIN / LOGIN succeeds
without TLS, and the credentials are recorded; mail without AUTH is taken too. While
OUT_FILE.stall exists, DATA is left unanswered (a relay that took the connection but never
finished the delivery) and then refused with 451, recording nothing; OUT_FILE.holding exists
while such a DATA is held. SIGTERM exits 0.
"""

import asyncio
import json
import logging
import os
import signal
import sys
import time
import warnings
from email import message_from_bytes, policy

from aiosmtpd.smtp import SMTP, AuthResult

STALL_LIMIT = 60  # seconds a stalled DATA may wait before it gives up on its own


class Sink:
    def __init__(self, out):
        self.out, self.stall, self.holding = out, out + ".stall", out + ".holding"

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(self.stall):
            # OUT_FILE.holding exists while a DATA is held, so that a test knows when a sender
            # is stuck in it, and when the session is gone.
            open(self.holding, "w").close()
            try:
                deadline = time.monotonic() + STALL_LIMIT
                # A client that goes away cancels this task (aiosmtpd's connection_lost).
                while os.path.exists(self.stall) and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                return "451 4.3.0 Stalled on purpose; try again"
            finally:
                os.remove(self.holding)
        raw = envelope.original_content
        msg = message_from_bytes(raw, policy=policy.default)
        body = msg.get_body(preferencelist=("plain", "html"))
        auth = session.auth_data
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "subject": str(msg["subject"] or ""),
            # Lines end in \n, whatever the wire used.
            "body": body.get_content().replace("\r\n", "\n") if body is not None else "",
            "headers": {name: str(value) for name, value in msg.items()},
            "raw": raw.decode("utf-8", "replace"),
            "auth": [auth.login.decode(), auth.password.decode()] if auth else None,
        }
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
        return "250 2.0.0 OK"


def accept_any(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=True, auth_data=auth_data)


async def main(port, port_file, out):
    open(out, "a").close()  # exists from the start: "nothing received" reads as empty
    # aiosmtpd warns that AUTH without TLS is unsafe (here that is the point), and logs a
    # deprecation warning on every AUTH: neither is news.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    loop = asyncio.get_running_loop()
    sink = Sink(out)
    server = await loop.create_server(
        # A fixed hostname: the default asks DNS for this machine's FQDN on every connection.
        lambda: SMTP(sink, hostname="sink.test", authenticator=accept_any,
                     auth_require_tls=False),
        "127.0.0.1", port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # Written whole, then renamed: a reader never sees half a port number.
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    os.replace(port_file + ".tmp", port_file)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
