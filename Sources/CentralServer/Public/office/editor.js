/*
 * The question editor for every type (ExamCore's Question JSON in and out) and the candidate's-eye preview.
 * A case analysis edits each sub-question with the same editor, nested.
 *
 * data-testid hooks (P is the editor's prefix: "q" for a question, "q-sub{n}" for its n-th sub-question, and so on):
 *   P-type, P-stem, P-points, P-difficulty, P-explanation, P-kp-{code} (a knowledge-point checkbox),
 *   choice: P-option-{i} (text), P-option-{i}-correct, P-option-{i}-remove, P-option-add;
 *   true/false: P-tf; blanks: P-blank-{i} (alternatives separated by |), P-blank-{i}-remove, P-blank-add;
 *   short answer and essay: P-reference, P-scheme-{i}-text, P-scheme-{i}-points, P-scheme-{i}-remove, P-scheme-add;
 *   calculation: P-calc-value, P-calc-tolerance, P-calc-unit; flowchart: P-step-{i}, P-step-{i}-remove, P-step-add,
 *   P-flow-order (step letters in the right order, e.g. "B,A,C"), P-flow-describe;
 *   case analysis: P-material, P-sub-type (type of the next sub-question), P-sub-add, P-sub{n}-remove;
 *   thesis: P-requirements, P-attach-types, P-attach-mb.
 *   Preview: preview, preview-stem, preview-question-{id}, preview-option-{qid}-{optionId}.
 */
import { addTexts, button, field, h, input, points, QUESTION_TYPES, select, t, textarea, typeName } from './common.js';

addTexts({
  'q.type': '题型', 'q.stem': '题干', 'q.points': '分值', 'q.difficulty': '难度', 'q.difficultyNone': '未设', 'q.explanation': '解析',
  'q.kps': '知识点', 'q.noTree': '本题库还没有知识点。', 'q.options': '选项（勾选正确答案）', 'q.addOption': '添加选项',
  'q.answer': '答案', 'q.true': '正确', 'q.false': '错误', 'q.blanks': '空（每空可填多个可接受答案，用 | 分隔）', 'q.addBlank': '添加一空',
  'q.reference': '参考答案', 'q.scheme': '评分要点', 'q.addScheme': '添加评分要点', 'q.schemeText': '要点', 'q.calcValue': '正确值',
  'q.tolerance': '允许误差', 'q.unit': '单位', 'q.steps': '步骤', 'q.addStep': '添加步骤', 'q.order': '正确顺序（步骤字母，逗号分隔）',
  'q.describe': '要求考生文字说明', 'q.material': '案例材料', 'q.subs': '小题', 'q.addSub': '添加小题', 'q.sub': '第 {n} 小题',
  'q.removeSub': '删除本小题', 'q.requirements': '论文要求', 'q.attachTypes': '允许的附件类型（如 pdf,docx；留空表示不需附件）',
  'q.attachMb': '附件大小上限（MB）', 'q.casePoints': '案例分析题的分值为各小题之和。',
  'pv.points': '（{n} 分）', 'pv.answerHere': '考生在此作答', 'pv.unit': '单位：{unit}', 'pv.attachment': '可上传附件：{types}，不超过 {mb} MB',
  'pv.material': '案例材料', 'pv.order': '请排出正确顺序', 'pv.describe': '并用文字说明',
}, {
  'q.type': 'Type', 'q.stem': 'Stem', 'q.points': 'Points', 'q.difficulty': 'Difficulty', 'q.difficultyNone': 'not set',
  'q.explanation': 'Explanation', 'q.kps': 'Knowledge points', 'q.noTree': 'This bank has no knowledge points yet.',
  'q.options': 'Options (tick the correct ones)', 'q.addOption': 'Add option', 'q.answer': 'Answer', 'q.true': 'True', 'q.false': 'False',
  'q.blanks': 'Blanks (accepted answers of each, separated by |)', 'q.addBlank': 'Add blank', 'q.reference': 'Reference answer',
  'q.scheme': 'Scoring points', 'q.addScheme': 'Add scoring point', 'q.schemeText': 'Point', 'q.calcValue': 'Correct value',
  'q.tolerance': 'Tolerance', 'q.unit': 'Unit', 'q.steps': 'Steps', 'q.addStep': 'Add step',
  'q.order': 'Correct order (step letters, comma-separated)', 'q.describe': 'Candidate must also describe', 'q.material': 'Case material',
  'q.subs': 'Sub-questions', 'q.addSub': 'Add sub-question', 'q.sub': 'Sub-question {n}', 'q.removeSub': 'Remove this sub-question',
  'q.requirements': 'Requirements', 'q.attachTypes': 'Allowed attachment types (e.g. pdf,docx; empty: no attachment)',
  'q.attachMb': 'Attachment size limit (MB)', 'q.casePoints': 'A case analysis is worth the sum of its sub-questions.',
  'pv.points': '({n} points)', 'pv.answerHere': 'The candidate answers here', 'pv.unit': 'Unit: {unit}',
  'pv.attachment': 'Attachment allowed: {types}, up to {mb} MB', 'pv.material': 'Case material', 'pv.order': 'Put the steps in order',
  'pv.describe': 'and describe them',
});

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const number = (value) => (value === '' || value === null || value === undefined || Number.isNaN(Number(value)) ? null : Number(value));

/** A list of rows with add and remove; `make(item, index)` returns {el, read}. */
function rowList(prefix, items, make, addLabel, blank) {
  const rows = [];
  const list = h('div', { class: 'row-list' });
  function render() {
    const values = rows.map((row) => row.read());
    rows.length = 0;
    list.replaceChildren();
    values.forEach((value, index) => append(value, index));
  }
  function append(item, index) {
    const row = make(item, index);
    rows.push(row);
    list.append(h('div', { class: 'row' }, row.el,
      button(`${prefix}-${index}-remove`, '×', () => { rows.splice(index, 1); list.children[index].remove(); render(); }, 'btn-small')));
  }
  items.forEach((item, index) => append(item, index));
  const add = button(`${prefix}-add`, addLabel, () => append(blank(), rows.length), 'btn-small');
  return { el: h('div', {}, list, add), read: () => rows.map((row) => row.read()) };
}

/** The server's standard points per type, used when the bank sets none (TypeDefaults.standard). */
export const STANDARD_POINTS = { singleChoice: 1, multipleChoice: 2, trueFalse: 1, fillBlank: 2, shortAnswer: 5, essay: 10, calculation: 5,
  flowchart: 5, caseAnalysis: 20, thesis: 30 };

function blankQuestion(type, defaults = {}) {
  const q = { id: '', type, stem: '', points: defaults[type] ?? STANDARD_POINTS[type] ?? 1, knowledgePoints: [] };
  if (type === 'singleChoice') Object.assign(q, { options: ['A', 'B', 'C', 'D'].map((id) => ({ id, text: '' })), correct: 'A' });
  if (type === 'multipleChoice') Object.assign(q, { options: ['A', 'B', 'C', 'D'].map((id) => ({ id, text: '' })), correct: [] });
  if (type === 'trueFalse') q.correct = true;
  if (type === 'fillBlank') q.blanks = [{ accepted: [''] }];
  if (type === 'shortAnswer' || type === 'essay') Object.assign(q, { reference: '', scheme: [] });
  if (type === 'calculation') Object.assign(q, { correct: 0, tolerance: 0, unit: '' });
  if (type === 'flowchart') Object.assign(q, { steps: ['A', 'B', 'C'].map((id) => ({ id, text: '' })), correct: ['A', 'B', 'C'] });
  if (type === 'caseAnalysis') Object.assign(q, { material: '', subQuestions: [] });
  if (type === 'thesis') q.requirements = '';
  return q;
}

/**
 * An editor for one question. `context` = {tree: [{code,name,parent}], typeDefaults: {type: points}}.
 * Returns {el, read(): Question}.
 */
export function questionEditor(question, context, prefix = 'q') {
  let current = question && question.type ? question : blankQuestion(question?.type || 'singleChoice', context.typeDefaults);
  const el = h('div', { class: 'q-editor', testid: `${prefix}-editor` });
  let readSpecific = () => ({});
  const common = {};

  function build() {
    const q = current;
    const typeSelect = select(`${prefix}-type`, QUESTION_TYPES.map((type) => [type, typeName(type)]), q.type);
    typeSelect.addEventListener('change', () => {
      const kept = read();
      current = { ...blankQuestion(typeSelect.value, context.typeDefaults), id: kept.id, stem: kept.stem, explanation: kept.explanation,
        knowledgePoints: kept.knowledgePoints, difficulty: kept.difficulty };
      build();
    });
    common.stem = textarea(`${prefix}-stem`, { rows: 3, value: q.stem || '' });
    common.points = input(`${prefix}-points`, { type: 'number', step: '0.5', min: '0', value: q.points ?? '' });
    common.difficulty = select(`${prefix}-difficulty`, [['', t('q.difficultyNone')], ...[1, 2, 3, 4, 5].map((d) => [d, String(d)])], q.difficulty ?? '');
    common.explanation = textarea(`${prefix}-explanation`, { rows: 2, value: q.explanation || '' });
    const chosen = new Set(q.knowledgePoints || []);
    common.kps = (context.tree || []).map((kp) => {
      const box = h('input', { type: 'checkbox', value: kp.code, testid: `${prefix}-kp-${kp.code}`, checked: chosen.has(kp.code) });
      return { box, el: h('label', { class: ['kp-choice', kp.parent ? 'kp-child' : null] }, box, ` ${kp.code} ${kp.name}`) };
    });
    const specific = h('div', { class: 'q-specific' });
    readSpecific = buildSpecific(q, specific);
    el.replaceChildren(
      h('div', { class: 'grid-3' }, field(t('q.type'), typeSelect),
        q.type === 'caseAnalysis' ? h('p', { class: 'muted small' }, t('q.casePoints')) : field(t('q.points'), common.points),
        field(t('q.difficulty'), common.difficulty)),
      field(t('q.stem'), common.stem),
      specific,
      field(t('q.explanation'), common.explanation),
      h('fieldset', { class: 'kp-set' }, h('legend', {}, t('q.kps')),
        common.kps.length ? common.kps.map((k) => k.el) : h('p', { class: 'muted small' }, t('q.noTree'))));
  }

  function buildSpecific(q, slot) {
    const type = q.type;
    if (type === 'singleChoice' || type === 'multipleChoice') {
      const correct = new Set(type === 'singleChoice' ? [q.correct] : q.correct || []);
      const group = `${prefix}-correct-${Math.random().toString(36).slice(2, 7)}`;
      const list = rowList(`${prefix}-option`, (q.options || []).map((o) => ({ ...o, correct: correct.has(o.id) })), (item, index) => {
        const text = input(`${prefix}-option-${index}`, { value: item.text || '' });
        const mark = h('input', { type: type === 'singleChoice' ? 'radio' : 'checkbox', name: group, testid: `${prefix}-option-${index}-correct`, checked: item.correct });
        return { el: h('label', { class: 'option-row' }, mark, h('span', { class: 'option-letter' }, LETTERS[index]), text), read: () => ({ text: text.value, correct: mark.checked }) };
      }, t('q.addOption'), () => ({ text: '', correct: false }));
      slot.append(h('div', { class: 'field' }, h('span', { class: 'label' }, t('q.options')), list.el));
      return () => {
        const rows = list.read();
        const options = rows.map((row, index) => ({ id: LETTERS[index], text: row.text }));
        const right = rows.map((row, index) => (row.correct ? LETTERS[index] : null)).filter(Boolean);
        return { options, correct: type === 'singleChoice' ? right[0] || '' : right };
      };
    }
    if (type === 'trueFalse') {
      const tf = select(`${prefix}-tf`, [['true', t('q.true')], ['false', t('q.false')]], String(q.correct !== false));
      slot.append(field(t('q.answer'), tf));
      return () => ({ correct: tf.value === 'true' });
    }
    if (type === 'fillBlank') {
      const list = rowList(`${prefix}-blank`, q.blanks || [], (item, index) => {
        const box = input(`${prefix}-blank-${index}`, { value: (item.accepted || []).join(' | ') });
        return { el: h('span', { class: 'grow' }, `${index + 1}. `, box), read: () => ({ accepted: box.value.split('|').map((s) => s.trim()).filter(Boolean) }) };
      }, t('q.addBlank'), () => ({ accepted: [] }));
      slot.append(h('div', { class: 'field' }, h('span', { class: 'label' }, t('q.blanks')), list.el));
      return () => ({ blanks: list.read() });
    }
    if (type === 'shortAnswer' || type === 'essay') {
      const reference = textarea(`${prefix}-reference`, { rows: 4, value: q.reference || '' });
      const list = rowList(`${prefix}-scheme`, q.scheme || [], (item, index) => {
        const text = input(`${prefix}-scheme-${index}-text`, { value: item.description || '', placeholder: t('q.schemeText') });
        const pts = input(`${prefix}-scheme-${index}-points`, { type: 'number', step: '0.5', min: '0', value: item.points ?? '', class: 'input input-narrow' });
        return { el: h('span', { class: 'grow row-fields' }, text, pts), read: () => ({ description: text.value, points: number(pts.value) ?? 0 }) };
      }, t('q.addScheme'), () => ({ description: '', points: 1 }));
      slot.append(field(t('q.reference'), reference), h('div', { class: 'field' }, h('span', { class: 'label' }, t('q.scheme')), list.el));
      return () => ({ reference: reference.value || null, scheme: list.read() });
    }
    if (type === 'calculation') {
      const value = input(`${prefix}-calc-value`, { type: 'number', step: 'any', value: q.correct ?? '' });
      const tolerance = input(`${prefix}-calc-tolerance`, { type: 'number', step: 'any', min: '0', value: q.tolerance ?? 0 });
      const unit = input(`${prefix}-calc-unit`, { value: q.unit || '' });
      slot.append(h('div', { class: 'grid-3' }, field(t('q.calcValue'), value), field(t('q.tolerance'), tolerance), field(t('q.unit'), unit)));
      return () => ({ correct: number(value.value), tolerance: number(tolerance.value) ?? 0, unit: unit.value || null });
    }
    if (type === 'flowchart') {
      const list = rowList(`${prefix}-step`, q.steps || [], (item, index) => {
        const text = input(`${prefix}-step-${index}`, { value: item.text || '' });
        return { el: h('span', { class: 'grow' }, h('span', { class: 'option-letter' }, LETTERS[index]), text), read: () => ({ text: text.value }) };
      }, t('q.addStep'), () => ({ text: '' }));
      const order = input(`${prefix}-flow-order`, { value: (q.correct || []).join(',') });
      const describe = h('input', { type: 'checkbox', testid: `${prefix}-flow-describe`, checked: q.asksDescription });
      slot.append(h('div', { class: 'field' }, h('span', { class: 'label' }, t('q.steps')), list.el), field(t('q.order'), order),
        h('label', {}, describe, ` ${t('q.describe')}`));
      return () => ({
        steps: list.read().map((s, index) => ({ id: LETTERS[index], text: s.text })),
        correct: order.value.split(/[,，\s]+/).map((s) => s.trim().toUpperCase()).filter(Boolean),
        asksDescription: describe.checked || undefined,
      });
    }
    if (type === 'caseAnalysis') {
      const material = textarea(`${prefix}-material`, { rows: 6, value: q.material || '' });
      const subs = [];
      const subList = h('div', { class: 'sub-list' });
      let counter = 0;
      const addSub = (sub) => {
        const subPrefix = `${prefix}-sub${counter++}`;
        const editor = questionEditor(sub, context, subPrefix);
        const entry = { editor };
        const box = h('fieldset', { class: 'sub-question' }, h('legend', {}, t('q.sub', { n: subs.length + 1 })), editor.el,
          button(`${subPrefix}-remove`, t('q.removeSub'), () => { subs.splice(subs.indexOf(entry), 1); box.remove(); }, 'btn-small'));
        subs.push(entry);
        subList.append(box);
      };
      (q.subQuestions || []).forEach(addSub);
      const nextType = select(`${prefix}-sub-type`, QUESTION_TYPES.filter((x) => x !== 'caseAnalysis').map((x) => [x, typeName(x)]), 'singleChoice');
      slot.append(field(t('q.material'), material), h('div', { class: 'field' }, h('span', { class: 'label' }, t('q.subs')), subList,
        h('div', { class: 'row' }, nextType, button(`${prefix}-sub-add`, t('q.addSub'), () => addSub(blankQuestion(nextType.value, context.typeDefaults)), 'btn-small'))));
      return () => ({ material: material.value, subQuestions: subs.map((s, index) => ({ ...s.editor.read(), id: s.editor.read().id || `${index + 1}` })) });
    }
    if (type === 'thesis') {
      const requirements = textarea(`${prefix}-requirements`, { rows: 4, value: q.requirements || '' });
      const types = input(`${prefix}-attach-types`, { value: (q.attachment?.types || []).join(',') });
      const mb = input(`${prefix}-attach-mb`, { type: 'number', min: '1', value: q.attachment ? Math.round(q.attachment.maxBytes / 1048576) : 20 });
      slot.append(field(t('q.requirements'), requirements), h('div', { class: 'grid-2' }, field(t('q.attachTypes'), types), field(t('q.attachMb'), mb)));
      return () => {
        const list = types.value.split(/[,，\s]+/).map((s) => s.trim().replace(/^\./, '').toLowerCase()).filter(Boolean);
        return { requirements: requirements.value || null, attachment: list.length ? { types: list, maxBytes: (number(mb.value) || 20) * 1048576 } : null };
      };
    }
    return () => ({});
  }

  function read() {
    const type = el.querySelector(`[data-testid="${prefix}-type"]`)?.value || current.type;
    const q = {
      id: current.id || '', type, stem: common.stem.value,
      explanation: common.explanation.value || undefined,
      knowledgePoints: common.kps.filter((k) => k.box.checked).map((k) => k.box.value),
      difficulty: number(common.difficulty.value) ?? undefined,
      ...readSpecific(),
    };
    if (type !== 'caseAnalysis') q.points = number(common.points.value) ?? 0;
    for (const key of Object.keys(q)) if (q[key] === null || q[key] === undefined) delete q[key];
    return q;
  }

  build();
  return { el, read };
}

/** The question as the candidate will see it (read-only, no answer keys), numbered `n`. */
export function preview(question, n = 1, prefix = 'preview') {
  const q = question;
  const total = q.type === 'caseAnalysis' && (q.points === undefined || q.points === null)
    ? (q.subQuestions || []).reduce((sum, sub) => sum + Number(sub.points || 0), 0) : q.points;
  const header = h('div', { class: 'q-header' }, h('span', { class: 'q-number' }, `${n}.`),
    h('span', { class: 'badge badge-primary' }, typeName(q.type)), h('span', { class: 'muted small' }, t('pv.points', { n: points(total) })));
  const body = [];
  const disabled = true;
  if (q.type === 'singleChoice' || q.type === 'multipleChoice') {
    // Like the terminal: options lettered by position, A first.
    body.push(h('div', { class: 'options' }, (q.options || []).map((o, i) => h('label', { class: 'option', testid: `${prefix}-option-${q.id}-${o.id}` },
      h('input', { type: q.type === 'singleChoice' ? 'radio' : 'checkbox', disabled }), h('span', { class: 'option-letter' }, `${LETTERS[i]}.`), o.text))));
  } else if (q.type === 'trueFalse') {
    body.push(h('div', { class: 'options' }, [t('q.true'), t('q.false')].map((label) => h('label', { class: 'option' }, h('input', { type: 'radio', disabled }), label))));
  } else if (q.type === 'fillBlank') {
    body.push(h('div', { class: 'blanks' }, (q.blanks || []).map((_, i) => h('label', { class: 'blank' }, `(${i + 1}) `, h('input', { class: 'input', disabled })))));
  } else if (q.type === 'shortAnswer' || q.type === 'essay') {
    body.push(h('textarea', { class: 'input', rows: q.type === 'essay' ? 8 : 4, disabled, placeholder: t('pv.answerHere') }));
  } else if (q.type === 'calculation') {
    body.push(h('textarea', { class: 'input', rows: 3, disabled, placeholder: t('pv.answerHere') }),
      h('div', { class: 'row' }, h('input', { class: 'input input-narrow', disabled }), q.unit ? h('span', {}, t('pv.unit', { unit: q.unit })) : null));
  } else if (q.type === 'flowchart') {
    body.push(h('p', { class: 'muted small' }, t('pv.order'), q.asksDescription ? ` ${t('pv.describe')}` : ''),
      h('div', { class: 'flow-steps' }, (q.steps || []).map((s, i) => h('span', { class: 'btn flow-step' }, `${LETTERS[i]}. ${s.text}`))));
  } else if (q.type === 'caseAnalysis') {
    body.push(h('div', { class: 'material' }, h('p', { class: 'label' }, t('pv.material')), h('p', { class: 'pre-wrap' }, q.material)),
      (q.subQuestions || []).map((sub, i) => preview(sub, `${n}.${i + 1}`, prefix)));
  } else if (q.type === 'thesis') {
    if (q.requirements) body.push(h('p', { class: 'pre-wrap' }, q.requirements));
    body.push(h('textarea', { class: 'input', rows: 8, disabled, placeholder: t('pv.answerHere') }));
    if (q.attachment) body.push(h('p', { class: 'muted small' }, t('pv.attachment', { types: q.attachment.types.join(', '), mb: Math.round(q.attachment.maxBytes / 1048576) })));
  }
  return h('div', { class: 'question preview-question', testid: `${prefix}-question-${q.id}` }, header,
    h('p', { class: 'q-stem pre-wrap', testid: `${prefix}-stem` }, q.stem), body);
}

/** One line of a question for lists: type, stem cut short. */
export const stemLine = (stem, max = 80) => (stem && stem.length > max ? `${stem.slice(0, max)}…` : stem || '');
