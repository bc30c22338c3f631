// Staff sign-in shared by the invigilator console and the venue admin pages. The token is kept in
// localStorage per page (so a reload stays signed in); the server also sets the kd_staff cookie, which is what
// <img src="/api/photos/…"> and plain download links use.

import { api, ApiError, loadJSON, saveJSON, removeKey, randomHex } from './api.js';
import { h, replaceChildren } from './dom.js';
import { t, tBoth, setBilingualText } from './i18n.js';

export class StaffSession {
  /** storageKey: where this page keeps its token; roles: which roles may use the page. */
  constructor(storageKey, roles) {
    this.storageKey = storageKey;
    this.roles = roles;
    this.state = loadJSON(storageKey, null);
  }

  get token() {
    return this.state ? this.state.token : null;
  }

  get user() {
    return this.state;
  }

  async login(username, password) {
    let terminalId = loadJSON('kd.staffTerminal', null);
    if (!terminalId) {
      terminalId = `staff-${randomHex(6)}`;
      saveJSON('kd.staffTerminal', terminalId);
    }
    const result = await api('/api/staff/login', { method: 'POST', body: { username, password, terminalId } });
    if (!this.roles.includes(result.role)) {
      throw new ApiError({ status: 403, code: 'forbidden_role', message: '', messageZh: '' });
    }
    this.state = {
      token: result.token, name: result.name, role: result.role, rooms: result.rooms || [], username,
      mustChangePassword: Boolean(result.mustChangePassword),
    };
    saveJSON(this.storageKey, this.state);
    return this.state;
  }

  /** True while the account still has its one-time password: nothing but changing it works. */
  get mustChangePassword() {
    return Boolean(this.state && this.state.mustChangePassword);
  }

  /** Sets a new password (POST /api/staff/password); the session stays signed in. */
  async changePassword(currentPassword, newPassword) {
    await this.call('/api/staff/password', { method: 'POST', body: { currentPassword, newPassword } });
    this.state = { ...this.state, mustChangePassword: false };
    saveJSON(this.storageKey, this.state);
  }

  /** The server says a one-time password must be changed first (403 password_change_required). */
  markMustChangePassword() {
    if (!this.state) return;
    this.state = { ...this.state, mustChangePassword: true };
    saveJSON(this.storageKey, this.state);
  }

  /** Checks a kept token is still good; false when the page must show the login form. */
  async verify() {
    if (!this.token) return false;
    try {
      const me = await api('/api/staff/me', { token: this.token });
      if (!this.roles.includes(me.role)) {
        this.forget();
        return false;
      }
      this.state = { ...this.state, name: me.name, role: me.role, rooms: me.rooms, username: me.username || this.state.username, mustChangePassword: Boolean(me.mustChangePassword) };
      saveJSON(this.storageKey, this.state);
      return true;
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        this.forget();
        return false;
      }
      throw error;
    }
  }

  async logout() {
    const token = this.token;
    this.forget();
    if (token) {
      try {
        await api('/api/session/logout?as=staff', { method: 'POST', token });
      } catch {
        /* the session ends on the server by itself */
      }
    }
  }

  forget() {
    this.state = null;
    removeKey(this.storageKey);
  }

  /** GET/POST with this session's token. */
  call(path, options = {}) {
    return api(path, { ...options, token: this.token });
  }
}

/**
 * The staff login form. onSubmit(username, password) may throw; the error is shown under the form.
 * Test hooks: staff-username, staff-password, staff-login, staff-login-error.
 */
export function staffLoginForm(titleKey, onSubmit, errorForRole) {
  const username = h('input', { id: 'staff-username', name: 'username', autocomplete: 'username', required: true, testid: 'staff-username', class: 'input' });
  const password = h('input', { id: 'staff-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, testid: 'staff-password', class: 'input' });
  const error = h('p', { class: 'form-error', role: 'alert', testid: 'staff-login-error', hidden: true });
  const button = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'staff-login', i18n: 'common.login' });
  const form = h('form', { class: 'card login-card', novalidate: true },
    h('h1', { class: 'card-title', i18n: titleKey }),
    h('label', { class: 'field' }, h('span', { class: 'field-label', i18n: 'common.username' }), username),
    h('label', { class: 'field' }, h('span', { class: 'field-label', i18n: 'common.password' }), password),
    error,
    button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!username.value.trim() || !password.value) {
      error.hidden = false;
      setBilingualText(error, { zh: '请输入用户名和密码', en: 'Enter your username and password' });
      return;
    }
    button.disabled = true;
    try {
      await onSubmit(username.value.trim(), password.value);
    } catch (err) {
      error.hidden = false;
      if (err instanceof ApiError && err.code === 'forbidden_role') setBilingualText(error, errorForRole);
      else setBilingualText(error, err instanceof ApiError ? err.texts : { zh: String(err), en: String(err) });
      if (err instanceof ApiError && err.code === 'login_rate_limited' && err.retryAfterSeconds) {
        holdButton(err.retryAfterSeconds);
        return;
      }
    }
    button.disabled = false;
  });
  /** Too many failed logins: the button waits, counting down the seconds the server asked for. */
  function holdButton(seconds) {
    const until = Date.now() + seconds * 1000;
    button.disabled = true;
    button.dataset.retryAfter = String(seconds);
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left <= 0) {
        button.disabled = false;
        delete button.dataset.retryAfter;
        button.dataset.i18n = 'common.login';
        delete button.dataset.i18nParams;
        button.textContent = t('common.login');
        return;
      }
      button.dataset.i18n = 'staff.retryIn';
      button.dataset.i18nParams = JSON.stringify({ n: left });
      button.textContent = t('staff.retryIn', { n: left });
      setTimeout(tick, 500);
    };
    tick();
  }
  return form;
}

/**
 * The change-password form shown before anything else while the account has a one-time password (and on
 * request). onDone() runs after the server accepted the new password.
 * Test hooks: password-view, password-current, password-new, password-repeat, password-submit, password-error.
 */
export function changePasswordForm(session, onDone, { forced = true } = {}) {
  const current = h('input', { id: 'password-current', type: 'password', autocomplete: 'current-password', class: 'input', testid: 'password-current', required: true });
  const next = h('input', { id: 'password-new', type: 'password', autocomplete: 'new-password', class: 'input', testid: 'password-new', required: true, minLength: 10 });
  const repeat = h('input', { id: 'password-repeat', type: 'password', autocomplete: 'new-password', class: 'input', testid: 'password-repeat', required: true });
  const error = h('p', { class: 'form-error', role: 'alert', testid: 'password-error', hidden: true });
  const button = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'password-submit', i18n: 'pw.submit' });
  const form = h('form', { class: 'card login-card', novalidate: true, testid: 'password-view' },
    h('h1', { class: 'card-title', i18n: forced ? 'pw.title' : 'pw.titleVoluntary' }),
    h('p', { class: forced ? 'notice notice-warn' : 'muted', i18n: forced ? 'pw.hintForced' : 'pw.hint' }),
    session.user ? h('p', { class: 'muted small' }, `${session.user.name || ''}（${session.user.username || ''}）`) : null,
    h('label', { class: 'field', for: 'password-current' }, h('span', { class: 'field-label', i18n: forced ? 'pw.currentInitial' : 'pw.current' }), current),
    h('label', { class: 'field', for: 'password-new' }, h('span', { class: 'field-label', i18n: 'pw.new' }), next,
      h('span', { class: 'field-hint muted small', i18n: 'pw.rule' })),
    h('label', { class: 'field', for: 'password-repeat' }, h('span', { class: 'field-label', i18n: 'pw.repeat' }), repeat),
    error,
    button);
  const fail = (pair) => {
    error.hidden = false;
    setBilingualText(error, pair);
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const username = (session.user && session.user.username) || '';
    if (!current.value || !next.value) return fail(tBoth('error.required'));
    if (next.value !== repeat.value) return fail(tBoth('pw.mismatch'));
    if (next.value.length < 10 || !/\p{L}/u.test(next.value) || !/\p{N}/u.test(next.value)
      || next.value.toLowerCase() === username.toLowerCase()) return fail(tBoth('pw.rule'));
    if (next.value === current.value) return fail(tBoth('pw.same'));
    button.disabled = true;
    try {
      await session.changePassword(current.value, next.value);
      onDone();
    } catch (err) {
      fail(err instanceof ApiError ? err.texts : { zh: String(err), en: String(err) });
      button.disabled = false;
    }
    return undefined;
  });
  return form;
}

/** Shows who is signed in, with a logout button, in the page header (#user-slot, #logout-slot). */
export function showStaffUser(session, onLoggedOut, beforeLogout = () => {}) {
  const slot = document.getElementById('user-slot');
  const logoutSlot = document.getElementById('logout-slot');
  replaceChildren(slot);
  replaceChildren(logoutSlot);
  if (!session.user) return;
  slot.textContent = `${session.user.name}（${session.user.username || ''}）`;
  logoutSlot.appendChild(h('button', {
    type: 'button', class: 'btn btn-ghost', testid: 'logout', i18n: 'common.logout',
    on: {
      click: async () => {
        beforeLogout();
        await session.logout();
        showStaffUser(session, onLoggedOut, beforeLogout);
        onLoggedOut();
      },
    },
  }));
}
