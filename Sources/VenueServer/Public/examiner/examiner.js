/*
 * Examiners' scoring (/examiner/), made for tablets: staff login (examiners, admins, supervisors; a one-time
 * password must be changed first) → the skill sittings with the examiner's rooms → the candidates of those rooms with
 * each task's state → one scoring sheet (评分表): a score per scoring item (0 up to its points, steps of 0.5), the
 * total, a remark; saved as a draft or handed in (then it no longer changes). Scores typed but not yet saved are kept
 * in this browser (localStorage) until the server has them, so a dropped Wi-Fi loses nothing.
 * Routes: # (sittings), #sitting/{sittingId}, #sheet/{sittingId}/{admissionNumber}/{taskId}.
 *
 * data-testid hooks:
 *   login: staff-username, staff-password, staff-login, staff-login-error; password-* (changing a one-time password);
 *   lang-switch, logout, examiner-message
 *   sittings: examiner-sittings, ex-sitting-{sittingId}, ex-open-{sittingId}, no-skill-sittings, examiner-error,
 *     staff-face-signin (the staff face sign-in dialog, see assets/staffface.js)
 *   candidates: ex-candidates (data-count), ex-row-{admissionNumber}, ex-cell-{admissionNumber}-{taskId} (data-mine
 *     none|draft|submitted, data-submitted: sheets handed in by every examiner, data-mean), ex-score-{a}-{taskId}
 *     (opens the sheet), ex-total-{a} (the sum of the tasks' means once every task has a sheet handed in), ex-back
 *   sheet: sheet-view (data-submitted true|false), sheet-title, sheet-candidate, sheet-item-{itemId} (data-points),
 *     sheet-score-{itemId}, sheet-full-{itemId}, sheet-total (data-total), sheet-remark, sheet-save, sheet-submit,
 *     sheet-error, sheet-restored (unsaved scores brought back from this browser), sheet-submitted-at, sheet-back,
 *     sheet-sitting (venue, sitting, scheduled start), sheet-print and sheet-sign (a handed-in sheet printed for
 *     signing: controls hidden, a signature line shown);
 *     the hand-in dialog: dialog, dialog-confirm, dialog-cancel
 */

import { errorTexts, ApiError, loadJSON, saveJSON, removeKey } from '../assets/api.js';
import { h, replaceChildren, formatDateTime, formatPoints, languageButton, initPage } from '../assets/dom.js';
import { t, tBoth, onLangChange, setBilingualText } from '../assets/i18n.js';
import { StaffSession, staffLoginForm, showStaffUser, changePasswordForm } from '../assets/staff.js';
import { openDialog, showMessage } from '../assets/ui.js';
import { openStaffFaceSignIn } from '../assets/staffface.js';

const app = document.getElementById('app');
const session = new StaffSession('kd.examiner', ['examiner', 'admin', 'supervisor']);
const setTitle = initPage('examiner.title');
onLangChange(() => {
  setTitle();
  if (session.token && !session.mustChangePassword) route();
});
document.getElementById('lang-slot').appendChild(languageButton());

const enc = encodeURIComponent;

function showLogin() {
  replaceChildren(app, h('div', { class: 'page-narrow' }, staffLoginForm('examiner.loginTitle', async (username, password) => {
    await session.login(username, password);
    showStaffUser(session, showLogin);
    route();
  }, tBoth('examiner.needExaminer'))));
  app.querySelector('input')?.focus();
}

function showPasswordChange() {
  session.markMustChangePassword();
  replaceChildren(app, h('div', { class: 'page-narrow' }, changePasswordForm(session, () => {
    showMessage(tBoth('pw.done'), 'ok', 'examiner-message');
    route();
  })));
}

/** Handles a lost session or a one-time password; true when it did. */
function authProblem(error) {
  if (!(error instanceof ApiError)) return false;
  if (error.status === 401) {
    session.forget();
    showStaffUser(session, showLogin);
    showLogin();
    return true;
  }
  if (error.code === 'password_change_required') {
    showPasswordChange();
    return true;
  }
  return false;
}

function errorBox(error, testid = 'examiner-error') {
  const box = h('p', { class: 'notice notice-error', testid, role: 'alert' });
  setBilingualText(box, errorTexts(error));
  return box;
}

async function load(render) {
  replaceChildren(app, h('p', { class: 'muted', i18n: 'common.loading' }));
  try {
    await render();
  } catch (error) {
    if (!authProblem(error)) replaceChildren(app, errorBox(error));
  }
}

function route() {
  if (!session.token) return showLogin();
  if (session.mustChangePassword) return showPasswordChange();
  const parts = window.location.hash.replace(/^#/, '').split('/').map((p) => decodeURIComponent(p));
  if (parts[0] === 'sheet' && parts[1] && parts[2] && parts[3]) return load(() => showSheet(parts[1], parts[2], parts[3]));
  if (parts[0] === 'sitting' && parts[1]) return load(() => showCandidates(parts[1]));
  return load(showSittings);
}
window.addEventListener('hashchange', () => {
  if (session.token) route();
});

// MARK: sittings

async function showSittings() {
  const sittings = await session.call('/api/examiner/sittings');
  const list = sittings.map((s) => h('li', { class: 'card', testid: `ex-sitting-${s.id}` },
    h('h2', {}, s.name),
    h('p', { class: 'muted' }, `${formatDateTime(s.scheduledStart)} · ${t('examiner.rooms', { rooms: s.rooms.join('、') })} · ${s.paperTitle}`),
    h('ul', {}, s.tasks.map((task) => h('li', {}, `${task.title}（${t('examiner.taskMeta', { minutes: task.durationMinutes, points: formatPoints(task.points) })}）`))),
    h('a', { class: 'btn btn-primary', href: `#sitting/${enc(s.id)}`, testid: `ex-open-${s.id}`, i18n: 'examiner.openSitting' })));
  replaceChildren(app, h('section', { testid: 'examiner-sittings' },
    h('div', { class: 'row' }, h('h1', { i18n: 'examiner.sittings' }), h('span', { class: 'spacer' }),
      // Examiners sign in for duty by face (考评员人脸核验签到), matched with the photo the package registered.
      h('button', {
        type: 'button', class: 'btn btn-small', testid: 'staff-face-signin', i18n: 'staffFace.button',
        on: { click: () => openStaffFaceSignIn({ session, handleAuth: authProblem }) },
      })),
    list.length ? h('ul', { class: 'plain-list' }, list) : h('p', { class: 'muted', testid: 'no-skill-sittings', i18n: 'examiner.noSittings' })));
}

// MARK: candidates

async function showCandidates(sittingId) {
  const [sittings, candidates] = await Promise.all([
    session.call('/api/examiner/sittings'),
    session.call(`/api/examiner/sittings/${enc(sittingId)}/candidates`),
  ]);
  const sitting = sittings.find((s) => s.id === sittingId);
  const tasks = sitting ? sitting.tasks : [];
  const head = h('tr', {}, h('th', { i18n: 'examiner.seat' }), h('th', { i18n: 'examiner.candidate' }),
    tasks.map((task) => h('th', {}, task.title)), h('th', { i18n: 'examiner.candidateTotal' }));
  // The candidate's score: the sum of the tasks' means, once every task has a sheet handed in.
  const candidateTotal = (c) => (c.tasks.every((x) => x.mean !== null && x.mean !== undefined)
    ? formatPoints(c.tasks.reduce((sum, x) => sum + x.mean, 0)) : '—');
  const rows = candidates.map((c) => h('tr', { testid: `ex-row-${c.admissionNumber}` },
    h('td', {}, `${c.room} · ${c.seat}`),
    h('td', {}, h('strong', {}, c.name), h('br'), h('span', { class: 'muted small' }, c.admissionNumber)),
    c.tasks.map((state) => h('td', {
      testid: `ex-cell-${c.admissionNumber}-${state.taskId}`,
      dataset: { mine: state.mine, submitted: state.submitted, mean: state.mean ?? '' },
    },
    h('span', { class: 'task-state', dataset: { mine: state.mine }, i18n: `examiner.state.${state.mine}` }),
    state.myTotal !== null && state.myTotal !== undefined ? ` ${formatPoints(state.myTotal)}` : '',
    state.submitted ? h('div', { class: 'muted small', i18n: 'examiner.others', params: { n: state.submitted, mean: formatPoints(state.mean) } }) : null,
    h('div', {}, h('a', {
      class: ['btn', 'btn-small', state.mine === 'submitted' ? null : 'btn-primary'],
      href: `#sheet/${enc(sittingId)}/${enc(c.admissionNumber)}/${enc(state.taskId)}`,
      testid: `ex-score-${c.admissionNumber}-${state.taskId}`,
      i18n: state.mine === 'submitted' ? 'examiner.view' : 'examiner.score',
    })))),
    h('td', { testid: `ex-total-${c.admissionNumber}` }, candidateTotal(c))));
  replaceChildren(app, h('section', { class: 'card' },
    h('a', { class: 'btn btn-small', href: '#', testid: 'ex-back', i18n: 'examiner.back' }),
    h('h1', {}, sitting ? sitting.name : sittingId),
    candidates.length
      ? h('div', { class: 'table-scroll' }, h('table', { class: 'candidates-table', testid: 'ex-candidates', dataset: { count: candidates.length } },
        h('thead', {}, head), h('tbody', {}, rows)))
      : h('p', { class: 'muted', testid: 'ex-candidates', dataset: { count: 0 }, i18n: 'examiner.noCandidates' })));
}

// MARK: one scoring sheet

async function showSheet(sittingId, admissionNumber, taskId) {
  const path = `/api/examiner/sittings/${enc(sittingId)}/candidates/${enc(admissionNumber)}/tasks/${enc(taskId)}`;
  const sheet = await session.call(path);
  const submitted = Boolean(sheet.submittedAt);
  const keptKey = `kd.sheet.${session.user.username}.${sittingId}.${admissionNumber}.${taskId}`;
  const kept = submitted ? null : loadJSON(keptKey, null);
  if (submitted) removeKey(keptKey);
  const error = h('div', { testid: 'sheet-error' });
  const total = h('span', { class: 'sheet-total', testid: 'sheet-total' });
  const inputs = new Map();
  const remark = h('textarea', {
    class: 'input', rows: 3, testid: 'sheet-remark', disabled: submitted, i18nPlaceholder: 'examiner.remarkHint',
    value: kept?.remark ?? sheet.remark ?? '',
  });

  const values = () => {
    const scores = {};
    for (const [id, input] of inputs) if (input.value.trim() !== '') scores[id] = Number(input.value);
    return scores;
  };
  const keep = () => {
    if (!submitted) saveJSON(keptKey, { scores: Object.fromEntries([...inputs].map(([id, input]) => [id, input.value])), remark: remark.value });
  };
  const updateTotal = () => {
    const sum = Object.values(values()).filter((v) => Number.isFinite(v)).reduce((a, b) => a + b, 0);
    total.dataset.total = String(Math.round(sum * 100) / 100);
    total.textContent = t('examiner.total', { total: formatPoints(sum), max: formatPoints(sheet.maxPoints) });
  };

  const rows = sheet.items.map((item, index) => {
    const input = h('input', {
      class: 'input score-input', type: 'number', inputmode: 'decimal', min: '0', max: String(item.points), step: '0.5',
      testid: `sheet-score-${item.id}`, disabled: submitted, 'aria-label': `${item.description}`,
      value: kept?.scores?.[item.id] ?? (item.score ?? ''),
    });
    input.addEventListener('input', () => { keep(); updateTotal(); });
    inputs.set(item.id, input);
    const full = h('button', {
      type: 'button', class: 'btn btn-small', testid: `sheet-full-${item.id}`, disabled: submitted, i18n: 'examiner.full',
      on: { click: () => { input.value = String(item.points); keep(); updateTotal(); } },
    });
    return h('tr', { testid: `sheet-item-${item.id}`, dataset: { points: item.points } },
      h('td', {}, String(index + 1)),
      h('td', {}, h('strong', {}, item.description), h('div', { class: 'muted small' }, item.deduction)),
      h('td', { class: 'num' }, formatPoints(item.points)),
      h('td', { class: 'num' }, h('div', { class: 'score-cell' }, input, full)));
  });
  remark.addEventListener('input', keep);
  updateTotal();

  const send = async (submit) => {
    replaceChildren(error);
    try {
      await session.call(path, { method: 'PUT', body: { scores: values(), remark: remark.value, submit } });
      removeKey(keptKey);
      if (submit) window.location.hash = `#sitting/${enc(sittingId)}`;
      else showMessage(tBoth('examiner.saved'), 'ok', 'examiner-message');
    } catch (err) {
      if (authProblem(err)) return;
      replaceChildren(error, errorBox(err, 'sheet-error-text'));
      throw err;
    }
  };
  const actions = submitted
    ? h('div', {},
      h('p', { class: 'notice notice-ok', testid: 'sheet-submitted-at', i18n: 'examiner.submittedAt', params: { at: formatDateTime(sheet.submittedAt) } }),
      h('div', { class: 'sheet-actions' }, h('button', {
        type: 'button', class: 'btn', testid: 'sheet-print', i18n: 'examiner.print', on: { click: () => window.print() },
      })),
      // Only on paper: the examiner signs the printed sheet for the sitting's records.
      h('p', { class: 'print-only sheet-sign', testid: 'sheet-sign', i18n: 'examiner.sign', params: { name: session.user.name || sheet.examiner } }))
    : h('div', { class: 'sheet-actions' },
      h('button', { type: 'button', class: 'btn', testid: 'sheet-save', i18n: 'examiner.save', on: { click: () => send(false).catch(() => {}) } }),
      h('button', {
        type: 'button', class: 'btn btn-primary', testid: 'sheet-submit', i18n: 'examiner.submit',
        on: {
          click: () => openDialog({
            title: h('h2', { i18n: 'examiner.submitAsk' }),
            body: [h('p', { i18n: 'examiner.submitNote', params: { total: formatPoints(Number(total.dataset.total)), max: formatPoints(sheet.maxPoints) } })],
            confirmKey: 'examiner.submit',
            onConfirm: () => send(true),
          }),
        },
      }));

  replaceChildren(app, h('section', { class: 'card', testid: 'sheet-view', dataset: { submitted } },
    h('a', { class: 'btn btn-small', href: `#sitting/${enc(sittingId)}`, testid: 'sheet-back', i18n: 'examiner.back' }),
    // Which venue, sitting and day: on screen, and on the signed paper copy for the sitting's records.
    h('p', { class: 'muted', testid: 'sheet-sitting' },
      [sheet.venueName, sheet.sittingName, formatDateTime(sheet.scheduledStart)].filter(Boolean).join(' · ')),
    h('h1', { testid: 'sheet-title' }, sheet.taskTitle),
    h('p', { testid: 'sheet-candidate' }, h('strong', {}, sheet.candidateName), ` · ${sheet.admissionNumber} · ${sheet.roomName} · ${sheet.seat}`),
    h('p', { class: 'muted' }, t('examiner.taskMeta', { minutes: sheet.durationMinutes, points: formatPoints(sheet.maxPoints) })),
    h('details', {}, h('summary', { i18n: 'examiner.taskText' }), h('p', { class: 'pre-wrap' }, sheet.description)),
    kept ? h('p', { class: 'notice notice-warn', testid: 'sheet-restored', i18n: 'examiner.restored' }) : null,
    h('div', { class: 'table-scroll' }, h('table', { class: 'sheet-table' },
      h('thead', {}, h('tr', {}, h('th', { text: '#' }), h('th', { i18n: 'examiner.item' }), h('th', { class: 'num', i18n: 'examiner.points' }),
        h('th', { class: 'num', i18n: 'examiner.scoreColumn' }))),
      h('tbody', {}, rows))),
    h('p', {}, total),
    h('label', { class: 'field' }, h('span', { class: 'field-label', i18n: 'examiner.remark' }), remark),
    error,
    actions));
}

// MARK: start

(async () => {
  try {
    if (await session.verify()) showStaffUser(session, showLogin);
  } catch {
    /* offline: the kept session is tried again on the next call */
  }
  route();
})();
