// The session note form: autosave that says plainly when a save failed and tries again, and a
// copy of the form kept in this tab (sessionStorage) so that nothing typed is lost to a failed
// save or an idle logout: after logging in again the form is filled in from it.
(() => {
  "use strict";

  const form = document.getElementById("note-form");
  if (!form) return;
  const status = document.getElementById("autosave-status");
  const restoredNotice = document.getElementById("draft-restored");
  const olderNotice = document.getElementById("draft-restored-older");
  const autosaveUrl = form.dataset.autosaveUrl;
  const draftKey = `ipt-note-draft:${form.dataset.noteId}`;
  const NOT_TYPED = new Set(["csrfmiddlewaretoken", "version"]);
  const QUIET_DELAY = 3000; // autosave this long after the last change
  const RETRY_DELAYS = [2000, 4000, 8000, 15000, 30000, 60000];
  const RETRYING = "Not saved — keep this page open; retrying";

  let timer = null;
  let inFlight = false;
  let changedInFlight = false;
  let failures = 0; // consecutive failed attempts; a retry is scheduled while above 0
  let stopped = false; // after a 409: the note was signed or saved elsewhere
  let submitWhenDone = false;

  const versionInput = () => form.querySelector("input[name=version]");

  function store() {
    try {
      return window.sessionStorage;
    } catch {
      return null; // storage disabled: autosave still works, the draft is not kept
    }
  }

  // The form as [name, value] pairs, without the token and the version.
  function fieldPairs() {
    const pairs = [];
    for (const [name, value] of new FormData(form)) {
      if (!NOT_TYPED.has(name)) pairs.push([name, String(value)]);
    }
    return pairs;
  }

  function fieldNames() {
    const names = new Set();
    for (const element of form.elements) {
      if (element.name && !NOT_TYPED.has(element.name)) names.add(element.name);
    }
    return [...names];
  }

  // Compared as the server keeps them (text is stored trimmed).
  const sameText = (a, b) =>
    JSON.stringify(a.map(([n, v]) => [n, v.trim()])) ===
    JSON.stringify(b.map(([n, v]) => [n, v.trim()]));

  function keepDraft(submitted = false) {
    const storage = store();
    if (!storage) return;
    const draft = {
      version: Number(versionInput().value),
      submitted,
      names: fieldNames(),
      pairs: fieldPairs(),
    };
    try {
      storage.setItem(draftKey, JSON.stringify(draft));
    } catch {
      // storage full: nothing more can be kept
    }
  }

  function readDraft() {
    const storage = store();
    if (!storage) return null;
    try {
      return JSON.parse(storage.getItem(draftKey) || "null");
    } catch {
      return null;
    }
  }

  function fillForm(draft) {
    const values = new Map();
    for (const [name, value] of draft.pairs) {
      if (!values.has(name)) values.set(name, []);
      values.get(name).push(value);
    }
    const known = new Set(draft.names);
    for (const element of form.elements) {
      const name = element.name;
      if (!name || NOT_TYPED.has(name) || !known.has(name)) continue;
      const chosen = values.get(name) || [];
      if (element.type === "checkbox" || element.type === "radio") {
        element.checked = chosen.includes(element.value);
      } else if (element.tagName === "SELECT" && element.multiple) {
        for (const option of element.options) option.selected = chosen.includes(option.value);
      } else if (element.tagName === "TEXTAREA" || element.tagName === "SELECT" || element.type === "text" || element.type === "number") {
        element.value = chosen.length ? chosen[0] : "";
      }
    }
  }

  // Put back what this tab typed and did not save: a draft of the version on the page that
  // differs from it, or one typed over an older version. A draft sent with the Save button
  // whose version has moved on was saved (the save is what moved it): nothing to restore.
  function restoreDraft() {
    const draft = readDraft();
    if (!draft || !Array.isArray(draft.pairs)) return;
    const current = Number(versionInput().value);
    const older = draft.version < current;
    if (draft.version > current || (older && draft.submitted) || sameText(draft.pairs, fieldPairs())) {
      store().removeItem(draftKey);
      return;
    }
    fillForm(draft);
    if (older) {
      // Saving then meets the note's version check and shows both versions side by side.
      versionInput().value = String(draft.version);
      olderNotice.hidden = false;
    }
    restoredNotice.hidden = false;
  }

  function show(message, failed) {
    status.textContent = message;
    status.classList.toggle("text-danger", failed);
    status.classList.toggle("text-body-secondary", !failed);
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(autosave, delay);
  }

  // The server's answer is a small fragment: the status sentence and the version now stored.
  function readReply(html) {
    const fragment = new DOMParser().parseFromString(html, "text/html");
    const message = fragment.getElementById("autosave-message");
    const version = fragment.querySelector("input[name=version]");
    return {
      message: message ? message.textContent.trim() : "",
      version: version ? version.value : "",
    };
  }

  async function replyOf(response) {
    try {
      return readReply(await response.text());
    } catch {
      return { message: "", version: "" };
    }
  }

  async function autosave() {
    timer = null;
    if (stopped) return;
    if (inFlight) {
      changedInFlight = true;
      return;
    }
    inFlight = true;
    changedInFlight = false;
    const body = new FormData(form);
    let response = null;
    try {
      response = await fetch(autosaveUrl, {
        method: "POST",
        body,
        credentials: "same-origin",
        redirect: "manual", // a redirect is never a saved draft (a login page would read 200)
        headers: {
          "X-CSRFToken": String(body.get("csrfmiddlewaretoken")),
          // As htmx would: the server then answers an ended session with the login's
          // address (HX-Redirect) and the page to come back to.
          "HX-Request": "true",
          "HX-Current-URL": window.location.href,
        },
      });
    } catch {
      response = null; // the network or the server is away
    }
    inFlight = false;

    if (response && response.headers.get("HX-Redirect")) {
      // The session ended: to the login, which brings the page back with this draft.
      stopped = true;
      keepDraft();
      window.location.assign(response.headers.get("HX-Redirect"));
      return;
    }
    if (response && response.type === "opaqueredirect") {
      // Sent elsewhere (logged out in another tab, say): load the page again, which goes
      // wherever the server says and comes back to this draft.
      stopped = true;
      keepDraft();
      window.location.reload();
      return;
    }
    if (response && response.ok) {
      const reply = await replyOf(response);
      failures = 0;
      if (reply.version) versionInput().value = reply.version;
      keepDraft();
      show(reply.message || "Draft saved.", false);
    } else if (response && (response.status === 409 || response.status === 422)) {
      const reply = await replyOf(response);
      failures = 0;
      show(reply.message || "Not saved.", true);
      if (response.status === 409) stopped = true; // trying again cannot help
    } else {
      show(RETRYING, true);
      schedule(RETRY_DELAYS[Math.min(failures, RETRY_DELAYS.length - 1)]);
      failures += 1;
      return;
    }
    if (submitWhenDone) {
      submitWhenDone = false;
      stopped = true;
      keepDraft(true);
      form.submit();
    } else if (changedInFlight && !stopped) {
      schedule(QUIET_DELAY);
    }
  }

  function changed() {
    keepDraft();
    if (stopped) return;
    if (inFlight) {
      changedInFlight = true;
    } else if (failures === 0) {
      schedule(QUIET_DELAY);
    } // else a retry is scheduled already, and it sends the latest text
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", (event) => {
    clearTimeout(timer);
    timer = null;
    if (inFlight) {
      // Let the autosave under way finish first, so the save carries the version it wrote.
      event.preventDefault();
      submitWhenDone = true;
      return;
    }
    stopped = true;
    keepDraft(true);
  });

  restoreDraft();
})();
