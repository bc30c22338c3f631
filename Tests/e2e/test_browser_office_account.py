"""An office user changes their own password, and guessing passwords is slowed down — in Chromium at phone width.

Given central with an office account (its one-time password from `central account set`), the user signs in on the
office pages, opens their account from their name in the top bar, and changes the password: a mistyped repetition is
caught on the page, a wrong current password and a weak new one are refused in words, then the change goes through
and a second sign-in (another device) has ended. The old password no longer signs in and the new one does. After five
wrong passwords in a row the sign-in page says to wait, even for the right password.

Screenshots go to test-output/browser/<test name>/.
"""

import requests

from browser_helpers import Shots, click, console_problems, make_driver, text, type_into, wait_until, wait_visible
from central_process import CentralProcess
from conftest import OUTPUT
from test_central_enrolment import office_account, postgres  # noqa: F401 (postgres is a fixture)

WAIT = 30
NEW_PASSWORD = "Kaodian-office-2026"


def sign_in(driver, username: str, password: str):
    type_into(driver, "login-username", username, clear=True)
    type_into(driver, "login-password", password, clear=True)
    click(driver, "login-submit")


def change(driver, current: str, new: str, repeat: str):
    type_into(driver, "password-current", current, clear=True)
    type_into(driver, "password-new", new, clear=True)
    type_into(driver, "password-repeat", repeat, clear=True)
    click(driver, "password-submit")


def test_an_office_user_changes_their_password_and_guessing_is_slowed(postgres, tmp_path, request):  # noqa: F811
    shots = Shots(OUTPUT / "browser" / request.node.name)
    password = office_account(postgres, "office1", "王主任")
    office = CentralProcess(postgres, tmp_path / "central-storage")
    driver = make_driver(tmp_path / "profile", width=390, height=844)
    problems = []
    try:
        office.start()
        # Another device signed in with the same account.
        other = requests.Session()
        assert other.post(office.base + "/api/office/login", json={"username": "office1", "password": password},
                          timeout=30).status_code == 200
        driver.get(office.base + "/office/")
        wait_visible(driver, "login-username")
        sign_in(driver, "office1", password)
        wait_visible(driver, "completeness-table")  # the first page is drawn whole (it would cover a page opened sooner)
        assert text(driver, "account-link") == "王主任"
        click(driver, "account-link")
        wait_visible(driver, "password-current")
        shots.take(driver, "01-account")

        change(driver, password, NEW_PASSWORD, NEW_PASSWORD + "x")
        wait_until(driver, lambda d: "两次输入的新密码不一致" in text(d, "password-result"), "the differing repeat was not caught", WAIT)
        change(driver, "not-my-password", NEW_PASSWORD, NEW_PASSWORD)
        wait_until(driver, lambda d: "当前密码错误" in text(d, "password-result"), "a wrong current password was not refused", WAIT)
        change(driver, password, "short1", "short1")
        wait_until(driver, lambda d: "至少 10 个字符" in text(d, "password-result"), "a weak password was not refused", WAIT)
        shots.take(driver, "02-weak-password-refused")
        change(driver, password, NEW_PASSWORD, NEW_PASSWORD)
        wait_until(driver, lambda d: "密码已修改" in text(d, "password-result"), "the change was not confirmed", WAIT)
        shots.take(driver, "03-changed")
        # The other device's sign-in has ended; this one goes on.
        assert other.get(office.base + "/api/office/me", timeout=30).status_code == 401
        click(driver, "tab-completeness")
        wait_visible(driver, "completeness-table")

        # Sign out; the old password fails, the new one works.
        click(driver, "logout")
        wait_visible(driver, "login-username")
        sign_in(driver, "office1", password)
        wait_until(driver, lambda d: "用户名或密码错误" in text(d, "login-error"), "the old password was not refused", WAIT)
        sign_in(driver, "office1", NEW_PASSWORD)
        wait_visible(driver, "completeness-table")
        click(driver, "logout")
        wait_visible(driver, "login-username")

        # Five wrong passwords: the name waits, even with the right one, and the page says so (in English too).
        for attempt in range(5):
            sign_in(driver, "office1", f"guess-{attempt}")
            wait_until(driver, lambda d: "用户名或密码错误" in text(d, "login-error"), "a wrong password was not refused", WAIT)
            driver.execute_script("document.querySelector('[data-testid=login-error]').textContent = ''")
        sign_in(driver, "office1", NEW_PASSWORD)
        wait_until(driver, lambda d: "秒后再试" in text(d, "login-error"), "the wait was not shown", WAIT)
        shots.take(driver, "04-wait")
        click(driver, "lang-switch")
        # The form is drawn again in English once the page has asked who is signed in.
        wait_until(driver, lambda d: text(d, "login-submit") == "Sign in", "the sign-in form did not switch to English", WAIT)
        sign_in(driver, "office1", NEW_PASSWORD)
        wait_until(driver, lambda d: "try again in" in text(d, "login-error"), "the wait was not shown in English", WAIT)
        assert console_problems(driver, problems) == []
    finally:
        driver.quit()
        office.stop()
