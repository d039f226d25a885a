// One-time form keys (ipt_clinic/submissions). A form page that the browser's Back button
// loads again from the server comes with a fresh key, although it is the form already sent
// (Chromium keeps the answers typed but not a hidden field's value). Each form remembers, in
// this tab, the key it was sent with, and a page reached through Back/Forward sends that key
// again: the server then answers "already saved", takes changed answers to a questionnaire
// as a correction, and refuses a create sent again with other text. A page opened any other
// way keeps its fresh key.
(() => {
  const inputs = document.querySelectorAll('form input[type="hidden"][name$="form_key"]');
  if (!inputs.length) return;
  const [navigation] = performance.getEntriesByType("navigation");
  const returning = navigation !== undefined && navigation.type === "back_forward";
  inputs.forEach((input, index) => {
    const slot = `form_key ${location.pathname} ${input.form.getAttribute("action") || ""} ${index}`;
    try {
      const sent = sessionStorage.getItem(slot);
      if (returning && sent) input.value = sent;
      input.form.addEventListener("submit", () => sessionStorage.setItem(slot, input.value));
    } catch {
      // No storage (a private window that refuses it): the page keeps its fresh key.
    }
  });
})();
