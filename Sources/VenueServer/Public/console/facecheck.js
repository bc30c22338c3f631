// Face check-in inside the check-in dialog: the device camera beside the registered photo, one picture taken on
// request and sent to …/candidates/{a}/face-check, the result (decision, similarity against the threshold, the
// face box on the still), and for a failed check a retake or an override with a required reason.
//
// The camera (assets/camera.js) needs a secure context (https, or the page opened as http://127.0.0.1 / localhost):
// on a plain-http LAN address the browser has no navigator.mediaDevices, so the dialog says so and manual check-in
// stays.
// The camera is stopped when the dialog closes, and as soon as the candidate is checked in.
//
// data-testid hooks: face-panel, face-camera (data-state starting|live|checking|result|unavailable|stopped,
//   data-reason insecure|unsupported|denied|noCamera|busy|failed), face-video, face-still, face-camera-status,
//   face-capture, face-retake, face-override, face-camera-retry, face-error, face-result (data-decision,
//   data-similarity, data-threshold, data-checked-in, data-verification-id), face-decision (data-decision),
//   face-similarity, face-threshold, face-message, face-flags, face-checked-in (data-method),
//   face-override-form, face-override-reason, face-override-confirm

import { ApiError, FormError, errorTexts } from '../assets/api.js';
import { h, replaceChildren } from '../assets/dom.js';
import { t, tBoth, setBilingualText, applyI18n } from '../assets/i18n.js';
import { decisionBadge, drawCapture, flagWords, formatSimilarity } from '../assets/face.js';
import { cameraProblem, canvasToJPEG, offerSecurePage, openCamera, stopVideo } from '../assets/camera.js';

const enc = encodeURIComponent;
/** Errors after which another picture cannot help: the check-in has to be done by eye. */
const HOPELESS = new Set(['face_not_enrolled', 'face_engine_unavailable']);

export class FaceCheck {
  /**
   * session: StaffSession; base: the room's API path; entry: the roster entry; handleAuth(error): true when the
   * session is gone; onCheckedIn(method, verification): the candidate is now checked in ('face' or 'faceOverride');
   * onChecked(): a verification was recorded (whatever its decision); onFailed(): it was a mismatch or unusable.
   */
  constructor({ session, base, entry, handleAuth, onCheckedIn, onChecked = () => {}, onFailed = () => {} }) {
    this.session = session;
    this.base = base;
    this.entry = entry;
    this.handleAuth = handleAuth;
    this.onCheckedIn = onCheckedIn;
    this.onChecked = onChecked;
    this.onFailed = onFailed;
    this.stream = null;
    this.closed = false;
    this.busy = false;
    this.verification = null;
    this.failed = false; // a failed check was recorded in this dialog: an override (with reason) is the way on
    this.build();
  }

  build() {
    this.video = h('video', { class: 'face-video', testid: 'face-video', autoplay: true, muted: true, playsInline: true, hidden: true });
    this.still = h('canvas', { class: 'face-still', testid: 'face-still', width: 640, height: 480, hidden: true });
    this.cameraStatus = h('p', { class: 'face-camera-status', testid: 'face-camera-status', role: 'status' });
    this.camera = h('div', { class: 'face-camera', testid: 'face-camera', dataset: { state: 'starting' } }, this.video, this.still, this.cameraStatus);
    const button = (key, testid, cls, onClick) => h('button', { type: 'button', class: cls, testid, i18n: key, hidden: true, on: { click: onClick } });
    this.captureButton = button('face.capture', 'face-capture', 'btn btn-primary', () => this.capture());
    this.retakeButton = button('face.retake', 'face-retake', 'btn', () => this.retake());
    this.overrideButton = button('face.override', 'face-override', 'btn btn-danger-outline', () => this.toggleOverride());
    this.retryButton = button('face.cameraRetry', 'face-camera-retry', 'btn', () => this.start());
    this.error = h('p', { class: 'form-error', testid: 'face-error', role: 'alert', hidden: true });
    this.result = h('div', { class: 'face-result', testid: 'face-result', hidden: true, 'aria-live': 'polite' });
    this.reason = h('textarea', {
      class: 'input', rows: 3, id: 'face-override-reason', testid: 'face-override-reason', maxLength: 500,
      i18nPlaceholder: 'face.overrideReasonPlaceholder',
    });
    this.overrideConfirm = h('button', {
      type: 'button', class: 'btn btn-danger', testid: 'face-override-confirm', i18n: 'face.overrideConfirm', on: { click: () => this.override() },
    });
    this.overrideForm = h('div', { class: 'face-override-form', testid: 'face-override-form', hidden: true },
      h('label', { class: 'field-label', for: 'face-override-reason', i18n: 'face.overrideReason' }),
      this.reason,
      h('p', { class: 'field-hint muted small', i18n: 'face.overrideHint' }),
      h('div', { class: 'row' }, this.overrideConfirm));
    this.controls = h('div', { class: 'row face-controls' }, this.captureButton, this.retakeButton, this.overrideButton, this.retryButton);
    this.panel = h('div', { class: 'face-panel', testid: 'face-panel' }, this.controls, this.error, this.result, this.overrideForm);
  }

  setState(state, reason) {
    this.camera.dataset.state = state;
    if (reason) this.camera.dataset.reason = reason;
    else delete this.camera.dataset.reason;
    const live = state === 'live';
    const showStill = state === 'checking' || state === 'result';
    this.video.hidden = !live;
    this.still.hidden = !showStill;
    const statusKey = {
      starting: 'face.camera.starting', checking: 'face.camera.checking', stopped: 'face.camera.stopped',
      unavailable: `face.camera.${reason}`,
    }[state];
    this.cameraStatus.hidden = !statusKey;
    this.cameraStatus.classList.toggle('is-overlay', state === 'checking');
    if (statusKey) {
      this.cameraStatus.dataset.i18n = statusKey;
      this.cameraStatus.textContent = t(statusKey);
    }
    if (state === 'unavailable' && reason === 'insecure') offerSecurePage(this.cameraStatus);
    this.captureButton.hidden = !live;
    this.captureButton.disabled = this.busy;
    this.retryButton.hidden = !(state === 'unavailable' && (reason === 'denied' || reason === 'noCamera' || reason === 'busy' || reason === 'failed'));
  }

  /** Opens the camera (video only, 640×480 preferred, the front camera on a phone or tablet). */
  async start() {
    if (this.closed) return;
    this.hideError();
    this.setState('starting');
    let stream;
    try {
      stream = await openCamera(this.video, { cancelled: () => this.closed });
    } catch (error) {
      if (!this.closed) {
        this.stopTracks();
        this.setState('unavailable', cameraProblem(error));
      }
      return;
    }
    if (!stream) return; // the dialog closed meanwhile; the camera is off again
    if (this.stream && this.stream !== stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = stream;
    this.setState('live');
  }

  stopTracks() {
    stopVideo(this.video);
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
  }

  /** The dialog closed. */
  stop() {
    this.closed = true;
    this.stopTracks();
  }

  hideError() {
    this.error.hidden = true;
  }

  showError(error) {
    this.error.hidden = false;
    setBilingualText(this.error, errorTexts(error));
  }

  /** Takes the current frame, sends it as JPEG and shows the verdict. */
  async capture() {
    if (this.busy || !this.stream) return;
    const width = this.video.videoWidth;
    const height = this.video.videoHeight;
    if (!width || !height) return;
    this.busy = true;
    this.hideError();
    this.overrideForm.hidden = true;
    this.result.hidden = true;
    drawCapture(this.still, this.video, width, height, null, null);
    const frame = h('canvas', { width, height });
    frame.getContext('2d').drawImage(this.still, 0, 0);
    this.frame = frame; // the picture without the box, to draw the box on
    this.setState('checking');
    this.retakeButton.hidden = true;
    this.overrideButton.hidden = true;
    try {
      const blob = await canvasToJPEG(this.still).catch(() => {
        throw new FormError(tBoth('face.captureFailed'));
      });
      const answer = await this.session.call(`${this.base}/candidates/${enc(this.entry.admissionNumber)}/face-check`, {
        method: 'POST', raw: blob, contentType: 'image/jpeg', timeoutMs: 60000,
      });
      this.busy = false;
      this.showResult(answer);
    } catch (error) {
      this.busy = false;
      if (this.handleAuth(error)) return;
      this.showError(error);
      if (error instanceof ApiError && HOPELESS.has(error.code)) {
        this.stopTracks();
        this.setState('stopped');
        this.failed = false;
        this.retakeButton.hidden = true;
      } else {
        this.setState('result');
        this.retakeButton.hidden = false;
      }
    }
  }

  showResult({ verification: v, checkedIn, message }) {
    this.verification = v;
    drawCapture(this.still, this.frame, this.frame.width, this.frame.height, v.face, v.decision);
    this.setState('result');
    this.result.hidden = false;
    this.result.className = `face-result face-result-${v.decision}`;
    Object.assign(this.result.dataset, {
      decision: v.decision, similarity: v.similarity ?? '', threshold: v.threshold ?? '', checkedIn: checkedIn ? 'true' : 'false',
      verificationId: v.id,
    });
    const messageEl = h('p', { class: 'face-message', testid: 'face-message' });
    if (message) setBilingualText(messageEl, message);
    else setBilingualText(messageEl, tBoth(v.decision === 'match' ? 'face.matchMessage' : `face.${v.decision}Message`));
    replaceChildren(this.result,
      h('div', { class: 'row face-numbers' },
        decisionBadge(v.decision, 'face-decision'),
        h('span', {}, h('span', { class: 'muted', i18n: 'face.similarity' }), ' ',
          h('strong', { class: 'mono face-similarity', testid: 'face-similarity' }, formatSimilarity(v.similarity))),
        h('span', {}, h('span', { class: 'muted', i18n: 'face.threshold' }), ' ',
          h('span', { class: 'mono', testid: 'face-threshold' }, formatSimilarity(v.threshold)))),
      messageEl,
      v.flags && v.flags.length ? h('p', { class: 'muted small', testid: 'face-flags' }, h('span', { i18n: 'face.flags' }), '：',
        flagWords(v.flags)) : null);
    applyI18n(this.result);
    this.onChecked(v);
    if (checkedIn) {
      this.done('face', v);
      return;
    }
    this.failed = v.decision !== 'match';
    this.retakeButton.hidden = false;
    this.overrideButton.hidden = !this.failed;
    if (this.failed) this.onFailed(v);
  }

  retake() {
    this.hideError();
    this.result.hidden = true;
    this.overrideForm.hidden = true;
    this.retakeButton.hidden = true;
    this.overrideButton.hidden = true;
    if (this.stream) this.setState('live');
    else this.start();
  }

  /** The candidate's last check, before this dialog, failed and was not overridden: offer the override at once. */
  resumeFailed(last) {
    this.verification = { id: last.verificationId };
    this.failed = true;
    this.overrideButton.hidden = false;
    this.panel.prepend(h('p', {
      class: 'notice notice-warn', testid: 'face-last-failed', i18n: 'face.lastFailed',
      params: { score: last.similarity == null ? '—' : formatSimilarity(last.similarity) },
    }));
    this.onFailed(last);
  }

  toggleOverride() {
    this.overrideForm.hidden = !this.overrideForm.hidden;
    if (!this.overrideForm.hidden) this.reason.focus();
  }

  /** Checks the candidate in although the check failed; the reason goes to the audit log. */
  async override() {
    if (this.busy || !this.verification) return;
    this.hideError();
    const reason = this.reason.value.trim();
    if (!reason) {
      this.showError(new FormError(tBoth('face.overrideReasonRequired')));
      this.reason.focus();
      return;
    }
    this.busy = true;
    this.overrideConfirm.disabled = true;
    try {
      await this.session.call(`${this.base}/candidates/${enc(this.entry.admissionNumber)}/check-in`, {
        method: 'POST', body: { verificationId: this.verification.id, overrideReason: reason },
      });
      this.overrideForm.hidden = true;
      this.done('faceOverride', this.verification);
    } catch (error) {
      if (this.handleAuth(error)) return;
      this.showError(error);
    } finally {
      this.busy = false;
      this.overrideConfirm.disabled = false;
    }
  }

  /** Checked in: the camera is no longer needed. */
  done(method, verification) {
    this.stopTracks();
    this.failed = false;
    this.captureButton.hidden = true;
    this.retakeButton.hidden = true;
    this.overrideButton.hidden = true;
    this.retryButton.hidden = true;
    this.camera.dataset.state = 'result';
    this.result.after(h('p', {
      class: 'notice notice-ok face-checked-in', testid: 'face-checked-in', dataset: { method },
      i18n: method === 'face' ? 'face.checkedInByFace' : 'face.checkedInByOverride', params: { name: this.entry.name },
    }));
    this.onCheckedIn(method, verification);
  }
}
