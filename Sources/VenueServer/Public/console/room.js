// The invigilator's room screen: clock and room controls, pending terminal moves, the face alerts (failed self
// check-ins at the terminals and failed random re-checks, from the room view), the live roster (a table on a
// tablet or PC, cards on a phone) with the per-candidate actions, the room's face verifications, its incidents and
// the printable documents. Check-in is by face (facecheck.js: camera, picture, verdict, override) or by eye.
//
// Live: an EventSource on …/rooms/{r}/live (the kd_staff cookie authenticates) sends the whole RoomView every 2 s.
// When the stream fails (or is silent for 8 s) the page polls GET …/rooms/{r} every 5 s with its bearer token and
// tries the stream again every 30 s.

import { ApiError, FormError, errorTexts } from '../assets/api.js';
import { h, replaceChildren, formatHMS, formatDateTime, formatTime } from '../assets/dom.js';
import { t, tBoth, setBilingualText } from '../assets/i18n.js';
import { ServerClock } from '../assets/clock.js';
import { openDialog, field, showMessage } from '../assets/ui.js';
import { CaptureImages, decisionBadge, formatSimilarity, openCapture, verificationTable } from '../assets/face.js';
import { FaceCheck } from './facecheck.js';

export const INCIDENT_CATEGORIES = ['cheating', 'disturbance', 'deviceFailure', 'identityMismatch', 'lateArrival', 'illness', 'other'];
export const DOCUMENTS = ['roster', 'seating', 'signin', 'record'];

const POLL_MS = 5000;
const SILENT_MS = 8000;
const STREAM_RETRY_MS = 30000;
const STATUS_BADGE = {
  notArrived: '', checkedIn: 'badge-primary', waiting: 'badge-primary', answering: 'badge-ok', submitted: 'badge-warn', absent: 'badge-danger',
};
const PHASE_BADGE = { waiting: 'badge-warn', running: 'badge-ok', paused: 'badge-danger', over: '' };
const EVENT_KINDS = ['pageLeft', 'focusLost', 'fullscreenExit', 'copyPaste'];
const COLUMNS = ['seat', 'photo', 'name', 'admission', 'status', 'answered', 'events', 'incidents', 'terminal', 'time', 'actions'];

const enc = encodeURIComponent;

export function documentLink(kind, sittingId, roomId) {
  return `/console/print/${kind}.html?sitting=${enc(sittingId)}&room=${enc(roomId)}`;
}

export class RoomScreen {
  /**
   * session: StaffSession; container: where the screen goes; onAuthLost(): the session ended (401);
   * onPasswordRequired(): the server wants the one-time password changed first.
   */
  constructor({ session, sittingId, roomId, container, onAuthLost, onPasswordRequired }) {
    this.session = session;
    this.sittingId = sittingId;
    this.roomId = roomId;
    this.container = container;
    this.onAuthLost = onAuthLost;
    this.onPasswordRequired = onPasswordRequired;
    this.base = `/api/console/sittings/${enc(sittingId)}/rooms/${enc(roomId)}`;
    this.clock = new ServerClock();
    this.view = null;
    this.rows = new Map(); // admissionNumber → {tr, cells, photo}
    this.mode = 'connecting';
    this.stream = null;
    this.timers = { poll: null, watchdog: null, retry: null, tick: null };
    this.lastEventAt = 0;
    this.stopped = false;
    this.ui = {};
    this.shape = '';
    this.faces = null; // the room's face verifications (newest first), null until loaded
    this.facesError = null;
    this.facesKey = null; // the roster's latest face checks: when they change, the list is loaded again
    this.facesLoading = null;
    this.captures = new CaptureImages(() => this.session.token);
    this.alertCaptures = new CaptureImages(() => this.session.token); // the face alerts' thumbnails
  }

  // MARK: life cycle

  async start() {
    replaceChildren(this.container, h('p', { class: 'muted', i18n: 'common.loading' }));
    try {
      await this.load();
    } catch (error) {
      if (this.handleAuth(error)) return;
      const box = h('div', { class: 'card', testid: 'room-error' },
        h('p', { class: 'notice notice-error', role: 'alert' }),
        h('a', { class: 'btn', href: '#', i18n: 'console.allSittings' }));
      setBilingualText(box.firstChild, error.status === 403 || error.status === 404 ? tBoth('console.noRoom') : error.texts || tBoth('error.network'));
      replaceChildren(this.container, box);
      return;
    }
    this.timers.tick = setInterval(() => this.tick(), 1000);
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.captures.clear();
    this.alertCaptures.clear();
    this.closeStream();
    this.hideLive();
    Object.values(this.timers).forEach((timer) => {
      clearTimeout(timer);
      clearInterval(timer);
    });
  }

  /** True when the error means the page cannot go on here (the caller shows the login or password form). */
  handleAuth(error) {
    if (!(error instanceof ApiError)) return false;
    if (error.status === 401) {
      this.stop();
      this.onAuthLost();
      return true;
    }
    if (error.code === 'password_change_required') {
      this.stop();
      this.onPasswordRequired();
      return true;
    }
    return false;
  }

  async load() {
    const sentAt = performance.now();
    const view = await this.session.call(this.base);
    this.apply(view, sentAt);
  }

  // MARK: live connection

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timers.retry);
    if (!('EventSource' in window)) {
      this.startPolling();
      return;
    }
    this.closeStream();
    this.setMode(this.mode === 'polling' ? 'polling' : 'connecting');
    const stream = new EventSource(`${this.base}/live`);
    this.stream = stream;
    this.lastEventAt = Date.now();
    stream.addEventListener('room', (event) => {
      if (this.stream !== stream) return;
      this.lastEventAt = Date.now();
      this.stopPolling();
      this.setMode('live');
      try {
        this.apply(JSON.parse(event.data));
      } catch {
        /* a broken message: the next one comes in 2 s */
      }
    });
    stream.addEventListener('error', () => {
      if (this.stream !== stream) return;
      if (stream.readyState === EventSource.CLOSED) this.startPolling();
      else if (this.mode === 'live') this.setMode('connecting');
    });
    clearInterval(this.timers.watchdog);
    this.timers.watchdog = setInterval(() => {
      if (this.stream && Date.now() - this.lastEventAt > SILENT_MS) this.startPolling();
    }, 2000);
  }

  closeStream() {
    if (this.stream) {
      this.stream.close();
      this.stream = null;
    }
    clearInterval(this.timers.watchdog);
  }

  startPolling() {
    this.closeStream();
    if (this.stopped) return;
    if (this.mode !== 'offline') this.setMode('polling');
    if (!this.timers.poll) this.poll();
    clearTimeout(this.timers.retry);
    this.timers.retry = setTimeout(() => this.connect(), STREAM_RETRY_MS);
  }

  stopPolling() {
    clearTimeout(this.timers.poll);
    this.timers.poll = null;
  }

  async poll() {
    clearTimeout(this.timers.poll);
    this.timers.poll = null;
    try {
      await this.load();
      if (!this.stream) this.setMode('polling');
    } catch (error) {
      if (this.handleAuth(error)) return;
      this.setMode('offline');
    }
    if (!this.stopped && !this.stream) this.timers.poll = setTimeout(() => this.poll(), POLL_MS);
  }

  /** After an action: show its effect at once rather than with the next event. */
  async refreshNow() {
    try {
      await this.load();
    } catch (error) {
      this.handleAuth(error);
    }
  }

  setMode(mode) {
    this.mode = mode;
    const el = this.ui.live;
    if (!el) return;
    el.dataset.mode = mode;
    el.className = `live-status live-${mode}`;
    const label = el.querySelector('.live-label');
    label.dataset.i18n = `console.live.${mode}`;
    label.textContent = t(label.dataset.i18n);
  }

  // MARK: rendering

  apply(view, sentAt) {
    if (this.stopped || !view) return;
    this.clock.update(view.clock, sentAt);
    this.view = view;
    this.render();
  }

  /** Everything again from the last view (after a language switch). */
  rerender() {
    if (!this.view) return;
    this.ui = {};
    this.render();
  }

  render() {
    const view = this.view;
    // Which controls and sections show depends on the phase: rebuild the head when that changes.
    const shape = `${view.clock.phase}|${this.anyOpen() ? 1 : 0}`;
    if (!this.ui.root) this.renderAll();
    else if (shape !== this.shape) this.renderHead();
    this.shape = shape;
    this.renderCounts();
    this.renderMoves();
    this.renderAlerts();
    this.renderRecordingAlerts();
    this.ui.sealed.hidden = !view.paperSealed;
    this.renderRoster();
    this.renderIncidents();
    this.watchFaces();
    this.tick();
    if (this.ui.updated) {
      this.ui.updated.dataset.at = String(view.clock.serverTime);
      this.ui.updated.textContent = t('console.lastUpdate', { time: formatTime(view.clock.serverTime) });
    }
  }

  anyOpen() {
    return (this.view.roster || []).some((entry) => entry.status === 'answering' || entry.status === 'waiting');
  }

  /** Rebuilds everything (first view, language switch). */
  renderAll() {
    if (!this.view) return;
    this.rows.clear();
    const live = h('span', { class: 'live-status', testid: 'live-status', role: 'status' },
      h('span', { class: 'live-dot', 'aria-hidden': 'true' }), h('span', { class: 'live-label' }));
    const updated = h('span', { class: 'muted small', testid: 'room-updated' });
    const head = h('section', { class: 'card room-head' });
    const moves = h('section', { class: 'card moves-card', testid: 'moves-section', hidden: true });
    const recording = h('section', { class: 'notice notice-danger recording-alerts', testid: 'room-recording-alerts', role: 'alert', hidden: true });
    // The paper arrived sealed and is not opened yet: the room cannot start (the admin enters the code, 启封码).
    const sealed = h('p', { class: 'notice notice-warn', testid: 'room-paper-sealed', role: 'status', hidden: true, i18n: 'console.paperSealed' });
    const alertsCount = h('span', { class: 'badge badge-danger face-alerts-count', testid: 'face-alerts-count' }, '0');
    const alertsList = h('div', { class: 'face-alerts-list' });
    const alerts = h('section', { class: 'card face-alerts-card', testid: 'face-alerts', hidden: true, dataset: { count: 0 } },
      h('h2', { class: 'section-title' }, h('span', { i18n: 'face.alerts.title' }), ' ', alertsCount),
      h('p', { class: 'muted small', i18n: 'face.alerts.hint' }),
      alertsList);
    const tbody = h('tbody', {});
    const table = h('table', { class: 'data roster', testid: 'roster-table' },
      h('thead', {}, h('tr', {}, COLUMNS.map((key) => h('th', {
        class: ['seat', 'answered', 'incidents'].includes(key) ? 'num' : null, i18n: `console.col.${key}`,
      })))),
      tbody);
    const incidents = h('div', { testid: 'incident-list' });
    const faces = h('div', { testid: 'face-verifications' });
    const root = h('div', { class: 'room-screen', testid: 'room-view', dataset: { sitting: this.sittingId, room: this.roomId } },
      h('nav', { class: 'row room-nav' },
        h('a', { class: 'btn btn-small', href: '#', testid: 'back-to-sittings', i18n: 'console.allSittings' }),
        h('span', { class: 'spacer' }), updated, live),
      head,
      sealed,
      recording,
      moves,
      alerts,
      h('section', { class: 'card roster-card' },
        h('h2', { class: 'section-title', i18n: 'console.roster' }),
        h('div', { class: 'table-wrap roster-wrap' }, table)),
      h('section', { class: 'card faces-card' },
        h('div', { class: 'row' },
          h('h2', { class: 'section-title', i18n: 'face.roomTitle' }),
          h('span', { class: 'spacer' }),
          h('button', { type: 'button', class: 'btn btn-small', testid: 'face-verifications-refresh', i18n: 'common.refresh', on: { click: () => this.loadFaces() } })),
        faces),
      this.camerasCard(),
      h('section', { class: 'card incidents-card' },
        h('div', { class: 'row' },
          h('h2', { class: 'section-title', i18n: 'console.incidents' }),
          h('span', { class: 'spacer' }),
          h('button', { type: 'button', class: 'btn btn-small', testid: 'room-incident', i18n: 'console.room.incident', on: { click: () => this.incidentDialog(null) } })),
        incidents),
      this.documentsCard());
    Object.assign(this.ui, {
      root, live, updated, head, moves, alerts, alertsCount, alertsList, tbody, incidents, faces, incidentKey: null, movesKey: null, alertsSig: null,
      recording, recordingSig: null, sealed,
    });
    replaceChildren(this.container, root);
    this.setMode(this.mode);
    this.renderHead();
    this.renderFaces();
  }

  // MARK: cameras

  /** The room's cameras: the live picture on demand (it costs bandwidth on a tablet), and the recordings. */
  camerasCard() {
    // Rebuilt (language switch): the old grid goes with the old card; the remembered choice shows a new one.
    if (this.live) this.live.close();
    this.live = null;
    const liveBox = h('div', { class: 'live-box', testid: 'room-live' });
    const toggle = h('button', { type: 'button', class: 'btn btn-small', testid: 'live-toggle', i18n: 'live.show' });
    toggle.addEventListener('click', async () => {
      if (this.live) {
        this.hideLive();
        localStorage.setItem('kaodian.console.live', '0');
      } else {
        localStorage.setItem('kaodian.console.live', '1');
        await this.showLive();
      }
    });
    this.ui.liveBox = liveBox;
    this.ui.liveToggle = toggle;
    if (localStorage.getItem('kaodian.console.live') === '1') setTimeout(() => this.showLive(), 0);
    return h('section', { class: 'card cameras-card' },
      h('div', { class: 'row' },
        h('h2', { class: 'section-title', i18n: 'live.title' }),
        h('span', { class: 'spacer' }),
        toggle,
        h('a', { class: 'btn btn-small', testid: 'room-playback', href: this.playbackLink(), i18n: 'live.playback' })),
      liveBox);
  }

  /** The console's playback of this room, at `at` (milliseconds) if given. */
  playbackLink(at) {
    return `#playback/${enc(this.sittingId)}/${enc(this.roomId)}${at ? `?at=${at}` : ''}`;
  }

  async showLive() {
    if (this.live || this.stopped || !this.ui.liveBox) return;
    this.live = { close() {} }; // taken while loading, so a second click does nothing
    this.ui.liveToggle.dataset.i18n = 'live.hide';
    this.ui.liveToggle.textContent = t('live.hide');
    try {
      // Loaded when first shown: the room screen works without it (and costs a tablet nothing until then).
      const { showLiveGrid } = await import('../assets/liveview.js');
      const grid = await showLiveGrid(this.ui.liveBox, this.roomId, (path) => this.session.call(path));
      if (this.stopped || !this.live) grid.close();
      else this.live = grid;
    } catch (error) {
      this.live = null;
      if (this.handleAuth(error)) return;
      const box = h('p', { class: 'notice notice-error', testid: 'live-error', role: 'alert' });
      setBilingualText(box, errorTexts(error));
      replaceChildren(this.ui.liveBox, box);
    }
  }

  hideLive() {
    if (this.live) this.live.close();
    this.live = null;
    if (!this.ui.liveBox) return;
    replaceChildren(this.ui.liveBox);
    this.ui.liveToggle.dataset.i18n = 'live.show';
    this.ui.liveToggle.textContent = t('live.show');
  }

  // MARK: recording alerts

  /** The room is sitting an exam but is not recorded, or one of its cameras is down (or the venue's disk is low). */
  renderRecordingAlerts() {
    const alerts = this.view.recordingAlerts || [];
    const sig = JSON.stringify(alerts.map((a) => [a.id, a.message.zh, a.message.en]));
    if (sig === this.ui.recordingSig) return;
    this.ui.recordingSig = sig;
    const box = this.ui.recording;
    box.hidden = alerts.length === 0;
    box.dataset.count = String(alerts.length);
    replaceChildren(box, alerts.length ? [
      h('strong', { i18n: 'console.recordingAlerts' }),
      h('ul', {}, alerts.map((alert) => {
        const text = h('span');
        setBilingualText(text, alert.message);
        return h('li', { testid: `room-recording-alert-${alert.id}`, dataset: { kind: alert.kind } }, formatTime(alert.raisedAt), ' ', text);
      })),
    ] : []);
  }

  // MARK: face alerts

  /**
   * Failed self check-ins and random re-checks of the room's candidates (newest first), from the room view: who,
   * which check, the verdict or the problem (a camera that could not be opened), when, and the picture.
   */
  renderAlerts() {
    const alerts = this.view.faceAlerts || [];
    const sig = JSON.stringify(alerts.map((a) => [a.id, a.decision, a.problem, a.hasPicture, a.seat, a.name]));
    if (sig === this.ui.alertsSig) return;
    this.ui.alertsSig = sig;
    const box = this.ui.alerts;
    box.hidden = alerts.length === 0;
    box.dataset.count = String(alerts.length);
    this.ui.alertsCount.textContent = String(alerts.length);
    this.ui.alertsCount.dataset.n = String(alerts.length);
    this.ui.alertsCount.title = t('face.alerts.countTitle', { n: alerts.length });
    this.alertCaptures.keepOnly(new Set(alerts.filter((a) => a.hasPicture).map((a) => a.id)));
    if (!alerts.length) {
      replaceChildren(this.ui.alertsList, h('p', { class: 'muted', i18n: 'face.alerts.none' }));
      return;
    }
    const seats = new Map((this.view.roster || []).map((e) => [e.admissionNumber, e.seat]));
    replaceChildren(this.ui.alertsList, h('ul', { class: 'face-alerts' }, alerts.map((alert) => {
      const seat = alert.seat || seats.get(alert.personId);
      const picture = alert.hasPicture
        ? h('button', {
          type: 'button', class: 'photo-button face-thumb-button', testid: `face-alert-thumb-${alert.id}`, dataset: { loaded: 'false' },
          i18nTitle: 'face.openPicture', on: { click: () => openCapture(alert, this.alertCaptures) },
        }, this.alertCaptures.thumb(alert.id, alert.name || alert.personId))
        : h('span', { class: 'face-alert-nopic', 'aria-hidden': 'true' }, '⊘');
      return h('li', {
        class: 'face-alert', testid: `face-alert-${alert.id}`,
        dataset: { decision: alert.decision, purpose: alert.purpose, person: alert.personId, problem: alert.problem || '' },
      },
      picture,
      h('div', { class: 'face-alert-text' },
        h('p', { class: 'face-alert-who' },
          seat ? h('span', { class: 'seat-no' }, seat) : null, ' ',
          h('strong', { class: 'cand-name' }, alert.name || ''), ' ',
          h('span', { class: 'mono small' }, alert.personId)),
        h('p', { class: 'row face-alert-what' },
          h('span', { class: 'badge', i18n: `face.purpose.${alert.purpose}` }),
          decisionBadge(alert.decision),
          alert.problem ? h('span', {
            class: 'badge badge-warn', testid: `face-alert-problem-${alert.id}`,
            i18n: alert.problem === 'camera_unavailable' ? 'face.problemWord.camera_unavailable' : null,
          }, alert.problem === 'camera_unavailable' ? null : alert.problem) : null,
          h('span', { class: 'muted small nowrap' }, formatTime(alert.at)),
          h('a', { class: 'small', href: this.playbackLink(alert.at), testid: `face-alert-playback-${alert.id}`, i18n: 'console.incident.playback' }))));
    })));
  }

  // MARK: face verifications

  /** Loads the list again when the roster shows a new face check (made here, on another device, or overridden). */
  watchFaces() {
    const key = (this.view.roster || []).map((e) => (e.face ? `${e.face.verificationId}${e.face.overridden ? '+' : ''}` : '')).join(',');
    if (key === this.facesKey) return;
    this.facesKey = key;
    this.loadFaces();
  }

  async loadFaces() {
    if (this.stopped) return;
    if (this.facesLoading) {
      this.facesLoading.again = true;
      return;
    }
    const loading = { again: false };
    this.facesLoading = loading;
    try {
      this.faces = await this.session.call(`${this.base}/face-verifications`);
      this.facesError = null;
    } catch (error) {
      if (this.handleAuth(error)) return;
      this.facesError = error;
    } finally {
      this.facesLoading = null;
    }
    this.renderFaces();
    if (loading.again) this.loadFaces();
  }

  renderFaces() {
    const box = this.ui.faces;
    if (!box) return;
    if (this.facesError && !this.faces) {
      this.ui.facesSig = null;
      const el = h('p', { class: 'notice notice-error', role: 'alert', testid: 'face-verifications-error' });
      setBilingualText(el, errorTexts(this.facesError));
      replaceChildren(box, el);
      return;
    }
    if (!this.faces) {
      this.ui.facesSig = null;
      replaceChildren(box, h('p', { class: 'muted', i18n: 'common.loading' }));
      return;
    }
    // Unchanged list, unchanged table: no flicker, no thumbnail fetched again, no button replaced under a click.
    const sig = JSON.stringify(this.faces);
    if (sig === this.ui.facesSig) return;
    this.ui.facesSig = sig;
    box.dataset.count = String(this.faces.length);
    this.captures.keepOnly(new Set(this.faces.map((v) => v.id)));
    if (!this.faces.length) {
      replaceChildren(box, h('p', { class: 'muted', i18n: 'face.roomNone' }));
      return;
    }
    const seats = new Map((this.view.roster || []).map((e) => [e.admissionNumber, e.seat]));
    replaceChildren(box, verificationTable(this.faces, { images: this.captures, seats, prefix: 'face' }));
  }

  documentsCard() {
    return h('section', { class: 'card documents-card', testid: 'documents' },
      h('h2', { class: 'section-title', i18n: 'console.documents' }),
      h('p', { class: 'muted small', i18n: 'console.documentsHint' }),
      h('div', { class: 'row' }, DOCUMENTS.map((kind) => h('a', {
        class: 'btn', href: documentLink(kind, this.sittingId, this.roomId), target: '_blank', rel: 'noopener',
        testid: `doc-${kind}`, i18n: `doc.${kind}`,
      }))));
  }

  renderHead() {
    const view = this.view;
    const phase = view.clock.phase;
    const button = (key, testid, onClick, cls = 'btn') => h('button', { type: 'button', class: cls, testid, i18n: key, on: { click: onClick } });
    const controls = [];
    const open = this.anyOpen();
    if (phase === 'waiting') controls.push(button('console.room.start', 'room-start', () => this.startDialog(), 'btn btn-primary'));
    if (phase === 'running' || (phase === 'over' && open)) controls.push(button('console.room.pause', 'room-pause', () => this.pauseDialog()));
    if (phase === 'paused') controls.push(button('console.room.resume', 'room-resume', () => this.resumeDialog(), 'btn btn-primary'));
    if (phase === 'running' || phase === 'paused') controls.push(button('console.room.extend', 'room-extend', () => this.extendDialog(null)));
    if (phase === 'running' || phase === 'paused' || (phase === 'over' && open)) {
      controls.push(button('console.room.end', 'room-end', () => this.endDialog(), 'btn btn-danger'));
    }
    this.ui.clockText = h('span', { class: 'room-clock', testid: 'room-clock' });
    this.ui.counts = h('div', { class: 'counts', testid: 'room-counts' });
    replaceChildren(this.ui.head,
      h('div', { class: 'row room-title-row' },
        h('h1', { class: 'room-title', testid: 'room-title' }, view.roomName),
        h('span', { class: 'muted' }, `${view.sittingName}（${view.sittingId} · ${view.roomId}）`)),
      h('div', { class: 'row room-clock-row' },
        h('span', { class: ['badge badge-large', PHASE_BADGE[phase]], testid: 'room-phase', dataset: { phase }, i18n: `console.phase.${phase}` }),
        this.ui.clockText),
      this.ui.counts,
      controls.length ? h('div', { class: 'row room-controls', testid: 'room-controls' }, controls) : null);
    this.ui.root.dataset.phase = phase;
    this.renderCounts();
    this.tick();
  }

  renderCounts() {
    const counts = this.view.counts || {};
    replaceChildren(this.ui.counts, ['candidates', 'notArrived', 'checkedIn', 'waiting', 'answering', 'submitted', 'absent'].map((key) => h('span', {
      class: ['count', `count-${key}`], testid: `count-${key}`, dataset: { n: counts[key] ?? 0 },
    }, h('span', { class: 'count-label', i18n: `console.count.${key}` }), h('strong', {}, String(counts[key] ?? 0)))));
  }

  /** Clocks move every second between two views. */
  tick() {
    if (!this.view || !this.ui.clockText) return;
    const c = this.view.clock;
    let text;
    if (c.phase === 'waiting') text = t('console.startsIn', { time: formatHMS(Math.max(0, c.startsAt - this.clock.now())) });
    else if (c.phase === 'running') text = t('console.remaining', { time: formatHMS(Math.max(0, this.clock.remaining() ?? 0)) });
    else if (c.phase === 'paused') text = t('console.pausedRemaining', { time: formatHMS(c.remainingMs ?? 0) });
    else text = t('console.phase.over');
    this.ui.clockText.textContent = text;
    for (const [admission, row] of this.rows) this.updateTime(row, row.entry, admission);
  }

  renderMoves() {
    const moves = this.view.pendingMoves || [];
    const key = moves.map((m) => m.id).join(',');
    this.ui.moves.hidden = moves.length === 0;
    if (key === this.ui.movesKey) return;
    this.ui.movesKey = key;
    replaceChildren(this.ui.moves,
      h('h2', { class: 'section-title' }, h('span', { i18n: 'console.moves' }), ' ', h('span', { class: 'badge badge-danger' }, String(moves.length))),
      h('ul', { class: 'moves' }, moves.map((move) => h('li', { class: 'move', testid: `move-${move.admissionNumber}`, dataset: { moveId: move.id } },
        h('img', { class: 'thumb', src: `/api/photos/${enc(move.admissionNumber)}`, alt: move.name, width: 40, height: 48 }),
        h('div', { class: 'move-text' },
          h('p', { i18n: 'console.moveText', params: { name: move.name, admission: move.admissionNumber, from: move.fromTerminal || '—', to: move.toTerminal } }),
          h('p', { class: 'muted small', i18n: 'console.moveAt', params: { time: formatDateTime(move.requestedAt) } })),
        h('div', { class: 'row move-actions' },
          h('button', { type: 'button', class: 'btn btn-primary btn-small', testid: `move-approve-${move.admissionNumber}`, i18n: 'console.moveApprove', on: { click: () => this.approveMoveDialog(move) } }),
          h('button', { type: 'button', class: 'btn btn-small', testid: `move-reject-${move.admissionNumber}`, i18n: 'console.moveReject', on: { click: () => this.rejectMoveDialog(move) } }))))));
  }

  renderRoster() {
    const roster = this.view.roster || [];
    const seen = new Set();
    let previous = null;
    for (const entry of roster) {
      seen.add(entry.admissionNumber);
      let row = this.rows.get(entry.admissionNumber);
      if (!row) {
        row = this.buildRow(entry);
        this.rows.set(entry.admissionNumber, row);
      }
      // Keep the server's (seat) order.
      const expected = previous ? previous.nextSibling : this.ui.tbody.firstChild;
      if (expected !== row.tr) this.ui.tbody.insertBefore(row.tr, expected);
      this.updateRow(row, entry);
      previous = row.tr;
    }
    for (const [admission, row] of this.rows) {
      if (!seen.has(admission)) {
        row.tr.remove();
        this.rows.delete(admission);
      }
    }
  }

  buildRow(entry) {
    const cells = {};
    for (const key of COLUMNS) {
      cells[key] = h('td', { class: `col-${key}`, dataset: { label: t(`console.col.${key}`) } });
    }
    cells.seat.classList.add('num');
    cells.answered.classList.add('num');
    cells.incidents.classList.add('num');
    const photo = h('img', {
      class: 'thumb', src: `/api/photos/${enc(entry.admissionNumber)}`, alt: entry.name, loading: 'lazy', width: 40, height: 48,
    });
    const photoButton = h('button', {
      type: 'button', class: 'photo-button', testid: `photo-${entry.admissionNumber}`, i18nTitle: 'console.checkInTitle',
      on: { click: () => this.checkInDialog(row.entry, { viewOnly: row.entry.status === 'submitted' || Boolean(row.entry.checkIn) }) },
    }, photo);
    cells.photo.appendChild(photoButton);
    // Terminal and last heartbeat share a cell: the one tells where, the other whether it is still alive.
    const terminalEl = h('span', { class: 'mono small term-id', testid: `terminal-${entry.admissionNumber}` });
    const heartbeatEl = h('span', { class: 'hb', testid: `heartbeat-${entry.admissionNumber}` });
    cells.terminal.append(terminalEl, heartbeatEl);
    const tr = h('tr', { testid: `roster-row-${entry.admissionNumber}` }, COLUMNS.map((key) => cells[key]));
    const row = { tr, cells, photo, entry, sig: '', terminalEl, heartbeatEl };
    return row;
  }

  updateRow(row, entry) {
    row.entry = entry;
    const { tr, cells } = row;
    tr.dataset.status = entry.status;
    tr.dataset.stale = entry.heartbeatStale ? 'true' : 'false';
    tr.classList.toggle('is-stale', Boolean(entry.heartbeatStale));
    tr.classList.toggle('is-absent', entry.status === 'absent');
    tr.classList.toggle('has-incident', entry.incidents > 0);
    const phase = this.view.clock.phase;
    // Only rebuild the cells when something in them changed (the photo cell never is).
    const sig = JSON.stringify([entry.seat, entry.name, entry.status, entry.checkIn, entry.answered, entry.questionCount, entry.events,
      entry.incidents, entry.terminalId, entry.face]);
    tr.dataset.checkinMethod = entry.checkIn ? entry.checkIn.method || 'manual' : '';
    // The buttons are rebuilt only when what they offer changes, so that a click never lands on a replaced button.
    const open = entry.remainingMs === undefined || entry.remainingMs === null || entry.remainingMs > 0;
    const actionsSig = JSON.stringify([entry.status, Boolean(entry.checkIn), entry.attemptId, open, phase]);
    if (actionsSig !== row.actionsSig) {
      row.actionsSig = actionsSig;
      replaceChildren(cells.actions, this.rowActions(entry));
    }
    if (sig !== row.sig) {
      row.sig = sig;
      const a = entry.admissionNumber;
      replaceChildren(cells.seat, h('span', { class: 'seat-no' }, entry.seat));
      replaceChildren(cells.name, h('span', { class: 'cand-name', testid: `name-${a}` }, entry.name));
      replaceChildren(cells.admission, h('span', { class: 'mono' }, a));
      replaceChildren(cells.status,
        h('span', { class: ['badge', STATUS_BADGE[entry.status]], testid: `status-${a}`, dataset: { status: entry.status }, i18n: `console.status.${entry.status}` }),
        entry.checkIn && entry.status !== 'checkedIn'
          ? h('span', { class: 'badge badge-primary checked-chip', i18n: 'console.status.checkedIn', title: t('console.checkedInAt', { time: formatTime(entry.checkIn.at), by: entry.checkIn.by }) })
          : null,
        entry.checkIn && entry.checkIn.method === 'selfFace'
          ? h('span', { class: 'badge badge-ok face-chip', testid: `checkin-method-${a}`, dataset: { method: 'selfFace' }, i18n: 'console.checkInMethod.selfFace' })
          : null,
        entry.face ? faceChip(entry) : null);
      const total = entry.questionCount || 0;
      replaceChildren(cells.answered, h('span', { testid: `answered-${a}`, dataset: { answered: entry.answered ?? 0, total } },
        `${entry.answered ?? 0}/${total}`),
      total ? h('span', { class: 'progress', 'aria-hidden': 'true' }, h('span', { class: `progress-bar p${Math.round(((entry.answered || 0) / total) * 10)}` })) : null);
      const events = entry.events || {};
      replaceChildren(cells.events, h('span', { class: 'events', testid: `events-${a}`, dataset: { total: events.total ?? 0 } },
        EVENT_KINDS.map((kind) => h('span', {
          class: ['ev', events[kind] > 0 ? 'ev-some' : null], dataset: { kind, n: events[kind] ?? 0 }, title: t(`console.event.${kind}`),
        }, h('span', { class: 'ev-label', i18n: `console.eventShort.${kind}` }), ' ', h('strong', {}, String(events[kind] ?? 0))))));
      replaceChildren(cells.incidents, h('span', {
        class: ['badge', entry.incidents > 0 ? 'badge-danger' : null], testid: `incidents-${a}`, dataset: { count: entry.incidents ?? 0 },
      }, String(entry.incidents ?? 0)));
      const terminal = entry.terminalId || '';
      row.terminalEl.textContent = terminal.length > 12 ? `${terminal.slice(0, 5)}…${terminal.slice(-4)}` : terminal || '—';
      row.terminalEl.title = terminal;
      row.terminalEl.dataset.terminal = terminal;
    }
    this.updateHeartbeat(row, entry);
    this.updateTime(row, entry);
  }

  updateHeartbeat(row, entry) {
    let text = entry.heartbeatStale ? t('console.noHeartbeat') : t('common.never');
    if (entry.lastHeartbeat) {
      const seconds = Math.max(0, Math.round((this.clock.now() - entry.lastHeartbeat) / 1000));
      text = seconds < 120 ? t('common.secondsAgo', { n: seconds }) : t('common.minutesAgo', { n: Math.round(seconds / 60) });
    }
    const el = row.heartbeatEl;
    el.textContent = `♥ ${text}`;
    el.dataset.stale = entry.heartbeatStale ? 'true' : 'false';
    el.className = entry.heartbeatStale ? 'hb stale' : 'hb';
    el.title = entry.heartbeatStale ? t('console.staleHeartbeat') : (entry.lastHeartbeat ? formatDateTime(entry.lastHeartbeat) : '');
  }

  updateTime(row, entry) {
    const cell = row.cells.time;
    const el = cell.firstChild || cell.appendChild(h('span', { testid: `time-${entry.admissionNumber}` }));
    const parts = [];
    let remaining = null;
    if (entry.status === 'submitted' && entry.submittedAt) {
      parts.push(t('console.submittedShort', { time: formatTime(entry.submittedAt) }));
    } else if (typeof entry.endsAt === 'number' && this.view.clock.phase !== 'waiting') {
      remaining = this.view.clock.phase === 'paused' ? entry.remainingMs ?? 0 : Math.max(0, entry.endsAt - this.clock.now());
      parts.push(t('console.remainingShort', { time: formatHMS(remaining) }));
    }
    if (entry.extensionSeconds) parts.push(t('console.extensionShort', { n: Math.round(entry.extensionSeconds / 60) }));
    el.textContent = parts.join(' · ') || '—';
    el.dataset.remainingMs = remaining === null ? '' : String(Math.round(remaining));
    el.dataset.extension = String(entry.extensionSeconds || 0);
  }

  rowActions(entry) {
    const a = entry.admissionNumber;
    const current = () => (this.rows.get(a) && this.rows.get(a).entry) || entry; // the latest view when clicked
    const phase = this.view.clock.phase;
    const button = (key, testid, onClick, cls = 'btn btn-small') => h('button', { type: 'button', class: cls, testid, i18n: key, on: { click: onClick } });
    const list = [];
    const active = entry.status === 'waiting' || entry.status === 'answering';
    if (!entry.checkIn && entry.status !== 'submitted' && entry.status !== 'checkedIn') {
      list.push(button('console.act.checkIn', `checkin-${a}`, () => this.checkInDialog(current())));
    }
    if (entry.status === 'notArrived' || entry.status === 'checkedIn') list.push(button('console.act.absent', `absent-${a}`, () => this.absentDialog(current())));
    if (active && entry.attemptId && (entry.remainingMs === undefined || entry.remainingMs === null || entry.remainingMs > 0 || phase === 'waiting')) {
      list.push(button('console.act.extend', `extend-${a}`, () => this.extendDialog(current())));
    }
    if (active && entry.attemptId && phase !== 'waiting') {
      list.push(button('console.act.forceSubmit', `force-submit-${a}`, () => this.forceSubmitDialog(current()), 'btn btn-small btn-danger-outline'));
    }
    list.push(button('console.act.incident', `incident-${a}`, () => this.incidentDialog(current())));
    return h('div', { class: 'row-actions' }, list);
  }

  renderIncidents() {
    const incidents = this.view.incidents || [];
    const key = incidents.map((i) => i.id).join(',');
    if (key === this.ui.incidentKey) return;
    this.ui.incidentKey = key;
    this.ui.incidents.dataset.count = String(incidents.length);
    if (!incidents.length) {
      replaceChildren(this.ui.incidents, h('p', { class: 'muted', i18n: 'console.incidentsNone' }));
      return;
    }
    const head = ['time', 'candidate', 'category', 'note', 'recordedBy'].map((k) => h('th', { i18n: `console.col.${k}` }));
    replaceChildren(this.ui.incidents, h('div', { class: 'table-wrap' }, h('table', { class: 'data incidents' },
      h('thead', {}, h('tr', {}, head)),
      h('tbody', {}, [...incidents].reverse().map((incident) => h('tr', {
        testid: `incident-${incident.id}`, dataset: { category: incident.category, admission: incident.admissionNumber || '' },
      },
      h('td', { class: 'nowrap', dataset: { label: t('console.col.time') } }, formatTime(incident.occurredAt), ' ',
        h('a', { class: 'small', href: this.playbackLink(incident.occurredAt), testid: `incident-playback-${incident.id}`, i18n: 'console.incident.playback' })),
      h('td', { dataset: { label: t('console.col.candidate') } }, incident.admissionNumber
        ? `${incident.name || ''} ${incident.admissionNumber}` : h('span', { i18n: 'console.wholeRoom' })),
      h('td', { dataset: { label: t('console.col.category') } }, h('span', { class: 'badge badge-danger', i18n: `incident.${incident.category}` })),
      h('td', { class: 'pre-wrap', dataset: { label: t('console.col.note') } }, incident.note),
      h('td', { dataset: { label: t('console.col.recordedBy') } }, incident.recordedBy)))))));
  }

  // MARK: actions

  /** Runs a POST; on success shows the message and refreshes the view; errors stay in the dialog. */
  async act(path, body, success) {
    try {
      const result = await this.session.call(`${this.base}${path}`, { method: 'POST', body: body ?? {} });
      showMessage(success, 'ok', 'console-message');
      this.refreshNow();
      return result;
    } catch (error) {
      if (this.handleAuth(error)) return null;
      throw error;
    }
  }

  startDialog() {
    openDialog({
      testid: 'console-dialog',
      title: h('h2', { i18n: 'console.room.startTitle', params: { room: this.view.roomName } }),
      body: h('p', { i18n: 'console.room.startConfirm' }),
      confirmKey: 'console.room.start',
      onConfirm: () => this.act('/start', {}, tBoth('console.startedDone')),
    });
  }

  pauseDialog() {
    const reason = reasonInput('console.room.pauseReasonPlaceholder');
    openDialog({
      testid: 'console-dialog',
      title: h('h2', { i18n: 'console.room.pauseTitle', params: { room: this.view.roomName } }),
      body: [h('p', { class: 'notice notice-warn', i18n: 'console.room.pauseHint' }), field('console.reason', reason)],
      confirmKey: 'console.room.pause',
      danger: true,
      onConfirm: () => this.act('/pause', { reason: required(reason) }, tBoth('console.pausedDone')),
    });
  }

  resumeDialog() {
    const reason = reasonInput();
    openDialog({
      testid: 'console-dialog',
      title: h('h2', { i18n: 'console.room.resumeTitle', params: { room: this.view.roomName } }),
      body: [h('p', { i18n: 'console.room.resumeHint' }), field('console.reasonOptional', reason)],
      confirmKey: 'console.room.resume',
      onConfirm: () => this.act('/resume', reason.value.trim() ? { reason: reason.value.trim() } : {}, tBoth('console.resumedDone')),
    });
  }

  endDialog() {
    const reason = reasonInput();
    const check = h('input', { type: 'checkbox', id: 'dialog-check', testid: 'dialog-check' });
    openDialog({
      testid: 'console-dialog',
      title: h('h2', { i18n: 'console.room.endTitle', params: { room: this.view.roomName } }),
      body: [
        h('p', { class: 'notice notice-error', i18n: 'console.room.endWarning' }),
        field('console.reason', reason),
        h('label', { class: 'check', for: 'dialog-check' }, check, h('span', { i18n: 'console.room.endCheck' })),
      ],
      confirmKey: 'console.room.end',
      danger: true,
      onConfirm: () => {
        const text = required(reason);
        if (!check.checked) throw new FormError(tBoth('console.room.endNeedCheck'));
        return this.act('/end', { reason: text }, tBoth('console.endedDone'));
      },
    });
  }

  extendDialog(entry) {
    const minutes = h('input', {
      class: 'input input-short', type: 'number', min: 1, max: 360, step: 1, value: '10', testid: 'dialog-minutes', id: 'dialog-minutes', inputMode: 'numeric',
    });
    const reason = reasonInput('console.extendReasonPlaceholder');
    openDialog({
      testid: 'console-dialog',
      title: entry
        ? h('h2', { i18n: 'console.extendTitle', params: { name: `${entry.name}（${entry.seat}）` } })
        : h('h2', { i18n: 'console.room.extendTitle', params: { room: this.view.roomName } }),
      body: [field('console.extendMinutes', minutes), field('console.extendReason', reason)],
      confirmKey: 'console.act.extend',
      onConfirm: () => {
        const n = Number(minutes.value);
        if (!Number.isInteger(n) || n < 1 || n > 360) throw new FormError(tBoth('console.extendMinutesRange'));
        const body = { seconds: n * 60, reason: required(reason) };
        if (entry) body.attemptId = entry.attemptId;
        return this.act('/extensions', body, entry ? tBoth('console.extendDoneOne', { name: entry.name, n }) : tBoth('console.extendDoneRoom', { n }));
      },
    });
  }

  /**
   * The registered photo large beside name and ID, to compare with the person, and (to check them in) the camera
   * beside it for a face check. Manual check-in with a note stays possible, until a face check has failed: from
   * then on the way in is an override with a reason (or a retake that matches).
   */
  checkInDialog(entry, { viewOnly = false } = {}) {
    const note = h('input', { class: 'input', id: 'dialog-note', testid: 'dialog-note', maxLength: 500, autocomplete: 'off' });
    const kv = (key, value, testid) => [h('dt', { i18n: key }), h('dd', { testid }, value ?? '—')];
    const photo = h('img', { class: 'identity-photo', testid: 'dialog-photo', src: `/api/photos/${enc(entry.admissionNumber)}`, alt: entry.name, width: 240, height: 288 });
    const details = h('dl', { class: 'kv identity-kv' },
      kv('term.name', entry.name, 'dialog-name'),
      kv('term.admission', entry.admissionNumber, 'dialog-admission'),
      kv('term.idMasked', entry.idNumberMasked),
      entry.organisation ? kv('term.organisation', entry.organisation) : null,
      kv('term.seat', entry.seat),
      kv('console.col.status', h('span', { i18n: `console.status.${entry.status}` }), 'dialog-status'),
      entry.checkIn ? kv('console.status.checkedIn', `${t('console.checkedInAt', { time: formatTime(entry.checkIn.at), by: entry.checkIn.by })}${
        entry.checkIn.method && entry.checkIn.method !== 'manual' ? ` · ${t(`console.checkInMethod.${entry.checkIn.method}`)}` : ''}`) : null,
      entry.face ? kv('face.latest', `${t(`face.decision.${entry.face.decision}`)} ${formatSimilarity(entry.face.similarity)}${entry.face.overridden ? ` · ${t('face.overridden')}` : ''}`) : null);
    let dialog = null;
    const manual = h('div', { class: 'face-manual', testid: 'manual-check-in' },
      viewOnly ? null : h('p', { class: 'muted small', i18n: 'face.manualHint' }),
      field('console.checkInNote', note));
    /** No more manual check-in: the candidate is in, or a failed face check needs an override with a reason. */
    const closeManual = (checkedIn) => {
      if (!dialog) return;
      manual.hidden = true;
      const confirm = dialog.el.querySelector('[data-testid="dialog-confirm"]');
      if (confirm) confirm.hidden = true;
      if (checkedIn) {
        const status = dialog.el.querySelector('[data-testid="dialog-status"] span');
        status.dataset.i18n = 'console.status.checkedIn';
        status.textContent = t('console.status.checkedIn');
        const cancel = dialog.el.querySelector('[data-testid="dialog-cancel"]');
        cancel.dataset.i18n = 'common.close';
        cancel.textContent = t('common.close');
      }
    };
    const face = viewOnly ? null : new FaceCheck({
      session: this.session,
      base: this.base,
      entry,
      handleAuth: (error) => this.handleAuth(error),
      onChecked: () => this.loadFaces(),
      onFailed: () => closeManual(false),
      onCheckedIn: (method) => {
        closeManual(true);
        showMessage(tBoth(method === 'face' ? 'face.checkInDone' : 'face.overrideDone', { name: entry.name }), 'ok', 'console-message');
        this.refreshNow();
        this.loadFaces();
      },
    });
    // Face check: photo and camera side by side, the buttons and the verdict right under them, the details beside
    // (on a PC) or below (tablet, phone).
    const identity = face
      ? h('div', { class: 'identity identity-face' },
        h('div', { class: 'face-main' },
          h('div', { class: 'face-compare' },
            h('figure', { class: 'face-figure' }, photo, h('figcaption', { class: 'muted small', i18n: 'face.registeredPhoto' })),
            h('figure', { class: 'face-figure face-figure-camera' }, face.camera, h('figcaption', { class: 'muted small', i18n: 'face.liveCamera' }))),
          face.panel),
        details)
      : h('div', { class: 'identity' }, photo, details);
    dialog = openDialog({
      testid: 'console-dialog',
      wide: true,
      title: h('h2', { i18n: face ? 'face.checkInTitle' : 'console.checkInTitle' }),
      body: [
        h('p', { class: 'muted', i18n: face ? 'face.checkInHint' : 'console.checkInHint' }),
        identity,
        viewOnly ? null : manual,
      ],
      confirmKey: face ? 'face.manualConfirm' : 'console.checkInConfirm',
      cancelKey: viewOnly ? 'common.close' : 'common.cancel',
      onConfirm: viewOnly ? null : () => this.act(`/candidates/${enc(entry.admissionNumber)}/check-in`,
        note.value.trim() ? { note: note.value.trim() } : {}, tBoth('console.checkInDone', { name: entry.name })),
    });
    if (face) {
      dialog.el.classList.add('dialog-face');
      dialog.el.addEventListener('close', () => face.stop());
      face.start();
      if (!entry.checkIn && entry.face && entry.face.decision !== 'match' && !entry.face.overridden) face.resumeFailed(entry.face);
    }
  }

  absentDialog(entry) {
    const reason = reasonInput();
    openDialog({
      testid: 'console-dialog',
      title: h('h2', { i18n: 'console.absentTitle', params: { name: `${entry.name}（${entry.admissionNumber}）` } }),
      body: [h('p', { class: 'notice notice-warn', i18n: 'console.absentHint' }), field('console.reasonOptional', reason)],
      confirmKey: 'console.absentConfirm',
      danger: true,
      onConfirm: () => this.act(`/candidates/${enc(entry.admissionNumber)}/absent`,
        reason.value.trim() ? { reason: reason.value.trim() } : {}, tBoth('console.absentDone', { name: entry.name })),
    });
  }

  forceSubmitDialog(entry) {
    const reason = reasonInput();
    openDialog({
      testid: 'console-dialog',
      title: h('h2', { i18n: 'console.forceTitle', params: { name: `${entry.name}（${entry.seat}）` } }),
      body: [
        h('p', { class: 'notice notice-error', i18n: 'console.forceWarning' }),
        h('p', { class: 'muted' }, `${entry.admissionNumber} · ${entry.answered ?? 0}/${entry.questionCount ?? 0}`),
        field('console.reason', reason),
      ],
      confirmKey: 'console.forceConfirm',
      danger: true,
      onConfirm: () => this.act(`/candidates/${enc(entry.admissionNumber)}/force-submit`, { reason: required(reason) },
        tBoth('console.forceDone', { name: entry.name })),
    });
  }

  incidentDialog(entry) {
    const category = h('select', { class: 'input', id: 'dialog-category', testid: 'dialog-category' },
      INCIDENT_CATEGORIES.map((c) => h('option', { value: c, i18n: `incident.${c}` })));
    const note = h('textarea', {
      class: 'input', rows: 4, id: 'dialog-note', testid: 'dialog-note', maxLength: 2000, i18nPlaceholder: 'console.incidentNotePlaceholder',
    });
    openDialog({
      testid: 'console-dialog',
      title: entry
        ? h('h2', { i18n: 'console.incidentTitle', params: { name: `${entry.name}（${entry.admissionNumber}）` } })
        : h('h2', { i18n: 'console.incidentRoomTitle', params: { room: this.view.roomName } }),
      body: [field('console.incidentCategory', category), field('console.incidentNote', note)],
      confirmKey: 'common.save',
      onConfirm: () => {
        const text = note.value.trim();
        if (!text) throw new FormError(tBoth('console.incidentNoteRequired'));
        const body = { category: category.value, note: text };
        if (entry) body.admissionNumber = entry.admissionNumber;
        const names = tBoth(`incident.${category.value}`);
        return this.act('/incidents', body, {
          zh: tBoth('console.incidentDone', { category: names.zh }).zh, en: tBoth('console.incidentDone', { category: names.en }).en,
        });
      },
    });
  }

  approveMoveDialog(move) {
    openDialog({
      testid: 'console-dialog',
      title: h('h2', { i18n: 'console.moveApproveTitle', params: { name: `${move.name}（${move.admissionNumber}）` } }),
      body: [
        h('div', { class: 'identity' },
          h('img', { class: 'identity-photo', src: `/api/photos/${enc(move.admissionNumber)}`, alt: move.name, width: 240, height: 288 }),
          h('div', {},
            h('p', { i18n: 'console.moveText', params: { name: move.name, admission: move.admissionNumber, from: move.fromTerminal || '—', to: move.toTerminal } }),
            h('p', { class: 'notice notice-warn', i18n: 'console.moveApproveHint' }))),
      ],
      confirmKey: 'console.moveApprove',
      onConfirm: () => this.act(`/moves/${enc(move.id)}/approve`, {}, tBoth('console.moveApproved', { name: move.name })),
    });
  }

  rejectMoveDialog(move) {
    const reason = reasonInput();
    openDialog({
      testid: 'console-dialog',
      title: h('h2', { i18n: 'console.moveRejectTitle', params: { name: `${move.name}（${move.admissionNumber}）` } }),
      body: [h('p', { i18n: 'console.moveText', params: { name: move.name, admission: move.admissionNumber, from: move.fromTerminal || '—', to: move.toTerminal } }),
        field('console.reason', reason)],
      confirmKey: 'console.moveReject',
      danger: true,
      onConfirm: () => this.act(`/moves/${enc(move.id)}/reject`, { reason: required(reason) }, tBoth('console.moveRejected', { name: move.name })),
    });
  }
}

/** The latest face check beside the check-in chip: decision and similarity, and whether it was overridden. */
function faceChip(entry) {
  const face = entry.face;
  const cls = face.decision === 'match' ? 'badge-ok' : face.overridden ? 'badge-warn' : 'badge-danger';
  const label = `${t(`face.chip.${face.decision}`)}${face.overridden ? ` · ${t('face.overridden')}` : ''}`;
  return h('span', {
    class: ['badge', cls, 'face-chip'], testid: `face-${entry.admissionNumber}`,
    dataset: { decision: face.decision, similarity: face.similarity ?? '', overridden: face.overridden ? 'true' : 'false' },
    title: t('face.chipTitle', { time: formatTime(face.at), similarity: formatSimilarity(face.similarity) }),
  }, face.similarity === null || face.similarity === undefined ? label : `${label} ${formatSimilarity(face.similarity)}`);
}

function reasonInput(placeholderKey) {
  return h('textarea', {
    class: 'input', rows: 3, id: 'dialog-reason', testid: 'dialog-reason', maxLength: 500, i18nPlaceholder: placeholderKey || null,
  });
}

function required(textarea) {
  const text = textarea.value.trim();
  if (!text) throw new FormError(tBoth('console.reasonRequired'));
  return text;
}
