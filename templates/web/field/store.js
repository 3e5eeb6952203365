// The field app's local data (docs/field-offline.md): IndexedDB "kiemtra-field", version 1.
//   visits  key "current"         the last /form/api/visits answer
//   drafts  keyPath id            one per client_submission_id (crypto.randomUUID())
//   photos  keyPath sha256        the resized photo's Blob, index draft_id
const DB_NAME = "kiemtra-field";
const DB_VERSION = 1;
let opened = null;

export function nfc(text) {
  return typeof text === "string" ? text.normalize("NFC") : text;
}

export function openDb() {
  if (opened) return opened;
  opened = new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains("visits")) db.createObjectStore("visits");
      if (!db.objectStoreNames.contains("drafts")) db.createObjectStore("drafts", { keyPath: "id" });
      if (!db.objectStoreNames.contains("photos")) {
        db.createObjectStore("photos", { keyPath: "sha256" }).createIndex("draft_id", "draft_id");
      }
    };
    request.onsuccess = () => {
      const db = request.result;
      db.onversionchange = () => { db.close(); opened = null; };
      resolve(db);
    };
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error("IndexedDB bị chặn bởi một thẻ khác"));
  });
  return opened;
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(storeName, mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(storeName, mode);
    let result;
    Promise.resolve(work(tx.objectStore(storeName))).then((value) => { result = value; }, reject);
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("giao dịch IndexedDB bị hủy"));
  });
}

export const get = (store, key) => run(store, "readonly", (s) => done(s.get(key)));
export const all = (store) => run(store, "readonly", (s) => done(s.getAll()));
export const del = (store, key) => run(store, "readwrite", (s) => done(s.delete(key)));
export const clear = (store) => run(store, "readwrite", (s) => done(s.clear()));
export const byIndex = (store, index, value) =>
  run(store, "readonly", (s) => done(s.index(index).getAll(value)));

export function put(store, value, key) {
  return run(store, "readwrite", (s) => done(key === undefined ? s.put(value) : s.put(value, key)));
}

// --- visits

export const saveVisits = (answer) => put("visits", answer, "current");
export const loadVisits = () => get("visits", "current");

// --- drafts

export function newDraft(visit, personCode) {
  const now = new Date().toISOString();
  const latest = visit.latest;
  const answers = {};
  for (const f of (latest && latest.findings) || []) {
    answers[f.item_code] = {
      result: f.result || "", note: nfc(f.note || ""),
      workers_affected: f.workers_affected ?? null, devices_affected: f.devices_affected ?? null,
    };
  }
  return {
    id: crypto.randomUUID(), inspection_id: visit.id, person_code: personCode, establishment: nfc(visit.establishment || ""),
    base_version: latest ? latest.version : null, answers, reason: "", state: "editing",
    created_at: now, updated_at: now, last_error: null, last_status: null, attempts: 0,
    next_try_at: null, sent_at: null, receipt: null, progress: null,
  };
}

export async function saveDraft(draft) {
  draft.updated_at = new Date().toISOString();
  await put("drafts", draft);
  return draft;
}

export async function draftsOf(personCode) {
  const drafts = await all("drafts");
  return drafts.filter((d) => !personCode || d.person_code === personCode)
    .sort((a, b) => a.created_at.localeCompare(b.created_at));
}

// --- photos

export const photosOf = (draftId) => byIndex("photos", "draft_id", draftId);

export async function clearAll() {
  for (const store of ["visits", "drafts", "photos"]) await clear(store);
}
