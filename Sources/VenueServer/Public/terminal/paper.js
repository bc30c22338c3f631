// Renders the candidate's paper (GET /api/attempt/paper → paper) and turns what the candidate does into answer
// JSON of the shapes the server expects. One widget per answerable question:
//   {id, number, type, el, setResponse(json|null), setFlag(bool), setDisabled(bool)}
// Callbacks: onAnswer(questionId, response|null, {typing}) — typing is true for text the page should debounce;
//            onFlag(questionId, flagged); onUpload(questionId, file) → Promise of the attachment reference.

import { h, formatBytes, formatPoints } from '../assets/dom.js';
import { t, tBoth, setBilingualText } from '../assets/i18n.js';
import { errorTexts } from '../assets/api.js';

export const TYPE_KEYS = {
  singleChoice: 'term.type.singleChoice',
  multipleChoice: 'term.type.multipleChoice',
  trueFalse: 'term.type.trueFalse',
  fillBlank: 'term.type.fillBlank',
  shortAnswer: 'term.type.shortAnswer',
  essay: 'term.type.essay',
  calculation: 'term.type.calculation',
  flowchart: 'term.type.flowchart',
  caseAnalysis: 'term.type.caseAnalysis',
  thesis: 'term.type.thesis',
};

/** True when a response counts as answered (the same rule as the server's). */
export function isAnswered(response) {
  if (!response || typeof response !== 'object') return false;
  const filled = (text) => typeof text === 'string' && text.trim() !== '';
  if ('choice' in response) return filled(response.choice);
  if ('choices' in response) return Array.isArray(response.choices) && response.choices.length > 0;
  if ('blanks' in response) return Array.isArray(response.blanks) && response.blanks.some(filled);
  if ('order' in response) return Array.isArray(response.order) && response.order.length > 0;
  if ('attachment' in response && response.attachment) return true;
  if ('working' in response || ('value' in response && typeof response.value === 'string')) {
    return filled(response.value) || filled(response.working);
  }
  if ('value' in response) return typeof response.value === 'boolean';
  if ('text' in response) return filled(response.text);
  return false;
}

function pointsLabel(points) {
  return h('span', { class: 'q-points', i18n: 'term.questionPoints', params: { n: formatPoints(points) } });
}

/** The frame every question shares: number, type, points, flag toggle, stem. */
function frame(item, { answerable, onFlag, extraClass }) {
  const header = h('div', { class: 'q-header' },
    h('span', { class: 'q-number', testid: `qnum-${item.id}` }, `${item.number}.`),
    h('span', { class: 'badge badge-primary q-type', i18n: TYPE_KEYS[item.type] || item.type }),
    pointsLabel(item.points));
  let flagButton = null;
  if (answerable) {
    flagButton = h('button', {
      type: 'button', class: 'btn btn-small flag-toggle', testid: `flag-${item.id}`, 'aria-pressed': 'false',
      i18nTitle: 'term.flagTitle',
    }, h('span', { class: 'flag-icon', 'aria-hidden': 'true' }), h('span', { class: 'flag-text', i18n: 'term.flag' }));
    flagButton.addEventListener('click', () => onFlag(item.id, flagButton.getAttribute('aria-pressed') !== 'true'));
    header.appendChild(h('span', { class: 'spacer' }));
    header.appendChild(flagButton);
  }
  const el = h('article', {
    class: ['question', extraClass], id: `q-${item.id}`, testid: `question-${item.id}`,
    dataset: { qid: item.id, type: item.type },
  }, header, h('p', { class: 'q-stem', testid: `stem-${item.id}` }, item.stem));
  const setFlag = (flagged) => {
    if (!flagButton) return;
    flagButton.setAttribute('aria-pressed', flagged ? 'true' : 'false');
    el.classList.toggle('is-flagged', flagged);
    const text = flagButton.querySelector('.flag-text');
    text.dataset.i18n = flagged ? 'term.flagged' : 'term.flag';
    text.textContent = t(text.dataset.i18n);
  };
  return { el, setFlag, flagButton };
}

function choiceWidget(item, ctx, multiple) {
  const name = `q-${item.id}`;
  const inputs = [];
  const list = h('div', { class: 'options', role: multiple ? 'group' : 'radiogroup' });
  for (const option of item.options || []) {
    const input = h('input', {
      type: multiple ? 'checkbox' : 'radio', name, value: option.id, testid: `option-${item.id}-${option.id}`,
    });
    inputs.push(input);
    list.appendChild(h('label', { class: 'option', testid: `option-label-${item.id}-${option.id}` },
      input, h('span', { class: 'option-label' }, `${option.label}.`), h('span', { class: 'option-text' }, option.text)));
    input.addEventListener('change', () => {
      if (multiple) {
        const choices = inputs.filter((i) => i.checked).map((i) => i.value);
        ctx.onAnswer(item.id, choices.length ? { choices } : null, { typing: false });
      } else if (input.checked) {
        ctx.onAnswer(item.id, { choice: input.value }, { typing: false });
      }
    });
  }
  return {
    body: list,
    controls: inputs,
    setResponse(response) {
      const chosen = new Set(multiple ? (response && response.choices) || [] : response && response.choice ? [response.choice] : []);
      inputs.forEach((input) => {
        input.checked = chosen.has(input.value);
      });
    },
  };
}

function trueFalseWidget(item, ctx) {
  const name = `q-${item.id}`;
  const inputs = [];
  const list = h('div', { class: 'options options-inline', role: 'radiogroup' });
  for (const value of ['true', 'false']) {
    const input = h('input', { type: 'radio', name, value, testid: `option-${item.id}-${value}` });
    inputs.push(input);
    list.appendChild(h('label', { class: 'option', testid: `option-label-${item.id}-${value}` },
      input, h('span', { class: 'option-text', i18n: `term.option.${value}` })));
    input.addEventListener('change', () => {
      if (input.checked) ctx.onAnswer(item.id, { value: value === 'true' }, { typing: false });
    });
  }
  return {
    body: list,
    controls: inputs,
    setResponse(response) {
      const value = response && typeof response.value === 'boolean' ? String(response.value) : null;
      inputs.forEach((input) => {
        input.checked = input.value === value;
      });
    },
  };
}

function fillBlankWidget(item, ctx) {
  const count = Math.max(1, item.blankCount || 1);
  const inputs = [];
  const body = h('div', { class: 'blanks' });
  const emit = () => {
    const blanks = inputs.map((i) => i.value);
    ctx.onAnswer(item.id, blanks.some((b) => b.trim() !== '') ? { blanks } : null, { typing: true });
  };
  for (let index = 0; index < count; index += 1) {
    const id = `blank-${item.id}-${index}`;
    const input = h('input', {
      id, class: 'input', type: 'text', autocomplete: 'off', spellcheck: false, testid: `blank-${item.id}-${index}`, maxLength: 2000,
    });
    input.addEventListener('input', emit);
    inputs.push(input);
    body.appendChild(h('label', { class: 'blank', for: id },
      h('span', { class: 'blank-label', i18n: 'term.blank', params: { n: index + 1 } }), input));
  }
  return {
    body,
    controls: inputs,
    setResponse(response) {
      const blanks = (response && response.blanks) || [];
      inputs.forEach((input, index) => {
        input.value = blanks[index] ?? '';
      });
    },
  };
}

function textWidget(item, ctx) {
  const area = h('textarea', {
    class: 'input answer-text', rows: item.type === 'essay' ? 12 : 7, testid: `text-${item.id}`, i18nPlaceholder: 'term.answerPlaceholder',
    'aria-label': item.stem.slice(0, 60),
  });
  area.addEventListener('input', () => {
    ctx.onAnswer(item.id, area.value.trim() ? { text: area.value } : null, { typing: true });
  });
  return {
    body: area,
    controls: [area],
    setResponse(response) {
      area.value = (response && response.text) || '';
    },
  };
}

function calculationWidget(item, ctx) {
  const valueId = `calc-value-${item.id}`;
  const value = h('input', {
    id: valueId, class: 'input calc-value', type: 'text', inputMode: 'decimal', autocomplete: 'off', testid: `calc-value-${item.id}`,
    i18nPlaceholder: 'term.calcValuePlaceholder', maxLength: 100,
  });
  const workingId = `calc-working-${item.id}`;
  const working = h('textarea', { id: workingId, class: 'input', rows: 6, testid: `calc-working-${item.id}`, i18nPlaceholder: 'term.answerPlaceholder' });
  const emit = () => {
    const filled = value.value.trim() !== '' || working.value.trim() !== '';
    ctx.onAnswer(item.id, filled ? { value: value.value, working: working.value } : null, { typing: true });
  };
  value.addEventListener('input', emit);
  working.addEventListener('input', emit);
  const body = h('div', { class: 'calc' },
    h('label', { class: 'field-label', for: workingId, i18n: 'term.calcWorking' }),
    working,
    h('label', { class: 'field-label calc-result-label', for: valueId, i18n: 'term.calcValue' }),
    h('div', { class: 'calc-row' }, value, item.unit ? h('span', { class: 'calc-unit', testid: `calc-unit-${item.id}` }, item.unit) : null));
  return {
    body,
    controls: [value, working],
    setResponse(response) {
      value.value = (response && response.value) || '';
      working.value = (response && response.working) || '';
    },
  };
}

/** Flowchart: tap steps to append them in order; move up/down/remove. No drag needed (works with touch). */
function flowchartWidget(item, ctx) {
  const steps = item.steps || [];
  const byId = new Map(steps.map((s) => [s.id, s]));
  let order = [];
  let disabled = false;
  const available = h('div', { class: 'flow-available', testid: `flow-available-${item.id}` });
  const orderList = h('ol', { class: 'flow-order', testid: `order-${item.id}` });
  const description = item.asksDescription
    ? h('textarea', { class: 'input', rows: 4, testid: `flow-desc-${item.id}`, i18nPlaceholder: 'term.answerPlaceholder' })
    : null;
  const response = () => {
    const desc = description ? description.value : '';
    if (order.length === 0 && desc.trim() === '') return null;
    return description ? { order: [...order], description: desc } : { order: [...order] };
  };
  const emit = (typing) => ctx.onAnswer(item.id, response(), { typing });
  const render = () => {
    available.textContent = '';
    const left = steps.filter((s) => !order.includes(s.id));
    for (const step of left) {
      available.appendChild(h('button', {
        type: 'button', class: 'btn flow-step', testid: `step-${item.id}-${step.id}`, disabled,
        dataset: { step: step.id },
        on: { click: () => { if (!disabled) { order.push(step.id); render(); emit(false); } } },
      }, h('span', { class: 'flow-plus', 'aria-hidden': 'true' }, '+'), h('span', {}, step.text)));
    }
    if (left.length === 0) available.appendChild(h('p', { class: 'muted small', i18n: 'term.flowAllUsed' }));
    orderList.textContent = '';
    order.forEach((id, index) => {
      const step = byId.get(id);
      const move = (delta) => {
        const target = index + delta;
        if (disabled || target < 0 || target >= order.length) return;
        [order[index], order[target]] = [order[target], order[index]];
        render();
        emit(false);
      };
      orderList.appendChild(h('li', { class: 'flow-item', testid: `order-item-${item.id}-${id}`, dataset: { step: id } },
        h('span', { class: 'flow-index' }, String(index + 1)),
        h('span', { class: 'flow-text' }, step ? step.text : id),
        h('span', { class: 'flow-actions' },
          h('button', { type: 'button', class: 'btn btn-small', testid: `order-up-${item.id}-${id}`, disabled: disabled || index === 0, i18nAria: 'term.flowUp', i18nTitle: 'term.flowUp', on: { click: () => move(-1) } }, '↑'),
          h('button', { type: 'button', class: 'btn btn-small', testid: `order-down-${item.id}-${id}`, disabled: disabled || index === order.length - 1, i18nAria: 'term.flowDown', i18nTitle: 'term.flowDown', on: { click: () => move(1) } }, '↓'),
          h('button', {
            type: 'button', class: 'btn btn-small', testid: `order-remove-${item.id}-${id}`, disabled, i18nAria: 'term.flowRemove', i18nTitle: 'term.flowRemove',
            on: { click: () => { if (!disabled) { order.splice(index, 1); render(); emit(false); } } },
          }, '×'))));
    });
    if (order.length === 0) orderList.appendChild(h('li', { class: 'flow-empty muted small', i18n: 'term.flowEmpty' }));
  };
  if (description) description.addEventListener('input', () => emit(true));
  render();
  const body = h('div', { class: 'flow' },
    h('div', { class: 'flow-col' }, h('p', { class: 'field-label', i18n: 'term.flowAvailable' }), available),
    h('div', { class: 'flow-col' }, h('p', { class: 'field-label', i18n: 'term.flowOrder' }), orderList),
    description ? h('label', { class: 'field flow-desc' }, h('span', { class: 'field-label', i18n: 'term.flowDescription' }), description) : null);
  return {
    body,
    controls: description ? [description] : [],
    setResponse(value) {
      order = ((value && value.order) || []).filter((id) => byId.has(id));
      if (description) description.value = (value && value.description) || '';
      render();
    },
    setDisabled(value) {
      disabled = value;
      render();
    },
  };
}

function extension(name) {
  const dot = name.lastIndexOf('.');
  return dot >= 0 ? name.slice(dot + 1).toLowerCase() : '';
}

function thesisWidget(item, ctx) {
  const area = h('textarea', { class: 'input answer-text', rows: 14, testid: `text-${item.id}`, i18nPlaceholder: 'term.answerPlaceholder' });
  let attachment = null;
  let disabled = false;
  const rule = item.attachment || null;
  const response = () => (area.value.trim() || attachment ? (attachment ? { text: area.value, attachment } : { text: area.value }) : null);
  area.addEventListener('input', () => ctx.onAnswer(item.id, response(), { typing: true }));

  const parts = [];
  if (item.requirements) {
    parts.push(h('div', { class: 'requirements' },
      h('p', { class: 'field-label', i18n: 'term.requirements' }), h('p', { class: 'pre-wrap', testid: `requirements-${item.id}` }, item.requirements)));
  }
  parts.push(h('label', { class: 'field-label', i18n: 'term.thesisText' }), area);

  let fileInput = null;
  let removeButton = null;
  const uploaded = h('p', { class: 'attachment-name', testid: `attachment-name-${item.id}`, hidden: true });
  const uploadState = h('p', { class: 'upload-state', testid: `upload-state-${item.id}`, role: 'status', hidden: true });
  const uploadError = h('p', { class: 'form-error', testid: `upload-error-${item.id}`, role: 'alert', hidden: true });
  const showAttachment = () => {
    uploaded.hidden = !attachment;
    removeButton.hidden = !attachment;
    if (attachment) {
      uploaded.textContent = '';
      uploaded.appendChild(h('a', {
        href: `/api/attempt/attachments/${encodeURIComponent(attachment.id)}`, download: attachment.name, testid: `attachment-link-${item.id}`,
        i18n: 'term.attachmentUploaded', params: { name: attachment.name, size: formatBytes(attachment.bytes) },
      }));
    }
  };
  if (rule) {
    const types = (rule.types || []).map((x) => x.toLowerCase());
    const accept = types.flatMap((x) => (x === 'jpg' ? ['.jpg', '.jpeg'] : [`.${x}`])).join(',');
    const typeText = types.map((x) => x.toUpperCase()).join(' / ');
    fileInput = h('input', { type: 'file', class: 'file-input', accept, testid: `file-${item.id}`, id: `file-${item.id}` });
    const chooser = h('label', { class: 'btn file-button', for: `file-${item.id}`, testid: `file-button-${item.id}` },
      h('span', { class: 'file-icon', 'aria-hidden': 'true' }, '⇪'), h('span', { i18n: 'term.chooseFile' }));
    removeButton = h('button', { type: 'button', class: 'btn btn-small', testid: `attachment-remove-${item.id}`, i18n: 'term.attachmentRemove', hidden: true });
    removeButton.addEventListener('click', () => {
      if (disabled) return;
      attachment = null;
      showAttachment();
      ctx.onAnswer(item.id, response(), { typing: false });
    });
    fileInput.addEventListener('change', async () => {
      const file = fileInput.files && fileInput.files[0];
      uploadError.hidden = true;
      if (!file || disabled) return;
      const ext = extension(file.name);
      const allowed = types.includes(ext) || (ext === 'jpeg' && types.includes('jpg'));
      if (!allowed) {
        uploadError.hidden = false;
        setBilingualText(uploadError, tBoth('term.uploadWrongType', { types: typeText }));
        fileInput.value = '';
        return;
      }
      if (rule.maxBytes && file.size > rule.maxBytes) {
        uploadError.hidden = false;
        setBilingualText(uploadError, tBoth('term.uploadTooLarge', { size: formatBytes(file.size), max: formatBytes(rule.maxBytes) }));
        fileInput.value = '';
        return;
      }
      uploadState.hidden = false;
      uploadState.dataset.i18n = 'term.uploading';
      uploadState.textContent = t('term.uploading');
      fileInput.disabled = true;
      try {
        attachment = await ctx.onUpload(item.id, file);
        showAttachment();
        ctx.onAnswer(item.id, response(), { typing: false });
      } catch (error) {
        const texts = errorTexts(error);
        uploadError.hidden = false;
        setBilingualText(uploadError, {
          zh: tBoth('term.uploadFailed', { detail: texts.zh }).zh,
          en: tBoth('term.uploadFailed', { detail: texts.en }).en,
        });
      } finally {
        uploadState.hidden = true;
        fileInput.disabled = disabled;
        fileInput.value = '';
      }
    });
    parts.push(h('div', { class: 'attachment' },
      h('p', { class: 'field-label', i18n: 'term.attachment' }),
      h('p', { class: 'muted small', i18n: 'term.attachmentHint', params: { types: typeText, size: formatBytes(rule.maxBytes) } }),
      h('div', { class: 'file-picker' }, fileInput, chooser), uploadState, uploadError,
      h('div', { class: 'row' }, uploaded, removeButton)));
  }
  return {
    body: h('div', { class: 'thesis' }, parts),
    controls: [area],
    setResponse(value) {
      area.value = (value && value.text) || '';
      attachment = (value && value.attachment) || null;
      if (removeButton) showAttachment();
    },
    setDisabled(value) {
      disabled = value;
      if (fileInput) fileInput.disabled = value;
      if (fileInput) fileInput.parentElement.classList.toggle('is-disabled', value);
      if (removeButton) removeButton.disabled = value;
    },
  };
}

const BUILDERS = {
  singleChoice: (item, ctx) => choiceWidget(item, ctx, false),
  multipleChoice: (item, ctx) => choiceWidget(item, ctx, true),
  trueFalse: trueFalseWidget,
  fillBlank: fillBlankWidget,
  shortAnswer: textWidget,
  essay: textWidget,
  calculation: calculationWidget,
  flowchart: flowchartWidget,
  thesis: thesisWidget,
};

function answerable(item, ctx, widgets, extraClass) {
  const { el, setFlag, flagButton } = frame(item, { answerable: true, onFlag: ctx.onFlag, extraClass });
  const build = BUILDERS[item.type] || textWidget;
  const part = build(item, ctx);
  el.appendChild(h('div', { class: 'q-body' }, part.body));
  const widget = {
    id: item.id,
    number: item.number,
    type: item.type,
    el,
    setResponse: (response) => part.setResponse(response),
    setFlag,
    setDisabled(disabled) {
      part.controls.forEach((control) => {
        control.disabled = disabled;
      });
      if (part.setDisabled) part.setDisabled(disabled);
      if (flagButton) flagButton.disabled = disabled;
      el.classList.toggle('is-locked', disabled);
    },
  };
  widgets.set(item.id, widget);
  return el;
}

function caseAnalysis(item, ctx, widgets) {
  const total = (item.subQuestions || []).reduce((sum, sub) => sum + (sub.points || 0), 0);
  const { el } = frame({ ...item, points: item.points || total }, { answerable: false, extraClass: 'case' });
  el.appendChild(h('div', { class: 'material', testid: `material-${item.id}` },
    h('p', { class: 'field-label', i18n: 'term.material' }), h('p', { class: 'pre-wrap' }, item.material || '')));
  const subs = h('div', { class: 'sub-questions' });
  for (const sub of item.subQuestions || []) subs.appendChild(answerable(sub, ctx, widgets, 'sub-question'));
  el.appendChild(subs);
  return el;
}

/** Builds the paper; returns {el, widgets: Map(questionId → widget)}. */
export function renderPaper(paper, ctx) {
  const widgets = new Map();
  const el = h('div', { class: 'paper', testid: 'paper' },
    h('h1', { class: 'paper-title', testid: 'paper-title' }, paper.title),
    h('p', { class: 'muted paper-points', i18n: 'term.sectionPoints', params: { n: formatPoints(paper.points) } }));
  for (const section of paper.sections || []) {
    const sectionEl = h('section', { class: 'paper-section', testid: `section-${section.id}` },
      h('h2', { class: 'section-title' }, section.title, ' ',
        h('span', { class: 'section-points', i18n: 'term.sectionPoints', params: { n: formatPoints(section.points) } })),
      section.note ? h('p', { class: 'section-note muted' }, section.note) : null);
    for (const item of section.items || []) {
      sectionEl.appendChild(item.type === 'caseAnalysis' ? caseAnalysis(item, ctx, widgets) : answerable(item, ctx, widgets));
    }
    el.appendChild(sectionEl);
  }
  return { el, widgets };
}
