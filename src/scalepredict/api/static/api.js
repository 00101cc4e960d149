// The service's API as the page calls it: /model, /catalogue, /score, /whatif, /portfolio,
// always with the signed-in key as a Bearer token. A refused key (401) signs the page out: the
// page tells this module how, once, with `whenKeyRefused`.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

let keyRefused = () => {};

// What to do when the signed-in key stops being accepted (revoked, expired).
export function whenKeyRefused(handler) {
  keyRefused = handler;
}

// `key` signs this one request (signing in); otherwise the state's key is used.
export async function api(state, path, { method = "GET", json, body, contentType, key } = {}) {
  if (!key && !state.key) throw new ApiError(0, { error: "signed out" }); // e.g. a late timer
  const headers = { Authorization: `Bearer ${key || state.key}`, Accept: "application/json" };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (contentType) {
    headers["Content-Type"] = contentType;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, cache: "no-store" });
  } catch (err) {
    throw new ApiError(0, { error: "cannot reach the ScalePredict service; is it running?" });
  }
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = { error: `unexpected response (HTTP ${response.status})` };
  }
  if (!response.ok) {
    if (response.status === 401 && !key) keyRefused();
    throw new ApiError(response.status, data);
  }
  return data;
}
