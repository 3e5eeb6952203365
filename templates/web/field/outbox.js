// The outbox (docs/field-offline.md, "Sync"): each queued draft is sent exactly once, under its own id as the
// client_submission_id, through /form/api (POST findings → PUT each missing photo → GET status → "sent").
// Two tabs never send at once (navigator.locks "kiemtra-outbox"); the server's idempotency covers two devices.
import { del, get, nfc, photosOf, put, saveDraft, draftsOf } from "./store.js";

const BASE_DELAY_MS = 5000;
const MAX_DELAY_MS = 5 * 60 * 1000;
const SENDABLE = ["queued", "sending", "waiting_login"];
export const LOGIN_MESSAGE = "Phiên làm việc đã hết hạn. Hãy đăng nhập lại để gửi.";

let config = { csrf: () => "", refreshCsrf: async () => false, personCode: () => "", changed: () => {} };
let timer = null;
let running = null;

export function configure(options) {
  config = { ...config, ...options };
}

// The server holds the submission but not yet every photo after three rounds: sent again later, said as such.
const INCOMPLETE = "Máy chủ chưa nhận đủ ảnh của lần gửi này; ứng dụng sẽ gửi tiếp các ảnh còn thiếu.";

class Incomplete extends Error {}

class HttpFailure extends Error {
  constructor(status, body) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

async function call(method, url, body, contentType, retried = false) {
  const headers = { "X-Kiemtra-Csrf": config.csrf(), "Accept": "application/json" };
  if (contentType) headers["Content-Type"] = contentType;
  const response = await fetch(url, { method, headers, body, credentials: "same-origin", cache: "no-store" });
  let payload = null;
  try { payload = await response.json(); } catch (_) { payload = null; }
  if (response.status === 403 && !retried && await config.refreshCsrf()) {
    return call(method, url, body, contentType, true);  // a stale token (an old cached shell): once more, fresh
  }
  if (!response.ok) throw new HttpFailure(response.status, payload);
  return { status: response.status, body: payload };
}

export function findingsOf(draft) {
  const findings = [];
  for (const [code, a] of Object.entries(draft.answers || {})) {
    if (!a || !a.result) continue;
    const finding = { item_code: code, result: a.result, note: nfc(a.note || "") };
    if (a.result === "fail") {
      if (a.workers_affected !== null && a.workers_affected !== undefined) finding.workers_affected = a.workers_affected;
      if (a.devices_affected !== null && a.devices_affected !== undefined) finding.devices_affected = a.devices_affected;
    }
    findings.push(finding);
  }
  return findings;
}

export function attachmentOf(photo) {
  const out = { name: nfc(photo.name), sha256: photo.sha256, size: photo.size, content_type: photo.content_type,
                item_code: photo.item_code, captured_at: photo.captured_at };
  for (const key of ["latitude", "longitude", "accuracy_m"]) {
    if (photo[key] !== null && photo[key] !== undefined) out[key] = photo[key];
  }
  return out;
}

async function setState(draft, state, extra = {}) {
  Object.assign(draft, { state }, extra);
  await saveDraft(draft);
  config.changed(draft);
}

async function uploadMissing(draft, missing) {
  for (let i = 0; i < missing.length; i += 1) {
    await setState(draft, "sending", { progress: { sent: i, total: missing.length } });
    const photo = await get("photos", missing[i]);
    if (!photo || !photo.blob) {
      throw new HttpFailure(422, { detail: "Một ảnh đã khai báo không còn trên máy này; hãy chụp lại và gửi lại.",
                                   errors: [`attachments: ${missing[i]}`] });
    }
    await call("PUT", `/form/api/submissions/${encodeURIComponent(draft.id)}/attachments/${photo.sha256}`,
               photo.blob, photo.content_type);
    photo.uploaded = true;
    await put("photos", photo);
  }
}

async function sendOne(draft) {
  await setState(draft, "sending", { progress: null });
  const photos = await photosOf(draft.id);
  const body = { client_submission_id: draft.id, findings: findingsOf(draft),
                 attachments: photos.map(attachmentOf), reason: nfc(draft.reason || "") };
  const posted = await call("POST", `/form/api/inspections/${draft.inspection_id}/findings`, JSON.stringify(body),
                            "application/json");
  draft.receipt = posted.body;
  let missing = (posted.body && posted.body.missing_attachments) || [];
  for (let round = 0; round < 3; round += 1) {
    await uploadMissing(draft, missing);
    const status = await call("GET", `/form/api/submissions/${encodeURIComponent(draft.id)}`);
    if (status.body && status.body.complete) {
      for (const photo of photos) await del("photos", photo.sha256);  // the server has them: free the phone
      await setState(draft, "sent", { sent_at: new Date().toISOString(), last_error: null, progress: null,
                                      last_status: status.status, next_try_at: null,
                                      receipt: { ...draft.receipt, version: status.body.version, complete: true } });
      return;
    }
    missing = (status.body && status.body.missing) || [];
  }
  throw new Incomplete(INCOMPLETE);  // still missing files: try again later
}

function backoff(attempts) {
  const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(delay * (0.8 + Math.random() * 0.4));
}

async function failed(draft, error) {
  const status = error instanceof HttpFailure ? error.status : 0;
  const body = error instanceof HttpFailure ? error.body : {};
  const lastError = { detail: nfc(body.detail || ""), errors: (body.errors || []).map(nfc) };
  if (status === 401) {
    await setState(draft, "waiting_login", { last_status: 401, progress: null,
                                             last_error: { detail: lastError.detail || LOGIN_MESSAGE, errors: [] } });
  } else if (status >= 400 && status < 500 && ![408, 425, 429].includes(status)) {
    await setState(draft, "needs_fix", { last_status: status, last_error: lastError, progress: null, next_try_at: null });
  } else {  // no network, a 5xx or 503, a timeout, missing photos, the phone's storage: the same submission later
    const attempts = (draft.attempts || 0) + 1;
    await setState(draft, "queued", { attempts, last_status: status, progress: null,
                                      last_error: status ? lastError : localError(error),
                                      next_try_at: new Date(Date.now() + backoff(attempts)).toISOString() });
  }
}

// What went wrong on the phone itself (not the network): fetch reports a lost network as a TypeError; anything else
// (missing photos after three rounds, an IndexedDB error such as a full disk) is shown in its own words.
function localError(error) {
  if (error instanceof Incomplete) return { detail: INCOMPLETE, errors: [] };
  if (error instanceof TypeError) return null;
  return { detail: nfc(`Lỗi lưu trữ trên máy (${error && error.name ? error.name : "lỗi"}); ứng dụng sẽ thử lại. `
                       + "Nếu lỗi còn lặp lại, hãy giải phóng bộ nhớ điện thoại."), errors: [] };
}

async function runOnce(force) {
  const drafts = (await draftsOf(config.personCode())).filter((d) => SENDABLE.includes(d.state));
  const now = Date.now();
  for (const draft of drafts) {
    if (!navigator.onLine) break;
    const due = !draft.next_try_at || Date.parse(draft.next_try_at) <= now;
    if (!force && !due) continue;
    try {
      await sendOne(draft);
    } catch (error) {
      await failed(draft, error);
      if (error instanceof TypeError) break;  // the network is gone: the others wait too
    }
  }
}

async function schedule() {
  if (timer) clearTimeout(timer);
  timer = null;
  const waiting = (await draftsOf(config.personCode())).filter((d) => d.state === "queued" || d.state === "sending");
  if (!waiting.length) return;
  const next = Math.min(...waiting.map((d) => (d.next_try_at ? Date.parse(d.next_try_at) : Date.now() + BASE_DELAY_MS)));
  timer = setTimeout(() => { syncNow(false); }, Math.max(1000, next - Date.now()));
}

// Sends what is due (everything sendable when force). Resolves when this round is over.
export function syncNow(force = true) {
  if (running) return running.then(() => (force ? syncNow(true) : undefined));
  const work = async () => {
    try {
      if (navigator.locks && navigator.locks.request) {
        await navigator.locks.request("kiemtra-outbox", () => runOnce(force));
      } else {
        await runOnce(force);
      }
    } finally {
      await schedule();
      config.changed(null);
    }
  };
  running = work().finally(() => { running = null; });
  return running;
}

export function queue(draft) {
  return setState(draft, "queued", { attempts: 0, next_try_at: null, last_error: null, last_status: null });
}
