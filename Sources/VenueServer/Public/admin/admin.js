/*
 * Venue admin (/admin/): admin login → import a venue package, list imported packages, results per sitting
 * (with CSV download) and the review of one attempt (paper as the candidate saw it, answers, key, scores).
 * Staff accounts, the audit log and the room documents live in accounts.js, face verification in face.js.
 * Routes: #import, #packages, #results, #results/{sittingId}, #review/{attemptId}, #staff, #audit?filters, #documents,
 * #face?filters, #cameras, #live, #playback, #sync (reporting to the central office, sync.js).
 * A one-time password must be changed first (password-view, as in the console).
 *
 * data-testid hooks: staff-username, staff-password, staff-login, staff-login-error, lang-switch, logout,
 *   tab-import, tab-packages, tab-results, tab-staff, tab-audit, tab-documents, tab-face, tab-cameras, tab-live, tab-playback,
 *   tab-sync (more hooks: accounts.js, face.js, cameras.js, playback.js, sync.js),
 *   password-view, password-current, password-new, password-repeat, password-submit, password-error,
 *   import-file, import-submit, import-result, import-summary, import-problems, import-problem (data-code),
 *   packages-table, package-row-{packageID}, packages-error,
 *   sealed-list, sealed-row-{sittingId} (data-state sealed | unsealed), sealed-code-{sittingId}, sealed-submit-{sittingId},
 *   sealed-error-{sittingId}, sealed-done-{sittingId}, sealed-error
 *   results-sitting (select), results-table, result-row-{admissionNumber} (data-attempt-id, data-status),
 *   result-score-{admissionNumber}, result-pending-{admissionNumber}, result-max-{admissionNumber}, results-csv, results-error,
 *   review-view, review-title, review-score (data-score, data-max, data-pending), review-q-{questionId}
 *   (data-status, data-score), review-answer-{questionId}, review-key-{questionId}, review-back, review-events
 */

import { errorTexts, ApiError } from '../assets/api.js';
import { h, replaceChildren, formatDateTime, formatBytes, formatPoints, languageButton, initPage } from '../assets/dom.js';
import { t, tBoth, onLangChange, setBilingualText } from '../assets/i18n.js';
import { StaffSession, staffLoginForm, showStaffUser, changePasswordForm } from '../assets/staff.js';
import { showMessage } from '../assets/ui.js';
import { showStaff, showAudit, showDocuments } from './accounts.js';
import { showFace } from './face.js';
import { showCameras } from './cameras.js';
import { showLive, showPlayback } from './playback.js';
import { showSync } from './sync.js';

const app = document.getElementById('app');
const session = new StaffSession('kd.admin', ['admin']);
const TYPE_KEYS = {
  singleChoice: 'term.type.singleChoice', multipleChoice: 'term.type.multipleChoice', trueFalse: 'term.type.trueFalse',
  fillBlank: 'term.type.fillBlank', shortAnswer: 'term.type.shortAnswer', essay: 'term.type.essay', calculation: 'term.type.calculation',
  flowchart: 'term.type.flowchart', caseAnalysis: 'term.type.caseAnalysis', thesis: 'term.type.thesis',
};
const cache = { sittings: null, lastImport: null };

const setTitle = initPage('admin.title');
onLangChange(() => {
  setTitle();
});
document.getElementById('lang-slot').appendChild(languageButton());

function showUser() {
  showStaffUser(session, showLogin);
}

function showLogin() {
  replaceChildren(app, h('div', { class: 'page-narrow' }, staffLoginForm('admin.loginTitle', async (username, password) => {
    await session.login(username, password);
    showUser();
    route();
  }, tBoth('error.needAdmin'))));
  const first = app.querySelector('input');
  if (first) first.focus();
}

function errorBox(error, testid) {
  const el = h('p', { class: 'notice notice-error', role: 'alert', testid });
  setBilingualText(el, errorTexts(error));
  return el;
}

/** Staff calls; a lost session goes back to the login form, a one-time password to the change-password form. */
async function call(path, options) {
  try {
    return await session.call(path, options);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      session.forget();
      showUser();
      showLogin();
    } else if (error instanceof ApiError && error.code === 'password_change_required') {
      showPasswordChange();
    }
    throw error;
  }
}

function showPasswordChange() {
  session.markMustChangePassword();
  replaceChildren(app, h('div', { class: 'page-narrow' }, changePasswordForm(session, () => {
    showMessage(tBoth('pw.done'), 'ok', 'admin-message');
    route();
  })));
}

const leaving = []; // what to do when the page changes
const ctx = {
  app,
  call,
  token: () => session.token,
  tabs: (key) => tabs(key),
  errorBox: (error, testid) => errorBox(error, testid),
  sittings: () => sittings(),
  /** fn() runs when the page changes (the live view closes its connections). */
  onLeave: (fn) => leaving.push(fn),
};

function tabs(active) {
  const tab = (key, hash) => h('a', {
    class: ['btn tab', active === key ? 'is-active' : null], href: hash, testid: `tab-${key}`, i18n: `admin.tab.${key}`,
    'aria-current': active === key ? 'page' : null,
  });
  return h('nav', { class: 'tabs' }, tab('import', '#import'), tab('packages', '#packages'), tab('results', '#results'),
    tab('staff', '#staff'), tab('audit', '#audit'), tab('documents', '#documents'), tab('face', '#face'),
    tab('cameras', '#cameras'), tab('live', '#live'), tab('playback', '#playback'), tab('sync', '#sync'));
}

function route() {
  for (const fn of leaving.splice(0)) fn();
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
  const hash = decodeURIComponent(raw.split('?')[0]);
  const [page, arg] = [hash.split('/')[0], hash.split('/').slice(1).join('/')];
  if (page === 'staff') showStaff(ctx);
  else if (page === 'audit') showAudit(ctx, query);
  else if (page === 'documents') showDocuments(ctx);
  else if (page === 'face') showFace(ctx, query);
  else if (page === 'cameras') showCameras(ctx);
  else if (page === 'playback') showPlayback(ctx, query);
  else if (page === 'live') showLive(ctx, query);
  else if (page === 'sync') showSync(ctx);
  else if (page === 'packages') showPackages();
  else if (page === 'results') showResults(arg || null);
  else if (page === 'review' && arg) showReview(arg);
  else showImport();
}
window.addEventListener('hashchange', route);

// MARK: import

function summaryTable(summary) {
  const rows = [
    ['admin.pkg.id', summary.packageID], ['admin.pkg.issuer', summary.issuer], ['admin.pkg.venue', summary.venue],
    ['admin.pkg.sittings', summary.sittings], ['admin.pkg.rooms', summary.rooms], ['admin.pkg.candidates', summary.candidates],
    ['admin.pkg.staff', summary.staff], ['admin.pkg.questions', summary.questions], ['admin.pkg.papers', summary.papers],
    ['admin.pkg.importedAt', formatDateTime(summary.importedAt)], ['admin.pkg.sha', summary.manifestSHA256],
  ];
  if (summary.sealedPapers) rows.splice(9, 0, ['admin.pkg.sealedPapers', summary.sealedPapers]);
  return h('dl', { class: 'kv', testid: 'import-summary' }, rows.map(([key, value]) => [h('dt', { i18n: key }), h('dd', { class: key === 'admin.pkg.sha' ? 'mono small' : null }, String(value ?? '—'))]));
}

function showImport() {
  const file = h('input', { type: 'file', id: 'import-file', class: 'file-input', accept: '.kdpkg,application/octet-stream', testid: 'import-file' });
  const chosen = h('span', { class: 'muted small file-chosen' });
  file.addEventListener('change', () => {
    chosen.textContent = file.files && file.files[0] ? `${file.files[0].name}（${formatBytes(file.files[0].size)}）` : '';
  });
  const result = h('div', { class: 'import-result', testid: 'import-result', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'import-submit', i18n: 'admin.importButton' });
  const form = h('form', { class: 'card' },
    h('h1', { i18n: 'admin.tab.import' }),
    h('p', { class: 'muted', i18n: 'admin.importHint' }),
    h('p', { class: 'field-label', i18n: 'admin.importFile' }),
    h('div', { class: 'row' },
      h('div', { class: 'file-picker' }, file, h('label', { class: 'btn file-button', for: 'import-file' }, h('span', { i18n: 'term.chooseFile' }))),
      chosen),
    h('div', { class: 'row form-actions' }, button),
    result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replaceChildren(result);
    const chosenFile = file.files && file.files[0];
    if (!chosenFile) {
      result.appendChild(h('p', { class: 'notice notice-warn', i18n: 'admin.importChooseFile' }));
      return;
    }
    button.disabled = true;
    result.appendChild(h('p', { class: 'muted', i18n: 'admin.importing' }));
    try {
      const summary = await call('/api/admin/packages', { method: 'POST', raw: chosenFile, timeoutMs: 600000 });
      cache.sittings = null;
      replaceChildren(result,
        h('p', { class: 'notice notice-ok', i18n: summary.newlyImported === false ? 'admin.importAgain' : 'admin.importDone' }),
        summaryTable(summary));
      showSealed(sealedCard);
    } catch (error) {
      const parts = [h('p', { class: 'notice notice-error', role: 'alert' },
        h('span', { i18n: 'admin.importFailed' }), ' ', setText(h('span', {}), errorTexts(error)))];
      if (error.problems && error.problems.length) {
        parts.push(h('ul', { class: 'problems', testid: 'import-problems' }, error.problems.map((problem) => {
          const message = problem.message && typeof problem.message === 'object' ? problem.message : { zh: String(problem.message ?? ''), en: String(problem.message ?? '') };
          return h('li', { class: 'problem', testid: 'import-problem', dataset: { code: problem.code } },
            h('code', { class: 'problem-code' }, problem.code), ' ', setText(h('span', {}), message));
        })));
      }
      replaceChildren(result, ...parts);
    } finally {
      button.disabled = false;
    }
  });
  const sealedCard = h('section', { class: 'card', testid: 'sealed-list' });
  replaceChildren(app, tabs('import'), form, sealedCard);
  showSealed(sealedCard);
}

/**
 * Sittings whose paper arrived sealed (已密封): the scheduled start, and a field for the code (启封码) the central
 * office gives the chief invigilator. The paper is never shown before it is opened; the central office may also
 * release the key over the sync link, and then the row turns to 已启封 by itself on the next visit.
 */
async function showSealed(card) {
  replaceChildren(card, h('h2', { i18n: 'admin.seal.title' }), h('p', { class: 'muted', i18n: 'common.loading' }));
  let list;
  try {
    list = (await call('/api/console/sittings')).filter((s) => s.paperSealed || s.unsealedAt);
  } catch (error) {
    replaceChildren(card, h('h2', { i18n: 'admin.seal.title' }), errorBox(error, 'sealed-error'));
    return;
  }
  if (!list.length) {
    card.hidden = true;
    return;
  }
  card.hidden = false;
  replaceChildren(card, h('h2', { i18n: 'admin.seal.title' }), h('p', { class: 'muted', i18n: 'admin.seal.hint' }),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, ['sitting', 'start', 'state', 'code'].map((c) => h('th', { i18n: `admin.seal.${c}` })))),
      h('tbody', {}, list.map((sitting) => sealedRow(sitting, card))))));
}

function sealedRow(sitting, card) {
  const state = sitting.paperSealed ? 'sealed' : 'unsealed';
  const cells = [
    h('td', {}, h('div', {}, sitting.name), h('div', { class: 'mono small muted' }, sitting.id)),
    h('td', { class: 'nowrap' }, formatDateTime(sitting.scheduledStart)),
    h('td', {}, sitting.paperSealed
      ? h('span', { class: 'badge badge-warn', i18n: 'admin.seal.sealed' })
      : [h('span', { class: 'badge badge-primary', i18n: 'admin.seal.unsealed' }), ' ', h('span', { class: 'small muted' }, formatDateTime(sitting.unsealedAt))]),
  ];
  if (!sitting.paperSealed) {
    cells.push(h('td', { class: 'muted' }, '—'));
    return h('tr', { testid: `sealed-row-${sitting.id}`, dataset: { state } }, cells);
  }
  const input = h('input', {
    type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false', size: 32, maxlength: 64,
    placeholder: 'XXXXX-XXXXX-XXXXX-XXXXX-XXXXX', testid: `sealed-code-${sitting.id}`, 'aria-label': t('admin.seal.code'),
  });
  const button = h('button', { type: 'submit', class: 'btn btn-primary', testid: `sealed-submit-${sitting.id}`, i18n: 'admin.seal.open' });
  const message = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'row' }, input, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replaceChildren(message);
    if (!input.value.trim()) {
      message.appendChild(h('p', { class: 'notice notice-warn', i18n: 'admin.seal.enterCode' }));
      return;
    }
    button.disabled = true;
    try {
      await call(`/api/admin/sittings/${encodeURIComponent(sitting.id)}/unseal`, { method: 'POST', body: { code: input.value } });
      cache.sittings = null;
      showMessage(tBoth('admin.seal.done', { sitting: sitting.name }), 'ok', `sealed-done-${sitting.id}`);
      await showSealed(card);
    } catch (error) {
      replaceChildren(message, errorBox(error, `sealed-error-${sitting.id}`));
    } finally {
      button.disabled = false;
    }
  });
  cells.push(h('td', {}, form, message));
  return h('tr', { testid: `sealed-row-${sitting.id}`, dataset: { state } }, cells);
}

function setText(el, pair) {
  setBilingualText(el, pair);
  return el;
}

// MARK: packages

async function showPackages() {
  const body = h('div', {}, h('p', { class: 'muted', i18n: 'common.loading' }));
  replaceChildren(app, tabs('packages'), h('section', { class: 'card' }, h('h1', { i18n: 'admin.tab.packages' }), body));
  try {
    const packages = await call('/api/admin/packages');
    if (!packages.length) {
      replaceChildren(body, h('p', { class: 'muted', i18n: 'admin.noPackages' }));
      return;
    }
    const cols = ['id', 'issuer', 'venue', 'sittings', 'rooms', 'candidates', 'staff', 'questions', 'papers', 'importedAt'];
    replaceChildren(body, h('div', { class: 'table-wrap' }, h('table', { class: 'data', testid: 'packages-table' },
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { i18n: `admin.pkg.${c}` })))),
      h('tbody', {}, packages.map((p) => h('tr', { testid: `package-row-${p.packageID}` },
        h('td', { class: 'mono small', title: p.manifestSHA256 }, p.packageID), h('td', {}, p.issuer), h('td', {}, p.venue),
        [p.sittings, p.rooms, p.candidates, p.staff, p.questions, p.papers].map((n) => h('td', { class: 'num' }, String(n))),
        h('td', { class: 'nowrap' }, formatDateTime(p.importedAt))))))));
  } catch (error) {
    replaceChildren(body, errorBox(error, 'packages-error'));
  }
}

// MARK: results

async function sittings() {
  if (!cache.sittings) cache.sittings = await call('/api/console/sittings');
  return cache.sittings;
}

async function showResults(sittingId) {
  const body = h('div', {}, h('p', { class: 'muted', i18n: 'common.loading' }));
  const select = h('select', { class: 'input results-select', testid: 'results-sitting', id: 'results-sitting' });
  const csv = h('a', { class: 'btn', testid: 'results-csv', i18n: 'admin.downloadCsv', hidden: true });
  replaceChildren(app, tabs('results'), h('section', { class: 'card' },
    h('h1', { i18n: 'admin.tab.results' }),
    h('div', { class: 'row results-bar' },
      h('label', { class: 'field-label', for: 'results-sitting', i18n: 'admin.sitting' }), select, csv),
    body));
  let list;
  try {
    list = await sittings();
  } catch (error) {
    replaceChildren(body, errorBox(error, 'results-error'));
    return;
  }
  select.appendChild(h('option', { value: '', i18n: 'admin.chooseSitting' }));
  for (const sitting of list) select.appendChild(h('option', { value: sitting.id, selected: sitting.id === sittingId }, `${sitting.name}（${sitting.id}）`));
  select.addEventListener('change', () => {
    window.location.hash = select.value ? `#results/${encodeURIComponent(select.value)}` : '#results';
  });
  if (!sittingId && list.length === 1) {
    window.location.replace(`#results/${encodeURIComponent(list[0].id)}`);
    return;
  }
  if (!sittingId) {
    replaceChildren(body);
    return;
  }
  csv.href = `/api/admin/sittings/${encodeURIComponent(sittingId)}/results.csv`;
  csv.setAttribute('download', `results-${sittingId}.csv`);
  csv.hidden = false;
  try {
    const rows = await call(`/api/admin/sittings/${encodeURIComponent(sittingId)}/results`);
    replaceChildren(body, resultsTable(rows));
  } catch (error) {
    replaceChildren(body, errorBox(error, 'results-error'));
  }
}

function resultsTable(rows) {
  // A skill sitting's rows: tasks as sections (each the mean of the examiners' sheets), no answer sheets to open.
  const skill = rows.some((row) => ['scored', 'scoring', 'notScored'].includes(row.status));
  const withSections = rows.find((row) => row.sections && row.sections.length);
  const sections = withSections ? withSections.sections.map((s) => ({ id: s.id, title: s.title, maxPoints: s.maxPoints })) : [];
  const head = h('tr', {},
    ['admission', 'name', 'room', 'seat', 'status'].map((c) => h('th', { i18n: `admin.col.${c}` })),
    sections.map((s) => h('th', { class: 'num', title: `${s.title} / ${formatPoints(s.maxPoints)}` }, s.title)),
    ['score', 'max', 'pending'].map((c) => h('th', { class: 'num', i18n: skill && c === 'score' ? 'admin.col.skillScore' : `admin.col.${c}` })),
    ['submittedAt', 'submittedBy'].map((c) => h('th', { i18n: `admin.col.${c}` })));
  const byKey = { candidate: 'term.submittedBy.candidate', timeUp: 'term.submittedBy.timeUp', invigilator: 'term.submittedBy.invigilator' };
  const body = rows.map((row) => {
    const scores = new Map((row.sections || []).map((s) => [s.id, s]));
    const tr = h('tr', {
      class: row.attemptId ? 'clickable' : null, testid: `result-row-${row.admissionNumber}`,
      dataset: { attemptId: row.attemptId, status: row.status }, tabIndex: row.attemptId ? 0 : null,
    },
      h('td', { class: 'mono' }, row.admissionNumber), h('td', { class: 'nowrap' }, row.name), h('td', {}, row.roomId), h('td', { class: 'num' }, row.seat),
      h('td', {}, h('span', { class: ['badge', ['submitted', 'scored'].includes(row.status) ? 'badge-ok' : ['absent', 'notScored'].includes(row.status) ? '' : 'badge-primary'], i18n: `admin.status.${row.status}` })),
      sections.map((s) => {
        const score = scores.get(s.id);
        return h('td', { class: 'num', title: score && score.pendingPoints ? `${t('admin.col.pending')} ${formatPoints(score.pendingPoints)}` : null }, score ? formatPoints(score.score) : '');
      }),
      h('td', { class: 'num strong', testid: `result-score-${row.admissionNumber}` }, row.score === undefined || row.score === null ? '' : formatPoints(row.score)),
      h('td', { class: 'num', testid: `result-max-${row.admissionNumber}` }, row.maxPoints === undefined ? '' : formatPoints(row.maxPoints)),
      h('td', { class: 'num', testid: `result-pending-${row.admissionNumber}` }, row.pendingPoints === undefined ? '' : formatPoints(row.pendingPoints)),
      h('td', { class: 'nowrap' }, row.submittedAt ? formatDateTime(row.submittedAt) : ''),
      h('td', {}, row.submittedBy ? h('span', byKey[row.submittedBy] ? { i18n: byKey[row.submittedBy] } : { text: row.submittedBy }) : ''));
    if (row.attemptId) {
      const open = () => {
        window.location.hash = `#review/${encodeURIComponent(row.attemptId)}`;
      };
      tr.addEventListener('click', open);
      tr.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') open();
      });
    }
    return tr;
  });
  return [h('p', { class: 'muted small', i18n: skill ? 'admin.skillResultsHint' : 'admin.resultsHint' }),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data', testid: 'results-table' }, h('thead', {}, head), h('tbody', {}, body)))];
}

// MARK: review

function optionLabelMap(item) {
  return new Map((item.options || []).map((o) => [o.id, o]));
}

function choiceList(item, chosen, correct) {
  return h('ul', { class: 'review-options' }, (item.options || []).map((option) => {
    const isChosen = chosen.has(option.id);
    const isCorrect = correct.has(option.id);
    return h('li', { class: ['review-option', isChosen ? 'is-chosen' : null, isCorrect ? 'is-correct' : null], dataset: { option: option.id } },
      h('span', { class: 'option-label' }, `${option.label}.`), ' ', h('span', {}, option.text),
      isChosen ? h('span', { class: 'marker marker-chosen', i18n: 'admin.yourAnswer' }) : null,
      isCorrect ? h('span', { class: 'marker marker-correct', i18n: 'admin.key' }) : null);
  }));
}

function textBlock(text) {
  return h('div', { class: 'answer-box pre-wrap' }, text || '');
}

function answerView(item, response) {
  if (response === undefined || response === null) return h('p', { class: 'muted', i18n: 'admin.noAnswer' });
  switch (item.type) {
    case 'singleChoice':
    case 'multipleChoice': {
      const chosen = new Set(item.type === 'singleChoice' ? [response.choice] : response.choices || []);
      const labels = optionLabelMap(item);
      return h('p', {}, [...chosen].map((id) => (labels.get(id) ? labels.get(id).label : id)).join('、') || '—');
    }
    case 'trueFalse':
      return h('p', { i18n: response.value ? 'term.option.true' : 'term.option.false' });
    case 'fillBlank':
      return h('ol', { class: 'blank-list' }, (response.blanks || []).map((b) => h('li', {}, b || '—')));
    case 'calculation':
      return h('div', {}, h('p', {}, h('strong', { i18n: 'term.calcValue' }), `：${response.value || '—'} ${item.unit || ''}`),
        response.working ? [h('p', { class: 'field-label', i18n: 'term.calcWorking' }), textBlock(response.working)] : null);
    case 'flowchart': {
      const steps = new Map((item.steps || []).map((s) => [s.id, s.text]));
      return h('div', {}, h('ol', {}, (response.order || []).map((id) => h('li', {}, steps.get(id) || id))),
        response.description ? [h('p', { class: 'field-label', i18n: 'term.flowDescription' }), textBlock(response.description)] : null);
    }
    case 'thesis':
      return h('div', {}, response.text ? textBlock(response.text) : null,
        response.attachment ? h('p', {}, h('a', {
          href: `/api/admin/attachments/${encodeURIComponent(response.attachment.id)}`, download: response.attachment.name,
          i18n: 'admin.attachmentDownload', params: { name: `${response.attachment.name}（${formatBytes(response.attachment.bytes)}）` },
        })) : null);
    default:
      return textBlock(response.text);
  }
}

function keyView(item, key) {
  if (!key) return null;
  switch (item.type) {
    case 'singleChoice':
    case 'multipleChoice': {
      const correct = Array.isArray(key.correct) ? key.correct : [key.correct];
      const labels = optionLabelMap(item);
      return h('p', {}, correct.map((id) => (labels.get(id) ? labels.get(id).label : id)).join('、'));
    }
    case 'trueFalse':
      return h('p', { i18n: key.correct ? 'term.option.true' : 'term.option.false' });
    case 'fillBlank':
      return h('ol', { class: 'blank-list' }, (key.blanks || []).map((b) => h('li', {}, (b.accepted || []).join(' / '))));
    case 'calculation':
      return h('p', {}, `${formatPoints(key.correct)} ${key.unit || item.unit || ''}`, ' ',
        key.tolerance ? h('span', { class: 'muted', i18n: 'admin.tolerance', params: { n: key.tolerance } }) : null);
    case 'flowchart': {
      const steps = new Map((item.steps || key.steps || []).map((s) => [s.id, s.text]));
      return h('ol', {}, (key.correct || []).map((id) => h('li', {}, steps.get(id) || id)));
    }
    default: {
      const parts = [];
      if (key.reference) parts.push(h('p', { class: 'field-label', i18n: 'admin.reference' }), textBlock(key.reference));
      if (key.scheme && key.scheme.length) {
        parts.push(h('p', { class: 'field-label', i18n: 'admin.scheme' }),
          h('ul', {}, key.scheme.map((s) => h('li', {}, `${s.description}（${formatPoints(s.points)}）`))));
      }
      if (key.requirements) parts.push(h('p', { class: 'field-label', i18n: 'term.requirements' }), textBlock(key.requirements));
      return parts.length ? h('div', {}, parts) : null;
    }
  }
}

const STATUS_CLASS = { correct: 'badge-ok', wrong: 'badge-danger', partial: 'badge-warn', unanswered: '', pendingMarking: 'badge-primary' };

function reviewItem(item, review, byQuestion) {
  if (item.type === 'caseAnalysis') {
    return h('article', { class: 'review-question case', testid: `review-q-${item.id}` },
      h('div', { class: 'q-header' }, h('span', { class: 'q-number' }, `${item.number}.`), h('span', { class: 'badge badge-primary', i18n: TYPE_KEYS[item.type] })),
      h('p', { class: 'q-stem' }, item.stem),
      h('div', { class: 'material pre-wrap' }, item.material || ''),
      (item.subQuestions || []).map((sub) => reviewItem(sub, review, byQuestion)));
  }
  const scored = byQuestion.get(item.id) || {};
  const key = review.key ? review.key[item.id] : null;
  const response = scored.response;
  const status = scored.status || (response ? '' : 'unanswered');
  const scoreText = scored.score === undefined || scored.score === null
    ? h('span', { class: 'q-score', i18n: 'admin.qpending', params: { max: formatPoints(scored.maxPoints ?? item.points) } })
    : h('span', { class: 'q-score', i18n: 'admin.qscore', params: { score: formatPoints(scored.score), max: formatPoints(scored.maxPoints ?? item.points) } });
  const choices = item.type === 'singleChoice' || item.type === 'multipleChoice';
  const chosen = new Set(response ? (item.type === 'singleChoice' ? [response.choice] : response.choices || []) : []);
  const correct = new Set(key ? (Array.isArray(key.correct) ? key.correct : [key.correct]) : []);
  return h('article', {
    class: ['review-question', status ? `status-${status}` : null], testid: `review-q-${item.id}`,
    dataset: { status: status || '', score: scored.score ?? '' },
  },
    h('div', { class: 'q-header' },
      h('span', { class: 'q-number' }, `${item.number}.`),
      h('span', { class: 'badge badge-primary', i18n: TYPE_KEYS[item.type] || item.type }),
      h('span', { class: 'q-points', i18n: 'term.questionPoints', params: { n: formatPoints(item.points) } }),
      h('span', { class: 'spacer' }),
      scored.flagged ? h('span', { class: 'badge badge-warn', i18n: 'admin.flaggedByCandidate' }) : null,
      status ? h('span', { class: ['badge', STATUS_CLASS[status]], i18n: `admin.qstatus.${status}` }) : null,
      scoreText),
    h('p', { class: 'q-stem' }, item.stem),
    choices ? choiceList(item, chosen, correct) : null,
    h('div', { class: 'review-grid' },
      h('div', { class: 'review-answer', testid: `review-answer-${item.id}` }, h('p', { class: 'field-label', i18n: 'admin.yourAnswer' }), answerView(item, response)),
      h('div', { class: 'review-key', testid: `review-key-${item.id}` }, h('p', { class: 'field-label', i18n: 'admin.key' }), keyView(item, key))));
}

async function showReview(attemptId) {
  const body = h('div', {}, h('p', { class: 'muted', i18n: 'common.loading' }));
  replaceChildren(app, tabs('results'), body);
  let review;
  try {
    review = await call(`/api/admin/attempts/${encodeURIComponent(attemptId)}`);
  } catch (error) {
    replaceChildren(body, errorBox(error, 'review-error'));
    return;
  }
  const byQuestion = new Map((review.items || []).map((item) => [item.questionId, item]));
  const paper = review.paper;
  const back = h('button', { type: 'button', class: 'btn', testid: 'review-back', i18n: 'admin.backToResults', on: { click: () => window.history.back() } });
  const summary = h('p', {
    class: 'review-score', testid: 'review-score',
    dataset: { score: review.score ?? '', max: review.maxPoints ?? '', pending: review.pendingPoints ?? '' },
    i18n: 'admin.total', params: { score: formatPoints(review.score), max: formatPoints(review.maxPoints), pending: formatPoints(review.pendingPoints) },
  });
  const byKey = { candidate: 'term.submittedBy.candidate', timeUp: 'term.submittedBy.timeUp', invigilator: 'term.submittedBy.invigilator' };
  const events = review.events || [];
  replaceChildren(body, h('div', { class: 'review', testid: 'review-view' },
    h('div', { class: 'row' }, back),
    h('section', { class: 'card' },
      h('h1', { testid: 'review-title', i18n: 'admin.reviewOf', params: { name: review.name, admission: review.admissionNumber } }),
      summary,
      h('dl', { class: 'kv' },
        h('dt', { i18n: 'admin.col.status' }), h('dd', { i18n: `admin.status.${review.status}` }),
        h('dt', { i18n: 'admin.col.submittedAt' }), h('dd', {}, formatDateTime(review.submittedAt)),
        h('dt', { i18n: 'admin.col.submittedBy' }), h('dd', review.submittedBy && byKey[review.submittedBy] ? { i18n: byKey[review.submittedBy] } : { text: review.submittedBy || '—' }))),
    h('section', { class: 'review-paper' },
      h('h2', {}, paper.title),
      (paper.sections || []).map((section) => h('section', { class: 'paper-section' },
        h('h3', { class: 'section-title' }, section.title, ' ', h('span', { class: 'muted small', i18n: 'term.sectionPoints', params: { n: formatPoints(section.points) } })),
        (section.items || []).map((item) => reviewItem(item, review, byQuestion))))),
    h('details', { class: 'card', testid: 'review-events' },
      h('summary', { i18n: 'admin.events', params: { n: events.length } }),
      h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
        h('tbody', {}, events.map((e) => h('tr', {},
          h('td', { class: 'nowrap' }, formatDateTime(e.serverTime)), h('td', {}, e.kind), h('td', { class: 'mono small' }, e.terminalId || ''), h('td', { class: 'small' }, e.detail || '')))))))));
}

(async () => {
  try {
    if (await session.verify()) {
      showUser();
      route();
      return;
    }
  } catch (error) {
    replaceChildren(app, errorBox(error, 'admin-error'));
    setTimeout(() => window.location.reload(), 5000);
    return;
  }
  showLogin();
})();
