// Showing the API's values to people, and reading theirs back.

const DAY_MS = 24 * 60 * 60 * 1000;

// An RFC 3339 time as the reader's local date and time; null as "never".
export function when(rfc3339, never = "never") {
  if (!rfc3339) return never;
  return new Date(rfc3339).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

// How an expiry is shown: its text and a class that colours it (under 30 days: a warning).
export function expiry(rfc3339, now = Date.now()) {
  if (!rfc3339) return { text: "never", className: "" };
  const left = Date.parse(rfc3339) - now;
  if (left <= 0) return { text: `expired ${when(rfc3339)}`, className: "expired" };
  const days = Math.floor(left / DAY_MS);
  const className = left < 30 * DAY_MS ? "expires-soon" : "";
  return { text: `${when(rfc3339)} (${days === 0 ? "today" : `in ${days} d`})`, className };
}

// A `datetime-local` value (the reader's time zone) as RFC 3339 UTC, and back.
export const toRfc3339 = (local) => (local ? new Date(local).toISOString() : null);
export function toLocalInput(rfc3339) {
  if (!rfc3339) return "";
  const d = new Date(rfc3339);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// The text of a JSON object field, parsed; throws a message for people when it is not one.
export function jsonObject(text, label) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${label} is not valid JSON: ${e.message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`${label} must be a JSON object, like {"sub": "me"}`);
  }
  return value;
}

// The header and claims of a compact JWS, decoded (not verified: the console shows what it got).
export function decodeJwt(token) {
  const [header, claims] = token.split(".").slice(0, 2).map((part) => {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  });
  return { header, claims };
}

export const pretty = (value) => JSON.stringify(value, null, 2);

// A list typed one per line or separated by commas.
export const lines = (text) => text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
