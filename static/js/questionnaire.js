// A questionnaire's answers survive a reload (or a visit to another page) until they are sent.
// Every change keeps the ticked answers in this tab's sessionStorage, with the one-time form
// key they were typed under (ipt_clinic/submissions), in a slot named for what that key is
// bound to: "<whose>/<questionnaire>" (data-keep-answers; "whose" is a keyed hash of the
// patient). A page that comes back from the server ticks them again and takes that key back,
// so sending them is the same sending as before: had it reached the server already, the
// answer is "already saved", never a second questionnaire. The thank-you page forgets the
// slot (data-questionnaire-sent). A form the server sent back with answers ticked (a refused
// sending) shows those. A questionnaire page of another patient in the same tab (a shared
// device) forgets every slot that is not theirs. Without JavaScript or storage the form works
// as a plain form.
(() => {
  const PREFIX = "questionnaire answers ";
  let store;
  try {
    store = window.sessionStorage;
    store.getItem(PREFIX);
  } catch {
    return; // no storage (a private window that refuses it): a plain form
  }

  const sent = document.querySelector("[data-questionnaire-sent]");
  if (sent) {
    store.removeItem(PREFIX + sent.dataset.questionnaireSent);
    return;
  }
  const form = document.querySelector("form[data-keep-answers]");
  if (!form) return;
  const slot = PREFIX + form.dataset.keepAnswers;
  const whose = PREFIX + form.dataset.keepAnswers.split("/")[0] + "/";
  const keyInput = form.querySelector('input[type="hidden"][name="form_key"]');

  const strangers = [];
  for (let index = 0; index < store.length; index += 1) {
    const name = store.key(index);
    if (name && name.startsWith(PREFIX) && !name.startsWith(whose)) strangers.push(name);
  }
  strangers.forEach((name) => store.removeItem(name));

  const [navigation] = performance.getEntriesByType("navigation");
  // Back/Forward: form_key.js gives the page the key it was sent with; leave the key to it.
  const returning = navigation !== undefined && navigation.type === "back_forward";
  const radios = () => form.querySelectorAll('input[type="radio"]');
  const shownByServer = Array.from(radios()).some((radio) => radio.defaultChecked);

  let kept = null;
  try {
    kept = JSON.parse(store.getItem(slot) || "null");
  } catch {
    kept = null;
  }
  if (kept && typeof kept.answers === "object" && !shownByServer) {
    radios().forEach((radio) => {
      if (kept.answers[radio.name] === radio.value) radio.checked = true;
    });
    if (keyInput && kept.key && !returning) keyInput.value = kept.key;
  }

  const keep = () => {
    const answers = {};
    radios().forEach((radio) => {
      if (radio.checked) answers[radio.name] = radio.value;
    });
    try {
      store.setItem(slot, JSON.stringify({ key: keyInput ? keyInput.value : "", answers }));
    } catch {
      // Storage full or refused: the answers stay on the page as typed.
    }
  };
  form.addEventListener("change", keep);
  form.addEventListener("submit", keep);
})();
