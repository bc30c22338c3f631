/*
 * Invigilator console (/console/): staff login (a one-time password must be changed first; too many failed logins
 * make the button wait) → sittings with their rooms (invigilators see their own rooms) → the room screen
 * (room.js): live roster, room clock and controls, per-candidate actions, terminal moves, incidents, documents.
 * Routes: #  (sittings), #room/{sittingId}/{roomId}.
 *
 * data-testid hooks:
 *   login: staff-username, staff-password, staff-login (data-retry-after while rate-limited), staff-login-error,
 *   password-view, password-current, password-new, password-repeat, password-submit, password-error,
 *   lang-switch, logout, console-message (data-kind ok|error, data-seq)
 *   sittings page: staff-face-signin (the staff face sign-in dialog, see assets/staffface.js), sittings, sitting-{sittingId}, sitting-phase-{sittingId} (data-phase), sitting-clock-{sittingId},
 *     sitting-counts-{sittingId}, start-{sittingId} (admins: every room), open-room-{sittingId}-{roomId}, no-sittings
 *   room page (room.js): room-view (data-phase), room-title, room-phase (data-phase waiting|running|paused|over),
 *     room-clock, room-counts, count-{candidates|notArrived|checkedIn|waiting|answering|submitted|absent} (data-n),
 *     live-status (data-mode live|polling|connecting|offline), room-updated (data-at), back-to-sittings,
 *     room-controls, room-start, room-pause, room-resume, room-extend, room-end, room-incident,
 *     moves-section, move-{admissionNumber} (data-move-id), move-approve-{admissionNumber}, move-reject-{admissionNumber},
 *     roster-table, roster-row-{admissionNumber} (data-status, data-stale), photo-{a}, name-{a}, status-{a} (data-status),
 *     answered-{a} (data-answered, data-total), events-{a} (data-total; .ev[data-kind][data-n]), incidents-{a} (data-count),
 *     terminal-{a}, heartbeat-{a} (data-stale), time-{a} (data-remaining-ms, data-extension),
 *     checkin-{a}, absent-{a}, extend-{a}, force-submit-{a}, incident-{a},
 *     incident-list (data-count), incident-{incidentId} (data-category, data-admission),
 *     documents, doc-roster, doc-seating, doc-signin, doc-record,
 *     roster-row-{a} also carries data-checkin-method (manual|face|faceOverride), face-{a} (the latest face check:
 *     data-decision, data-similarity, data-overridden), face-verifications (data-count), face-verifications-refresh,
 *     face-table, face-row-{id}, face-thumb-{id}, face-override-{id}, face-capture-dialog, face-capture-canvas,
 *     face-alerts (data-count; failed self check-ins and random re-checks), face-alerts-count,
 *     face-alert-{id} (data-decision, data-purpose, data-person, data-problem), face-alert-thumb-{id} (data-loaded),
 *     face-alert-problem-{id}, checkin-method-{a} (data-method selfFace: checked in by face at the terminal)
 *   dialogs: console-dialog, dialog-minutes, dialog-reason, dialog-note, dialog-category, dialog-check, dialog-photo,
 *     dialog-name, dialog-admission, dialog-status, dialog-confirm, dialog-cancel, dialog-error, manual-check-in;
 *     face check-in hooks: see facecheck.js
 */

import { errorTexts, ApiError } from '../assets/api.js';
import { h, replaceChildren, formatHMS, formatDateTime, languageButton, initPage } from '../assets/dom.js';
import { t, tBoth, onLangChange, setBilingualText } from '../assets/i18n.js';
import { ServerClock } from '../assets/clock.js';
import { StaffSession, staffLoginForm, showStaffUser, changePasswordForm } from '../assets/staff.js';
import { openDialog, showMessage } from '../assets/ui.js';
import { RoomScreen } from './room.js';
import { dayOf, showRoomPlayback, today } from '../assets/playback.js';
import { openStaffFaceSignIn } from '../assets/staffface.js';

const REFRESH_MS = 10000;

const app = document.getElementById('app');
const session = new StaffSession('kd.console', ['invigilator', 'admin']);
const clock = new ServerClock();
const state = {
  screen: null, // the RoomScreen on show
  sittings: [],
  timer: null,
  ticker: null,
};

const setTitle = initPage('console.title');
onLangChange(() => {
  setTitle();
  if (state.screen) state.screen.rerender();
  else if (session.token && !session.mustChangePassword && state.sittings.length) renderSittings();
});
document.getElementById('lang-slot').appendChild(languageButton());

function stopAll() {
  clearTimeout(state.timer);
  clearInterval(state.ticker);
  state.timer = null;
  state.ticker = null;
  if (state.screen) state.screen.stop();
  state.screen = null;
}

function showUser() {
  showStaffUser(session, showLogin, stopAll);
}

function showLogin() {
  stopAll();
  replaceChildren(app, h('div', { class: 'page-narrow' }, staffLoginForm('console.loginTitle', async (username, password) => {
    await session.login(username, password);
    showUser();
    route();
  }, tBoth('error.needStaff'))));
  const first = app.querySelector('input');
  if (first) first.focus();
}

function showPasswordChange() {
  stopAll();
  session.markMustChangePassword();
  replaceChildren(app, h('div', { class: 'page-narrow' }, changePasswordForm(session, () => {
    showMessage(tBoth('pw.done'), 'ok', 'console-message');
    route();
  })));
}

/** True (and back to the login form) when an error says the staff session is gone. */
function staffAuthLost(error) {
  if (!(error instanceof ApiError)) return false;
  if (error.status === 401) {
    document.querySelector('dialog[open]')?.close();
    authLost();
    return true;
  }
  if (error.code === 'password_change_required') {
    document.querySelector('dialog[open]')?.close();
    showPasswordChange();
    return true;
  }
  return false;
}

function authLost() {
  session.forget();
  showUser();
  showLogin();
}

/** Shows the page the address asks for. */
function route() {
  stopAll();
  if (!session.token) {
    showLogin();
    return;
  }
  if (session.mustChangePassword) {
    showPasswordChange();
    return;
  }
  const raw = window.location.hash.replace(/^#/, '');
  const query = new URLSearchParams(raw.includes('?') ? raw.slice(raw.indexOf('?') + 1) : '');
  const parts = raw.split('?')[0].split('/').map((p) => decodeURIComponent(p));
  if (parts[0] === 'playback' && parts[1] && parts[2]) {
    showRoomRecordings(parts[1], parts[2], query);
    return;
  }
  if (parts[0] === 'room' && parts[1] && parts[2]) {
    const container = h('div', {});
    replaceChildren(app, container);
    state.screen = new RoomScreen({
      session, sittingId: parts[1], roomId: parts[2], container, onAuthLost: authLost, onPasswordRequired: showPasswordChange,
    });
    state.screen.start();
    return;
  }
  showSittings();
}
window.addEventListener('hashchange', () => {
  if (session.token) route();
});

// MARK: recordings of a room

/** The room's recordings of a day (default: the day of `at`, else today), jumping to `at` if given. */
function showRoomRecordings(sittingId, roomId, query) {
  const at = Number(query.get('at'));
  const date = h('input', { class: 'input', type: 'date', testid: 'playback-date', value: query.get('date') || (at > 0 ? dayOf(at) : today()) });
  const body = h('div', {});
  date.addEventListener('change', () => {
    window.location.hash = `#playback/${encodeURIComponent(sittingId)}/${encodeURIComponent(roomId)}?date=${encodeURIComponent(date.value)}`;
  });
  replaceChildren(app, h('section', { class: 'card', testid: 'console-playback' },
    h('nav', { class: 'row' },
      h('a', { class: 'btn btn-small', testid: 'playback-back', href: `#room/${encodeURIComponent(sittingId)}/${encodeURIComponent(roomId)}`, i18n: 'playback.back' }),
      h('span', { class: 'spacer' }), date),
    h('h1', { i18n: 'playback.title', params: { room: roomId } }),
    body));
  const errorBox = (error, testid) => {
    const box = h('p', { class: 'notice notice-error', testid, role: 'alert' });
    setBilingualText(box, errorTexts(error));
    return box;
  };
  showRoomPlayback({
    container: body, roomId, dayStart: new Date(`${date.value}T00:00:00`).getTime(), at,
    call: (path) => session.call(path), errorBox,
  }).catch((error) => {
    if (!staffAuthLost(error)) replaceChildren(body, errorBox(error, 'playback-error'));
  });
}

// MARK: sittings

async function showSittings() {
  replaceChildren(app, h('p', { class: 'muted', i18n: 'common.loading' }));
  await refreshSittings();
  state.ticker = setInterval(tickClocks, 1000);
}

async function refreshSittings() {
  clearTimeout(state.timer);
  try {
    const sentAt = performance.now();
    state.sittings = await session.call('/api/console/sittings');
    if (state.sittings.length) clock.update(state.sittings[0].clock, sentAt);
    state.error = null;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return authLost();
    if (error instanceof ApiError && error.code === 'password_change_required') return showPasswordChange();
    state.error = errorTexts(error);
  }
  if (window.location.hash.startsWith('#room/')) return undefined;
  renderSittings();
  state.timer = setTimeout(refreshSittings, REFRESH_MS);
  return undefined;
}

function sittingClockText(sitting) {
  const c = sitting.clock || {};
  const now = clock.now();
  if (c.phase === 'waiting') return t('console.startsIn', { time: formatHMS(Math.max(0, c.startsAt - now)) });
  if (c.phase === 'running') return t('console.remaining', { time: formatHMS(Math.max(0, c.endsAt - now)) });
  if (c.phase === 'paused') return t('console.pausedRemaining', { time: formatHMS(c.remainingMs ?? 0) });
  return t('console.phase.over');
}

function tickClocks() {
  for (const sitting of state.sittings) {
    const el = app.querySelector(`[data-testid="sitting-clock-${CSS.escape(sitting.id)}"]`);
    if (el) el.textContent = sittingClockText(sitting);
  }
}

function renderSittings() {
  const parts = [h('div', { class: 'row console-head' },
    h('h1', { i18n: 'console.sittings' }), h('span', { class: 'spacer' }),
    h('button', {
      type: 'button', class: 'btn btn-small', testid: 'staff-face-signin', i18n: 'staffFace.button',
      on: { click: () => openStaffFaceSignIn({ session, handleAuth: staffAuthLost }) },
    }),
    h('button', { type: 'button', class: 'btn btn-small', i18n: 'common.refresh', on: { click: refreshSittings } }))];
  if (state.error) {
    const error = h('p', { class: 'notice notice-error', role: 'alert', testid: 'console-error' });
    setBilingualText(error, state.error);
    parts.push(error);
  }
  const roomsTotal = state.sittings.reduce((n, s) => n + s.rooms.length, 0);
  if (!state.sittings.length || !roomsTotal) {
    parts.push(h('p', { class: 'muted', testid: 'no-sittings', i18n: state.sittings.length ? 'console.needStaffRoom' : 'console.noSittings' }));
  } else {
    parts.push(h('p', { class: 'muted', i18n: 'console.sittingsHint' }));
  }
  parts.push(h('div', { class: 'sittings', testid: 'sittings' }, state.sittings.map(renderSitting)));
  replaceChildren(app, ...parts);
}

function renderSitting(sitting) {
  const phase = sitting.clock ? sitting.clock.phase : 'waiting';
  const badge = { waiting: 'badge-warn', running: 'badge-ok', paused: 'badge-danger', over: '' }[phase] || '';
  const admin = session.user && session.user.role === 'admin';
  return h('section', { class: 'card sitting', testid: `sitting-${sitting.id}` },
    h('div', { class: 'row sitting-head' },
      h('h2', { class: 'sitting-name' }, sitting.name),
      h('span', { class: ['badge', badge], testid: `sitting-phase-${sitting.id}`, dataset: { phase }, i18n: `console.phase.${phase}` }),
      h('span', { class: 'sitting-clock', testid: `sitting-clock-${sitting.id}` }, sittingClockText(sitting))),
    h('p', { class: 'muted small' },
      `${sitting.id} · `, h('span', { i18n: 'console.scheduledStart' }), ` ${formatDateTime(sitting.scheduledStart)} · `,
      h('span', { i18n: 'console.duration' }), ' ', h('span', { i18n: 'common.minutes', params: { n: sitting.durationMinutes } }),
      sitting.startedAt ? [' · ', h('span', { i18n: 'console.startedAt', params: { time: formatDateTime(sitting.startedAt), by: sitting.startedBy || '—' } })] : null),
    h('p', { class: 'sitting-counts', testid: `sitting-counts-${sitting.id}`, i18n: 'console.counts', params: { loggedIn: sitting.loggedIn, submitted: sitting.submitted, candidates: sitting.candidates } }),
    admin && phase === 'waiting' ? h('div', { class: 'row' }, h('button', {
      type: 'button', class: 'btn', testid: `start-${sitting.id}`, i18n: 'console.startAll', on: { click: () => startAll(sitting) },
    })) : null,
    h('div', { class: 'room-cards' }, sitting.rooms.map((room) => h('a', {
      class: 'room-card', href: `#room/${encodeURIComponent(sitting.id)}/${encodeURIComponent(room.id)}`, testid: `open-room-${sitting.id}-${room.id}`,
    },
    h('span', { class: 'room-card-name' }, room.name,
      room.clock && room.clock.phase ? [' ', h('span', {
        class: ['badge', { waiting: 'badge-warn', running: 'badge-ok', paused: 'badge-danger', over: '' }[room.clock.phase]],
        testid: `room-phase-${sitting.id}-${room.id}`, dataset: { phase: room.clock.phase }, i18n: `console.phase.${room.clock.phase}`,
      })] : null),
    h('span', { class: 'muted small' }, `${room.id} · `, h('span', { i18n: 'console.roomSummary', params: { n: room.candidates, seats: room.seats } })),
    h('span', { class: 'room-card-open', i18n: 'console.openRoom' })))));
}

function startAll(sitting) {
  openDialog({
    testid: 'console-dialog',
    title: h('h2', { i18n: 'console.startAll' }),
    body: h('p', { i18n: 'console.startAllConfirm', params: { name: sitting.name } }),
    confirmKey: 'console.startAll',
    danger: true,
    onConfirm: async () => {
      await session.call(`/api/console/sittings/${encodeURIComponent(sitting.id)}/start`, { method: 'POST' });
      showMessage(tBoth('console.startAllDone'), 'ok', 'console-message');
      await refreshSittings();
    },
  });
}

(async () => {
  try {
    if (await session.verify()) {
      showUser();
      route();
      return;
    }
  } catch (error) {
    const message = h('p', { class: 'notice notice-error' });
    setBilingualText(message, errorTexts(error));
    replaceChildren(app, message);
    setTimeout(() => window.location.reload(), 5000);
    return;
  }
  showLogin();
})();
