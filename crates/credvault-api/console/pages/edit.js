// Creating a credential and editing one: the credential form, sent to the API, with the API's
// errors shown next to the fields they name.

import { api, get } from "../api.js";
import { credentialForm } from "../credential_form.js";
import { h, showErrors } from "../dom.js";

export async function createPage({ navigate }) {
  const { teams } = await get("/teams?per_page=500");
  if (teams.length === 0) {
    return h("section", {}, h("h1", {}, "New credential"),
      h("p", {}, "You are not a member of any team yet; a tenant admin can invite you to one."));
  }
  const { form, collect } = credentialForm({ kind: "create", teams, submitLabel: "Create" });
  submitting(form, collect, (body) => api("POST", "/user_credentials", body),
    (created) => navigate(`/credentials/${created.id}`, `Credential “${created.name}” created.`));
  return h("section", {}, h("h1", {}, "New credential"), form);
}

export async function editPage({ params: [id], navigate }) {
  const credential = await get(`/user_credentials/${id}`);
  const { form, collect } = credentialForm({ kind: "edit", credential, submitLabel: "Save changes" });
  submitting(form, collect, (body) => api("PUT", `/user_credentials/${id}`, body),
    () => navigate(`/credentials/${id}`, "Changes saved."));
  return h("section", {}, h("h1", {}, `Edit ${credential.name}`),
    h("p", {}, h("a", { href: `/credentials/${id}` }, "Back without saving")), form);
}

// On submit: collect the body (showing the form's own errors), send it (showing the API's),
// then `done` with the API's answer. The button is disabled while the request runs.
export function submitting(form, collect, send, done) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let body;
    try {
      body = collect();
    } catch (errors) {
      return showErrors(form, errors);
    }
    const submit = form.querySelector('button[type="submit"]');
    submit.disabled = true;
    try {
      done(await send(body));
    } catch (e) {
      showErrors(form, e.errors ?? [{ message: e.message }]);
    } finally {
      submit.disabled = false;
    }
  });
}
