// Face checks on the candidate terminal.
//
// SelfCheckCard: on the waiting screen, when the sitting asks for self check-in, the candidate opens the camera,
// takes a picture and the venue compares it with the registered photo. A match checks them in; after the tries
// are used (or when the camera cannot be used) they raise their hand and the invigilator checks them in at the
// desk — the terminal notices that through its usual refresh of GET /api/attempt (see terminal.js).
// The candidate never sees the similarity, only passed / not recognised and the venue's message.
//
// Recheck: during the exam, when a heartbeat says a random re-check is due, a small overlay opens the camera,
// takes a picture after about 3 s and sends it; it never blocks answering and never sends two at once. A camera
// that cannot be opened is reported as such (…&failure=camera_unavailable, recorded as unusable).
//
// data-testid hooks: selfcheck-card (data-state idle|starting|live|checking|unavailable|help|done),
//   selfcheck-camera, selfcheck-video, selfcheck-status, selfcheck-start, selfcheck-capture,
//   selfcheck-result (data-decision match|mismatch|unusable), selfcheck-message, selfcheck-tries (data-n),
//   selfcheck-help, selfcheck-error;
//   recheck-overlay (data-state camera|sending|done|failed, data-decision once answered), recheck-video

import { ApiError, errorTexts } from '../assets/api.js';
import { h, replaceChildren } from '../assets/dom.js';
import { t, tBoth, setBilingualText, applyI18n } from '../assets/i18n.js';
import { CameraError, cameraProblem, grabFrame, offerSecurePage, openCamera, stopVideo } from '../assets/camera.js';

const CHECK_PATH = '/api/attempt/face-check';
const RECHECK_DELAY_MS = 3000;
const CAMERA_WAIT_MS = 20000;

/** Sets the translated text of an element (kept in step with the language switch). */
function say(el, key, params) {
  el.dataset.i18n = key;
  if (params) el.dataset.i18nParams = JSON.stringify(params);
  else delete el.dataset.i18nParams;
  el.textContent = t(key, params);
}

export class SelfCheckCard {
  /**
   * call(path, options): the terminal's API call; face: attempt.face; onCheckedIn(): the candidate is checked in
   * now (here, or by the invigilator); onNotDue(): the venue no longer asks for it (refresh the attempt).
   */
  constructor({ call, face, onCheckedIn, onNotDue = () => {} }) {
    this.call = call;
    this.onCheckedIn = onCheckedIn;
    this.onNotDue = onNotDue;
    this.stopped = false;
    this.busy = false;
    this.finished = false;
    this.build();
    if (face && face.triesLeft === 0) this.needHelp();
    else this.setState('idle');
    if (face && typeof face.triesLeft === 'number' && face.triesLeft < 5 && face.triesLeft > 0) this.showTries(face.triesLeft);
  }

  build() {
    this.video = h('video', { class: 'face-video', testid: 'selfcheck-video', autoplay: true, muted: true, playsInline: true, hidden: true });
    this.still = h('canvas', { class: 'face-still', width: 640, height: 480, hidden: true });
    this.status = h('p', { class: 'face-camera-status', testid: 'selfcheck-status', role: 'status' });
    this.camera = h('div', { class: 'face-camera selfcheck-camera', testid: 'selfcheck-camera' }, this.video, this.still, this.status);
    this.startButton = h('button', { type: 'button', class: 'btn btn-primary', testid: 'selfcheck-start', i18n: 'term.selfCheck.start', on: { click: () => this.start() } });
    this.captureButton = h('button', { type: 'button', class: 'btn btn-primary', testid: 'selfcheck-capture', i18n: 'term.selfCheck.capture', hidden: true, on: { click: () => this.capture() } });
    this.result = h('div', { class: 'selfcheck-result', testid: 'selfcheck-result', hidden: true, role: 'status', 'aria-live': 'polite' });
    this.tries = h('p', { class: 'muted selfcheck-tries', testid: 'selfcheck-tries', hidden: true });
    this.help = h('p', { class: 'notice notice-warn selfcheck-help', testid: 'selfcheck-help', role: 'alert', i18n: 'term.selfCheck.help', hidden: true });
    this.error = h('p', { class: 'form-error', testid: 'selfcheck-error', role: 'alert', hidden: true });
    this.hint = h('p', { class: 'muted', i18n: 'term.selfCheck.hint' });
    this.el = h('section', { class: 'card selfcheck-card', testid: 'selfcheck-card', 'aria-labelledby': 'selfcheck-title' },
      h('h2', { id: 'selfcheck-title', i18n: 'term.selfCheck.title' }),
      this.hint,
      h('div', { class: 'selfcheck-body' },
        this.camera,
        h('div', { class: 'selfcheck-side' },
          h('div', { class: 'row selfcheck-controls' }, this.startButton, this.captureButton),
          this.result, this.tries, this.error, this.help)));
  }

  setState(state, reason) {
    this.el.dataset.state = state;
    const live = state === 'live';
    this.video.hidden = !live;
    this.still.hidden = state !== 'checking';
    this.camera.hidden = state === 'idle' || state === 'help' || state === 'done';
    this.camera.dataset.state = state === 'unavailable' ? 'unavailable' : live ? 'live' : 'starting';
    const statusKey = {
      starting: 'term.recheck.starting', checking: 'term.selfCheck.checking', unavailable: `term.camera.${reason}`,
    }[state];
    this.status.hidden = !statusKey;
    this.status.classList.toggle('is-overlay', state === 'checking');
    if (statusKey) say(this.status, statusKey);
    if (state === 'unavailable' && reason === 'insecure') offerSecurePage(this.status);
    this.captureButton.hidden = !live;
    this.captureButton.disabled = this.busy;
    const canStart = state === 'idle' || state === 'unavailable';
    this.startButton.hidden = !canStart || (state === 'unavailable' && (reason === 'insecure' || reason === 'unsupported'));
    say(this.startButton, state === 'unavailable' ? 'term.selfCheck.restart' : 'term.selfCheck.start');
  }

  async start() {
    if (this.stopped || this.finished || this.busy) return;
    this.error.hidden = true;
    this.setState('starting');
    try {
      const stream = await openCamera(this.video, { cancelled: () => this.stopped || this.finished });
      if (!stream) return;
    } catch (error) {
      if (this.stopped || this.finished) return;
      const reason = cameraProblem(error);
      this.setState('unavailable', reason);
      this.help.hidden = false; // the invigilator can check them in at the desk
      return;
    }
    this.setState('live');
  }

  async capture() {
    if (this.busy || this.finished || !this.video.srcObject) return;
    this.busy = true;
    this.error.hidden = true;
    let blob;
    try {
      ({ blob } = await grabFrame(this.video, { canvas: this.still }));
    } catch {
      this.busy = false;
      this.showError(tBoth('face.captureFailed'));
      return;
    }
    this.setState('checking');
    try {
      const answer = await this.call(`${CHECK_PATH}?purpose=selfCheckIn`, {
        method: 'POST', raw: blob, contentType: 'image/jpeg', timeoutMs: 60000,
      });
      this.busy = false;
      this.showAnswer(answer);
    } catch (error) {
      this.busy = false;
      if (this.stopped) return;
      this.onError(error);
    }
  }

  showAnswer({ decision, checkedIn, message, triesLeft }) {
    if (checkedIn) {
      this.showResult('match', message);
      this.done();
      return;
    }
    this.showResult(decision, message || tBoth('term.selfCheck.retryMessage'));
    if (typeof triesLeft === 'number') this.showTries(triesLeft);
    if (triesLeft === 0) this.needHelp();
    else this.setState(this.video.srcObject ? 'live' : 'idle');
  }

  onError(error) {
    const code = error instanceof ApiError ? error.code : null;
    if (code === 'already_checked_in') {
      this.showResult('match', null);
      this.done();
      return;
    }
    if (code === 'face_check_attempts_used') {
      this.showTries(0);
      this.needHelp();
      return;
    }
    if (code === 'face_check_not_due') {
      this.stopCamera();
      this.onNotDue();
      return;
    }
    this.showError(errorTexts(error));
    if (code === 'face_engine_unavailable') {
      this.needHelp();
      return;
    }
    this.setState(this.video.srcObject ? 'live' : 'idle');
  }

  showResult(decision, message) {
    this.result.hidden = false;
    this.result.className = `selfcheck-result face-result face-result-${decision}`;
    this.result.dataset.decision = decision;
    const key = decision === 'match' ? 'term.selfCheck.passed' : decision === 'unusable' ? 'term.selfCheck.unusable' : 'term.selfCheck.mismatch';
    const messageEl = h('p', { class: 'selfcheck-message', testid: 'selfcheck-message' });
    if (message) setBilingualText(messageEl, message);
    replaceChildren(this.result,
      h('p', { class: 'selfcheck-verdict' }, h('span', { class: 'selfcheck-icon', 'aria-hidden': 'true' }, decision === 'match' ? '✓' : '!'), ' ', h('strong', { i18n: key })),
      message ? messageEl : null);
    applyI18n(this.result);
  }

  showTries(n) {
    this.tries.hidden = false;
    this.tries.dataset.n = String(n);
    say(this.tries, 'term.selfCheck.tries', { n });
  }

  showError(texts) {
    this.error.hidden = false;
    setBilingualText(this.error, texts);
  }

  /** No more tries here (or no way to check): the invigilator checks them in at the desk. */
  needHelp() {
    this.stopCamera();
    this.setState('help');
    this.startButton.hidden = true;
    this.help.hidden = false;
  }

  /** Checked in (here or at the desk): the camera is no longer needed. */
  done({ byDesk = false } = {}) {
    if (this.finished) return;
    this.finished = true;
    this.stopCamera();
    this.setState('done');
    this.startButton.hidden = true;
    this.help.hidden = true;
    this.tries.hidden = true;
    this.error.hidden = true;
    if (byDesk) {
      this.result.hidden = true;
      this.hint.classList.add('notice', 'notice-ok');
      this.hint.classList.remove('muted');
      say(this.hint, 'term.selfCheck.doneByDesk');
    } else {
      this.hint.hidden = true; // the result says it
    }
    this.onCheckedIn();
  }

  stopCamera() {
    stopVideo(this.video);
  }

  /** The card goes away (another screen): the camera goes off. */
  stop() {
    this.stopped = true;
    this.stopCamera();
  }
}

export class Recheck {
  /** call(path, options): the terminal's API call. */
  constructor({ call }) {
    this.call = call;
    this.running = false;
    this.cancelled = false;
    this.hideTimer = null;
    this.video = h('video', { class: 'recheck-video', testid: 'recheck-video', autoplay: true, muted: true, playsInline: true });
    this.text = h('p', { class: 'recheck-text' });
    this.el = h('aside', { class: 'recheck-overlay', testid: 'recheck-overlay', role: 'status', 'aria-live': 'polite', hidden: true },
      h('p', { class: 'recheck-title', i18n: 'term.recheck.title' }),
      h('div', { class: 'recheck-frame' }, this.video),
      this.text);
  }

  setState(state, key) {
    this.el.dataset.state = state;
    say(this.text, key);
  }

  /** Takes and sends one re-check picture, unless one is under way. */
  async run() {
    if (this.running) return;
    this.running = true;
    this.cancelled = false;
    clearTimeout(this.hideTimer);
    if (!this.el.isConnected) document.body.appendChild(this.el);
    delete this.el.dataset.decision;
    delete this.el.dataset.error;
    this.el.hidden = false;
    this.video.hidden = false;
    this.setState('camera', 'term.recheck.starting');
    try {
      let stream = null;
      let gaveUp = false; // no camera within the time (a permission prompt nobody answers): report it, and
      // stop the camera should it still come
      let timer = null;
      try {
        stream = await Promise.race([
          openCamera(this.video, { cancelled: () => this.cancelled || gaveUp }),
          new Promise((resolve, reject) => {
            timer = setTimeout(() => {
              gaveUp = true;
              reject(new CameraError('failed'));
            }, CAMERA_WAIT_MS);
          }),
        ]);
      } catch {
        if (!this.cancelled) await this.reportCameraFailure();
        return;
      } finally {
        clearTimeout(timer);
      }
      if (!stream || this.cancelled) return;
      this.setState('camera', 'term.recheck.camera');
      await new Promise((resolve) => { setTimeout(resolve, RECHECK_DELAY_MS); });
      if (this.cancelled) return;
      let blob;
      try {
        ({ blob } = await grabFrame(this.video));
      } catch {
        await this.reportCameraFailure();
        return;
      }
      stopVideo(this.video);
      this.video.hidden = true;
      this.setState('sending', 'term.recheck.sending');
      try {
        const answer = await this.call(`${CHECK_PATH}?purpose=recheck`, {
          method: 'POST', raw: blob, contentType: 'image/jpeg', timeoutMs: 60000,
        });
        if (answer && answer.decision) this.el.dataset.decision = answer.decision;
      } catch (error) {
        this.el.dataset.error = error instanceof ApiError ? error.code : 'failed';
      }
      if (this.cancelled) return;
      this.setState('done', 'term.recheck.done');
      this.hideLater(2500);
    } finally {
      stopVideo(this.video);
      this.running = false;
      if (this.cancelled) this.el.hidden = true;
    }
  }

  async reportCameraFailure() {
    stopVideo(this.video);
    this.video.hidden = true;
    try {
      await this.call(`${CHECK_PATH}?purpose=recheck&failure=camera_unavailable`, { method: 'POST' });
    } catch (error) {
      this.el.dataset.error = error instanceof ApiError ? error.code : 'failed';
    }
    if (this.cancelled) return;
    this.setState('failed', 'term.recheck.failed');
    this.hideLater(6000);
  }

  hideLater(ms) {
    clearTimeout(this.hideTimer);
    this.hideTimer = setTimeout(() => {
      if (!this.running) this.el.hidden = true;
    }, ms);
  }

  /** The exam screen went away (submitted, moved, logged out): stop the camera, hide the overlay. */
  cancel() {
    this.cancelled = true;
    clearTimeout(this.hideTimer);
    stopVideo(this.video);
    this.el.hidden = true;
  }
}
