// The JSON API, as the console uses it. The API key lives in sessionStorage: it is gone when
// the tab closes, never written to localStorage, never put in a URL.

const KEY = "credvault.api_key";

export const session = {
  key: () => sessionStorage.getItem(KEY),
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

// A refusal from the API: its status and its `errors` ([{message, field?}]).
export class ApiError extends Error {
  constructor(status, errors) {
    super(errors.map((e) => e.message).join("; "));
    this.status = status;
    this.errors = errors;
  }
}

// Called when the API says the key is no longer good (401), so the app can ask again.
let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${session.key() ?? ""}` };
  const init = { method, headers, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    throw new ApiError(0, [{ message: `credvault cannot be reached (${e.message})` }]);
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const errors = data?.errors ?? [{ message: `${response.status} ${response.statusText}` }];
    if (response.status === 401) onUnauthorized(errors);
    throw new ApiError(response.status, errors);
  }
  return data;
}

export const get = (path) => api("GET", path);

// `params` as a query string, leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") q.set(name, value);
  }
  const text = q.toString();
  return text ? `?${text}` : "";
}
