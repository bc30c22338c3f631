"""The camera over the venue's own HTTPS, in real Chromium.

Given a venue that serves HTTPS beside HTTP, and a device that reaches it by a LAN name (not localhost), so that the
plain-http page is not a secure context and the browser gives it no camera:
when the invigilator opens the face sign-in on http://venue.test:PORT/console/, the dialog says the camera cannot be
used here and offers a link to the same page over HTTPS and one to the venue's certificate authority;
the certificate link serves the authority that signed the HTTPS certificate;
following the HTTPS link (the device trusts the venue's authority: here Chromium is told to accept the
certificate), the invigilator logs in again and the same dialog opens the camera and verifies them by face.

Chromium maps venue.test to 127.0.0.1 (--host-resolver-rules); the venue still listens on 127.0.0.1 only.
Screenshots go to test-output/browser/<test name>/.
"""
import pytest
import requests

from browser_helpers import StaffAPI, Shots, attr, click, find, make_driver, staff_login, text, wait_until, wait_visible
from conftest import OUTPUT, VenueProcess, free_port
from test_browser_face import LFW, fake_camera, people_with_two_photos, wait_enrolled

pytestmark = pytest.mark.skipif(not LFW.exists(), reason="../shared/face/lfw-dev is not there")


def test_a_plain_http_page_leads_to_https_where_the_camera_works(tmp_path, request):
    shots = Shots(OUTPUT / "browser" / request.node.name)
    https_port = free_port()
    venue = VenueProcess(tmp_path / "data", free_port(), log_name="venue-https-browser",
                         extra_args=(f"--https-port={https_port}",))
    venue.start()
    driver = None
    try:
        wait_enrolled(StaffAPI(venue.base, "admin", "kaodian-admin"))
        people = people_with_two_photos()
        camera = fake_camera(people[61][1][1], tmp_path)  # invigilator1's registered photo is person 61's first
        driver = make_driver(tmp_path / "profile", extra_args=(
            "--host-resolver-rules=MAP venue.test 127.0.0.1", "--ignore-certificate-errors",
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}"))
        plain = f"http://venue.test:{venue.port}"
        staff_login(driver, plain, "invigilator1", "kaodian-demo")
        click(driver, "staff-face-signin")
        wait_visible(driver, "staff-face-dialog")
        assert driver.execute_script("return window.isSecureContext") is False
        wait_until(driver, lambda d: attr(d, "staff-face-camera", "data-state") == "unavailable",
                   "the camera was not reported unavailable on plain http")
        wait_visible(driver, "camera-secure-hint")
        shots.take(driver, "01-plain-http-offers-https")
        link = find(driver, "camera-secure-link").get_attribute("href")
        assert link == f"https://venue.test:{https_port}/console/", link
        certificate = find(driver, "camera-secure-certificate").get_attribute("href")
        assert certificate == f"{plain}/venue-ca.crt"
        authority = requests.get(f"{venue.base}/venue-ca.crt", timeout=5).text
        assert authority.startswith("-----BEGIN CERTIFICATE-----")
        assert authority in (tmp_path / "data" / "tls" / "venue-ca.crt").read_text()

        click(driver, "camera-secure-link")
        wait_until(driver, lambda d: d.current_url.startswith(f"https://venue.test:{https_port}/console/"),
                   "the link did not lead to the HTTPS page")
        assert driver.execute_script("return window.isSecureContext") is True
        staff_login(driver, f"https://venue.test:{https_port}", "invigilator1", "kaodian-demo")
        click(driver, "staff-face-signin")
        wait_until(driver, lambda d: attr(d, "staff-face-camera", "data-state") == "live",
                   "the camera did not open over HTTPS", timeout=60)
        wait_until(driver, lambda d: d.execute_script(
            "const v = document.querySelector('[data-testid=staff-face-video]'); return v.videoWidth > 0 && v.currentTime > 0.3"),
            "the camera shows no picture")
        click(driver, "staff-face-capture")
        wait_visible(driver, "staff-face-result", timeout=90)
        shots.take(driver, "02-https-camera-verifies")
        assert attr(driver, "staff-face-result", "data-decision") == "match", text(driver, "staff-face-result")
    finally:
        if driver:
            driver.quit()
        venue.stop()
