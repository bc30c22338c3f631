"""`venue camera probe` against real RTSP cameras: scripts/rtsp-camera.py (GStreamer's RTSP server) on loopback.

The camera needs Debian's /usr/bin/python3 with GstRtspServer (scripts/setup.sh installs it); every camera a test
starts is stopped when the test ends, whatever happens.
"""
import signal
import subprocess
import time

import pytest

from conftest import ROOT, free_port, venue_binary

CAMERA_SCRIPT = ROOT / "scripts" / "rtsp-camera.py"
PASSWORD = "Cam-Secret-4711"


class Camera:
    """One rtsp-camera.py process on a free port; `urls` are the ones its ready lines name."""

    def __init__(self, *args: str, mounts: int = 1):
        self.process = subprocess.Popen(["/usr/bin/python3", str(CAMERA_SCRIPT), "--port", "0", *args],
                                        stdout=subprocess.PIPE, text=True)
        self.urls = []
        deadline = time.time() + 30
        while len(self.urls) < mounts and time.time() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            if line.startswith("ready "):
                self.urls.append(line.split()[1])
        if len(self.urls) < mounts:
            self.stop()
            raise RuntimeError(f"rtsp-camera.py {args} did not become ready")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def cameras():
    started = []

    def start(*args, mounts=1):
        camera = Camera(*args, mounts=mounts)
        started.append(camera)
        return camera

    yield start
    for camera in started:
        camera.stop()


def probe(url, *args):
    return subprocess.run([venue_binary(), "camera", "probe", url, *args], capture_output=True, text=True, timeout=90)


def test_probe_prints_codec_resolution_frame_rate_and_bitrate(cameras):
    camera = cameras("--size", "640x360", "--fps", "25", "--bitrate-kbps", "800")
    result = probe(camera.urls[0], "--timeout", "10")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert "codec: h264" in lines
    assert "resolution: 640x360" in lines
    assert "frame rate: 25.00 fps" in lines
    summary = dict(field.split("=", 1) for field in lines[-1].split())
    assert summary["codec"] == "h264" and summary["width"] == "640" and summary["height"] == "360"
    assert summary["fps"] == "25.00"
    assert 400_000 < int(summary["bitrate"]) < 1_300_000, lines[-1]


def test_probe_of_a_refused_port_fails_with_the_reason_in_both_languages():
    result = probe(f"rtsp://127.0.0.1:{free_port()}/cam1", "--timeout", "5")
    assert result.returncode == 3
    assert "camera_refused" in result.stderr
    assert "拒绝连接" in result.stderr and "refused the connection" in result.stderr
    assert result.stdout == ""


def test_probe_with_a_wrong_password_is_unauthorised_and_never_prints_the_password(cameras):
    camera = cameras("--size", "320x240", "--user", "admin", "--password", PASSWORD)
    url = camera.urls[0].replace("rtsp://", f"rtsp://admin:{PASSWORD}x@")
    result = probe(url, "--timeout", "10")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "camera_unauthorised" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert "admin:***@" in result.stderr

    good = probe(camera.urls[0].replace("rtsp://", f"rtsp://admin:{PASSWORD}@"), "--timeout", "10")
    assert good.returncode == 0, good.stderr
    assert PASSWORD not in good.stdout + good.stderr


def test_probe_of_an_mjpeg_camera_says_the_codec_is_unsupported(cameras):
    camera = cameras("--size", "320x240", "--codec", "mjpeg")
    result = probe(camera.urls[0], "--timeout", "10")
    assert result.returncode == 3
    assert "camera_unsupported_codec" in result.stderr and "MJPEG" in result.stderr


def test_probe_of_something_that_is_not_an_rtsp_url_exits_2():
    result = probe("http://127.0.0.1/cam1")
    assert result.returncode == 2
    assert "camera_bad_url" in result.stderr
