#!/usr/bin/python3
"""A real RTSP camera for tests: GStreamer's RTSP server on 127.0.0.1 playing H.264 (or H.265, or MJPEG).

Run it with Debian's /usr/bin/python3 (it needs `gi` with GstRtspServer: scripts/setup.sh installs
python3-gi gir1.2-gst-rtsp-server-1.0 and the GStreamer plugins). Each --mount serves either a generated test
picture encoded live (videotestsrc ! x264enc, at --size/--fps/--bitrate-kbps) or, with --clip, an MP4 file holding
H.264, sent by stream copy from its start to each client (not looped: use a clip longer than the test needs).
--user/--password turn on digest (or, with --auth basic, basic) authentication. When every mount is listening it
prints one line per mount, `ready rtsp://127.0.0.1:PORT/MOUNT`, and flushes; SIGTERM or SIGINT stop it cleanly (exit code 0).

    /usr/bin/python3 scripts/rtsp-camera.py --port 8554 --mount /cam1 --size 1280x720 --fps 25 --bitrate-kbps 2000
    /usr/bin/python3 scripts/rtsp-camera.py --port 0 --codec mjpeg          # port 0: any free port, see the ready line
"""
import argparse
import signal
import sys
from fractions import Fraction

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1280x720, not {text!r}")
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise argparse.ArgumentTypeError("width and height must be positive and even")
    return width, height


def parse_fps(text: str) -> Fraction:
    fps = Fraction(text).limit_denominator(1001)
    if fps <= 0:
        raise argparse.ArgumentTypeError("fps must be positive")
    return fps


def launch_line(args) -> str:
    """The gst-launch description of one mount's media; the payloader must be called pay0."""
    if args.clip:
        # Stream copy of the clip's H.264, from the start for each client (a fresh pipeline per client).
        return (f'( filesrc location="{args.clip}" ! qtdemux ! h264parse config-interval=-1 '
                f'! rtph264pay name=pay0 pt=96 config-interval=1 )')
    width, height = args.size
    caps = (f"video/x-raw,width={width},height={height},"
            f"framerate={args.fps.numerator}/{args.fps.denominator}")
    source = f"videotestsrc is-live=true pattern={args.pattern} ! {caps} ! videoconvert"
    if args.codec == "mjpeg":
        return f"( {source} ! video/x-raw,format=I420 ! jpegenc quality=80 ! rtpjpegpay name=pay0 pt=26 )"
    key_interval = args.key_int or max(1, round(float(args.fps) * 2))
    if args.codec == "h265":
        return (f"( {source} ! x265enc tune=zerolatency speed-preset=ultrafast bitrate={args.bitrate_kbps} "
                f"key-int-max={key_interval} ! video/x-h265,profile=main ! h265parse config-interval=-1 "
                f"! rtph265pay name=pay0 pt=96 config-interval=1 )")
    return (f"( {source} ! x264enc tune=zerolatency speed-preset=ultrafast bitrate={args.bitrate_kbps} "
            f"vbv-buf-capacity=1000 key-int-max={key_interval} "
            f"! video/x-h264,profile=constrained-baseline ! h264parse config-interval=-1 "
            f"! rtph264pay name=pay0 pt=96 config-interval=1 )")


def main() -> int:
    # A parent such as `swift test` may start us with SIGTERM blocked; unblock it so we can stop cleanly.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGCONT})
    parser = argparse.ArgumentParser(description="RTSP test camera (GStreamer RTSP server on 127.0.0.1).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8554, help="TCP port; 0 picks a free one (see the ready line)")
    parser.add_argument("--mount", action="append", help="mount point such as /cam1 (repeatable; default /cam1)")
    parser.add_argument("--size", type=parse_size, default=(1280, 720), help="WIDTHxHEIGHT (default 1280x720)")
    parser.add_argument("--fps", type=parse_fps, default=Fraction(25), help="frames per second (default 25)")
    parser.add_argument("--bitrate-kbps", type=int, default=2000, help="H.264/H.265 target bitrate (default 2000)")
    parser.add_argument("--key-int", type=int, default=0, help="frames between key frames (default 2 s worth)")
    parser.add_argument("--codec", choices=["h264", "h265", "mjpeg"], default="h264",
                        help="video codec (default h264)")
    parser.add_argument("--pattern", default="snow",
                        help="videotestsrc pattern (default snow: noise, so the encoder spends the whole bitrate)")
    parser.add_argument("--clip", help="play this MP4 (H.264) once per client instead of a generated picture")
    parser.add_argument("--user", help="require this user name (basic and digest authentication)")
    parser.add_argument("--password", help="the password for --user")
    parser.add_argument("--auth", choices=["basic", "digest"], default="digest",
                        help="authentication scheme asked of clients (default digest, as most IP cameras)")
    args = parser.parse_args()
    if bool(args.user) != bool(args.password):
        parser.error("--user and --password go together")
    if args.clip and args.codec != "h264":
        parser.error("--clip plays H.264 only")
    mounts = args.mount or ["/cam1"]
    if any(not m.startswith("/") for m in mounts):
        parser.error("a mount point starts with /")

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))

    if args.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "camera-user")
        if args.auth == "digest":
            auth.add_digest(args.user, args.password, token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        else:
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
        server.set_auth(auth)

    line = launch_line(args)
    for mount in mounts:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(line)
        # A live test picture is shared by every client; a clip gets its own pipeline, played from its start.
        factory.set_shared(not args.clip)
        if args.user:
            factory.add_role_from_structure(Gst.Structure.new_from_string(
                "camera-user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"))
        server.get_mount_points().add_factory(mount, factory)

    if server.attach(None) == 0:
        print(f"rtsp-camera: cannot listen on {args.host}:{args.port}", file=sys.stderr)
        return 1
    port = server.get_bound_port()
    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, lambda: (loop.quit(), False)[1])
    for mount in mounts:
        print(f"ready rtsp://{args.host}:{port}{mount}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
