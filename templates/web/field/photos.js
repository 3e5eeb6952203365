// Photos per checklist item: resized on the phone (canvas) to photo.max_edge as JPEG at photo.jpeg_quality,
// hashed (SHA-256 of the resized bytes, which are what is uploaded), kept as a Blob in IndexedDB "photos".
import { get, nfc, put } from "./store.js";

const DEFAULTS = { max_edge: 1600, jpeg_quality: 0.8, max_bytes: 10 * 1024 * 1024, types: ["image/jpeg", "image/png"] };

export function isoNowWithOffset(date = new Date()) {
  const pad = (n, width = 2) => String(Math.abs(Math.trunc(n))).padStart(width, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:` +
    `${pad(date.getMinutes())}:${pad(date.getSeconds())}${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

export async function sha256Hex(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function decode(file) {
  if (typeof createImageBitmap === "function") {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (_) { /* fall back to an <img> below */ }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function canvasBlob(canvas, type, quality) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type, quality });
  return new Promise((resolve, reject) => canvas.toBlob(
    (b) => (b ? resolve(b) : reject(new Error("canvas.toBlob"))), type, quality));
}

// The photo as JPEG, its longer edge at most max_edge (never enlarged).
export async function resize(file, rules) {
  const image = await decode(file);
  const width = image.width || image.naturalWidth;
  const height = image.height || image.naturalHeight;
  const scale = Math.min(1, rules.max_edge / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = typeof OffscreenCanvas === "function" ? new OffscreenCanvas(w, h)
    : Object.assign(document.createElement("canvas"), { width: w, height: h });
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#ffffff";  // a transparent PNG becomes white, not black, in a JPEG
  ctx.fillRect(0, 0, w, h);
  ctx.drawImage(image, 0, 0, w, h);
  if (image.close) image.close();
  return canvasBlob(canvas, "image/jpeg", rules.jpeg_quality);
}

function jpegName(name) {
  const base = nfc(name || "anh").replace(/\.[^.]*$/, "") || "anh";
  return `${base}.jpg`;
}

export function currentPosition() {
  if (!("geolocation" in navigator)) return Promise.resolve(null);
  return new Promise((resolve) => navigator.geolocation.getCurrentPosition(
    (p) => resolve({ latitude: p.coords.latitude, longitude: p.coords.longitude,
                     accuracy_m: Math.min(100000, Math.max(0, p.coords.accuracy || 0)) }),
    () => resolve(null), { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }));
}

// One chosen file → the photos-store record (stored). Throws an Error with a Vietnamese message.
export async function addPhoto(file, { draftId, itemCode, rules, position }) {
  const r = { ...DEFAULTS, ...(rules || {}) };
  let blob;
  try {
    blob = await resize(file, r);
  } catch (_) {
    throw new Error(`Không đọc được ảnh "${nfc(file.name)}": hãy chụp hoặc chọn một ảnh JPEG hoặc PNG.`);
  }
  if (blob.size > r.max_bytes) {
    throw new Error(`Ảnh "${nfc(file.name)}" vẫn quá lớn sau khi thu nhỏ (${blob.size} byte).`);
  }
  const sha256 = await sha256Hex(await blob.arrayBuffer());
  const existing = await get("photos", sha256);
  if (existing && existing.blob) {
    throw new Error(existing.draft_id === draftId
      ? `Ảnh này đã được đính kèm (mục ${existing.item_code}).`
      : "Ảnh này đang thuộc một kết quả khác chưa gửi xong.");
  }
  const record = {
    sha256, draft_id: draftId, item_code: itemCode, blob, name: jpegName(file.name), size: blob.size,
    content_type: "image/jpeg", captured_at: isoNowWithOffset(), latitude: position ? position.latitude : null,
    longitude: position ? position.longitude : null, accuracy_m: position ? position.accuracy_m : null,
    uploaded: false,
  };
  await put("photos", record);
  return record;
}

// "08:05 05/03/2026" from an ISO time.
export function shortTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso || "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())} ${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}`;
}
