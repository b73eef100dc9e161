"""A camera's RTSP stream for the tests and the faces bench: a folder of JPEG frames
(written by tests/fakes/rtsp.py from the simulated camera's scene) played in a loop at a
fixed rate, encoded as H.264 and served over RTSP by GStreamer's RTSP server, as an IP
camera's sub-stream is, optionally behind basic auth.

Run by Debian's /usr/bin/python3 (python3-gst-1.0, gir1.2-gst-rtsp-server-1.0,
scripts/system-deps.sh), not the project's virtualenv: PyGObject and the GStreamer
typelibs are not on PyPI for it. Only the standard library and `gi` are imported here.

    /usr/bin/python3 tests/fakes/rtsp_camera.py FRAMES_DIR --port 0 --fps 10 \
        [--path /stream1] [--user U --password P]

Prints `READY <port>` on stdout once it listens; stops on SIGTERM / SIGINT.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def _pipeline(frames: Path, fps: int) -> str:
    # multifilesrc stamps the JPEGs at the caps' rate; the RTSP server's sinks play them
    # at that rate. One key frame a second, as cameras' default GOP, so a client that
    # (re)connects decodes within a second. Low-latency x264 as a camera's encoder.
    return (
        f'( multifilesrc location="{frames}/frame-%05d.jpg" loop=true '
        f'caps="image/jpeg,framerate={fps}/1" ! jpegdec ! videoconvert ! '
        f"video/x-raw,format=I420 ! x264enc tune=zerolatency speed-preset=ultrafast "
        f"key-int-max={fps} bitrate=1024 ! video/x-h264,profile=baseline ! "
        f"rtph264pay name=pay0 pt=96 config-interval=1 )"
    )


def _protect(server: GstRtspServer.RTSPServer, factory: GstRtspServer.RTSPMediaFactory,
             user: str, password: str) -> None:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    server.set_auth(auth)
    permissions = GstRtspServer.RTSPPermissions()
    permissions.add_role_from_structure(Gst.Structure.new_from_string(
        "viewer, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"))
    factory.set_permissions(permissions)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("frames", type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--path", default="/stream1")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(_pipeline(args.frames.resolve(), args.fps))
    # One encoder for every client, as a camera has: N readers of the bench cost the
    # server one stream, not N.
    factory.set_shared(True)
    if args.user:
        _protect(server, factory, args.user, args.password or "")
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        sys.stderr.write("rtsp_camera: could not listen\n")
        return 1
    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    sys.stdout.write(f"READY {server.get_bound_port()}\n")
    sys.stdout.flush()
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
