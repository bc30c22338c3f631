#!/usr/bin/env python3
"""A TCP proxy that makes a bad link on purpose, for the sync fault tests and by hand.

Between a venue and the central office it forwards bytes both ways and, at random byte offsets, cuts a connection
(on average every CUT_EVERY bytes, either direction counted: a long-lived keep-alive connection is cut as often as
short ones), stalls it for a while (on average every STALL_EVERY bytes), and throttles each direction to a byte rate.
It can also refuse every connection (the link is down) until told otherwise.

  scripts/fault-proxy.py --listen 127.0.0.1:9000 --target 127.0.0.1:8090 --cut-every 200000 --stall-every 500000 --rate 2000000

As a module: FaultProxy(target_port, cut_every=…, …).start() runs it on a thread of its own; .stop(); .down = True
refuses connections; counters say what it did (connections, cuts, stalls, bytes).
"""
import argparse
import random
import socket
import threading
import time


class FaultProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1", listen_port: int = 0,
                 cut_every: int | None = None, stall_every: int | None = None, stall_seconds: float = 2.0,
                 rate: float | None = None, seed: int | None = None):
        self.target = (target_host, target_port)
        self.cut_every = cut_every  # mean bytes between cuts; None: never cut
        self.stall_every = stall_every  # mean bytes between stalls; None: never stall
        self.stall_seconds = stall_seconds
        self.rate = rate  # bytes per second per direction, None: as fast as it goes
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.down = False
        self.connections = self.cuts = self.stalls = self.bytes = 0
        self.bytes_up = self.bytes_down = 0  # towards the target, and back
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", listen_port))
        self.server.listen(128)
        self.port = self.server.getsockname()[1]
        self.running = False
        self.open = set()

    def next_offset(self, every, now):
        """The byte count at which the next cut or stall happens (uniform around the mean), or None."""
        if not every:
            return None
        with self.lock:
            return now + self.random.randint(1, 2 * every)

    def cut_now(self):
        """Cuts every open connection at once (the link drops mid-transfer); new ones are let through."""
        with self.lock:
            open_sockets = list(self.open)
            self.cuts += 1
        for s in open_sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def start(self):
        self.running = True
        threading.Thread(target=self.accept_loop, daemon=True, name="fault-proxy").start()
        return self

    def stop(self):
        self.running = False
        try:
            self.server.close()
        except OSError:
            pass
        with self.lock:
            for s in list(self.open):
                try:
                    s.close()
                except OSError:
                    pass

    def accept_loop(self):
        while self.running:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            threading.Thread(target=self.serve, args=(client,), daemon=True).start()

    def serve(self, client):
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self.lock:
            self.connections += 1
            self.open.update((client, upstream))
        # Both directions count towards the next cut and the next stall, drawn afresh after each.
        state = {"bytes": 0, "cut_at": self.next_offset(self.cut_every, 0), "stall_at": self.next_offset(self.stall_every, 0)}
        state_lock = threading.Lock()

        def close_both():
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                try:
                    s.close()
                except OSError:
                    pass
            with self.lock:
                self.open.discard(client)
                self.open.discard(upstream)

        def pump(source, sink, direction):
            # Pacing: each chunk takes len/rate seconds of the link, never borrowing from idle time before it.
            free_at = time.monotonic()
            try:
                while True:
                    data = source.recv(16384)
                    if not data:
                        break
                    if self.down:
                        break
                    with state_lock:
                        before = state["bytes"]
                        state["bytes"] += len(data)
                        cut_at, stall_at = state["cut_at"], state["stall_at"]
                        if stall_at is not None and state["bytes"] >= stall_at:
                            state["stall_at"] = self.next_offset(self.stall_every, state["bytes"])
                    if cut_at is not None and before + len(data) >= cut_at:
                        keep = max(0, cut_at - before)
                        if keep:
                            sink.sendall(data[:keep])
                        with self.lock:
                            self.cuts += 1
                        break
                    if stall_at is not None and before + len(data) >= stall_at:
                        with self.lock:
                            self.stalls += 1
                        time.sleep(self.stall_seconds)
                    sink.sendall(data)
                    with self.lock:
                        self.bytes += len(data)
                        if direction == "up":
                            self.bytes_up += len(data)
                        else:
                            self.bytes_down += len(data)
                    if self.rate:
                        free_at = max(free_at, time.monotonic()) + len(data) / self.rate
                        ahead = free_at - time.monotonic()
                        if ahead > 0:
                            time.sleep(ahead)
            except OSError:
                pass
            close_both()

        threading.Thread(target=pump, args=(client, upstream, "up"), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client, "down"), daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", default="127.0.0.1:0", help="host:port to listen on (loopback only)")
    parser.add_argument("--target", required=True, help="host:port to forward to")
    parser.add_argument("--cut-every", type=int, default=None, help="mean bytes between cuts of a connection")
    parser.add_argument("--stall-every", type=int, default=None, help="mean bytes between stalls of a connection")
    parser.add_argument("--stall-seconds", type=float, default=2.0)
    parser.add_argument("--rate", type=float, default=None, help="bytes per second per direction")
    args = parser.parse_args()
    host, port = args.target.rsplit(":", 1)
    proxy = FaultProxy(int(port), host, int(args.listen.rsplit(":", 1)[1]), args.cut_every, args.stall_every,
                       args.stall_seconds, args.rate).start()
    print(f"fault proxy on 127.0.0.1:{proxy.port} → {args.target}", flush=True)
    try:
        while True:
            time.sleep(5)
            print(f"connections {proxy.connections} cuts {proxy.cuts} stalls {proxy.stalls} bytes {proxy.bytes}", flush=True)
    except KeyboardInterrupt:
        proxy.stop()


if __name__ == "__main__":
    main()
