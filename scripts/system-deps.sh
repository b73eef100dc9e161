#!/usr/bin/env bash
# Debian packages the test suite needs on a bare machine: Mosquitto (the tests start
# brokers of their own with generated ACLs), faketime (edge clock-skew tests) and a CJK
# font (fonts-noto-cjk: the cloud draws the invite poster's Chinese caption with it),
# GStreamer's RTSP server with H.264 for the RTSP camera of the capture tests and the
# faces bench (tests/fakes/rtsp_camera.py, run by Debian's /usr/bin/python3).
set -eu
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || [ -e /usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1 ] || command -v faketime >/dev/null 2>&1 || need+=(faketime)
[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || need+=(fonts-noto-cjk)
gst_plugin() { [ -e "/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgst$1.so" ] || [ -e "/usr/lib/aarch64-linux-gnu/gstreamer-1.0/libgst$1.so" ]; }
/usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0')" >/dev/null 2>&1 || need+=(python3-gst-1.0 gir1.2-gst-rtsp-server-1.0)
gst_plugin app || need+=(gstreamer1.0-plugins-base)                  # videoconvert
gst_plugin multifile && gst_plugin jpeg && gst_plugin rtp || need+=(gstreamer1.0-plugins-good)
gst_plugin x264 || need+=(gstreamer1.0-plugins-ugly)                # the camera's H.264
gst_plugin rtspclientsink || need+=(gstreamer1.0-rtsp)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: please install: ${need[*]}" >&2
  exit 0
fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
