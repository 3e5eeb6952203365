// The inspectors' offline field app (docs/field-offline.md): the day list, the checklist with photos, the outbox.
// Everything the inspector enters is saved in IndexedDB as it is made; "Gửi kết quả" queues the draft and the
// outbox (outbox.js) sends it when it can. window.kiemtraField = {ready, syncNow, state} is for the tests.
import * as store from "./store.js";
import * as outbox from "./outbox.js";
import { addPhoto, currentPosition, shortTime } from "./photos.js";

const nfc = store.nfc;
const $ = (selector, root = document) => root.querySelector(selector);
const meta = (name) => (document.querySelector(`meta[name="${name}"]`) || {}).content || "";
const RESULTS = [["pass", "Đạt"], ["fail", "Không đạt"], ["not_applicable", "Không áp dụng"]];
const STATE_VI = { editing: "Đang nhập", queued: "Chờ gửi", sending: "Đang gửi", sent: "Đã gửi",
                   needs_fix: "Cần sửa", waiting_login: "Chờ đăng nhập lại", replaced: "Đã thay bằng bản sửa" };
const app = { data: null, fresh: false, csrf: meta("kiemtra-csrf"), person: meta("kiemtra-person"),
              persisted: null, draft: null, visit: null, saveTimer: null, photoUrls: [] };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-") || key.startsWith("aria-") || ["for", "role", "href", "type", "name",
      "accept", "capture", "min", "inputmode", "id", "src", "alt", "rows", "autocomplete"].includes(key)) {
      node.setAttribute(key, value === true ? "" : String(value));
    } else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

// Replaces root's children only when they would change, so an element a test (or the focus) holds survives an
// identical redraw.
function swap(root, children) {
  const next = document.createElement(root.tagName);
  next.append(...children);
  if (next.innerHTML !== root.innerHTML) root.replaceChildren(...next.childNodes);
}

function notice(message, kind = "info") {
  const box = $("#notice");
  box.replaceChildren(...(message ? [el("p", { class: `notice ${kind}` }, message)] : []));
}

function dayVi(iso) {
  const [y, m, d] = (iso || "").split("-");
  return d ? `${d}/${m}/${y}` : "";
}

// --------------------------------------------------------------------------- status bar

function showNetwork() {
  const node = $("#network-status");
  node.dataset.online = String(navigator.onLine);
  node.textContent = navigator.onLine ? "Đang trực tuyến" : "Đang ngoại tuyến";
}

async function askPersistence() {
  const node = $("#storage-status");
  let persisted = false;
  try {
    if (navigator.storage && navigator.storage.persist) {
      persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
    }
  } catch (_) { persisted = false; }
  app.persisted = persisted;
  node.dataset.persisted = String(persisted);
  node.textContent = persisted ? "Dữ liệu được giữ lâu dài trên máy"
    : "Trình duyệt có thể xóa dữ liệu khi máy đầy bộ nhớ: hãy gửi kết quả sớm";
}

// --------------------------------------------------------------------------- visits

async function refreshVisits() {
  if (!navigator.onLine) return false;
  try {
    const response = await fetch("/form/api/visits", { headers: { "Accept": "application/json" },
                                                       credentials: "same-origin", cache: "no-store" });
    if (response.status === 401) {
      notice(el("span", {}, "Phiên đăng nhập đã hết hạn. ",
                el("a", { href: "/form/login", class: "login-link" }, "Đăng nhập lại")), "warn");
      return false;
    }
    if (!response.ok) return false;
    const answer = await response.json();
    await store.saveVisits(answer);
    app.data = answer;
    app.fresh = true;
    app.csrf = answer.csrf || app.csrf;
    app.person = (answer.person && answer.person.code) || app.person;
    return true;
  } catch (_) {
    return false;
  }
}

const visitById = (id) => ((app.data && app.data.visits) || []).find((v) => String(v.id) === String(id));

async function latestDraftOf(inspectionId) {
  const drafts = (await store.draftsOf(app.person)).filter((d) => String(d.inspection_id) === String(inspectionId)
                                                              && d.state !== "replaced");
  return drafts.length ? drafts[drafts.length - 1] : null;
}

async function visitItem(visit) {
  const draft = await latestDraftOf(visit.id);
  const returned = visit.returned;
  return el("li", { class: "card visit", "data-inspection-id": visit.id },
    el("a", { class: "open-visit", href: `#/visit/${visit.id}` }, el("strong", {}, visit.establishment)),
    el("div", {}, el("span", { class: "visit-time" }, visit.visit_time || "Chưa hẹn giờ"), " · ",
       el("span", { class: "visit-date" }, dayVi(visit.scheduled_on))),
    el("div", { class: "visit-address" }, visit.address || ""),
    el("div", { class: "muted" }, `Cuộc kiểm tra số ${visit.id} · ${visit.campaign_code} · ${visit.team || ""}`),
    el("span", { class: "status visit-status" }, visit.status_vi || visit.status),
    draft ? el("span", { class: `status visit-local state-${draft.state}` }, `Trên máy: ${STATE_VI[draft.state]}`) : null,
    returned ? el("p", { class: "returned-comment" }, `Bị trả lại: ${returned.comment}`,
                  el("span", { class: "muted" }, ` — ${returned.by || ""}, ${returned.at_vi || ""}`)) : null);
}

async function renderList() {
  const root = $("#visits");
  const visits = (app.data && app.data.visits) || [];
  const info = $("#day-info");
  if (!app.data) {
    info.textContent = "Chưa có danh sách trên máy: hãy mở ứng dụng một lần khi có mạng.";
  } else {
    info.textContent = `Hôm nay ${dayVi(app.data.today)} · ${app.fresh ? "vừa cập nhật từ máy chủ"
      : "bản lưu trên máy"} lúc ${shortTime(app.data.generated_at)}`;
  }
  const earlier = el("section", { id: "earlier", hidden: !visits.some((v) => v.earlier_unfinished) },
    el("h2", {}, "Cuộc kiểm tra trước đây chưa xong"), el("ul", { class: "plain" }));
  for (const v of visits.filter((x) => x.earlier_unfinished)) $("ul", earlier).append(await visitItem(v));
  const days = new Map();
  for (const v of visits.filter((x) => !x.earlier_unfinished)) {
    if (!days.has(v.scheduled_on)) days.set(v.scheduled_on, []);
    days.get(v.scheduled_on).push(v);
  }
  const sections = [];
  for (const [day, list] of days) {
    const title = day === (app.data && app.data.today) ? `Hôm nay, ${dayVi(day)}` : `Ngày ${dayVi(day)}`;
    const ul = el("ul", { class: "plain" });
    for (const v of list) ul.append(await visitItem(v));
    sections.push(el("section", { class: "day", "data-day": day }, el("h2", {}, title), ul));
  }
  if (app.data && !visits.length) sections.push(el("p", { class: "card", id: "no-visits" }, "Không có cuộc kiểm tra nào."));
  swap(root, [earlier, ...sections]);
}

// --------------------------------------------------------------------------- the checklist

function answerOf(code) {
  const answers = app.draft.answers;
  if (!answers[code]) answers[code] = { result: "", note: "", workers_affected: null, devices_affected: null };
  return answers[code];
}

function showProgress() {
  const items = app.visit.checklist || [];
  const answered = items.filter((i) => app.draft && (app.draft.answers[i.code] || {}).result).length;
  const node = $("#progress");
  if (!node) return;
  node.dataset.answered = String(answered);
  node.dataset.total = String(items.length);
  node.textContent = `${answered}/${items.length} mục đã trả lời`;
}

async function flushSave() {
  clearTimeout(app.saveTimer);
  app.saveTimer = null;
  if (app.draft && ["editing", "needs_fix"].includes(app.draft.state)) await store.saveDraft(app.draft);
}

function scheduleSave() {
  clearTimeout(app.saveTimer);
  app.saveTimer = setTimeout(flushSave, 250);
}

function numberOrNull(value) {
  const text = String(value || "").trim();
  if (!text) return null;
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 ? n : null;
}

function onEdit(event) {
  const target = event.target;
  if (!app.draft || !target.closest) return;
  if (target.id === "reason") {
    app.draft.reason = nfc(target.value);
    scheduleSave();
    return;
  }
  const item = target.closest("fieldset.item");
  if (!item) return;
  const answer = answerOf(item.dataset.itemCode);
  if (target.type === "radio") answer.result = target.value;
  else if (target.classList.contains("note")) answer.note = nfc(target.value);
  else if (target.classList.contains("workers")) answer.workers_affected = numberOrNull(target.value);
  else if (target.classList.contains("devices")) answer.devices_affected = numberOrNull(target.value);
  else return;
  item.classList.toggle("failed", answer.result === "fail");
  showProgress();
  if (target.type === "radio") flushSave(); else scheduleSave();
}

function photoItem(photo, editable) {
  const url = photo.blob ? URL.createObjectURL(photo.blob) : null;
  if (url) app.photoUrls.push(url);
  return el("li", { class: "photo", "data-sha256": photo.sha256 },
    url ? el("img", { src: url, alt: `Ảnh mục ${photo.item_code}` }) : null,
    el("span", { class: "captured-at" }, `Chụp lúc ${shortTime(photo.captured_at)}`),
    photo.latitude !== null && photo.latitude !== undefined
      ? el("span", { class: "photo-place muted" }, `Vị trí ±${Math.round(photo.accuracy_m || 0)} m`) : null,
    editable ? el("button", { type: "button", class: "remove-photo", "data-sha256": photo.sha256 }, "Xóa ảnh") : null);
}

async function onPhotos(input) {
  const item = input.closest("fieldset.item");
  const code = item.dataset.itemCode;
  const list = $(".photos", item);
  const errors = $(".item-error", item);
  errors.textContent = "Đang xử lý ảnh…";
  const position = $("#geo") && $("#geo").checked ? await currentPosition() : null;
  const problems = [];
  for (const file of Array.from(input.files || [])) {
    try {
      const photo = await addPhoto(file, { draftId: app.draft.id, itemCode: code,
                                           rules: app.data && app.data.photo, position });
      list.append(photoItem(photo, true));
    } catch (error) {
      problems.push(error.message);
    }
  }
  if ($("#geo") && $("#geo").checked && !position) problems.push("Không lấy được vị trí; ảnh được lưu không kèm vị trí.");
  errors.textContent = problems.join(" ");
  input.value = "";
  await store.saveDraft(app.draft);
}

async function onRemovePhoto(button) {
  await store.del("photos", button.dataset.sha256);
  button.closest("li.photo").remove();
}

function itemFieldset(item, photos, editable) {
  const code = item.code;
  const answer = (app.draft && app.draft.answers[code]) || {};
  const id = (part) => `${part}-${code}`;
  const choices = RESULTS.map(([value, label]) => el("label", { class: `choice ${value}`, for: `result-${code}-${value}` },
    el("input", { type: "radio", name: `result-${code}`, value, id: `result-${code}-${value}`,
                  checked: answer.result === value }), label));
  return el("fieldset", { class: `item${answer.result === "fail" ? " failed" : ""}`, "data-item-code": code, id: id("item") },
    el("legend", {}, el("span", { class: "code" }, code), " ", item.text),
    el("div", { class: "choices" }, choices),
    el("label", { class: "block", for: id("note") }, "Ghi chú"),
    el("textarea", { class: "note", id: id("note"), rows: 2, value: answer.note || "" }),
    el("div", { class: "counts" },
      el("label", { class: "block", for: id("workers") }, "Số người lao động bị ảnh hưởng (khi không đạt)"),
      el("input", { class: "workers", id: id("workers"), type: "number", min: 0, inputmode: "numeric",
                    value: answer.workers_affected ?? "" }),
      el("label", { class: "block", for: id("devices") }, "Số thiết bị bị ảnh hưởng (khi không đạt)"),
      el("input", { class: "devices", id: id("devices"), type: "number", min: 0, inputmode: "numeric",
                    value: answer.devices_affected ?? "" })),
    el("label", { class: "block photo-label", for: id("photo") }, "Chụp hoặc chọn ảnh cho mục này"),
    el("input", { class: "photo-input", id: id("photo"), type: "file", accept: "image/*", capture: "environment",
                  multiple: true }),
    el("ul", { class: "plain photos" }, photos.filter((p) => p.item_code === code).map((p) => photoItem(p, editable))),
    el("p", { class: "item-error", role: "status" }));
}

async function draftForVisit(visit) {
  let draft = await latestDraftOf(visit.id);
  if (!draft && visit.can_submit) {
    draft = store.newDraft(visit, app.person);
    await store.saveDraft(draft);
  }
  return draft;
}

function visitHeader(visit, draft) {
  const returned = visit.returned;
  const parts = [
    el("p", {}, el("a", { href: "#/", id: "back" }, "← Danh sách cuộc kiểm tra")),
    el("h2", { id: "visit-name" }, visit.establishment),
    el("p", { class: "muted" }, `${visit.visit_time || "Chưa hẹn giờ"} · ${dayVi(visit.scheduled_on)} · ${visit.address || ""}`),
    el("p", {}, el("span", { class: "status" }, visit.status_vi || visit.status)),
  ];
  if (returned) {
    parts.push(el("div", { class: "notice", id: "returned-comment" },
      el("strong", {}, `Kết quả phiên bản ${returned.version} bị trả lại: `), returned.comment,
      el("span", { class: "muted" }, ` — ${returned.by || ""}, ${returned.at_vi || ""}`)));
  }
  if (draft && draft.state === "needs_fix" && draft.last_error) {
    parts.push(el("div", { class: "errors", id: "fix-errors", role: "alert" }, draft.last_error.detail,
      el("ul", {}, (draft.last_error.errors || []).map((e) => el("li", {}, e)))));
  }
  return parts;
}

function lockedMessage(visit, draft) {
  if (!draft) return `Không gửi được kết quả cho cuộc kiểm tra này (${visit.status_vi || visit.status}).`;
  if (draft.state === "sent") {
    return `Đã gửi — phiên bản ${(draft.receipt && draft.receipt.version) || "?"}.`;
  }
  return `Kết quả đang ở hàng chờ gửi (${STATE_VI[draft.state]}); khi gửi xong có thể sửa lại.`;
}

async function renderVisit(id) {
  const view = $("#visit-view");
  const visit = visitById(id);
  app.visit = visit;
  if (!visit) {
    app.draft = null;
    view.replaceChildren(el("p", {}, el("a", { href: "#/" }, "← Danh sách cuộc kiểm tra")),
      el("p", { class: "card" }, "Không tìm thấy cuộc kiểm tra này trong danh sách trên máy."));
    return;
  }
  const draft = await draftForVisit(visit);
  const editable = !!draft && ["editing", "needs_fix"].includes(draft.state);
  app.draft = editable ? draft : null;
  const shown = draft || { answers: {} };
  const photos = draft ? await store.photosOf(draft.id) : [];
  const saved = app.draft;
  app.draft = shown;  // itemFieldset reads the answers shown
  const groups = new Map();
  for (const item of visit.checklist || []) {
    if (!groups.has(item.group_title)) groups.set(item.group_title, []);
    groups.get(item.group_title).push(itemFieldset(item, photos, editable));
  }
  app.draft = saved;
  const needReason = editable && draft.base_version !== null && draft.base_version !== undefined;
  const form = el("form", { id: "checklist", "data-inspection-id": visit.id, "data-draft-id": draft ? draft.id : null,
                            noValidate: true },
    el("p", { id: "progress", role: "status" }),
    editable ? el("button", { type: "button", id: "all-pass", class: "btn secondary" }, "Tất cả các mục đạt") : null,
    editable ? el("label", { class: "check", for: "geo" }, el("input", { type: "checkbox", id: "geo" }), "Ghi vị trí khi chụp ảnh") : null,
    el("fieldset", { class: "items", disabled: !editable },
      [...groups].map(([title, nodes]) => el("section", { class: "group" }, el("h3", {}, title), nodes))),
    needReason ? el("label", { class: "block", for: "reason" }, "Lý do sửa kết quả (bắt buộc)") : null,
    needReason ? el("textarea", { id: "reason", rows: 3, required: true, value: draft.reason || "" }) : null,
    el("div", { id: "send-errors", role: "alert" }),
    editable ? el("button", { type: "submit", id: "send", class: "btn" }, "Gửi kết quả")
      : el("p", { class: "card", id: "locked" }, lockedMessage(visit, draft)),
    draft && draft.state === "sent" && visit.can_submit
      ? el("button", { type: "button", id: "edit-again", class: "btn secondary" }, "Sửa kết quả đã gửi") : null);
  view.replaceChildren(...visitHeader(visit, draft), form);
  if (editable && draft.state === "needs_fix") placeErrors(draft);
  showProgress();
}

// The server's "findings[i].field: message" lines under the item they name (findings[i]: the i-th item sent).
function placeErrors(draft) {
  const sent = outbox.findingsOf(draft).map((f) => f.item_code);
  for (const line of (draft.last_error && draft.last_error.errors) || []) {
    const match = line.match(/^findings\[(\d+)\](?:\.\w+)?: (.*)$/s);
    const code = match ? sent[Number(match[1])] : null;
    const box = code ? document.querySelector(`fieldset.item[data-item-code="${code}"] .item-error`) : null;
    if (box) box.textContent = `${box.textContent} ${match[2]}`.trim();
  }
}

function allPass() {
  const open = (app.visit.checklist || []).filter((i) => !(app.draft.answers[i.code] || {}).result);
  if (!open.length) { notice("Mọi mục đều đã có câu trả lời."); return; }
  if (!window.confirm(`Đánh dấu "Đạt" cho ${open.length} mục chưa trả lời? Các mục đã trả lời giữ nguyên.`)) return;
  for (const item of open) {
    answerOf(item.code).result = "pass";
    const radio = document.getElementById(`result-${item.code}-pass`);
    if (radio) radio.checked = true;
  }
  showProgress();
  flushSave();
}

function problemsOf(draft, visit) {
  const problems = [];
  const open = (visit.checklist || []).filter((i) => !(draft.answers[i.code] || {}).result).map((i) => i.code);
  if (open.length) problems.push(`Chưa chọn kết quả cho ${open.length} mục: ${open.join(", ")}.`);
  if (draft.base_version !== null && draft.base_version !== undefined && !nfc(draft.reason || "").trim()) {
    problems.push("Hãy ghi lý do sửa kết quả.");
  }
  return problems;
}

async function send(event) {
  event.preventDefault();
  const draft = app.draft;
  if (!draft) return;
  const problems = problemsOf(draft, app.visit);
  $("#send-errors").replaceChildren(...(problems.length
    ? [el("div", { class: "errors" }, el("ul", {}, problems.map((p) => el("li", {}, p))))] : []));
  if (problems.length) { $("#send-errors").scrollIntoView({ block: "center" }); return; }
  await flushSave();
  let queued = draft;
  if (draft.state === "needs_fix" && (draft.receipt || draft.last_status === 409)) {
    queued = await fork(draft);  // the server holds the old id's submission: the fix is a new one
  }
  app.draft = null;
  await outbox.queue(queued);
  notice("Đã đưa kết quả vào hàng chờ gửi; ứng dụng sẽ gửi khi có mạng.");
  location.hash = "#/";
  outbox.syncNow();
}

async function fork(old) {
  const copy = { ...store.newDraft(app.visit, app.person), answers: old.answers, reason: old.reason,
                 base_version: old.base_version };
  await store.saveDraft(copy);
  for (const photo of await store.photosOf(old.id)) await store.put("photos", { ...photo, draft_id: copy.id, uploaded: false });
  await store.saveDraft(Object.assign(old, { state: "replaced", replaced_by: copy.id }));
  return copy;
}

async function editAgain() {
  const sent = await latestDraftOf(app.visit.id);
  const fresh = store.newDraft(app.visit, app.person);
  if (sent) {
    fresh.answers = JSON.parse(JSON.stringify(sent.answers));
    fresh.base_version = (sent.receipt && sent.receipt.version) || fresh.base_version;
  }
  await store.saveDraft(fresh);
  await renderVisit(app.visit.id);
}

// --------------------------------------------------------------------------- the outbox

const clock = (iso) => new Date(iso).toLocaleTimeString("vi-VN", { hour12: false });

function outboxMessage(draft) {
  const error = draft.last_error || {};
  switch (draft.state) {
    case "queued":
      if (!navigator.onLine) return "Đang chờ mạng";  // the "online" event sends it
      if (draft.last_status === 0 && draft.attempts && error.detail) return `${error.detail} (thử lại lúc ${clock(draft.next_try_at)})`;
      if (draft.last_status === 0 && draft.attempts) return `Đang chờ mạng — thử lại lúc ${clock(draft.next_try_at)}`;
      if (draft.last_status >= 500) return `Máy chủ chưa nhận (lỗi ${draft.last_status}) — thử lại lúc ${clock(draft.next_try_at)}`;
      return "Đang chờ gửi";
    case "sending":
      return draft.progress ? `Đang gửi ảnh ${draft.progress.sent + 1}/${draft.progress.total}` : "Đang gửi kết quả…";
    case "sent": return `Đã gửi — phiên bản ${(draft.receipt && draft.receipt.version) || "?"}`;
    case "needs_fix": return error.detail || "Máy chủ không nhận kết quả; hãy sửa rồi gửi lại.";
    case "waiting_login": return error.detail || outbox.LOGIN_MESSAGE;
    case "replaced": return "Đã thay bằng bản sửa gửi lại";
    default: return STATE_VI[draft.state] || draft.state;
  }
}

async function renderOutbox() {
  const drafts = (await store.draftsOf(app.person)).filter((d) => d.state !== "editing").reverse();
  const items = drafts.map((d) => {
    const visit = visitById(d.inspection_id);
    const error = d.last_error || {};
    return el("li", { class: `card outbox-item state-${d.state}`, "data-draft-id": d.id, "data-state": d.state },
      el("strong", {}, d.establishment || (visit ? visit.establishment : `Cuộc kiểm tra số ${d.inspection_id}`)),
      el("div", { class: "outbox-message" }, outboxMessage(d)),
      d.state === "needs_fix" && (error.errors || []).length
        ? el("ul", { class: "outbox-errors" }, error.errors.map((e) => el("li", {}, e))) : null,
      d.state === "needs_fix" ? el("a", { href: `#/visit/${d.inspection_id}`, class: "fix-link" }, "Mở để sửa") : null,
      d.state === "waiting_login" ? el("a", { href: "/form/login", class: "login-link" }, "Đăng nhập lại") : null);
  });
  swap($("#outbox"), items.length ? items : [el("li", { class: "muted", id: "outbox-empty" }, "Chưa có kết quả nào chờ gửi.")]);
}

let renderQueued = false;
const tabs = "BroadcastChannel" in window ? new BroadcastChannel("kiemtra-field") : null;
if (tabs) tabs.onmessage = () => redraw();  // another tab of this browser changed the drafts

function changed(draft) {  // the outbox moved a draft: redraw the outbox (and the list), and tell the other tabs
  if (draft && draft.state === "sent") refreshVisits().then(() => changed(null));  // the server's new status
  if (tabs) tabs.postMessage("changed");
  redraw();
}

function redraw() {  // at most once a tick
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(async () => {
    renderQueued = false;
    await renderOutbox();
    if (!location.hash.startsWith("#/visit/")) await renderList();
  });
}

// --------------------------------------------------------------------------- logout

async function unsentDrafts() {
  const drafts = await store.draftsOf(app.person);
  const unsent = [];
  for (const d of drafts) {
    if (["queued", "sending", "needs_fix", "waiting_login"].includes(d.state)) unsent.push(d);
    else if (d.state === "editing" && (Object.values(d.answers).some((a) => a.result || a.note)
             || (await store.photosOf(d.id)).length)) unsent.push(d);
  }
  return unsent;
}

async function logout() {
  await flushSave();
  if (navigator.onLine && (await unsentDrafts()).some((d) => d.state !== "editing")) await outbox.syncNow();
  const unsent = await unsentDrafts();
  if (unsent.length && !window.confirm(`Còn ${unsent.length} kết quả chưa gửi. Nếu đăng xuất, chúng sẽ bị xóa khỏi máy này. Vẫn đăng xuất?`)) {
    return false;
  }
  let csrf = "";
  try {
    const page = await fetch("/form/app/", { credentials: "same-origin", cache: "no-store" });
    const html = page.ok && !page.redirected ? await page.text() : "";
    const doc = new DOMParser().parseFromString(html, "text/html");
    csrf = (doc.querySelector('meta[name="kiemtra-logout-csrf"]') || {}).content || "";
  } catch (_) {
    notice("Cần có mạng để đăng xuất; dữ liệu trên máy vẫn được giữ.", "warn");
    return false;
  }
  await store.clearAll();
  if (window.caches) for (const name of await caches.keys()) if (name.startsWith("kiemtra-field-")) await caches.delete(name);
  if (!csrf) { location.href = "/form/login"; return true; }  // the session had already ended
  const form = el("form", { method: "post", action: "/form/logout", hidden: true },
    el("input", { type: "hidden", name: "csrf", value: csrf }));
  document.body.append(form);
  form.submit();
  return true;
}

// --------------------------------------------------------------------------- start

async function route() {
  await flushSave();
  for (const url of app.photoUrls.splice(0)) URL.revokeObjectURL(url);
  const match = location.hash.match(/^#\/visit\/(\d+)$/);
  $("#list-view").hidden = !!match;
  $("#visit-view").hidden = !match;
  $("#title").textContent = match ? "Bảng kiểm tại hiện trường" : "Lịch kiểm tra";
  if (match) await renderVisit(match[1]);
  else { app.draft = null; app.visit = null; await renderList(); }
  window.scrollTo(0, 0);
}

function wire() {
  window.addEventListener("online", () => { showNetwork(); refreshVisits().then(changed); outbox.syncNow(); });
  window.addEventListener("offline", () => { showNetwork(); changed(); });
  window.addEventListener("hashchange", route);
  window.addEventListener("pagehide", flushSave);
  document.addEventListener("visibilitychange", () => { if (document.hidden) flushSave(); });
  const view = $("#visit-view");
  view.addEventListener("input", onEdit);
  view.addEventListener("change", (event) => {
    if (event.target.classList.contains("photo-input")) onPhotos(event.target); else onEdit(event);
  });
  view.addEventListener("submit", send);
  view.addEventListener("click", (event) => {
    const target = event.target;
    if (target.id === "all-pass") allPass();
    else if (target.id === "edit-again") editAgain();
    else if (target.classList.contains("remove-photo")) onRemovePhoto(target);
  });
  $("#sync-now").addEventListener("click", () => outbox.syncNow(true));
  $("#logout").addEventListener("click", logout);
}

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return false;
  try {
    await navigator.serviceWorker.register("/form/sw.js", { scope: "/form/" });
    const timeout = new Promise((resolve) => setTimeout(() => resolve(null), 10000));
    return !!(await Promise.race([navigator.serviceWorker.ready, timeout]));
  } catch (_) {
    return false;
  }
}

async function start() {
  showNetwork();
  wire();
  outbox.configure({ csrf: () => app.csrf, personCode: () => app.person, changed,
                     refreshCsrf: async () => (await refreshVisits()) && !!app.csrf });
  const persistence = askPersistence();
  const cached = await store.loadVisits();
  if (cached && (!cached.person || cached.person.code === app.person)) app.data = cached;
  await refreshVisits();
  await route();
  await renderOutbox();
  await Promise.all([persistence, registerWorker()]);
  outbox.syncNow(false);
  return true;
}

async function state() {
  const drafts = await store.draftsOf(app.person);
  const photos = (await store.all("photos")).map(({ blob, ...rest }) => ({ ...rest, has_blob: !!blob }));
  return { online: navigator.onLine, persisted: app.persisted, person: app.person, fresh: app.fresh,
           controlled: !!(navigator.serviceWorker && navigator.serviceWorker.controller),
           visits: app.data, drafts, photos };
}

window.kiemtraField = { ready: start(), syncNow: () => outbox.syncNow(true), state };
