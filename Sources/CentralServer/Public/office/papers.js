/*
 * 试卷 (papers, 卷库): assembly by rule (sections by type, coverage by knowledge point or the standard's weights,
 * difficulty shares, usage limits, parallel papers, seed) with the result or every reason it cannot be done; a paper
 * picked by hand; a skill paper from tasks; the library with a state filter; one paper: preview, constraint report,
 * editing (remove, reorder, replace, points, section titles) into a new version, versions, approval (request,
 * approve, reject with a reason), history, print links.
 * Routes: #papers[/{bankId}], #paper/{id}[/{version}]
 *
 * data-testid hooks:
 *   library: papers-bank, papers-state, papers-table, paper-row-{id} (data-state), paper-open-{id}
 *   assemble: asm-bank, asm-title, asm-section-{i}-type, asm-section-{i}-count, asm-section-{i}-points,
 *     asm-section-{i}-title, asm-section-{i}-remove, asm-section-add, asm-standard, asm-cov-tolerance,
 *     asm-cov-{i}-kp, asm-cov-{i}-min, asm-cov-{i}-max, asm-cov-{i}-remove, asm-cov-add, asm-diff-{i}-level,
 *     asm-diff-{i}-percent, asm-diff-{i}-remove, asm-diff-add, asm-diff-tolerance, asm-max-usage, asm-exclude-recent,
 *     asm-papers, asm-seed, asm-submit, asm-result, asm-paper-{i} (data-id), asm-error (problems: asm-error-problem-{n})
 *   manual: man-bank, man-title, man-section-{i}-title, man-section-{i}-points, man-section-{i}-ids, man-section-add,
 *     man-target, man-search-q, man-search-type, man-search, man-pick-{questionId}, man-create, man-error
 *   skill paper: skill-bank, skill-title, skill-task-{taskId}, skill-create, skill-error
 *   a paper: paper-title, paper-state (data-state), paper-version (data-version), paper-points, paper-request,
 *     paper-approve, paper-reject, paper-action-error, paper-report, report-{i} (data-met), paper-preview,
 *     paper-question-{id}, print-{paper|answers|scoring|candidate-notice|room-notice}, paper-versions, version-{n},
 *     paper-history, history-{i} (data-state), paper-edit, edit-title, edit-section-{s}-title, edit-section-{s}-points,
 *     edit-{s}-{i} (data-id), edit-{s}-{i}-up, edit-{s}-{i}-down, edit-{s}-{i}-remove, edit-{s}-{i}-replace,
 *     edit-section-{s}-add-id, edit-section-{s}-add, edit-task-{i}…, edit-task-add-id, edit-task-add, edit-note,
 *     edit-save, edit-cancel, edit-error
 */
import {
  put, addTexts, attempt, bilingual, button, call, card, dialog, enc, errorSlot, field, h, input, points, QUESTION_TYPES,
  select, STATES, t, table, textarea, typeName, when,
} from './common.js';
import { preview, stemLine } from './editor.js';

addTexts({
  'p.library': '卷库', 'p.bank': '题库', 'p.state': '状态', 'p.title': '试卷名称', 'p.version': '版本', 'p.points': '总分',
  'p.questions': '题数', 'p.updated': '更新时间', 'p.none': '卷库中还没有试卷。', 'p.subject': '科目',
  'a.title': '按规则组卷', 'a.sections': '大题', 'a.type': '题型', 'a.count': '题数', 'a.pointsEach': '每题分值', 'a.sectionTitle': '标题（可空）',
  'a.addSection': '添加大题', 'a.coverage': '知识点覆盖', 'a.standard': '按鉴定要素细目表的比重', 'a.covTolerance': '比重允许偏差 %',
  'a.kp': '知识点', 'a.min': '最少 %', 'a.max': '最多 %', 'a.addCoverage': '添加覆盖要求', 'a.difficulty': '难度分布',
  'a.level': '难度', 'a.percent': '占题数 %', 'a.addDifficulty': '添加难度要求', 'a.diffTolerance': '允许偏差 %', 'a.maxUsage': '试题最多被用次数',
  'a.excludeRecent': '排除最近 K 套试卷用过的题', 'a.papers': '平行卷套数', 'a.seed': '随机种子（可空）', 'a.submit': '组卷',
  'a.done': '已组成 {n} 套草稿试卷：', 'a.impossible': '无法按此规则组卷：',
  'm.title': '手工选题组卷', 'm.sectionTitle': '大题标题', 'm.ids': '试题编号（每行一个或用逗号分隔）', 'm.addSection': '添加大题',
  'm.target': '加入到', 'm.search': '查找试题', 'm.pick': '加入', 'm.create': '创建试卷', 'm.section': '第 {n} 大题',
  's.title': '技能操作试卷（选择任务）', 's.create': '创建试卷', 's.noSkill': '没有技能题库。', 's.noTasks': '此题库没有任务。',
  'pv.request': '提交审批', 'pv.approve': '批准', 'pv.reject': '退回', 'pv.rejectReason': '退回原因（必填）', 'pv.requestNote': '说明（可空）',
  'pv.report': '组卷约束', 'pv.constraint': '约束', 'pv.target': '要求', 'pv.achieved': '实际', 'pv.met': '满足', 'pv.unmet': '未满足',
  'pv.preview': '试卷预览', 'pv.versions': '版本', 'pv.history': '审批记录', 'pv.by': '操作人', 'pv.reason': '原因', 'pv.note': '说明',
  'pv.print': '打印', 'print.paper': '试卷', 'print.answers': '答案', 'print.scoring': '评分表', 'print.candidate-notice': '考生准备通知单',
  'print.room-notice': '考场准备通知单', 'pv.edit': '编辑（保存为新版本）', 'pv.old': '正在查看第 {n} 版（历史版本）', 'pv.current': '查看当前版本',
  'e.up': '上移', 'e.down': '下移', 'e.replace': '替换', 'e.replaceWith': '用哪道试题替换 {id}？（试题编号）', 'e.addId': '试题编号',
  'e.add': '加入', 'e.questionPoints': '本题分值（空则按本大题）', 'e.note': '版本说明', 'e.save': '保存新版本', 'pv.tasks': '实操任务', 'pv.minutes': '{n} 分钟', 'pv.requestedBy': '提交人',
}, {
  'p.library': 'Paper library', 'p.bank': 'Bank', 'p.state': 'State', 'p.title': 'Title', 'p.version': 'Version', 'p.points': 'Points',
  'p.questions': 'Questions', 'p.updated': 'Updated', 'p.none': 'No papers yet.', 'p.subject': 'Subject',
  'a.title': 'Assemble by rule', 'a.sections': 'Sections', 'a.type': 'Type', 'a.count': 'Count', 'a.pointsEach': 'Points each',
  'a.sectionTitle': 'Title (optional)', 'a.addSection': 'Add section', 'a.coverage': 'Knowledge-point coverage',
  'a.standard': "Use the standard's weights", 'a.covTolerance': 'Weight tolerance %', 'a.kp': 'Knowledge point', 'a.min': 'Min %',
  'a.max': 'Max %', 'a.addCoverage': 'Add coverage', 'a.difficulty': 'Difficulty shares', 'a.level': 'Difficulty',
  'a.percent': '% of questions', 'a.addDifficulty': 'Add difficulty share', 'a.diffTolerance': 'Tolerance %',
  'a.maxUsage': 'Max uses of a question', 'a.excludeRecent': 'Leave out questions of the last K papers', 'a.papers': 'Parallel papers',
  'a.seed': 'Seed (optional)', 'a.submit': 'Assemble', 'a.done': '{n} draft papers assembled:', 'a.impossible': 'The rule cannot be met:',
  'm.title': 'Paper by hand', 'm.sectionTitle': 'Section title', 'm.ids': 'Question ids (one a line or comma-separated)',
  'm.addSection': 'Add section', 'm.target': 'Add to', 'm.search': 'Find questions', 'm.pick': 'Add', 'm.create': 'Create paper',
  'm.section': 'Section {n}', 's.title': 'Skill paper (choose tasks)', 's.create': 'Create paper', 's.noSkill': 'No skill banks.',
  's.noTasks': 'This bank has no tasks.',
  'pv.request': 'Request approval', 'pv.approve': 'Approve', 'pv.reject': 'Reject', 'pv.rejectReason': 'Why (required)',
  'pv.requestNote': 'Note (optional)', 'pv.report': 'Constraints', 'pv.constraint': 'Constraint', 'pv.target': 'Target',
  'pv.achieved': 'Achieved', 'pv.met': 'met', 'pv.unmet': 'not met', 'pv.preview': 'Preview', 'pv.versions': 'Versions',
  'pv.history': 'History', 'pv.by': 'By', 'pv.reason': 'Reason', 'pv.note': 'Note', 'pv.print': 'Print', 'print.paper': 'Paper',
  'print.answers': 'Answers', 'print.scoring': 'Scoring sheet', 'print.candidate-notice': 'Candidate notice',
  'print.room-notice': 'Room notice', 'pv.edit': 'Edit (saves a new version)', 'pv.old': 'Viewing version {n} (an older one)',
  'pv.current': 'Current version', 'e.up': 'Up', 'e.down': 'Down', 'e.replace': 'Replace', 'e.replaceWith': 'Replace {id} with which question? (id)',
  'e.addId': 'Question id', 'e.add': 'Add', 'e.questionPoints': "This question's points (empty: the section's)", 'e.note': 'Version note', 'e.save': 'Save new version', 'pv.tasks': 'Tasks',
  'pv.minutes': '{n} min', 'pv.requestedBy': 'Requested by',
});

const stateBadge = (state, testid) => h('span', {
  class: ['badge', state === 'approved' || state === 'issued' ? 'badge-ok' : state === 'rejected' ? 'badge-danger' : 'badge-warn'],
  testid, dataset: { state } }, t(`state.${state}`));

/** Rows with a remove button each and an add button; make(i, item) returns {el, read}. */
function rows(prefix, initial, make, addLabel) {
  const list = h('div', { class: 'row-list' });
  const entries = [];
  let count = 0;
  const add = (item) => {
    const i = count++;
    const entry = make(i, item || {});
    entry.box = h('div', { class: 'row row-fields' }, entry.el, button(`${prefix}-${i}-remove`, '×', () => { entries.splice(entries.indexOf(entry), 1); entry.box.remove(); }, 'btn-small'));
    entries.push(entry);
    list.append(entry.box);
  };
  initial.forEach(add);
  return { el: h('div', {}, list, button(`${prefix}-add`, addLabel, () => add(), 'btn-small')), read: () => entries.map((e) => e.read()) };
}

export async function showPapers(view, bankId) {
  const banks = await call('/api/office/banks');
  const theory = banks.filter((b) => b.bank.subject !== 'skill');
  const skill = banks.filter((b) => b.bank.subject === 'skill');
  const bankFilter = select('papers-bank', [['', t('all')], ...banks.map((b) => [b.bank.id, b.bank.name])], bankId || '');
  const stateFilter = select('papers-state', [['', t('all')], ...STATES.map((s) => [s, t(`state.${s}`)])], '');
  const list = h('div');
  const listErrors = errorSlot('page-error');
  const bankName = (id) => banks.find((b) => b.bank.id === id)?.bank.name || id;
  async function load() {
    const params = new URLSearchParams();
    if (bankFilter.value) params.set('bankId', bankFilter.value);
    if (stateFilter.value) params.set('state', stateFilter.value);
    await attempt(listErrors, async () => {
      const papers = await call(`/api/office/papers?${params}`);
      put(list, table('papers-table', [t('p.title'), t('p.bank'), t('p.state'), t('p.version'), t('p.points'), t('p.questions'), t('p.updated')],
        papers.map((p) => h('tr', { testid: `paper-row-${p.id}`, dataset: { state: p.state } },
          h('td', {}, h('a', { href: `#paper/${enc(p.id)}`, testid: `paper-open-${p.id}` }, p.title), h('br'), h('span', { class: 'muted small' }, p.id)),
          h('td', {}, bankName(p.bankId)), h('td', {}, stateBadge(p.state)), h('td', {}, String(p.version)), h('td', {}, points(p.points)),
          h('td', {}, String(p.questions)), h('td', { class: 'small' }, when(p.updatedAt)))), t('p.none')));
    });
  }
  bankFilter.addEventListener('change', load);
  stateFilter.addEventListener('change', load);
  const defaultBank = bankId && theory.some((b) => b.bank.id === bankId) ? bankId : theory[0]?.bank.id;
  put(view.app, view.tabs(),
    card(t('p.library'), h('div', { class: 'filters' }, field(t('p.bank'), bankFilter), field(t('p.state'), stateFilter)), listErrors, list),
    theory.length ? await assembleForm(view, theory, defaultBank) : null,
    theory.length ? manualForm(view, theory, defaultBank) : null,
    skill.length ? skillForm(view, skill, bankId && skill.some((b) => b.bank.id === bankId) ? bankId : skill[0].bank.id) : null);
  await load();
}

async function assembleForm(view, theory, bankId) {
  const bank = select('asm-bank', theory.map((b) => [b.bank.id, `${b.bank.name} (${b.bank.id})`]), bankId);
  let tree = (await call(`/api/office/banks/${enc(bank.value)}`)).knowledgePoints || [];
  const title = input('asm-title', { placeholder: t('p.title') });
  const sections = rows('asm-section', [{ type: 'singleChoice', count: 10, pointsEach: 1 }], (i, s) => {
    const type = select(`asm-section-${i}-type`, QUESTION_TYPES.map((x) => [x, typeName(x)]), s.type || 'singleChoice');
    const count = input(`asm-section-${i}-count`, { type: 'number', min: '1', value: s.count ?? 5, class: 'input input-narrow' });
    const each = input(`asm-section-${i}-points`, { type: 'number', min: '0', step: '0.5', value: s.pointsEach ?? 1, class: 'input input-narrow' });
    const heading = input(`asm-section-${i}-title`, { placeholder: t('a.sectionTitle') });
    return { el: h('span', { class: 'row-fields grow' }, type, count, each, heading),
      read: () => ({ type: type.value, count: Number(count.value), pointsEach: Number(each.value), ...(heading.value.trim() ? { title: heading.value.trim() } : {}) }) };
  }, t('a.addSection'));
  const kpOptions = () => tree.map((k) => [k.code, `${k.code} ${k.name}`]);
  const coverage = rows('asm-cov', [], (i) => {
    const kp = select(`asm-cov-${i}-kp`, kpOptions(), '');
    const min = input(`asm-cov-${i}-min`, { type: 'number', min: '0', max: '100', value: 10, class: 'input input-narrow', title: t('a.min') });
    const max = input(`asm-cov-${i}-max`, { type: 'number', min: '0', max: '100', class: 'input input-narrow', placeholder: t('a.max') });
    return { el: h('span', { class: 'row-fields grow' }, kp, min, max),
      read: () => ({ knowledgePoint: kp.value, minPercent: Number(min.value), ...(max.value !== '' ? { maxPercent: Number(max.value) } : {}) }) };
  }, t('a.addCoverage'));
  const standard = h('input', { type: 'checkbox', testid: 'asm-standard' });
  const covTolerance = input('asm-cov-tolerance', { type: 'number', min: '0', value: 5, class: 'input input-narrow' });
  const difficulty = rows('asm-diff', [], (i) => {
    const level = select(`asm-diff-${i}-level`, [1, 2, 3, 4, 5].map((d) => [d, String(d)]), 3);
    const percent = input(`asm-diff-${i}-percent`, { type: 'number', min: '0', max: '100', value: 50, class: 'input input-narrow' });
    return { el: h('span', { class: 'row-fields grow' }, level, percent), read: () => ({ difficulty: Number(level.value), percent: Number(percent.value) }) };
  }, t('a.addDifficulty'));
  const diffTolerance = input('asm-diff-tolerance', { type: 'number', min: '0', value: 10, class: 'input input-narrow' });
  const maxUsage = input('asm-max-usage', { type: 'number', min: '0', class: 'input input-narrow' });
  const excludeRecent = input('asm-exclude-recent', { type: 'number', min: '0', class: 'input input-narrow' });
  const papers = select('asm-papers', [1, 2, 3, 4].map((n) => [n, String(n)]), 1);
  const seed = input('asm-seed', { type: 'number', min: '0', class: 'input input-narrow' });
  const errors = errorSlot('asm-error');
  const result = h('div');
  bank.addEventListener('change', async () => { tree = (await call(`/api/office/banks/${enc(bank.value)}`)).knowledgePoints || []; });
  const submit = button('asm-submit', t('a.submit'), () => attempt(errors, async () => {
    result.replaceChildren();
    const rule = {
      sections: sections.read(), coverage: coverage.read(), useStandardWeights: standard.checked,
      coverageTolerancePercent: Number(covTolerance.value) || 0, difficulty: difficulty.read(),
      difficultyTolerancePercent: Number(diffTolerance.value) || 0, papers: Number(papers.value),
    };
    if (maxUsage.value !== '') rule.maxUsage = Number(maxUsage.value);
    if (excludeRecent.value !== '') rule.excludeRecentPapers = Number(excludeRecent.value);
    if (seed.value !== '') rule.seed = Number(seed.value);
    const made = await call(`/api/office/banks/${enc(bank.value)}/assemble`, { method: 'POST', body: { title: title.value, rule } });
    const list = made.papers || [];
    put(result, h('div', { class: 'notice notice-ok', testid: 'asm-result', dataset: { count: list.length } }, h('p', {}, t('a.done', { n: list.length })),
      h('ul', {}, list.map((p, i) => h('li', {}, h('a', { href: `#paper/${enc(p.summary.id)}`, testid: `asm-paper-${i}`, dataset: { id: p.summary.id } },
        `${p.summary.title} · ${points(p.summary.points)} · ${p.summary.questions}`), reportLine(p.report))))));
  }), 'btn-primary');
  return card(t('a.title'),
    h('div', { class: 'grid-2' }, field(t('p.bank'), bank), field(t('p.title'), title)),
    h('fieldset', {}, h('legend', {}, `${t('a.sections')} (${t('a.type')} · ${t('a.count')} · ${t('a.pointsEach')})`), sections.el),
    h('fieldset', {}, h('legend', {}, t('a.coverage')), h('label', {}, standard, ` ${t('a.standard')}`), field(t('a.covTolerance'), covTolerance),
      h('p', { class: 'muted small' }, `${t('a.kp')} · ${t('a.min')} · ${t('a.max')}`), coverage.el),
    h('fieldset', {}, h('legend', {}, `${t('a.difficulty')} (${t('a.level')} · ${t('a.percent')})`), difficulty.el, field(t('a.diffTolerance'), diffTolerance)),
    h('div', { class: 'grid-3' }, field(t('a.maxUsage'), maxUsage), field(t('a.excludeRecent'), excludeRecent), field(t('a.papers'), papers), field(t('a.seed'), seed)),
    h('div', { class: 'actions' }, submit), errors, result);
}

function reportLine(report) {
  if (!report || !report.length) return null;
  const unmet = report.filter((r) => !r.met).length;
  return h('span', { class: ['badge', unmet ? 'badge-warn' : 'badge-ok'] }, unmet ? `${t('pv.unmet')} ${unmet}` : t('pv.met'));
}

function manualForm(view, theory, bankId) {
  const bank = select('man-bank', theory.map((b) => [b.bank.id, `${b.bank.name} (${b.bank.id})`]), bankId);
  const title = input('man-title', { placeholder: t('p.title') });
  const sectionBoxes = [];
  const sectionList = h('div');
  const target = select('man-target', [], '');
  const addSection = () => {
    const i = sectionBoxes.length;
    const s = {
      title: input(`man-section-${i}-title`, { placeholder: t('m.sectionTitle') }),
      points: input(`man-section-${i}-points`, { type: 'number', min: '0', step: '0.5', class: 'input input-narrow', placeholder: t('a.pointsEach') }),
      ids: textarea(`man-section-${i}-ids`, { rows: 2, placeholder: t('m.ids') }),
    };
    sectionBoxes.push(s);
    sectionList.append(h('fieldset', {}, h('legend', {}, t('m.section', { n: i + 1 })), h('div', { class: 'row-fields' }, s.title, s.points), s.ids));
    target.append(h('option', { value: i }, t('m.section', { n: i + 1 })));
    target.value = String(i);
  };
  addSection();
  const q = input('man-search-q', { type: 'search', placeholder: t('qs.q') });
  const type = select('man-search-type', [['', t('all')], ...QUESTION_TYPES.map((x) => [x, typeName(x)])], '');
  const found = h('div');
  const errors = errorSlot('man-error');
  const search = button('man-search', t('m.search'), () => attempt(errors, async () => {
    const params = new URLSearchParams({ limit: 30, status: 'active' });
    if (q.value.trim()) params.set('q', q.value.trim());
    if (type.value) params.set('type', type.value);
    const page = await call(`/api/office/banks/${enc(bank.value)}/questions?${params}`);
    put(found, h('ul', { class: 'pick-list' }, page.questions.map((v) => h('li', {},
      button(`man-pick-${v.question.id}`, t('m.pick'), () => {
        const box = sectionBoxes[Number(target.value)].ids;
        box.value = [box.value.trim(), v.question.id].filter(Boolean).join('\n');
      }, 'btn-small'), ` ${v.question.id} · ${typeName(v.question.type)} · ${stemLine(v.question.stem, 60)}`))));
  }));
  const create = button('man-create', t('m.create'), () => attempt(errors, async () => {
    const sections = sectionBoxes.map((s) => ({
      title: s.title.value.trim(), questions: s.ids.value.split(/[\s,，]+/).map((x) => x.trim()).filter(Boolean),
      ...(s.points.value !== '' ? { pointsEach: Number(s.points.value) } : {}),
    })).filter((s) => s.questions.length);
    const paper = await call(`/api/office/banks/${enc(bank.value)}/papers`, { method: 'POST', body: { title: title.value, sections } });
    view.go(`paper/${enc(paper.summary.id)}`);
  }), 'btn-primary');
  return card(t('m.title'), h('div', { class: 'grid-2' }, field(t('p.bank'), bank), field(t('p.title'), title)), sectionList,
    button('man-section-add', t('m.addSection'), addSection, 'btn-small'),
    h('div', { class: 'filters' }, field(t('m.target'), target), field(t('qs.q'), q), field(t('a.type'), type), search), found,
    h('div', { class: 'actions' }, create), errors);
}

function skillForm(view, skill, bankId) {
  const bank = select('skill-bank', skill.map((b) => [b.bank.id, `${b.bank.name} (${b.bank.id})`]), bankId);
  const title = input('skill-title', { placeholder: t('p.title') });
  const taskList = h('div', { class: 'pick-list' });
  const errors = errorSlot('skill-error');
  const loadTasks = () => attempt(errors, async () => {
    const tasks = await call(`/api/office/banks/${enc(bank.value)}/tasks`);
    put(taskList, ...(tasks.length ? tasks.filter((v) => v.status === 'active').map((v) => h('label', { class: 'kp-choice' },
      h('input', { type: 'checkbox', value: v.task.id, testid: `skill-task-${v.task.id}` }), ` ${v.task.id} ${v.task.title} (${t('pv.minutes', { n: v.task.durationMinutes })})`))
      : [h('p', { class: 'muted' }, t('s.noTasks'))]));
  });
  bank.addEventListener('change', loadTasks);
  loadTasks();
  const create = button('skill-create', t('s.create'), () => attempt(errors, async () => {
    const tasks = [...taskList.querySelectorAll('input:checked')].map((box) => box.value);
    const paper = await call(`/api/office/banks/${enc(bank.value)}/papers`, { method: 'POST', body: { title: title.value, tasks } });
    view.go(`paper/${enc(paper.summary.id)}`);
  }), 'btn-primary');
  return card(t('s.title'), h('div', { class: 'grid-2' }, field(t('p.bank'), bank), field(t('p.title'), title)), taskList, h('div', { class: 'actions' }, create), errors);
}

function taskView(task, i) {
  return h('div', { class: 'question preview-question', testid: `paper-task-${task.id}` },
    h('div', { class: 'q-header' }, h('span', { class: 'q-number' }, `${i + 1}.`), h('strong', {}, task.title),
      h('span', { class: 'muted small' }, ` ${t('pv.minutes', { n: task.durationMinutes })} · ${points((task.scoringItems || []).reduce((s, x) => s + Number(x.points || 0), 0))}`)),
    h('p', { class: 'pre-wrap' }, task.description),
    (task.scoringItems || []).length ? h('ul', { class: 'small' }, task.scoringItems.map((x) => h('li', {}, `${x.description} (${points(x.points)}) — ${x.deduction}`))) : null);
}

export async function showPaper(view, paperId, version) {
  const path = `/api/office/papers/${enc(paperId)}${version ? `?version=${enc(version)}` : ''}`;
  const paper = await call(path);
  const s = paper.summary;
  const old = version && Number(version) !== Number(s.version) ? Number(version) : null;
  const errors = errorSlot('paper-action-error');
  const act = (action, body) => attempt(errors, async () => {
    await call(`/api/office/papers/${enc(paperId)}/${action}`, { method: 'POST', body: body || {} });
    await showPaper(view, paperId);
  });
  const actions = [];
  if (!old && (s.state === 'draft' || s.state === 'rejected')) {
    actions.push(button('paper-request', t('pv.request'), async () => {
      const note = await dialog({ title: t('pv.request'), input: { placeholder: t('pv.requestNote') } });
      if (note !== null) act('request', note.trim() ? { note: note.trim() } : {});
    }, 'btn-primary'));
    actions.push(button('paper-edit', t('pv.edit'), () => editPaper(view, paper, content)));
  }
  if (!old && s.state === 'requested') {
    actions.push(button('paper-approve', t('pv.approve'), () => act('approve'), 'btn-primary'));
    actions.push(button('paper-reject', t('pv.reject'), async () => {
      const reason = await dialog({ title: t('pv.reject'), input: { placeholder: t('pv.rejectReason') } });
      if (reason !== null) act('reject', { reason: reason.trim() });
    }, 'btn-danger'));
  }
  const skill = s.subject === 'skill' || (paper.tasks && paper.tasks.length && !(paper.sections || []).length);
  const printParts = skill ? ['paper', 'scoring', 'candidate-notice', 'room-notice'] : ['paper', 'answers'];
  const prints = h('div', { class: 'actions' }, h('span', { class: 'muted' }, `${t('pv.print')}: `), printParts.map((part) => h('a', {
    class: 'btn btn-small', target: '_blank', rel: 'noopener', testid: `print-${part}`,
    href: `/api/office/papers/${enc(paperId)}/print?part=${part}${old ? `&version=${old}` : ''}` }, t(`print.${part}`))));
  let number = 0;
  const content = h('div', { testid: 'paper-preview' },
    skill ? (paper.tasks || []).map(taskView)
      : (paper.sections || []).map((section, si) => h('section', { class: 'paper-section', testid: `paper-section-${si}` },
        h('h3', {}, section.title, section.pointsEach !== undefined && section.pointsEach !== null ? h('span', { class: 'muted small' }, ` (${t('a.pointsEach')} ${points(section.pointsEach)})`) : null),
        section.questions.map((v) => h('div', { testid: `paper-question-${v.question.id}` }, preview(v.question, ++number, 'paper'))))));
  const report = (paper.report || []).length ? card(t('pv.report'), table('paper-report', [t('pv.constraint'), t('pv.target'), t('pv.achieved'), ''],
    paper.report.map((r, i) => h('tr', { testid: `report-${i}`, dataset: { met: String(r.met) } }, h('td', {}, bilingual(r.constraint)),
      h('td', {}, String(r.target ?? '')), h('td', {}, String(r.achieved ?? '')),
      h('td', {}, h('span', { class: ['badge', r.met ? 'badge-ok' : 'badge-danger'] }, r.met ? t('pv.met') : t('pv.unmet'))))))) : null;
  const versions = card(t('pv.versions'), table('paper-versions', [t('p.version'), t('at'), t('pv.by'), t('pv.note')],
    (paper.versions || []).map((v) => h('tr', { testid: `version-${v.version}` },
      h('td', {}, h('a', { href: `#paper/${enc(paperId)}/${v.version}` }, String(v.version))), h('td', { class: 'small' }, when(v.savedAt)),
      h('td', {}, v.savedBy || '—'), h('td', {}, v.note || '')))));
  const historyCard = card(t('pv.history'), table('paper-history', [t('p.state'), t('at'), t('pv.by'), t('pv.reason')],
    (paper.history || []).map((x, i) => h('tr', { testid: `history-${i}`, dataset: { state: x.state } },
      h('td', {}, stateBadge(x.state)), h('td', { class: 'small' }, when(x.at)), h('td', {}, x.by || '—'), h('td', {}, x.reason || '')))));
  put(view.app, view.tabs(),
    h('section', { class: 'card' },
      h('h1', { testid: 'paper-title' }, s.title),
      h('p', {}, stateBadge(s.state, 'paper-state'), ' ',
        h('span', { testid: 'paper-version', dataset: { version: old || s.version } }, `${t('p.version')} ${old || s.version}`), ' · ',
        h('span', { testid: 'paper-points' }, `${t('p.points')} ${points(s.points)} · ${t('p.questions')} ${s.questions}`), ' · ',
        h('span', { class: 'muted small' }, `${s.id} · ${when(s.updatedAt)}`)),
      s.reason ? h('p', { class: 'notice notice-warn', testid: 'paper-reason' }, `${t('pv.reason')}: ${s.reason}`) : null,
      old ? h('p', { class: 'notice notice-warn' }, t('pv.old', { n: old }), ' ', h('a', { href: `#paper/${enc(paperId)}` }, t('pv.current'))) : null,
      h('div', { class: 'actions' }, actions), errors, prints),
    report,
    card(t('pv.preview'), content),
    h('div', { class: 'grid-2' }, versions, historyCard));
}

function editPaper(view, paper, slot) {
  const s = paper.summary;
  const errors = errorSlot('edit-error');
  const title = input('edit-title', { value: s.title });
  const note = input('edit-note', { placeholder: t('e.note') });
  const skill = s.subject === 'skill' || (paper.tasks && paper.tasks.length && !(paper.sections || []).length);
  let read;
  // Each item is {id, text}; with `withPoints`, also the points set by hand on that question ('' for the section's).
  const listEditor = (prefix, ids, label, withPoints) => {
    const list = h('ol', { class: 'edit-list' });
    const items = [...ids];
    const render = () => {
      put(list, ...items.map((item, i) => h('li', { testid: `${prefix}-${i}`, dataset: { id: item.id } },
        h('span', { class: 'grow' }, `${item.id} · ${label(item)}`),
        withPoints && item.type !== 'caseAnalysis' ? input(`${prefix}-${i}-points`, {
          type: 'number', min: '0', step: '0.5', value: item.points ?? '', class: 'input input-narrow', placeholder: withPoints(),
          title: t('e.questionPoints'), 'aria-label': t('e.questionPoints'), oninput: (event) => { item.points = event.target.value; } }) : null,
        h('button', { type: 'button', class: 'btn btn-small', testid: `${prefix}-${i}-up`, disabled: i === 0, onclick: () => { items.splice(i - 1, 0, items.splice(i, 1)[0]); render(); } }, '↑'),
        h('button', { type: 'button', class: 'btn btn-small', testid: `${prefix}-${i}-down`, disabled: i === items.length - 1, onclick: () => { items.splice(i + 1, 0, items.splice(i, 1)[0]); render(); } }, '↓'),
        button(`${prefix}-${i}-replace`, t('e.replace'), async () => {
          const id = await dialog({ title: t('e.replaceWith', { id: item.id }), input: {} });
          if (id && id.trim()) { items[i] = { id: id.trim(), text: '' }; render(); }
        }, 'btn-small'),
        button(`${prefix}-${i}-remove`, '×', () => { items.splice(i, 1); render(); }, 'btn-small'))));
    };
    render();
    return { list, items, render };
  };
  let body;
  if (skill) {
    const tasks = listEditor('edit-task', (paper.tasks || []).map((x) => ({ id: x.id, text: x.title })), (x) => x.text);
    const addId = input('edit-task-add-id', { placeholder: t('e.addId'), class: 'input input-narrow' });
    body = h('div', {}, tasks.list, h('div', { class: 'row' }, addId, button('edit-task-add', t('e.add'), () => { if (addId.value.trim()) { tasks.items.push({ id: addId.value.trim(), text: '' }); addId.value = ''; tasks.render(); } }, 'btn-small')));
    read = () => ({ title: title.value, tasks: tasks.items.map((x) => x.id) });
  } else {
    const sections = (paper.sections || []).map((section, si) => {
      const heading = input(`edit-section-${si}-title`, { value: section.title });
      const each = input(`edit-section-${si}-points`, { type: 'number', min: '0', step: '0.5', value: section.pointsEach ?? '', class: 'input input-narrow', placeholder: t('a.pointsEach') });
      const setByHand = section.questionPoints || {};
      const questions = listEditor(`edit-${si}`, section.questions.map((v) => ({ id: v.question.id, type: v.question.type, text: stemLine(v.question.stem, 50), points: setByHand[v.question.id] ?? '' })),
        (x) => x.text, () => each.value || t('a.pointsEach'));
      const addId = input(`edit-section-${si}-add-id`, { placeholder: t('e.addId'), class: 'input input-narrow' });
      const el = h('fieldset', {}, h('legend', {}, t('m.section', { n: si + 1 })), h('div', { class: 'row-fields' }, heading, each), questions.list,
        h('div', { class: 'row' }, addId, button(`edit-section-${si}-add`, t('e.add'), () => { if (addId.value.trim()) { questions.items.push({ id: addId.value.trim(), text: '' }); addId.value = ''; questions.render(); } }, 'btn-small')));
      return { el, read: () => {
        const byHand = questions.items.filter((x) => x.points !== undefined && x.points !== '');
        return { title: heading.value, questions: questions.items.map((x) => x.id), ...(each.value !== '' ? { pointsEach: Number(each.value) } : {}),
          ...(byHand.length ? { questionPoints: Object.fromEntries(byHand.map((x) => [x.id, Number(x.points)])) } : {}) };
      } };
    });
    body = h('div', {}, sections.map((x) => x.el));
    read = () => ({ title: title.value, sections: sections.map((x) => x.read()) });
  }
  const save = button('edit-save', t('e.save'), () => attempt(errors, async () => {
    const value = read();
    if (note.value.trim()) value.note = note.value.trim();
    await call(`/api/office/papers/${enc(s.id)}`, { method: 'PUT', body: value });
    await showPaper(view, s.id);
  }), 'btn-primary');
  put(slot, field(t('p.title'), title), body, field(t('e.note'), note),
    h('div', { class: 'actions' }, save, button('edit-cancel', t('cancel'), () => showPaper(view, s.id))), errors);
}
