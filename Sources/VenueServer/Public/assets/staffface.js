// Staff face sign-in (考评员人脸核验签到): a staff member signs in for duty by face, from the console or the
// examiners' page. The dialog
// opens the camera, takes one picture on request and sends it to POST /api/staff/face-sign-in, which compares it
// with the staff member's registered photo; below it, their latest sign-ins (GET /api/staff/face-sign-ins).
// The camera is stopped when the dialog closes and once the sign-in matched.
//
// data-testid hooks: staff-face-dialog, staff-face-camera (data-state starting|live|checking|result|unavailable|
//   stopped, data-reason), staff-face-video, staff-face-still, staff-face-capture, staff-face-retake,
//   staff-face-error, staff-face-result (data-decision, data-checked-in), staff-face-history (data-count),
//   staff-face-history-{id} (data-decision)

import { ApiError, FormError, errorTexts } from './api.js';
import { h, replaceChildren, formatDateTime } from './dom.js';
import { t, tBoth, setBilingualText, applyI18n } from './i18n.js';
import { openDialog } from './ui.js';
import { decisionBadge, drawCapture, formatSimilarity } from './face.js';
import { cameraProblem, grabFrame, offerSecurePage, openCamera, stopVideo } from './camera.js';

/** Errors after which another picture cannot help. */
const HOPELESS = new Set(['face_not_enrolled', 'face_engine_unavailable']);

/** Opens the sign-in dialog. session: StaffSession; handleAuth(error): true when the session is gone. */
export function openStaffFaceSignIn({ session, handleAuth = () => false }) {
  let closed = false;
  let busy = false;
  let frame = null;
  const video = h('video', { class: 'face-video', testid: 'staff-face-video', autoplay: true, muted: true, playsInline: true, hidden: true });
  const still = h('canvas', { class: 'face-still', testid: 'staff-face-still', width: 640, height: 480, hidden: true });
  const status = h('p', { class: 'face-camera-status', role: 'status' });
  const camera = h('div', { class: 'face-camera', testid: 'staff-face-camera', dataset: { state: 'starting' } }, video, still, status);
  const capture = h('button', { type: 'button', class: 'btn btn-primary', testid: 'staff-face-capture', i18n: 'face.capture', hidden: true });
  const retake = h('button', { type: 'button', class: 'btn', testid: 'staff-face-retake', i18n: 'face.retake', hidden: true });
  const retry = h('button', { type: 'button', class: 'btn', testid: 'staff-face-camera-retry', i18n: 'face.cameraRetry', hidden: true });
  const error = h('p', { class: 'form-error', testid: 'staff-face-error', role: 'alert', hidden: true });
  const result = h('div', { class: 'face-result', testid: 'staff-face-result', hidden: true, 'aria-live': 'polite' });
  const history = h('div', { testid: 'staff-face-history' }, h('p', { class: 'muted', i18n: 'common.loading' }));

  const setState = (state, reason) => {
    camera.dataset.state = state;
    if (reason) camera.dataset.reason = reason;
    else delete camera.dataset.reason;
    video.hidden = state !== 'live';
    still.hidden = !(state === 'checking' || state === 'result');
    const key = {
      starting: 'face.camera.starting', checking: 'face.camera.checking', stopped: 'face.camera.stopped',
      unavailable: `term.camera.${reason}`,
    }[state];
    status.hidden = !key;
    status.classList.toggle('is-overlay', state === 'checking');
    if (key) {
      status.dataset.i18n = key;
      status.textContent = t(key);
    }
    if (state === 'unavailable' && reason === 'insecure') offerSecurePage(status);
    capture.hidden = state !== 'live';
    capture.disabled = busy;
    retry.hidden = state !== 'unavailable' || reason === 'insecure' || reason === 'unsupported';
  };

  const showError = (err) => {
    error.hidden = false;
    setBilingualText(error, errorTexts(err));
  };

  const start = async () => {
    if (closed) return;
    error.hidden = true;
    setState('starting');
    try {
      if (!(await openCamera(video, { cancelled: () => closed }))) return;
    } catch (err) {
      if (!closed) setState('unavailable', cameraProblem(err));
      return;
    }
    if (!closed) setState('live');
  };

  const loadHistory = async () => {
    let list;
    try {
      list = await session.call('/api/staff/face-sign-ins');
    } catch (err) {
      if (handleAuth(err)) return;
      const el = h('p', { class: 'notice notice-error', role: 'alert' });
      setBilingualText(el, errorTexts(err));
      replaceChildren(history, el);
      return;
    }
    history.dataset.count = String(list.length);
    replaceChildren(history,
      h('h3', { i18n: 'staffFace.history' }),
      list.length
        ? h('ul', { class: 'staff-face-history' }, list.map((v) => h('li', { testid: `staff-face-history-${v.id}`, dataset: { decision: v.decision } },
          h('span', { class: 'nowrap' }, formatDateTime(v.at)),
          decisionBadge(v.decision),
          h('span', { class: 'muted small mono' }, formatSimilarity(v.similarity)))))
        : h('p', { class: 'muted', i18n: 'staffFace.historyNone' }));
    applyI18n(history);
  };

  const showResult = ({ verification: v, checkedIn, message }) => {
    drawCapture(still, frame, frame.width, frame.height, v.face, v.decision);
    setState('result');
    result.hidden = false;
    result.className = `face-result face-result-${v.decision}`;
    Object.assign(result.dataset, { decision: v.decision, checkedIn: checkedIn ? 'true' : 'false', verificationId: v.id });
    const messageEl = h('p', { class: 'muted' });
    if (message) setBilingualText(messageEl, message);
    replaceChildren(result,
      h('div', { class: 'row face-numbers' },
        decisionBadge(v.decision, 'staff-face-decision'),
        h('span', {}, h('span', { class: 'muted', i18n: 'face.similarity' }), ' ', h('strong', { class: 'mono face-similarity' }, formatSimilarity(v.similarity))),
        h('span', {}, h('span', { class: 'muted', i18n: 'face.threshold' }), ' ', h('span', { class: 'mono' }, formatSimilarity(v.threshold)))),
      h('p', { class: 'face-message', i18n: checkedIn ? 'staffFace.passed' : 'staffFace.failed' }),
      message ? messageEl : null);
    applyI18n(result);
    if (checkedIn) {
      stopVideo(video);
      retake.hidden = true;
    } else {
      retake.hidden = false;
    }
  };

  capture.addEventListener('click', async () => {
    if (busy || !video.srcObject) return;
    busy = true;
    error.hidden = true;
    result.hidden = true;
    retake.hidden = true;
    let blob;
    try {
      ({ canvas: frame, blob } = await grabFrame(video));
    } catch {
      busy = false;
      showError(new FormError(tBoth('face.captureFailed')));
      return;
    }
    drawCapture(still, frame, frame.width, frame.height, null, null);
    setState('checking');
    try {
      const answer = await session.call('/api/staff/face-sign-in', { method: 'POST', raw: blob, contentType: 'image/jpeg', timeoutMs: 60000 });
      busy = false;
      if (closed) return;
      showResult(answer);
      loadHistory();
    } catch (err) {
      busy = false;
      if (handleAuth(err) || closed) return;
      showError(err);
      if (err instanceof ApiError && HOPELESS.has(err.code)) {
        stopVideo(video);
        setState('stopped');
      } else {
        setState('result');
        retake.hidden = false;
      }
    }
  });
  retake.addEventListener('click', () => {
    error.hidden = true;
    result.hidden = true;
    retake.hidden = true;
    if (video.srcObject) setState('live');
    else start();
  });
  retry.addEventListener('click', () => start());

  const dialog = openDialog({
    testid: 'staff-face-dialog',
    wide: true,
    title: h('h2', { i18n: 'staffFace.title' }),
    body: [
      h('p', { class: 'muted', i18n: 'staffFace.hint' }),
      h('div', { class: 'staff-face-body' },
        camera,
        h('div', { class: 'staff-face-side' },
          h('div', { class: 'row face-controls' }, capture, retake, retry),
          error,
          result,
          history)),
    ],
    cancelKey: 'common.close',
  });
  dialog.el.addEventListener('close', () => {
    closed = true;
    stopVideo(video);
  });
  start();
  loadHistory();
  return dialog;
}
