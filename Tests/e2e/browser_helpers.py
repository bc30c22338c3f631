"""Helpers for the real-browser tests: headless Chromium through Selenium, data-testid lookups, explicit waits,
screenshots of each step, and a check of the browser console for CSP violations and script errors."""
import base64
import os
import re
import time
from pathlib import Path

import requests

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

# A CI machine has two cores and starts Chromium slowly: waits are generous, polling is quick.
WAIT = float(os.environ.get("KAODIAN_BROWSER_WAIT", "45"))


def chromium_binary() -> str:
    return os.environ.get("CHROME_BIN", "/usr/bin/chromium")


def chromedriver_binary() -> str:
    return os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")


def make_driver(profile_dir: Path, width: int = 1280, height: int = 900, extra_args=()):
    """Headless Chromium with its own profile folder (its own localStorage, cookies and terminal id); extra_args
    are more command-line switches (a fake camera, for instance)."""
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_binary()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}",
                     f"--user-data-dir={profile_dir}", "--lang=zh-CN", "--no-first-run", "--disable-gpu", *extra_args):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(chromedriver_binary()))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    return driver


def css_id(testid: str) -> str:
    return f'[data-testid="{testid}"]'


def find(driver, testid: str):
    return driver.find_element(By.CSS_SELECTOR, css_id(testid))


def find_all(driver, selector: str):
    return driver.find_elements(By.CSS_SELECTOR, selector)


def wait_visible(driver, testid: str, timeout: float = WAIT):
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, css_id(testid))),
        message=f"{testid} did not become visible within {timeout}s")


def wait_until(driver, condition, message: str, timeout: float = WAIT):
    """Waits for condition(driver) to be truthy; stale elements (the page re-rendered) just mean: try again."""
    def check(d):
        try:
            return condition(d)
        except (StaleElementReferenceException, NoSuchElementException, WebDriverException):
            return False
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(check, message=message)


def scroll_to(driver, element):
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'nearest'});", element)
    return element


def click(driver, testid: str):
    """Clicks like a person: the element is scrolled to the middle of the screen (clear of the sticky bar) first.
    A page that re-renders itself (a list refreshing) may replace the element in between: then it is found again."""
    for attempt in range(3):
        try:
            element = wait_visible(driver, testid) if not testid.startswith("option-") else find(driver, testid)
            scroll_to(driver, element)
            WebDriverWait(driver, WAIT).until(EC.element_to_be_clickable((By.CSS_SELECTOR, css_id(testid))))
            element.click()
            return element
        except StaleElementReferenceException:
            if attempt == 2:
                raise


def type_into(driver, testid: str, text: str, clear: bool = False):
    element = wait_visible(driver, testid)
    scroll_to(driver, element)
    if clear:
        element.clear()
    element.send_keys(text)
    return element


def choose(driver, testid: str, value: str):
    """Picks an option of a <select> by its value (found again if a refreshing page replaced it meanwhile)."""
    def pick():
        element = wait_visible(driver, testid)
        scroll_to(driver, element)
        Select(element).select_by_value(value)
        return element
    return fresh(pick)


def fresh(read, attempts: int = 5):
    """Reads from an element found afresh each time: pages that refresh replace their rows, so an element found a
    moment ago may be gone (stale) by the time it is read."""
    for attempt in range(attempts):
        try:
            return read()
        except StaleElementReferenceException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.1)


def attr(driver, testid: str, name: str):
    return fresh(lambda: find(driver, testid).get_attribute(name))


def value(driver, testid: str) -> str:
    return find(driver, testid).get_property("value")


def text(driver, testid: str) -> str:
    return fresh(lambda: find(driver, testid).text)


class Shots:
    """Saves a numbered screenshot per step into one folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()

    def take(self, driver, name: str):
        path = self.folder / f"{name}.png"
        driver.save_screenshot(str(path))
        return path

    def take_full(self, driver, name: str):
        """The whole page, not only the window (Chromium's DevTools screenshot beyond the viewport)."""
        path = self.folder / f"{name}.png"
        size = driver.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size[0], "height": min(size[1], 16000), "scale": 1}})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


CONSOLE_PROBLEM = re.compile(r"Content Security Policy|Refused to|Uncaught|SyntaxError|TypeError|ReferenceError", re.I)


def console_problems(driver, collected: list) -> list:
    """Browser console lines that show a CSP violation or a script error (network errors are expected while the
    server is down and are not counted)."""
    try:
        entries = driver.get_log("browser")
    except WebDriverException:
        return []
    collected.extend(entries)
    return [e["message"] for e in entries if CONSOLE_PROBLEM.search(e.get("message", ""))]


def tiny_pdf(title: str = "Kaodian thesis attachment") -> bytes:
    """A small but real PDF (one page of text, correct cross-reference table)."""
    content = f"BT /F1 20 Tf 72 760 Td ({title}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += str(number).encode() + b" 0 obj\n" + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 " + str(len(objects) + 1).encode() + b"\n0000000000 65535 f \n"
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size " + str(len(objects) + 1).encode() + b" /Root 1 0 R >>\nstartxref\n" + str(xref).encode() + b"\n"
    out += b"%%EOF\n"
    return out


def staff_login(driver, base: str, username: str, password: str, page: str = "/console/"):
    """Logs a staff member in through the login form of the console (or /admin/)."""
    driver.get(base + page)
    wait_visible(driver, "staff-username")
    type_into(driver, "staff-username", username)
    type_into(driver, "staff-password", password)
    click(driver, "staff-login")


def hms_seconds(value: str) -> int:
    """01:29:58 → 5398."""
    hours, minutes, seconds = (int(part) for part in value.strip().split(":"))
    return hours * 3600 + minutes * 60 + seconds


def block_urls(driver, patterns):
    """Makes the browser fail requests to these URL patterns (an empty list lifts the block)."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": list(patterns)})


class StaffAPI:
    """The venue API as one staff member (bearer token), for what a test sets up or checks beside the browser."""

    def __init__(self, base: str, username: str, password: str):
        self.base = base
        r = requests.post(base + "/api/staff/login", json={"username": username, "password": password}, timeout=30)
        r.raise_for_status()
        self.token = r.json()["token"]

    def get(self, path: str, **params):
        r = requests.get(self.base + path, params=params or None, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body=None, expect=(200, 201, 204)):
        r = requests.post(self.base + path, json=body if body is not None else {}, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        assert r.status_code in expect, f"POST {path} -> {r.status_code} {r.text}"
        return r.json() if r.content else None

    def room(self, sitting: str, room: str):
        return self.get(f"/api/console/sittings/{sitting}/rooms/{room}")
