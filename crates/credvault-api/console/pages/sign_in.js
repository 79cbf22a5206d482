// Signing in: the API key is checked against GET /api/v1/me, then kept for this tab only.

import { ApiError, get, session } from "../api.js";
import { field, form, h, input, showErrors } from "../dom.js";

export function signInPage({ signedIn }) {
  const key = input("api_key", { type: "password", autocomplete: "off", required: true, spellcheck: "false" });
  const f = form({ class: "sign-in", method: "post", "aria-labelledby": "sign-in-title" },
    field("API key", key, "Kept in this tab only: closing the tab signs you out."),
    h("button", { type: "submit" }, "Sign in"));
  f.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = key.value.trim();
    if (!value) return showErrors(f, [{ field: "api_key", message: "Enter your API key." }]);
    session.signIn(value);
    try {
      const user = await get("/me");
      key.value = "";
      signedIn(user);
    } catch (e) {
      session.signOut();
      const message = e instanceof ApiError && e.status === 401 ? "This API key is unknown or revoked." : e.message;
      showErrors(f, [{ field: "api_key", message }]);
    }
  });
  return h("section", { class: "narrow" }, h("h1", { id: "sign-in-title" }, "Sign in to credvault"), f);
}
