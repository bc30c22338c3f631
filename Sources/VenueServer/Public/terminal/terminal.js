/*
 * Kaodian candidate terminal (/terminal/).
 *
 * Screens: login → waiting (countdown from the server clock) → exam (paper, answer sheet, autosave) → submitted.
 * Special screens: moved (the candidate logged in on another terminal), connect error (retrying by itself).
 *
 * Stable data-testid hooks (used by Tests/e2e/test_browser_exam.py; keep them when changing the page):
 *   lang-switch                       language button (中文 / English), on every screen
 *   login-view, login-admission, login-id, login-submit, login-error, login-notice
 *   connect-error                     "cannot reach the server, retrying" screen
 *   waiting-view, candidate-photo, candidate-name, candidate-admission, candidate-seat, candidate-organisation,
 *   sitting-name, instructions, countdown, logout, moved-in-notice
 *   exam-view, paper, paper-title, section-{sectionId}
 *   question-{questionId}             one question (article; data-qid, data-type; class is-flagged when flagged)
 *   qnum-{questionId}, stem-{questionId}, flag-{questionId} (aria-pressed="true|false")
 *   option-{questionId}-{optionId}    radio / checkbox input (true/false questions: option-{id}-true / -false)
 *   option-label-{questionId}-{optionId}  the tappable label around it
 *   blank-{questionId}-{index}        fill-in-the-blank inputs, index from 0
 *   text-{questionId}                 textarea (short answer, essay, thesis text)
 *   calc-value-{questionId}, calc-working-{questionId}, calc-unit-{questionId}
 *   step-{questionId}-{stepId}        flowchart: available step (tap to append)
 *   order-{questionId}                flowchart: the ordered list; order-item-{questionId}-{stepId} (data-step)
 *   order-up-{q}-{step}, order-down-{q}-{step}, order-remove-{q}-{step}, flow-desc-{questionId}
 *   material-{questionId}             case-analysis material
 *   file-{questionId} (the file input; send_keys a path), file-button-{q} (its visible, translated button),
 *   upload-state-{q}, upload-error-{q}, attachment-name-{q}, attachment-link-{q}, attachment-remove-{q}, requirements-{q}
 *   nav-panel, nav-toggle, nav-close, answered-count (data-answered, data-total)
 *   nav-{questionId}                  answer-sheet button (data-state="answered|unanswered", data-flagged="true|false")
 *   remaining-time                    hh:mm:ss from the server clock (its box gets data-warning="true" and turns
 *                                     red in the last 5 minutes)
 *   save-status                       data-state="saved|saving|offline|error", data-pending = unsent changes;
 *                                     save-status-text inside
 *   exam-message / timeup-banner      the notice in the sticky bar (time is up, answers refused)
 *   fullscreen-toggle
 *   submit-open (in the bar), submit-open-bottom (under the paper), submit-dialog,
 *   submit-unanswered (list of .chip buttons labelled with question numbers; each unanswered-{questionId}),
 *   submit-all-answered, submit-flagged (chips flagged-{questionId}), submit-error, submit-progress,
 *   submit-confirm, submit-cancel
 *   submitted-view, submitted-title, submitted-at, submitted-by, readonly-paper
 *   moved-view, moved-unsent, moved-relogin
 *   move-pending-view                 this terminal waits for an invigilator to approve the move here (login answered
 *                                     pendingApproval); login-notice gets data-code="move_rejected" when refused
 *   paused-overlay, paused-remaining, paused-queued   the invigilator paused the room (inputs read-only, clock frozen)
 *   submitted-view has data-submitted-by (candidate | timeUp | invigilator); invigilator: "监考员已收卷"
 *   face checks (facecheck.js): selfcheck-card on the waiting screen while the sitting asks for self check-in and
 *   the candidate is not checked in yet (selfcheck-start, selfcheck-capture, selfcheck-result, selfcheck-tries,
 *   selfcheck-help); recheck-overlay during the exam when a heartbeat says a random re-check is due
 *
 * localStorage: kd.lang, kd.terminalId, kd.candidate ({token, attemptId, sessionKey, admissionNumber, pending?}),
 *   kd.outbox.{attemptId} (unacknowledged answer changes), kd.events.{attemptId} (unsent events),
 *   kd.seq.{attemptId}.{sessionKey} (clientSeq counter, only increases).
 */

import { api, ApiError, errorTexts, loadJSON, saveJSON, removeKey, randomHex } from '../assets/api.js';
import { h, replaceChildren, formatHMS, formatDateTime, languageButton } from '../assets/dom.js';
import { t, tBoth, applyI18n, onLangChange, setBilingualText } from '../assets/i18n.js';
import { ServerClock } from '../assets/clock.js';
import { Outbox } from './outbox.js';
import { renderPaper, isAnswered } from './paper.js';
import { SelfCheckCard, Recheck } from './facecheck.js';

const SESSION_KEY = 'kd.candidate';
const TERMINAL_KEY = 'kd.terminalId';
const TYPING_DEBOUNCE_MS = 700;
const WARNING_MS = 5 * 60 * 1000;

const root = document.getElementById('app');
const clock = new ServerClock();

const state = {
  session: loadJSON(SESSION_KEY, null),
  attempt: null,
  paper: null,
  answers: new Map(), // questionId → {response, flagged}
  widgets: new Map(),
  view: null,
  stopped: false, // moved away or logged out: no more requests
  locked: false, // inputs read-only
  lockReason: null, // 'timeUp' | 'refused'
  heartbeatTimer: null,
  heartbeatOffline: false,
  tickTimer: null,
  typing: new Map(), // questionId → {timer, response}
  answersBox: null,
  eventsBox: null,
  outboxAttempt: null,
  recordersInstalled: false,
  notice: null, // {zh, en} shown on the login form
  movedIn: false,
  ui: {},
  photoURL: null,
  endsAtWhenRefused: null,
  loadingPaper: false,
  selfCheck: null, // the self check-in card on the waiting screen (owns the camera while open)
  recheck: null, // the random re-check overlay of the exam (created when the first one is due)
};

function terminalId() {
  let id = loadJSON(TERMINAL_KEY, null);
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    id = `term-${randomHex(8)}`;
    saveJSON(TERMINAL_KEY, id);
  }
  return id;
}

function newId(prefix) {
  return `${prefix}-${randomHex(12)}`;
}

function saveSession() {
  if (state.session) saveJSON(SESSION_KEY, state.session);
  else removeKey(SESSION_KEY);
}

// MARK: talking to the server

/** An API call with this terminal's token; remembers the server clock; handles moved / ended sessions. */
async function call(path, options = {}) {
  if (state.stopped || !state.session) throw new ApiError({ code: 'stopped', message: 'stopped', messageZh: '已停止' });
  const sentAt = performance.now();
  try {
    const result = await api(path, { ...options, token: state.session.token });
    if (result && result.clock) clock.update(result.clock, sentAt);
    return result;
  } catch (error) {
    if (error.code === 'terminal_moved') showMoved();
    else if (error.code === 'move_rejected') moveRejected(error);
    else if (error.status === 401) sessionEnded();
    throw error;
  }
}

function nextSeq() {
  const key = `kd.seq.${state.session.attemptId}.${state.session.sessionKey}`;
  const value = (Number(loadJSON(key, 0)) || 0) + 1;
  saveJSON(key, value);
  return value;
}

/** Lets go of the current queues (what they hold stays in localStorage for the next login). */
function dropOutboxes() {
  for (const pending of state.typing.values()) clearTimeout(pending.timer);
  state.typing.clear();
  if (state.answersBox) state.answersBox.detach();
  if (state.eventsBox) state.eventsBox.detach();
  state.answersBox = null;
  state.eventsBox = null;
  state.outboxAttempt = null;
}

function setupOutboxes() {
  const attemptId = state.session.attemptId;
  if (state.outboxAttempt === attemptId && state.answersBox) return;
  dropOutboxes();
  state.outboxAttempt = attemptId;
  state.answersBox = new Outbox({
    storageKey: `kd.outbox.${attemptId}`,
    idField: 'changeId',
    sameSlot: (a, b) => a.questionId === b.questionId && a.kind === b.kind,
    send: (changes) => call('/api/attempt/answers', { method: 'POST', body: { changes } }),
  });
  state.eventsBox = new Outbox({
    storageKey: `kd.events.${attemptId}`,
    idField: 'eventId',
    firstDelayMs: 1000,
    send: (events) => call('/api/attempt/events', { method: 'POST', body: { events } }),
  });
  state.answersBox.onChange(onAnswersBoxChange);
}

function onAnswersBoxChange(box) {
  if (box.paused && state.view === 'exam' && state.lockReason !== 'paused' && !state.locked) {
    // The server refused a change because the room is paused: find out the clock now.
    scheduleHeartbeat(200);
  }
  const stop = box.stopped;
  if (stop && (stop.code === 'time_is_up' || stop.code === 'attempt_submitted') && state.view === 'exam' && state.lockReason !== 'refused') {
    state.endsAtWhenRefused = clock.endsAt;
    lockInputs('refused');
    showExamMessage(tBoth('term.save.locked'));
    scheduleHeartbeat(500);
  }
  renderSaveStatus();
}

// MARK: recording page events

function record(kind, detail) {
  if (!state.session || state.stopped || !state.eventsBox || ['submitted', 'login', 'pending'].includes(state.view)) return;
  const event = { eventId: newId('e'), kind, clientTime: Date.now() };
  if (detail) event.detail = String(detail).slice(0, 200);
  if (state.eventsBox.count > 2000) return; // something is very wrong; do not fill the browser's storage
  state.eventsBox.add(event);
}

function installRecorders() {
  if (state.recordersInstalled) return;
  state.recordersInstalled = true;
  window.addEventListener('blur', () => record('blur'));
  window.addEventListener('focus', () => record('focus'));
  document.addEventListener('visibilitychange', () => {
    record(document.visibilityState === 'hidden' ? 'visibilityHidden' : 'visibilityVisible');
    if (document.visibilityState === 'hidden') flushTyping();
  });
  document.addEventListener('fullscreenchange', () => {
    record(document.fullscreenElement ? 'fullscreenEnter' : 'fullscreenExit');
    updateFullscreenButtons();
  });
  document.addEventListener('copy', () => record('copy'));
  document.addEventListener('paste', () => record('paste'));
  document.addEventListener('cut', () => record('cut'));
  document.addEventListener('contextmenu', () => record('contextMenu'));
  window.addEventListener('beforeunload', () => {
    flushTyping();
    record('pageLeave');
  });
  window.addEventListener('pagehide', () => flushTyping());
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && document.body.classList.contains('drawer-open')) setDrawer(false);
  });
  window.addEventListener('online', () => {
    record('online');
    kickAll();
    scheduleHeartbeat(200);
  });
  window.addEventListener('offline', () => {
    record('offline');
    renderSaveStatus();
  });
}

function kickAll() {
  if (state.stopped) return;
  if (state.answersBox && !state.answersBox.stopped) state.answersBox.kick();
  if (state.eventsBox && !state.eventsBox.stopped) state.eventsBox.kick();
}

// MARK: answers

function answerOf(questionId) {
  if (!state.answers.has(questionId)) state.answers.set(questionId, { response: null, flagged: false });
  return state.answers.get(questionId);
}

function queueAnswer(questionId, response) {
  state.answersBox.add({
    changeId: newId('c'), questionId, kind: 'answer', response: response ?? null, clientSeq: nextSeq(), clientTime: Date.now(),
  });
}

function onAnswer(questionId, response, { typing }) {
  if (state.locked || state.stopped) return;
  answerOf(questionId).response = response;
  updateNavButton(questionId);
  updateAnsweredCount();
  const pending = state.typing.get(questionId);
  if (pending) clearTimeout(pending.timer);
  if (typing) {
    const timer = setTimeout(() => commitTyping(questionId), TYPING_DEBOUNCE_MS);
    state.typing.set(questionId, { timer, response });
    renderSaveStatus();
  } else {
    state.typing.delete(questionId);
    queueAnswer(questionId, response);
  }
}

function commitTyping(questionId) {
  const pending = state.typing.get(questionId);
  if (!pending) return;
  clearTimeout(pending.timer);
  state.typing.delete(questionId);
  if (state.stopped || !state.answersBox) return;
  queueAnswer(questionId, pending.response);
}

/** Puts every half-typed answer into the queue now (before leaving, submitting, at time-up). */
function flushTyping() {
  for (const questionId of [...state.typing.keys()]) commitTyping(questionId);
}

function onFlag(questionId, flagged) {
  if (state.locked || state.stopped) return;
  answerOf(questionId).flagged = flagged;
  const widget = state.widgets.get(questionId);
  if (widget) widget.setFlag(flagged);
  updateNavButton(questionId);
  state.answersBox.add({ changeId: newId('c'), questionId, kind: 'flag', flagged, clientSeq: nextSeq(), clientTime: Date.now() });
}

function onUpload(questionId, file) {
  const query = `questionId=${encodeURIComponent(questionId)}&name=${encodeURIComponent(file.name)}`;
  return call(`/api/attempt/attachments?${query}`, { method: 'POST', raw: file, timeoutMs: 180000 });
}

// MARK: heartbeat and the clock

function heartbeatInterval() {
  if (state.view === 'pending') return 3000;
  if (state.view === 'waiting') {
    const until = clock.untilStart();
    return until !== null && until < 3000 ? 1500 : 5000;
  }
  if (state.view === 'exam') {
    if (state.locked) return 2000;
    const remaining = clock.remaining();
    return remaining !== null && remaining < 15000 ? 2000 : 10000;
  }
  return 10000;
}

function scheduleHeartbeat(ms) {
  clearTimeout(state.heartbeatTimer);
  if (state.stopped || state.view === 'submitted' || state.view === 'login') return;
  state.heartbeatTimer = setTimeout(heartbeat, ms ?? heartbeatInterval());
}

async function heartbeat() {
  if (state.stopped || !state.session) return;
  try {
    const result = await call('/api/attempt/heartbeat', { method: 'POST' });
    const wasOffline = state.heartbeatOffline;
    state.heartbeatOffline = false;
    if (wasOffline || (state.answersBox && state.answersBox.failures > 0)) kickAll();
    if (state.eventsBox && state.eventsBox.count > 0 && state.eventsBox.failures > 0) state.eventsBox.kick();
    await onServerState(result.status);
    if (result.faceCheckDue) startRecheck();
  } catch (error) {
    if (error.retryable) state.heartbeatOffline = true;
  }
  renderSaveStatus();
  scheduleHeartbeat();
}

/** Reacts to what the server says about the attempt and its clock. */
async function onServerState(status) {
  if (state.stopped) return;
  if (state.view === 'pending') {
    if (status !== 'movePending') await moveApproved();
    return;
  }
  if (status === 'submitted') {
    await refreshAttemptAndShowSubmitted();
    return;
  }
  if (state.view === 'waiting' && needsSelfCheck()) {
    // Checked in at the desk meanwhile? The attempt says so.
    await refreshFace();
    if (needsSelfCheck() || state.view !== 'waiting') return;
  }
  if (state.view === 'waiting' && clock.phase !== 'waiting') {
    await enterExam();
    return;
  }
  if (state.view === 'exam' && state.lockReason === 'refused' && clock.phase === 'running' && clock.endsAt && state.endsAtWhenRefused !== null
    && clock.endsAt > state.endsAtWhenRefused && clock.remaining() > 1000) {
    // The invigilator extended the time after the server had refused a change: carry on.
    state.endsAtWhenRefused = null;
    unlockInputs();
    showExamMessage(null);
    state.answersBox.resume();
  }
  syncPause();
}

/** Follows the room's pause: an overlay, read-only inputs and a frozen clock while paused; on again after. */
function syncPause() {
  if (state.view !== 'exam') return;
  if (clock.phase === 'paused' && state.lockReason !== 'paused') enterPause();
  else if (clock.phase !== 'paused' && state.lockReason === 'paused') leavePause();
  if (state.lockReason === 'paused') updatePauseOverlay();
}

function enterPause() {
  if (state.locked && state.lockReason !== 'paused') return; // time-up comes first
  flushTyping(); // what was being typed is queued now and sent when the exam continues
  lockInputs('paused');
  const open = document.querySelector('dialog[open]');
  if (open) open.close();
  if (state.ui.pauseOverlay) state.ui.pauseOverlay.hidden = false;
  document.body.classList.add('is-paused');
  updatePauseOverlay();
  renderSaveStatus();
  scheduleHeartbeat(2000);
}

function leavePause() {
  unlockInputs();
  if (state.ui.pauseOverlay) state.ui.pauseOverlay.hidden = true;
  document.body.classList.remove('is-paused');
  if (state.answersBox) state.answersBox.unpause();
  renderSaveStatus();
  scheduleHeartbeat();
}

function updatePauseOverlay() {
  const ui = state.ui;
  if (!ui.pausedRemaining) return;
  const remaining = clock.remaining();
  ui.pausedRemaining.textContent = remaining === null ? '--:--:--' : formatHMS(remaining);
  const queued = (state.answersBox ? state.answersBox.count : 0) + state.typing.size;
  ui.pausedQueued.hidden = queued === 0;
  ui.pausedQueued.dataset.n = String(queued);
  ui.pausedQueued.dataset.i18n = 'term.pausedQueued';
  ui.pausedQueued.dataset.i18nParams = JSON.stringify({ n: queued });
  ui.pausedQueued.textContent = t('term.pausedQueued', { n: queued });
}

function tick() {
  if (state.view === 'waiting') {
    const until = clock.untilStart();
    const el = state.ui.countdown;
    if (el) {
      if (until === null) el.textContent = '--:--:--';
      else if (until > 0) el.textContent = formatHMS(until);
      else el.textContent = '00:00:00';
      if (state.ui.countdownHint) {
        let key = until !== null && until <= 0 ? 'term.startingSoon' : 'term.waitingHint';
        if (key === 'term.startingSoon' && needsSelfCheck()) key = 'term.selfCheck.needed';
        if (state.ui.countdownHint.dataset.i18n !== key) {
          state.ui.countdownHint.dataset.i18n = key;
          state.ui.countdownHint.textContent = t(key);
        }
      }
    }
    if (until !== null && until <= 0 && !state.startPoked) {
      state.startPoked = true;
      scheduleHeartbeat(0);
    }
  } else if (state.view === 'exam') {
    syncPause();
    const remaining = clock.remaining();
    const el = state.ui.timer;
    if (el) {
      el.textContent = remaining === null ? '--:--:--' : formatHMS(remaining);
      const warning = remaining !== null && remaining <= WARNING_MS;
      state.ui.timerBox.dataset.warning = warning ? 'true' : 'false';
      el.dataset.warning = warning ? 'true' : 'false';
      state.ui.timerBox.classList.toggle('is-warning', warning);
    }
    if (remaining !== null && remaining <= 0 && !state.locked) timeUp();
    if (state.lockReason === 'timeUp' && remaining !== null && remaining > 1000 && clock.phase === 'running') {
      unlockInputs(); // extended
      showExamMessage(null);
    }
  }
}

function startTick() {
  if (state.tickTimer) return;
  state.tickTimer = setInterval(tick, 250);
}

function stopTimers() {
  clearTimeout(state.heartbeatTimer);
  state.heartbeatTimer = null;
  clearInterval(state.tickTimer);
  state.tickTimer = null;
}

function timeUp() {
  flushTyping();
  lockInputs('timeUp');
  showExamMessage(tBoth('term.timeUpText'));
  if (state.answersBox) state.answersBox.kick();
  scheduleHeartbeat(1000);
}

function lockInputs(reason) {
  state.locked = true;
  state.lockReason = reason;
  state.widgets.forEach((widget) => widget.setDisabled(true));
  if (state.ui.submitButton) state.ui.submitButton.disabled = true;
}

function unlockInputs() {
  state.locked = false;
  state.lockReason = null;
  state.widgets.forEach((widget) => widget.setDisabled(false));
  if (state.ui.submitButton) state.ui.submitButton.disabled = false;
}

// MARK: screens

function topbar(...extra) {
  return h('header', { class: 'topbar' },
    h('p', { class: 'topbar-title', i18n: 'term.title' }),
    extra,
    languageButton());
}

function fullscreenButton(extraClass) {
  if (!document.fullscreenEnabled) return null;
  const button = h('button', {
    type: 'button', class: ['btn btn-ghost fullscreen-toggle', extraClass], testid: 'fullscreen-toggle',
    i18n: document.fullscreenElement ? 'term.exitFullscreen' : 'term.fullscreen',
    on: {
      click: () => {
        if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
        else document.documentElement.requestFullscreen().catch(() => {});
      },
    },
  });
  return button;
}

function updateFullscreenButtons() {
  document.querySelectorAll('.fullscreen-toggle').forEach((button) => {
    button.dataset.i18n = document.fullscreenElement ? 'term.exitFullscreen' : 'term.fullscreen';
    button.textContent = t(button.dataset.i18n);
  });
}

function show(view, ...children) {
  if (view !== 'waiting') closeSelfCheck();
  if (view !== 'exam' && state.recheck) state.recheck.cancel();
  state.view = view;
  state.ui = {};
  replaceChildren(root, ...children);
  root.dataset.view = view;
  window.scrollTo(0, 0);
}

function showLogin() {
  stopTimers();
  state.view = 'login';
  const admission = h('input', {
    id: 'login-admission', class: 'input', name: 'admissionNumber', autocomplete: 'off', autocapitalize: 'characters', spellcheck: false,
    testid: 'login-admission', i18nPlaceholder: 'term.admissionPlaceholder', maxLength: 64, required: true,
  });
  const idNumber = h('input', {
    id: 'login-id', class: 'input', name: 'idNumber', autocomplete: 'off', autocapitalize: 'characters', testid: 'login-id',
    i18nPlaceholder: 'term.idPlaceholder', maxLength: 32, required: true,
  });
  const error = h('p', { class: 'form-error', role: 'alert', testid: 'login-error', hidden: true });
  const notice = h('p', { class: 'notice notice-warn', testid: 'login-notice', hidden: !state.notice, dataset: { code: state.noticeCode || '' } });
  if (state.notice) setBilingualText(notice, state.notice);
  const button = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'login-submit', i18n: 'common.login' });
  const form = h('form', { class: 'card login-card', novalidate: true },
    h('h1', { class: 'card-title', i18n: 'term.loginTitle' }),
    h('p', { class: 'muted', i18n: 'term.loginHint' }),
    notice,
    h('label', { class: 'field', for: 'login-admission' }, h('span', { class: 'field-label', i18n: 'term.admission' }), admission),
    h('label', { class: 'field', for: 'login-id' }, h('span', { class: 'field-label', i18n: 'term.idNumber' }), idNumber),
    error,
    button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const admissionNumber = admission.value.trim();
    const id = idNumber.value.trim();
    if (!admissionNumber || !id) {
      error.hidden = false;
      setBilingualText(error, tBoth('error.required'));
      (admissionNumber ? idNumber : admission).focus();
      return;
    }
    button.disabled = true;
    button.dataset.i18n = 'common.loggingIn';
    button.textContent = t('common.loggingIn');
    try {
      await login(admissionNumber, id);
    } catch (err) {
      error.hidden = false;
      setBilingualText(error, errorTexts(err));
      button.disabled = false;
      button.dataset.i18n = 'common.login';
      button.textContent = t('common.login');
    }
  });
  show('login', h('div', { class: 'login-screen', testid: 'login-view' }, topbar(), h('main', { class: 'page-narrow' }, form)));
  state.view = 'login';
  admission.focus();
}

async function login(admissionNumber, idNumber) {
  const result = await api('/api/candidate/login', {
    method: 'POST', body: { admissionNumber, idNumber, terminalId: terminalId() },
  });
  state.session = {
    token: result.token, attemptId: result.attemptId, sessionKey: randomHex(6), admissionNumber, pending: Boolean(result.pendingApproval),
  };
  saveSession();
  state.stopped = false;
  state.notice = null;
  state.noticeCode = null;
  state.movedIn = Boolean(result.movedFromAnotherTerminal);
  dropOutboxes(); // new session: fresh queues bound to the new token
  if (result.pendingApproval) {
    // The attempt is active on another terminal: an invigilator must approve continuing here.
    await showPending();
    return;
  }
  setupOutboxes();
  if (result.movedFromAnotherTerminal) {
    // The attempt was active on another terminal: anything this browser still holds is older than what was saved
    // there, so the server's answers win.
    state.answersBox.clear();
  } else if (state.answersBox.count > 0) {
    // Same terminal, new session: keep the unsent changes (same changeIds) but number them in the new session.
    state.answersBox.replaceAll(state.answersBox.items.map((item) => ({ ...item, clientSeq: nextSeq() })));
  }
  await start();
}

async function logout() {
  const token = state.session && state.session.token;
  stopTimers();
  state.stopped = true;
  state.session = null;
  saveSession();
  if (token) {
    try {
      await api('/api/session/logout', { method: 'POST', token });
    } catch {
      /* the session ends on the server by itself */
    }
  }
  state.stopped = false;
  dropOutboxes();
  showLogin();
}

function sessionEnded() {
  if (state.stopped) return;
  state.stopped = true;
  stopTimers();
  flushTypingIntoStorageOnly();
  state.session = null;
  saveSession();
  state.notice = tBoth('term.sessionEnded');
  state.noticeCode = 'session_ended';
  state.stopped = false;
  dropOutboxes();
  showLogin();
}

/** Keeps half-typed answers in the queue's storage even though nothing can be sent now. */
function flushTypingIntoStorageOnly() {
  if (!state.answersBox) return;
  for (const [questionId, pending] of state.typing) {
    clearTimeout(pending.timer);
    state.answersBox.items.push({
      changeId: newId('c'), questionId, kind: 'answer', response: pending.response ?? null, clientSeq: nextSeq(), clientTime: Date.now(), sent: false,
    });
  }
  state.typing.clear();
  state.answersBox.persist();
  state.answersBox.stop({ code: 'session_ended' });
}

function showMoved() {
  if (state.view === 'moved') return;
  state.stopped = true;
  stopTimers();
  for (const pending of state.typing.values()) clearTimeout(pending.timer);
  const unsent = (state.answersBox ? state.answersBox.count : 0) + state.typing.size;
  state.typing.clear();
  if (state.answersBox) state.answersBox.stop({ code: 'terminal_moved' });
  if (state.eventsBox) state.eventsBox.stop({ code: 'terminal_moved' });
  try {
    const dialog = document.querySelector('dialog[open]');
    if (dialog) dialog.close();
  } catch {
    /* no dialog */
  }
  const relogin = h('button', {
    type: 'button', class: 'btn btn-primary', testid: 'moved-relogin', i18n: 'term.movedRelogin',
    on: {
      click: () => {
        state.session = null;
        saveSession();
        state.stopped = false;
        dropOutboxes();
        showLogin();
      },
    },
  });
  show('moved', h('div', { class: 'moved-screen', testid: 'moved-view', role: 'alertdialog', 'aria-labelledby': 'moved-title' },
    h('div', { class: 'moved-box' },
      h('div', { class: 'moved-icon', 'aria-hidden': 'true' }, '!'),
      h('h1', { id: 'moved-title', i18n: 'term.movedTitle' }),
      h('p', { i18n: 'term.movedText' }),
      unsent > 0 ? h('p', { class: 'notice notice-warn', testid: 'moved-unsent', i18n: 'term.movedUnsent', params: { n: unsent } }) : null,
      h('div', { class: 'row moved-actions' }, relogin, languageButton()))));
}

/** This terminal waits until an invigilator approves the move here (or rejects it). */
async function showPending() {
  stopTimers();
  dropOutboxes();
  const info = h('dl', { class: 'kv pending-kv' });
  show('pending', h('div', { class: 'pending-screen', testid: 'move-pending-view' },
    topbar(),
    h('main', { class: 'page-narrow' },
      h('section', { class: 'card pending-card', role: 'alert' },
        h('div', { class: 'pending-icon', 'aria-hidden': 'true' }, '⇄'),
        h('h1', { i18n: 'term.pendingTitle' }),
        h('p', { i18n: 'term.pendingText' }),
        info,
        h('p', { class: 'muted pending-waiting', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', { i18n: 'term.pendingWaiting' })),
        h('button', { type: 'button', class: 'btn btn-ghost', testid: 'logout', i18n: 'term.notMe', on: { click: logout } })))));
  scheduleHeartbeat(1000);
  try {
    const attempt = await call('/api/attempt');
    if (state.view !== 'pending') return;
    state.attempt = attempt;
    replaceChildren(info,
      h('dt', { i18n: 'term.name' }), h('dd', { testid: 'candidate-name' }, attempt.candidate.name),
      h('dt', { i18n: 'term.admission' }), h('dd', { class: 'mono' }, attempt.candidate.admissionNumber),
      h('dt', { i18n: 'term.seat' }), h('dd', { i18n: 'term.seatValue', params: { room: attempt.seat.roomName, seat: attempt.seat.seat } }));
  } catch {
    /* the heartbeat keeps trying */
  }
}

/** The invigilator approved: this terminal continues with the server's answers (the old one is locked out). */
async function moveApproved() {
  if (!state.session) return;
  state.session.pending = false;
  saveSession();
  state.movedIn = true;
  setupOutboxes();
  // Whatever this browser still holds for the attempt is older than what the other terminal saved.
  state.answersBox.clear();
  await start();
}

/** The invigilator refused the move: back to the login form, saying so. */
function moveRejected(error) {
  if (state.view === 'login') return;
  stopTimers();
  state.session = null;
  saveSession();
  dropOutboxes();
  state.notice = errorTexts(error);
  state.noticeCode = 'move_rejected';
  showLogin();
}

function showConnectError(error, retry) {
  stopTimers();
  const message = h('p', { class: 'notice notice-error' });
  setBilingualText(message, errorTexts(error));
  show('connect', h('div', { testid: 'connect-error' }, topbar(),
    h('main', { class: 'page-narrow' }, h('div', { class: 'card' }, message,
      h('p', { class: 'muted', i18n: 'term.retrying' }),
      h('button', { type: 'button', class: 'btn btn-primary', i18n: 'common.refresh', on: { click: retry } })))));
  state.view = 'connect';
  setTimeout(() => {
    if (state.view === 'connect') retry();
  }, 3000);
}

function showLoading() {
  show('loading', h('div', { class: 'loading-screen' }, topbar(), h('main', { class: 'page-narrow' }, h('p', { class: 'muted', i18n: 'common.loading' }))));
}

/** After login or reload: find out where the attempt stands and show the right screen. */
async function start() {
  if (!state.session) {
    showLogin();
    return;
  }
  if (state.session.pending) {
    await showPending();
    return;
  }
  setupOutboxes();
  if (state.view !== 'waiting' && state.view !== 'exam') showLoading();
  let attempt;
  try {
    attempt = await call('/api/attempt');
  } catch (error) {
    if (state.view === 'moved' || state.view === 'login') return;
    showConnectError(error, start);
    return;
  }
  state.attempt = attempt;
  installRecorders();
  startTick();
  if (state.eventsBox.count > 0) state.eventsBox.kick();
  if (attempt.status === 'submitted') {
    await enterSubmitted(attempt);
    return;
  }
  if (attempt.clock.phase === 'waiting' || needsSelfCheck()) {
    enterWaiting();
    return;
  }
  await enterExam();
}

function candidateCard(attempt) {
  const photo = h('img', { class: 'candidate-photo', testid: 'candidate-photo', i18nAlt: 'term.photoAlt', width: 150, height: 180 });
  loadPhoto(photo);
  const c = attempt.candidate;
  const s = attempt.seat;
  return h('section', { class: 'card candidate-card' },
    photo,
    h('dl', { class: 'kv candidate-kv' },
      h('dt', { i18n: 'term.name' }), h('dd', { class: 'candidate-name', testid: 'candidate-name' }, c.name),
      h('dt', { i18n: 'term.admission' }), h('dd', { class: 'mono', testid: 'candidate-admission' }, c.admissionNumber),
      h('dt', { i18n: 'term.idMasked' }), h('dd', { class: 'mono' }, c.idNumberMasked),
      c.organisation ? [h('dt', { i18n: 'term.organisation' }), h('dd', { testid: 'candidate-organisation' }, c.organisation)] : null,
      h('dt', { i18n: 'term.seat' }), h('dd', { class: 'seat-value', testid: 'candidate-seat', i18n: 'term.seatValue', params: { room: s.roomName, seat: s.seat } })));
}

async function loadPhoto(img) {
  try {
    const response = await fetch('/api/attempt/photo', {
      headers: { Authorization: `Bearer ${state.session.token}` }, cache: 'no-store',
    });
    if (!response.ok) throw new Error(String(response.status));
    const blob = await response.blob();
    if (state.photoURL) URL.revokeObjectURL(state.photoURL);
    state.photoURL = URL.createObjectURL(blob);
    img.src = state.photoURL;
  } catch {
    img.classList.add('photo-missing');
  }
}

// MARK: face checks

/** True while the sitting asks for a face check-in on this terminal and the candidate is not checked in yet. */
function needsSelfCheck() {
  const face = state.attempt && state.attempt.face;
  return Boolean(face && face.selfCheckIn && !face.checkedIn);
}

/** Asks the venue where the check-in stands (the invigilator may have checked the candidate in at the desk). */
async function refreshFace() {
  try {
    const attempt = await call('/api/attempt');
    state.attempt = attempt;
  } catch {
    return; // the heartbeat keeps trying
  }
  if (!needsSelfCheck() && state.selfCheck && !state.selfCheck.finished) state.selfCheck.done({ byDesk: true });
}

/** The card says the candidate is checked in: start the exam when it is running. */
function selfCheckedIn() {
  if (state.attempt && state.attempt.face) state.attempt.face.checkedIn = true;
  tick();
  if (state.view !== 'waiting') return;
  // A moment to read "passed", then the paper (or the countdown goes on until the start).
  setTimeout(() => {
    if (state.view === 'waiting' && clock.phase !== 'waiting' && !state.stopped) enterExam();
  }, 1200);
}

function closeSelfCheck() {
  if (state.selfCheck) state.selfCheck.stop();
  state.selfCheck = null;
}

/** A random re-check is due: one picture, in a small overlay that leaves the paper usable. */
function startRecheck() {
  if (state.view !== 'exam' || state.stopped || state.locked) return;
  if (!state.recheck) state.recheck = new Recheck({ call });
  state.recheck.run();
}

function enterWaiting() {
  closeSelfCheck();
  const attempt = state.attempt;
  const sitting = attempt.sitting;
  if (needsSelfCheck()) {
    state.selfCheck = new SelfCheckCard({
      call, face: attempt.face, onCheckedIn: selfCheckedIn, onNotDue: () => { refreshFace(); },
    });
  }
  const countdown = h('p', { class: 'countdown', testid: 'countdown', 'aria-live': 'off' }, '--:--:--');
  const hint = h('p', { class: 'muted', i18n: 'term.waitingHint' });
  show('waiting', h('div', { class: 'waiting-screen', testid: 'waiting-view' },
    topbar(fullscreenButton()),
    h('main', { class: 'page' },
      state.movedIn ? h('p', { class: 'notice notice-ok', testid: 'moved-in-notice', i18n: 'term.movedIn' }) : null,
      state.selfCheck ? state.selfCheck.el : null,
      h('div', { class: 'waiting-grid' },
        candidateCard(attempt),
        h('section', { class: 'card countdown-card' },
          h('h2', { i18n: 'term.waitingTitle' }),
          h('p', { class: 'sitting-name', testid: 'sitting-name' }, sitting.name),
          h('p', { class: 'muted', i18n: 'term.startsIn' }),
          countdown,
          hint,
          h('dl', { class: 'kv' },
            sitting.occupation ? [h('dt', { i18n: 'term.occupation' }), h('dd', {}, [sitting.occupation, sitting.level].filter(Boolean).join(' / '))] : null,
            h('dt', { i18n: 'term.duration' }), h('dd', { i18n: 'common.minutes', params: { n: sitting.durationMinutes } }),
            h('dt', { i18n: 'term.scheduledStart' }), h('dd', {}, formatDateTime(sitting.scheduledStart))))),
      h('section', { class: 'card instructions-card' },
        h('h2', { i18n: 'term.instructions' }),
        h('div', { class: 'instructions pre-wrap', testid: 'instructions' }, sitting.instructions)),
      h('p', {}, h('button', { type: 'button', class: 'btn btn-ghost', testid: 'logout', i18n: 'term.notMe', on: { click: logout } })))));
  state.ui.countdown = countdown;
  state.ui.countdownHint = hint;
  state.startPoked = false;
  tick();
  scheduleHeartbeat(5000);
}

async function enterExam() {
  if (state.loadingPaper) return;
  state.loadingPaper = true;
  let result;
  try {
    result = await call('/api/attempt/paper');
  } catch (error) {
    state.loadingPaper = false;
    if (state.view === 'moved' || state.view === 'login') return;
    if (error.code === 'sitting_not_started') {
      if (state.view !== 'waiting') enterWaiting();
      else scheduleHeartbeat(1500);
      return;
    }
    if (error.code === 'face_check_in_required') {
      // The sitting asks for a face check-in first: the waiting screen with its card, not an error.
      await refreshFace();
      if (state.attempt) state.attempt.face = { selfCheckIn: true, ...(state.attempt.face || {}), checkedIn: false };
      if (state.view !== 'waiting' || !state.selfCheck || state.selfCheck.finished) enterWaiting();
      else scheduleHeartbeat(5000);
      return;
    }
    if (state.view === 'waiting') {
      state.heartbeatOffline = error.retryable;
      scheduleHeartbeat(2000);
      return;
    }
    showConnectError(error, start);
    return;
  }
  state.loadingPaper = false;
  state.paper = result.paper;
  state.answers = new Map();
  for (const saved of result.answers || []) {
    state.answers.set(saved.questionId, { response: saved.response ?? null, flagged: Boolean(saved.flagged) });
  }
  // Changes this terminal made that the server has not acknowledged yet go on top of the server's answers.
  for (const change of state.answersBox.items) {
    const answer = answerOf(change.questionId);
    if (change.kind === 'flag') answer.flagged = Boolean(change.flagged);
    else answer.response = change.response ?? null;
  }
  if (result.status === 'submitted') {
    await refreshAttemptAndShowSubmitted();
    return;
  }
  renderExam();
  state.answersBox.kick();
  scheduleHeartbeat();
}

function renderExam() {
  const paper = state.paper;
  const { el: paperEl, widgets } = renderPaper(paper, { onAnswer, onFlag, onUpload });
  state.widgets = widgets;
  state.locked = false;
  state.lockReason = null;
  for (const [questionId, widget] of widgets) {
    const answer = answerOf(questionId);
    widget.setResponse(answer.response);
    widget.setFlag(answer.flagged);
  }

  const attempt = state.attempt;
  const timer = h('span', { class: 'timer-value', testid: 'remaining-time' }, '--:--:--');
  const timerBox = h('div', { class: 'timer', dataset: { warning: 'false' } }, h('span', { class: 'timer-label', i18n: 'term.remaining' }), timer);
  const saveText = h('span', { class: 'save-text', testid: 'save-status-text' });
  const saveStatus = h('div', { class: 'save-status', testid: 'save-status', role: 'status', 'aria-live': 'polite', dataset: { state: 'saved' } },
    h('span', { class: 'save-dot', 'aria-hidden': 'true' }), saveText);
  const submitButton = h('button', { type: 'button', class: 'btn btn-primary submit-open', testid: 'submit-open', i18n: 'term.submit', on: { click: openSubmitDialog } });
  const navToggle = h('button', {
    type: 'button', class: 'btn btn-ghost nav-toggle', testid: 'nav-toggle', 'aria-controls': 'nav-panel', 'aria-expanded': 'false',
  }, h('span', { class: 'burger', 'aria-hidden': 'true' }), h('span', { i18n: 'term.navToggle' }),
  h('span', { class: 'toggle-count', testid: 'nav-toggle-count' }));

  const navGrid = h('div', { class: 'nav-grid' });
  const navButtons = new Map();
  for (const questionId of paper.answerOrder) {
    const widget = widgets.get(questionId);
    if (!widget) continue;
    const button = h('button', {
      type: 'button', class: 'nav-btn', testid: `nav-${questionId}`, dataset: { qid: questionId, state: 'unanswered', flagged: 'false' },
      on: { click: () => jumpTo(questionId) },
    }, widget.number);
    navButtons.set(questionId, button);
    navGrid.appendChild(button);
  }
  const answeredCount = h('p', { class: 'answered-count', testid: 'answered-count' });
  const navPanel = h('aside', { class: 'nav-panel', id: 'nav-panel', testid: 'nav-panel', 'aria-label': t('term.nav') },
    h('div', { class: 'nav-head' },
      h('h2', { class: 'nav-title', i18n: 'term.nav' }),
      h('button', { type: 'button', class: 'btn btn-small nav-close', testid: 'nav-close', i18nAria: 'common.close', on: { click: () => setDrawer(false) } }, '×')),
    answeredCount,
    navGrid,
    h('ul', { class: 'legend' },
      h('li', {}, h('span', { class: 'legend-swatch nav-btn', dataset: { state: 'answered' } }), h('span', { i18n: 'term.legendAnswered' })),
      h('li', {}, h('span', { class: 'legend-swatch nav-btn', dataset: { state: 'unanswered' } }), h('span', { i18n: 'term.legendUnanswered' })),
      h('li', {}, h('span', { class: 'legend-swatch nav-btn', dataset: { state: 'unanswered', flagged: 'true' } }), h('span', { i18n: 'term.legendFlagged' })),
      h('li', {}, h('span', { class: 'legend-swatch nav-btn is-current', dataset: { state: 'unanswered' } }), h('span', { i18n: 'term.legendCurrent' }))));
  const backdrop = h('div', { class: 'nav-backdrop', on: { click: () => setDrawer(false) } });
  navToggle.addEventListener('click', () => setDrawer(!document.body.classList.contains('drawer-open')));

  const pausedRemaining = h('p', { class: 'paused-remaining', testid: 'paused-remaining' }, '--:--:--');
  const pausedQueued = h('p', { class: 'notice notice-warn', testid: 'paused-queued', hidden: true });
  const pauseOverlay = h('div', {
    class: 'paused-overlay', testid: 'paused-overlay', role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': 'paused-title', hidden: true,
  }, h('div', { class: 'paused-box' },
    h('div', { class: 'paused-icon', 'aria-hidden': 'true' }, h('span', {}), h('span', {})),
    h('h1', { id: 'paused-title', i18n: 'term.pausedTitle' }),
    h('p', { i18n: 'term.pausedText' }),
    h('p', { class: 'muted paused-label', i18n: 'term.pausedRemaining' }),
    pausedRemaining,
    pausedQueued,
    languageButton()));

  // Shown inside the sticky bar, so it stays in sight wherever the candidate has scrolled to.
  const message = h('p', { class: 'exam-message', testid: 'exam-message', role: 'alert', hidden: true });
  const who = h('div', { class: 'bar-who' },
    h('span', { class: 'bar-name' }, attempt.candidate.name),
    h('span', { class: 'bar-seat', i18n: 'term.seatValue', params: { room: attempt.seat.roomName, seat: attempt.seat.seat } }));

  show('exam', h('div', { class: 'exam-screen', testid: 'exam-view' },
    h('header', { class: 'exam-bar' },
      navToggle, who, timerBox, saveStatus,
      h('div', { class: 'bar-actions' }, fullscreenButton('bar-fullscreen'), languageButton(), submitButton),
      message),
    h('div', { class: 'exam-layout' },
      navPanel, backdrop,
      h('main', { class: 'paper-wrap' },
        state.movedIn ? h('p', { class: 'notice notice-ok', testid: 'moved-in-notice', i18n: 'term.movedIn' }) : null,
        paperEl,
        h('div', { class: 'paper-end' }, h('button', { type: 'button', class: 'btn btn-primary', testid: 'submit-open-bottom', i18n: 'term.submit', on: { click: openSubmitDialog } })))),
    pauseOverlay));
  document.body.classList.remove('is-paused');
  Object.assign(state.ui, { timer, timerBox, saveStatus, saveText, submitButton, navButtons, answeredCount, message, navToggle, pauseOverlay, pausedRemaining, pausedQueued });
  for (const questionId of navButtons.keys()) updateNavButton(questionId);
  updateAnsweredCount();
  renderSaveStatus();
  observeCurrent(widgets);
  tick();
}

function setDrawer(open) {
  document.body.classList.toggle('drawer-open', open);
  if (state.ui.navToggle) state.ui.navToggle.setAttribute('aria-expanded', open ? 'true' : 'false');
}

function jumpTo(questionId) {
  const widget = state.widgets.get(questionId);
  if (!widget) return;
  setDrawer(false);
  widget.el.scrollIntoView({ block: 'start', behavior: 'auto' });
  widget.el.setAttribute('tabindex', '-1');
  widget.el.focus({ preventScroll: true });
  markCurrent(questionId);
}

function markCurrent(questionId) {
  if (!state.ui.navButtons) return;
  state.ui.navButtons.forEach((button, id) => {
    button.classList.toggle('is-current', id === questionId);
    if (id === questionId) button.setAttribute('aria-current', 'true');
    else button.removeAttribute('aria-current');
  });
}

function observeCurrent(widgets) {
  if (!('IntersectionObserver' in window)) return;
  const visible = new Set();
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting) visible.add(entry.target.dataset.qid);
      else visible.delete(entry.target.dataset.qid);
    }
    const first = state.paper && state.paper.answerOrder.find((id) => visible.has(id));
    if (first) markCurrent(first);
  }, { rootMargin: '-30% 0px -60% 0px' });
  widgets.forEach((widget) => observer.observe(widget.el));
}

function updateNavButton(questionId) {
  const button = state.ui.navButtons && state.ui.navButtons.get(questionId);
  if (!button) return;
  const answer = answerOf(questionId);
  button.dataset.state = isAnswered(answer.response) ? 'answered' : 'unanswered';
  button.dataset.flagged = answer.flagged ? 'true' : 'false';
  const widget = state.widgets.get(questionId);
  button.setAttribute('aria-label', `${widget ? widget.number : ''} ${t(isAnswered(answer.response) ? 'term.legendAnswered' : 'term.legendUnanswered')}${answer.flagged ? ` · ${t('term.legendFlagged')}` : ''}`);
}

function answeredNumbers() {
  const order = state.paper ? state.paper.answerOrder : [];
  const answered = order.filter((id) => isAnswered(answerOf(id).response));
  return { answered: answered.length, total: order.length };
}

function updateAnsweredCount() {
  const el = state.ui.answeredCount;
  if (!el) return;
  const { answered, total } = answeredNumbers();
  el.dataset.answered = String(answered);
  el.dataset.total = String(total);
  el.dataset.i18n = 'term.answered';
  el.dataset.i18nParams = JSON.stringify({ n: answered, total });
  el.textContent = t('term.answered', { n: answered, total });
  const badge = state.ui.navToggle && state.ui.navToggle.querySelector('.toggle-count');
  if (badge) badge.textContent = `${answered}/${total}`;
}

function renderSaveStatus() {
  const el = state.ui.saveStatus;
  if (!el || !state.answersBox) return;
  const box = state.answersBox;
  const pending = box.count + state.typing.size;
  let status;
  let text;
  if (box.stopped && (box.stopped.code === 'time_is_up' || box.stopped.code === 'attempt_submitted')) {
    status = 'error';
    text = tBoth('term.save.locked');
  } else if (box.paused || (clock.phase === 'paused' && state.view === 'exam')) {
    status = 'paused';
    text = pending > 0 ? tBoth('term.save.paused', { n: pending }) : tBoth('term.save.pausedNone');
  } else if (box.offline || state.heartbeatOffline || (navigator.onLine === false && pending > 0)) {
    status = 'offline';
    text = pending > 0 ? tBoth('term.save.offline', { n: pending }) : tBoth('term.save.offlineNone');
  } else if (box.rejected) {
    status = 'error';
    const texts = errorTexts(box.rejected.error);
    text = { zh: tBoth('term.save.rejected', { detail: texts.zh }).zh, en: tBoth('term.save.rejected', { detail: texts.en }).en };
  } else if (box.lastError && pending > 0) {
    status = 'error';
    const texts = errorTexts(box.lastError);
    text = { zh: tBoth('term.save.error', { detail: texts.zh }).zh, en: tBoth('term.save.error', { detail: texts.en }).en };
  } else if (pending > 0 || box.inFlight) {
    status = 'saving';
    text = tBoth('term.save.saving');
  } else {
    status = 'saved';
    text = tBoth('term.save.saved');
  }
  el.dataset.state = status;
  el.dataset.pending = String(pending);
  setBilingualText(state.ui.saveText, text);
}

function showExamMessage(pair) {
  const el = state.ui.message;
  if (!el) return;
  if (!pair) {
    el.hidden = true;
    return;
  }
  el.hidden = false;
  setBilingualText(el, pair);
  if (state.lockReason === 'timeUp') el.setAttribute('data-testid', 'timeup-banner');
  else el.setAttribute('data-testid', 'exam-message');
}

// MARK: submitting

function openSubmitDialog() {
  if (state.locked || state.stopped) return;
  flushTyping();
  const order = state.paper.answerOrder;
  const unanswered = order.filter((id) => !isAnswered(answerOf(id).response));
  const flagged = order.filter((id) => answerOf(id).flagged);
  const numberOf = (id) => (state.widgets.get(id) ? state.widgets.get(id).number : id);
  const chips = (ids, testid, prefix) => h('ul', { class: 'chips', testid },
    ids.map((id) => h('li', {}, h('button', {
      type: 'button', class: 'chip', testid: `${prefix}-${id}`,
      on: { click: () => { dialog.close(); jumpTo(id); } },
    }, numberOf(id)))));
  const error = h('p', { class: 'form-error', testid: 'submit-error', role: 'alert', hidden: true });
  const progress = h('p', { class: 'muted', testid: 'submit-progress', role: 'status', hidden: true });
  const confirm = h('button', { type: 'button', class: 'btn btn-danger', testid: 'submit-confirm', i18n: 'term.submitConfirm' });
  const cancel = h('button', { type: 'button', class: 'btn', testid: 'submit-cancel', i18n: 'term.submitCancel', on: { click: () => dialog.close() } });
  const dialog = h('dialog', { class: 'dialog submit-dialog', testid: 'submit-dialog', 'aria-labelledby': 'submit-title' },
    h('div', { class: 'dialog-body' },
      h('h2', { id: 'submit-title', i18n: 'term.submitTitle' }),
      unanswered.length
        ? [h('p', { class: 'notice notice-warn', i18n: 'term.submitUnanswered', params: { n: unanswered.length } }), chips(unanswered, 'submit-unanswered', 'unanswered')]
        : h('p', { class: 'notice notice-ok', testid: 'submit-all-answered', i18n: 'term.submitAllAnswered', params: { total: order.length } }),
      flagged.length ? [h('p', { i18n: 'term.submitFlagged' }), chips(flagged, 'submit-flagged', 'flagged')] : null,
      h('p', { class: 'submit-warning', i18n: 'term.submitWarning' }),
      progress,
      error),
    h('div', { class: 'dialog-actions' }, cancel, confirm));
  dialog.addEventListener('close', () => dialog.remove());
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    cancel.disabled = true;
    error.hidden = true;
    progress.hidden = false;
    progress.dataset.i18n = 'term.submitSaving';
    progress.textContent = t('term.submitSaving');
    flushTyping();
    const saved = await state.answersBox.drain(20000);
    if (state.view !== 'exam') return;
    if (!saved) {
      progress.hidden = true;
      error.hidden = false;
      const box = state.answersBox;
      if (box.stopped) setBilingualText(error, errorTexts(box.stopped));
      else setBilingualText(error, tBoth('term.submitOffline', { n: box.count + state.typing.size }));
      confirm.disabled = false;
      cancel.disabled = false;
      return;
    }
    progress.dataset.i18n = 'term.submitSubmitting';
    progress.textContent = t('term.submitSubmitting');
    try {
      const result = await call('/api/attempt/submit', { method: 'POST', body: { confirm: true } });
      dialog.close();
      await enterSubmitted({ ...state.attempt, status: 'submitted', submittedAt: result.submittedAt, submittedBy: result.submittedBy, unanswered: result.unanswered });
    } catch (err) {
      if (state.view !== 'exam') return;
      if (err.code === 'attempt_submitted') {
        dialog.close();
        await refreshAttemptAndShowSubmitted();
        return;
      }
      progress.hidden = true;
      error.hidden = false;
      setBilingualText(error, errorTexts(err));
      confirm.disabled = false;
      cancel.disabled = false;
    }
  });
  document.body.appendChild(dialog);
  applyI18n(dialog);
  dialog.showModal();
}

async function refreshAttemptAndShowSubmitted() {
  let attempt = state.attempt;
  try {
    attempt = await call('/api/attempt');
  } catch {
    /* show what we know */
  }
  await enterSubmitted({ ...attempt, status: 'submitted' });
}

async function enterSubmitted(attempt) {
  if (state.view === 'submitted') return;
  stopTimers();
  state.attempt = attempt;
  for (const pending of state.typing.values()) clearTimeout(pending.timer);
  state.typing.clear();
  if (state.answersBox) {
    state.answersBox.stop({ code: 'attempt_submitted' });
    state.answersBox.clear();
  }
  if (state.eventsBox) {
    state.eventsBox.stop({ code: 'attempt_submitted' });
    state.eventsBox.clear();
  }
  document.body.classList.remove('drawer-open');
  if (!state.paper) {
    try {
      const result = await call('/api/attempt/paper');
      state.paper = result.paper;
      state.answers = new Map((result.answers || []).map((a) => [a.questionId, { response: a.response ?? null, flagged: Boolean(a.flagged) }]));
    } catch {
      /* the read-only copy is a courtesy */
    }
  }
  const byKey = { candidate: 'term.submittedBy.candidate', timeUp: 'term.submittedBy.timeUp', invigilator: 'term.submittedBy.invigilator' };
  const c = attempt.candidate || {};
  const s = attempt.seat || {};
  const details = h('dl', { class: 'kv submitted-kv' },
    c.name ? [h('dt', { i18n: 'term.name' }), h('dd', {}, c.name)] : null,
    c.admissionNumber ? [h('dt', { i18n: 'term.admission' }), h('dd', { class: 'mono' }, c.admissionNumber)] : null,
    s.seat ? [h('dt', { i18n: 'term.seat' }), h('dd', { i18n: 'term.seatValue', params: { room: s.roomName, seat: s.seat } })] : null,
    attempt.submittedAt ? [h('dt', { i18n: 'term.submittedAt' }), h('dd', { testid: 'submitted-at' }, formatDateTime(attempt.submittedAt))] : null,
    attempt.submittedBy ? [h('dt', { i18n: 'term.submittedBy' }),
      h('dd', byKey[attempt.submittedBy] ? { testid: 'submitted-by', i18n: byKey[attempt.submittedBy] } : { testid: 'submitted-by', text: attempt.submittedBy })] : null,
    typeof attempt.unanswered === 'number' ? [h('dt', { i18n: 'term.submittedUnanswered' }), h('dd', {}, String(attempt.unanswered))] : null);
  let readOnly = null;
  if (state.paper) {
    const { el, widgets } = renderPaper(state.paper, { onAnswer: () => {}, onFlag: () => {}, onUpload: () => Promise.reject(new Error('read-only')) });
    for (const [questionId, widget] of widgets) {
      const answer = answerOf(questionId);
      widget.setResponse(answer.response);
      widget.setFlag(answer.flagged);
      widget.setDisabled(true);
    }
    state.widgets = widgets;
    readOnly = h('section', { class: 'readonly-paper', testid: 'readonly-paper' }, h('h2', { i18n: 'term.readOnlyPaper' }), el);
  }
  const collected = attempt.submittedBy === 'invigilator';
  document.body.classList.remove('is-paused');
  show('submitted', h('div', { class: 'submitted-screen', testid: 'submitted-view', dataset: { submittedBy: attempt.submittedBy || '' } },
    topbar(),
    h('main', { class: 'page' },
      h('section', { class: 'card submitted-card' },
        h('div', { class: 'submitted-icon', 'aria-hidden': 'true' }, '✓'),
        h('h1', { testid: 'submitted-title', i18n: collected ? 'term.collectedTitle' : 'term.submittedTitle' }),
        h('p', { i18n: collected ? 'term.collectedText' : 'term.submittedText' }),
        details,
        h('button', { type: 'button', class: 'btn', testid: 'logout', i18n: 'common.logout', on: { click: logout } })),
      readOnly)));
}

// MARK: start

onLangChange(() => {
  document.title = `${t('term.title')} · ${t('app.short')}`;
  renderSaveStatus();
  if (state.ui.navButtons) state.ui.navButtons.forEach((_, id) => updateNavButton(id));
  tick();
});
document.title = `${t('term.title')} · ${t('app.short')}`;

if (state.session && state.session.token && state.session.attemptId) {
  if (!state.session.sessionKey) {
    state.session.sessionKey = randomHex(6);
    saveSession();
  }
  start();
} else {
  showLogin();
}
