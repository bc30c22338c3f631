/*
 * The central office's pages (/office/): sign in, then
 *   #completeness — per venue and sitting, what the venue says it holds (its manifest) against what central holds,
 *                   what is missing, since when, and whether it is overdue (refreshes every 10 s);
 *   #alerts       — completeness alerts, open first, with whether the e-mail and the text message went out;
 *   #venues       — every venue: enrolled or revoked, when central last received from it, items held, refusals;
 *   #reports      — what central refused from venues (tampered or replayed batches, conflicts, revoked venues).
 * Chinese first, English on request (kept in localStorage).
 *
 * data-testid hooks: login-username, login-password, login-submit, login-error, lang-switch, logout,
 *   tab-completeness, tab-alerts, tab-venues, tab-reports, completeness-table,
 *   completeness-{venueId}-{sittingId} (data-results: complete|missing|overdue, data-recordings: same),
 *   no-manifest-{venueId}-{sittingId} (an issued sitting that started, with no manifest from the venue yet),
 *   missing-{venueId}-{sittingId}, alerts-table, alert-{id} (data-kind, data-open), venues-table, venue-{id},
 *   reports-table, page-error, venue-rooms-{id} (to the venue's rooms editor), account-link (the user's name, to
 *   the account page), password-current, password-new, password-repeat, password-submit, password-result
 * The authoring tabs live in their own modules (banks.js, papers.js, plans.js; shared helpers in common.js, the
 * question editor and preview in editor.js); their hooks are listed at the top of each.
 * Routes: #completeness #alerts #venues #reports #banks #bank/{id}[/{part}] #papers[/{bankId}] #paper/{id}[/{version}]
 *   #plans #plan/{id} #sitting/{id} #rooms/{venueId}
 */

import { addTexts, call, errorBox, h, lang, setLang, t, tabs, when } from './common.js';
import { showBank, showBanks } from './banks.js';
import { showPaper, showPapers } from './papers.js';
import { showPlan, showPlans, showRooms, showSitting } from './plans.js';

addTexts({
  title: '考点上报中心', loading: '正在加载…', logout: '退出', username: '用户名', password: '密码', login: '登录',
  venue: '考点', sitting: '场次', manifest: '考点清单', results: '成绩', recordings: '录像', missing: '缺少', since: '应到时间',
  complete: '已收齐', incomplete: '未收齐', overdue: '逾期', attempts: '作答', submitted: '交卷', answerLog: '作答记录',
  checkIns: '签到', videos: '录像段', kind: '类型', detail: '详情', raisedAt: '告警时间', clearedAt: '解除时间', notified: '通知',
  emailed: '邮件已发', texted: '短信已发', open: '未解除', none: '无', enrolled: '已注册', revoked: '已吊销', notEnrolled: '未注册',
  lastReceived: '最近接收', items: '记录数', refusals: '拒收', at: '时间', code: '原因', batch: '批次',
  noCompleteness: '还没有已开考或已上报清单的场次。', noAlerts: '没有告警。', noReports: '没有拒收记录。',
  heldOf: '{held} / {expected}', language: 'English', rooms: '考场',
  account: '我的账号', changePassword: '修改密码', currentPassword: '当前密码', newPassword: '新密码', repeatPassword: '再次输入新密码',
  passwordRule: '至少 10 个字符，须含字母和数字，不能与用户名或当前密码相同。修改后，您在其他设备上的登录将退出。',
  noManifest: '尚未收到考点清单', passwordsDiffer: '两次输入的新密码不一致。', passwordChanged: '密码已修改。其他设备上的登录已退出。',
}, {
  title: 'Kaodian central office', loading: 'Loading…', logout: 'Sign out', username: 'User name', password: 'Password', login: 'Sign in',
  venue: 'Venue', sitting: 'Sitting', manifest: 'Manifest', results: 'Results', recordings: 'Recordings', missing: 'Missing',
  since: 'Due since', complete: 'complete', incomplete: 'incomplete', overdue: 'overdue', attempts: 'Attempts',
  submitted: 'Submitted', answerLog: 'Answer log', checkIns: 'Check-ins', videos: 'Videos', kind: 'Kind', detail: 'Detail',
  raisedAt: 'Raised', clearedAt: 'Cleared', notified: 'Sent', emailed: 'e-mail sent', texted: 'SMS sent', open: 'open', none: 'none',
  enrolled: 'enrolled', revoked: 'revoked', notEnrolled: 'not enrolled', lastReceived: 'Last received', items: 'Items',
  refusals: 'Refusals', at: 'When', code: 'Reason', batch: 'Batch', noCompleteness: 'No sitting has started or sent its manifest yet.',
  noAlerts: 'No alerts.', noReports: 'Nothing refused.', heldOf: '{held} / {expected}', language: '中文', rooms: 'Rooms',
  account: 'My account', changePassword: 'Change password', currentPassword: 'Current password', newPassword: 'New password',
  repeatPassword: 'New password again',
  passwordRule: 'At least 10 characters with a letter and a digit, neither your user name nor the current password. Your sign-ins on other devices end.',
  noManifest: 'no manifest from the venue yet', passwordsDiffer: 'The two new passwords differ.', passwordChanged: 'Password changed. Your sign-ins on other devices have ended.',
});

const app = document.getElementById('app');
let refreshTimer = null;

function showLogin(message) {
  document.getElementById('logout').hidden = true;
  document.getElementById('user-slot').textContent = '';
  const username = h('input', { id: 'u', autocomplete: 'username', testid: 'login-username', required: true });
  const password = h('input', { id: 'p', type: 'password', autocomplete: 'current-password', testid: 'login-password', required: true });
  const problem = h('p', { class: 'notice notice-danger', testid: 'login-error', hidden: !message }, message || '');
  const form = h('form', { class: 'login card' },
    h('label', { for: 'u' }, t('username')), username, h('label', { for: 'p' }, t('password')), password,
    h('button', { type: 'submit', class: 'btn btn-primary', testid: 'login-submit' }, t('login')), problem);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await call('/api/office/login', { method: 'POST', body: JSON.stringify({ username: username.value, password: password.value }) });
      route();
    } catch (error) {
      problem.hidden = false;
      problem.textContent = error.message;
    }
  });
  app.replaceChildren(form);
}

function state(complete, overdue) {
  if (complete) return ['complete', 'badge-ok', t('complete')];
  if (overdue) return ['overdue', 'badge-danger', t('overdue')];
  return ['missing', 'badge-warn', t('incomplete')];
}

async function showCompleteness() {
  const sittings = await call('/api/office/completeness');
  const rows = sittings.map((s) => {
    const [results, resultsClass, resultsText] = state(s.resultsComplete, s.resultsOverdue);
    const [recordings, recordingsClass, recordingsText] = state(s.recordingsComplete, s.recordingsOverdue);
    const counts = (key) => t('heldOf', { held: s.held[key], expected: s.manifestAt ? s.expected[key] : '—' });
    return h('tr', { testid: `completeness-${s.venueId}-${s.sittingId}`, dataset: { results, recordings } },
      h('td', {}, s.venueName, h('br'), h('span', { class: 'muted small' }, s.venueId)),
      h('td', {}, s.sittingId, h('br'), s.manifestAt
        ? h('span', { class: 'muted small' }, `${t('manifest')} ${when(s.manifestAt)}`)
        : h('span', { class: 'small', testid: `no-manifest-${s.venueId}-${s.sittingId}` }, t('noManifest'))),
      h('td', {}, h('span', { class: ['badge', resultsClass] }, resultsText), h('br'),
        h('span', { class: 'small' }, `${t('submitted')} ${counts('submitted')} · ${t('answerLog')} ${counts('answerLogEntries')} · ${t('checkIns')} ${counts('checkIns')}`)),
      h('td', {}, h('span', { class: ['badge', recordingsClass] }, recordingsText), h('br'),
        h('span', { class: 'small' }, `${t('videos')} ${counts('videos')}`)),
      h('td', { testid: `missing-${s.venueId}-${s.sittingId}` }, s.missing.length ? s.missing.join('; ') : t('none')),
      h('td', { class: 'small' }, when(s.since)));
  });
  app.replaceChildren(tabs('completeness'), h('section', { class: 'card' }, h('h1', {}, t('tab.completeness')),
    rows.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'data', testid: 'completeness-table' },
        h('thead', {}, h('tr', {}, ...['venue', 'sitting', 'results', 'recordings', 'missing', 'since'].map((k) => h('th', {}, t(k))))),
        h('tbody', {}, rows)))
      : h('p', { class: 'muted', testid: 'completeness-table' }, t('noCompleteness'))));
  refreshTimer = setTimeout(() => { if (location.hash === '#completeness' || !location.hash) route(); }, 10000);
}

async function showAlerts() {
  const alerts = await call('/api/office/alerts');
  const rows = alerts.map((a) => h('tr', { testid: `alert-${a.id}`, dataset: { kind: a.kind, open: String(!a.clearedAt) } },
    h('td', {}, h('span', { class: ['badge', a.clearedAt ? 'badge-ok' : 'badge-danger'] }, a.clearedAt ? when(a.clearedAt) : t('open'))),
    h('td', {}, t(a.kind)), h('td', {}, a.detail), h('td', { class: 'small' }, when(a.raisedAt)),
    h('td', { class: 'small' }, [a.emailedAt ? t('emailed') : null, a.textedAt ? t('texted') : null].filter(Boolean).join(' · ') || '—',
      a.notifyError ? h('div', { class: 'muted' }, a.notifyError) : null)));
  app.replaceChildren(tabs('alerts'), h('section', { class: 'card' }, h('h1', {}, t('tab.alerts')),
    rows.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'data', testid: 'alerts-table' },
        h('thead', {}, h('tr', {}, ...['clearedAt', 'kind', 'detail', 'raisedAt', 'notified'].map((k) => h('th', {}, t(k))))),
        h('tbody', {}, rows)))
      : h('p', { class: 'muted', testid: 'alerts-table' }, t('noAlerts'))));
}

async function showVenues() {
  const venues = await call('/api/office/venues');
  const rows = venues.map((v) => h('tr', { testid: `venue-${v.id}` },
    h('td', {}, v.name, h('br'), h('span', { class: 'muted small' }, v.id)),
    h('td', {}, h('span', { class: ['badge', v.revokedAt ? 'badge-danger' : v.enrolledAt ? 'badge-ok' : 'badge-warn'] },
      v.revokedAt ? t('revoked') : v.enrolledAt ? t('enrolled') : t('notEnrolled'))),
    h('td', {}, when(v.lastReceivedAt)), h('td', {}, String(v.items)),
    h('td', {}, String(v.refusals), v.lastRefusalAt ? h('span', { class: 'muted small' }, ` · ${when(v.lastRefusalAt)}`) : ''),
    h('td', {}, h('a', { class: 'btn btn-small', href: `#rooms/${encodeURIComponent(v.id)}`, testid: `venue-rooms-${v.id}` }, t('rooms')))));
  app.replaceChildren(tabs('venues'), h('section', { class: 'card' }, h('h1', {}, t('tab.venues')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data', testid: 'venues-table' },
      h('thead', {}, h('tr', {}, ...['venue', 'enrolled', 'lastReceived', 'items', 'refusals', 'rooms'].map((k) => h('th', {}, t(k))))),
      h('tbody', {}, rows)))));
}

async function showReports() {
  const reports = await call('/api/office/reports');
  const rows = reports.map((r) => h('tr', {},
    h('td', { class: 'small' }, when(r.at)), h('td', {}, r.venueId), h('td', {}, h('code', {}, r.code)),
    h('td', { class: 'small' }, r.batchId || '—'), h('td', {}, r.detail)));
  app.replaceChildren(tabs('reports'), h('section', { class: 'card' }, h('h1', {}, t('tab.reports')),
    rows.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'data', testid: 'reports-table' },
        h('thead', {}, h('tr', {}, ...['at', 'venue', 'code', 'batch', 'detail'].map((k) => h('th', {}, t(k))))),
        h('tbody', {}, rows)))
      : h('p', { class: 'muted', testid: 'reports-table' }, t('noReports'))));
}

/** The signed-in user's account: their own password. */
function showAccount(me) {
  const field = (id, key, autocomplete) => {
    const input = h('input', { id, type: 'password', autocomplete, testid: id, required: true });
    return [h('label', { for: id }, t(key)), input];
  };
  const [currentLabel, current] = field('password-current', 'currentPassword', 'current-password');
  const [newLabel, fresh] = field('password-new', 'newPassword', 'new-password');
  const [repeatLabel, repeat] = field('password-repeat', 'repeatPassword', 'new-password');
  const result = h('div', { testid: 'password-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'login' },
    currentLabel, current, newLabel, fresh, repeatLabel, repeat, h('p', { class: 'muted small' }, t('passwordRule')),
    h('button', { type: 'submit', class: 'btn btn-primary', testid: 'password-submit' }, t('changePassword')), result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (fresh.value !== repeat.value) {
      result.replaceChildren(h('p', { class: 'notice notice-danger' }, t('passwordsDiffer')));
      return;
    }
    try {
      await call('/api/office/password', { method: 'POST', body: { current: current.value, new: fresh.value } });
      form.reset();
      result.replaceChildren(h('p', { class: 'notice notice-ok' }, t('passwordChanged')));
    } catch (error) {
      result.replaceChildren(errorBox(error, 'password-error'));
    }
  });
  app.replaceChildren(tabs('account'), h('section', { class: 'card' }, h('h1', {}, t('account')),
    h('p', {}, `${me.name} · ${me.username}`), h('h2', {}, t('changePassword')), form));
}

/** Which tab a route belongs to. */
function tabOf(page) {
  if (page === 'bank') return 'banks';
  if (page === 'paper') return 'papers';
  if (['plan', 'sitting', 'rooms'].includes(page)) return 'plans';
  return page;
}

async function route() {
  clearTimeout(refreshTimer);
  let me;
  try {
    me = await call('/api/office/me');
  } catch (error) {
    showLogin(error.status === 401 ? null : error.message);
    return;
  }
  document.getElementById('user-slot').replaceChildren(
    h('a', { href: '#account', testid: 'account-link', title: t('account') }, me.name));
  document.getElementById('logout').hidden = false;
  const [page, ...parts] = (location.hash.replace(/^#/, '') || 'completeness').split('/').map(decodeURIComponent);
  const view = { app, tabs: () => tabs(tabOf(page)), me, go: (hash) => { location.hash = hash; } };
  try {
    if (page === 'banks') await showBanks(view);
    else if (page === 'bank') await showBank(view, parts[0], parts[1], parts.slice(2));
    else if (page === 'papers') await showPapers(view, parts[0]);
    else if (page === 'paper') await showPaper(view, parts[0], parts[1]);
    else if (page === 'plans') await showPlans(view);
    else if (page === 'plan') await showPlan(view, parts[0]);
    else if (page === 'sitting') await showSitting(view, parts[0]);
    else if (page === 'rooms') await showRooms(view, parts[0]);
    else if (page === 'alerts') await showAlerts();
    else if (page === 'venues') await showVenues();
    else if (page === 'reports') await showReports();
    else if (page === 'account') showAccount(me);
    else await showCompleteness();
  } catch (error) {
    if (error.status === 401) showLogin();
    else app.replaceChildren(tabs(tabOf(page)), errorBox(error));
  }
}

function applyLanguage() {
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.getElementById('lang').textContent = t('language');
  document.title = t('title');
}

document.getElementById('lang').addEventListener('click', () => {
  setLang(lang === 'en' ? 'zh' : 'en');
  applyLanguage();
  route();
});
document.getElementById('logout').addEventListener('click', async () => {
  clearTimeout(refreshTimer);  // the completeness page refreshes itself; not over the sign-in form
  await call('/api/office/logout', { method: 'POST' }).catch(() => null);
  showLogin();
});
window.addEventListener('hashchange', route);
applyLanguage();
route();
