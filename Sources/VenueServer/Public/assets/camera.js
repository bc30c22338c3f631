// The device camera for face checks, shared by the invigilator's check-in dialog, the staff face sign-in and the
// candidate terminal (self check-in and the random re-checks during the exam): open it (video only, the front
// camera on a phone or tablet), wait until it delivers a picture, take that picture as a JPEG, stop every track.
//
// The camera needs a secure context (https, or the page opened as http://127.0.0.1 / localhost): on a plain-http
// LAN address the browser has no navigator.mediaDevices. Why the camera could not be used is one of
// CAMERA_PROBLEMS; the pages have a translated text for each under face.camera.{reason}.

import { h } from './dom.js';

/** insecure: not a secure context; unsupported: no getUserMedia; denied: permission refused; noCamera: none
 * found; busy: another program has it; failed: anything else (no picture within the time, for instance). */
export const CAMERA_PROBLEMS = ['insecure', 'unsupported', 'denied', 'noCamera', 'busy', 'failed'];

/** The camera could not be used; reason is one of CAMERA_PROBLEMS. */
export class CameraError extends Error {
  constructor(reason, cause) {
    super(`camera: ${reason}`);
    this.reason = reason;
    this.cause = cause;
  }
}

/** Why the camera could not start, from a getUserMedia failure. */
export function cameraProblem(error) {
  if (error instanceof CameraError) return error.reason;
  switch (error && error.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'noCamera';
    case 'NotReadableError':
    case 'AbortError':
      return 'busy';
    default:
      return 'failed';
  }
}

/** 'insecure' or 'unsupported' when this page cannot use a camera at all, null when it may try. */
export function cameraUnavailable() {
  if (!window.isSecureContext) return 'insecure';
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function') return 'unsupported';
  return null;
}

/** Stops every track of a stream (the camera light goes off). */
export function stopStream(stream) {
  if (stream) stream.getTracks().forEach((track) => track.stop());
}

/**
 * Opens the camera into a <video> (muted, inline) and resolves with the stream once the video shows a picture.
 * cancelled(): true when the caller went away meanwhile (a closed dialog): the camera is stopped again and the
 * result is null. Throws CameraError.
 */
export async function openCamera(video, { cancelled = () => false, width = 640, height = 480, frameTimeoutMs = 15000 } = {}) {
  const unavailable = cameraUnavailable();
  if (unavailable) throw new CameraError(unavailable);
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: width }, height: { ideal: height }, facingMode: 'user' }, audio: false,
    });
  } catch (error) {
    throw new CameraError(cameraProblem(error), error);
  }
  if (cancelled()) {
    stopStream(stream);
    return null;
  }
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  try {
    await video.play();
    await firstFrame(video, { cancelled, timeoutMs: frameTimeoutMs });
  } catch (error) {
    stopStream(stream);
    video.srcObject = null;
    throw new CameraError('failed', error);
  }
  if (cancelled()) {
    stopStream(stream);
    video.srcObject = null;
    return null;
  }
  return stream;
}

/** Resolves once the video has a picture to take (some cameras need a moment after play()). */
export function firstFrame(video, { cancelled = () => false, timeoutMs = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      if (cancelled()) return resolve();
      if (video.videoWidth > 0 && video.readyState >= 2) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error('no frame'));
      return setTimeout(check, 100);
    };
    check();
  });
}

/** Stops the camera a <video> shows and empties the video. */
export function stopVideo(video) {
  if (!video) return;
  stopStream(video.srcObject);
  video.srcObject = null;
}

/** A canvas as a JPEG Blob; rejects when the browser could not encode it. */
export function canvasToJPEG(canvas, quality = 0.92) {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('no picture'))), 'image/jpeg', quality);
  });
}

/**
 * The video's current frame at its own size: {canvas, blob} (the canvas to show as a still, the JPEG to send).
 * canvas: draw into this one instead of a new one.
 */
export async function grabFrame(video, { canvas = document.createElement('canvas'), quality = 0.92 } = {}) {
  const width = video.videoWidth;
  const height = video.videoHeight;
  if (!width || !height) throw new CameraError('failed');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').drawImage(video, 0, 0, width, height);
  return { canvas, blob: await canvasToJPEG(canvas, quality) };
}

/**
 * On a plain-http LAN page, where the browser gives no camera: a line after `element` with a link to the same page
 * over the venue's HTTPS, and one to the venue's certificate authority (installed once per device so that the
 * browser trusts that HTTPS). Nothing when the page is secure or the venue serves no HTTPS.
 */
export async function offerSecurePage(element) {
  const shown = () => element.nextElementSibling && element.nextElementSibling.dataset.testid === 'camera-secure-hint';
  if (!element || window.isSecureContext || location.protocol !== 'http:' || shown()) return;
  let port;
  try {
    const answer = await fetch('/healthz', { cache: 'no-store' });
    port = (await answer.json()).httpsPort;
  } catch {
    return;
  }
  if (!port || shown() || !element.isConnected) return;
  const secure = `https://${location.hostname}:${port}${location.pathname}${location.search}${location.hash}`;
  element.after(
    h('p', { class: 'camera-secure-hint', testid: 'camera-secure-hint' },
      h('a', { href: secure, testid: 'camera-secure-link', i18n: 'camera.secure.open' }),
      ' · ',
      h('a', { href: '/venue-ca.crt', testid: 'camera-secure-certificate', i18n: 'camera.secure.certificate' })));
}
