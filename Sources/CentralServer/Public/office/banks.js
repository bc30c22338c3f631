/*
 * 题库 (question banks): the list and a new bank; a bank's parts — questions (search, filters, paging, editor,
 * preview, delete), knowledge-point tree, per-type default points (题型管理) and the bank's details, import (check
 * first, then all or only the good rows), export and template, duplicates, statistics; for a skill bank its tasks.
 * Routes: #banks, #bank/{id}/{questions|edit[/{questionId}]|tree|types|import|duplicates|stats|tasks|task[/{taskId}]}
 *
 * data-testid hooks:
 *   list: banks-table, bank-row-{id}, bank-open-{id}, bank-name, bank-occupation, bank-occupation-code, bank-level,
 *     bank-subject, bank-create, bank-error
 *   a bank: bank-title (data-subject), bank-part-{part}
 *   questions: qs-q, qs-type, qs-difficulty, qs-kp, qs-status, qs-search, qs-total (data-total), questions-table,
 *     question-row-{id} (data-status), question-edit-{id}, question-preview-{id}, qs-prev, qs-next, qs-page, question-new
 *   editor (see editor.js for the fields): question-save, question-saved (data-id), question-duplicates,
 *     duplicate-{i} (data-id), question-preview, preview (the rendering), question-delete, question-outcome
 *     (data-outcome: deleted|retired), question-reactivate, question-another, question-error
 *   tree: kp-table, kp-{i}-code, kp-{i}-name, kp-{i}-parent, kp-{i}-weight, kp-{i}-remove, kp-add, kp-save, kp-saved,
 *     kp-error (problems: kp-error-problem-{n})
 *   types: type-default-{type}, type-defaults-save, type-defaults-saved, bank-edit-name, bank-edit-occupation,
 *     bank-edit-occupation-code, bank-edit-level, bank-edit-save, bank-edit-saved, types-error
 *   import: import-format, import-file, import-check, import-report (data-rows, data-good, data-problems,
 *     data-duplicates), import-problem-{i}, import-duplicate-{i}, import-all, import-good, import-result (data-written),
 *     import-error, export-{format}, import-template
 *   duplicates: dup-threshold, dup-check, dup-table (data-pairs), dup-{i}
 *   stats: stats-total (data-total, data-active, data-retired), stats-kp, stats-type, stats-difficulty,
 *     stats-type-chart, stats-difficulty-chart, stats-kp-chart, stats-csv
 *   tasks: tasks-table, task-row-{id}, task-edit-{id}, task-new; task editor: task-title, task-description,
 *     task-duration, task-difficulty, task-kp-{code}, task-item-{i}-text, task-item-{i}-points, task-item-{i}-deduction,
 *     task-item-{i}-remove, task-item-add, task-cprep-{i}-{name|spec|qty|note}, task-cprep-add, task-rprep-… (same),
 *     task-save, task-saved (data-id), task-delete, task-outcome (data-outcome), task-error
 */
import {
  put, addTexts, attempt, bilingual, button, call, card, dialog, enc, errorSlot, field, h, input, okBox, points,
  QUESTION_TYPES, select, t, table, textarea, typeName, upload, when,
} from './common.js';
import { preview, questionEditor, STANDARD_POINTS, stemLine } from './editor.js';

addTexts({
  'b.banks': '题库', 'b.new': '新建题库', 'b.name': '名称', 'b.occupation': '职业（工种）', 'b.occupationCode': '职业编码',
  'b.level': '等级', 'b.subject': '科目', 'b.theory': '理论知识', 'b.skill': '技能操作', 'b.create': '创建', 'b.questions': '试题',
  'b.active': '在用', 'b.retired': '停用', 'b.tasks': '实操任务', 'b.kps': '知识点', 'b.open': '打开', 'b.none': '还没有题库。',
  'part.questions': '试题', 'part.tree': '知识点', 'part.types': '题型与设置', 'part.import': '导入导出', 'part.duplicates': '查重',
  'part.stats': '统计', 'part.tasks': '实操任务', 'part.papers': '组卷',
  'qs.search': '搜索', 'qs.q': '关键词', 'qs.kp': '知识点', 'qs.status': '状态', 'qs.total': '共 {n} 题', 'qs.page': '第 {page} / {pages} 页',
  'qs.prev': '上一页', 'qs.next': '下一页', 'qs.new': '新建试题', 'qs.usage': '使用次数', 'qs.updated': '更新时间', 'qs.none': '没有符合条件的试题。',
  'qs.preview': '预览', 'qs.stem': '题干',
  'qe.new': '新建试题', 'qe.edit': '编辑试题 {id}', 'qe.saved': '已保存，编号 {id}。', 'qe.dups': '与下列试题相似（仅提醒，已保存）：',
  'qe.this': '本题', 'qe.match': '相似试题', 'qe.similarity': '相似度', 'qe.delete': '删除试题', 'qe.deleteAsk': '删除试题 {id}？被试卷用过的试题将改为停用。',
  'qe.deleted': '试题已删除。', 'qe.retiredOut': '试题已被试卷使用，已改为停用。', 'qe.reactivate': '重新启用', 'qe.another': '再建一题',
  'qe.preview': '考生视角预览', 'qe.retiredNote': '此题已停用。',
  'kp.code': '编码', 'kp.name': '名称', 'kp.parent': '上级编码', 'kp.weight': '比重 %', 'kp.add': '添加一行', 'kp.save': '保存知识点',
  'kp.saved': '知识点已保存（{n} 个）。', 'kp.hint': '上级编码留空为一级知识点；比重为鉴定要素细目表中的百分比。',
  'ty.defaults': '各题型默认分值', 'ty.save': '保存默认分值', 'ty.saved': '默认分值已保存。', 'ty.bank': '题库信息', 'ty.bankSaved': '题库信息已保存。',
  'im.title': '导入试题', 'im.format': '格式', 'im.file': '文件', 'im.check': '检查', 'im.all': '全部导入',
  'im.good': '只导入无误的行', 'im.report': '检查结果：共 {rows} 行，无误 {good} 行，问题 {problems} 个，疑似重复 {duplicates} 个。',
  'im.row': '行', 'im.problems': '有问题的行（不会导入）', 'im.duplicates': '疑似重复（仅提醒）', 'im.column': '列', 'im.reason': '原因', 'im.matches': '相似的已有试题', 'im.written': '已导入 {n} 题，新增知识点 {k} 个。',
  'im.chooseFile': '请先选择文件。', 'im.allBlocked': '有问题时不能全部导入：请改好文件，或明确选择只导入无误的行。',
  'im.export': '导出', 'im.template': '下载 Excel 模板', 'im.goodAsk': '只导入无误的 {good} 行，跳过有问题的行？',
  'dp.threshold': '相似度阈值', 'dp.check': '查重', 'dp.first': '试题一', 'dp.second': '试题二', 'dp.none': '没有相似的试题。',
  'st.total': '共 {total} 题：在用 {active}，停用 {retired}', 'st.byKp': '按知识点', 'st.byType': '按题型', 'st.byDifficulty': '按难度',
  'st.count': '题数', 'st.csv': '下载 CSV', 'st.difficulty': '难度 {d}', 'st.noDifficulty': '未设难度',
  'tk.title': '任务名称', 'tk.description': '任务描述', 'tk.duration': '时长（分钟）', 'tk.items': '评分项', 'tk.item': '评分内容',
  'tk.deduction': '扣分规则', 'tk.addItem': '添加评分项', 'tk.cprep': '考生准备清单', 'tk.rprep': '考场准备清单', 'tk.prepName': '名称',
  'tk.spec': '规格', 'tk.qty': '数量', 'tk.note': '备注', 'tk.addPrep': '添加一项', 'tk.new': '新建任务', 'tk.saved': '任务已保存，编号 {id}。',
  'tk.delete': '删除任务', 'tk.deleteAsk': '删除任务 {id}？', 'tk.none': '还没有任务。', 'tk.points': '总分',
}, {
  'b.banks': 'Question banks', 'b.new': 'New bank', 'b.name': 'Name', 'b.occupation': 'Occupation', 'b.occupationCode': 'Occupation code',
  'b.level': 'Level', 'b.subject': 'Subject', 'b.theory': 'Theory', 'b.skill': 'Skill', 'b.create': 'Create', 'b.questions': 'Questions',
  'b.active': 'Active', 'b.retired': 'Retired', 'b.tasks': 'Tasks', 'b.kps': 'Knowledge points', 'b.open': 'Open', 'b.none': 'No banks yet.',
  'part.questions': 'Questions', 'part.tree': 'Knowledge points', 'part.types': 'Types & settings', 'part.import': 'Import & export',
  'part.duplicates': 'Duplicates', 'part.stats': 'Statistics', 'part.tasks': 'Tasks', 'part.papers': 'Assemble',
  'qs.search': 'Search', 'qs.q': 'Words', 'qs.kp': 'Knowledge point', 'qs.status': 'Status', 'qs.total': '{n} questions',
  'qs.page': 'Page {page} of {pages}', 'qs.prev': 'Previous', 'qs.next': 'Next', 'qs.new': 'New question', 'qs.usage': 'Used',
  'qs.updated': 'Updated', 'qs.none': 'No question matches.', 'qs.preview': 'Preview', 'qs.stem': 'Stem',
  'qe.new': 'New question', 'qe.edit': 'Edit question {id}', 'qe.saved': 'Saved as {id}.',
  'qe.dups': 'Similar to these questions (a warning; it is saved):', 'qe.this': 'This question', 'qe.match': 'Similar question',
  'qe.similarity': 'Similarity', 'qe.delete': 'Delete question', 'qe.deleteAsk': 'Delete question {id}? One a paper used is retired instead.',
  'qe.deleted': 'The question was deleted.', 'qe.retiredOut': 'A paper uses the question: it was retired instead.',
  'qe.reactivate': 'Reactivate', 'qe.another': 'Another question', 'qe.preview': "Preview as the candidate sees it",
  'qe.retiredNote': 'This question is retired.',
  'kp.code': 'Code', 'kp.name': 'Name', 'kp.parent': 'Parent code', 'kp.weight': 'Weight %', 'kp.add': 'Add a row',
  'kp.save': 'Save knowledge points', 'kp.saved': 'Knowledge points saved ({n}).',
  'kp.hint': 'Leave the parent empty for a top-level point; the weight is the percentage in the standard.',
  'ty.defaults': 'Default points per type', 'ty.save': 'Save defaults', 'ty.saved': 'Defaults saved.', 'ty.bank': 'Bank details',
  'ty.bankSaved': 'Bank details saved.',
  'im.title': 'Import questions', 'im.format': 'Format', 'im.file': 'File', 'im.check': 'Check', 'im.all': 'Import all',
  'im.good': 'Import the good rows only', 'im.report': 'Checked: {rows} rows, {good} good, {problems} problems, {duplicates} likely duplicates.',
  'im.row': 'Row', 'im.problems': 'Rows with problems (not imported)', 'im.duplicates': 'Likely duplicates (a warning)', 'im.column': 'Column', 'im.reason': 'Reason', 'im.matches': 'Similar question in the bank',
  'im.written': 'Imported {n} questions, {k} new knowledge points.', 'im.chooseFile': 'Choose a file first.',
  'im.allBlocked': 'With problems nothing can be imported whole: fix the file, or choose to import the good rows only.',
  'im.export': 'Export', 'im.template': 'Download the Excel template', 'im.goodAsk': 'Import the {good} good rows and skip the rest?',
  'dp.threshold': 'Similarity threshold', 'dp.check': 'Find duplicates', 'dp.first': 'Question 1', 'dp.second': 'Question 2',
  'dp.none': 'No similar questions.',
  'st.total': '{total} questions: {active} active, {retired} retired', 'st.byKp': 'By knowledge point', 'st.byType': 'By type',
  'st.byDifficulty': 'By difficulty', 'st.count': 'Questions', 'st.csv': 'Download CSV', 'st.difficulty': 'Difficulty {d}',
  'st.noDifficulty': 'not set',
  'tk.title': 'Title', 'tk.description': 'Description', 'tk.duration': 'Minutes', 'tk.items': 'Scoring items', 'tk.item': 'What is scored',
  'tk.deduction': 'Deduction rule', 'tk.addItem': 'Add scoring item', 'tk.cprep': 'Candidate preparation', 'tk.rprep': 'Room preparation',
  'tk.prepName': 'Name', 'tk.spec': 'Specification', 'tk.qty': 'Quantity', 'tk.note': 'Note', 'tk.addPrep': 'Add item', 'tk.new': 'New task',
  'tk.saved': 'Task saved as {id}.', 'tk.delete': 'Delete task', 'tk.deleteAsk': 'Delete task {id}?', 'tk.none': 'No tasks yet.', 'tk.points': 'Points',
});

const FORMATS = [['xlsx', 'Excel (.xlsx)'], ['moodle', 'Moodle XML'], ['qti21', 'QTI 2.1'], ['qti30', 'QTI 3.0']];
const subjectName = (subject) => (subject === 'skill' ? t('b.skill') : t('b.theory'));
const kpLabel = (tree, code) => { const kp = tree.find((k) => k.code === code); return kp ? `${code} ${kp.name}` : code; };

export async function showBanks(view) {
  const banks = await call('/api/office/banks');
  const rows = banks.map((b) => h('tr', { testid: `bank-row-${b.bank.id}` },
    h('td', {}, h('a', { href: `#bank/${enc(b.bank.id)}`, testid: `bank-open-${b.bank.id}` }, b.bank.name), h('br'), h('span', { class: 'muted small' }, b.bank.id)),
    h('td', {}, b.bank.occupation, b.bank.occupationCode ? h('span', { class: 'muted small' }, ` ${b.bank.occupationCode}`) : ''),
    h('td', {}, b.bank.level), h('td', {}, subjectName(b.bank.subject)),
    h('td', {}, b.bank.subject === 'skill' ? String(b.tasks) : `${b.active} / ${b.questions}`), h('td', {}, String(b.knowledgePoints))));
  const name = input('bank-name', { required: true });
  const occupation = input('bank-occupation');
  const code = input('bank-occupation-code');
  const level = select('bank-level', ['五级', '四级', '三级', '二级', '一级'].map((l) => [l, l]), '四级');
  const subject = select('bank-subject', [['theory', t('b.theory')], ['skill', t('b.skill')]], 'theory');
  const errors = errorSlot('bank-error');
  const create = button('bank-create', t('b.create'), () => attempt(errors, async () => {
    const bank = await call('/api/office/banks', { method: 'POST', body: { name: name.value, occupation: occupation.value, occupationCode: code.value || undefined, level: level.value, subject: subject.value } });
    view.go(`bank/${enc(bank.id ?? bank.bank?.id)}`);
  }), 'btn-primary');
  put(view.app, view.tabs(),
    card(t('b.banks'), table('banks-table', [t('b.name'), t('b.occupation'), t('b.level'), t('b.subject'), `${t('b.active')} / ${t('b.questions')}`, t('b.kps')], rows, t('b.none'))),
    card(t('b.new'), h('div', { class: 'grid-3' }, field(t('b.name'), name), field(t('b.occupation'), occupation), field(t('b.occupationCode'), code),
      field(t('b.level'), level), field(t('b.subject'), subject)), h('div', { class: 'actions' }, create), errors));
}

export async function showBank(view, bankId, part = 'questions', rest = []) {
  const detail = await call(`/api/office/banks/${enc(bankId)}`);
  const bank = detail.bank;
  const skill = bank.subject === 'skill';
  const parts = skill ? ['tasks', 'tree', 'types', 'stats'] : ['questions', 'tree', 'types', 'import', 'duplicates', 'stats'];
  if (!part || (!parts.includes(part) && part !== (skill ? 'task' : 'edit'))) part = parts[0];
  const nav = h('nav', { class: 'subtabs' }, parts.map((p) => h('a', {
    class: ['btn btn-small tab', p === part || (p === 'questions' && part === 'edit') || (p === 'tasks' && part === 'task') ? 'is-active' : null],
    href: `#bank/${enc(bankId)}/${p}`, testid: `bank-part-${p}` }, t(`part.${p}`))),
  h('a', { class: 'btn btn-small', href: `#papers/${enc(bankId)}`, testid: 'bank-part-papers' }, t('part.papers')));
  const head = h('section', { class: 'card' }, h('h1', { testid: 'bank-title', dataset: { subject: bank.subject } }, bank.name),
    h('p', { class: 'muted small' }, `${bank.id} · ${bank.occupation}${bank.occupationCode ? ` (${bank.occupationCode})` : ''} · ${bank.level} · ${subjectName(bank.subject)}`), nav);
  const body = h('div');
  put(view.app, view.tabs(), head, body);
  const context = { bank, tree: detail.knowledgePoints || [], typeDefaults: detail.typeDefaults || {}, view, body };
  if (part === 'tree') treePart(context);
  else if (part === 'types') typesPart(context);
  else if (part === 'import') importPart(context);
  else if (part === 'duplicates') duplicatesPart(context);
  else if (part === 'stats') await statsPart(context);
  else if (part === 'tasks') await tasksPart(context);
  else if (part === 'task') await taskEditor(context, rest[0]);
  else if (part === 'edit') await questionPage(context, rest[0]);
  else await questionsPart(context);
}

// Questions: search and list.
const searchState = new Map();
async function questionsPart(ctx) {
  const { bank, tree, body } = ctx;
  const state = searchState.get(bank.id) || { q: '', type: '', difficulty: '', knowledgePoint: '', status: '', offset: 0 };
  searchState.set(bank.id, state);
  const limit = 20;
  const q = input('qs-q', { value: state.q, type: 'search' });
  const type = select('qs-type', [['', t('all')], ...QUESTION_TYPES.map((x) => [x, typeName(x)])], state.type);
  const difficulty = select('qs-difficulty', [['', t('all')], ...[1, 2, 3, 4, 5].map((d) => [d, String(d)])], state.difficulty);
  const kp = select('qs-kp', [['', t('all')], ...tree.map((k) => [k.code, `${k.code} ${k.name}`])], state.knowledgePoint);
  const status = select('qs-status', [['', t('all')], ['active', t('status.active')], ['retired', t('status.retired')]], state.status);
  const results = h('div');
  const errors = errorSlot('page-error');
  async function load() {
    const params = new URLSearchParams({ offset: state.offset, limit });
    for (const key of ['q', 'type', 'difficulty', 'knowledgePoint', 'status']) if (state[key] !== '') params.set(key, state[key]);
    await attempt(errors, async () => {
      const page = await call(`/api/office/banks/${enc(bank.id)}/questions?${params}`);
      const pages = Math.max(1, Math.ceil(page.total / limit));
      const current = Math.floor(state.offset / limit) + 1;
      const rows = page.questions.map((v) => {
        const qq = v.question;
        return h('tr', { testid: `question-row-${qq.id}`, dataset: { status: v.status } },
          h('td', { class: 'small' }, qq.id), h('td', {}, typeName(qq.type)), h('td', {}, stemLine(qq.stem)),
          h('td', {}, qq.difficulty ?? '—'), h('td', { class: 'small' }, (qq.knowledgePoints || []).join(', ')),
          h('td', {}, h('span', { class: ['badge', v.status === 'active' ? 'badge-ok' : 'badge-warn'] }, t(`status.${v.status}`))),
          h('td', {}, String(v.usageCount)), h('td', { class: 'small' }, when(v.updatedAt)),
          h('td', { class: 'nowrap' }, h('a', { class: 'btn btn-small', href: `#bank/${enc(bank.id)}/edit/${enc(qq.id)}`, testid: `question-edit-${qq.id}` }, t('edit')),
            button(`question-preview-${qq.id}`, t('qs.preview'), () => dialog({ title: t('qe.preview'), body: h('div', { class: 'preview', testid: 'preview' }, preview(qq)), cancel: null, ok: t('close') }), 'btn-small')));
      });
      put(results, 
        h('p', { testid: 'qs-total', dataset: { total: page.total } }, t('qs.total', { n: page.total })),
        table('questions-table', ['', t('q.type'), t('qs.stem'), t('q.difficulty'), t('qs.kp'), t('qs.status'), t('qs.usage'), t('qs.updated'), ''], rows, t('qs.none')),
        h('div', { class: 'pager' },
          h('button', { type: 'button', class: 'btn btn-small', testid: 'qs-prev', disabled: current <= 1, onclick: () => { state.offset = Math.max(0, state.offset - limit); load(); } }, t('qs.prev')),
          h('span', { testid: 'qs-page' }, t('qs.page', { page: current, pages })),
          h('button', { type: 'button', class: 'btn btn-small', testid: 'qs-next', disabled: current >= pages, onclick: () => { state.offset += limit; load(); } }, t('qs.next'))));
    });
  }
  const form = h('form', { class: 'filters' }, field(t('qs.q'), q), field(t('q.type'), type), field(t('q.difficulty'), difficulty), field(t('qs.kp'), kp), field(t('qs.status'), status),
    h('button', { type: 'submit', class: 'btn btn-primary', testid: 'qs-search' }, t('qs.search')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    Object.assign(state, { q: q.value.trim(), type: type.value, difficulty: difficulty.value, knowledgePoint: kp.value, status: status.value, offset: 0 });
    load();
  });
  put(body, card(null, h('div', { class: 'actions' }, h('a', { class: 'btn btn-primary', href: `#bank/${enc(bank.id)}/edit`, testid: 'question-new' }, t('qs.new'))), form, errors, results));
  await load();
}

// One question: edit, save, duplicates, preview, delete.
async function questionPage(ctx, questionId) {
  const { bank, body } = ctx;
  let view = null;
  let known = [];
  if (questionId) {
    // {question: QuestionView, duplicates}
    const got = await call(`/api/office/questions/${enc(questionId)}`);
    view = got.question && got.question.question ? got.question : got;
    known = got.duplicates || [];
  }
  const editor = questionEditor(view ? view.question : null, ctx);
  const errors = errorSlot('question-error');
  const result = h('div');
  const previewSlot = h('div');
  const title = h('h2', {}, questionId ? t('qe.edit', { id: questionId }) : t('qe.new'));
  let savedId = questionId || null;

  function duplicates(list, stem) {
    if (!list || !list.length) return null;
    return h('div', { class: 'notice notice-warn', testid: 'question-duplicates', dataset: { count: list.length } }, h('p', {}, t('qe.dups')),
      h('div', { class: 'table-wrap' }, h('table', { class: 'data' }, h('thead', {}, h('tr', {}, h('th', {}, t('qe.this')), h('th', {}, t('qe.match')), h('th', {}, t('qe.similarity')))),
        h('tbody', {}, list.map((d, i) => h('tr', { testid: `duplicate-${i}`, dataset: { id: d.id } },
          h('td', {}, stem), h('td', {}, h('a', { href: `#bank/${enc(bank.id)}/edit/${enc(d.id)}` }, d.id), ' ', d.stem),
          h('td', {}, `${Math.round((d.similarity ?? 0) * 100)}%`)))))));
  }
  const save = button('question-save', t('save'), () => attempt(errors, async () => {
    const question = { ...editor.read(), id: savedId || '' };
    // Both answer {question: QuestionView, duplicates}.
    const answer = savedId
      ? await call(`/api/office/questions/${enc(savedId)}`, { method: 'PUT', body: question })
      : await call(`/api/office/banks/${enc(bank.id)}/questions`, { method: 'POST', body: question });
    const saved = answer.question && answer.question.question ? answer.question : answer;
    const dups = answer.duplicates || [];
    savedId = saved.question.id;
    title.textContent = t('qe.edit', { id: savedId });
    history.replaceState(null, '', `#bank/${enc(bank.id)}/edit/${enc(savedId)}`);
    put(result, h('p', { class: 'notice notice-ok', testid: 'question-saved', dataset: { id: savedId } }, t('qe.saved', { id: savedId })),
      duplicates(dups, question.stem));
    deleteButton.hidden = false;
  }), 'btn-primary');
  const showPreview = button('question-preview', t('qe.preview'), () => {
    put(previewSlot, h('div', { class: 'preview card-inner', testid: 'preview' }, preview({ ...editor.read(), id: savedId || 'new' })));
  });
  const deleteButton = button('question-delete', t('qe.delete'), async () => {
    if (!(await dialog({ title: t('qe.deleteAsk', { id: savedId }) }))) return;
    await attempt(errors, async () => {
      const outcome = await call(`/api/office/questions/${enc(savedId)}`, { method: 'DELETE' });
      put(result, h('p', { class: 'notice notice-ok', testid: 'question-outcome', dataset: { outcome: outcome.outcome } },
        outcome.outcome === 'retired' ? t('qe.retiredOut') : t('qe.deleted')),
      outcome.outcome === 'retired' ? reactivate() : null);
    });
  }, 'btn-danger');
  deleteButton.hidden = !savedId;
  const reactivate = () => button('question-reactivate', t('qe.reactivate'), () => attempt(errors, async () => {
    await call(`/api/office/questions/${enc(savedId)}/reactivate`, { method: 'POST' });
    put(result, okBox(t('saved'), 'question-reactivated'));
  }));
  const another = button('question-another', t('qe.another'), () => {
    if (location.hash === `#bank/${enc(bank.id)}/edit`) showBank(ctx.view, bank.id, 'edit');
    else ctx.view.go(`bank/${enc(bank.id)}/edit`);
  });
  put(body, card(null, title,
    view && view.status === 'retired' ? h('p', { class: 'notice notice-warn' }, t('qe.retiredNote'), ' ', reactivate()) : null,
    editor.el, h('div', { class: 'actions sticky-actions' }, save, showPreview, deleteButton, another), errors, result,
    view ? duplicates(known, view.question.stem) : null, previewSlot));
}

// Knowledge-point tree.
function treePart(ctx) {
  const { bank, body } = ctx;
  const rows = [];
  const tbody = h('tbody');
  const errors = errorSlot('kp-error');
  const result = h('div');
  function addRow(kp = { code: '', name: '', parent: '', weight: '' }) {
    const i = rows.length;
    const row = {
      code: input(`kp-${i}-code`, { value: kp.code, class: 'input input-narrow' }), name: input(`kp-${i}-name`, { value: kp.name }),
      parent: input(`kp-${i}-parent`, { value: kp.parent || '', class: 'input input-narrow', list: 'kp-codes' }),
      weight: input(`kp-${i}-weight`, { value: kp.weight ?? '', type: 'number', step: 'any', min: '0', class: 'input input-narrow' }),
    };
    row.tr = h('tr', { testid: `kp-row-${i}` }, h('td', {}, row.code), h('td', {}, row.name), h('td', {}, row.parent), h('td', {}, row.weight),
      h('td', {}, button(`kp-${i}-remove`, '×', () => { row.removed = true; row.tr.remove(); }, 'btn-small')));
    rows.push(row);
    tbody.append(row.tr);
  }
  ctx.tree.forEach(addRow);
  if (!ctx.tree.length) addRow();
  const save = button('kp-save', t('kp.save'), () => attempt(errors, async () => {
    const tree = rows.filter((r) => !r.removed && (r.code.value.trim() || r.name.value.trim())).map((r) => {
      const kp = { code: r.code.value.trim(), name: r.name.value.trim() };
      if (r.parent.value.trim()) kp.parent = r.parent.value.trim();
      if (r.weight.value !== '') kp.weight = Number(r.weight.value);
      return kp;
    });
    const saved = await call(`/api/office/banks/${enc(bank.id)}/knowledge-points`, { method: 'PUT', body: tree });
    const count = Array.isArray(saved) ? saved.length : (saved.knowledgePoints || tree).length;
    put(result, okBox(t('kp.saved', { n: count }), 'kp-saved'));
  }), 'btn-primary');
  const datalist = h('datalist', { id: 'kp-codes' }, ctx.tree.map((k) => h('option', { value: k.code }, k.name)));
  put(body, card(t('part.tree'), h('p', { class: 'muted small' }, t('kp.hint')), datalist,
    h('div', { class: 'table-wrap' }, h('table', { class: 'data', testid: 'kp-table' },
      h('thead', {}, h('tr', {}, [t('kp.code'), t('kp.name'), t('kp.parent'), t('kp.weight'), ''].map((x) => h('th', {}, x)))), tbody)),
    h('div', { class: 'actions' }, button('kp-add', t('kp.add'), () => addRow(), 'btn-small'), save), errors, result));
}

// Per-type default points and the bank's details.
function typesPart(ctx) {
  const { bank, body } = ctx;
  const errors = errorSlot('types-error');
  const result = h('div');
  const inputs = QUESTION_TYPES.filter((x) => x !== 'caseAnalysis').map((type) => [type, input(`type-default-${type}`, { type: 'number', step: '0.5', min: '0', value: ctx.typeDefaults[type] ?? '', placeholder: String(STANDARD_POINTS[type] ?? ''), class: 'input input-narrow' })]);
  const saveDefaults = button('type-defaults-save', t('ty.save'), () => attempt(errors, async () => {
    const defaults = {};
    for (const [type, box] of inputs) if (box.value !== '') defaults[type] = Number(box.value);
    await call(`/api/office/banks/${enc(bank.id)}/type-defaults`, { method: 'PUT', body: defaults });
    put(result, okBox(t('ty.saved'), 'type-defaults-saved'));
  }), 'btn-primary');
  const name = input('bank-edit-name', { value: bank.name });
  const occupation = input('bank-edit-occupation', { value: bank.occupation });
  const code = input('bank-edit-occupation-code', { value: bank.occupationCode || '' });
  const level = input('bank-edit-level', { value: bank.level });
  const saveBank = button('bank-edit-save', t('save'), () => attempt(errors, async () => {
    // The server's decoder also wants the subject (unchanged).
    await call(`/api/office/banks/${enc(bank.id)}`, { method: 'PUT', body: { name: name.value, occupation: occupation.value, occupationCode: code.value || undefined, level: level.value, subject: bank.subject } });
    put(result, okBox(t('ty.bankSaved'), 'bank-edit-saved'));
  }));
  put(body, 
    card(t('ty.defaults'), h('div', { class: 'grid-3' }, inputs.map(([type, box]) => field(typeName(type), box))), h('div', { class: 'actions' }, saveDefaults)),
    card(t('ty.bank'), h('div', { class: 'grid-2' }, field(t('b.name'), name), field(t('b.occupation'), occupation), field(t('b.occupationCode'), code), field(t('b.level'), level)),
      h('div', { class: 'actions' }, saveBank)),
    errors, result);
}

// Import (check first), export, template.
function importPart(ctx) {
  const { bank, body } = ctx;
  const format = select('import-format', FORMATS, 'xlsx');
  const file = h('input', { type: 'file', class: 'input', testid: 'import-file', accept: '.xlsx,.xml,.zip' });
  const errors = errorSlot('import-error');
  const reportSlot = h('div');
  const result = h('div');
  let checked = null;
  const importAll = h('button', { type: 'button', class: 'btn btn-primary', testid: 'import-all', disabled: true }, t('im.all'));
  const importGood = h('button', { type: 'button', class: 'btn', testid: 'import-good', disabled: true }, t('im.good'));
  const reset = () => { checked = null; importAll.disabled = true; importGood.disabled = true; reportSlot.replaceChildren(); result.replaceChildren(); };
  file.addEventListener('change', reset);
  format.addEventListener('change', reset);
  const send = (mode) => upload(`/api/office/banks/${enc(bank.id)}/import?format=${enc(format.value)}&mode=${mode}`, file.files[0]);

  function report(r) {
    const problems = r.problems || [];
    const dups = r.duplicates || [];
    return h('div', { testid: 'import-report', dataset: { rows: r.rows, good: r.good, problems: problems.length, duplicates: dups.length } },
      h('p', { class: ['notice', problems.length ? 'notice-warn' : 'notice-ok'] }, t('im.report', { rows: r.rows, good: r.good, problems: problems.length, duplicates: dups.length })),
      problems.length ? h('h3', {}, t('im.problems')) : null,
      problems.length ? table('import-problems', [t('im.row'), t('im.column'), t('im.reason')], problems.map((p, i) => h('tr', { testid: `import-problem-${i}`, dataset: { row: p.row } },
        h('td', {}, String(p.row ?? '—')), h('td', {}, p.column || '—'), h('td', {}, bilingual(p.message))))) : null,
      dups.length ? h('h3', {}, t('im.duplicates')) : null,
      dups.length ? table('import-duplicates', [t('im.row'), t('qs.stem'), t('im.matches'), t('qe.similarity')], dups.map((d, i) => h('tr', { testid: `import-duplicate-${i}`, dataset: { row: d.row } },
        h('td', {}, String(d.row)), h('td', {}, d.stem), h('td', {}, d.match ? `${d.match.id} ${d.match.stem}` : '—'),
        h('td', {}, d.match ? `${Math.round(d.match.similarity * 100)}%` : '—')))) : null);
  }
  const check = button('import-check', t('im.check'), () => attempt(errors, async () => {
    if (!file.files.length) throw Object.assign(new Error(t('im.chooseFile')), { problems: [] });
    result.replaceChildren();
    checked = await send('check');
    put(reportSlot, report(checked));
    importAll.disabled = (checked.problems || []).length > 0 || checked.good === 0;
    importGood.disabled = !(checked.good > 0);
    if ((checked.problems || []).length) put(result, h('p', { class: 'muted small', testid: 'import-all-blocked' }, t('im.allBlocked')));
  }));
  const finish = (r) => {
    put(result, h('p', { class: 'notice notice-ok', testid: 'import-result', dataset: { written: r.written } }, t('im.written', { n: r.written, k: r.knowledgePointsAdded ?? 0 })));
    importAll.disabled = true;
    importGood.disabled = true;
  };
  importAll.addEventListener('click', () => attempt(errors, async () => {
    try {
      finish(await send('all'));
    } catch (error) {
      if (error.body?.error?.report) put(reportSlot, report(error.body.error.report));
      else if (error.body?.report) put(reportSlot, report(error.body.report));
      throw error;
    }
  }));
  importGood.addEventListener('click', async () => {
    if (!(await dialog({ title: t('im.goodAsk', { good: checked?.good ?? 0 }) }))) return;
    attempt(errors, async () => finish(await send('good')));
  });
  put(body, 
    card(t('im.title'), h('div', { class: 'grid-2' }, field(t('im.format'), format), field(t('im.file'), file)),
      h('div', { class: 'actions' }, check, importAll, importGood), errors, reportSlot, result),
    card(t('im.export'), h('div', { class: 'actions' },
      FORMATS.map(([f, label]) => h('a', { class: 'btn', href: `/api/office/banks/${enc(bank.id)}/export?format=${f}`, download: '', testid: `export-${f}` }, `${t('im.export')} ${label}`)),
      h('a', { class: 'btn', href: '/api/office/import-template.xlsx', download: '', testid: 'import-template' }, t('im.template')))));
}

// Duplicate pairs in the whole bank.
function duplicatesPart(ctx) {
  const { bank, body } = ctx;
  const threshold = input('dup-threshold', { type: 'number', min: '0.5', max: '1', step: '0.05', value: '0.8', class: 'input input-narrow' });
  const errors = errorSlot('page-error');
  const out = h('div');
  const check = button('dup-check', t('dp.check'), () => attempt(errors, async () => {
    const pairs = await call(`/api/office/banks/${enc(bank.id)}/duplicates?threshold=${enc(threshold.value)}`);
    const link = (q) => h('td', {}, h('a', { href: `#bank/${enc(bank.id)}/edit/${enc(q.id)}` }, q.id), h('div', {}, q.stem));
    put(out, h('div', { testid: 'dup-table', dataset: { pairs: pairs.length } },
      table('dup-list', [t('dp.first'), t('dp.second'), t('qe.similarity')], pairs.map((p, i) => h('tr', { testid: `dup-${i}` }, link(p.first), link(p.second),
        h('td', {}, `${Math.round(p.similarity * 100)}%`))), t('dp.none'))));
  }), 'btn-primary');
  put(body, card(t('part.duplicates'), h('div', { class: 'row' }, field(t('dp.threshold'), threshold), check), errors, out));
}

/** A horizontal bar chart in SVG (no styles needed): rows of [label, value]. */
export function barChart(testid, rows) {
  const max = Math.max(1, ...rows.map((r) => r[1]));
  const rowHeight = 22;
  const labelWidth = 150;
  const width = 520;
  return h('svg', { class: 'chart', testid, viewBox: `0 0 ${width} ${rows.length * rowHeight + 4}`, role: 'img' },
    rows.map(([label, value], i) => h('g', {},
      h('text', { x: labelWidth - 6, y: i * rowHeight + 15, 'text-anchor': 'end', class: 'chart-label' }, String(label).slice(0, 18)),
      h('rect', { x: labelWidth, y: i * rowHeight + 3, height: rowHeight - 8, width: Math.max(1, ((width - labelWidth - 40) * value) / max), class: 'chart-bar' },
        h('title', {}, `${label}: ${value}`)),
      h('text', { x: labelWidth + ((width - labelWidth - 40) * value) / max + 4, y: i * rowHeight + 15, class: 'chart-value' }, String(value)))));
}

async function statsPart(ctx) {
  const { bank, body } = ctx;
  const s = await call(`/api/office/banks/${enc(bank.id)}/statistics`);
  // The server counts each group as {total, active, retired} and the bank as `totals` (the contract said plain numbers).
  const n = (count) => (count && typeof count === 'object' ? count : { total: count ?? 0, active: count ?? 0, retired: 0 });
  const totals = n(s.totals ?? { total: s.total, active: s.active, retired: s.retired });
  const difficultyName = (d) => (d === null || d === undefined ? t('st.noDifficulty') : t('st.difficulty', { d }));
  const counts = (c) => [h('td', {}, String(n(c).total)), h('td', {}, String(n(c).active)), h('td', {}, String(n(c).retired))];
  const countHeads = [t('st.count'), t('status.active'), t('status.retired')];
  const byType = (s.byType || []).filter((r) => n(r.count).total > 0);
  const byDifficulty = s.byDifficulty || [];
  const byKp = s.byKnowledgePoint || [];
  put(body,
    card(null, h('p', { testid: 'stats-total', dataset: { total: totals.total, active: totals.active, retired: totals.retired } }, t('st.total', totals)),
      h('a', { class: 'btn', href: `/api/office/banks/${enc(bank.id)}/statistics?format=csv`, download: '', testid: 'stats-csv' }, t('st.csv'))),
    h('div', { class: 'grid-2' },
      card(t('st.byType'), table('stats-type', [t('q.type'), ...countHeads], byType.map((r) => h('tr', {}, h('td', {}, typeName(r.type)), counts(r.count)))),
        barChart('stats-type-chart', byType.map((r) => [typeName(r.type), n(r.count).total]))),
      card(t('st.byDifficulty'), table('stats-difficulty', [t('q.difficulty'), ...countHeads], byDifficulty.map((r) => h('tr', {}, h('td', {}, difficultyName(r.difficulty)), counts(r.count)))),
        barChart('stats-difficulty-chart', byDifficulty.map((r) => [difficultyName(r.difficulty), n(r.count).total])))),
    card(t('st.byKp'), table('stats-kp', [t('kp.code'), t('kp.name'), t('kp.weight'), ...countHeads], byKp.map((r) => h('tr', { testid: `stats-kp-${r.code}`, class: r.depth ? 'kp-child' : null },
      h('td', {}, `${'\u00a0\u00a0'.repeat(r.depth || 0)}${r.code}`), h('td', {}, r.name), h('td', {}, r.weight ?? '—'), counts(r.count)))),
    barChart('stats-kp-chart', byKp.map((r) => [`${r.code} ${r.name}`, n(r.count).total]))));
}

// Skill tasks.
async function tasksPart(ctx) {
  const { bank, body } = ctx;
  const tasks = await call(`/api/office/banks/${enc(bank.id)}/tasks`);
  const rows = tasks.map((v) => h('tr', { testid: `task-row-${v.task.id}`, dataset: { status: v.status } },
    h('td', { class: 'small' }, v.task.id), h('td', {}, v.task.title), h('td', {}, String(v.task.durationMinutes)),
    h('td', {}, points((v.task.scoringItems || []).reduce((sum, item) => sum + Number(item.points || 0), 0))),
    h('td', {}, t(`status.${v.status}`)), h('td', {}, String(v.usageCount)),
    h('td', {}, h('a', { class: 'btn btn-small', href: `#bank/${enc(bank.id)}/task/${enc(v.task.id)}`, testid: `task-edit-${v.task.id}` }, t('edit')))));
  put(body, card(t('part.tasks'), h('div', { class: 'actions' }, h('a', { class: 'btn btn-primary', href: `#bank/${enc(bank.id)}/task`, testid: 'task-new' }, t('tk.new'))),
    table('tasks-table', ['', t('tk.title'), t('tk.duration'), t('tk.points'), t('qs.status'), t('qs.usage'), ''], rows, t('tk.none'))));
}

function prepList(prefix, items) {
  const rows = [];
  const list = h('div', { class: 'row-list' });
  const add = (item = {}) => {
    const i = rows.length;
    const row = {
      name: input(`${prefix}-${i}-name`, { value: item.name || '', placeholder: t('tk.prepName') }),
      spec: input(`${prefix}-${i}-spec`, { value: item.specification || '', placeholder: t('tk.spec') }),
      qty: input(`${prefix}-${i}-qty`, { value: item.quantity || '', placeholder: t('tk.qty'), class: 'input input-narrow' }),
      note: input(`${prefix}-${i}-note`, { value: item.note || '', placeholder: t('tk.note') }),
    };
    row.el = h('div', { class: 'row row-fields' }, row.name, row.spec, row.qty, row.note,
      button(`${prefix}-${i}-remove`, '×', () => { row.removed = true; row.el.remove(); }, 'btn-small'));
    rows.push(row);
    list.append(row.el);
  };
  items.forEach(add);
  return {
    el: h('div', {}, list, button(`${prefix}-add`, t('tk.addPrep'), () => add(), 'btn-small')),
    read: () => rows.filter((r) => !r.removed && r.name.value.trim()).map((r) => {
      const item = { name: r.name.value.trim() };
      if (r.spec.value.trim()) item.specification = r.spec.value.trim();
      if (r.qty.value.trim()) item.quantity = r.qty.value.trim();
      if (r.note.value.trim()) item.note = r.note.value.trim();
      return item;
    }),
  };
}

async function taskEditor(ctx, taskId) {
  const { bank, body, tree } = ctx;
  let task = { id: '', title: '', description: '', durationMinutes: 60, knowledgePoints: [], scoringItems: [], candidatePreparation: [], roomPreparation: [] };
  if (taskId) {
    const all = await call(`/api/office/banks/${enc(bank.id)}/tasks`);
    const found = all.find((v) => v.task.id === taskId);
    if (found) task = found.task;
  }
  const title = input('task-title', { value: task.title });
  const description = textarea('task-description', { rows: 6, value: task.description });
  const duration = input('task-duration', { type: 'number', min: '1', value: task.durationMinutes, class: 'input input-narrow' });
  const difficulty = select('task-difficulty', [['', t('q.difficultyNone')], ...[1, 2, 3, 4, 5].map((d) => [d, String(d)])], task.difficulty ?? '');
  const kps = tree.map((kp) => { const box = h('input', { type: 'checkbox', value: kp.code, testid: `task-kp-${kp.code}`, checked: (task.knowledgePoints || []).includes(kp.code) }); return { box, el: h('label', { class: 'kp-choice' }, box, ` ${kp.code} ${kp.name}`) }; });
  const items = [];
  const itemList = h('div', { class: 'row-list' });
  const addItem = (item = {}) => {
    const i = items.length;
    const row = {
      id: item.id,
      text: input(`task-item-${i}-text`, { value: item.description || '', placeholder: t('tk.item') }),
      points: input(`task-item-${i}-points`, { type: 'number', step: '0.5', min: '0', value: item.points ?? '', class: 'input input-narrow' }),
      deduction: input(`task-item-${i}-deduction`, { value: item.deduction || '', placeholder: t('tk.deduction') }),
    };
    row.el = h('div', { class: 'row row-fields' }, row.text, row.points, row.deduction, button(`task-item-${i}-remove`, '×', () => { row.removed = true; row.el.remove(); }, 'btn-small'));
    items.push(row);
    itemList.append(row.el);
  };
  (task.scoringItems || []).forEach(addItem);
  if (!items.length) addItem();
  const cprep = prepList('task-cprep', task.candidatePreparation || []);
  const rprep = prepList('task-rprep', task.roomPreparation || []);
  const errors = errorSlot('task-error');
  const result = h('div');
  let savedId = task.id || null;
  const read = () => {
    const value = {
      id: savedId || '', title: title.value, description: description.value, durationMinutes: Number(duration.value) || 0,
      knowledgePoints: kps.filter((k) => k.box.checked).map((k) => k.box.value),
      scoringItems: items.filter((r) => !r.removed && r.text.value.trim()).map((r, i) => ({ id: r.id || `${i + 1}`, description: r.text.value.trim(), points: Number(r.points.value) || 0, deduction: r.deduction.value.trim() })),
      candidatePreparation: cprep.read(), roomPreparation: rprep.read(),
    };
    if (difficulty.value) value.difficulty = Number(difficulty.value);
    return value;
  };
  const save = button('task-save', t('save'), () => attempt(errors, async () => {
    const saved = savedId
      ? await call(`/api/office/tasks/${enc(savedId)}`, { method: 'PUT', body: read() })
      : await call(`/api/office/banks/${enc(bank.id)}/tasks`, { method: 'POST', body: read() });
    savedId = saved.task.id;
    history.replaceState(null, '', `#bank/${enc(bank.id)}/task/${enc(savedId)}`);
    put(result, h('p', { class: 'notice notice-ok', testid: 'task-saved', dataset: { id: savedId } }, t('tk.saved', { id: savedId })));
  }), 'btn-primary');
  const remove = button('task-delete', t('tk.delete'), async () => {
    if (!savedId || !(await dialog({ title: t('tk.deleteAsk', { id: savedId }) }))) return;
    await attempt(errors, async () => {
      const outcome = await call(`/api/office/tasks/${enc(savedId)}`, { method: 'DELETE' });
      put(result, h('p', { class: 'notice notice-ok', testid: 'task-outcome', dataset: { outcome: outcome.outcome } }, outcome.outcome === 'retired' ? t('qe.retiredOut') : t('qe.deleted')));
    });
  }, 'btn-danger');
  put(body, card(taskId ? `${t('edit')} ${taskId}` : t('tk.new'),
    field(t('tk.title'), title), field(t('tk.description'), description),
    h('div', { class: 'grid-3' }, field(t('tk.duration'), duration), field(t('q.difficulty'), difficulty)),
    h('fieldset', { class: 'kp-set' }, h('legend', {}, t('q.kps')), kps.length ? kps.map((k) => k.el) : h('p', { class: 'muted small' }, t('q.noTree'))),
    h('div', { class: 'field' }, h('span', { class: 'label' }, t('tk.items')), itemList, button('task-item-add', t('tk.addItem'), () => addItem(), 'btn-small')),
    h('div', { class: 'field' }, h('span', { class: 'label' }, t('tk.cprep')), cprep.el),
    h('div', { class: 'field' }, h('span', { class: 'label' }, t('tk.rprep')), rprep.el),
    h('div', { class: 'actions' }, save, remove), errors, result));
}

