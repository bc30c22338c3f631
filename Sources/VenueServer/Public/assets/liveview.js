// The room cameras' live picture, for the invigilator console and the admin pages: fragmented MP4 over a WebSocket
// (/api/rooms/{roomId}/cameras/{cameraId}/live, signed in by the staff cookie) into Media Source Extensions, no
// player library. The server sends {"type":"start",codec,width,height} then the initialisation segment, then one
// binary message per frame; {"type":"waiting"} while it connects the camera; {"type":"interrupted",code} when the
// camera's connection ends. The player keeps within about a second of real time, drops old video from its buffer
// and reconnects by itself.
//
// data-testid hooks: live-grid (data-count), live-tile-{cameraId} (data-state: connecting|waiting|playing|
//   interrupted|unsupported|closed), live-video-{cameraId}, live-state-{cameraId}

import { h, replaceChildren } from './dom.js';
import { t } from './i18n.js';

const enc = encodeURIComponent;
const RECONNECT_MS = [1000, 2000, 5000, 10000];
const KEEP_SECONDS = 20; // video kept behind the playing position
const MAX_LAG_SECONDS = 1.5; // further behind the live edge than this: jump to it

/** The live picture of one camera in `video`; onState(state, detail) tells what it is doing. */
export class LivePlayer {
  constructor(video, path, onState = () => {}) {
    this.video = video;
    this.path = path;
    this.onState = onState;
    this.closed = false;
    this.attempt = 0;
    this.socket = null;
    this.source = null;
    this.buffer = null;
    this.queue = [];
    this.expectInit = false;
    this.objectURL = null;
    this.timer = null;
  }

  start() {
    this.closed = false;
    this.connect();
    return this;
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close();
    this.socket = null;
    this.resetMedia();
    this.onState('closed');
  }

  connect() {
    if (this.closed) return;
    this.onState('connecting');
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${window.location.host}${this.path}`);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.addEventListener('message', (event) => this.receive(event.data));
    socket.addEventListener('close', () => {
      if (this.socket !== socket || this.closed) return;
      this.socket = null;
      const wait = RECONNECT_MS[Math.min(this.attempt, RECONNECT_MS.length - 1)];
      this.attempt += 1;
      this.onState('interrupted', 'network');
      this.timer = setTimeout(() => this.connect(), wait);
    });
  }

  receive(data) {
    if (typeof data === 'string') {
      let message;
      try {
        message = JSON.parse(data);
      } catch {
        return;
      }
      if (message.type === 'start') this.begin(message);
      else if (message.type === 'waiting') this.onState('waiting');
      else if (message.type === 'interrupted') {
        this.resetMedia();
        this.onState('interrupted', message.code);
      }
      return;
    }
    if (!this.source) return;
    this.attempt = 0;
    this.queue.push(data);
    this.pump();
  }

  /** A new picture: a fresh MediaSource for its codec; the next binary message is its initialisation segment. */
  begin({ codec, width, height }) {
    this.resetMedia();
    const type = `video/mp4; codecs="${codec}"`;
    if (!window.MediaSource || !MediaSource.isTypeSupported(type)) {
      this.onState('unsupported', codec);
      return;
    }
    const source = new MediaSource();
    this.source = source;
    this.objectURL = URL.createObjectURL(source);
    this.video.src = this.objectURL;
    this.video.dataset.codec = codec;
    this.video.dataset.size = `${width}x${height}`;
    source.addEventListener('sourceopen', () => {
      if (this.source !== source) return;
      this.buffer = source.addSourceBuffer(type);
      this.buffer.mode = 'segments';
      this.buffer.addEventListener('updateend', () => this.afterAppend());
      this.pump();
    }, { once: true });
  }

  pump() {
    const buffer = this.buffer;
    if (!buffer || buffer.updating || !this.queue.length || this.source.readyState !== 'open') return;
    try {
      buffer.appendBuffer(this.queue.shift());
    } catch (error) {
      // QuotaExceededError: drop what was already played and start again from the next keyframe.
      this.queue = [];
      this.trim(true);
    }
  }

  afterAppend() {
    const video = this.video;
    const ranges = this.buffer && this.buffer.buffered;
    if (ranges && ranges.length) {
      const end = ranges.end(ranges.length - 1);
      const start = ranges.start(ranges.length - 1);
      if (video.currentTime < start || end - video.currentTime > MAX_LAG_SECONDS) video.currentTime = Math.max(start, end - 0.2);
      if (video.paused) {
        video.play().then(() => this.playing()).catch(() => {});
      } else {
        this.playing();
      }
    }
    this.trim(false);
    this.pump();
  }

  /** Removes video more than KEEP_SECONDS behind the playing position (everything before it when forced). */
  trim(force) {
    const buffer = this.buffer;
    if (!buffer || buffer.updating || !buffer.buffered.length) return;
    const first = buffer.buffered.start(0);
    const limit = this.video.currentTime - (force ? 0.5 : KEEP_SECONDS);
    if (limit - first > (force ? 0 : 5)) {
      try {
        buffer.remove(first, limit);
      } catch {
        /* the next append tries again */
      }
    }
  }

  playing() {
    if (this.shown === 'playing') return;
    this.shown = 'playing';
    this.onState('playing');
  }

  resetMedia() {
    this.shown = null;
    this.queue = [];
    this.buffer = null;
    if (this.source && this.source.readyState === 'open') {
      try {
        this.source.endOfStream();
      } catch {
        /* already ended */
      }
    }
    this.source = null;
    if (this.objectURL) {
      this.video.removeAttribute('src');
      this.video.load();
      URL.revokeObjectURL(this.objectURL);
      this.objectURL = null;
    }
  }
}

function stateText(state, detail) {
  if (state === 'interrupted') {
    if (detail === 'stopped') return t('live.state.stopped');
    return t('live.state.interrupted');
  }
  if (state === 'unsupported') return t('live.state.unsupported', { codec: detail || '' });
  return t(`live.state.${state}`);
}

/**
 * A grid with the live picture of every enabled camera in `cameras` (entries of GET /api/rooms/{roomId}/cameras).
 * Returns {element, close()}: call close() when the grid leaves the page.
 */
export function liveGrid(roomId, cameras) {
  const players = [];
  const enabled = cameras.filter((entry) => entry.camera.enabled);
  const tiles = enabled.map(({ camera }) => {
    const video = h('video', { class: 'live-video', testid: `live-video-${camera.id}`, muted: true, autoplay: true, playsInline: true });
    video.muted = true;
    const label = h('span', { class: 'live-state small', testid: `live-state-${camera.id}` });
    const tile = h('figure', { class: 'live-tile', testid: `live-tile-${camera.id}` },
      video,
      h('figcaption', { class: 'row' }, h('strong', {}, camera.name), h('span', { class: 'spacer' }), label));
    const player = new LivePlayer(video, `/api/rooms/${enc(roomId)}/cameras/${enc(camera.id)}/live`, (state, detail) => {
      tile.dataset.state = state;
      video.dataset.state = state;
      label.textContent = stateText(state, detail);
      label.dataset.state = state;
    });
    players.push(player.start());
    return tile;
  });
  const element = h('div', { class: 'live-grid', testid: 'live-grid', dataset: { count: String(tiles.length) } },
    tiles.length ? tiles : h('p', { class: 'muted', testid: 'live-none', i18n: 'live.none' }));
  return {
    element,
    close() {
      for (const player of players) player.close();
      players.length = 0;
    },
  };
}

/** Replaces `container`'s content with the live grid of a room, loaded with `call`; returns the grid (close it). */
export async function showLiveGrid(container, roomId, call) {
  const cameras = await call(`/api/rooms/${enc(roomId)}/cameras`);
  const grid = liveGrid(roomId, cameras);
  replaceChildren(container, grid.element);
  return grid;
}
