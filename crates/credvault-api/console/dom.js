// Building the page. Everything the API returns is put in as text (textContent), never as
// HTML, so a credential named `<img onerror=…>` is just a name.

// An element: h("a", {href: "/"}, "text", child, …). Attributes starting with "on" are event
// handlers; `false`, null and undefined attributes and children are left out.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "value") el.value = value;
    else if (name === "checked") el.checked = Boolean(value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  el.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

let fieldIds = 0;

// A labelled field: the label, the control, a hint and a place for its error. The control's
// `name` is the API field it fills, so an API error naming that field lands here.
export function field(label, control, hint) {
  const id = control.id || `f${++fieldIds}-${control.name || "field"}`;
  control.id = id;
  const error = h("p", { class: "error", id: `${id}-error`, hidden: true });
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  control.setAttribute("aria-describedby", [hintEl && hintEl.id, error.id].filter(Boolean).join(" "));
  const labelEl = h("label", { for: id }, label);
  const isBox = control.type === "checkbox";
  return h("div", { class: isBox ? "field check" : "field" }, isBox ? [control, labelEl] : [labelEl, control], hintEl, error);
}

export const input = (name, attrs = {}) => h("input", { name, type: "text", ...attrs });
export const textarea = (name, attrs = {}) => h("textarea", { name, rows: 4, ...attrs });
export const checkbox = (name, checked, attrs = {}) => h("input", { name, type: "checkbox", checked, ...attrs });
export function select(name, options, selected, attrs = {}) {
  return h("select", { name, ...attrs },
    options.map(([value, label]) => h("option", { value, selected: String(value) === String(selected) }, label ?? value)));
}
export const button = (label, attrs = {}) => h("button", { type: "button", ...attrs }, label);

// A form whose errors box sits at its top, for errors that name no field of the form.
export function form(attrs, ...children) {
  return h("form", { novalidate: true, ...attrs },
    h("div", { class: "form-errors", role: "alert", hidden: true }), ...children);
}

// Clears the errors shown in `formEl`.
export function clearErrors(formEl) {
  for (const p of formEl.querySelectorAll(".error")) {
    p.hidden = true;
    p.textContent = "";
  }
  for (const el of formEl.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const box = formEl.querySelector(".form-errors");
  box.hidden = true;
  box.replaceChildren();
}

// Shows `errors` ([{message, field?}]) next to the fields they name, the rest at the top of
// the form, and moves the focus to the first one.
export function showErrors(formEl, errors) {
  clearErrors(formEl);
  const box = formEl.querySelector(".form-errors");
  let first = null;
  for (const { message, field: name } of errors) {
    const control = name ? formEl.querySelector(`[name="${CSS.escape(fieldOf(name))}"]`) : null;
    // A control without a place for errors (a hidden `mode`) sends its error to the top.
    const p = control?.id ? formEl.querySelector(`#${CSS.escape(control.id)}-error`) : null;
    if (p) {
      p.textContent = p.textContent ? `${p.textContent} ${message}` : message;
      p.hidden = false;
      control.setAttribute("aria-invalid", "true");
      first ??= control;
    } else {
      box.append(h("p", {}, message));
      box.hidden = false;
      first ??= box;
    }
  }
  if (first === box) box.setAttribute("tabindex", "-1");
  first?.focus();
}

// The form field an API error's `field` points into: `jwt_payload.sub` → `jwt_payload`.
const fieldOf = (name) => name.split(/[.[]/)[0];

// A `<dl>` of [term, value] pairs; values may be nodes or text.
export function details(pairs) {
  return h("dl", { class: "details" }, pairs.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value ?? "—")]));
}

// A table with a caption, column titles and rows of cells.
export function table(caption, columns, rows) {
  return h("table", {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c ?? "—"))))));
}

// Asks `question` in a modal dialog; resolves true when the user presses `confirmLabel`.
export function confirmDialog(question, confirmLabel) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { "aria-labelledby": "confirm-question" },
      h("p", { id: "confirm-question" }, question),
      h("div", { class: "actions" },
        button("Cancel", { onclick: () => dialog.close("cancel") }),
        button(confirmLabel, { class: "danger", onclick: () => dialog.close("confirm") })));
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "confirm");
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
