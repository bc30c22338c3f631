/*
 * 考试计划 (exam plans): plans; a venue's rooms and seat labels; sittings (venue, subject, approved paper, rooms,
 * start, duration, late entry, instructions, face checks); per sitting the candidates (pasted lines or the table),
 * automatic seats and the seat plan per room, staff (one-time passwords shown once), the paper key (启封码) and its
 * release; per plan and venue the package: issue, state (fetched, imported, refused and why), download for USB; the
 * sitting's results as the venue reports them (per candidate, with a CSV download).
 * Routes: #plans, #plan/{id}, #sitting/{id}, #rooms/{venueId}
 *
 * data-testid hooks:
 *   plans: plans-table, plan-row-{id}, plan-open-{id}, plan-name, plan-create, plan-error, rooms-link-{venueId}
 *   rooms: rooms-venue, room-{i}-id, room-{i}-name, room-{i}-seats, room-{i}-from, room-{i}-to, room-{i}-generate,
 *     room-{i}-remove, room-add, rooms-save, rooms-saved, rooms-error
 *   a plan: plan-title, sittings-table, sitting-row-{id}, sitting-open-{id}; new sitting: sit-id, sit-name, sit-venue,
 *     sit-subject, sit-occupation, sit-level, sit-paper, sit-room-{roomId}, sit-date, sit-time, sit-duration, sit-late,
 *     sit-instructions, sit-self-check, sit-rechecks, sit-create, sit-error;
 *     packages: pkg-venue, pkg-issue, pkg-error, pkg-result (data-package), pkg-result-id, seal-{sittingId}
 *     (data-code), seal-code-{sittingId}, release-{sittingId}, pkg-list-{venueId}, pkg-{packageId} (data-state:
 *     issued|fetched|imported|refused), pkg-download-{packageId}
 *   a sitting: sitting-title, sitting-paper, cand-paste, cand-save, cand-error (problems: cand-error-problem-{n}),
 *     cand-table (data-count), cand-{admissionNumber} (data-room, data-seat, data-photo), cand-photo-{admissionNumber}
 *     (a file input: the registered photo), seats-allocate, seats-error,
 *     seatplan-{roomId}, seat-{roomId}-{seat} (data-candidate), staff-{i}-username, staff-{i}-name, staff-{i}-role,
 *     staff-{i}-room-{roomId}, staff-{i}-remove, staff-add, staff-save, staff-error, staff-passwords,
 *     staff-password-{username}, sitting-package (data-state), sitting-seal (data-released), seal-code,
 *     seal-release-at, sitting-release, release-error; the results from the venue (once a package is issued):
 *     results (data-count), results-summary, results-csv, result-{admissionNumber} (data-status, data-score); a skill
 *     sitting's sheets: skill-scores (data-count), skill-score-{admissionNumber}-{taskId} (data-mean, data-sheets)
 */
import { put, addTexts, attempt, button, call, card, dialog, enc, errorSlot, field, h, input, okBox, points, select, t, table, textarea, upload, when } from './common.js';

addTexts({
  'pl.plans': '考试计划', 'pl.name': '计划名称', 'pl.create': '新建计划', 'pl.created': '创建时间', 'pl.sittings': '场次数', 'pl.none': '还没有考试计划。',
  'pl.venues': '考点考场', 'pl.rooms': '编辑考场', 'r.title': '考点 {id} 的考场', 'r.id': '考场编号', 'r.name': '名称', 'r.seats': '座位号（逗号或换行分隔）',
  'r.from': '从', 'r.to': '到', 'r.generate': '生成座位号', 'r.add': '添加考场', 'r.saved': '考场已保存。', 'r.count': '{n} 个座位',
  'sk.title': '技能操作评分（考点上报）', 'sk.none': '考点尚未上报已提交的评分表。', 'sk.candidate': '考生', 'sk.task': '试题',
  'sk.sheets': '考评员评分', 'sk.mean': '平均分（得分）',
  'rs.title': '成绩（考点上报）', 'rs.csv': '下载成绩 CSV', 'rs.candidate': '考生', 'rs.place': '考场 / 座位', 'rs.status': '状态', 'rs.score': '得分 / 满分',
  'rs.pending': '待评分', 'rs.at': '交卷时间', 'rs.sheetAt': '最后提交评分表', 'rs.summary': '共 {n} 人：已交卷 {submitted}，缺考 {absent}，无记录 {none}',
  'rs.summarySkill': '共 {n} 人：已评分 {scored}，评分中 {scoring}，未评分 {notScored}，缺考 {absent}',
  'rs.s.submitted': '已交卷', 'rs.s.answering': '答题中', 'rs.s.waiting': '已登录未答题', 'rs.s.absent': '缺考', 'rs.s.noAttempt': '无记录',
  'rs.s.scored': '已评分', 'rs.s.scoring': '评分中', 'rs.s.notScored': '未评分',
  'st.new': '添加场次', 'st.id': '场次编号（可空）', 'st.name': '场次名称', 'st.venue': '考点', 'st.subject': '科目', 'st.occupation': '职业（可空）',
  'st.level': '等级（可空）', 'st.paper': '试卷（已批准）', 'st.rooms': '考场', 'st.date': '开考日期', 'st.time': '开考时间', 'st.duration': '时长（分钟）',
  'st.late': '迟到限时（分钟）', 'st.instructions': '考生须知', 'st.selfCheck': '考生在终端人脸自助签到', 'st.rechecks': '考中人脸复核次数', 'st.create': '添加场次',
  'st.start': '开考时间', 'st.candidates': '考生', 'st.noPapers': '没有已批准的该科目试卷。', 'st.noRooms': '该考点还没有考场：先编辑考场。', 'st.none': '本计划还没有场次。',
  'pk.title': '考点包', 'pk.venue': '考点', 'pk.issue': '生成并下发考点包', 'pk.issued': '已下发考点包 {id}', 'pk.seal': '启封码', 'pk.releaseAt': '自动发布时间',
  'pk.releaseNow': '立即发布密钥', 'pk.released': '已发布', 'pk.state': '状态', 'pk.download': '下载（U 盘）', 'pk.none': '尚未向该考点下发考点包。',
  'pk.s.issued': '已下发', 'pk.s.fetched': '考点已取走', 'pk.s.imported': '考点已导入', 'pk.s.refused': '考点拒收', 'pk.bytes': '大小',
  'pk.releaseAsk': '现在发布场次 {id} 的试卷密钥？考点下次同步即可启封试卷。',
  'c.title': '考生', 'c.paste': '粘贴考生名单：每行“准考证号,姓名,身份证号,单位”', 'c.save': '保存考生名单', 'c.admission': '准考证号', 'c.name': '姓名',
  'c.id': '身份证号', 'c.org': '单位', 'c.room': '考场', 'c.seat': '座位', 'c.count': '共 {n} 名考生', 'c.saved': '考生名单已保存（座位已清空）。', 'c.photo': '照片', 'c.photoAdd': '上传照片', 'c.photoReplace': '更换照片', 'c.hasPhoto': '已有照片',
  'se.allocate': '自动编排座位', 'se.plan': '座位图', 'se.empty': '空',
  'sf.title': '考务人员', 'sf.username': '账号', 'sf.name': '姓名', 'sf.role': '角色', 'sf.rooms': '负责考场', 'sf.add': '添加人员', 'sf.save': '保存考务人员',
  'sf.passwords': '新账号的一次性密码（只显示这一次，请抄下交给本人）：', 'role.invigilator': '监考员', 'role.examiner': '考评员', 'role.supervisor': '督导员',
  'role.admin': '考点管理员',
}, {
  'pl.plans': 'Exam plans', 'pl.name': 'Plan name', 'pl.create': 'New plan', 'pl.created': 'Created', 'pl.sittings': 'Sittings', 'pl.none': 'No exam plans yet.',
  'pl.venues': "Venues' rooms", 'pl.rooms': 'Edit rooms', 'r.title': 'Rooms of venue {id}', 'r.id': 'Room id', 'r.name': 'Name',
  'r.seats': 'Seat labels (comma or line separated)', 'r.from': 'From', 'r.to': 'To', 'r.generate': 'Generate seats', 'r.add': 'Add room',
  'r.saved': 'Rooms saved.', 'r.count': '{n} seats',
  'sk.title': 'Skill scores (reported by the venue)', 'sk.none': 'The venue has reported no handed-in scoring sheets yet.',
  'sk.candidate': 'Candidate', 'sk.task': 'Task', 'sk.sheets': "Examiners' totals", 'sk.mean': 'Mean (the score)',
  'rs.title': 'Results (reported by the venue)', 'rs.csv': 'Download results (CSV)', 'rs.candidate': 'Candidate', 'rs.place': 'Room / seat',
  'rs.status': 'Status', 'rs.score': 'Score / max', 'rs.pending': 'To mark', 'rs.at': 'Submitted', 'rs.sheetAt': 'Last sheet handed in',
  'rs.summary': '{n} candidates: {submitted} submitted, {absent} absent, {none} with nothing reported',
  'rs.summarySkill': '{n} candidates: {scored} scored, {scoring} being scored, {notScored} not scored, {absent} absent',
  'rs.s.submitted': 'submitted', 'rs.s.answering': 'answering', 'rs.s.waiting': 'logged in', 'rs.s.absent': 'absent', 'rs.s.noAttempt': 'nothing reported',
  'rs.s.scored': 'scored', 'rs.s.scoring': 'being scored', 'rs.s.notScored': 'not scored',
  'st.new': 'Add sitting', 'st.id': 'Sitting id (optional)', 'st.name': 'Sitting name', 'st.venue': 'Venue', 'st.subject': 'Subject',
  'st.occupation': 'Occupation (optional)', 'st.level': 'Level (optional)', 'st.paper': 'Paper (approved)', 'st.rooms': 'Rooms', 'st.date': 'Date',
  'st.time': 'Start time', 'st.duration': 'Minutes', 'st.late': 'Late entry (minutes)', 'st.instructions': 'Instructions',
  'st.selfCheck': 'Candidates check in by face at the terminal', 'st.rechecks': 'Face re-checks during the exam', 'st.create': 'Add sitting',
  'st.start': 'Start', 'st.candidates': 'Candidates', 'st.noPapers': 'No approved paper of this subject.',
  'st.noRooms': 'This venue has no rooms yet: edit its rooms first.', 'st.none': 'This plan has no sittings yet.',
  'pk.title': 'Venue packages', 'pk.venue': 'Venue', 'pk.issue': 'Build and issue the package', 'pk.issued': 'Package {id} issued',
  'pk.seal': 'Paper key code', 'pk.releaseAt': 'Released automatically at', 'pk.releaseNow': 'Release the key now', 'pk.released': 'released',
  'pk.state': 'State', 'pk.download': 'Download (USB)', 'pk.none': 'No package issued for this venue yet.', 'pk.s.issued': 'issued',
  'pk.s.fetched': 'fetched by the venue', 'pk.s.imported': 'imported by the venue', 'pk.s.refused': 'refused by the venue', 'pk.bytes': 'Size',
  'pk.releaseAsk': "Release sitting {id}'s paper key now? The venue can open the paper at its next sync.",
  'c.title': 'Candidates', 'c.paste': 'Paste candidates: one a line, "admission number,name,ID number,organisation"', 'c.save': 'Save candidates',
  'c.admission': 'Admission no.', 'c.name': 'Name', 'c.id': 'ID number', 'c.org': 'Organisation', 'c.room': 'Room', 'c.seat': 'Seat',
  'c.count': '{n} candidates', 'c.saved': 'Candidates saved (seats cleared).', 'c.photo': 'Photo', 'c.photoAdd': 'Upload photo', 'c.photoReplace': 'Replace photo', 'c.hasPhoto': 'photo on file', 'se.allocate': 'Allocate seats', 'se.plan': 'Seat plan', 'se.empty': 'empty',
  'sf.title': 'Staff', 'sf.username': 'User name', 'sf.name': 'Name', 'sf.role': 'Role', 'sf.rooms': 'Rooms', 'sf.add': 'Add person', 'sf.save': 'Save staff',
  'sf.passwords': 'One-time passwords of the new accounts (shown only this once):', 'role.invigilator': 'Invigilator', 'role.examiner': 'Examiner',
  'role.supervisor': 'Supervisor', 'role.admin': 'Venue admin',
});

const ROLES = ['invigilator', 'examiner', 'supervisor', 'admin'];
const subjectName = (subject) => (subject === 'skill' ? t('b.skill') : t('b.theory'));
export const packageState = (p) => {
  if (!p) return 'none';
  if (p.imported === true) return 'imported';
  if (p.imported === false && (p.reportedAt || p.result || !('reportedAt' in p))) return 'refused';
  return p.fetchedAt ? 'fetched' : 'issued';
};

export async function showPlans(view) {
  const [plans, venues] = await Promise.all([call('/api/office/plans'), call('/api/office/venues')]);
  const name = input('plan-name', { placeholder: t('pl.name') });
  const errors = errorSlot('plan-error');
  const create = button('plan-create', t('pl.create'), () => attempt(errors, async () => {
    const plan = await call('/api/office/plans', { method: 'POST', body: { name: name.value } });
    view.go(`plan/${enc(plan.id ?? plan.plan?.id)}`);
  }), 'btn-primary');
  put(view.app, view.tabs(),
    card(t('pl.plans'), table('plans-table', [t('pl.name'), t('pl.created'), t('pl.sittings')], plans.map((p) => h('tr', { testid: `plan-row-${p.id}` },
      h('td', {}, h('a', { href: `#plan/${enc(p.id)}`, testid: `plan-open-${p.id}` }, p.name), h('br'), h('span', { class: 'muted small' }, p.id)),
      h('td', { class: 'small' }, when(p.createdAt)), h('td', {}, String(Array.isArray(p.sittings) ? p.sittings.length : p.sittings ?? 0)))), t('pl.none')),
    h('div', { class: 'row' }, name, create), errors),
    card(t('pl.venues'), h('ul', { class: 'pick-list' }, venues.map((v) => h('li', {},
      h('a', { class: 'btn btn-small', href: `#rooms/${enc(v.id)}`, testid: `rooms-link-${v.id}` }, t('pl.rooms')), ` ${v.name} (${v.id})`)))));
}

/** Seat labels from..to, zero-padded to the longer of the two ("01".."30"). */
function seatRange(from, to) {
  const a = Number(from);
  const b = Number(to);
  if (!Number.isInteger(a) || !Number.isInteger(b) || b < a || b - a > 500) return [];
  const width = Math.max(String(from).trim().length, String(to).trim().length);
  return Array.from({ length: b - a + 1 }, (_, i) => String(a + i).padStart(width, '0'));
}

export async function showRooms(view, venueId) {
  const rooms = await call(`/api/office/venues/${enc(venueId)}/rooms`);
  const list = h('div');
  const entries = [];
  let count = 0;
  const add = (room = { id: '', name: '', seats: [] }) => {
    const i = count++;
    const id = input(`room-${i}-id`, { value: room.id, class: 'input input-narrow', placeholder: t('r.id') });
    const name = input(`room-${i}-name`, { value: room.name, placeholder: t('r.name') });
    const seats = textarea(`room-${i}-seats`, { rows: 2, value: (room.seats || []).join(',') });
    const from = input(`room-${i}-from`, { value: '01', class: 'input input-narrow' });
    const to = input(`room-${i}-to`, { value: '30', class: 'input input-narrow' });
    const entry = { read: () => ({ id: id.value.trim(), name: name.value.trim(), seats: seats.value.split(/[\s,，]+/).map((x) => x.trim()).filter(Boolean) }) };
    entry.el = h('fieldset', { class: 'room-box' }, h('div', { class: 'row-fields' }, id, name,
      button(`room-${i}-remove`, '×', () => { entries.splice(entries.indexOf(entry), 1); entry.el.remove(); }, 'btn-small')),
    field(t('r.seats'), seats),
    h('div', { class: 'row' }, t('r.from'), from, t('r.to'), to, button(`room-${i}-generate`, t('r.generate'), () => { seats.value = seatRange(from.value, to.value).join(','); }, 'btn-small')));
    entries.push(entry);
    list.append(entry.el);
  };
  rooms.forEach(add);
  if (!rooms.length) add();
  const errors = errorSlot('rooms-error');
  const result = h('div');
  const save = button('rooms-save', t('save'), () => attempt(errors, async () => {
    await call(`/api/office/venues/${enc(venueId)}/rooms`, { method: 'PUT', body: entries.map((e) => e.read()).filter((r) => r.id) });
    put(result, okBox(t('r.saved'), 'rooms-saved'));
  }), 'btn-primary');
  put(view.app, view.tabs(), card(null, h('h1', { testid: 'rooms-venue' }, t('r.title', { id: venueId })), list,
    h('div', { class: 'actions' }, button('room-add', t('r.add'), () => add(), 'btn-small'), save), errors, result));
}

function sealBox(seal, sittingId, view, after) {
  const errors = errorSlot('release-error');
  return h('div', { testid: `seal-${sittingId}`, dataset: { code: seal.code, released: String(Boolean(seal.released)) }, class: 'seal' },
    h('span', {}, `${sittingId} · ${t('pk.seal')} `), h('code', { class: 'seal-code', testid: `seal-code-${sittingId}` }, seal.code),
    h('span', { class: 'muted small' }, ` · ${t('pk.releaseAt')} ${when(seal.releaseAt)}`),
    seal.released ? h('span', { class: 'badge badge-ok' }, ` ${t('pk.released')}`)
      : button(`release-${sittingId}`, t('pk.releaseNow'), async () => {
        if (!(await dialog({ title: t('pk.releaseAsk', { id: sittingId }) }))) return;
        await attempt(errors, async () => {
          await call(`/api/office/sittings/${enc(sittingId)}/release-key`, { method: 'POST', body: {} });
          await after();
        });
      }, 'btn-small'), errors);
}

export async function showPlan(view, planId) {
  const [detail, venues] = await Promise.all([call(`/api/office/plans/${enc(planId)}`), call('/api/office/venues')]);
  const plan = detail.plan || detail;
  const sittings = detail.sittings || [];
  const rows = sittings.map((d) => {
    const s = d.sitting;
    return h('tr', { testid: `sitting-row-${s.id}` },
      h('td', {}, h('a', { href: `#sitting/${enc(s.id)}`, testid: `sitting-open-${s.id}` }, s.name), h('br'), h('span', { class: 'muted small' }, s.id)),
      h('td', {}, s.venueId), h('td', {}, subjectName(s.subject)), h('td', {}, d.paper?.title || s.paperId),
      h('td', { class: 'small' }, when(s.scheduledStart)), h('td', {}, String(s.durationMinutes)), h('td', {}, (s.rooms || []).join(', ')),
      h('td', {}, String((d.candidates || []).length)),
      h('td', {}, h('span', { class: 'badge', dataset: { state: packageState(d.package) } }, d.package ? t(`pk.s.${packageState(d.package)}`) : '—')));
  });
  const planVenues = [...new Set(sittings.map((d) => d.sitting.venueId))];
  put(view.app, view.tabs(),
    card(null, h('h1', { testid: 'plan-title' }, plan.name), h('p', { class: 'muted small' }, plan.id),
      table('sittings-table', [t('st.name'), t('st.venue'), t('st.subject'), t('st.paper'), t('st.start'), t('st.duration'), t('st.rooms'), t('st.candidates'), t('pk.state')], rows, t('st.none'))),
    await sittingForm(view, planId, venues),
    await packagesCard(view, planId, planVenues, sittings));
}

async function sittingForm(view, planId, venues) {
  const errors = errorSlot('sit-error');
  const id = input('sit-id', { class: 'input input-narrow' });
  const name = input('sit-name');
  const venue = select('sit-venue', venues.map((v) => [v.id, `${v.name} (${v.id})`]), venues[0]?.id);
  const subject = select('sit-subject', [['theory', t('b.theory')], ['skill', t('b.skill')]], 'theory');
  const occupation = input('sit-occupation');
  const level = input('sit-level');
  const paper = select('sit-paper', [], '');
  const roomBox = h('div', { class: 'pick-list' });
  const tomorrow = new Date(Date.now() + 86400000);
  const pad = (n) => String(n).padStart(2, '0');
  const date = input('sit-date', { type: 'date', value: `${tomorrow.getFullYear()}-${pad(tomorrow.getMonth() + 1)}-${pad(tomorrow.getDate())}` });
  const time = input('sit-time', { type: 'time', value: '09:00' });
  const duration = input('sit-duration', { type: 'number', min: '1', value: 90, class: 'input input-narrow' });
  const late = input('sit-late', { type: 'number', min: '0', value: 15, class: 'input input-narrow' });
  const instructions = textarea('sit-instructions', { rows: 3 });
  const selfCheck = h('input', { type: 'checkbox', testid: 'sit-self-check' });
  const rechecks = input('sit-rechecks', { type: 'number', min: '0', value: 0, class: 'input input-narrow' });
  const loadPapers = async () => {
    const lists = await Promise.all(['approved', 'issued'].map((state) => call(`/api/office/papers?state=${state}`)));
    const papers = lists.flat().filter((p) => p.subject === subject.value || !p.subject);
    put(paper, ...(papers.length ? papers.map((p) => h('option', { value: p.id }, `${p.title} · ${t(`state.${p.state}`)} · v${p.version}`))
      : [h('option', { value: '' }, t('st.noPapers'))]));
  };
  const loadRooms = async () => {
    if (!venue.value) return;
    const rooms = await call(`/api/office/venues/${enc(venue.value)}/rooms`);
    put(roomBox, ...(rooms.length ? rooms.map((r) => h('label', { class: 'kp-choice' },
      h('input', { type: 'checkbox', value: r.id, testid: `sit-room-${r.id}` }), ` ${r.id} ${r.name} (${t('r.count', { n: r.seats.length })})`))
      : [h('p', { class: 'muted' }, t('st.noRooms'), ' ', h('a', { href: `#rooms/${enc(venue.value)}` }, t('pl.rooms')))]));
  };
  subject.addEventListener('change', () => attempt(errors, loadPapers));
  venue.addEventListener('change', () => attempt(errors, loadRooms));
  await attempt(errors, async () => { await loadPapers(); await loadRooms(); });
  const create = button('sit-create', t('st.create'), () => attempt(errors, async () => {
    const body = {
      name: name.value, venueId: venue.value, subject: subject.value, paperId: paper.value,
      rooms: [...roomBox.querySelectorAll('input:checked')].map((box) => box.value),
      scheduledStart: new Date(`${date.value}T${time.value}`).toISOString(), durationMinutes: Number(duration.value),
      lateEntryMinutes: Number(late.value), instructions: instructions.value,
      faceChecks: { selfCheckIn: selfCheck.checked, rechecks: Number(rechecks.value) || 0 },
    };
    if (id.value.trim()) body.id = id.value.trim();
    if (occupation.value.trim()) body.occupation = occupation.value.trim();
    if (level.value.trim()) body.level = level.value.trim();
    const made = await call(`/api/office/plans/${enc(planId)}/sittings`, { method: 'POST', body });
    view.go(`sitting/${enc(made.sitting?.id ?? made.id)}`);
  }), 'btn-primary');
  return card(t('st.new'),
    h('div', { class: 'grid-3' }, field(t('st.id'), id), field(t('st.name'), name), field(t('st.venue'), venue), field(t('st.subject'), subject),
      field(t('st.occupation'), occupation), field(t('st.level'), level)),
    field(t('st.paper'), paper), h('fieldset', {}, h('legend', {}, t('st.rooms')), roomBox),
    h('div', { class: 'grid-3' }, field(t('st.date'), date), field(t('st.time'), time), field(t('st.duration'), duration), field(t('st.late'), late),
      field(t('st.rechecks'), rechecks)),
    h('label', {}, selfCheck, ` ${t('st.selfCheck')}`), field(t('st.instructions'), instructions),
    h('div', { class: 'actions' }, create), errors);
}

async function packagesCard(view, planId, planVenues, sittings) {
  const errors = errorSlot('pkg-error');
  const venue = select('pkg-venue', planVenues.map((v) => [v, v]), planVenues[0]);
  const result = h('div');
  const refresh = () => showPlan(view, planId);
  const issue = button('pkg-issue', t('pk.issue'), () => attempt(errors, async () => {
    const made = await call(`/api/office/plans/${enc(planId)}/packages`, { method: 'POST', body: { venueId: venue.value, seal: true } });
    put(result, h('div', { class: 'notice notice-ok', testid: 'pkg-result', dataset: { package: made.packageId } },
      h('p', {}, t('pk.issued', { id: '' }), h('code', { testid: 'pkg-result-id' }, made.packageId), ` · ${made.bytes ?? ''} B`),
      (made.seals || []).map((seal) => sealBox(seal, seal.sittingId, view, refresh))));
  }), 'btn-primary');
  const lists = [];
  for (const v of planVenues) {
    const packages = await call(`/api/office/venues/${enc(v)}/packages`).catch(() => []);
    lists.push(h('div', {}, h('h3', {}, v), table(`pkg-list-${v}`, ['', t('pk.state'), t('pl.created'), t('pk.bytes'), ''], packages.map((p) => {
      const state = packageState(p);
      return h('tr', { testid: `pkg-${p.packageId}`, dataset: { state } },
        h('td', { class: 'small' }, p.packageId), h('td', {}, h('span', { class: ['badge', state === 'imported' ? 'badge-ok' : state === 'refused' ? 'badge-danger' : 'badge-warn'] }, t(`pk.s.${state}`)),
          p.result && state === 'refused' ? h('div', { class: 'small' }, p.result) : null),
        h('td', { class: 'small' }, when(p.issuedAt)), h('td', {}, String(p.bytes ?? '')),
        h('td', {}, h('a', { class: 'btn btn-small', href: `/api/office/venues/${enc(v)}/packages/${enc(p.packageId)}/file`, download: '', testid: `pkg-download-${p.packageId}` }, t('pk.download'))));
    }), t('pk.none'))));
  }
  const seals = sittings.filter((d) => d.seal).map((d) => sealBox(d.seal, d.sitting.id, view, refresh));
  return card(t('pk.title'), h('div', { class: 'row' }, field(t('pk.venue'), venue), issue), errors, result, seals, lists);
}

export async function showSitting(view, sittingId) {
  const d = await call(`/api/office/sittings/${enc(sittingId)}`);
  const results = d.package ? await call(`/api/office/sittings/${enc(sittingId)}/results`) : null;
  const s = d.sitting;
  const rooms = s.rooms || [];
  const reload = () => showSitting(view, sittingId);

  // Candidates.
  const candidates = d.candidates || [];
  const paste = textarea('cand-paste', { rows: 6, value: candidates.map((c) => [c.admissionNumber, c.name, c.idNumber, c.organisation || ''].join(',')).join('\n') });
  const candErrors = errorSlot('cand-error');
  const saveCandidates = button('cand-save', t('c.save'), () => attempt(candErrors, async () => {
    const list = paste.value.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
      const [admissionNumber, name, idNumber, organisation] = line.split(/[,，\t]/).map((x) => x.trim());
      return { admissionNumber, name, idNumber, ...(organisation ? { organisation } : {}) };
    });
    await call(`/api/office/sittings/${enc(sittingId)}/candidates`, { method: 'PUT', body: list });
    await reload();
  }), 'btn-primary');
  // A registered photo per candidate (for the venue's face checks), sent as the file's bytes.
  const photoInput = (c) => {
    const file = h('input', { type: 'file', accept: 'image/jpeg,image/png', class: 'file-input', testid: `cand-photo-${c.admissionNumber}` });
    file.addEventListener('change', () => attempt(candErrors, async () => {
      if (!file.files.length) return;
      await upload(`/api/office/sittings/${enc(sittingId)}/candidates/${enc(c.admissionNumber)}/photo`, file.files[0], 'PUT', file.files[0].type || 'application/octet-stream');
      await reload();
    }));
    return h('label', { class: 'btn btn-small' }, c.hasPhoto ? t('c.photoReplace') : t('c.photoAdd'), file);
  };
  const candTable = table('cand-table', [t('c.admission'), t('c.name'), t('c.id'), t('c.org'), t('c.room'), t('c.seat'), t('c.photo')], candidates.map((c) => h('tr', {
    testid: `cand-${c.admissionNumber}`, dataset: { room: c.room || '', seat: c.seat || '', photo: String(Boolean(c.hasPhoto)) } },
  h('td', {}, c.admissionNumber), h('td', {}, c.name), h('td', { class: 'small' }, c.idNumber), h('td', {}, c.organisation || ''),
  h('td', {}, c.room || '—'), h('td', {}, c.seat || '—'),
  h('td', { class: 'nowrap' }, c.hasPhoto ? h('span', { class: 'badge badge-ok' }, t('c.hasPhoto')) : null, ' ', photoInput(c)))));
  (candTable.dataset.testid ? candTable : candTable.querySelector('[data-testid="cand-table"]')).dataset.count = String(candidates.length);

  // Seats.
  const seatErrors = errorSlot('seats-error');
  const allocate = button('seats-allocate', t('se.allocate'), () => attempt(seatErrors, async () => {
    await call(`/api/office/sittings/${enc(sittingId)}/seats`, { method: 'POST', body: {} });
    await reload();
  }), 'btn-primary');
  const venueRooms = await call(`/api/office/venues/${enc(s.venueId)}/rooms`).catch(() => []);
  const seatPlans = rooms.map((roomId) => {
    const room = venueRooms.find((r) => r.id === roomId) || { id: roomId, name: roomId, seats: [] };
    const bySeat = new Map(candidates.filter((c) => c.room === roomId).map((c) => [c.seat, c]));
    const seats = room.seats.length ? room.seats : [...bySeat.keys()];
    return h('div', { class: 'seatplan-room' }, h('h3', {}, `${room.id} ${room.name || ''}`),
      h('div', { class: 'seatplan', testid: `seatplan-${roomId}` }, seats.map((seat) => {
        const c = bySeat.get(seat);
        return h('div', { class: ['seat', c ? 'seat-taken' : null], testid: `seat-${roomId}-${seat}`, dataset: { candidate: c ? c.admissionNumber : '' } },
          h('span', { class: 'seat-label' }, seat), h('span', { class: 'seat-name' }, c ? c.name : t('se.empty')),
          c?.organisation ? h('span', { class: 'seat-org' }, c.organisation) : null);
      })));
  });

  // Staff.
  const staffRows = [];
  const staffList = h('div');
  let staffCount = 0;
  const addStaff = (p = { username: '', name: '', role: 'invigilator', rooms: [] }) => {
    const i = staffCount++;
    const row = {
      username: input(`staff-${i}-username`, { value: p.username, class: 'input input-narrow', placeholder: t('sf.username') }),
      name: input(`staff-${i}-name`, { value: p.name, placeholder: t('sf.name') }),
      role: select(`staff-${i}-role`, ROLES.map((r) => [r, t(`role.${r}`)]), p.role),
      rooms: rooms.map((r) => h('input', { type: 'checkbox', value: r, testid: `staff-${i}-room-${r}`, checked: (p.rooms || []).includes(r) })),
    };
    row.el = h('div', { class: 'row row-fields' }, row.username, row.name, row.role, row.rooms.map((box) => h('label', { class: 'kp-choice' }, box, ` ${box.value}`)),
      button(`staff-${i}-remove`, '×', () => { staffRows.splice(staffRows.indexOf(row), 1); row.el.remove(); }, 'btn-small'));
    staffRows.push(row);
    staffList.append(row.el);
  };
  (d.staff || []).forEach(addStaff);
  const staffErrors = errorSlot('staff-error');
  const passwords = h('div');
  const saveStaff = button('staff-save', t('sf.save'), () => attempt(staffErrors, async () => {
    const body = staffRows.map((r) => ({ username: r.username.value.trim(), name: r.name.value.trim(), role: r.role.value, rooms: r.rooms.filter((b) => b.checked).map((b) => b.value) }))
      .filter((p) => p.username);
    const saved = await call(`/api/office/sittings/${enc(sittingId)}/staff`, { method: 'PUT', body });
    await reload();
    if ((saved.passwords || []).length) {
      put(document.querySelector('[data-testid="staff-passwords-slot"]'), h('div', { class: 'notice notice-warn', testid: 'staff-passwords' }, h('p', {}, t('sf.passwords')),
        h('ul', {}, saved.passwords.map((p) => h('li', {}, `${p.username}: `, h('code', { testid: `staff-password-${p.username}` }, p.password))))));
    }
  }), 'btn-primary');
  passwords.dataset.testid = 'staff-passwords-slot';

  // Package and key.
  const state = packageState(d.package);
  const releaseErrors = errorSlot('release-error');
  const pkg = h('div', { testid: 'sitting-package', dataset: { state } },
    d.package ? h('p', {}, h('span', { class: ['badge', state === 'imported' ? 'badge-ok' : state === 'refused' ? 'badge-danger' : 'badge-warn'] }, t(`pk.s.${state}`)),
      ` ${d.package.packageId} · ${when(d.package.issuedAt)}`, d.package.result ? h('span', { class: 'small' }, ` · ${d.package.result}`) : null,
      ' ', h('a', { class: 'btn btn-small', href: `/api/office/venues/${enc(s.venueId)}/packages/${enc(d.package.packageId)}/file`, download: '' }, t('pk.download')))
      : h('p', { class: 'muted' }, t('pk.none'), ' ', h('a', { href: `#plan/${enc(s.planId)}` }, t('pk.issue'))));
  const seal = d.seal ? h('div', { testid: 'sitting-seal', dataset: { released: String(Boolean(d.seal.released)) } },
    h('p', {}, `${t('pk.seal')}: `, h('code', { class: 'seal-code', testid: 'seal-code' }, d.seal.code), ' · ', h('span', { testid: 'seal-release-at' }, `${t('pk.releaseAt')} ${when(d.seal.releaseAt)}`),
      d.seal.released ? h('span', { class: 'badge badge-ok' }, ` ${t('pk.released')}`) : null),
    d.seal.released ? null : button('sitting-release', t('pk.releaseNow'), async () => {
      if (!(await dialog({ title: t('pk.releaseAsk', { id: sittingId }) }))) return;
      await attempt(releaseErrors, async () => { await call(`/api/office/sittings/${enc(sittingId)}/release-key`, { method: 'POST', body: {} }); await reload(); });
    }), releaseErrors) : null;

  put(view.app, view.tabs(),
    card(null, h('h1', { testid: 'sitting-title' }, s.name),
      h('p', { class: 'muted small' }, `${s.id} · ${s.venueId} · ${subjectName(s.subject)} · ${when(s.scheduledStart)} · ${s.durationMinutes} min · ${rooms.join(', ')}`),
      h('p', { testid: 'sitting-paper' }, `${t('st.paper')}: `, d.paper ? h('a', { href: `#paper/${enc(d.paper.id)}` }, `${d.paper.title} (v${d.paper.version})`) : s.paperId),
      h('a', { class: 'btn btn-small', href: `#plan/${enc(s.planId)}` }, t('back')), pkg, seal),
    results ? resultsCard(results) : null,
    d.skillScores ? skillScoresCard(d) : null,
    card(t('c.title'), h('p', { class: 'muted small' }, t('c.paste')), paste, h('div', { class: 'actions' }, saveCandidates), candErrors,
      h('p', {}, t('c.count', { n: candidates.length })), candTable),
    card(t('se.plan'), h('div', { class: 'actions' }, allocate), seatErrors, seatPlans),
    card(t('sf.title'), staffList, h('div', { class: 'actions' }, button('staff-add', t('sf.add'), () => addStaff(), 'btn-small'), saveStaff), staffErrors, passwords));
}

const RESULT_BADGES = { submitted: 'badge-ok', scored: 'badge-ok', answering: 'badge-primary', scoring: 'badge-primary', absent: 'badge-danger' };

/** The sitting's results as the venue reported them: one row per candidate, with a CSV download. */
function resultsCard(r) {
  const skill = Boolean(r.tasks);
  const count = (status) => r.rows.filter((x) => x.status === status).length;
  const summary = skill
    ? t('rs.summarySkill', { n: r.rows.length, scored: count('scored'), scoring: count('scoring'), notScored: count('notScored'), absent: count('absent') })
    : t('rs.summary', { n: r.rows.length, submitted: count('submitted'), absent: count('absent'), none: count('noAttempt') });
  // Skill: a column per task; theory: a column per section of the paper.
  const columns = r.tasks || r.sections || [];
  const headers = [t('rs.candidate'), t('c.org'), t('rs.place'), t('rs.status'), ...columns.map((c) => `${c.title} (${points(c.points)})`),
    t('rs.score'), ...(skill ? [] : [t('rs.pending')]), skill ? t('rs.sheetAt') : t('rs.at')];
  const rows = r.rows.map((x) => h('tr', { testid: `result-${x.admissionNumber}`, dataset: { status: x.status, score: x.score ?? '' } },
    h('td', {}, `${x.name} `, h('span', { class: 'muted small' }, x.admissionNumber)), h('td', {}, x.organisation || ''),
    h('td', {}, [x.room, x.seat].filter(Boolean).join(' / ')),
    h('td', {}, h('span', { class: ['badge', RESULT_BADGES[x.status] || 'badge-warn'] }, t(`rs.s.${x.status}`))),
    (x.taskScores || x.sectionScores || []).map((score) => h('td', { class: 'num' }, points(score))),
    h('td', { class: 'num' }, `${points(x.score)} / ${points(r.maxPoints)}`),
    skill ? null : h('td', { class: 'num' }, x.pendingPoints ? points(x.pendingPoints) : ''),
    h('td', { class: 'small' }, when(x.submittedAt))));
  return card(t('rs.title'),
    h('div', { class: 'actions' }, h('span', { testid: 'results-summary' }, summary),
      h('a', { class: 'btn btn-small', href: `/api/office/sittings/${enc(r.sittingId)}/results?format=csv`, download: '', testid: 'results-csv' }, t('rs.csv'))),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data', testid: 'results', dataset: { count: rows.length } },
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))), h('tbody', {}, rows))));
}

/** A skill sitting's handed-in scoring sheets, per candidate and task, with their mean. */
function skillScoresCard(d) {
  const names = Object.fromEntries((d.candidates || []).map((c) => [c.admissionNumber, c.name]));
  const rows = d.skillScores.map((x) => h('tr', { testid: `skill-score-${x.admissionNumber}-${x.taskId}`, dataset: { mean: x.mean ?? '', sheets: x.sheets.length } },
    h('td', {}, `${names[x.admissionNumber] || ''} ${x.admissionNumber}`), h('td', { class: 'small' }, x.taskId),
    h('td', {}, x.sheets.map((sheet) => `${sheet.examiner} ${points(sheet.total)}`).join(' · ')),
    h('td', {}, `${points(x.mean)} / ${points(x.maxPoints)}`)));
  return card(t('sk.title'), rows.length
    ? h('div', { class: 'table-wrap' }, h('table', { class: 'data', testid: 'skill-scores', dataset: { count: rows.length } },
      h('thead', {}, h('tr', {}, h('th', {}, t('sk.candidate')), h('th', {}, t('sk.task')), h('th', {}, t('sk.sheets')), h('th', {}, t('sk.mean')))),
      h('tbody', {}, rows)))
    : h('p', { class: 'muted', testid: 'skill-scores', dataset: { count: 0 } }, t('sk.none')));
}
